package sim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"
)

// TestStopRefusesTheNextPostOnAKeptAliveConnection: after Stop, a POST
// from a client that kept its connection alive fails before it is written
// (what a gateway adapter reads as Unavailable), never after sending
// (Unknown), and reaches no handler. Without waiting for the client to
// drop the closed connection, its next POST went out on it about one run
// in three and got "EOF" after sending.
func TestStopRefusesTheNextPostOnAKeptAliveConnection(t *testing.T) {
	for i := range 30 {
		var served atomic.Int32
		e, err := Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = w.Write([]byte("ok"))
		}))
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Transport: &http.Transport{}}
		post := func() (wrote bool, err error) {
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				WroteRequest: func(httptrace.WroteRequestInfo) { wrote = true },
			})
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+"/pay", strings.NewReader("amount=1"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return wrote, err
		}
		if _, err := post(); err != nil {
			t.Fatalf("run %d: the first POST: %v", i, err)
		}
		e.Stop()
		wrote, err := post()
		if err == nil || wrote {
			t.Fatalf("run %d: a POST after Stop: sent %v, error %v; want an error before sending", i, wrote, err)
		}
		if n := served.Load(); n != 1 {
			t.Fatalf("run %d: %d requests reached the handler, want only the one before Stop", i, n)
		}
		client.CloseIdleConnections()
		_ = e.Close()
	}
}
