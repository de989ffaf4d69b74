package escpos

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/internal/tokenize"
)

// TestCommands pins every command to the bytes of the ESC/POS reference.
func TestCommands(t *testing.T) {
	tests := []struct {
		name string
		do   func(e *Encoder) error
		want []byte
	}{
		{"initialize", func(e *Encoder) error { e.Initialize(); return nil }, []byte{0x1b, 0x40}},
		{"code page", func(e *Encoder) error { e.SelectCodePage(16); return nil }, []byte{0x1b, 0x74, 16}},
		{"align center", func(e *Encoder) error { e.Align(printer.Center); return nil }, []byte{0x1b, 0x61, 1}},
		{"align right", func(e *Encoder) error { e.Align(printer.Right); return nil }, []byte{0x1b, 0x61, 2}},
		{"bold", func(e *Encoder) error { e.Bold(true); e.Bold(false); return nil }, []byte{0x1b, 0x45, 1, 0x1b, 0x45, 0}},
		{"underline 2", func(e *Encoder) error { return e.Underline(2) }, []byte{0x1b, 0x2d, 2}},
		{"size 2x3", func(e *Encoder) error { return e.Size(2, 3) }, []byte{0x1d, 0x21, 0x12}},
		{"size 8x8", func(e *Encoder) error { return e.Size(8, 8) }, []byte{0x1d, 0x21, 0x77}},
		{"chinese style", func(e *Encoder) error { e.ChineseStyle(true, true, true); return nil }, []byte{0x1c, 0x21, 0x8c}},
		{"chinese mode", func(e *Encoder) error { e.ChineseMode(true); e.ChineseMode(false); return nil }, []byte{0x1c, 0x26, 0x1c, 0x2e}},
		{"line feed", func(e *Encoder) error { e.LineFeed(); return nil }, []byte{0x0a}},
		{"feed", func(e *Encoder) error { return e.Feed(3) }, []byte{0x1b, 0x64, 3}},
		{"full cut", func(e *Encoder) error { e.Cut(false); return nil }, []byte{0x1d, 0x56, 0}},
		{"partial cut", func(e *Encoder) error { e.Cut(true); return nil }, []byte{0x1d, 0x56, 1}},
		{"feed then full cut", func(e *Encoder) error { e.FeedCut(false, 0); return nil }, []byte{0x1d, 0x56, 65, 0}},
		{"feed then partial cut", func(e *Encoder) error { e.FeedCut(true, 3); return nil }, []byte{0x1d, 0x56, 66, 3}},
		{"drawer", func(e *Encoder) error { return e.KickDrawer(0, 25, 250) }, []byte{0x1b, 0x70, 0, 25, 250}},
		{"status", func(e *Encoder) error { return e.StatusRequest(4) }, []byte{0x10, 0x04, 4}},
		{"qr", func(e *Encoder) error { return e.QR("AB", QROptions{Module: 6, Level: QRLevelQ}) }, []byte{
			0x1d, 0x28, 0x6b, 4, 0, 49, 65, 50, 0,
			0x1d, 0x28, 0x6b, 3, 0, 49, 67, 6,
			0x1d, 0x28, 0x6b, 3, 0, 49, 69, 50,
			0x1d, 0x28, 0x6b, 5, 0, 49, 80, 48, 'A', 'B',
			0x1d, 0x28, 0x6b, 3, 0, 49, 81, 48,
		}},
		{"code128", func(e *Encoder) error { return e.Code128("a{1", BarcodeOptions{Height: 80, Module: 2, HRI: true}) }, []byte{
			0x1d, 0x68, 80, 0x1d, 0x77, 2, 0x1d, 0x48, 2, 0x1d, 0x6b, 73, 6, '{', 'B', 'a', '{', '{', '1',
		}},
		{"raster", func(e *Encoder) error {
			b := NewBitmap(10, 2)
			b.Set(0, 0)
			b.Set(9, 1)
			return e.Raster(b)
		}, []byte{0x1d, 0x76, 0x30, 0, 2, 0, 2, 0, 0x80, 0, 0, 0x40}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEncoder(Profile80)
			if err := tt.do(e); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, e.Bytes()); d != "" {
				t.Errorf("bytes (-want +got):\n%s", d)
			}
			mustParse(t, e.Bytes())
		})
	}
}

