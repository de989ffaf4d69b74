package escpos

import (
	"fmt"
	"image"
	"image/color"

	"github.com/posagent/posagent/hw/qr"
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
	sxs := make([]int, w)
	for x := range sxs {
		sxs[x] = r.Min.X + (2*x+1)*r.Dx()/(2*w)
	}
	lum := make([]int16, w*h)
	at := lumFunc(img)
	for y := 0; y < h; y++ {
		sy := r.Min.Y + (2*y+1)*r.Dy()/(2*h)
		row := lum[y*w : (y+1)*w]
		if m, ok := img.(*image.RGBA); ok {
			// The common case, a decoded PNG, without a call per pixel.
			base := m.PixOffset(m.Rect.Min.X, sy)
			for x, sx := range sxs {
				i := base + (sx-m.Rect.Min.X)*4
				p := m.Pix[i : i+4 : i+4]
				row[x] = lum16(uint32(p[0])*0x101, uint32(p[1])*0x101, uint32(p[2])*0x101, uint32(p[3])*0x101)
			}
			continue
		}
		for x, sx := range sxs {
			row[x] = at(sx, sy)
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

// lumFunc returns the luminance of img's pixels, reading the common image
// types directly: image.At boxes a color per pixel, which dominated the
// cost of encoding a receipt with a logo. Each reader computes exactly what
// luminance(img.At(x, y)) would.
func lumFunc(img image.Image) func(x, y int) int16 {
	switch m := img.(type) {
	case *image.RGBA:
		return func(x, y int) int16 {
			p := m.Pix[m.PixOffset(x, y):]
			return lum16(uint32(p[0])*0x101, uint32(p[1])*0x101, uint32(p[2])*0x101, uint32(p[3])*0x101)
		}
	case *image.NRGBA:
		return func(x, y int) int16 {
			p := m.Pix[m.PixOffset(x, y):]
			a := uint32(p[3]) * 0x101
			return lum16(uint32(p[0])*0x101*a/0xffff, uint32(p[1])*0x101*a/0xffff, uint32(p[2])*0x101*a/0xffff, a)
		}
	case *image.Gray:
		return func(x, y int) int16 { return int16(m.Pix[m.PixOffset(x, y)]) }
	}
	return func(x, y int) int16 { return luminance(img.At(x, y)) }
}

// luminance is Rec. 601 luma over a white background, 0-255.
func luminance(c color.Color) int16 { return lum16(c.RGBA()) }

// lum16 is luminance of premultiplied 16-bit channels.
func lum16(r, g, b, a uint32) int16 {
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

func (l QRLevel) level() (qr.Level, error) {
	switch l {
	case QRLevelL:
		return qr.L, nil
	case QRLevelM:
		return qr.M, nil
	case QRLevelQ:
		return qr.Q, nil
	case QRLevelH:
		return qr.H, nil
	}
	return 0, fmt.Errorf("escpos: QR error level %d (want 48-51)", l)
}

// qrBits is the module matrix of data's QR code (model 2) at level, with
// no quiet zone. It comes from hw/qr, which encodes a symbol once: the
// merchant's and the customer's receipt carry the same one. The rows are
// shared: read only.
func qrBits(data string, level QRLevel) ([][]bool, error) {
	l, err := level.level()
	if err != nil {
		return nil, err
	}
	s, err := qr.Encode(data, l)
	if err != nil {
		return nil, fmt.Errorf("escpos: QR code: %w", err)
	}
	return s.Rows(), nil
}

// QRBitmap draws data as a QR code (model 2) with each module module×module
// dots, without a quiet zone (the paper around it is one). It is how a
// printer without GS ( k prints a QR code, and how the virtual printer
// renders one that was sent natively.
func QRBitmap(data string, module int, level QRLevel) (*Bitmap, error) {
	if module < 1 || module > 16 {
		return nil, fmt.Errorf("escpos: QR module size %d out of range 1-16", module)
	}
	bits, err := qrBits(data, level)
	if err != nil {
		return nil, err
	}
	return scaleQR(bits, module), nil
}

func scaleQR(bits [][]bool, module int) *Bitmap {
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
	return b
}

// QRModules is the number of modules per side of data's QR code at level.
func QRModules(data string, level QRLevel) (int, error) {
	bits, err := qrBits(data, level)
	if err != nil {
		return 0, err
	}
	return len(bits), nil
}

// qrByteCapacityM is how many bytes a QR code of version i+1 holds in byte
// mode at error level M (ISO/IEC 18004 table 7; checked against the
// encoder in a test). Byte mode is the least dense, so it bounds the
// version of any data of that length, whatever modes an encoder picks.
var qrByteCapacityM = [40]int{
	14, 26, 42, 62, 84, 106, 122, 152, 180, 213,
	251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
	711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370,
	1452, 1538, 1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331,
}

// qrMaxModulesM bounds the modules per side of a level-M QR code of n data
// bytes without encoding it; 0 when it does not fit version 40.
func qrMaxModulesM(n int) int {
	for i, c := range qrByteCapacityM {
		if n <= c {
			return 17 + 4*(i+1)
		}
	}
	return 0
}
