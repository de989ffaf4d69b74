// Package framing cuts a scanner's byte stream into codes. It is shared by
// every byte-oriented scanner (serial, USB-HID keyboard, evdev, the virtual
// pseudo-terminal scanner) so they all agree on what a code is.
//
// A Framer does no I/O and keeps no clock: the caller passes the arrival time
// of every chunk and asks, through Deadline and Expire, for the frames that a
// silence completes. That keeps it table-testable and fuzzable.
//
// The rule the Framer never breaks: a frame it emits as a code is a contiguous
// run of the input with only framing removed (suffix, AIM identifier, the
// configured prefix/suffix, stray line-ending bytes at either end). Anything
// doubtful (too long, cut short by a silence or an unplug, garbled by the
// decoder feeding it) is dropped whole and reported with a reason, never
// truncated or patched into something that could pass for a code.
package framing

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Suffix is the terminator a scanner sends after each code.
type Suffix string

// The suffixes scanners can be configured to send.
const (
	// SuffixAuto: CR, LF or CRLF each end a code, a CR LF pair being one
	// terminator, so a scanner left at its factory default (CR) and one
	// set to LF or CRLF all work, and no setting yields an empty or a
	// joined scan. The default.
	SuffixAuto Suffix = "auto"
	SuffixCR   Suffix = "cr"   // "\r", the factory default of most scanners
	SuffixLF   Suffix = "lf"   // "\n"
	SuffixCRLF Suffix = "crlf" // "\r\n"
	SuffixTab  Suffix = "tab"  // "\t"
	SuffixNone Suffix = "none" // no terminator: a silence of InterCharTimeout ends the code
)

// Bytes is the terminator's byte sequence; nil for SuffixNone and
// SuffixAuto (whose terminator is either byte).
func (s Suffix) Bytes() []byte {
	switch s {
	case SuffixCR:
		return []byte{'\r'}
	case SuffixLF:
		return []byte{'\n'}
	case SuffixCRLF:
		return []byte{'\r', '\n'}
	case SuffixTab:
		return []byte{'\t'}
	}
	return nil
}

// ParseSuffix accepts the names used in configuration ("auto", "cr", "lf",
// "crlf", "tab", "none"), case-insensitively.
func ParseSuffix(s string) (Suffix, error) {
	switch x := Suffix(strings.ToLower(s)); x {
	case SuffixAuto, SuffixCR, SuffixLF, SuffixCRLF, SuffixTab, SuffixNone:
		return x, nil
	}
	return "", fmt.Errorf("unknown suffix %q (want auto, cr, lf, crlf, tab or none)", s)
}

// Defaults for Options fields left zero.
const (
	DefaultSuffix           = SuffixAuto
	DefaultInterCharTimeout = 100 * time.Millisecond
	DefaultMaxLen           = 128
)

// Options configure a Framer. The zero value is usable: every zero field takes
// the default documented on it. Scanner options embed it inline, so the YAML
// keys below sit beside each scanner's own.
type Options struct {
	// Suffix ends a code. Default SuffixAuto (CR, LF or CRLF).
	Suffix Suffix `yaml:"suffix"`

	// InterCharTimeout is the longest silence inside one code. With
	// SuffixNone a silence this long ends the code; with a suffix, bytes
	// still unterminated after it are dropped (a cut cable, a lost
	// terminator), so they are never glued onto the next scan. A scanner
	// sends a whole code in a few milliseconds even at 9600 baud.
	// Default 100ms.
	InterCharTimeout time.Duration `yaml:"inter_char_timeout"`

	// StripAIM removes a leading AIM symbology identifier ("]" plus two
	// characters, e.g. "]E0" for EAN-13, "]Q1" for QR) and reports it in
	// Frame.Symbology. A frame without one is passed on unchanged.
	StripAIM bool `yaml:"strip_aim"`

	// StripPrefix and StripSuffix remove fixed strings a scanner was
	// programmed to add around each code, when present. A frame without
	// them is passed on unchanged.
	StripPrefix string `yaml:"strip_prefix"`
	StripSuffix string `yaml:"strip_suffix"`

	// MaxLen is the longest code accepted, after stripping. A longer frame
	// is dropped whole with ErrTooLong, never truncated. Default 128
	// (payment codes have at most 24 digits; GS1-128 product labels up to 48).
	MaxLen int `yaml:"max_length"`
}

