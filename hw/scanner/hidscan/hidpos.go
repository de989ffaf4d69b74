package hidscan

import (
	"fmt"

	"github.com/posagent/posagent/hw/scanner/framing"
)

// HID-POS barcode scanner input report (usage page 0x8C, HID Point of Sale
// Usage Tables 1.02, as scanners in "HID POS" mode lay it out): report ID,
// length of the data in this report, the three-byte AIM symbology
// identifier, 56 data bytes, a further vendor symbology byte, a reserved
// byte, and a flag byte whose bit 0 says the code continues in the next
// report.
const (
	posDefaultReportID = 0x02
	posHeaderLen       = 5 // ID, length, AIM x3
	posDataLen         = 56
	posFlagsAt         = 63
	posReportLen       = 64
	posContinued       = 0x01
)

// POSDecoder assembles HID-POS barcode reports into codes.
type POSDecoder struct {
	// ReportID of the barcode input report. Default 0x02.
	ReportID byte
	// MaxLen is the longest code accepted; a longer one is dropped whole.
	// Default framing.DefaultMaxLen.
	MaxLen int

	buf      []byte
	sym      string
	n        int  // data bytes received for the code in progress
	active   bool // a code is in progress
	overflow bool
}

// Reset drops a code in progress, as after a disconnect. It returns the
// dropped frame, if there was one.
func (d *POSDecoder) Reset() (framing.Frame, bool) {
	if !d.active {
		return framing.Frame{}, false
	}
	fr := framing.Frame{Len: d.n, Err: framing.ErrCutShort}
	d.clear()
	return fr, true
}

func (d *POSDecoder) clear() {
	d.buf, d.sym, d.n, d.active, d.overflow = d.buf[:0], "", 0, false, false
}

// Decode takes one input report. It returns a frame when the report ends a
// code (Data set) or ends it badly (Err set); ok is false while a code is
// still arriving or when the report is not a barcode report.
func (d *POSDecoder) Decode(report []byte) (fr framing.Frame, ok bool) {
	id := d.ReportID
	if id == 0 {
		id = posDefaultReportID
	}
	maxLen := d.MaxLen
	if maxLen == 0 {
		maxLen = framing.DefaultMaxLen
	}
	if len(report) == 0 || report[0] != id {
		return framing.Frame{}, false
	}
	if len(report) < posHeaderLen {
		return d.fail(fmt.Errorf("%w: short barcode report (%d bytes)", framing.ErrGarbled, len(report)))
	}
	n := int(report[1])
	if n > posDataLen || posHeaderLen+n > len(report) {
		return d.fail(fmt.Errorf("%w: barcode report claims %d data bytes in %d", framing.ErrGarbled, n, len(report)))
	}
	if !d.active {
		d.active = true
		if aim := report[2:5]; aim[0] == ']' {
			d.sym = string(aim)
		}
	}
	d.n += n
	if !d.overflow {
		if len(d.buf)+n > maxLen {
			d.overflow = true
			d.buf = d.buf[:0]
		} else {
			d.buf = append(d.buf, report[posHeaderLen:posHeaderLen+n]...)
		}
	}
	if len(report) >= posReportLen && report[posFlagsAt]&posContinued != 0 {
		return framing.Frame{}, false
	}
	fr = framing.Frame{Len: d.n, Symbology: d.sym}
	switch {
	case d.overflow:
		fr.Err, fr.Symbology = framing.ErrTooLong, ""
	case len(d.buf) == 0:
		fr.Err, fr.Symbology = framing.ErrEmptyCode, ""
	default:
		fr.Data = string(d.buf)
	}
	d.clear()
	return fr, true
}

func (d *POSDecoder) fail(err error) (framing.Frame, bool) {
	fr := framing.Frame{Len: d.n, Err: err}
	d.clear()
	return fr, true
}
