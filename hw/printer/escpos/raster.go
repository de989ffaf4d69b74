package escpos

import (
	"fmt"
	"image"
	"image/color"

	"github.com/skip2/go-qrcode"
)

// Bitmap is a 1-bit image in the layout of GS v 0: rows of (W+7)/8 bytes,
// most significant bit leftmost, 1 printing black.
type Bitmap struct {
	W, H int
	Pix  []byte
}

// NewBitmap returns a white w×h bitmap.
func NewBitmap(w, h int) *Bitmap {
	return &Bitmap{W: w, H: h, Pix: make([]byte, (w+7)/8*h)}
}

// Stride is the number of bytes in a row.
func (b *Bitmap) Stride() int { return (b.W + 7) / 8 }

// Set blackens the dot at x, y.
func (b *Bitmap) Set(x, y int) { b.Pix[y*b.Stride()+x/8] |= 0x80 >> (x % 8) }

// At reports whether the dot at x, y is black.
func (b *Bitmap) At(x, y int) bool { return b.Pix[y*b.Stride()+x/8]&(0x80>>(x%8)) != 0 }

// Image returns the bitmap as a black-on-white image.
func (b *Bitmap) Image() *image.Gray {
	img := image.NewGray(image.Rect(0, 0, b.W, b.H))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := 0; y < b.H; y++ {
		for x := 0; x < b.W; x++ {
			if b.At(x, y) {
				img.Pix[y*img.Stride+x] = 0
			}
		}
	}
	return img
}

// ToBitmap converts img to one bit per dot, no wider than maxWidth (scaled
// down, never up). Transparent pixels are paper. With dither it diffuses
// the error (Floyd-Steinberg), which keeps the shading of a photo-like logo;
// without, it thresholds at half grey, which keeps line art crisp.
func ToBitmap(img image.Image, maxWidth int, dither bool) *Bitmap {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	if w == 0 || h == 0 {
		return NewBitmap(0, 0)
	}
	if maxWidth > 0 && w > maxWidth {
		h = h * maxWidth / w
		if h < 1 {
			h = 1
		}
		w = maxWidth
	}
	// Luminance 0 (black) to 255 (white) of each output dot, sampled from the
	// centre of the source area it covers.
	lum := make([]int16, w*h)
	for y := 0; y < h; y++ {
		sy := r.Min.Y + (2*y+1)*r.Dy()/(2*h)
		for x := 0; x < w; x++ {
			sx := r.Min.X + (2*x+1)*r.Dx()/(2*w)
			lum[y*w+x] = luminance(img.At(sx, sy))
		}
	}
	b := NewBitmap(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			old := lum[y*w+x]
			black := old < 128
			if black {
				b.Set(x, y)
			}
			if !dither {
				continue
			}
			e := old
			if !black {
				e = old - 255
			}
			if x+1 < w {
				lum[y*w+x+1] += e * 7 / 16
			}
			if y+1 < h {
				if x > 0 {
					lum[(y+1)*w+x-1] += e * 3 / 16
				}
				lum[(y+1)*w+x] += e * 5 / 16
				if x+1 < w {
					lum[(y+1)*w+x+1] += e / 16
				}
			}
		}
	}
	return b
}

// luminance is Rec. 601 luma over a white background, 0-255.
func luminance(c color.Color) int16 {
	r, g, b, a := c.RGBA() // premultiplied, 0-0xffff
	// Composite over white: c + (1-a)*white.
	r += 0xffff - a
	g += 0xffff - a
	b += 0xffff - a
	y := (299*r + 587*g + 114*b) / 1000
	return int16(y >> 8)
}

// QRLevel is a QR error correction level.
type QRLevel byte

// QR error correction levels, valued as GS ( k function 169 wants them.
const (
	QRLevelL QRLevel = 48 // 7%
	QRLevelM QRLevel = 49 // 15%
	QRLevelQ QRLevel = 50 // 25%
	QRLevelH QRLevel = 51 // 30%
)

func (l QRLevel) recovery() (qrcode.RecoveryLevel, error) {
	switch l {
	case QRLevelL:
		return qrcode.Low, nil
	case QRLevelM:
		return qrcode.Medium, nil
	case QRLevelQ:
		return qrcode.High, nil
	case QRLevelH:
		return qrcode.Highest, nil
	}
	return 0, fmt.Errorf("escpos: QR error level %d (want 48-51)", l)
}

// QRBitmap draws data as a QR code (model 2) with each module module×module
// dots, without a quiet zone (the paper around it is one). It is how a
// printer without GS ( k prints a QR code, and how the virtual printer
// renders one that was sent natively.
func QRBitmap(data string, module int, level QRLevel) (*Bitmap, error) {
	rl, err := level.recovery()
	if err != nil {
		return nil, err
	}
	if module < 1 || module > 16 {
		return nil, fmt.Errorf("escpos: QR module size %d out of range 1-16", module)
	}
	q, err := qrcode.New(data, rl)
	if err != nil {
		return nil, fmt.Errorf("escpos: QR code: %w", err)
	}
	q.DisableBorder = true
	bits := q.Bitmap()
	n := len(bits)
	b := NewBitmap(n*module, n*module)
	stride := b.Stride()
	for y, row := range bits {
		for x, black := range row {
			if !black {
				continue
			}
			for dy := 0; dy < module; dy++ {
				line := b.Pix[(y*module+dy)*stride:]
				for dx := 0; dx < module; dx++ {
					px := x*module + dx
					line[px/8] |= 0x80 >> (px % 8)
				}
			}
		}
	}
	return b, nil
}

// QRModules is the number of modules per side of data's QR code at level.
func QRModules(data string, level QRLevel) (int, error) {
	rl, err := level.recovery()
	if err != nil {
		return 0, err
	}
	q, err := qrcode.New(data, rl)
	if err != nil {
		return 0, fmt.Errorf("escpos: QR code: %w", err)
	}
	q.DisableBorder = true
	return len(q.Bitmap()), nil
}
