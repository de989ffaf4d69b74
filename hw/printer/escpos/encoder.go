// Package escpos encodes receipts as ESC/POS, the command language of
// thermal receipt printers, and prints them through a transport.
//
// The Encoder is a byte-exact command writer: each method appends one
// command (or one command group, like the five functions of a native QR
// code) as the Epson ESC/POS reference defines it, and nothing else. Encode
// lays a printer.Receipt out on a Profile with those commands. Printer ties
// the encoder to a transport and the real-time status commands.
package escpos

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/posagent/posagent/hw/printer"
)

// Control bytes.
const (
	LF  = 0x0a
	ESC = 0x1b
	GS  = 0x1d
	FS  = 0x1c
	DLE = 0x10
	EOT = 0x04
)

// mode is a tri-state: what the printer is known to be in.
type mode int8

const (
	modeUnknown mode = iota
	modeOff
	modeOn
)

// Encoder appends ESC/POS commands to a buffer. It remembers the code page
// and Chinese mode it has selected, so Text switches only when a character
// needs it. The zero value is not usable; call NewEncoder. An Encoder is not
// safe for concurrent use.
type Encoder struct {
	buf     []byte
	profile Profile
	cp      int  // selected code page number, -1 when unknown
	chinese mode // Chinese character mode (FS &)
	gb      *encoding.Encoder
}

// NewEncoder returns an Encoder for printers described by p.
func NewEncoder(p Profile) *Encoder {
	return &Encoder{profile: p, cp: -1, buf: make([]byte, 0, 4096)}
}

// Bytes returns the commands written so far. The slice aliases the
// Encoder's buffer until the next write or Reset.
func (e *Encoder) Bytes() []byte { return e.buf }

// Reset empties the buffer and forgets the printer state.
func (e *Encoder) Reset() {
	e.buf = e.buf[:0]
	e.cp = -1
	e.chinese = modeUnknown
}

// Profile is the profile the Encoder was made for.
func (e *Encoder) Profile() Profile { return e.profile }

// Raw appends b unchanged. It is for commands this package does not know;
// the tokenizer and the virtual printer refuse what they do not know.
func (e *Encoder) Raw(b ...byte) { e.buf = append(e.buf, b...) }

// Initialize (ESC @) clears the print buffer and resets modes to their
// power-on defaults. The code page and Chinese mode after it depend on the
// printer's settings, so the Encoder treats them as unknown.
func (e *Encoder) Initialize() {
	e.buf = append(e.buf, ESC, '@')
	e.cp = -1
	e.chinese = modeUnknown
}

// SelectCodePage (ESC t n) selects character code table n.
func (e *Encoder) SelectCodePage(n byte) {
	e.buf = append(e.buf, ESC, 't', n)
	e.cp = int(n)
}

// ChineseMode turns Chinese character mode on (FS &) or off (FS .). In it,
// bytes 0x80-0xFF start GB18030 characters instead of code-page ones.
func (e *Encoder) ChineseMode(on bool) {
	if on {
		e.buf = append(e.buf, FS, '&')
		e.chinese = modeOn
	} else {
		e.buf = append(e.buf, FS, '.')
		e.chinese = modeOff
	}
}

// Align (ESC a n) sets the justification of following lines, images,
// barcodes and QR codes.
func (e *Encoder) Align(a printer.Align) {
	n := byte(0)
	switch a {
	case printer.Center:
		n = 1
	case printer.Right:
		n = 2
	}
	e.buf = append(e.buf, ESC, 'a', n)
}

// Bold (ESC E n) turns emphasis on or off.
func (e *Encoder) Bold(on bool) { e.buf = append(e.buf, ESC, 'E', b2n(on)) }

// Underline (ESC - n) sets underline: 0 off, 1 one dot, 2 two dots.
func (e *Encoder) Underline(n int) error {
	if n < 0 || n > 2 {
		return fmt.Errorf("escpos: underline %d out of range 0-2", n)
	}
	e.buf = append(e.buf, ESC, '-', byte(n))
	return nil
}

// Size (GS ! n) sets character magnification, 1-8 in each direction. It
// applies to all characters, Chinese ones included.
func (e *Encoder) Size(width, height int) error {
	if width < 1 || width > 8 || height < 1 || height > 8 {
		return fmt.Errorf("escpos: character size %dx%d out of range 1-8", width, height)
	}
	e.buf = append(e.buf, GS, '!', byte((width-1)<<4|(height-1)))
	return nil
}

// ChineseStyle (FS ! n) sets the print mode of Chinese characters: double
// width, double height, underline. Some Chinese printers ignore GS ! in
// Chinese mode, so Encode sends both.
func (e *Encoder) ChineseStyle(doubleWidth, doubleHeight, underline bool) {
	var n byte
	if doubleWidth {
		n |= 0x04
	}
	if doubleHeight {
		n |= 0x08
	}
	if underline {
		n |= 0x80
	}
	e.buf = append(e.buf, FS, '!', n)
}

