// Package tokenize splits an ESC/POS stream into commands. It knows exactly
// the commands the escpos encoder emits, written from the Epson reference
// and not from the encoder, and refuses anything else: an unknown command,
// a parameter out of range, a length field that does not match, or a
// stray control byte is an error carrying its offset. Tests use it to prove
// every stream parses completely; the virtual printer interprets its output.
package tokenize

import (
	"fmt"
	"strings"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Op names a command the way the reference writes it.
type Op string

// The commands.
const (
	Text         Op = "text"    // printable bytes; Chinese tells how to read them
	LF           Op = "LF"      // print and line feed
	Init         Op = "ESC @"   // initialize
	CodePage     Op = "ESC t"   // Args[0]: table number
	Align        Op = "ESC a"   // Args[0]: 0 left, 1 centre, 2 right
	Bold         Op = "ESC E"   // Args[0]: 0 off, 1 on
	Underline    Op = "ESC -"   // Args[0]: 0, 1, 2 dots
	FeedLines    Op = "ESC d"   // Args[0]: lines
	Drawer       Op = "ESC p"   // Args: m, t1, t2
	Size         Op = "GS !"    // Args[0]: width-1 << 4 | height-1
	Cut          Op = "GS V"    // Args: m (0, 1, 48, 49) or m (65, 66), n
	QR           Op = "GS ( k"  // Args: cn, fn, parameters; Data: stored QR data
	Raster       Op = "GS v 0"  // Args: m, width in bytes, height in dots; Data: rows
	BarcodeH     Op = "GS h"    // Args[0]: height in dots
	BarcodeW     Op = "GS w"    // Args[0]: module width
	HRI          Op = "GS H"    // Args[0]: 0 none, 1 above, 2 below, 3 both
	Barcode      Op = "GS k"    // Args[0]: system (73 CODE128); Data: the data
	ChineseOn    Op = "FS &"    // enter Chinese character mode
	ChineseOff   Op = "FS ."    // leave Chinese character mode
	ChineseStyle Op = "FS !"    // Args[0]: bit 2 double width, 3 double height, 7 underline
	Status       Op = "DLE EOT" // Args[0]: 1-4
)

// Cmd is one command.
type Cmd struct {
	Op   Op
	Args []int
	Data []byte
	// Chinese is set on Text read in Chinese character mode, whose bytes
	// 0x80-0xFF start GB18030 characters.
	Chinese bool
	// Off is the offset of the command's first byte in the stream, Len
	// its length in bytes.
	Off, Len int
}

func (c Cmd) String() string {
	var b strings.Builder
	b.WriteString(string(c.Op))
	for _, a := range c.Args {
		fmt.Fprintf(&b, " %d", a)
	}
	if c.Op == Text {
		t := c.Data
		if c.Chinese {
			if u, err := simplifiedchinese.GB18030.NewDecoder().Bytes(c.Data); err == nil {
				t = u
			}
		}
		fmt.Fprintf(&b, " %q", t)
	} else if len(c.Data) > 0 {
		fmt.Fprintf(&b, " [%d bytes]", len(c.Data))
	}
	return b.String()
}

// Error is a stream that does not parse.
type Error struct {
	Off int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("escpos stream: offset %d: %s", e.Off, e.Msg) }

// Parse tokenizes the whole of b.
func Parse(b []byte) ([]Cmd, error) {
	p := parser{b: b}
	var out []Cmd
	for p.i < len(b) {
		start := p.i
		c, err := p.next()
		if err != nil {
			return out, err
		}
		c.Len = p.i - start
		out = append(out, c)
	}
	return out, nil
}

type parser struct {
	b       []byte
	i       int
	chinese bool
}

func (p *parser) fail(off int, format string, args ...any) error {
	return &Error{Off: off, Msg: fmt.Sprintf(format, args...)}
}

// take returns the next n bytes or fails.
func (p *parser) take(start, n int, what string) ([]byte, error) {
	if p.i+n > len(p.b) {
		return nil, p.fail(start, "%s: stream ends %d bytes short", what, p.i+n-len(p.b))
	}
	s := p.b[p.i : p.i+n]
	p.i += n
	return s, nil
}

// arg reads one parameter byte and checks it is one of allowed (any if nil).
func (p *parser) arg(start int, what string, ok func(int) bool) (int, error) {
	s, err := p.take(start, 1, what)
	if err != nil {
		return 0, err
	}
	v := int(s[0])
	if ok != nil && !ok(v) {
		return 0, p.fail(start, "%s: parameter %d out of range", what, v)
	}
	return v, nil
}

func oneOf(vs ...int) func(int) bool {
	return func(v int) bool {
		for _, x := range vs {
			if v == x {
				return true
			}
		}
		return false
	}
}

func between(lo, hi int) func(int) bool { return func(v int) bool { return v >= lo && v <= hi } }

func (p *parser) next() (Cmd, error) {
	start := p.i
	c := p.b[p.i]
	switch {
	case c == 0x0a:
		p.i++
		return Cmd{Op: LF, Off: start}, nil
	case c == 0x1b:
		return p.esc(start)
	case c == 0x1d:
		return p.gs(start)
	case c == 0x1c:
		return p.fs(start)
	case c == 0x10:
		p.i++
		k, err := p.take(start, 1, "DLE")
		if err != nil {
			return Cmd{}, err
		}
		if k[0] != 0x04 {
			return Cmd{}, p.fail(start, "unknown command DLE %#02x", k[0])
		}
		n, err := p.arg(start, string(Status), between(1, 4))
		return Cmd{Op: Status, Args: []int{n}, Off: start}, err
	case c < 0x20 || c == 0x7f:
		return Cmd{}, p.fail(start, "stray control byte %#02x", c)
	}
	return p.text(start)
}

// text reads printable bytes up to the next control byte. In Chinese mode
// a byte 0x81-0xFE starts a GB18030 character of two bytes (second 0x40-0xFE
// except 0x7F) or four (second and fourth 0x30-0x39, third 0x81-0xFE).
func (p *parser) text(start int) (Cmd, error) {
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c < 0x20 || c == 0x7f {
			break
		}
		if c < 0x80 || !p.chinese {
			p.i++
			continue
		}
		if c == 0x80 || c == 0xff || p.i+1 >= len(p.b) {
			return Cmd{}, p.fail(p.i, "invalid GB18030 lead byte %#02x", c)
		}
		c2 := p.b[p.i+1]
		switch {
		case c2 >= 0x40 && c2 <= 0xfe && c2 != 0x7f:
			p.i += 2
		case c2 >= 0x30 && c2 <= 0x39:
			if p.i+3 >= len(p.b) || p.b[p.i+2] < 0x81 || p.b[p.i+2] > 0xfe || p.b[p.i+3] < 0x30 || p.b[p.i+3] > 0x39 {
				return Cmd{}, p.fail(p.i, "invalid GB18030 four-byte character")
			}
			p.i += 4
		default:
			return Cmd{}, p.fail(p.i, "invalid GB18030 second byte %#02x", c2)
		}
	}
	return Cmd{Op: Text, Data: p.b[start:p.i], Chinese: p.chinese, Off: start}, nil
}

