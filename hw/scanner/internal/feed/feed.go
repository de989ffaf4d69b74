// Package feed is the plumbing every scanner implementation shares: the
// queue between its reader goroutine and Read, its Status, the logging of
// dropped frames, and the "who closed it" flag that tells an unplug from our
// own Close.
package feed

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/framing"
)

// Queue is how many framed scans may wait for Read before the reader stops
// reading the device (the device's own buffer then holds the rest).
const Queue = 16

// Feed connects a device reader to Read.
type Feed struct {
	log   *slog.Logger
	scans chan scanner.Scan
	done  chan struct{}

	mu     sync.Mutex
	closed bool
	status scanner.Status
}

// New returns a feed for the scanner called name of the given kind. A nil
// log discards.
func New(name, kind string, log *slog.Logger) *Feed {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Feed{
		log:    log.With("scanner", name),
		scans:  make(chan scanner.Scan, Queue),
		done:   make(chan struct{}),
		status: scanner.Status{Name: name, Kind: kind},
	}
}

// Log is the feed's logger, tagged with the scanner's name.
func (f *Feed) Log() *slog.Logger { return f.log }

// Emit logs dropped frames (reason and length, never content) and delivers
// the codes. It blocks while the queue is full, and gives up when the feed
// is shut.
func (f *Feed) Emit(frames []framing.Frame) {
	for _, fr := range frames {
		if fr.Err != nil {
			f.log.Info("scan dropped", "reason", fr.Err.Error(), "bytes", fr.Len)
			continue
		}
		f.Deliver(scanner.Scan{Data: fr.Data, Symbology: fr.Symbology, At: fr.At})
	}
}

// Deliver queues one scan, stamping its source. It reports false if the
// feed was shut first.
func (f *Feed) Deliver(s scanner.Scan) bool {
	f.mu.Lock()
	s.Source = f.status.Name
	f.mu.Unlock()
	if s.At.IsZero() {
		s.At = time.Now()
	}
	select {
	case f.scans <- s:
	case <-f.done:
		return false
	}
	f.mu.Lock()
	f.status.LastScan = s.At
	f.mu.Unlock()
	f.log.Debug("scan", "scan", s)
	return true
}

// Read returns the next scan, blocking until one arrives, ctx ends or the
// feed is shut.
func (f *Feed) Read(ctx context.Context) (scanner.Scan, error) {
	select {
	case s := <-f.scans:
		return s, nil
	case <-ctx.Done():
		return scanner.Scan{}, ctx.Err()
	case <-f.done:
		return scanner.Scan{}, pos.Errorf(pos.Unavailable, "scanner.Read", "scanner %s is closed", f.Name())
	}
}

// Name is the scanner's name.
func (f *Feed) Name() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status.Name
}

// Connected records a device opened at path.
func (f *Feed) Connected(path string) {
	f.mu.Lock()
	f.status.Connected = true
	f.status.Path = path
	f.status.LastError = ""
	f.mu.Unlock()
	f.log.Info("scanner connected", "path", path)
}

// Disconnected records the loss of the device. It logs unless the feed was
// shut, because then the error is our own Close and not an unplug.
func (f *Feed) Disconnected(err error) {
	f.mu.Lock()
	f.status.Connected = false
	closed := f.closed
	if !closed && err != nil {
		f.status.LastError = err.Error()
	}
	f.mu.Unlock()
	if !closed {
		f.log.Warn("scanner disconnected", "err", err)
	}
}

// Failed records a failed attempt to find or open the device. It logs at
// warn level when the reason changes and at debug level while it repeats,
// so an unplugged scanner does not flood the journal.
func (f *Feed) Failed(err error) {
	f.mu.Lock()
	same := f.status.LastError == err.Error()
	f.status.Connected = false
	f.status.LastError = err.Error()
	f.mu.Unlock()
	if same {
		f.log.Debug("scanner still unavailable", "err", err)
	} else {
		f.log.Warn("scanner unavailable", "err", err)
	}
}

// Status is a snapshot of the scanner's health.
func (f *Feed) Status() scanner.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

// Shut marks the feed closed and wakes every waiter. It reports false if it
// was already shut. Call it before closing the device, so the reader knows
// the error that follows is ours.
func (f *Feed) Shut() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.closed = true
	f.status.Connected = false
	close(f.done)
	return true
}

// Closed reports whether Shut was called.
func (f *Feed) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// Done is closed by Shut.
func (f *Feed) Done() <-chan struct{} { return f.done }

// Sleep waits d, or less if the feed is shut; it reports whether the feed
// is still open.
func (f *Feed) Sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-f.done:
		return false
	}
}

// Reconnect is every scanner's connection loop, until Shut: connect; on
// failure record it and back off (doubling per consecutive failure); on
// success record the path and run the session, which reads until the
// device fails and then releases it; record the loss, pause one backoff
// step so a device that fails at once cannot spin, and start again.
func (f *Feed) Reconnect(b scanner.Backoff, connect func() (path string, session func() error, err error)) {
	failures := 0
	for !f.Closed() {
		path, session, err := connect()
		if err != nil {
			failures++
			f.Failed(err)
			if !f.Sleep(b.Delay(failures)) {
				return
			}
			continue
		}
		failures = 0
		f.Connected(path)
		f.Disconnected(session())
		if !f.Sleep(b.Delay(1)) {
			return
		}
	}
}
