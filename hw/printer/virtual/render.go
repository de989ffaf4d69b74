// Package virtual is the virtual printer: it interprets an ESC/POS stream,
// every command the escpos encoder emits, and draws the paper a thermal
// printer would print, as a PNG beside the raw .bin. Demos and previews use
// it, so a receipt can be seen without a printer.
//
// Text is drawn in a 12×24 bitmap font (Font A's cell) rasterised once from
// Go Mono, with ESC/POS sizes, emphasis and underline. Characters printed
// in Chinese mode are drawn in a 24×24 cell (a printer's built-in Chinese
// font size) from a CJK font found on the system (fonts-noto-cjk and
// others, SystemCJKFonts) or named in the options; without one they are a
// placeholder box of the right double width, layout and wrapping still
// exact, and the printer says so once in its log. Native QR codes are drawn from their stored data with
// the same symbol a printer makes; raster images print as sent. A command
// it does not know is an error, never skipped.
package virtual

import (
	"fmt"
	"image"
	"image/color"
	"sort"
	"strings"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/posagent/posagent/hw/printer/escpos"
	"github.com/posagent/posagent/hw/printer/internal/tokenize"
)

// Geometry of the paper, in dots.
const (
	cellW, cellH = 12, 24 // Font A
	linePitch    = 30     // default line spacing (ESC 2): 30 dots at 203 dpi ≈ 3.75 mm
	margin       = 24     // unprintable paper at each side, for the look
)

// The two colours of the PNG.
var palette = color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0x20}}

// glyph is one character waiting in the line buffer.
type glyph struct {
	r         rune
	wide      bool // a Chinese-mode character: a double cell
	w, h      int  // magnification
	bold      bool
	underline int // dots
}

func (g glyph) width() int {
	if g.wide {
		return 2 * cellW * g.w
	}
	return cellW * g.w
}

func (g glyph) height() int { return cellH * g.h }

// state is the printer's modes.
type state struct {
	align      int
	bold       bool
	underline  int
	w, h       int // GS ! magnification
	kw, kh     int // Chinese character magnification (GS ! or FS !, last wins)
	kunderline bool
	codePage   int
	chinese    bool
	qrModel    int
	qrModule   int
	qrLevel    int
	qrData     []byte
	barH, barW int
	hri        int
}

func defaultState() state {
	return state{w: 1, h: 1, kw: 1, kh: 1, qrModel: 50, qrModule: 3, qrLevel: 48, barH: 162, barW: 3}
}

// paper is the printed roll: one byte per dot, 1 black.
type paper struct {
	width int
	pix   []byte
	y     int // the print position: the top of the next line
}

func (p *paper) grow(h int) {
	if need := (p.y + h) * p.width; need > len(p.pix) {
		p.pix = append(p.pix, make([]byte, need-len(p.pix))...)
	}
}

func (p *paper) set(x, y int) {
	if x >= 0 && x < p.width && y >= 0 {
		p.pix[y*p.width+x] = 1
	}
}

// renderer interprets commands onto paper.
type renderer struct {
	profile escpos.Profile
	cjk     *CJKFont // nil: boxes
	st      state
	paper   paper
	line    []glyph
	lineW   int
	cuts    []cut
}

type cut struct {
	y       int
	partial bool
}

// Render interprets stream for a printer of profile p and returns the
// paper, Chinese drawn with the system's CJK font when it has one.
func Render(stream []byte, p escpos.Profile) (*image.Paletted, error) {
	f, _ := SystemCJKFont()
	return RenderWith(stream, p, f)
}

// RenderWith is Render with Chinese drawn in cjk (nil: placeholder boxes).
func RenderWith(stream []byte, p escpos.Profile, cjk *CJKFont) (*image.Paletted, error) {
	cmds, err := tokenize.Parse(stream)
	if err != nil {
		return nil, err
	}
	r := &renderer{profile: p, cjk: cjk, st: defaultState(), paper: paper{width: p.Dots}}
	for _, c := range cmds {
		if err := r.do(c); err != nil {
			return nil, fmt.Errorf("virtual: offset %d (%s): %w", c.Off, c.Op, err)
		}
	}
	r.flush(false)
	return r.image(), nil
}

