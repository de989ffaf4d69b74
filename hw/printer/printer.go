// Package printer defines receipt printers: a Receipt is a printer-neutral
// list of blocks (text, rules, QR codes, images, cuts), and a Printer turns it
// into paper. The ESC/POS encoder, the transports, the text printer and the
// virtual printer that renders previews live in subpackages.
package printer

import (
	"context"
	"image"
	"strings"
)

// Align is horizontal alignment.
type Align uint8

const (
	Left Align = iota
	Center
	Right
)

// Style is how a text block is printed.
type Style struct {
	Align     Align
	Bold      bool
	Underline bool
	// Width and Height are character magnification, 1 (normal) to 8.
	Width, Height int
}

// Block is one element of a receipt. It is a closed set: Text, Pair, Rule,
// QR, Image, Barcode, Feed, Cut.
type Block interface{ isBlock() }

// Text is a paragraph, wrapped to the paper width (CJK counts double).
type Text struct {
	Text  string
	Style Style
}

// Pair is a label on the left and a value on the right of one line.
type Pair struct {
	Label, Value string
	Bold         bool
}

// Rule is a full-width separator line.
type Rule struct{}

// QR is a QR code, printed natively or as a raster image.
type QR struct {
	Data string
	// Size is the module size in dots (1-16); 0 picks a default.
	Size int
}

// Image is a raster image (a logo), thresholded or dithered to 1 bit.
type Image struct {
	Img    image.Image
	Dither bool
}

// Barcode is a CODE128 barcode.
type Barcode struct {
	Data string
	HRI  bool // print the human-readable text below
}

// Feed advances the paper by Lines lines.
type Feed struct{ Lines int }

// Cut cuts the paper (after feeding it past the cutter).
type Cut struct{ Partial bool }

func (Text) isBlock()    {}
func (Pair) isBlock()    {}
func (Rule) isBlock()    {}
func (QR) isBlock()      {}
func (Image) isBlock()   {}
func (Barcode) isBlock() {}
func (Feed) isBlock()    {}
func (Cut) isBlock()     {}

// Receipt is one printout.
type Receipt struct {
	// Name identifies the receipt in previews and logs ("pay_x-customer").
	Name   string
	Blocks []Block
}

// Status is what a printer reports about itself.
type Status struct {
	Online       bool   `json:"online"`
	CoverOpen    bool   `json:"cover_open"`
	PaperNearEnd bool   `json:"paper_near_end"`
	PaperOut     bool   `json:"paper_out"`
	Error        bool   `json:"error"`
	Detail       string `json:"detail,omitempty"`
}

// Ready reports whether a receipt can be printed now.
func (s Status) Ready() bool { return s.Online && !s.CoverOpen && !s.PaperOut && !s.Error }

// Printer prints receipts.
type Printer interface {
	Print(ctx context.Context, r Receipt) error
	Status(ctx context.Context) (Status, error)
}

// DrawerKicker is implemented by printers that can open a cash drawer.
type DrawerKicker interface {
	KickDrawer(ctx context.Context) error
}

// Problems lists what keeps the printer from printing or needs attention,
// in words for a cashier: "offline", "cover open", "paper out", "paper near
// end", "error". Empty when all is well.
func (s Status) Problems() []string {
	var p []string
	if !s.Online {
		p = append(p, "offline")
	}
	if s.CoverOpen {
		p = append(p, "cover open")
	}
	if s.PaperOut {
		p = append(p, "paper out")
	}
	if s.PaperNearEnd {
		p = append(p, "paper near end")
	}
	if s.Error {
		p = append(p, "error")
	}
	return p
}

// NotReadyError is the cause of a Print refused because the printer said it
// cannot print (paper out, cover open, offline, error). It is wrapped in a
// *pos.Error of kind Unavailable: keep the receipt and print it when Status
// is Ready again.
type NotReadyError struct{ Status Status }

func (e *NotReadyError) Error() string {
	p := e.Status.Problems()
	if len(p) == 0 {
		return "printer not ready"
	}
	return "printer not ready: " + strings.Join(p, ", ")
}
