package serialscan

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"go.bug.st/serial"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/framing"
)

const code = "134567890123456789"

// plug is a pseudo-terminal standing in for a scanner: the test writes the
// scanner's bytes to master; the Scanner opens slave as its serial port.
// Closing master is pulling the cable.
type plug struct {
	master *os.File
	slave  string
}

func newPlug(t *testing.T) *plug {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	name := s.Name()
	s.Close() // only the Scanner holds the slave side
	t.Cleanup(func() { m.Close() })
	return &plug{master: m, slave: name}
}

func (p *plug) send(t *testing.T, s string) {
	t.Helper()
	if _, err := p.master.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func (p *plug) unplug() { p.master.Close() }

// logBuf is a log sink safe to read while the scanner writes.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func testOptions(logs *logBuf) Options {
	return Options{
		Name:    "front",
		Backoff: scanner.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond},
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func start(t *testing.T, opts Options, list func() ([]scanner.Device, error)) *Scanner {
	t.Helper()
	if list == nil {
		list = func() ([]scanner.Device, error) { return nil, nil }
	}
	s, err := newScanner(opts, list, serial.Open)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func read(t *testing.T, s *Scanner) scanner.Scan {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sc, err := s.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v (status %+v)", err, s.Status())
	}
	return sc
}

func readNothing(t *testing.T, s *Scanner, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if sc, err := s.Read(ctx); err == nil {
		t.Fatalf("Read = %+v, want nothing", sc)
	}
}

func waitStatus(t *testing.T, s *Scanner, what string, cond func(scanner.Status) bool) scanner.Status {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := s.Status()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never %s: %+v", what, st)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func connectedTo(path string) func(scanner.Status) bool {
	return func(st scanner.Status) bool { return st.Connected && st.Path == path }
}

func TestReadThroughPTY(t *testing.T) {
	p := newPlug(t)
	var logs logBuf
	opts := testOptions(&logs)
	opts.Path = p.slave
	opts.Framing.StripAIM = true
	opts.Framing.MaxLen = 24
	s := start(t, opts, nil)
	waitStatus(t, s, "connected", connectedTo(p.slave))

	p.send(t, code+"\r")
	if sc := read(t, s); sc.Data != code || sc.Source != "front" || sc.At.IsZero() {
		t.Fatalf("scan %+v", sc)
	}

	// One code split over writes, then two in one write, with AIM ids.
	p.send(t, "]E04006")
	time.Sleep(5 * time.Millisecond)
	p.send(t, "381333931\r]Q1"+code+"\r")
	if sc := read(t, s); sc.Data != "4006381333931" || sc.Symbology != "]E0" {
		t.Fatalf("scan %+v", sc)
	}
	if sc := read(t, s); sc.Data != code || sc.Symbology != "]Q1" {
		t.Fatalf("scan %+v", sc)
	}

	// Over the maximum: dropped whole with a logged reason, the code
	// after it intact.
	long := strings.Repeat("7", 40)
	p.send(t, long+"\r"+code+"\r")
	if sc := read(t, s); sc.Data != code {
		t.Fatalf("after long line: %+v", sc)
	}
	if !strings.Contains(logs.String(), "longer than the maximum length") {
		t.Errorf("no drop reason logged:\n%s", logs.String())
	}
	if l := logs.String(); strings.Contains(l, long) || strings.Contains(l, code) {
		t.Errorf("a code reached the log:\n%s", l)
	}
	if st := s.Status(); st.LastScan.IsZero() || st.Kind != "serial" {
		t.Errorf("status %+v", st)
	}
}

func TestNoSuffixUsesSilence(t *testing.T) {
	p := newPlug(t)
	var logs logBuf
	opts := testOptions(&logs)
	opts.Path = p.slave
	opts.Framing = framing.Options{Suffix: framing.SuffixNone, InterCharTimeout: 30 * time.Millisecond}
	s := start(t, opts, nil)
	waitStatus(t, s, "connected", connectedTo(p.slave))
	p.send(t, code[:6])
	time.Sleep(5 * time.Millisecond)
	p.send(t, code[6:])
	if sc := read(t, s); sc.Data != code {
		t.Fatalf("scan %+v", sc)
	}
}

// Pulling the cable mid-scan drops the half code; the scanner comes back by
// itself when the device reappears behind the same (by-id style) path.
func TestUnplugAndReplugByPath(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "usb-Scanner_123-if00")
	p1 := newPlug(t)
	if err := os.Symlink(p1.slave, link); err != nil {
		t.Fatal(err)
	}
	var logs logBuf
	opts := testOptions(&logs)
	opts.Path = link
	s := start(t, opts, nil)
	waitStatus(t, s, "connected", connectedTo(p1.slave))

	p1.send(t, "2812345")
	time.Sleep(20 * time.Millisecond)
	p1.unplug()
	st := waitStatus(t, s, "disconnected", func(st scanner.Status) bool { return !st.Connected && st.LastError != "" })
	t.Logf("after unplug: %+v", st)

	p2 := newPlug(t)
	tmp := link + ".new"
	if err := os.Symlink(p2.slave, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, s, "reconnected", connectedTo(p2.slave))
	p2.send(t, code+"\r")
	if sc := read(t, s); sc.Data != code {
		t.Fatalf("after replug: %+v (half code glued on?)", sc)
	}
	readNothing(t, s, 50*time.Millisecond)
	l := logs.String()
	for _, want := range []string{"scanner disconnected", "cut short by a disconnect", "scanner connected"} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %q:\n%s", want, l)
		}
	}
}