func (r *renderer) do(c tokenize.Cmd) error {
	st := &r.st
	arg := func(i int) int { return c.Args[i] }
	switch c.Op {
	case tokenize.Init:
		r.line, r.lineW = nil, 0 // ESC @ clears the print buffer
		*st = defaultState()
	case tokenize.Text:
		return r.text(c.Data, c.Chinese)
	case tokenize.LF:
		r.flush(true)
	case tokenize.FeedLines:
		r.flush(false)
		r.feed(arg(0) * linePitch)
	case tokenize.CodePage:
		if _, ok := codePage(r.profile, arg(0)); !ok {
			return fmt.Errorf("code page %d is not in profile %s", arg(0), r.profile.Name)
		}
		st.codePage = arg(0)
	case tokenize.Align:
		st.align = arg(0) % 48
	case tokenize.Bold:
		st.bold = arg(0)&1 == 1
	case tokenize.Underline:
		st.underline = arg(0) % 48
	case tokenize.Size:
		st.w, st.h = arg(0)>>4+1, arg(0)&7+1
		st.kw, st.kh = st.w, st.h
	case tokenize.ChineseStyle:
		st.kw, st.kh = 1, 1
		if arg(0)&0x04 != 0 {
			st.kw = 2
		}
		if arg(0)&0x08 != 0 {
			st.kh = 2
		}
		st.kunderline = arg(0)&0x80 != 0
	case tokenize.ChineseOn:
		st.chinese = true
	case tokenize.ChineseOff:
		st.chinese = false
	case tokenize.Raster:
		r.flush(false)
		wBytes, h := arg(1), arg(2)
		b := &escpos.Bitmap{W: wBytes * 8, H: h, Pix: c.Data}
		r.bitmap(b, arg(0))
	case tokenize.QR:
		return r.qr(c)
	case tokenize.BarcodeH:
		st.barH = arg(0)
	case tokenize.BarcodeW:
		st.barW = arg(0)
	case tokenize.HRI:
		st.hri = arg(0) % 48
	case tokenize.Barcode:
		return r.barcode(c.Data)
	case tokenize.Cut:
		r.flush(false)
		if m := arg(0); m == 65 || m == 66 {
			r.feed(arg(1)) // to the cutter plus n motion units
		}
		r.feed(linePitch)
		r.cuts = append(r.cuts, cut{y: r.paper.y, partial: arg(0)%48 == 1 || arg(0) == 66})
		r.feed(linePitch)
	case tokenize.Drawer, tokenize.Status:
		// Nothing on paper.
	default:
		return fmt.Errorf("command %s is not implemented by the virtual printer", c.Op)
	}
	return nil
}

func codePage(p escpos.Profile, n int) (escpos.CodePage, bool) {
	for _, cp := range p.CodePages {
		if int(cp.N) == n {
			return cp, true
		}
	}
	return escpos.CodePage{}, false
}

// text decodes bytes in the current character set into the line buffer.
func (r *renderer) text(b []byte, chinese bool) error {
	st := &r.st
	if chinese {
		u, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		if err != nil {
			return fmt.Errorf("GB18030: %v", err)
		}
		for _, c := range string(u) {
			if c < 0x80 {
				r.add(glyph{r: c, w: st.w, h: st.h, bold: st.bold, underline: st.underline})
				continue
			}
			ul := 0
			if st.kunderline {
				ul = 1
			}
			r.add(glyph{r: c, wide: true, w: st.kw, h: st.kh, bold: st.bold, underline: ul})
		}
		return nil
	}
	var cp escpos.CodePage
	for _, c := range b {
		ch := rune(c)
		if c >= 0x80 {
			if cp.Charmap == nil {
				var ok bool
				if cp, ok = codePage(r.profile, st.codePage); !ok {
					return fmt.Errorf("code page %d is not in profile %s", st.codePage, r.profile.Name)
				}
			}
			ch = cp.Charmap.DecodeByte(c)
		}
		r.add(glyph{r: ch, w: st.w, h: st.h, bold: st.bold, underline: st.underline})
	}
	return nil
}

