package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/posagent/posagent"
)

// HubOptions configure a Hub. Zero fields take the defaults documented on them.
type HubOptions struct {
	// DedupeWindow: the same code seen again within this time of its last
	// sighting is dropped, whichever scanner read it, so a scanner in
	// continuous mode held over a phone yields one scan. Default 2s;
	// negative disables.
	DedupeWindow time.Duration

	// Hold: a scan that arrives while nobody waits in Next is kept this
	// long (the till may post the payment right after the customer
	// scanned), then discarded with a log line showing the masked code.
	// Only the newest scan is held. Default 3s; negative discards at once.
	Hold time.Duration

	// Logger receives discards and scanner failures. Default: discard.
	Logger *slog.Logger
}

// Hub defaults.
const (
	DefaultDedupeWindow = 2 * time.Second
	DefaultHold         = 3 * time.Second
)

// Hub merges several scanners into one source of scans for one waiter at a
// time. It implements Scanner, so a flow can take either.
type Hub struct {
	opts HubOptions
	log  *slog.Logger

	// Clock, replaced in tests.
	now       func() time.Time
	afterFunc func(time.Duration, func()) (stop func() bool)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	members   []*member
	waiter    chan Scan // the channel of the Next call in progress, nil if none
	held      *Scan
	stopHold  func() bool
	seen      map[string]time.Time // code -> last sighting, for DedupeWindow
	lastPrune time.Time
	closed    bool
}

type member struct {
	s        Scanner
	name     string
	stopped  error // why the hub stopped reading it
	lastScan time.Time
}

var _ Scanner = (*Hub)(nil)

// ErrHubClosed is returned by Next after Close.
var ErrHubClosed = errors.New("scanner hub closed")

// NewHub starts reading every scanner. The hub owns them: Close closes them.
func NewHub(opts HubOptions, scanners ...Scanner) (*Hub, error) {
	if opts.DedupeWindow == 0 {
		opts.DedupeWindow = DefaultDedupeWindow
	}
	if opts.Hold == 0 {
		opts.Hold = DefaultHold
	}
	if opts.DedupeWindow > time.Hour || opts.Hold > time.Hour {
		return nil, pos.Errorf(pos.Invalid, "scanner.NewHub", "dedupe window %v and hold %v must be at most 1h", opts.DedupeWindow, opts.Hold)
	}
	h := newHub(opts, time.Now, func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop })
	for i, s := range scanners {
		m := &member{s: s, name: fmt.Sprintf("scanner%d", i+1)}
		if r, ok := s.(StatusReporter); ok && r.Status().Name != "" {
			m.name = r.Status().Name
		}
		h.members = append(h.members, m)
	}
	for _, m := range h.members {
		h.wg.Add(1)
		go h.read(m)
	}
	return h, nil
}

func newHub(opts HubOptions, now func() time.Time, afterFunc func(time.Duration, func()) func() bool) *Hub {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{opts: opts, log: log, now: now, afterFunc: afterFunc, ctx: ctx, cancel: cancel, seen: map[string]time.Time{}}
}

// read feeds one scanner's scans to the hub until it fails or the hub closes.
func (h *Hub) read(m *member) {
	defer h.wg.Done()
	for {
		scan, err := m.s.Read(h.ctx)
		if err != nil {
			if h.ctx.Err() != nil {
				return
			}
			h.mu.Lock()
			m.stopped = err
			h.mu.Unlock()
			h.log.Error("scanner stopped", "scanner", m.name, "err", err)
			return
		}
		if scan.Source == "" {
			scan.Source = m.name
		}
		h.mu.Lock()
		m.lastScan = scan.At
		h.mu.Unlock()
		h.offer(scan)
	}
}