// Text appends s in the printer's character sets. ASCII is sent as is;
// other characters through the first code page of the profile that holds
// them (switching with ESC t and leaving Chinese mode as needed), and the
// rest in GB18030 through Chinese mode when the profile has it. Characters
// nothing can print become '?'. Control characters, line feeds included,
// are dropped: lines end with LineFeed.
func (e *Encoder) Text(s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if c >= 0x20 && c != 0x7f {
				e.buf = append(e.buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if e.profile.RuneWidth(r) == 2 && e.profile.Chinese {
			// Encode the whole run of Chinese-mode characters at once.
			j := i + size
			for j < len(s) && s[j] >= 0x80 {
				r2, s2 := utf8.DecodeRuneInString(s[j:])
				if e.profile.RuneWidth(r2) != 2 {
					break
				}
				j += s2
			}
			e.gb18030(s[i:j])
			i = j
			continue
		}
		e.codePageRune(r)
		i += size
	}
}

func (e *Encoder) codePageRune(r rune) {
	if e.cp >= 0 {
		if cp, ok := e.profile.codePage(byte(e.cp)); ok {
			if b, ok := cp.Charmap.EncodeRune(r); ok {
				e.leaveChinese()
				e.buf = append(e.buf, b)
				return
			}
		}
	}
	for _, cp := range e.profile.CodePages {
		if b, ok := cp.Charmap.EncodeRune(r); ok {
			e.leaveChinese()
			e.SelectCodePage(cp.N)
			e.buf = append(e.buf, b)
			return
		}
	}
	e.buf = append(e.buf, '?')
}

func (e *Encoder) leaveChinese() {
	if e.chinese != modeOff && e.profile.Chinese {
		e.ChineseMode(false)
	}
}

func (e *Encoder) gb18030(s string) {
	if e.chinese != modeOn {
		e.ChineseMode(true)
	}
	if e.gb == nil {
		e.gb = simplifiedchinese.GB18030.NewEncoder()
	}
	e.gb.Reset()
	src := []byte(s)
	for {
		// GB18030 takes at most 4 bytes per character, and UTF-8 at least one.
		if need := 4 * len(src); cap(e.buf)-len(e.buf) < need {
			grown := make([]byte, len(e.buf), 2*cap(e.buf)+need)
			copy(grown, e.buf)
			e.buf = grown
		}
		nDst, nSrc, err := e.gb.Transform(e.buf[len(e.buf):cap(e.buf)], src, true)
		e.buf = e.buf[:len(e.buf)+nDst]
		src = src[nSrc:]
		switch {
		case err == nil:
			return
		case errors.Is(err, transform.ErrShortDst):
			e.buf = append(e.buf, 0)[:len(e.buf)] // cannot happen; grow anyway
		default:
			// GB18030 maps every Unicode scalar; only invalid UTF-8 gets here.
			e.buf = append(e.buf, '?')
			_, n := utf8.DecodeRune(src)
			src = src[n:]
			e.gb.Reset()
			if len(src) == 0 {
				return
			}
		}
	}
}

// LineFeed (LF) prints the line buffer and moves to the next line.
func (e *Encoder) LineFeed() { e.buf = append(e.buf, LF) }

// Feed (ESC d n) prints the buffer and feeds n lines (0-255).
func (e *Encoder) Feed(n int) error {
	if n < 0 || n > 255 {
		return fmt.Errorf("escpos: feed %d lines out of range 0-255", n)
	}
	e.buf = append(e.buf, ESC, 'd', byte(n))
	return nil
}

// Cut (GS V m) cuts the paper where it is: full (m=0) or partial, one
// point left uncut (m=1).
func (e *Encoder) Cut(partial bool) { e.buf = append(e.buf, GS, 'V', b2n(partial)) }

// FeedCut (GS V m n) feeds the paper to the cutter plus n motion units and
// then cuts: m=65 full, m=66 partial. With n=0 the last printed line just
// clears the cutter.
func (e *Encoder) FeedCut(partial bool, n byte) {
	m := byte(65)
	if partial {
		m = 66
	}
	e.buf = append(e.buf, GS, 'V', m, n)
}

// KickDrawer (ESC p m t1 t2) pulses drawer connector pin 2 (pin=0) or pin
// 5 (pin=1) for on×2 ms, then waits off×2 ms.
func (e *Encoder) KickDrawer(pin int, on, off byte) error {
	if pin != 0 && pin != 1 {
		return fmt.Errorf("escpos: drawer pin %d (want 0 for pin 2, 1 for pin 5)", pin)
	}
	e.buf = append(e.buf, ESC, 'p', byte(pin), on, off)
	return nil
}

// StatusRequest (DLE EOT n) asks for real-time status n: 1 printer, 2
// offline cause, 3 error cause, 4 paper roll sensor. The printer answers
// one byte at once, even when offline; see ParseStatus.
func (e *Encoder) StatusRequest(n byte) error {
	if n < 1 || n > 4 {
		return fmt.Errorf("escpos: status request %d out of range 1-4", n)
	}
	e.buf = append(e.buf, DLE, EOT, n)
	return nil
}

func b2n(b bool) byte {
	if b {
		return 1
	}
	return 0
}
