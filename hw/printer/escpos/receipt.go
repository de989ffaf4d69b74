package escpos

import (
	"fmt"
	"strings"

	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/internal/textwrap"
)

// EncodeOptions choose between ways of printing the same receipt.
type EncodeOptions struct {
	// RasterQR draws QR codes here and sends them as images instead of
	// GS ( k. Printers whose profile lacks NativeQR always get raster QR.
	RasterQR bool
}

// Encode lays r out for a printer described by p and returns the ESC/POS
// stream, starting with Initialize. Text is wrapped to the profile's columns
// (divided by the character width); each block sets the styles it needs
// and restores the defaults, so blocks are independent.
func Encode(r printer.Receipt, p Profile, o EncodeOptions) ([]byte, error) {
	e := NewEncoder(p)
	if err := e.Receipt(r, o); err != nil {
		return nil, err
	}
	return e.Bytes(), nil
}

// Receipt appends r, as Encode does.
func (e *Encoder) Receipt(r printer.Receipt, o EncodeOptions) error {
	e.Initialize()
	for i, b := range r.Blocks {
		if err := e.block(b, o); err != nil {
			return fmt.Errorf("escpos: receipt %q block %d (%T): %w", r.Name, i, b, err)
		}
	}
	return nil
}

func (e *Encoder) block(b printer.Block, o EncodeOptions) error {
	p := e.profile
	switch b := b.(type) {
	case printer.Text:
		return e.text(b)
	case printer.Pair:
		if b.Bold {
			e.Bold(true)
		}
		for _, l := range textwrap.Pair(b.Label, b.Value, p.Columns, p.RuneWidth) {
			e.Text(l)
			e.LineFeed()
		}
		if b.Bold {
			e.Bold(false)
		}
	case printer.Rule:
		e.Text(strings.Repeat("-", p.Columns))
		e.LineFeed()
	case printer.QR:
		module := b.Size
		if module == 0 {
			module = p.QRModule
		}
		e.Align(printer.Center)
		var err error
		if p.NativeQR && !o.RasterQR {
			// The printer draws the symbol; bound its size from the data
			// length, and encode it here only when the bound does not fit.
			n := qrMaxModulesM(len(b.Data))
			if n == 0 || n*module > p.Dots {
				if n, err = QRModules(b.Data, QRLevelM); err != nil {
					return err
				}
			}
			err = e.QR(b.Data, QROptions{Module: fitModule(module, n, p.Dots), Level: QRLevelM})
		} else {
			var bits [][]bool
			if bits, err = qrBits(b.Data, QRLevelM); err != nil {
				return err
			}
			err = e.Raster(scaleQR(bits, fitModule(module, len(bits), p.Dots)))
		}
		e.Align(printer.Left)
		return err
	case printer.Image:
		if b.Img == nil {
			return nil
		}
		e.Align(printer.Center)
		err := e.Raster(ToBitmap(b.Img, p.Dots, b.Dither))
		e.Align(printer.Left)
		return err
	case printer.Barcode:
		e.Align(printer.Center)
		err := e.Code128(b.Data, BarcodeOptions{Height: 80, Module: 2, HRI: b.HRI})
		e.Align(printer.Left)
		return err
	case printer.Feed:
		return e.Feed(b.Lines)
	case printer.Cut:
		e.FeedCut(b.Partial, 0)
	default:
		return fmt.Errorf("unknown block type")
	}
	return nil
}

// fitModule shrinks a module size until n modules fit in dots.
func fitModule(module, n, dots int) int {
	for module > 1 && n*module > dots {
		module--
	}
	return module
}

func (e *Encoder) text(b printer.Text) error {
	p := e.profile
	st := b.Style
	w, h := max(st.Width, 1), max(st.Height, 1)
	if st.Align != printer.Left {
		e.Align(st.Align)
	}
	if st.Bold {
		e.Bold(true)
	}
	if st.Underline {
		if err := e.Underline(1); err != nil {
			return err
		}
	}
	sized := w != 1 || h != 1
	if sized {
		if err := e.Size(w, h); err != nil {
			return err
		}
	}
	cjk := false
	for _, r := range b.Text {
		if p.Chinese && p.RuneWidth(r) == 2 {
			cjk = true
			break
		}
	}
	// Chinese characters take FS ! for their own double size and underline
	// on the printers that ignore GS ! and ESC - in Chinese mode.
	cstyle := cjk && (w >= 2 || h >= 2 || st.Underline)
	if cstyle {
		e.ChineseStyle(w >= 2, h >= 2, st.Underline)
	}
	for _, l := range textwrap.Lines(b.Text, p.Columns/w, p.RuneWidth) {
		e.Text(l)
		e.LineFeed()
	}
	if cstyle {
		e.ChineseStyle(false, false, false)
	}
	if sized {
		_ = e.Size(1, 1)
	}
	if st.Underline {
		_ = e.Underline(0)
	}
	if st.Bold {
		e.Bold(false)
	}
	if st.Align != printer.Left {
		e.Align(printer.Left)
	}
	return nil
}