// add puts g on the line, printing the line first when g does not fit, as
// a printer does.
func (r *renderer) add(g glyph) {
	if r.lineW+g.width() > r.paper.width && len(r.line) > 0 {
		r.flush(true)
	}
	r.line = append(r.line, g)
	r.lineW += g.width()
}

// flush prints the line buffer. With feed an empty buffer still advances
// one line, as LF does.
func (r *renderer) flush(feed bool) {
	if len(r.line) == 0 {
		if feed {
			r.feed(linePitch)
		}
		return
	}
	lh := 0
	for _, g := range r.line {
		lh = max(lh, g.height())
	}
	pitch := max(linePitch, lh+linePitch-cellH)
	r.paper.grow(pitch)
	x := r.alignX(r.lineW)
	for _, g := range r.line {
		r.drawGlyph(g, x, r.paper.y+lh-g.height())
		x += g.width()
	}
	r.paper.y += pitch
	r.line, r.lineW = r.line[:0], 0
}

func (r *renderer) feed(dots int) {
	r.paper.grow(dots)
	r.paper.y += dots
}

func (r *renderer) alignX(w int) int {
	switch r.st.align {
	case 1:
		return max(0, (r.paper.width-w)/2)
	case 2:
		return max(0, r.paper.width-w)
	}
	return 0
}

func (r *renderer) drawGlyph(g glyph, x0, y0 int) {
	var rows *[24]uint16
	var wide *[cellH]uint32
	if !g.wide {
		rows = lookup(g.r)
	} else if r.cjk != nil {
		wide = r.cjk.glyph(g.r)
	}
	w, h := g.width(), g.height()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if r.glyphDot(g, rows, wide, x, y) || (g.bold && x > 0 && r.glyphDot(g, rows, wide, x-1, y)) {
				r.paper.set(x0+x, y0+y)
			}
		}
	}
	for i := 0; i < g.underline; i++ {
		for x := 0; x < w; x++ {
			r.paper.set(x0+x, y0+h-1-i)
		}
	}
}

// glyphDot reports whether dot x, y of g (in magnified dots) is black.
func (r *renderer) glyphDot(g glyph, rows *[24]uint16, wide *[cellH]uint32, x, y int) bool {
	cx, cy := x/g.w, y/g.h
	if wide != nil {
		return wide[cy]&(1<<(2*cellW-1-cx)) != 0
	}
	if g.wide {
		// The placeholder for a CJK character: a box inset by two dots with a
		// cross stroke, in a 24×24 cell.
		in := cx >= 2 && cx <= 21 && cy >= 2 && cy <= 21
		edge := cx == 2 || cx == 21 || cy == 2 || cy == 21
		return in && (edge || cx == cy || cx == 23-cy)
	}
	if rows == nil {
		// A character the font lacks: an outlined box in the cell.
		return (cx == 1 || cx == 10) && cy >= 4 && cy <= 20 || (cy == 4 || cy == 20) && cx >= 1 && cx <= 10
	}
	return rows[cy]&(1<<(cellW-1-cx)) != 0
}

// lookup returns the font bitmap of c, nil if the font lacks it.
func lookup(c rune) *[24]uint16 {
	if c >= 0x20 && c <= 0x7e {
		return &fontRows[c-0x20] // the table starts with ASCII, in order
	}
	i := sort.Search(len(fontRunes), func(i int) bool { return fontRunes[i] >= c })
	if i < len(fontRunes) && fontRunes[i] == c {
		return &fontRows[i]
	}
	return nil
}

