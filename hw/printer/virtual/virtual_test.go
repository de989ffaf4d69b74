package virtual

import (
	"context"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/posagent/posagent/hw/printer/escpos"
	"github.com/posagent/posagent/hw/printer/printertest"
)

var keep = flag.String("previews", "", "also write the previews into this directory, to look at")

func TestPreviews(t *testing.T) {
	dir := t.TempDir()
	if *keep != "" {
		dir = *keep
	}
	for _, prof := range []escpos.Profile{escpos.Profile80, escpos.Profile58} {
		v := New(filepath.Join(dir, prof.Name), Options{Profile: prof})
		for _, n := range printertest.Receipts() {
			if err := v.Print(context.Background(), n.Receipt); err != nil {
				t.Fatalf("%s %s: %v", prof.Name, n.Name, err)
			}
			f, err := os.Open(v.Last())
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := img.Bounds().Dx(), prof.Dots+2*margin; got != want {
				t.Errorf("%s: width %d, want %d", v.Last(), got, want)
			}
			if _, err := os.Stat(filepath.Join(dir, prof.Name, n.Receipt.Name+".bin")); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestUnknownCommandIsAnError(t *testing.T) {
	for _, in := range []string{"\x1b@ok\n\x1bZ", "\x1b@\x1dv0\x00\x01\x00\x05\x00\xff", "\x1b@\x1b\x74\x63\x80"} {
		if _, err := Render([]byte(in), escpos.Profile80); err == nil {
			t.Errorf("Render(%q): no error", in)
		}
	}
}

func TestFontTableStartsWithASCII(t *testing.T) {
	for c := rune(0x20); c <= 0x7e; c++ {
		if fontRunes[c-0x20] != c {
			t.Fatalf("fontRunes[%d] = %q, want %q", c-0x20, fontRunes[c-0x20], c)
		}
	}
}

// blackAt is a test helper reading a rendered dot.
func blackAt(img image.Image, x, y int) bool {
	r, _, _, _ := img.At(x, y).RGBA()
	return r < 0x8000
}