// A scanner found by VID/PID is found again when it comes back under
// another device name.
func TestReplugByVIDPID(t *testing.T) {
	var mu sync.Mutex
	var devs []scanner.Device
	setDevs := func(d ...scanner.Device) { mu.Lock(); devs = d; mu.Unlock() }
	list := func() ([]scanner.Device, error) {
		mu.Lock()
		defer mu.Unlock()
		return append([]scanner.Device(nil), devs...), nil
	}

	var logs logBuf
	opts := testOptions(&logs)
	opts.VID, opts.PID, opts.Serial = 0x1eab, 0x1d06, "S123"
	s := start(t, opts, list)
	waitStatus(t, s, "not found", func(st scanner.Status) bool {
		return strings.Contains(st.LastError, "no serial port with USB ID 1eab:1d06 serial S123")
	})

	p1 := newPlug(t)
	other := scanner.Device{Kind: "serial", Path: "/dev/ttyACM9", USB: true, VID: 0x1eab, PID: 0x1d06, Serial: "OTHER"}
	setDevs(other, scanner.Device{Kind: "serial", Path: p1.slave, USB: true, VID: 0x1eab, PID: 0x1d06, Serial: "S123"})
	waitStatus(t, s, "connected", connectedTo(p1.slave))
	p1.send(t, code+"\r")
	if sc := read(t, s); sc.Data != code {
		t.Fatalf("scan %+v", sc)
	}

	setDevs(other)
	p1.unplug()
	waitStatus(t, s, "disconnected", func(st scanner.Status) bool { return !st.Connected })

	p2 := newPlug(t)
	setDevs(other, scanner.Device{Kind: "serial", Path: p2.slave, USB: true, VID: 0x1eab, PID: 0x1d06, Serial: "S123"})
	waitStatus(t, s, "reconnected", connectedTo(p2.slave))
	p2.send(t, "281234567890123456\r")
	if sc := read(t, s); sc.Data != "281234567890123456" {
		t.Fatalf("scan %+v", sc)
	}
	if got := s.Status().Name; got != "front" {
		t.Errorf("name %q", got)
	}
}

func TestAmbiguousVIDPID(t *testing.T) {
	list := func() ([]scanner.Device, error) {
		return []scanner.Device{
			{Path: "/dev/ttyACM1", USB: true, VID: 1, PID: 2},
			{Path: "/dev/ttyACM0", USB: true, VID: 1, PID: 2},
		}, nil
	}
	var logs logBuf
	opts := testOptions(&logs)
	opts.VID, opts.PID = 1, 2
	s := start(t, opts, list)
	waitStatus(t, s, "ambiguous", func(st scanner.Status) bool {
		return strings.Contains(st.LastError, "2 serial ports match USB ID 0001:0002 (/dev/ttyACM0, /dev/ttyACM1): set serial")
	})
}

