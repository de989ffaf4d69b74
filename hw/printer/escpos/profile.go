package escpos

import (
	"fmt"

	"golang.org/x/text/encoding/charmap"

	"github.com/posagent/posagent/hw/printer/internal/textwrap"
)

// CodePage is one entry of a printer's character code table: the number
// ESC t selects and the character set it holds in bytes 0x80-0xFF.
type CodePage struct {
	N       byte             // the ESC t parameter on this printer
	Name    string           // "cp437"
	Charmap *charmap.Charmap // the characters of bytes 0x80-0xFF
}

// Profile describes a printer model: paper width and what it supports.
// Code page numbers differ between manufacturers, so each profile carries its
// own table.
type Profile struct {
	Name    string // "80mm"
	Columns int    // characters per line in Font A (12x24)
	Dots    int    // printable width in dots (8 dots/mm at 203 dpi)
	// CodePages are tried in order for a character that is not ASCII; the
	// first one is selected after Initialize.
	CodePages []CodePage
	// Chinese reports whether the printer has a GB18030 font reached through
	// Chinese character mode (FS & / FS .). Characters no code page holds
	// are then printed in that mode, in a double-width cell.
	Chinese bool
	// NativeQR reports whether the printer implements GS ( k QR codes.
	NativeQR bool
	// QRModule is the default QR module size in dots.
	QRModule int
}

// epsonCodePages is the Epson TM numbering, which most 80 mm printers
// (Epson, Star in ESC/POS mode, Xprinter, Rongta) follow for these entries.
var epsonCodePages = []CodePage{
	{0, "cp437", charmap.CodePage437},
	{16, "cp1252", charmap.Windows1252},
	{2, "cp850", charmap.CodePage850},
	{19, "cp858", charmap.CodePage858},
	{18, "cp852", charmap.CodePage852},
	{17, "cp866", charmap.CodePage866},
}

// chinese58CodePages is the table of the common Chinese 58 mm mechanisms
// (the GOOJPRT/Xprinter XP-58 family): fewer pages, and cp866 at 17 like
// Epson but no cp858.
var chinese58CodePages = []CodePage{
	{0, "cp437", charmap.CodePage437},
	{16, "cp1252", charmap.Windows1252},
	{2, "cp850", charmap.CodePage850},
	{17, "cp866", charmap.CodePage866},
}

// The built-in profiles.
var (
	// Profile58 is a 58 mm printer: 48 mm printable, 384 dots, 32 columns.
	Profile58 = Profile{Name: "58mm", Columns: 32, Dots: 384, CodePages: chinese58CodePages, Chinese: true, NativeQR: true, QRModule: 5}
	// Profile80 is an 80 mm printer: 72 mm printable, 576 dots, 48 columns.
	Profile80 = Profile{Name: "80mm", Columns: 48, Dots: 576, CodePages: epsonCodePages, Chinese: true, NativeQR: true, QRModule: 6}
)

// ProfileByName returns a built-in profile: "58mm" or "80mm".
func ProfileByName(name string) (Profile, error) {
	switch name {
	case "58mm", "58":
		return Profile58, nil
	case "80mm", "80":
		return Profile80, nil
	}
	return Profile{}, fmt.Errorf("unknown printer profile %q (want 58mm or 80mm)", name)
}

// RuneWidth is the number of columns r takes on this printer: 1 for ASCII
// and code-page characters, 2 for characters printed in Chinese mode, 0 for
// control characters. It matches what Text does, so wrapping agrees with
// the paper.
func (p Profile) RuneWidth(r rune) int {
	if r < 0x20 || r == 0x7f {
		return 0
	}
	if r < 0x7f {
		return 1
	}
	if textwrap.EastAsian(r) == 1 {
		for _, cp := range p.CodePages {
			if _, ok := cp.Charmap.EncodeRune(r); ok {
				return 1
			}
		}
	}
	if p.Chinese {
		return 2
	}
	return 1 // printed as '?'
}

// codePage returns the entry with ESC t number n.
func (p Profile) codePage(n byte) (CodePage, bool) {
	for _, cp := range p.CodePages {
		if cp.N == n {
			return cp, true
		}
	}
	return CodePage{}, false
}