// offer takes one scan from any scanner.
func (h *Hub) offer(scan Scan) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	now := h.now()
	if h.opts.DedupeWindow > 0 {
		last, ok := h.seen[scan.Data]
		h.seen[scan.Data] = now
		h.prune(now)
		if ok && now.Sub(last) < h.opts.DedupeWindow {
			h.log.Debug("repeated scan dropped", "scan", scan, "since", now.Sub(last))
			return
		}
	}
	if h.waiter != nil {
		h.waiter <- scan // buffered 1, and offer sends at most once per waiter
		h.waiter = nil
		return
	}
	h.hold(scan)
}

// prune forgets sightings older than the window, at most once per window.
func (h *Hub) prune(now time.Time) {
	if now.Sub(h.lastPrune) < h.opts.DedupeWindow {
		return
	}
	h.lastPrune = now
	for code, t := range h.seen {
		if now.Sub(t) >= h.opts.DedupeWindow {
			delete(h.seen, code)
		}
	}
}

// hold keeps scan for Hold, replacing any scan held before. h.mu is held.
func (h *Hub) hold(scan Scan) {
	if h.held != nil {
		h.stopHold()
		h.log.Info("scan discarded: a newer scan replaced it", "scan", *h.held)
		h.held = nil
	}
	if h.opts.Hold < 0 {
		h.log.Info("scan discarded: no payment waits for a scan", "scan", scan)
		return
	}
	held := &scan
	h.held = held
	h.stopHold = h.afterFunc(h.opts.Hold, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.held != held {
			return
		}
		h.held = nil
		h.log.Info("scan discarded: no payment waited for it", "scan", scan, "held", h.opts.Hold)
	})
}

// Next returns the held scan if there is one, else waits for the next scan.
// Only one Next may wait at a time; a second gets a pos.Conflict error.
func (h *Hub) Next(ctx context.Context) (Scan, error) {
	const op = "scanner.Hub.Next"
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return Scan{}, pos.E(pos.Unavailable, op, ErrHubClosed)
	}
	if h.waiter != nil {
		h.mu.Unlock()
		return Scan{}, pos.Errorf(pos.Conflict, op, "another caller is already waiting for a scan")
	}
	if h.held != nil {
		scan := *h.held
		h.stopHold()
		h.held = nil
		h.mu.Unlock()
		return scan, nil
	}
	ch := make(chan Scan, 1)
	h.waiter = ch
	h.mu.Unlock()

	select {
	case scan := <-ch:
		return scan, nil
	case <-ctx.Done():
	case <-h.ctx.Done():
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiter == ch {
		h.waiter = nil
	} else {
		select {
		case scan := <-ch:
			// A scan was handed over just as we gave up: hold it for
			// the next caller rather than lose it.
			if !h.closed {
				h.hold(scan)
			}
		default:
		}
	}
	if ctx.Err() != nil {
		return Scan{}, ctx.Err()
	}
	return Scan{}, pos.E(pos.Unavailable, op, ErrHubClosed)
}

// Read is Next, so a Hub is itself a Scanner.
func (h *Hub) Read(ctx context.Context) (Scan, error) { return h.Next(ctx) }

// Statuses reports every scanner's health, in the order given to NewHub.
func (h *Hub) Statuses() []Status {
	h.mu.Lock()
	members := append([]*member(nil), h.members...)
	h.mu.Unlock()
	out := make([]Status, 0, len(members))
	for _, m := range members {
		var st Status
		if r, ok := m.s.(StatusReporter); ok {
			st = r.Status()
		} else {
			st = Status{Kind: "unknown", Connected: true}
		}
		h.mu.Lock()
		if st.Name == "" {
			st.Name = m.name
		}
		if st.LastScan.IsZero() {
			st.LastScan = m.lastScan
		}
		if m.stopped != nil {
			st.Connected = false
			st.LastError = m.stopped.Error()
		}
		h.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// Close stops reading, closes every scanner and drops any held scan.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	if h.held != nil {
		h.stopHold()
		h.held = nil
	}
	h.mu.Unlock()
	h.cancel()
	var errs []error
	for _, m := range h.members {
		if err := m.s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m.name, err))
		}
	}
	h.wg.Wait()
	return errors.Join(errs...)
}
