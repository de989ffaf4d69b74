package transport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/posagent/posagent"
)

// Device is a printer behind a character device: the USB printer class
// driver's /dev/usb/lp*, or a parallel port. Reads come through the same
// file when the printer is bidirectional.
type Device struct {
	path string
	f    *os.File
	mu   sync.Mutex
	// ReadTimeout bounds the wait for a status answer; default
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// WriteTimeout bounds a write; default DefaultWriteTimeout.
	WriteTimeout time.Duration
}

var _ Querier = (*Device)(nil)

// DefaultUSBPath is the first USB printer the usblp driver creates.
const DefaultUSBPath = "/dev/usb/lp0"

// OpenUSB opens a USB printer class device for reading and writing.
func OpenUSB(path string) (*Device, error) {
	const op = "transport.OpenUSB"
	if path == "" {
		path = DefaultUSBPath
	}
	// The Go runtime polls the file when the driver supports it (usblp
	// does), which is what makes read deadlines, and so status, work.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, openError(op, path, err)
	}
	return &Device{path: path, f: f}, nil
}

func openError(op, path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return pos.E(pos.NotFound, op, fmt.Errorf("printer %s: %w", path, err))
	case errors.Is(err, fs.ErrPermission):
		return pos.E(pos.Unavailable, op, fmt.Errorf("printer %s: %w (is the user in group lp?)", path, err))
	}
	return pos.E(pos.Unavailable, op, fmt.Errorf("printer %s: %w", path, err))
}

// Write sends b.
func (d *Device) Write(ctx context.Context, b []byte) error {
	const op = "transport.Device.Write"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return pos.E(pos.Unavailable, op, err)
	}
	wt := d.WriteTimeout
	if wt <= 0 {
		wt = DefaultWriteTimeout
	}
	_ = d.f.SetWriteDeadline(deadline(ctx, wt)) // ErrNoDeadline: the write blocks
	if _, err := d.f.Write(b); err != nil {
		return pos.E(pos.Unavailable, op, fmt.Errorf("printer %s: %w", d.path, err))
	}
	return nil
}

// Query sends req and reads the answer. It fails with Unavailable when the
// device cannot time out a read, since a read that never returns would
// hang the printer.
func (d *Device) Query(ctx context.Context, req, resp []byte) error {
	const op = "transport.Device.Query"
	d.mu.Lock()
	defer d.mu.Unlock()
	rt := d.ReadTimeout
	if rt <= 0 {
		rt = DefaultReadTimeout
	}
	if err := d.drain(); err != nil {
		return pos.E(pos.Unavailable, op, fmt.Errorf("printer %s cannot report status: %w", d.path, err))
	}
	_ = d.f.SetReadDeadline(deadline(ctx, rt))
	if _, err := d.f.Write(req); err != nil {
		return pos.E(pos.Unavailable, op, fmt.Errorf("printer %s: %w", d.path, err))
	}
	for n := 0; n < len(resp); {
		m, err := d.f.Read(resp[n:])
		n += m
		if err != nil && n < len(resp) {
			return pos.E(pos.Unavailable, op, noAnswer(d.path, err))
		}
	}
	return nil
}

// drain discards bytes the printer sent unasked (automatic status back),
// so the answer read next is the one to req.
// It fails when the device cannot time out a read.
func (d *Device) drain() error {
	if err := d.f.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		return err
	}
	var buf [64]byte
	for {
		if n, err := d.f.Read(buf[:]); n == 0 || err != nil {
			return nil
		}
	}
}

// Close closes the device.
func (d *Device) Close() error { return d.f.Close() }

// File is a printer that is a file: every receipt's bytes are appended to
// it. For capturing output, and for printers shared through a spooler that
// reads a file or FIFO. It cannot answer status.
type File struct {
	path string
	f    *os.File
	mu   sync.Mutex
}

var _ Conn = (*File)(nil)

// OpenFile opens (creating) path for appending.
func OpenFile(path string) (*File, error) {
	if path == "" {
		return nil, pos.Errorf(pos.Invalid, "transport.OpenFile", "no file path")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, openError("transport.OpenFile", path, err)
	}
	return &File{path: path, f: f}, nil
}

// Write appends b.
func (f *File) Write(ctx context.Context, b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return pos.E(pos.Unavailable, "transport.File.Write", err)
	}
	if _, err := f.f.Write(b); err != nil {
		return pos.E(pos.Unavailable, "transport.File.Write", err)
	}
	return nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }
