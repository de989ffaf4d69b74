package virtual

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// CJKFont draws Chinese-mode characters in the printer's 24 x 24 dot cell
// (the size of an ESC/POS printer's built-in Chinese font), rasterised
// from an OpenType or TrueType font (a .otf, .ttf or .ttc collection such
// as Noto Sans CJK) and cached per character. It is safe for concurrent
// use.
type CJKFont struct {
	path string
	face font.Face
	mu   sync.Mutex
	rows map[rune]*[cellH]uint32 // nil entry: the font lacks the character
}

// SystemCJKFonts are where Debian and most distributions put a CJK font,
// best first: Noto Sans CJK (fonts-noto-cjk), WenQuanYi, AR PL, Droid.
var SystemCJKFonts = []string{
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
	"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
	"/usr/share/fonts/truetype/arphic/uming.ttc",
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
}

// FindCJKFont opens the first of SystemCJKFonts present, or, failing those,
// the first font under /usr/share/fonts whose name says CJK. No font is
// an error naming where it looked.
func FindCJKFont() (*CJKFont, error) {
	for _, p := range SystemCJKFonts {
		if _, err := os.Stat(p); err == nil {
			return OpenCJKFont(p)
		}
	}
	for _, pat := range []string{"/usr/share/fonts/*/*/*CJK*", "/usr/share/fonts/*/*CJK*", "/usr/local/share/fonts/*CJK*"} {
		m, _ := filepath.Glob(pat)
		for _, p := range m {
			if f, err := OpenCJKFont(p); err == nil {
				return f, nil
			}
		}
	}
	return nil, errors.New("virtual: no CJK font found (install fonts-noto-cjk, or name one in printer.options.cjk_font)")
}

// OpenCJKFont opens the font at path. In a collection it takes the
// Simplified Chinese member when one is named so (Noto's "... CJK SC"),
// else the first.
func OpenCJKFont(path string) (*CJKFont, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("virtual: CJK font: %w", err)
	}
	var f *sfnt.Font
	if c, err := opentype.ParseCollection(b); err == nil && c.NumFonts() > 0 {
		for i := 0; i < c.NumFonts(); i++ {
			member, err := c.Font(i)
			if err != nil {
				continue
			}
			if f == nil {
				f = member
			}
			if name, err := member.Name(nil, sfnt.NameIDFull); err == nil && strings.Contains(name, " SC") {
				f = member
				break
			}
		}
	}
	if f == nil {
		return nil, fmt.Errorf("virtual: CJK font %s: not an OpenType or TrueType font", path)
	}
	var buf sfnt.Buffer
	if idx, err := f.GlyphIndex(&buf, '支'); err != nil || idx == 0 {
		return nil, fmt.Errorf("virtual: font %s has no Chinese characters", path)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: cellH, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("virtual: CJK font %s: %w", path, err)
	}
	return &CJKFont{path: path, face: face, rows: map[rune]*[cellH]uint32{}}, nil
}

// Path is the font's file.
func (f *CJKFont) Path() string { return f.path }

// glyph is r's 24 x 24 dots, row by row (bit 23 leftmost), or nil when the
// font lacks r.
func (f *CJKFont) glyph(r rune) *[cellH]uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g, ok := f.rows[r]; ok {
		return g
	}
	var g *[cellH]uint32
	if _, has := f.face.GlyphAdvance(r); has {
		img := image.NewAlpha(image.Rect(0, 0, 2*cellW, cellH))
		// The ideographic em box spans the cell: its bottom is 0.12 em
		// under the baseline.
		d := font.Drawer{Dst: img, Src: image.Opaque, Face: f.face, Dot: fixed.P(0, cellH-3)}
		d.DrawString(string(r))
		g = new([cellH]uint32)
		for y := 0; y < cellH; y++ {
			for x := 0; x < 2*cellW; x++ {
				if img.AlphaAt(x, y).A >= 0x80 {
					g[y] |= 1 << (2*cellW - 1 - x)
				}
			}
		}
	}
	f.rows[r] = g
	return g
}

var (
	systemOnce sync.Once
	systemFont *CJKFont
	systemErr  error
)

// SystemCJKFont is FindCJKFont's answer, looked up once per process.
func SystemCJKFont() (*CJKFont, error) {
	systemOnce.Do(func() { systemFont, systemErr = FindCJKFont() })
	return systemFont, systemErr
}
