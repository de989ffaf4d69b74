//go:build linux

package evdevscan

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/posagent/posagent/hw/scanner"
)

// ev encodes one struct input_event as the kernel writes it.
func ev(typ, code uint16, value int32) []byte {
	b := make([]byte, eventSize)
	tv := eventSize - 8
	binary.LittleEndian.PutUint16(b[tv:], typ)
	binary.LittleEndian.PutUint16(b[tv+2:], code)
	binary.LittleEndian.PutUint32(b[tv+4:], uint32(value))
	return b
}

var codeKeys = map[byte]uint16{'1': 2, '2': 3, '3': 4, '4': 5, '5': 6, '6': 7, '7': 8, '8': 9, '9': 10, '0': 11, '\r': 28}

// typeCode is what a wedge scanner's evdev node yields for s: press,
// SYN, release, SYN per key.
func typeCode(s string) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		k := codeKeys[s[i]]
		out = append(out, ev(evKey, k, 1)...)
		out = append(out, ev(0, 0, 0)...)
		out = append(out, ev(evKey, k, 0)...)
		out = append(out, ev(0, 0, 0)...)
	}
	return out
}

func TestKeyDecoder(t *testing.T) {
	type e struct {
		typ, code uint16
		value     int32
	}
	tests := []struct {
		name   string
		events []e
		want   string // typed chars, '!' marks garbled
	}{
		{"digits and enter", []e{{1, 2, 1}, {1, 2, 0}, {1, 11, 1}, {1, 11, 0}, {1, 28, 1}}, "10\r"},
		{"held key types once", []e{{1, 4, 1}, {1, 4, 2}, {1, 4, 2}, {1, 4, 0}}, "3"},
		{"shift", []e{{1, 42, 1}, {1, 30, 1}, {1, 30, 0}, {1, 42, 0}, {1, 30, 1}}, "Aa"},
		{"caps lock", []e{{1, 58, 1}, {1, 58, 0}, {1, 30, 1}, {1, 2, 1}}, "A1"},
		{"alt keypad", []e{{1, 56, 1}, {1, 79, 1}, {1, 79, 0}, {1, 56, 0}, {1, 79, 1}}, "!1"},
		{"unmapped F1", []e{{1, 59, 1}}, "!"},
		{"other event types", []e{{4, 4, 458782}, {0, 0, 0}, {2, 0, 1}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d KeyDecoder
			var got []byte
			for _, x := range tt.events {
				c, bad := d.Decode(x.typ, x.code, x.value)
				switch {
				case bad != "":
					got = append(got, '!')
				case c != 0:
					got = append(got, c)
				}
			}
			if string(got) != tt.want {
				t.Errorf("typed %q, want %q", got, tt.want)
			}
		})
	}
}

// The reader over a FIFO standing in for /dev/input/eventN: codes framed by
// Enter, a device that goes away mid-code, and a reconnect.
func TestReaderOverFIFO(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "event-kbd")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Skip(err)
	}
	grabbed := make(chan string, 10)
	s, err := newScanner(Options{Path: path, Name: "wedge", Backoff: scanner.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}},
		func(f *os.File) error { grabbed <- f.Name(); return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(typeCode("134567890123456789\r"))
	sc := readScan(t, s)
	if sc.Data != "134567890123456789" || sc.Source != "wedge" {
		t.Fatalf("scan %+v", sc)
	}
	if g := <-grabbed; g != path {
		t.Errorf("grabbed %q", g)
	}
	w.Write(typeCode("2812"))
	time.Sleep(20 * time.Millisecond)
	w.Close() // the device goes away mid-code
	deadline := time.Now().Add(5 * time.Second)
	for st := s.Status(); st.Connected || st.LastError == ""; st = s.Status() {
		if time.Now().After(deadline) {
			t.Fatalf("no disconnect seen: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}

	w2, err := os.OpenFile(path, os.O_WRONLY, 0) // and comes back
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	w2.Write(typeCode("2812345678901234\r"))
	if sc := readScan(t, s); sc.Data != "2812345678901234" {
		t.Fatalf("after reconnect: %+v (half code glued on?)", sc)
	}
	if st := s.Status(); !st.Connected || st.Kind != "evdev" {
		t.Errorf("status %+v", st)
	}
}

func readScan(t *testing.T, s *Scanner) scanner.Scan {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sc, err := s.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v; status %+v", err, s.Status())
	}
	return sc
}

func TestCloseWhileReading(t *testing.T) {
	path := filepath.Join(t.TempDir(), "event-kbd")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Skip(err)
	}
	s, err := newScanner(Options{Path: path}, func(*os.File) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	time.Sleep(20 * time.Millisecond)
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close hangs")
	}
}

func TestOptionsAndList(t *testing.T) {
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "set path") {
		t.Errorf("no path: %v", err)
	}
	devs, err := List()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d keyboards", len(devs))
}