func (p *parser) esc(start int) (Cmd, error) {
	p.i++
	k, err := p.take(start, 1, "ESC")
	if err != nil {
		return Cmd{}, err
	}
	one := func(op Op, ok func(int) bool) (Cmd, error) {
		v, err := p.arg(start, string(op), ok)
		return Cmd{Op: op, Args: []int{v}, Off: start}, err
	}
	switch k[0] {
	case '@':
		p.chinese = false // the Encoder assumes nothing; neither does the reader
		return Cmd{Op: Init, Off: start}, nil
	case 't':
		return one(CodePage, nil)
	case 'a':
		return one(Align, oneOf(0, 1, 2, 48, 49, 50))
	case 'E':
		return one(Bold, nil) // only the lowest bit counts
	case '-':
		return one(Underline, oneOf(0, 1, 2, 48, 49, 50))
	case 'd':
		return one(FeedLines, nil)
	case 'p':
		m, err := p.arg(start, string(Drawer), oneOf(0, 1, 48, 49))
		if err != nil {
			return Cmd{}, err
		}
		t, err := p.take(start, 2, string(Drawer))
		if err != nil {
			return Cmd{}, err
		}
		return Cmd{Op: Drawer, Args: []int{m, int(t[0]), int(t[1])}, Off: start}, nil
	}
	return Cmd{}, p.fail(start, "unknown command ESC %#02x", k[0])
}

func (p *parser) fs(start int) (Cmd, error) {
	p.i++
	k, err := p.take(start, 1, "FS")
	if err != nil {
		return Cmd{}, err
	}
	switch k[0] {
	case '&':
		p.chinese = true
		return Cmd{Op: ChineseOn, Off: start}, nil
	case '.':
		p.chinese = false
		return Cmd{Op: ChineseOff, Off: start}, nil
	case '!':
		v, err := p.arg(start, string(ChineseStyle), nil)
		return Cmd{Op: ChineseStyle, Args: []int{v}, Off: start}, err
	}
	return Cmd{}, p.fail(start, "unknown command FS %#02x", k[0])
}

func (p *parser) gs(start int) (Cmd, error) {
	p.i++
	k, err := p.take(start, 1, "GS")
	if err != nil {
		return Cmd{}, err
	}
	one := func(op Op, ok func(int) bool) (Cmd, error) {
		v, err := p.arg(start, string(op), ok)
		return Cmd{Op: op, Args: []int{v}, Off: start}, err
	}
	switch k[0] {
	case '!':
		return one(Size, func(v int) bool { return v&0x88 == 0 })
	case 'h':
		return one(BarcodeH, between(1, 255))
	case 'w':
		return one(BarcodeW, between(1, 6))
	case 'H':
		return one(HRI, oneOf(0, 1, 2, 3, 48, 49, 50, 51))
	case 'V':
		m, err := p.arg(start, string(Cut), oneOf(0, 1, 48, 49, 65, 66))
		if err != nil {
			return Cmd{}, err
		}
		if m == 65 || m == 66 {
			n, err := p.arg(start, string(Cut), nil)
			return Cmd{Op: Cut, Args: []int{m, n}, Off: start}, err
		}
		return Cmd{Op: Cut, Args: []int{m}, Off: start}, nil
	case 'v':
		return p.raster(start)
	case 'k':
		return p.barcode(start)
	case '(':
		f, err := p.take(start, 1, "GS (")
		if err != nil {
			return Cmd{}, err
		}
		if f[0] != 'k' {
			return Cmd{}, p.fail(start, "unknown command GS ( %#02x", f[0])
		}
		return p.qr(start)
	}
	return Cmd{}, p.fail(start, "unknown command GS %#02x", k[0])
}

