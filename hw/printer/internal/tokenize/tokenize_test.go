package tokenize

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	in := []byte("\x1b@ab\x1c&\xbd\xf0\x94\x39\xfc\x36\x1c.\n\x1dV\x42\x03\x10\x04\x01")
	got, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, c := range got {
		ops = append(ops, c.String())
	}
	want := []string{"ESC @", `text "ab"`, "FS &", `text "金😀"`, "FS .", "LF", "GS V 66 3", "DLE EOT 1"}
	if d := cmp.Diff(want, ops); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestRefuses: anything the encoder would not emit is an error at the
// offset where it starts, never skipped.
func TestRefuses(t *testing.T) {
	tests := []struct {
		name, in, msg string
		off           int
	}{
		{"unknown ESC", "ab\x1bZ\x01", "unknown command ESC 0x5a", 2},
		{"unknown GS", "\x1dX", "unknown command GS 0x58", 0},
		{"unknown FS", "\x1cq", "unknown command FS 0x71", 0},
		{"stray control", "a\x07b", "stray control byte 0x07", 1},
		{"truncated", "\x1dv0\x00\x02\x00\x02\x00\xff", "stream ends 3 bytes short", 0},
		{"qr length off by one", "\x1d(k\x06\x001P0AB", "stream ends 1 bytes short", 0},
		{"qr fixed function length", "\x1d(k\x04\x001C\x06\x00", "length 4, want 3", 0},
		{"qr module", "\x1d(k\x03\x001C\x11", "module size 17", 0},
		{"size bits", "\x1d!\x88", "out of range", 0},
		{"barcode system", "\x1dk\x04123\x00", "only 73", 0},
		{"code128 no set", "\x1dkI\x0212", "code set", 0},
		{"bad gb18030", "\x1c&\xbd\x20", "second byte", 2},
		{"cut mode", "\x1dV\x07", "out of range", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Off != tt.off || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("err = %v, want offset %d and %q", err, tt.off, tt.msg)
			}
		})
	}
}

func TestDumpRoundTrip(t *testing.T) {
	in := []byte("\x1b@\x1dv0\x00\x01\x00\x02\x00\x80\x01hello\n\x1b\x07")
	out, err := Undump(Dump(in))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(in, out); d != "" {
		t.Errorf("(-in +out):\n%s\n%s", d, Dump(in))
	}
}