// withDefaults fills zero fields.
func (o Options) withDefaults() Options {
	if o.Suffix == "" {
		o.Suffix = DefaultSuffix
	}
	if o.InterCharTimeout == 0 {
		o.InterCharTimeout = DefaultInterCharTimeout
	}
	if o.MaxLen == 0 {
		o.MaxLen = DefaultMaxLen
	}
	return o
}

// Validate reports the first invalid field, after defaults are applied.
func (o Options) Validate() error {
	o = o.withDefaults()
	if _, err := ParseSuffix(string(o.Suffix)); err != nil {
		return err
	}
	if o.InterCharTimeout < time.Millisecond || o.InterCharTimeout > 10*time.Second {
		return fmt.Errorf("inter-character timeout %v out of range 1ms..10s", o.InterCharTimeout)
	}
	if o.MaxLen < 1 || o.MaxLen > 4096 {
		return fmt.Errorf("maximum length %d out of range 1..4096", o.MaxLen)
	}
	return nil
}

// Reasons a frame is dropped. Frame.Err wraps one of them.
var (
	ErrTooLong   = errors.New("longer than the maximum length")
	ErrNoSuffix  = errors.New("no suffix before the inter-character timeout")
	ErrCutShort  = errors.New("cut short by a disconnect")
	ErrGarbled   = errors.New("garbled by the device")
	ErrEmptyCode = errors.New("nothing left after stripping the framing")
)

// Frame is one framed code, or one dropped frame with its reason.
type Frame struct {
	Data      string    // the code, framing removed; empty when Err != nil
	Symbology string    // the AIM identifier removed by StripAIM, e.g. "]E0"
	At        time.Time // arrival time of the frame's last byte
	Len       int       // bytes in the frame before stripping (for drop log lines)
	Err       error     // non-nil: the frame was dropped whole, for this reason
}

// Framer turns chunks of bytes into frames. It is not safe for concurrent use.
type Framer struct {
	opts   Options
	suffix []byte
	auto   bool // SuffixAuto: CR or LF ends a code

	buf      []byte    // the frame in progress, capped at MaxLen+len(suffix)+overhead
	n        int       // bytes in the frame in progress, including those not kept
	last     time.Time // arrival of the last byte of the frame in progress
	overflow bool      // the frame in progress is already too long
	poison   error     // the frame in progress was garbled
}

// New validates opts and returns a Framer.
func New(opts Options) (*Framer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	return &Framer{opts: opts, suffix: opts.Suffix.Bytes(), auto: opts.Suffix == SuffixAuto}, nil
}

// Options returns the options in effect, defaults filled in.
func (f *Framer) Options() Options { return f.opts }

// Feed adds bytes that arrived at now and returns the frames they complete,
// preceded by any frame a silence before now completed.
func (f *Framer) Feed(p []byte, now time.Time) []Frame {
	var out []Frame
	if len(p) > 0 {
		out = f.Expire(now)
	}
	for _, b := range p {
		if f.n == 0 && (b == '\r' || b == '\n' || b == '\t') {
			// Line-ending bytes between frames (the LF of a CRLF read by
			// a framer set to CR) start nothing.
			continue
		}
		if f.auto && (b == '\r' || b == '\n') {
			// The frame ends here; the LF of a CR LF pair then arrives
			// between frames and starts nothing (above).
			f.add(b, now)
			out = append(out, f.finish(1))
			continue
		}
		f.add(b, now)
		if len(f.suffix) > 0 && f.endsWithSuffix() {
			out = append(out, f.finish(len(f.suffix)))
		}
	}
	return out
}

// keepLimit bounds the buffer: enough to hold a code of MaxLen plus every
// strippable part, so an overlong frame is detected without storing it.
func (f *Framer) keepLimit() int {
	return f.opts.MaxLen + len(f.suffix) + 1 + len(f.opts.StripPrefix) + len(f.opts.StripSuffix) + 3 + 4
}

