// Package scannertest provides a scripted Scanner for tests of code that
// consumes scans (the hub, flows, the local API).
package scannertest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/posagent/posagent/hw/scanner"
)

// Fake is a Scanner whose scans are pushed by the test.
type Fake struct {
	name  string
	scans chan scanner.Scan
	done  chan struct{}

	mu     sync.Mutex
	closed bool
	err    error // returned by Read once set
	status scanner.Status
}

var (
	_ scanner.Scanner        = (*Fake)(nil)
	_ scanner.StatusReporter = (*Fake)(nil)
)

// ErrClosed is returned by Read after Close.
var ErrClosed = errors.New("scannertest: closed")

// New returns a connected fake scanner called name.
func New(name string) *Fake {
	return &Fake{
		name:   name,
		scans:  make(chan scanner.Scan, 64),
		done:   make(chan struct{}),
		status: scanner.Status{Name: name, Kind: "fake", Connected: true},
	}
}

// Push queues a scan of data, stamped now, from this scanner.
func (f *Fake) Push(data string) {
	f.PushScan(scanner.Scan{Data: data, Source: f.name, At: time.Now()})
}

// PushScan queues a scan as given.
func (f *Fake) PushScan(s scanner.Scan) { f.scans <- s }

// Fail makes every later Read return err, as a scanner that cannot go on.
func (f *Fake) Fail(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
	f.scans <- scanner.Scan{} // wake a blocked Read
}

// Read returns the next pushed scan.
func (f *Fake) Read(ctx context.Context) (scanner.Scan, error) {
	select {
	case s := <-f.scans:
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.err != nil {
			return scanner.Scan{}, f.err
		}
		f.status.LastScan = s.At
		return s, nil
	case <-ctx.Done():
		return scanner.Scan{}, ctx.Err()
	case <-f.done:
		return scanner.Scan{}, ErrClosed
	}
}

// Status reports the fake's status.
func (f *Fake) Status() scanner.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

// Close ends pending and later Reads.
func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		f.status.Connected = false
		close(f.done)
	}
	return nil
}
