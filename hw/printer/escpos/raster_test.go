package escpos

import (
	"image"
	"image/color"
	"strings"
	"testing"
)

// TestToBitmapFastPathsAgree: the direct pixel readers give the bitmap the
// generic image.At path gives.
func TestToBitmapFastPathsAgree(t *testing.T) {
	rgba := image.NewRGBA(image.Rect(0, 0, 40, 10))
	nrgba := image.NewNRGBA(rgba.Rect)
	gray := image.NewGray(rgba.Rect)
	for y := 0; y < 10; y++ {
		for x := 0; x < 40; x++ {
			c := color.NRGBA{uint8(x * 6), uint8(y * 25), uint8(x * y), uint8(255 - x*3)}
			rgba.Set(x, y, c)
			nrgba.Set(x, y, c)
			gray.Set(x, y, c)
		}
	}
	type generic struct{ image.Image }
	for _, dither := range []bool{false, true} {
		for name, img := range map[string]image.Image{"rgba": rgba, "nrgba": nrgba} {
			want := ToBitmap(generic{img}, 32, dither)
			got := ToBitmap(img, 32, dither)
			if string(got.Pix) != string(want.Pix) {
				t.Errorf("%s dither=%v: fast path differs from image.At", name, dither)
			}
		}
		if string(ToBitmap(gray, 32, dither).Pix) != string(ToBitmap(generic{gray}, 32, dither).Pix) {
			t.Errorf("gray dither=%v: fast path differs", dither)
		}
	}
	sub := rgba.SubImage(image.Rect(5, 2, 37, 10))
	if got, want := ToBitmap(sub, 0, true), ToBitmap(generic{sub}, 0, true); string(got.Pix) != string(want.Pix) {
		t.Errorf("sub-image: fast path differs from image.At")
	}
	if b := ToBitmap(rgba, 32, false); b.W != 32 || b.H != 8 {
		t.Errorf("scaled to %dx%d, want 32x8", b.W, b.H)
	}
}

func TestDitherKeepsGrey(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range g.Pix {
		g.Pix[i] = 128
	}
	count := func(b *Bitmap) (n int) {
		for y := 0; y < b.H; y++ {
			for x := 0; x < b.W; x++ {
				if b.At(x, y) {
					n++
				}
			}
		}
		return n
	}
	if n := count(ToBitmap(g, 0, false)); n != 0 {
		t.Errorf("threshold of mid grey printed %d dots, want none", n)
	}
	if n := count(ToBitmap(g, 0, true)); n < 64*64*4/10 || n > 64*64*6/10 {
		t.Errorf("dither of mid grey printed %d of %d dots, want about half", n, 64*64)
	}
}

// TestQRCapacityTable checks qrByteCapacityM against the QR encoder: the
// capacity of each version fits it, one byte more does not.
func TestQRCapacityTable(t *testing.T) {
	for v, c := range qrByteCapacityM {
		data := strings.Repeat("a", c) // lower case forces byte mode
		n, err := QRModules(data, QRLevelM)
		if err != nil {
			t.Fatal(err)
		}
		if want := 17 + 4*(v+1); n != want {
			t.Errorf("%d bytes: %d modules, want %d (version %d)", c, n, want, v+1)
		}
		if v < 39 {
			if n, _ := QRModules(data+"a", QRLevelM); n != 17+4*(v+2) {
				t.Errorf("%d bytes: %d modules, want version %d", c+1, n, v+2)
			}
		}
	}
}
