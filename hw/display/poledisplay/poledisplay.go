// Package poledisplay drives a serial customer pole display: the 2 x 20
// character VFD or LCD on a stand beside the till, through go.bug.st/serial.
//
// Each screen becomes two lines: what is happening (the display's short
// English words: "Amount due", "Paid - thank you") and the amount, right
// aligned; the welcome screen shows the idle message and the shop's name.
// Lines are padded or truncated to the display's width, never wrapped:
// the display's own wrapping would run the second line into the first.
//
// Two command sets are profiles: "epson", the Epson ESC/POS customer
// display commands (DM-D series and its many clones: ESC @, ESC t code
// table, US $ cursor moves, overwrite mode), and "cd5220" (ESC Q A / ESC Q
// B write a whole upper or lower line). Text goes through the display's
// code page where the profile has one (epson: pc437, pc850 or pc858, so
// "Café" keeps its é); anything else is transliterated to ASCII (accents
// dropped, characters with no ASCII form left out), and control characters
// are always removed first: a shop name or reason from the till cannot
// move the cursor or clear the display.
//
// A display that is unplugged fails the next Show; the display then
// reopens its port in the background every Options.Reconnect and, once it
// is back, initialises it and shows the latest screen.
package poledisplay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"

	"go.bug.st/serial"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/display"
)

// Profiles are the command sets this package speaks.
const (
	ProfileEpson  = "epson"
	ProfileCD5220 = "cd5220"
)

// Options configure a pole display.
type Options struct {
	// Port is the serial device ("/dev/ttyUSB0"). Required.
	Port string `yaml:"port"`
	// Baud is the line speed (default 9600, the usual factory setting).
	Baud int `yaml:"baud"`
	// Profile is the command set: epson (default) or cd5220.
	Profile string `yaml:"profile"`
	// Columns is the width of a line (default 20).
	Columns int `yaml:"columns"`
	// CodePage is the character table for non-ASCII text: pc437
	// (default for epson), pc850 or pc858; "ascii" transliterates
	// everything. The cd5220 profile has no code table: ascii only.
	CodePage string `yaml:"code_page"`
	// Idle is the welcome screen's first line (default "Welcome").
	Idle string `yaml:"idle"`
	// Title is the welcome screen's second line: the shop's name.
	Title string `yaml:"title"`
	// Reconnect is how often an unplugged display is tried again
	// (default 2s).
	Reconnect time.Duration `yaml:"reconnect"`
	// Logger receives connection changes (default: discarded).
	Logger *slog.Logger `yaml:"-"`
}

// codePages are the epson code tables (ESC t n) this package can encode.
var codePages = map[string]struct {
	n   byte
	enc *charmap.Charmap
}{
	"pc437": {0, charmap.CodePage437},
	"pc850": {2, charmap.CodePage850},
	"pc858": {19, charmap.CodePage858},
}

// Validate checks the options as New would.
func (o Options) Validate() error {
	if o.Port == "" {
		return errors.New("poledisplay: port is required (the display's serial device, e.g. /dev/ttyUSB0)")
	}
	if o.Baud < 0 || o.Baud > 921600 {
		return fmt.Errorf("poledisplay: baud %d is not a serial speed", o.Baud)
	}
	if o.Columns < 0 || o.Columns > 80 {
		return fmt.Errorf("poledisplay: columns %d is not between 1 and 80", o.Columns)
	}
	if o.Reconnect < 0 {
		return fmt.Errorf("poledisplay: reconnect %v is negative", o.Reconnect)
	}
	switch o.Profile {
	case "", ProfileEpson:
		if _, ok := codePages[o.CodePage]; !ok && o.CodePage != "" && o.CodePage != "ascii" {
			return fmt.Errorf("poledisplay: code_page %q is not pc437, pc850, pc858 or ascii", o.CodePage)
		}
	case ProfileCD5220:
		if o.CodePage != "" && o.CodePage != "ascii" {
			return fmt.Errorf("poledisplay: the cd5220 profile has no code table; code_page %q cannot be used (leave it empty or ascii)", o.CodePage)
		}
	default:
		return fmt.Errorf("poledisplay: profile %q is not epson or cd5220", o.Profile)
	}
	return nil
}

// Port is the part of a serial port the display uses.
type Port interface {
	io.Writer
	Close() error
}

// Opener opens the display's port.
type Opener func(path string, baud int) (Port, error)

// OpenSerial opens path through go.bug.st/serial, 8N1.
func OpenSerial(path string, baud int) (Port, error) {
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, translate(path, err)
	}
	return p, nil
}

