package scanner

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/posagent/posagent"
)

// fakeClock drives the hub's time in tests.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) afterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.t.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// advance moves time on and runs the timers that fall due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.t) {
			t.stopped = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// chanScanner is a minimal Scanner fed by a channel.
type chanScanner struct {
	name  string
	scans chan Scan
	err   chan error
	done  chan struct{}
	once  sync.Once
}

func newChanScanner(name string) *chanScanner {
	return &chanScanner{name: name, scans: make(chan Scan), err: make(chan error), done: make(chan struct{})}
}

func (s *chanScanner) Read(ctx context.Context) (Scan, error) {
	select {
	case sc := <-s.scans:
		return sc, nil
	case err := <-s.err:
		return Scan{}, err
	case <-ctx.Done():
		return Scan{}, ctx.Err()
	case <-s.done:
		return Scan{}, errors.New("closed")
	}
}

func (s *chanScanner) Close() error   { s.once.Do(func() { close(s.done) }); return nil }
func (s *chanScanner) Status() Status { return Status{Name: s.name, Kind: "chan", Connected: true} }

const code = "134567890123456789"

func testHub(t *testing.T, opts HubOptions) (*Hub, *fakeClock, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.DedupeWindow == 0 {
		opts.DedupeWindow = DefaultDedupeWindow
	}
	if opts.Hold == 0 {
		opts.Hold = DefaultHold
	}
	clk := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	h := newHub(opts, clk.now, clk.afterFunc)
	t.Cleanup(func() { h.Close() })
	return h, clk, &logs
}

// next calls Next with a short timeout.
func next(t *testing.T, h *Hub) (Scan, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	return h.Next(ctx)
}

func mustNext(t *testing.T, h *Hub, want string) {
	t.Helper()
	s, err := next(t, h)
	if err != nil || s.Data != want {
		t.Fatalf("Next = %q, %v; want %q", s.Data, err, want)
	}
}

func mustWait(t *testing.T, h *Hub) {
	t.Helper()
	if s, err := next(t, h); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %q, %v; want nothing", s.Data, err)
	}
}

func TestHubDedupe(t *testing.T) {
	h, clk, _ := testHub(t, HubOptions{})
	h.offer(Scan{Data: code, Source: "a"})
	mustNext(t, h, code)

	clk.advance(time.Second)
	h.offer(Scan{Data: code, Source: "b"}) // another scanner, same code: one scan
	mustWait(t, h)

	clk.advance(1500 * time.Millisecond) // 1.5s after the last sighting
	h.offer(Scan{Data: code, Source: "a"})
	mustWait(t, h)

	h.offer(Scan{Data: "2801234567890123", Source: "a"}) // a different code passes
	mustNext(t, h, "2801234567890123")

	clk.advance(2 * time.Second) // the window has passed since the last sighting
	h.offer(Scan{Data: code, Source: "a"})
	mustNext(t, h, code)
}

func TestHubDedupeDisabled(t *testing.T) {
	h, _, _ := testHub(t, HubOptions{DedupeWindow: -1})
	h.offer(Scan{Data: code})
	mustNext(t, h, code)
	h.offer(Scan{Data: code})
	mustNext(t, h, code)
}

func TestHubHold(t *testing.T) {
	h, clk, logs := testHub(t, HubOptions{})

	// Held, then taken by a waiter that comes in time.
	h.offer(Scan{Data: code})
	clk.advance(2 * time.Second)
	mustNext(t, h, code)

	// Held, then discarded when nobody came.
	other := "281234567890123456"
	h.offer(Scan{Data: other})
	clk.advance(3 * time.Second)
	mustWait(t, h)
	if !strings.Contains(logs.String(), "no payment waited for it") || !strings.Contains(logs.String(), pos.MaskCode(other)) {
		t.Errorf("no masked discard line in logs:\n%s", logs.String())
	}

	// A newer scan replaces the held one.
	clk.advance(time.Minute)
	h.offer(Scan{Data: "111111111111111111"})
	h.offer(Scan{Data: "222222222222222222"})
	mustNext(t, h, "222222222222222222")
	mustWait(t, h)

	for _, c := range []string{code, other, "111111111111111111"} {
		if strings.Contains(logs.String(), c) {
			t.Errorf("a full code reached the log: %s", logs.String())
		}
	}
}