// bitmap draws b at the current alignment, scaled by the GS v 0 mode
// (m: bit 0 double width, bit 1 double height), and advances past it.
func (r *renderer) bitmap(b *escpos.Bitmap, m int) {
	sx, sy := 1, 1
	if m%48&1 != 0 {
		sx = 2
	}
	if m%48&2 != 0 {
		sy = 2
	}
	r.paper.grow(b.H * sy)
	x0 := r.alignX(b.W * sx)
	for y := 0; y < b.H*sy; y++ {
		for x := 0; x < b.W*sx; x++ {
			if b.At(x/sx, y/sy) {
				r.paper.set(x0+x, r.paper.y+y)
			}
		}
	}
	r.paper.y += b.H * sy
}

func (r *renderer) qr(c tokenize.Cmd) error {
	st := &r.st
	switch fn := c.Args[1]; fn {
	case 65:
		st.qrModel = c.Args[2]
	case 67:
		st.qrModule = c.Args[2]
	case 69:
		st.qrLevel = c.Args[2]
	case 80:
		st.qrData = append(st.qrData[:0], c.Data...)
	case 81:
		if st.qrModel != 50 {
			return fmt.Errorf("QR model %d: only model 2 is rendered", st.qrModel)
		}
		if len(st.qrData) == 0 {
			return fmt.Errorf("QR print with no stored data")
		}
		b, err := escpos.QRBitmap(string(st.qrData), st.qrModule, escpos.QRLevel(st.qrLevel))
		if err != nil {
			return err
		}
		r.flush(false)
		r.bitmap(b, 0)
	case 82:
		// Transmit size information: an answer on the wire, nothing on paper.
	default:
		return fmt.Errorf("QR function %d", fn)
	}
	return nil
}

// barcode draws a CODE128 symbol. The data starts with the code set ("{B");
// "{{" is a literal brace. Only code set B is drawn, as the encoder sends.
func (r *renderer) barcode(d []byte) error {
	if string(d[:2]) != "{B" {
		return fmt.Errorf("CODE128 code set %q: only {B is rendered", d[:2])
	}
	var tb strings.Builder
	for i := 2; i < len(d); i++ {
		if d[i] == '{' {
			if i+1 >= len(d) || d[i+1] != '{' {
				return fmt.Errorf("CODE128 function and shift codes are not rendered")
			}
			i++
		}
		tb.WriteByte(d[i])
	}
	text := tb.String()
	m, err := oned.NewCode128Writer().Encode(text, gozxing.BarcodeFormat_CODE_128, 0, 1,
		map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_FORCE_CODE_SET: "B", gozxing.EncodeHintType_MARGIN: 0})
	if err != nil {
		return err
	}
	st := r.st
	r.flush(false)
	if st.hri == 1 || st.hri == 3 {
		r.hri(text)
	}
	n := m.GetWidth()
	b := escpos.NewBitmap(min(n*st.barW, r.paper.width), st.barH)
	for x := 0; x < b.W; x++ {
		if m.Get(x/st.barW, 0) {
			for y := 0; y < b.H; y++ {
				b.Set(x, y)
			}
		}
	}
	r.bitmap(b, 0)
	if st.hri == 2 || st.hri == 3 {
		r.hri(text)
	}
	return nil
}

func (r *renderer) hri(text string) {
	for _, c := range text {
		r.line = append(r.line, glyph{r: c, w: 1, h: 1})
		r.lineW += cellW
	}
	r.flush(true)
}

// image returns the paper with margins and the cut marks.
func (r *renderer) image() *image.Paletted {
	p := r.paper
	h := p.y + 2*margin
	img := image.NewPaletted(image.Rect(0, 0, p.width+2*margin, h), palette)
	for y := 0; y < p.y && y*p.width < len(p.pix); y++ {
		row := p.pix[y*p.width : (y+1)*p.width]
		off := img.PixOffset(margin, margin+y)
		copy(img.Pix[off:off+p.width], row)
	}
	for _, c := range r.cuts {
		y := margin + c.y
		for x := 0; x < img.Rect.Dx(); x++ {
			// A dashed line; a partial cut leaves a bridge in the middle.
			if x%12 < 7 && !(c.partial && x > img.Rect.Dx()/2-12 && x < img.Rect.Dx()/2+12) {
				img.Pix[img.PixOffset(x, y)] = 1
			}
		}
	}
	return img
}
