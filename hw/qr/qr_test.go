package qr

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skip2/go-qrcode"
)

// TestPNGDecodes: the hand-written PNG decodes with image/png as a 1-bit
// grayscale image whose every pixel is the module it belongs to (dark
// black, light and quiet zone white), at sizes whose rows end inside a
// byte; and zbarimg reads the payload back.
func TestPNGDecodes(t *testing.T) {
	for _, tc := range []struct {
		data         string
		scale, quiet int
	}{
		{"weixin://wxpay/bizpayurl?pr=abc1234", 10, 4},
		{"1234567890123456789012345678", 3, 4},
		{"https://qr.alipay.com/bax01234567890123456789012345678901234567890", 1, 4},
		{"x", 5, 0},
	} {
		t.Run(fmt.Sprintf("%d-%d", tc.scale, tc.quiet), func(t *testing.T) {
			s, err := Encode(tc.data, M)
			if err != nil {
				t.Fatal(err)
			}
			b, err := PNG(s, tc.scale, tc.quiet)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ColorModel != color.GrayModel {
				// image/png decodes bit depths below 8 into Gray.
				t.Errorf("colour model %v, want grayscale", cfg.ColorModel)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			side := (s.Size() + 2*tc.quiet) * tc.scale
			if img.Bounds() != image.Rect(0, 0, side, side) {
				t.Fatalf("bounds %v, want %dx%d", img.Bounds(), side, side)
			}
			bad := 0
			for y := range side {
				for x := range side {
					mx, my := x/tc.scale-tc.quiet, y/tc.scale-tc.quiet
					dark := mx >= 0 && my >= 0 && mx < s.Size() && my < s.Size() && s.Dark(mx, my)
					g := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
					if (g == 0) != dark || (g != 0 && g != 255) {
						bad++
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d pixels differ from the symbol", bad, side*side)
			}
			if tc.quiet >= 4 && tc.scale >= 2 {
				zbar(t, b, tc.data)
			}
		})
	}
}

// TestSymbolMatchesTheEncoder: the shared symbol is the encoder's, without
// its quiet zone.
func TestSymbolMatchesTheEncoder(t *testing.T) {
	const data = "PA7K2Q20261201120000123456"
	s, err := Encode(data, Q)
	if err != nil {
		t.Fatal(err)
	}
	q, err := qrcode.New(data, qrcode.High)
	if err != nil {
		t.Fatal(err)
	}
	bm := q.Bitmap() // with a quiet zone of 4
	if len(bm) != s.Size()+8 {
		t.Fatalf("size %d, encoder's %d with its quiet zone", s.Size(), len(bm))
	}
	for y := range s.Size() {
		for x := range s.Size() {
			if s.Dark(x, y) != bm[y+4][x+4] {
				t.Fatalf("module (%d,%d) differs", x, y)
			}
		}
	}
}

// TestEncodedOnce: the same data at the same level is encoded once while
// it is among the recent symbols; other data or another level is not
// mistaken for it; the oldest symbol is forgotten first.
func TestEncodedOnce(t *testing.T) {
	n := Encodes()
	a1, _ := Encode("once-A", M)
	a2, _ := Encode("once-A", M)
	if got := Encodes() - n; got != 1 {
		t.Errorf("the same symbol twice: %d encodes, want 1", got)
	}
	if &a1.modules[0][0] != &a2.modules[0][0] {
		t.Error("the second Encode did not return the shared symbol")
	}
	if _, err := Encode("once-A", H); err != nil || Encodes()-n != 2 {
		t.Errorf("another level: %d encodes (%v), want 2", Encodes()-n, err)
	}
	for i := range cacheSize {
		Encode(fmt.Sprintf("filler-%d", i), M)
	}
	before := Encodes()
	Encode("once-A", M)
	if Encodes() != before+1 {
		t.Error("a symbol older than the cache's size was not encoded again")
	}
}

func TestRefusals(t *testing.T) {
	if _, err := Encode("x", Level(9)); err == nil {
		t.Error("level 9 accepted")
	}
	secret := strings.Repeat("9", 8000)
	_, err := Encode(secret, M)
	if err == nil || strings.Contains(err.Error(), "9999") {
		t.Errorf("too long: %v (must fail without the data)", err)
	}
	s, _ := Encode("x", M)
	if _, err := PNG(s, 0, 4); err == nil {
		t.Error("scale 0 accepted")
	}
	if _, err := PNG(Symbol{}, 1, 4); err == nil {
		t.Error("empty symbol accepted")
	}
}

func zbar(t *testing.T, b []byte, want string) {
	t.Helper()
	bin, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Log("zbarimg not installed; skipping its decode")
		return
	}
	path := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", path).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("zbarimg read %q, want %q", got, want)
	}
}

// BenchmarkDisplayPNG is the web display's QR: a merchant QR payload at
// 10 pixels a module with a quiet zone of 4 (370×370), encoded afresh
// each time (new data) and written as a 1-bit PNG; "stdlib" is the same
// symbol through go-qrcode's own PNG (image/png), as before.
func BenchmarkDisplayPNG(b *testing.B) {
	const data = "weixin://wxpay/bizpayurl?pr=abc1234"
	b.Run("encode+png", func(b *testing.B) {
		i := 0
		for b.Loop() {
			cache.mu.Lock()
			cache.entries = nil // a new payment's code every time
			cache.mu.Unlock()
			s, err := Encode(data, M)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := PNG(s, 10, 4); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("png", func(b *testing.B) {
		s, _ := Encode(data, M)
		for b.Loop() {
			if _, err := PNG(s, 10, 4); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		for b.Loop() {
			q, err := qrcode.New(data, qrcode.Medium)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := q.PNG(-10); err != nil {
				b.Fatal(err)
			}
		}
	})
}
