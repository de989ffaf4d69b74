package sim

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Endpoint serves a wire simulator on a loopback port for tests and demos,
// and can refuse connections on demand (Stop), which is what the contract
// suite's Controller.Stop needs: after Stop nothing listens on the port and
// every open connection is closed, so the next call fails before anything
// is sent (pos.Unavailable), whatever connections the client had kept.
type Endpoint struct {
	// URL is the endpoint's base URL, "http://127.0.0.1:PORT".
	URL string

	ln  net.Listener
	srv *http.Server

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	stopped bool
}

// Serve starts serving h on a fresh loopback port.
func Serve(h http.Handler) (*Endpoint, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &Endpoint{URL: "http://" + ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	e.srv = &http.Server{Handler: h, ConnState: e.track, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

func (e *Endpoint) track(c net.Conn, st http.ConnState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch st {
	case http.StateNew:
		if e.stopped {
			_ = c.Close()
			return
		}
		e.conns[c] = struct{}{}
	case http.StateHijacked, http.StateClosed:
		delete(e.conns, c)
	}
}

// Stop refuses connections from now on: the listener is closed and every
// open connection dropped (a request in flight sees its connection reset).
// It is idempotent.
func (e *Endpoint) Stop() {
	e.mu.Lock()
	e.stopped = true
	conns := e.conns
	e.conns = map[net.Conn]struct{}{}
	e.mu.Unlock()
	_ = e.ln.Close()
	for c := range conns {
		_ = c.Close()
	}
}

// Stopped reports whether Stop (or Close) was called.
func (e *Endpoint) Stopped() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopped
}

// Close stops the endpoint and its server.
func (e *Endpoint) Close() error {
	e.Stop()
	if err := e.srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
