// Package scanner defines barcode scanners as posagent sees them: a source of
// scans, read one at a time. Implementations live in subpackages (serialscan
// for serial and USB-CDC, hidscan for USB-HID, evdevscan for keyboard-wedge
// scanners through the input layer, ptyscan for the demo's virtual scanner);
// framing holds the byte framer they share. This package holds the
// interface, the values, and helpers over the interface: Hub merges several
// scanners, drops repeats and holds a scan briefly when nobody waits.
package scanner

import (
	"context"
	"log/slog"
	"time"

	"github.com/posagent/posagent"
)

// Scan is one decoded barcode. Data may be a payment code, so it is masked
// in every log line.
type Scan struct {
	Data      string    // the barcode's text, framing and symbology prefix removed
	Symbology string    // the AIM identifier the scanner sent ("]E0" EAN-13, "]Q1" QR), if any
	Source    string    // the scanner's configured name
	At        time.Time // when the last byte arrived
}

// LogValue masks Data: a scan is logged as its masked form and source only.
func (s Scan) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("data", pos.MaskCode(s.Data)),
		slog.String("source", s.Source),
	)
}

// Scanner is a source of scans. Read blocks until a scan arrives, ctx ends,
// or the scanner is closed. A scanner that reconnects by itself keeps
// blocking across an unplug; Read returns an error only when it cannot go on.
type Scanner interface {
	Read(ctx context.Context) (Scan, error)
	Close() error
}

// Status is a scanner's health, for the API and `posagent devices`.
type Status struct {
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`           // "serial", "hid", "evdev", "virtual"
	Path      string    `json:"path,omitempty"` // the device in use, or last used
	Connected bool      `json:"connected"`
	LastError string    `json:"last_error,omitempty"`
	LastScan  time.Time `json:"last_scan,omitzero"`
}

// StatusReporter is implemented by scanners that can report their health.
type StatusReporter interface {
	Status() Status
}
