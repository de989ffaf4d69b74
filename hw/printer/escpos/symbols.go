package escpos

import "fmt"

// maxBand is the most rows sent in one GS v 0 command. Large images go in
// bands: some printers' receive buffers cannot hold a whole QR code or logo,
// and bands print without gaps.
const maxBand = 255

// Raster (GS v 0 m xL xH yL yH d1...dk) prints b at normal density, k =
// (xL + xH×256) × (yL + yH×256) bytes, in bands of at most 255 rows.
func (e *Encoder) Raster(b *Bitmap) error {
	if b.W <= 0 || b.H <= 0 {
		return nil
	}
	if b.W > e.profile.Dots {
		return fmt.Errorf("escpos: image %d dots wide exceeds the paper's %d", b.W, e.profile.Dots)
	}
	stride := b.Stride()
	for y := 0; y < b.H; y += maxBand {
		h := min(maxBand, b.H-y)
		e.buf = append(e.buf, GS, 'v', '0', 0, byte(stride), byte(stride>>8), byte(h), byte(h>>8))
		e.buf = append(e.buf, b.Pix[y*stride:(y+h)*stride]...)
	}
	return nil
}

// QROptions are the parameters of a native QR code.
type QROptions struct {
	// Module is the module size in dots, 1-16.
	Module int
	// Level is the error correction level; zero means M.
	Level QRLevel
}

// maxQRData is the most data bytes GS ( k function 180 stores (a version
// 40 symbol at level L in byte mode holds 2953, the command allows 7089).
const maxQRData = 7089

// QR prints data as a native QR code (model 2) with the GS ( k function
// group: select model (165), module size (167), error correction (169),
// store the data (180), print it (181). Every function is GS ( k pL pH cn
// fn ..., where pL + pH×256 counts the bytes after pH; for store that is
// len(data) + 3 (cn, fn and m).
func (e *Encoder) QR(data string, o QROptions) error {
	if o.Level == 0 {
		o.Level = QRLevelM
	}
	if _, err := o.Level.level(); err != nil {
		return err
	}
	if o.Module < 1 || o.Module > 16 {
		return fmt.Errorf("escpos: QR module size %d out of range 1-16", o.Module)
	}
	if len(data) == 0 || len(data) > maxQRData {
		return fmt.Errorf("escpos: QR data of %d bytes (want 1-%d)", len(data), maxQRData)
	}
	e.buf = append(e.buf,
		GS, '(', 'k', 4, 0, 49, 65, 50, 0, // model 2
		GS, '(', 'k', 3, 0, 49, 67, byte(o.Module),
		GS, '(', 'k', 3, 0, 49, 69, byte(o.Level),
	)
	n := len(data) + 3
	e.buf = append(e.buf, GS, '(', 'k', byte(n), byte(n>>8), 49, 80, 48)
	e.buf = append(e.buf, data...)
	e.buf = append(e.buf, GS, '(', 'k', 3, 0, 49, 81, 48)
	return nil
}

// QRRaster prints data as a QR code drawn here and sent as a raster image,
// for printers without GS ( k. The symbol is the same one QRBitmap draws.
func (e *Encoder) QRRaster(data string, o QROptions) error {
	if o.Level == 0 {
		o.Level = QRLevelM
	}
	if o.Module < 1 || o.Module > 16 {
		return fmt.Errorf("escpos: QR module size %d out of range 1-16", o.Module)
	}
	bits, err := qrBits(data, o.Level)
	if err != nil {
		return err
	}
	return e.Raster(scaleQR(bits, o.Module))
}

// BarcodeOptions shape a one-dimensional barcode.
type BarcodeOptions struct {
	// Height in dots, 1-255.
	Height int
	// Module is the narrow bar width in dots, 2-6.
	Module int
	// HRI prints the human-readable text below the bars.
	HRI bool
}

// Code128 prints data (printable ASCII) as a CODE128 barcode in code set B:
// GS h (height), GS w (module width), GS H (HRI position), then GS k m=73
// n d1...dn, where the data starts with "{B" and a literal '{' is sent as
// "{{".
func (e *Encoder) Code128(data string, o BarcodeOptions) error {
	if o.Height < 1 || o.Height > 255 {
		return fmt.Errorf("escpos: barcode height %d out of range 1-255", o.Height)
	}
	if o.Module < 2 || o.Module > 6 {
		return fmt.Errorf("escpos: barcode module %d out of range 2-6", o.Module)
	}
	body := make([]byte, 0, len(data)+4)
	body = append(body, '{', 'B')
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c < 0x20 || c > 0x7e {
			return fmt.Errorf("escpos: CODE128 set B cannot hold byte %#x", c)
		}
		if c == '{' {
			body = append(body, '{')
		}
		body = append(body, c)
	}
	if len(data) == 0 || len(body) > 255 {
		return fmt.Errorf("escpos: CODE128 data of %d bytes (want 1-253)", len(data))
	}
	hri := byte(0)
	if o.HRI {
		hri = 2
	}
	e.buf = append(e.buf, GS, 'h', byte(o.Height), GS, 'w', byte(o.Module), GS, 'H', hri, GS, 'k', 73, byte(len(body)))
	e.buf = append(e.buf, body...)
	return nil
}