func (f *Framer) add(b byte, now time.Time) {
	f.n++
	f.last = now
	if f.overflow {
		// Keep only what suffix detection needs.
		if len(f.suffix) > 0 {
			f.buf = append(f.buf, b)
			if len(f.buf) > len(f.suffix) {
				f.buf = f.buf[len(f.buf)-len(f.suffix):]
			}
		}
		return
	}
	f.buf = append(f.buf, b)
	if len(f.buf) > f.keepLimit() {
		f.overflow = true
		if len(f.suffix) > 0 {
			f.buf = append(f.buf[:0], f.buf[len(f.buf)-len(f.suffix):]...)
		} else {
			f.buf = f.buf[:0]
		}
	}
}

func (f *Framer) endsWithSuffix() bool {
	return len(f.buf) >= len(f.suffix) && bytes.Equal(f.buf[len(f.buf)-len(f.suffix):], f.suffix)
}

// Deadline is when the frame in progress times out; zero when there is none.
// A reader uses it as its next read timeout.
func (f *Framer) Deadline() time.Time {
	if f.n == 0 {
		return time.Time{}
	}
	return f.last.Add(f.opts.InterCharTimeout)
}

// Expire ends the frame in progress if its deadline is at or before now: with
// SuffixNone it becomes a code, otherwise it is dropped with ErrNoSuffix.
func (f *Framer) Expire(now time.Time) []Frame {
	d := f.Deadline()
	if d.IsZero() || now.Before(d) {
		return nil
	}
	if f.opts.Suffix == SuffixNone {
		return []Frame{f.finish(0)}
	}
	return []Frame{f.drop(ErrNoSuffix)}
}

// Abort drops the frame in progress, if any, with ErrCutShort. A reader
// calls it when the device goes away, so half a code never survives a
// reconnect.
func (f *Framer) Abort() []Frame {
	if f.n == 0 {
		return nil
	}
	return []Frame{f.drop(ErrCutShort)}
}

// Poison marks the frame in progress as garbled: it will be dropped whole,
// with an error wrapping ErrGarbled and reason, when it ends. Decoders call
// it for input they cannot translate (an unmapped key, a rollover report),
// because skipping that input would emit a code that was never scanned.
func (f *Framer) Poison(reason string) {
	if f.poison == nil {
		f.poison = fmt.Errorf("%w: %s", ErrGarbled, reason)
	}
	if f.n == 0 {
		// The garbled input starts a frame of its own.
		f.n = 1
	}
}

// Touch records activity at now without adding a byte, so a frame that a
// decoder is still assembling (a held key) does not time out.
func (f *Framer) Touch(now time.Time) {
	if f.n > 0 {
		f.last = now
	}
}

func (f *Framer) drop(err error) Frame {
	fr := Frame{At: f.last, Len: f.n, Err: err}
	f.reset()
	return fr
}

func (f *Framer) reset() {
	f.buf = f.buf[:0]
	f.n = 0
	f.overflow = false
	f.poison = nil
}

// finish ends the frame in progress; cut is the length of its terminator.
func (f *Framer) finish(cut int) Frame {
	fr := Frame{At: f.last, Len: f.n}
	switch {
	case f.poison != nil:
		fr.Err = f.poison
	case f.overflow:
		fr.Err = ErrTooLong
	default:
		data := f.buf[:len(f.buf)-cut]
		data = bytes.Trim(data, "\r\n\t")
		if f.opts.StripAIM && len(data) >= 3 && data[0] == ']' {
			fr.Symbology = string(data[:3])
			data = data[3:]
		}
		if p := f.opts.StripPrefix; p != "" && bytes.HasPrefix(data, []byte(p)) {
			data = data[len(p):]
		}
		if s := f.opts.StripSuffix; s != "" && bytes.HasSuffix(data, []byte(s)) {
			data = data[:len(data)-len(s)]
		}
		switch {
		case len(data) > f.opts.MaxLen:
			fr.Err = ErrTooLong
		case len(data) == 0:
			fr.Err = ErrEmptyCode
		default:
			fr.Data = string(data)
		}
	}
	if fr.Err != nil {
		fr.Symbology = ""
	}
	f.reset()
	return fr
}