// translate turns a serial error into a pos error kind where it enters.
func translate(path string, err error) error {
	const op = "poledisplay.Open"
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.InvalidSpeed, serial.InvalidDataBits, serial.InvalidParity, serial.InvalidStopBits, serial.InvalidSerialPort:
			return pos.E(pos.Invalid, op, fmt.Errorf("%s: %w", path, err))
		}
	}
	return pos.E(pos.Unavailable, op, fmt.Errorf("%s: %w", path, err))
}

// Display is a pole display.
type Display struct {
	opts  Options
	open  Opener
	log   *slog.Logger
	table *charmap.Charmap // nil: ASCII only
	done  chan struct{}
	once  sync.Once

	mu       sync.Mutex
	port     Port   // nil while unplugged
	last     []byte // the latest screen's bytes, shown again on reconnect
	retrying bool
}

var _ display.Display = (*Display)(nil)

// New opens a pole display on opts.Port. A port that cannot be opened is
// not an error: the display keeps trying, as after an unplug.
func New(opts Options) (*Display, error) { return NewWithOpener(opts, OpenSerial) }

// NewWithOpener is New with the port opened by open (tests open a
// pseudo-terminal).
func NewWithOpener(opts Options, open Opener) (*Display, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Baud == 0 {
		opts.Baud = 9600
	}
	if opts.Profile == "" {
		opts.Profile = ProfileEpson
	}
	if opts.Columns == 0 {
		opts.Columns = 20
	}
	if opts.Idle == "" {
		opts.Idle = "Welcome"
	}
	if opts.Reconnect == 0 {
		opts.Reconnect = 2 * time.Second
	}
	if opts.Profile == ProfileEpson && opts.CodePage == "" {
		opts.CodePage = "pc437"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Display{opts: opts, open: open, log: opts.Logger, done: make(chan struct{})}
	if cp, ok := codePages[opts.CodePage]; ok {
		d.table = cp.enc
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last = d.frame(display.Screen{Kind: display.Idle})
	if err := d.connectLocked(); err != nil {
		d.log.Warn("pole display not connected; retrying", "port", opts.Port, "err", err)
		d.retryLocked()
	}
	return d, nil
}

// Show shows s. An error means the display is unplugged (it is being
// reconnected, and will show the latest screen when it is back).
func (d *Display) Show(_ context.Context, s display.Screen) error {
	b := d.frame(s)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last = b
	if d.port == nil {
		d.retryLocked()
		return pos.Errorf(pos.Unavailable, "poledisplay.Show", "%s is not connected", d.opts.Port)
	}
	if _, err := d.port.Write(b); err != nil {
		d.log.Warn("pole display lost", "port", d.opts.Port, "err", err)
		_ = d.port.Close()
		d.port = nil
		d.retryLocked()
		return pos.E(pos.Unavailable, "poledisplay.Show", fmt.Errorf("%s: %w", d.opts.Port, err))
	}
	return nil
}

// connectLocked opens the port and sends the init sequence and the latest
// screen.
func (d *Display) connectLocked() error {
	p, err := d.open(d.opts.Port, d.opts.Baud)
	if err != nil {
		return err
	}
	if _, err := p.Write(append(d.init(), d.last...)); err != nil {
		_ = p.Close()
		return pos.E(pos.Unavailable, "poledisplay.connect", err)
	}
	d.port = p
	return nil
}

// retryLocked starts the reconnect loop unless it runs.
func (d *Display) retryLocked() {
	if d.retrying {
		return
	}
	d.retrying = true
	go func() {
		t := time.NewTicker(d.opts.Reconnect)
		defer t.Stop()
		for {
			select {
			case <-d.done:
				return
			case <-t.C:
			}
			d.mu.Lock()
			err := d.connectLocked()
			if err == nil {
				d.retrying = false
				d.mu.Unlock()
				d.log.Info("pole display connected", "port", d.opts.Port)
				return
			}
			d.mu.Unlock()
		}
	}()
}

// Close stops reconnecting and closes the port.
func (d *Display) Close() error {
	d.once.Do(func() { close(d.done) })
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.port == nil {
		return nil
	}
	err := d.port.Close()
	d.port = nil
	return err
}

// Lines is what the display shows for s, before encoding: two lines.
func (d *Display) Lines(s display.Screen) [2]string {
	w := display.WordsFor(s, display.English)
	amount := ""
	if s.Amount.Currency.Valid() {
		amount = string(s.Amount.Currency) + " " + s.Amount.Decimal()
	}
	if s.Kind == display.Idle {
		return [2]string{d.opts.Idle, d.opts.Title}
	}
	return [2]string{w.Short, amount}
}

// init is the profile's initialisation: reset, code table, no cursor.
func (d *Display) init() []byte {
	switch d.opts.Profile {
	case ProfileCD5220:
		return []byte{0x1b, 0x40, 0x0c} // ESC @ initialise, CLR
	}
	b := []byte{0x1b, 0x40} // ESC @ initialise
	if cp, ok := codePages[d.opts.CodePage]; ok {
		b = append(b, 0x1b, 0x74, cp.n) // ESC t n: character code table
	}
	return append(b, 0x1f, 0x01, 0x1f, 0x43, 0x00, 0x0c) // US MD1 overwrite mode, US C 0 cursor off, CLR
}

// frame is the bytes that show s: each line written whole, padded to the
// width, so nothing of the last screen remains.
func (d *Display) frame(s display.Screen) []byte {
	lines := d.Lines(s)
	l1, l2 := d.fit(lines[0], false), d.fit(lines[1], s.Kind != display.Idle)
	var b bytes.Buffer
	switch d.opts.Profile {
	case ProfileCD5220:
		b.Write([]byte{0x1b, 0x51, 0x41}) // ESC Q A: upper line
		b.Write(l1)
		b.WriteByte(0x0d)
		b.Write([]byte{0x1b, 0x51, 0x42}) // ESC Q B: lower line
		b.Write(l2)
		b.WriteByte(0x0d)
	default:
		b.Write([]byte{0x1f, 0x24, 0x01, 0x01}) // US $ 1 1: column 1, row 1
		b.Write(l1)
		b.Write([]byte{0x1f, 0x24, 0x01, 0x02}) // US $ 1 2: column 1, row 2
		b.Write(l2)
	}
	return b.Bytes()
}

// fit encodes text for the display and makes it exactly one line: padded
// with spaces (left aligned, or right aligned for amounts), or truncated.
func (d *Display) fit(text string, right bool) []byte {
	enc := d.encode(Clean(text))
	n := d.opts.Columns
	if len(enc) > n {
		enc = enc[:n]
	}
	pad := bytes.Repeat([]byte{' '}, n-len(enc))
	if right {
		return append(pad, enc...)
	}
	return append(enc, pad...)
}

// encode is text in the display's code table; what the table lacks is
// transliterated, or left out when it has no ASCII form.
func (d *Display) encode(text string) []byte {
	var out []byte
	for _, r := range text {
		if r < 0x80 {
			out = append(out, byte(r))
			continue
		}
		if d.table != nil {
			if b, ok := d.table.EncodeRune(r); ok {
				out = append(out, b)
				continue
			}
		}
		out = append(out, Transliterate(string(r))...)
	}
	return squeeze(out) // what was left out leaves no double spaces
}

// squeeze drops leading, trailing and repeated ASCII spaces.
func squeeze(b []byte) []byte {
	out := b[:0]
	for i, c := range b {
		if c == ' ' && (len(out) == 0 || out[len(out)-1] == ' ' || i == len(b)-1) {
			continue
		}
		out = append(out, c)
	}
	return bytes.TrimRight(out, " ")
}

// Clean removes control characters (CR, LF, ESC, the C1 set) and trims:
// text from the till or a gateway cannot drive the display.
func Clean(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\ufffd' {
			return ' '
		}
		return r
	}, s))
}

// replacements are letters that do not decompose into ASCII plus marks.
var replacements = map[rune]string{
	'ß': "ss", 'Æ': "AE", 'æ': "ae", 'Ø': "O", 'ø': "o", 'Œ': "OE", 'œ': "oe", 'Đ': "D", 'đ': "d",
	'Ł': "L", 'ł': "l", 'Þ': "Th", 'þ': "th", '€': "EUR", '£': "GBP", '¥': "JPY", '“': "\"", '”': "\"",
	'‘': "'", '’': "'", '–': "-", '—': "-", '…': "...", '·': "-", '×': "x", '\u00a0': " ", '\u3000': " ",
}

// Transliterate is s in ASCII: accents dropped (é → e), a few letters
// spelled out (ß → ss), and characters with no ASCII form (Chinese) left
// out.
func Transliterate(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case unicode.Is(unicode.Mn, r):
			// a combining mark: dropped with its accent
		default:
			if rep, ok := replacements[r]; ok {
				b.WriteString(rep)
			}
		}
	}
	return b.String()
}