func TestCommandErrors(t *testing.T) {
	e := NewEncoder(Profile80)
	for name, err := range map[string]error{
		"size 0":            e.Size(0, 1),
		"size 9":            e.Size(1, 9),
		"underline 3":       e.Underline(3),
		"feed 256":          e.Feed(256),
		"qr module 17":      e.QR("x", QROptions{Module: 17}),
		"qr empty":          e.QR("", QROptions{Module: 3}),
		"qr level":          e.QR("x", QROptions{Module: 3, Level: 7}),
		"barcode non-ascii": e.Code128("é", BarcodeOptions{Height: 50, Module: 2}),
		"barcode module 1":  e.Code128("1", BarcodeOptions{Height: 50, Module: 1}),
		"drawer pin":        e.KickDrawer(2, 1, 1),
		"status 5":          e.StatusRequest(5),
		"raster too wide":   e.Raster(NewBitmap(600, 1)),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if len(e.Bytes()) != 0 {
		t.Errorf("failed commands wrote % x", e.Bytes())
	}
}

// TestQRLength checks the store function's length rule at the byte
// boundary: pL + pH×256 = k + 3.
func TestQRLength(t *testing.T) {
	for _, k := range []int{1, 252, 253, 254, 300, 2000} {
		e := NewEncoder(Profile80)
		if err := e.QR(strings.Repeat("7", k), QROptions{Module: 3}); err != nil {
			t.Fatal(err)
		}
		b := e.Bytes()
		i := bytes.Index(b, []byte{49, 80, 48}) - 2
		if got := int(b[i]) + int(b[i+1])*256; got != k+3 {
			t.Errorf("k=%d: pL pH = %d, want %d", k, got, k+3)
		}
		mustParse(t, b)
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name string
		p    Profile
		in   string
		want []byte
	}{
		{"ascii", Profile80, "Total 1.00", []byte("Total 1.00")},
		{"controls dropped", Profile80, "a\nb\tc\x1b", []byte("abc")},
		{"latin via cp437", Profile80, "Café", []byte{'C', 'a', 'f', 0x1c, 0x2e, 0x1b, 0x74, 0, 0x82}},
		{"euro needs cp1252", Profile80, "5€", []byte{'5', 0x1c, 0x2e, 0x1b, 0x74, 16, 0x80}},
		{"stays in page", Profile80, "éè", []byte{0x1c, 0x2e, 0x1b, 0x74, 0, 0x82, 0x8a}},
		{"chinese gb18030", Profile80, "金额 1", []byte{0x1c, 0x26, 0xbd, 0xf0, 0xb6, 0xee, ' ', '1'}},
		{"four-byte gb18030", Profile80, "€😀", []byte{0x1c, 0x2e, 0x1b, 0x74, 16, 0x80, 0x1c, 0x26, 0x94, 0x39, 0xfc, 0x36}},
		{"chinese then latin", Profile80, "谢é", []byte{0x1c, 0x26, 0xd0, 0xbb, 0x1c, 0x2e, 0x1b, 0x74, 0, 0x82}},
		{"no chinese font", Profile{Columns: 32, Dots: 384, CodePages: epsonCodePages}, "谢é", []byte{'?', 0x1b, 0x74, 0, 0x82}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEncoder(tt.p)
			e.Text(tt.in)
			if d := cmp.Diff(tt.want, e.Bytes()); d != "" {
				t.Errorf("Text(%q) (-want +got):\n%s", tt.in, d)
			}
			mustParse(t, e.Bytes())
		})
	}
}

func TestRuneWidth(t *testing.T) {
	for r, want := range map[rune]int{'A': 1, 'é': 1, '€': 1, '谢': 2, '，': 2, '\n': 0, '😀': 2} {
		if got := Profile80.RuneWidth(r); got != want {
			t.Errorf("RuneWidth(%q) = %d, want %d", r, got, want)
		}
	}
}

// mustParse is the tokenizer assertion: the stream is nothing but known
// commands, with no stray bytes.
func mustParse(t *testing.T, b []byte) []tokenize.Cmd {
	t.Helper()
	cmds, err := tokenize.Parse(b)
	if err != nil {
		t.Fatalf("stream does not tokenize: %v", err)
	}
	n := 0
	for _, c := range cmds {
		if c.Off != n {
			t.Fatalf("command %s at %d, want %d", c, c.Off, n)
		}
		n += c.Len
	}
	if n != len(b) {
		t.Fatalf("tokenized %d of %d bytes", n, len(b))
	}
	return cmds
}
