package hidscan

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/karalabe/hid"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/framing"
)

// fakeDevice plays a recording's steps, one report per read, and checks
// that nobody closes it during a read.
type fakeDevice struct {
	b *fakeBackend
}

func (d *fakeDevice) ReadTimeout(p []byte, timeout time.Duration) (int, error) {
	b := d.b
	b.mu.Lock()
	if b.closed[d] {
		b.mu.Unlock()
		return 0, hid.ErrDeviceClosed
	}
	b.inRead++
	var st *step
	if b.next < len(b.steps) {
		st = &b.steps[b.next]
		b.next++
	}
	b.mu.Unlock()
	defer func() { b.mu.Lock(); b.inRead--; b.mu.Unlock() }()
	switch {
	case st == nil:
		time.Sleep(min(timeout, 5*time.Millisecond))
		return 0, nil
	case st.gap > 0:
		time.Sleep(st.gap)
		return 0, nil
	case st.unplug:
		b.mu.Lock()
		b.present = false // gone until the backoff has passed once
		b.mu.Unlock()
		go func() { time.Sleep(20 * time.Millisecond); b.mu.Lock(); b.present = true; b.mu.Unlock() }()
		return 0, errors.New("hidapi: LIBUSB_ERROR_NO_DEVICE")
	}
	return copy(p, st.report), nil
}

func (d *fakeDevice) Close() error {
	b := d.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inRead > 0 {
		b.concurrentClose = true
	}
	if b.closed[d] {
		b.doubleClose = true
	}
	b.closed[d] = true
	b.opens--
	return nil
}

// fakeBackend enumerates a set of interfaces and opens fake devices that
// share one report cursor, so a replay continues across reconnects.
type fakeBackend struct {
	mu              sync.Mutex
	devs            []scanner.Device
	present         bool
	steps           []step
	next            int
	inRead, opens   int
	opened          []string
	closed          map[*fakeDevice]bool
	concurrentClose bool
	doubleClose     bool
}

func newFakeBackend(steps []step, devs ...scanner.Device) *fakeBackend {
	if len(devs) == 0 {
		devs = []scanner.Device{{Kind: "hid", Path: "0001:0004:00", USB: true, VID: 0x1eab, PID: 0x1d06, Interface: 0}}
	}
	return &fakeBackend{devs: devs, present: true, steps: steps, closed: map[*fakeDevice]bool{}}
}

func (b *fakeBackend) Enumerate(vid, pid scanner.USBID) ([]scanner.Device, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.present {
		return nil, nil
	}
	return append([]scanner.Device(nil), b.devs...), nil
}