func TestHubHoldDisabled(t *testing.T) {
	h, _, logs := testHub(t, HubOptions{Hold: -1})
	h.offer(Scan{Data: code})
	mustWait(t, h)
	if !strings.Contains(logs.String(), "no payment waits") {
		t.Errorf("no discard line:\n%s", logs.String())
	}
}

func TestHubOneWaiter(t *testing.T) {
	h, _, _ := testHub(t, HubOptions{})
	got := make(chan Scan)
	go func() {
		s, _ := h.Next(context.Background())
		got <- s
	}()
	waitFor(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.waiter != nil })
	if _, err := next(t, h); pos.KindOf(err) != pos.Conflict {
		t.Fatalf("second waiter: err = %v, want Conflict", err)
	}
	h.offer(Scan{Data: code})
	if s := <-got; s.Data != code {
		t.Fatalf("first waiter got %q", s.Data)
	}
}

// A scan handed over just as the waiter gives up is held, never lost.
func TestHubCancelRace(t *testing.T) {
	for i := range 50 {
		h, _, _ := testHub(t, HubOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		res := make(chan error)
		var got Scan
		go func() {
			var err error
			got, err = h.Next(ctx)
			res <- err
		}()
		waitFor(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.waiter != nil })
		h.mu.Lock()
		h.waiter <- Scan{Data: code}
		h.waiter = nil
		cancel()
		h.mu.Unlock()
		if err := <-res; err == nil {
			if got.Data != code {
				t.Fatalf("run %d: got %q", i, got.Data)
			}
			continue
		}
		mustNext(t, h, code)
	}
}

func TestHubEndToEnd(t *testing.T) {
	var logs bytes.Buffer
	a, b := newChanScanner("front"), newChanScanner("side")
	h, err := NewHub(HubOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	go func() { a.scans <- Scan{Data: code, At: time.Now()} }()
	s, err := h.Next(context.Background())
	if err != nil || s.Data != code || s.Source != "front" {
		t.Fatalf("Next = %+v, %v", s, err)
	}
	b.err <- errors.New("cable on fire")
	waitFor(t, func() bool { return h.Statuses()[1].LastError != "" })
	want := []Status{
		{Name: "front", Kind: "chan", Connected: true, LastScan: s.At},
		{Name: "side", Kind: "chan", Connected: false, LastError: "cable on fire"},
	}
	if diff := cmp.Diff(want, h.Statuses()); diff != "" {
		t.Errorf("Statuses (-want +got):\n%s", diff)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Next(context.Background()); pos.KindOf(err) != pos.Unavailable {
		t.Fatalf("Next after Close: %v", err)
	}
	if !strings.Contains(logs.String(), "scanner stopped") {
		t.Errorf("no stop line:\n%s", logs.String())
	}
}

func TestHubCloseWakesWaiter(t *testing.T) {
	h, err := NewHub(HubOptions{}, newChanScanner("x"))
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error)
	go func() { _, err := h.Next(context.Background()); res <- err }()
	waitFor(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.waiter != nil })
	h.Close()
	if err := <-res; !errors.Is(err, ErrHubClosed) {
		t.Fatalf("waiter after Close: %v", err)
	}
}

func TestUSBID(t *testing.T) {
	for in, want := range map[string]USBID{"1a86": 0x1a86, "0x1A86": 0x1a86, "5": 5, "FFFF": 0xffff} {
		got, err := ParseUSBID(in)
		if err != nil || got != want {
			t.Errorf("ParseUSBID(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "12345", "xyz", "0x"} {
		if _, err := ParseUSBID(in); err == nil {
			t.Errorf("ParseUSBID(%q): no error", in)
		}
	}
	if b, _ := USBID(0x5ac).MarshalText(); string(b) != "05ac" {
		t.Errorf("MarshalText = %s", b)
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, b.Delay(n))
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if !slices.Equal(got, want) {
		t.Errorf("delays %v, want %v", got, want)
	}
	if err := (Backoff{Min: time.Second, Max: time.Millisecond}).Validate(); err == nil {
		t.Error("min > max accepted")
	}
	if err := (Backoff{}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestScanLogValueMasks(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "scan", Scan{Data: code, Source: "front"})
	if strings.Contains(buf.String(), code) || !strings.Contains(buf.String(), "13************6789") {
		t.Errorf("log line: %s", buf.String())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
