// Package termdisplay is a customer display on a text terminal: each screen
// is written as a short block of lines, and a merchant QR is drawn with
// Unicode half blocks so a phone can scan it off the screen. It is the
// demo's display and a fallback for tills with a second console.
package termdisplay

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/skip2/go-qrcode"

	"github.com/posagent/posagent/hw/display"
)

// Display writes screens to W.
type Display struct {
	mu sync.Mutex
	w  io.Writer
	// Prefix starts every line, so the display is told apart from logs.
	prefix string
}

var _ display.Display = (*Display)(nil)

// New returns a display writing to w with each line prefixed (default
// "│ display │ ").
func New(w io.Writer, prefix string) *Display {
	if prefix == "" {
		prefix = "│ display │ "
	}
	return &Display{w: w, prefix: prefix}
}

// Show writes one screen.
func (d *Display) Show(ctx context.Context, s display.Screen) error {
	lines := Render(s)
	d.mu.Lock()
	defer d.mu.Unlock()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(d.prefix)
		b.WriteString(l)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(d.w, b.String())
	return err
}

// Render returns a screen's lines, without the prefix.
func Render(s display.Screen) []string {
	var lines []string
	amount := ""
	if s.Amount.Currency.Valid() {
		amount = s.Amount.String()
	}
	switch s.Kind {
	case display.Idle:
		lines = append(lines, "Welcome")
	case display.ScanPrompt:
		lines = append(lines, "Amount due: "+amount, s.Message)
	case display.ShowQR:
		lines = append(lines, "Amount due: "+amount, s.Message)
		q, err := QRLines(s.QR.Reveal())
		if err != nil {
			lines = append(lines, "(QR could not be drawn: "+err.Error()+")")
		}
		lines = append(lines, q...)
	case display.Processing:
		lines = append(lines, fmt.Sprintf("%s  %s", amount, s.Wallet.DisplayName()), s.Message)
	case display.Result:
		lines = append(lines, fmt.Sprintf("%s  %s  %s", amount, s.Wallet.DisplayName(), strings.ToUpper(string(s.State))), s.Message)
	case display.Rejected:
		lines = append(lines, "Amount due: "+amount, "Code not accepted: "+s.Message)
	default:
		lines = append(lines, s.Message)
	}
	return lines
}

// QRLines draws data as a QR code with two modules per character cell
// (upper and lower half blocks) and a quiet zone, dark modules as blocks.
func QRLines(data string) ([]string, error) {
	q, err := qrcode.New(data, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("termdisplay: encoding QR: %w", err)
	}
	bm := q.Bitmap() // includes the quiet zone
	var out []string
	for y := 0; y < len(bm); y += 2 {
		var b strings.Builder
		for x := range bm[y] {
			top := bm[y][x]
			bottom := y+1 < len(bm) && bm[y+1][x]
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		out = append(out, b.String())
	}
	return out, nil
}
