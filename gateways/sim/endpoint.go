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
	conns   map[net.Conn]*conn
	stopped bool
}

// conn is an open connection: closed is closed when the server has closed
// it.
type conn struct {
	closed chan struct{}
}

// stopDrain bounds how long Stop waits for a client to drop a connection
// it was told is closing; a Go client does so at once, and a request in
// flight ends when its client gives up on it.
const stopDrain = 5 * time.Second

// Serve starts serving h on a fresh loopback port.
func Serve(h http.Handler) (*Endpoint, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &Endpoint{URL: "http://" + ln.Addr().String(), ln: ln, conns: map[net.Conn]*conn{}}
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
		e.conns[c] = &conn{closed: make(chan struct{})}
	case http.StateHijacked, http.StateClosed:
		if k, ok := e.conns[c]; ok {
			close(k.closed)
			delete(e.conns, c)
		}
	}
}

// Stop refuses connections from now on: the listener is closed and every
// open connection dropped (a request in flight gets no answer). It returns
// once the clients have let go of their connections, so a call made after
// Stop is refused before it is sent. It is idempotent.
//
// Closing a kept-alive connection is not enough for that: the client
// learns of the close only when its reader gets round to it, and a POST it
// sends before then goes out on the dead connection and fails after
// sending ("EOF", an unknown outcome), not before. Nor can Stop tell an
// idle connection from one whose answer has just been written (the server
// marks it idle after the client may already have read the answer). So
// every connection is half-closed: the client's reader sees the end of
// the stream and drops the connection from its pool, then closes it, and
// Stop waits for that close, as the server sees it, before it returns; a
// connection still open after stopDrain is closed outright.
func (e *Endpoint) Stop() {
	e.mu.Lock()
	e.stopped = true
	conns := make(map[net.Conn]*conn, len(e.conns))
	for c, k := range e.conns {
		conns[c] = k
	}
	e.mu.Unlock()
	_ = e.ln.Close()
	var draining []*conn
	for c, k := range conns {
		if cw, ok := c.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			draining = append(draining, k)
			continue
		}
		_ = c.Close()
	}
	timeout := time.NewTimer(stopDrain)
	defer timeout.Stop()
	for _, k := range draining {
		select {
		case <-k.closed:
		case <-timeout.C:
			for c := range conns {
				_ = c.Close()
			}
			return
		}
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
