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
	"time"

	"github.com/posagent/posagent/hw/qr"

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

// Render returns a screen's lines, without the prefix, in English: the
// words are display.WordsFor's, never Screen.Message (which may carry a
// gateway's error text; the log has it).
func Render(s display.Screen) []string {
	return RenderAt(s, time.Now())
}

// RenderAt is Render with the countdown as of now.
func RenderAt(s display.Screen, now time.Time) []string {
	w := display.WordsFor(s, display.English)
	var lines []string
	amount := ""
	if s.Amount.Currency.Valid() {
		amount = s.Amount.String()
	}
	left := ""
	if !s.Expires.IsZero() {
		secs := int64((max(s.Expires.Sub(now), 0) + time.Second - 1) / time.Second)
		left = fmt.Sprintf("%s %d:%02d", w.TimeLeft, secs/60, secs%60)
	}
	switch s.Kind {
	case display.Idle:
		lines = append(lines, w.Heading)
	case display.ScanPrompt:
		lines = append(lines, "Amount due: "+amount, w.Message)
	case display.ShowQR:
		lines = append(lines, "Amount due: "+amount+"  "+w.Wallet, w.Message)
		if left != "" {
			lines = append(lines, left)
		}
		q, err := QRLines(s.QR.Reveal())
		if err != nil {
			lines = append(lines, "(the QR code could not be drawn; please ask the cashier)")
		}
		lines = append(lines, q...)
	case display.Processing:
		lines = append(lines, strings.TrimSpace(fmt.Sprintf("%s  %s", amount, w.Wallet)), w.Message)
		if left != "" {
			lines = append(lines, left)
		}
	case display.Result:
		lines = append(lines, strings.TrimSpace(fmt.Sprintf("%s  %s  %s", amount, w.Wallet, strings.ToUpper(string(s.State)))), w.Heading+". "+w.Message)
	case display.Rejected:
		if amount != "" { // a payment the till refused before it began has none
			lines = append(lines, "Amount due: "+amount)
		}
		lines = append(lines, w.Heading+": "+w.Message)
	case display.Refunded:
		lines = append(lines, "Refund: "+amount+"  "+w.Wallet, w.Heading+". "+w.Message)
	case display.Withdrawn:
		// No QR, no countdown: the order may not be paid any more.
		lines = append(lines, strings.TrimSpace(amount+"  "+w.Wallet), w.Heading+". "+w.Message)
	default:
		lines = append(lines, w.Heading)
	}
	return lines
}

// QRLines draws data as a QR code with two modules per character cell
// (upper and lower half blocks) and a quiet zone, dark modules as blocks.
func QRLines(data string) ([]string, error) {
	s, err := qr.Encode(data, qr.M)
	if err != nil {
		return nil, fmt.Errorf("termdisplay: encoding QR: %w", err)
	}
	bm := withQuietZone(s.Rows(), 4)
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

// withQuietZone returns rows with quiet light modules added on every side
// (a new matrix: the symbol's rows are shared).
func withQuietZone(rows [][]bool, quiet int) [][]bool {
	n := len(rows) + 2*quiet
	out := make([][]bool, n)
	for y := range out {
		out[y] = make([]bool, n)
		if y >= quiet && y < quiet+len(rows) {
			copy(out[y][quiet:], rows[y-quiet])
		}
	}
	return out
}