func (b *fakeBackend) Open(d scanner.Device) (Device, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.opens++
	b.opened = append(b.opened, d.Path)
	return &fakeDevice{b: b}, nil
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func startFake(t *testing.T, opts Options, b *fakeBackend) (*Scanner, *logBuf) {
	t.Helper()
	var logs logBuf
	if opts.VID == 0 {
		opts.VID, opts.PID = 0x1eab, 0x1d06
	}
	opts.Backend = b
	opts.Backoff = scanner.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, &logs
}

// TestRecordingsScanner replays every recording through a Scanner over a
// fake device, so unplugs exercise the real reconnect loop.
func TestRecordingsScanner(t *testing.T) {
	for _, rec := range loadRecordings(t) {
		t.Run(rec.name, func(t *testing.T) {
			b := newFakeBackend(rec.steps)
			s, logs := startFake(t, rec.opts, b)
			var got []string
			var wantScans int
			for _, w := range rec.want {
				if strings.HasPrefix(w, "scan ") {
					wantScans++
				}
			}
			for range wantScans {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				sc, err := s.Read(ctx)
				cancel()
				if err != nil {
					t.Fatalf("Read: %v; got so far %q; logs:\n%s", err, got, logs.String())
				}
				got = append(got, describe(framing.Frame{Data: sc.Data, Symbology: sc.Symbology}))
			}
			var want []string
			for _, w := range rec.want {
				if strings.HasPrefix(w, "scan ") {
					want = append(want, w)
				} else {
					reason := strings.TrimPrefix(w, "drop ")
					deadline := time.Now().Add(2 * time.Second)
					for !strings.Contains(logs.String(), reason) && time.Now().Before(deadline) {
						time.Sleep(time.Millisecond)
					}
					if !strings.Contains(logs.String(), reason) {
						t.Errorf("no drop %q logged:\n%s", reason, logs.String())
					}
				}
			}
			if !matches(want, got) {
				t.Errorf("scans (-want +got):\n%v\n%v", want, got)
			}
			s.Close()
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.opens != 0 || b.concurrentClose || b.doubleClose {
				t.Errorf("device handling: %d left open, concurrent close %v, double close %v", b.opens, b.concurrentClose, b.doubleClose)
			}
			for _, w := range rec.want {
				if f := strings.Fields(w); len(f) > 1 && f[0] == "scan" && strings.Contains(logs.String(), f[1]) {
					t.Errorf("full code in logs:\n%s", logs.String())
				}
			}
		})
	}
}

func TestWaitsForDeviceThenConnects(t *testing.T) {
	b := newFakeBackend([]step{{report: []byte{0, 0, 0x1e, 0, 0, 0, 0, 0}}, {report: make([]byte, 8)}, {report: []byte{0, 0, 0x28, 0, 0, 0, 0, 0}}})
	b.present = false
	s, logs := startFake(t, Options{Name: "wedge"}, b)
	waitStatus(t, s, func(st scanner.Status) bool { return strings.Contains(st.LastError, "no HID device 1eab:1d06") })
	time.Sleep(50 * time.Millisecond)
	if n := strings.Count(logs.String(), "scanner unavailable"); n != 1 {
		t.Errorf("%d warnings while absent, want 1:\n%s", n, logs.String())
	}
	b.mu.Lock()
	b.present = true
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sc, err := s.Read(ctx)
	if err != nil || sc.Data != "1" || sc.Source != "wedge" {
		t.Fatalf("Read = %+v, %v", sc, err)
	}
	st := s.Status()
	if !st.Connected || st.Path != "0001:0004:00" || st.Kind != "hid" || st.LastScan.IsZero() {
		t.Errorf("status %+v", st)
	}
}

func TestChooseInterface(t *testing.T) {
	composite := []scanner.Device{
		{Path: "0001:0004:00", VID: 0x1eab, PID: 0x1d06, Interface: 0, Serial: "A"},
		{Path: "0001:0004:01", VID: 0x1eab, PID: 0x1d06, Interface: 1, Serial: "A"},
	}
	one := 1
	tests := []struct {
		name string
		opts Options
		devs []scanner.Device
		want string // chosen path, or error substring
	}{
		{"only one", Options{}, composite[:1], "0001:0004:00"},
		{"composite needs interface", Options{}, composite, "has interfaces 0, 1: set interface"},
		{"composite with interface", Options{Interface: &one}, composite, "0001:0004:01"},
		{"interface absent", Options{Interface: &one}, composite[:1], "no HID device 1eab:1d06 interface 1"},
		{"two scanners need serial", Options{}, []scanner.Device{composite[0], {Path: "0001:0005:00", VID: 0x1eab, PID: 0x1d06, Serial: "B"}}, "2 HID devices match 1eab:1d06: set serial"},
		{"serial picks", Options{Serial: "B"}, []scanner.Device{composite[0], {Path: "0001:0005:00", VID: 0x1eab, PID: 0x1d06, Serial: "B"}}, "0001:0005:00"},
		{"other devices ignored", Options{}, []scanner.Device{{Path: "x", VID: 1, PID: 2}, composite[0]}, "0001:0004:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.VID, o.PID = 0x1eab, 0x1d06
			s := &Scanner{opts: o.withDefaults()}
			d, err := s.choose(tt.devs)
			got := d.Path
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := []Options{
		{},
		{VID: 1},
		{VID: 1, PID: 2, Protocol: "serial"},
		{VID: 1, PID: 2, Interface: new(-1)},
		{VID: 1, PID: 2, Framing: framing.Options{Suffix: "x"}},
	}
	for _, o := range bad {
		if err := o.Validate(); pos.KindOf(err) != pos.Invalid {
			t.Errorf("Validate(%+v) = %v", o, err)
		}
	}
	o := Options{VID: 0x1eab, PID: 0x1d06, Protocol: POS}.withDefaults()
	if o.Name != "hid:1eab:1d06" || o.ReportID != 2 {
		t.Errorf("defaults %+v", o)
	}
}

// Without cgo the default backend must say HID is unavailable, loudly.
func TestSupportedIsReported(t *testing.T) {
	var logs logBuf
	s, err := New(Options{VID: 0x1eab, PID: 0x1d06, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Backoff: scanner.Backoff{Min: time.Second}})
	if !Supported() {
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(logs.String(), "USB-HID scanner unavailable") {
			t.Fatalf("no-cgo build: err %v, logs:\n%s", err, logs.String())
		}
		if _, err := List(); !errors.Is(err, ErrUnsupported) {
			t.Fatalf("List: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.Contains(logs.String(), "supported=true") {
		t.Errorf("backend not logged:\n%s", logs.String())
	}
	if _, err := List(); err != nil {
		t.Logf("List: %v (no USB here?)", err)
	}
}

func waitStatus(t *testing.T, s *Scanner, cond func(scanner.Status) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond(s.Status()) {
		if time.Now().After(deadline) {
			t.Fatalf("status %+v", s.Status())
		}
		time.Sleep(2 * time.Millisecond)
	}
}