func (p *parser) raster(start int) (Cmd, error) {
	if _, err := p.arg(start, string(Raster), oneOf('0')); err != nil {
		return Cmd{}, err
	}
	m, err := p.arg(start, string(Raster), oneOf(0, 1, 2, 3, 48, 49, 50, 51))
	if err != nil {
		return Cmd{}, err
	}
	h, err := p.take(start, 4, string(Raster))
	if err != nil {
		return Cmd{}, err
	}
	x := int(h[0]) + int(h[1])<<8
	y := int(h[2]) + int(h[3])<<8
	if x < 1 || x > 255 || y < 1 || y > 2303 {
		return Cmd{}, p.fail(start, "GS v 0: size %d bytes × %d dots out of range", x, y)
	}
	d, err := p.take(start, x*y, string(Raster))
	return Cmd{Op: Raster, Args: []int{m, x, y}, Data: d, Off: start}, err
}

func (p *parser) barcode(start int) (Cmd, error) {
	m, err := p.arg(start, "GS k (only 73, CODE128)", oneOf(73))
	if err != nil {
		return Cmd{}, err
	}
	n, err := p.arg(start, string(Barcode), between(2, 255))
	if err != nil {
		return Cmd{}, err
	}
	d, err := p.take(start, n, string(Barcode))
	if err != nil {
		return Cmd{}, err
	}
	if d[0] != '{' || d[1] < 'A' || d[1] > 'C' {
		return Cmd{}, p.fail(start, "GS k CODE128: data must start with a code set ({A, {B, {C)")
	}
	for _, c := range d {
		if c > 0x7e {
			return Cmd{}, p.fail(start, "GS k CODE128: byte %#02x", c)
		}
	}
	return Cmd{Op: Barcode, Args: []int{m}, Data: d, Off: start}, nil
}

// qr reads the QR functions of GS ( k pL pH cn fn [params]: the length
// pL + pH×256 counts cn, fn and the parameters, and must be exactly what the
// function takes.
func (p *parser) qr(start int) (Cmd, error) {
	h, err := p.take(start, 2, string(QR))
	if err != nil {
		return Cmd{}, err
	}
	n := int(h[0]) + int(h[1])<<8
	if n < 2 {
		return Cmd{}, p.fail(start, "GS ( k: length %d too short", n)
	}
	body, err := p.take(start, n, string(QR))
	if err != nil {
		return Cmd{}, err
	}
	cn, fn := int(body[0]), int(body[1])
	if cn != 49 {
		return Cmd{}, p.fail(start, "GS ( k: symbol cn=%d not supported (only 49, QR)", cn)
	}
	params := body[2:]
	want := map[int]int{65: 2, 67: 1, 69: 1, 81: 1, 82: 1}
	switch fn {
	case 65, 67, 69, 81, 82:
		if len(params) != want[fn] {
			return Cmd{}, p.fail(start, "GS ( k fn=%d: length %d, want %d", fn, n, want[fn]+2)
		}
	case 80:
		if len(params) < 2 || params[0] != 48 {
			return Cmd{}, p.fail(start, "GS ( k fn=80: want m=48 and at least one data byte")
		}
		return Cmd{Op: QR, Args: []int{cn, fn, 48}, Data: params[1:], Off: start}, nil
	default:
		return Cmd{}, p.fail(start, "GS ( k: function %d not supported", fn)
	}
	args := []int{cn, fn}
	for _, b := range params {
		args = append(args, int(b))
	}
	switch {
	case fn == 65 && (args[2] < 49 || args[2] > 51 || args[3] != 0):
		return Cmd{}, p.fail(start, "GS ( k fn=65: model %d %d", args[2], args[3])
	case fn == 67 && (args[2] < 1 || args[2] > 16):
		return Cmd{}, p.fail(start, "GS ( k fn=67: module size %d out of range 1-16", args[2])
	case fn == 69 && (args[2] < 48 || args[2] > 51):
		return Cmd{}, p.fail(start, "GS ( k fn=69: error level %d out of range 48-51", args[2])
	case (fn == 81 || fn == 82) && args[2] != 48:
		return Cmd{}, p.fail(start, "GS ( k fn=%d: m=%d, want 48", fn, args[2])
	}
	return Cmd{Op: QR, Args: args, Off: start}, nil
}
