// Package textwrap breaks text into lines of a fixed number of printer
// columns, where a character may take one column or two (CJK on a receipt
// printer prints in a double-width cell).
package textwrap

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// WidthFunc reports how many columns r takes when printed: 0 (dropped), 1 or 2.
type WidthFunc func(r rune) int

// EastAsian is the default WidthFunc: wide and full-width characters
// (Unicode East Asian Width W and F) take two columns, everything else one,
// control characters none.
func EastAsian(r rune) int {
	if r < 0x20 || r == 0x7f {
		return 0
	}
	if r < 0x1100 {
		// Nothing below U+1100 is wide; skip the table lookup for ASCII and Latin.
		return 1
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// Width is the number of columns s takes.
func Width(s string, w WidthFunc) int {
	n := 0
	for _, r := range s {
		n += w(r)
	}
	return n
}

// Lines wraps s to lines of at most cols columns. Newlines in s start new
// lines; other whitespace is collapsed to single spaces. Latin words move to
// the next line whole unless they are longer than a line; wide characters
// (CJK) may be broken between any two. A cols below 1 is treated as 1. An
// empty s gives one empty line, so a paragraph always takes space.
func Lines(s string, cols int, w WidthFunc) []string {
	if cols < 1 {
		cols = 1
	}
	var out []string
	for para := range strings.SplitSeq(s, "\n") {
		out = appendParagraph(out, para, cols, w)
	}
	return out
}

func appendParagraph(out []string, para string, cols int, w WidthFunc) []string {
	var line strings.Builder
	lw := 0        // columns in line
	space := false // a space is pending between line and the next unit
	flush := func() {
		out = append(out, line.String())
		line.Reset()
		lw = 0
		space = false
	}
	startLen := len(out)
	for i := 0; i < len(para); {
		r, size := utf8.DecodeRuneInString(para[i:])
		if unicode.IsSpace(r) {
			space = lw > 0
			i += size
			continue
		}
		// A unit is one wide character, or a run of narrow non-space ones.
		j := i + size
		uw := w(r)
		if uw < 2 {
			for j < len(para) {
				r2, s2 := utf8.DecodeRuneInString(para[j:])
				if unicode.IsSpace(r2) || w(r2) >= 2 {
					break
				}
				uw += w(r2)
				j += s2
			}
		}
		unit := para[i:j]
		i = j
		sp := 0
		if space {
			sp = 1
		}
		if lw+sp+uw <= cols {
			if space {
				line.WriteByte(' ')
			}
			line.WriteString(unit)
			lw += sp + uw
			space = false
			continue
		}
		if lw > 0 {
			flush()
		}
		if uw <= cols {
			line.WriteString(unit)
			lw = uw
			continue
		}
		// A word longer than a line is broken wherever it must be.
		for _, r := range unit {
			rw := w(r)
			if lw+rw > cols && lw > 0 {
				flush()
			}
			line.WriteRune(r)
			lw += rw
		}
	}
	if lw > 0 || len(out) == startLen {
		flush()
	}
	return out
}

// PadLeft pads s with spaces on the left to cols columns.
func PadLeft(s string, cols int, w WidthFunc) string {
	n := cols - Width(s, w)
	if n <= 0 {
		return s
	}
	return strings.Repeat(" ", n) + s
}

// Pair lays out a label and a value on one line of cols columns, the value
// flush right. When both do not fit with a space between them, the label is
// wrapped on its own lines and the value follows right-aligned.
func Pair(label, value string, cols int, w WidthFunc) []string {
	lw, vw := Width(label, w), Width(value, w)
	if lw+1+vw <= cols {
		return []string{label + strings.Repeat(" ", cols-lw-vw) + value}
	}
	out := Lines(label, cols, w)
	for _, v := range Lines(value, cols, w) {
		out = append(out, PadLeft(v, cols, w))
	}
	return out
}
