package hidscan

import (
	"bytes"
	"testing"
	"time"

	"github.com/posagent/posagent/hw/scanner/framing"
)

func TestUsageChar(t *testing.T) {
	tests := []struct {
		k           byte
		shift, caps bool
		want        byte
	}{
		{0x04, false, false, 'a'}, {0x04, true, false, 'A'}, {0x1d, false, true, 'Z'}, {0x1d, true, true, 'z'},
		{0x1e, false, false, '1'}, {0x27, false, false, '0'}, {0x1e, true, false, '!'}, {0x27, true, false, ')'},
		{0x1e, false, true, '1'}, // Caps Lock does not shift digits
		{0x28, false, false, '\r'}, {0x58, false, false, '\r'}, {0x2b, false, false, '\t'},
		{0x2d, false, false, '-'}, {0x2d, true, false, '_'}, {0x38, true, false, '?'}, {0x30, false, false, ']'},
		{0x59, false, false, '1'}, {0x62, false, false, '0'}, {0x63, false, false, '.'},
		{0x32, false, false, 0}, {0x3a, false, false, 0}, {0xe1, false, false, 0}, {0xff, false, false, 0},
	}
	for _, tt := range tests {
		if got := usageChar(tt.k, tt.shift, tt.caps); got != tt.want {
			t.Errorf("usageChar(0x%02x, shift %v, caps %v) = %q, want %q", tt.k, tt.shift, tt.caps, got, tt.want)
		}
	}
}

func TestCapsLockToggle(t *testing.T) {
	var d KeyboardDecoder
	var got []byte
	for _, r := range [][]byte{
		{0, 0, keyCapsLock, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
		{0, 0, 0x04, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
		{0, 0, keyCapsLock, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
		{0, 0, 0x04, 0, 0, 0, 0, 0},
	} {
		for _, ev := range d.Decode(r) {
			got = append(got, ev.Char)
		}
	}
	if string(got) != "Aa" {
		t.Errorf("typed %q", got)
	}
	d.Reset()
	if d.caps {
		t.Error("Reset kept Caps Lock")
	}
}

func TestShortKeyboardReport(t *testing.T) {
	var d KeyboardDecoder
	if evs := d.Decode([]byte{0, 0, 0x1e}); len(evs) != 1 || evs[0].Garbled == "" {
		t.Errorf("short report: %+v", evs)
	}
	d.ReportID = 1
	if evs := d.Decode([]byte{2, 0, 0, 0x1e, 0, 0, 0, 0, 0}); evs != nil {
		t.Errorf("other report ID: %+v", evs)
	}
}

// FuzzKeyboardDecoder: arbitrary report streams never panic, and whatever
// reaches the framer as a code is made only of characters the decoder
// types, one per key newly seen in a report.
func FuzzKeyboardDecoder(f *testing.F) {
	f.Add([]byte{0, 0, 0x1e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x28, 0, 0, 0, 0, 0}, uint8(8), uint8(0))
	f.Add([]byte{2, 0, 1, 1, 1, 1, 1, 1, 0x44, 0, 0x59}, uint8(3), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, size, id uint8) {
		n := 1 + int(size%12)
		d := &KeyboardDecoder{ReportID: id % 3}
		fr, _ := framing.New(framing.Options{})
		now := time.Unix(0, 0)
		newKeys := 0
		for len(data) > 0 {
			r := data[:min(n, len(data))]
			data = data[len(r):]
			newKeys += len(r)
			now = now.Add(time.Millisecond)
			for _, x := range decodeKeys(d, fr, r, now) {
				if x.Err != nil {
					continue
				}
				if len(x.Data) > newKeys {
					t.Fatalf("code %q longer than the keys pressed (%d)", x.Data, newKeys)
				}
				for i := 0; i < len(x.Data); i++ {
					if c := x.Data[i]; c < 0x20 && c != '\t' || c > 0x7e {
						t.Fatalf("code %q has a character no key types", x.Data)
					}
				}
			}
		}
	})
}

// FuzzPOSDecoder: arbitrary reports never panic, and every code emitted is
// made of data bytes from the reports, in order, within MaxLen.
func FuzzPOSDecoder(f *testing.F) {
	rep := func(data string, cont bool) []byte {
		b := make([]byte, 64)
		b[0], b[1] = 2, byte(len(data))
		copy(b[2:], "]E0")
		copy(b[5:], data)
		if cont {
			b[63] = 1
		}
		return b
	}
	f.Add(append(rep("1345678901", true), rep("23456789", false)...), uint8(64))
	f.Add([]byte{2, 60, ']', 'Q', '1', '1'}, uint8(6))
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		n := 1 + int(size%80)
		d := &POSDecoder{MaxLen: 24}
		all := data
		for len(data) > 0 {
			r := data[:min(n, len(data))]
			data = data[len(r):]
			fr, ok := d.Decode(r)
			if !ok || fr.Err != nil {
				continue
			}
			if fr.Data == "" || len(fr.Data) > 24 {
				t.Fatalf("bad code %q", fr.Data)
			}
			if !isSubsequence([]byte(fr.Data), all) {
				t.Fatalf("code %q is not drawn from the input", fr.Data)
			}
		}
		d.Reset()
	})
}

func isSubsequence(sub, in []byte) bool {
	for _, c := range sub {
		i := bytes.IndexByte(in, c)
		if i < 0 {
			return false
		}
		in = in[i+1:]
	}
	return true
}
