package sim

import (
	"net/http"
	"sync"
	"sync/atomic"
)

// The redirect trap: one loopback server per process that the Redirect
// fault points clients at and that counts every request reaching it. It
// answers 200 "SUCCESS", the answer most likely to fool a client that
// followed the redirect into adopting it.
var trap struct {
	once sync.Once
	url  string
	err  error
	hits atomic.Int64
}

// RedirectURL is where the Redirect fault sends clients: a loopback server
// started on first use that counts the requests it receives.
func RedirectURL() (string, error) {
	trap.once.Do(func() {
		e, err := Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			trap.hits.Add(1)
			_, _ = w.Write([]byte("SUCCESS"))
		}))
		if err != nil {
			trap.err = err
			return
		}
		trap.url = e.URL + "/redirected"
	})
	return trap.url, trap.err
}

// RedirectHits is how many requests reached RedirectURL in this process: a
// test of the Redirect fault checks it did not grow (a client that follows
// redirects anywhere in the process makes it grow).
func RedirectHits() int64 { return trap.hits.Load() }