// Our own Close is not an unplug: no disconnect warning, and Read ends.
func TestCloseIsNotAnUnplug(t *testing.T) {
	p := newPlug(t)
	var logs logBuf
	opts := testOptions(&logs)
	opts.Path = p.slave
	s := start(t, opts, nil)
	waitStatus(t, s, "connected", connectedTo(p.slave))

	res := make(chan error)
	go func() { _, err := s.Read(context.Background()); res <- err }()
	time.Sleep(10 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-res:
		if pos.KindOf(err) != pos.Unavailable {
			t.Fatalf("Read after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Read still blocked after Close")
	}
	if strings.Contains(logs.String(), "scanner disconnected") {
		t.Errorf("Close was logged as a disconnect:\n%s", logs.String())
	}
	if s.Status().Connected {
		t.Error("still connected after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestAbsentPortComesLater(t *testing.T) {
	link := filepath.Join(t.TempDir(), "scanner")
	var logs logBuf
	opts := testOptions(&logs)
	opts.Path = link
	s := start(t, opts, nil)
	waitStatus(t, s, "absent", func(st scanner.Status) bool { return strings.Contains(st.LastError, "not present") })
	time.Sleep(100 * time.Millisecond) // several retries
	if n := strings.Count(logs.String(), "level=WARN msg=\"scanner unavailable\""); n != 1 {
		t.Errorf("%d unavailable warnings for one cause, want 1:\n%s", n, logs.String())
	}
	p := newPlug(t)
	if err := os.Symlink(p.slave, link); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, s, "connected", connectedTo(p.slave))
	p.send(t, code+"\r")
	if sc := read(t, s); sc.Data != code {
		t.Fatalf("scan %+v", sc)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string // substring of the error; "" for valid
	}{
		{"path", Options{Path: "/dev/ttyACM0"}, ""},
		{"vid pid", Options{VID: 1, PID: 2}, ""},
		{"neither", Options{}, "set path, or both vid and pid"},
		{"only vid", Options{VID: 1}, "set path, or both vid and pid"},
		{"both", Options{Path: "/dev/ttyS0", VID: 1, PID: 2}, "not both"},
		{"baud", Options{Path: "x", Baud: 10}, "baud 10"},
		{"data bits", Options{Path: "x", DataBits: 9}, "data bits 9"},
		{"parity", Options{Path: "x", Parity: "sometimes"}, "parity \"sometimes\""},
		{"parity case", Options{Path: "x", Parity: "Even"}, ""},
		{"stop bits", Options{Path: "x", StopBits: 3}, "stop bits 3"},
		{"suffix", Options{Path: "x", Framing: framing.Options{Suffix: "eot"}}, "unknown suffix"},
		{"backoff", Options{Path: "x", Backoff: scanner.Backoff{Min: time.Second, Max: time.Millisecond}}, "backoff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			case err != nil && pos.KindOf(err) != pos.Invalid:
				t.Fatalf("kind %v, want Invalid", pos.KindOf(err))
			}
		})
	}
	o := Options{VID: 0x1a86, PID: 0x7523}.withDefaults()
	if o.Name != "usb:1a86:7523" || o.Baud != 9600 || o.DataBits != 8 || o.Parity != ParityNone || o.StopBits != 1 {
		t.Errorf("defaults: %+v", o)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tt := range []struct {
		err  error
		kind pos.Kind
		want string
	}{
		{&serial.PortError{}, pos.Unavailable, "busy"},
		{os.ErrNotExist, pos.NotFound, "not present"},
		{errors.New("odd"), pos.Unavailable, "odd"},
	} {
		err := openError("/dev/ttyACM0", tt.err)
		if pos.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("openError(%v) = %v (%v)", tt.err, err, pos.KindOf(err))
		}
	}
}

func TestList(t *testing.T) {
	devs, err := List()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.Kind != "serial" || d.Path == "" || d.Interface != -1 {
			t.Errorf("device %+v", d)
		}
	}
	t.Logf("%d serial ports", len(devs))
}

// TestSuffixAutoThroughPTY: by default CR, LF and CRLF each end one code
// from a serial scanner (one left at its factory CR, one set to LF or
// CRLF), a CR LF pair is one terminator, and blank lines are nothing.
func TestSuffixAutoThroughPTY(t *testing.T) {
	p := newPlug(t)
	var logs logBuf
	opts := testOptions(&logs)
	opts.Path = p.slave
	s := start(t, opts, nil)
	waitStatus(t, s, "connected", connectedTo(p.slave))
	if got := s.opts.Framing.Suffix; got != "" && got != framing.SuffixAuto {
		t.Fatalf("default suffix %q, want auto", got)
	}
	codes := []string{"134567890123456789", "281234567890123456", "6212345678901234567"}
	p.send(t, codes[0]+"\r\n")
	p.send(t, codes[1]+"\r")
	time.Sleep(5 * time.Millisecond)
	p.send(t, "\n\r\n")
	p.send(t, codes[2]+"\n")
	for _, c := range codes {
		if sc := read(t, s); sc.Data != c {
			t.Fatalf("scan %q, want %q (logs:\n%s)", sc.Data, c, logs.String())
		}
	}
	readNothing(t, s, 150*time.Millisecond)
	if strings.Contains(logs.String(), "dropped") {
		t.Errorf("a terminator was taken for a frame:\n%s", logs.String())
	}
}
