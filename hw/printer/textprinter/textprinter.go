// Package textprinter prints receipts as plain text to a file or any
// io.Writer: the printer of the skeleton and of headless tills, and a
// readable log of what was printed. Text is wrapped to a column count with
// CJK counting double, as on paper; QR codes, images and barcodes become
// one-line placeholders.
package textprinter

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/internal/textwrap"
)

// DefaultColumns is the width of an 80 mm receipt in Font A.
const DefaultColumns = 48

// Printer writes receipts as text. It is safe for concurrent use.
type Printer struct {
	mu      sync.Mutex
	w       io.Writer
	c       io.Closer // set when the Printer opened the file
	columns int
}

var _ printer.Printer = (*Printer)(nil)

// New returns a Printer writing to w, columns wide (DefaultColumns if 0).
func New(w io.Writer, columns int) *Printer {
	if columns <= 0 {
		columns = DefaultColumns
	}
	return &Printer{w: w, columns: columns}
}

// OpenFile returns a Printer appending to the file at path, creating it.
func OpenFile(path string, columns int) (*Printer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, pos.E(pos.Unavailable, "textprinter.OpenFile", err)
	}
	p := New(f, columns)
	p.c = f
	return p, nil
}

// Close closes the file OpenFile opened; it does nothing for New.
func (p *Printer) Close() error {
	if p.c == nil {
		return nil
	}
	return p.c.Close()
}

// Print writes r in one Write, so concurrent receipts do not interleave.
func (p *Printer) Print(ctx context.Context, r printer.Receipt) error {
	if err := ctx.Err(); err != nil {
		return pos.E(pos.Unavailable, "textprinter.Print", err)
	}
	s := Render(r, p.columns)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.w, s); err != nil {
		return pos.E(pos.Unavailable, "textprinter.Print", err)
	}
	return nil
}

// Status is always online: a writer has no paper to run out of.
func (p *Printer) Status(ctx context.Context) (printer.Status, error) {
	return printer.Status{Online: true, Detail: "text"}, nil
}

// Render lays r out as lines of text, columns wide.
func Render(r printer.Receipt, columns int) string {
	var b strings.Builder
	w := textwrap.EastAsian
	line := func(s string, a printer.Align) {
		switch pad := columns - textwrap.Width(s, w); {
		case pad <= 0 || a == printer.Left:
		case a == printer.Center:
			s = strings.Repeat(" ", pad/2) + s
		case a == printer.Right:
			s = strings.Repeat(" ", pad) + s
		}
		b.WriteString(strings.TrimRight(s, " "))
		b.WriteByte('\n')
	}
	for _, bl := range r.Blocks {
		switch bl := bl.(type) {
		case printer.Text:
			cols := columns / max(bl.Style.Width, 1)
			for _, l := range textwrap.Lines(bl.Text, cols, w) {
				line(l, bl.Style.Align)
			}
		case printer.Pair:
			for _, l := range textwrap.Pair(bl.Label, bl.Value, columns, w) {
				line(l, printer.Left)
			}
		case printer.Rule:
			line(strings.Repeat("-", columns), printer.Left)
		case printer.QR:
			line(fmt.Sprintf("[QR %s]", bl.Data), printer.Center)
		case printer.Image:
			line("[image]", printer.Center)
		case printer.Barcode:
			line(fmt.Sprintf("[CODE128 %s]", bl.Data), printer.Center)
		case printer.Feed:
			for range bl.Lines {
				b.WriteByte('\n')
			}
		case printer.Cut:
			line(strings.Repeat("=", columns), printer.Left)
		}
	}
	return b.String()
}
