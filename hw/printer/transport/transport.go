// Package transport carries bytes to receipt printers and reads their
// answers: USB printer class devices (/dev/usb/lp*), serial ports, network
// printers on TCP 9100, and plain files. It knows nothing of ESC/POS; the
// escpos package sends the status requests and reads the answers through
// Querier.
//
// Errors are *pos.Error: Unavailable when the printer cannot be reached or
// does not answer in time (try again later, the receipt is kept), NotFound
// when the device does not exist, Invalid for a bad setting.
package transport

import (
	"context"
	"time"
)

// Conn is a one-way byte pipe to a printer.
type Conn interface {
	// Write sends b whole, or fails. It gives up when ctx ends.
	Write(ctx context.Context, b []byte) error
	// Close releases the device.
	Close() error
}

// Querier is a Conn that also reads what the printer sends back, for
// real-time status.
type Querier interface {
	Conn
	// Query writes req and then reads exactly len(resp) bytes of answer,
	// failing when they do not all come before ctx ends or the transport's
	// read timeout passes. Stale bytes waiting before req is sent are
	// discarded where the transport can tell.
	Query(ctx context.Context, req, resp []byte) error
}

// DefaultReadTimeout bounds the wait for a status answer when ctx has no
// earlier deadline. Printers answer real-time status within milliseconds,
// even offline; two seconds of silence means the printer is off or gone.
const DefaultReadTimeout = 2 * time.Second

// DefaultWriteTimeout bounds one write when ctx has no earlier deadline. A
// receipt with a logo is a few kilobytes; at 9600 baud that is seconds, and
// a printer out of paper may stop reading with its buffer full.
const DefaultWriteTimeout = 30 * time.Second

// deadline is the earlier of ctx's deadline and now+d (d <= 0: ctx only).
func deadline(ctx context.Context, d time.Duration) time.Time {
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	if cd, ok := ctx.Deadline(); ok && (t.IsZero() || cd.Before(t)) {
		t = cd
	}
	return t
}
