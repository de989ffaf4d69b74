package webdisplay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Server is a Display listening on its own address. It is a
// display.Display itself.
type Server struct {
	*Display
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// Start listens on opts.Listen (default DefaultListen; port 0 picks a
// free one) and serves a new Display there until Close. A listen address
// off loopback is refused unless opts.AllowRemote is set; without it a
// bare ":PORT" means 127.0.0.1:PORT.
func Start(opts Options) (*Server, error) {
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	if !opts.AllowRemote {
		opts.Listen = loopbackDefault(opts.Listen)
	}
	d, err := New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("webdisplay: %w", err)
	}
	s := &Server{
		Display: d,
		ln:      ln,
		srv: &http.Server{
			Handler:           d,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelDebug),
		},
		done: make(chan struct{}),
	}
	// Event streams never end by themselves: end them when shutting down.
	s.srv.RegisterOnShutdown(func() { _ = d.Close() })
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // ends with ErrServerClosed
	}()
	return s, nil
}

// Addr is the address the server listens on ("127.0.0.1:8418").
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the page's address, for the customer screen's browser.
func (s *Server) URL() string {
	addr := s.ln.Addr().(*net.TCPAddr)
	if addr.IP.IsUnspecified() {
		// Listening on every address: loopback is one of them.
		return fmt.Sprintf("http://127.0.0.1:%d/", addr.Port)
	}
	return "http://" + addr.String() + "/"
}

// Close ends the event streams (browsers keep retrying and pick up
// whatever serves on the address next) and stops serving.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	<-s.done
	return err
}

// loopbackDefault makes a bare ":PORT" mean 127.0.0.1:PORT.
func loopbackDefault(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "127.0.0.1" + addr
	}
	return addr
}

// requireLoopback refuses listen addresses off this machine.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("webdisplay: listen %q is not host:port", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("webdisplay: listen %q is not a loopback address (set allow_remote to serve a tablet on the network)", addr)
	}
	return nil
}
