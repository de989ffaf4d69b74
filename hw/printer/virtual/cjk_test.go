package virtual

import (
	"bytes"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/escpos"
)

// chineseLine is ESC @, FS & (Chinese mode), text in GB18030, LF.
func chineseLine(t *testing.T, text string) []byte {
	t.Helper()
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte{0x1b, 0x40, 0x1c, 0x26}, gb...), 0x0a)
}

// cellBits is the 24x24 cell at column i (of double-width characters) of
// the first line of img, row by row as the font's glyph rows are.
func cellBits(img *image.Paletted, i int) [cellH]uint32 {
	var rows [cellH]uint32
	for y := 0; y < cellH; y++ {
		for x := 0; x < 2*cellW; x++ {
			if img.ColorIndexAt(margin+2*cellW*i+x, margin+y) == 1 {
				rows[y] |= 1 << (2*cellW - 1 - x)
			}
		}
	}
	return rows
}

func ink(rows [cellH]uint32) (n int) {
	for _, r := range rows {
		for ; r != 0; r &= r - 1 {
			n++
		}
	}
	return n
}

// TestChineseIsDrawnWithTheCJKFont renders 支付成功 at the printer's
// 24-dot size: each cell is exactly the font's glyph for its character,
// the four differ from each other and from the placeholder box drawn
// without a font.
func TestChineseIsDrawnWithTheCJKFont(t *testing.T) {
	f, err := FindCJKFont()
	if err != nil {
		t.Skipf("no CJK font installed, so Chinese cannot be checked: %v (CI installs fonts-noto-cjk)", err)
	}
	t.Logf("CJK font: %s", f.Path())
	const text = "支付成功"
	stream := chineseLine(t, text)
	img, err := RenderWith(stream, escpos.Profile80, f)
	if err != nil {
		t.Fatal(err)
	}
	boxes, err := RenderWith(stream, escpos.Profile80, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cells [][cellH]uint32
	for i, r := range []rune(text) {
		got, box := cellBits(img, i), cellBits(boxes, i)
		want := f.glyph(r)
		if want == nil {
			t.Fatalf("the font has no %c", r)
		}
		if got != *want {
			t.Errorf("%c is not drawn as the font's glyph", r)
		}
		if got == box {
			t.Errorf("%c is drawn as the placeholder box", r)
		}
		if n := ink(got); n < 40 || n > 24*24/2 {
			t.Errorf("%c has %d dots of ink: not a character", r, n)
		}
		cells = append(cells, got)
	}
	for i := range cells {
		for j := i + 1; j < len(cells); j++ {
			if cells[i] == cells[j] {
				t.Errorf("characters %d and %d of %s are drawn alike", i, j, text)
			}
		}
	}
	if cellBits(boxes, 0) != cellBits(boxes, 1) {
		t.Errorf("without a font every character should be the same box")
	}
}

// TestPrinterNamesItsFontOrSaysOnceItHasNone: a font named in the options
// is used; without any font the previews keep the boxes and the log says
// so once, however many receipts print.
func TestPrinterNamesItsFontOrSaysOnceItHasNone(t *testing.T) {
	var logs bytes.Buffer
	p := New(t.TempDir(), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	_, _ = SystemCJKFont() // look up the real font first, then pretend there is none
	saved, savedErr := systemFont, systemErr
	systemFont, systemErr = nil, os.ErrNotExist
	defer func() { systemFont, systemErr = saved, savedErr }()
	for range 3 {
		if err := p.Print(t.Context(), printer.Receipt{Name: "r", Blocks: []printer.Block{printer.Text{Text: "支付成功"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "receipt previews draw Chinese as boxes"); n != 1 {
		t.Errorf("the log says %d times that Chinese is boxes, want once:\n%s", n, logs.String())
	}
	if saved == nil {
		t.Skip("no CJK font installed: the font option is not checked")
	}
	named, err := OpenCJKFont(saved.Path())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p2 := New(dir, Options{CJK: named})
	if err := p2.Print(t.Context(), printer.Receipt{Name: "r", Blocks: []printer.Block{printer.Text{Text: "支付成功"}}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "r.png"))
	if err != nil || len(b) == 0 {
		t.Fatalf("no preview: %v", err)
	}
	if _, err := OpenCJKFont(filepath.Join(dir, "r.png")); err == nil {
		t.Errorf("a PNG was accepted as a font")
	}
}
