package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/posagent/posagent"
)

// DefaultTCPPort is the raw printing port (JetDirect, "port 9100") that
// network ESC/POS printers listen on.
const DefaultTCPPort = "9100"

// TCPOptions configure a network printer.
type TCPOptions struct {
	// DialTimeout bounds the connection attempt; default 3s.
	DialTimeout time.Duration
	// WriteTimeout bounds a write; default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// ReadTimeout bounds the wait for a status answer; default
	// DefaultReadTimeout.
	ReadTimeout time.Duration
}

// TCP is a network printer. It connects for each Write or Query and closes
// the connection after: network printers serve one connection at a time,
// and one held open would lock out every other till and drop on idle.
// Calls are serialised.
type TCP struct {
	addr string
	o    TCPOptions
	mu   sync.Mutex
	d    net.Dialer
}

var _ Querier = (*TCP)(nil)

// NewTCP returns a network printer at addr ("host" or "host:port", port
// 9100 by default). It does not connect until used.
func NewTCP(addr string, o TCPOptions) (*TCP, error) {
	if addr == "" {
		return nil, pos.Errorf(pos.Invalid, "transport.NewTCP", "no printer address")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, DefaultTCPPort)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, pos.Errorf(pos.Invalid, "transport.NewTCP", "printer address %q: %v", addr, err)
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 3 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	return &TCP{addr: addr, o: o, d: net.Dialer{Timeout: o.DialTimeout}}, nil
}

// Addr is the printer's host:port.
func (t *TCP) Addr() string { return t.addr }

func (t *TCP) dial(ctx context.Context, op string) (net.Conn, error) {
	c, err := t.d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, pos.E(pos.Unavailable, op, fmt.Errorf("printer %s: %w", t.addr, err))
	}
	return c, nil
}

// Write connects, sends b and closes.
func (t *TCP) Write(ctx context.Context, b []byte) error {
	const op = "transport.TCP.Write"
	t.mu.Lock()
	defer t.mu.Unlock()
	c, err := t.dial(ctx, op)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c.SetWriteDeadline(deadline(ctx, t.o.WriteTimeout))
	if _, err := c.Write(b); err != nil {
		return pos.E(pos.Unavailable, op, fmt.Errorf("printer %s: %w", t.addr, err))
	}
	return nil
}

// Query connects, sends req, reads len(resp) bytes and closes.
func (t *TCP) Query(ctx context.Context, req, resp []byte) error {
	const op = "transport.TCP.Query"
	t.mu.Lock()
	defer t.mu.Unlock()
	c, err := t.dial(ctx, op)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c.SetWriteDeadline(deadline(ctx, t.o.WriteTimeout))
	if _, err := c.Write(req); err != nil {
		return pos.E(pos.Unavailable, op, fmt.Errorf("printer %s: %w", t.addr, err))
	}
	c.SetReadDeadline(deadline(ctx, t.o.ReadTimeout))
	if _, err := io.ReadFull(c, resp); err != nil {
		return pos.E(pos.Unavailable, op, noAnswer(t.addr, err))
	}
	return nil
}

// Close does nothing: connections are closed after each call.
func (t *TCP) Close() error { return nil }

func noAnswer(dev string, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("printer %s did not answer: %w", dev, err)
	}
	return fmt.Errorf("printer %s: %w", dev, err)
}
