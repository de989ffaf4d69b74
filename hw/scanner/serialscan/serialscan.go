// Package serialscan reads barcode scanners on a serial line: RS-232 ports
// and USB-CDC/ACM or USB-serial scanners (/dev/ttyACMn, /dev/ttyUSBn),
// through go.bug.st/serial.
//
// A scanner is found by path or by USB VID/PID (and serial number), so one
// that is unplugged and comes back as another /dev/ttyACMn is found again.
// The reader reconnects by itself with backoff; Read keeps blocking across an
// unplug.
//
// Three quirks of go.bug.st/serial shape the reader:
//   - a read that times out returns (0, nil), which is how the framer's
//     inter-character deadline is served;
//   - an unplug and our own Close surface as the same error (PortClosed, or
//     EIO), so the reader asks the feed whether Close was called before it
//     calls the error a disconnect;
//   - the port is read directly, never through bufio: a buffered reader
//     would hide the timeouts and hold bytes across a reconnect.
package serialscan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/framing"
	"github.com/posagent/posagent/hw/scanner/internal/feed"
)

// Parity is a serial parity setting.
type Parity string

// Parity settings.
const (
	ParityNone  Parity = "none"
	ParityOdd   Parity = "odd"
	ParityEven  Parity = "even"
	ParityMark  Parity = "mark"
	ParitySpace Parity = "space"
)

// Defaults for Options fields left zero.
const (
	DefaultBaud     = 9600
	DefaultDataBits = 8
	DefaultParity   = ParityNone
	DefaultStopBits = 1
)

// Options configure a serial scanner. Zero fields take the defaults
// documented on them. Set Path, or VID and PID.
type Options struct {
	// Name identifies the scanner in scans, logs and status. Default: Path,
	// else "usb:VID:PID".
	Name string `yaml:"name"`

	// Path is the device, e.g. /dev/ttyACM0 or, better because it
	// survives a replug, /dev/serial/by-id/usb-…. Leave empty to find the
	// port by VID/PID instead.
	Path string `yaml:"path"`

	// VID and PID select a USB serial port by its vendor and product ID
	// (hex, "1a86"); Serial, if set, also matches the USB serial number,
	// for tills with two identical scanners. The port is looked up again
	// on every reconnect.
	VID    scanner.USBID `yaml:"vid"`
	PID    scanner.USBID `yaml:"pid"`
	Serial string        `yaml:"serial"`

	// Line settings. Default 9600 baud, 8 data bits, no parity, 1 stop
	// bit, which is what nearly every scanner ships with. USB-CDC scanners
	// ignore them. StopBits is 1 or 2 (1.5 is not supported on Linux).
	Baud     int    `yaml:"baud"`
	DataBits int    `yaml:"data_bits"`
	Parity   Parity `yaml:"parity"`
	StopBits int    `yaml:"stop_bits"`

	// Framing: suffix (default CR), inter-character timeout, AIM and
	// prefix/suffix stripping, maximum length. See framing.Options.
	Framing framing.Options `yaml:",inline"`

	// Backoff between reconnect attempts. Default 250ms doubling to 5s.
	Backoff scanner.Backoff `yaml:"reconnect"`

	// Logger receives connects, disconnects and dropped frames (never a
	// full code). Default: discard.
	Logger *slog.Logger `yaml:"-"`
}

func (o Options) withDefaults() Options {
	if o.Baud == 0 {
		o.Baud = DefaultBaud
	}
	if o.DataBits == 0 {
		o.DataBits = DefaultDataBits
	}
	if o.Parity == "" {
		o.Parity = DefaultParity
	}
	if o.StopBits == 0 {
		o.StopBits = DefaultStopBits
	}
	if o.Name == "" {
		if o.Path != "" {
			o.Name = o.Path
		} else {
			o.Name = "usb:" + o.VID.String() + ":" + o.PID.String()
		}
	}
	o.Backoff = o.Backoff.WithDefaults()
	return o
}

// Validate reports every invalid field, after defaults are applied.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	switch {
	case o.Path != "" && (o.VID != 0 || o.PID != 0 || o.Serial != ""):
		errs = append(errs, errors.New("set either path or vid/pid, not both"))
	case o.Path == "" && (o.VID == 0 || o.PID == 0):
		errs = append(errs, errors.New("set path, or both vid and pid"))
	}
	if o.Baud < 50 || o.Baud > 4_000_000 {
		errs = append(errs, fmt.Errorf("baud %d out of range 50..4000000", o.Baud))
	}
	if o.DataBits < 5 || o.DataBits > 8 {
		errs = append(errs, fmt.Errorf("data bits %d: want 5, 6, 7 or 8", o.DataBits))
	}
	if _, err := o.Parity.mode(); err != nil {
		errs = append(errs, err)
	}
	if o.StopBits != 1 && o.StopBits != 2 {
		errs = append(errs, fmt.Errorf("stop bits %d: want 1 or 2", o.StopBits))
	}
	if err := o.Framing.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := o.Backoff.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return pos.E(pos.Invalid, "serialscan.Options", errors.Join(errs...))
	}
	return nil
}

func (p Parity) mode() (serial.Parity, error) {
	switch Parity(strings.ToLower(string(p))) {
	case ParityNone:
		return serial.NoParity, nil
	case ParityOdd:
		return serial.OddParity, nil
	case ParityEven:
		return serial.EvenParity, nil
	case ParityMark:
		return serial.MarkParity, nil
	case ParitySpace:
		return serial.SpaceParity, nil
	}
	return 0, fmt.Errorf("parity %q: want none, odd, even, mark or space", string(p))
}

// Scanner is a serial barcode scanner. It implements scanner.Scanner and
// scanner.StatusReporter.
type Scanner struct {
	opts Options
	mode *serial.Mode
	feed *feed.Feed

	list func() ([]scanner.Device, error)
	open func(path string, mode *serial.Mode) (serial.Port, error)

	mu     sync.Mutex
	port   serial.Port // the open port, nil while disconnected
	exited chan struct{}
}

var (
	_ scanner.Scanner        = (*Scanner)(nil)
	_ scanner.StatusReporter = (*Scanner)(nil)
)

// New validates opts and starts reading in the background; the port need
// not be present yet.
func New(opts Options) (*Scanner, error) {
	return newScanner(opts, List, serial.Open)
}

func newScanner(opts Options, list func() ([]scanner.Device, error), open func(string, *serial.Mode) (serial.Port, error)) (*Scanner, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	parity, _ := opts.Parity.mode()
	stop := serial.OneStopBit
	if opts.StopBits == 2 {
		stop = serial.TwoStopBits
	}
	s := &Scanner{
		opts:   opts,
		mode:   &serial.Mode{BaudRate: opts.Baud, DataBits: opts.DataBits, Parity: parity, StopBits: stop},
		feed:   feed.New(opts.Name, "serial", opts.Logger),
		list:   list,
		open:   open,
		exited: make(chan struct{}),
	}
	go s.run()
	return s, nil
}

// run connects, reads until the port fails, and reconnects with backoff,
// until Close.
func (s *Scanner) run() {
	defer close(s.exited)
	s.feed.Reconnect(s.opts.Backoff, func() (string, func() error, error) {
		port, path, err := s.connect()
		if err != nil {
			return "", nil, err
		}
		return path, func() error {
			err := s.readPort(port)
			port.Close()
			s.mu.Lock()
			s.port = nil
			s.mu.Unlock()
			return readError(err)
		}, nil
	})
}

// connect resolves and opens the port, and registers it for Close.
func (s *Scanner) connect() (serial.Port, string, error) {
	path, err := s.resolve()
	if err != nil {
		return nil, "", err
	}
	port, err := s.open(path, s.mode)
	if err != nil {
		return nil, "", openError(path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.feed.Closed() {
		port.Close()
		return nil, "", errors.New("closed")
	}
	s.port = port
	return port, path, nil
}

// resolve finds the port's current path.
func (s *Scanner) resolve() (string, error) {
	const op = "serialscan.resolve"
	if s.opts.Path != "" {
		if real, err := filepath.EvalSymlinks(s.opts.Path); err == nil {
			return real, nil
		}
		return s.opts.Path, nil
	}
	devs, err := s.list()
	if err != nil {
		return "", pos.E(pos.Unavailable, op, err)
	}
	var match []string
	for _, d := range devs {
		if d.USB && d.VID == s.opts.VID && d.PID == s.opts.PID && (s.opts.Serial == "" || d.Serial == s.opts.Serial) {
			match = append(match, d.Path)
		}
	}
	id := s.opts.VID.String() + ":" + s.opts.PID.String()
	if s.opts.Serial != "" {
		id += " serial " + s.opts.Serial
	}
	switch len(match) {
	case 0:
		return "", pos.Errorf(pos.NotFound, op, "no serial port with USB ID %s", id)
	case 1:
		return match[0], nil
	}
	sort.Strings(match)
	return "", pos.Errorf(pos.Conflict, op, "%d serial ports match USB ID %s (%s): set serial to choose one", len(match), id, strings.Join(match, ", "))
}

// openError turns a go.bug.st/serial error into one that says what to do.
func openError(path string, err error) error {
	const op = "serialscan.open"
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PermissionDenied:
			return pos.Errorf(pos.Unavailable, op, "%s: permission denied: add the posagent user to group dialout, or install the udev rule", path)
		case serial.PortBusy:
			return pos.Errorf(pos.Unavailable, op, "%s: busy: another program has it open", path)
		case serial.PortNotFound:
			return pos.Errorf(pos.NotFound, op, "%s: not present", path)
		case serial.InvalidSpeed, serial.InvalidDataBits, serial.InvalidParity, serial.InvalidStopBits:
			return pos.Errorf(pos.Invalid, op, "%s: %s", path, pe.Error())
		}
	}
	if errors.Is(err, os.ErrNotExist) {
		return pos.Errorf(pos.NotFound, op, "%s: not present", path)
	}
	return pos.E(pos.Unavailable, op, fmt.Errorf("%s: %w", path, err))
}

// readError names a read failure for the status line. go.bug.st/serial
// reports an unplugged USB port as "Port has been closed", the same words as
// for our own Close, which would mislead whoever reads the status.
func readError(err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) && pe.Code() == serial.PortClosed {
		return pos.Errorf(pos.Unavailable, "serialscan.read", "device went away (unplugged or reset)")
	}
	return pos.E(pos.Unavailable, "serialscan.read", fmt.Errorf("device went away (unplugged or reset): %w", err))
}

// readBuf is one read's worth; a scan rarely exceeds a few dozen bytes.
const readBuf = 256

// readPort reads and frames until the port fails. It returns the error
// that ended it.
func (s *Scanner) readPort(port serial.Port) error {
	fr, _ := framing.New(s.opts.Framing) // validated in New
	buf := make([]byte, readBuf)
	for {
		timeout := serial.NoTimeout
		if d := fr.Deadline(); !d.IsZero() {
			timeout = max(time.Until(d), time.Millisecond)
		}
		if err := port.SetReadTimeout(timeout); err != nil {
			s.feed.Emit(fr.Abort())
			return err
		}
		n, err := port.Read(buf)
		now := time.Now()
		if err != nil {
			s.feed.Emit(fr.Abort())
			return err
		}
		if n == 0 { // go.bug.st/serial's timeout
			s.feed.Emit(fr.Expire(now))
			continue
		}
		s.feed.Emit(fr.Feed(buf[:n], now))
	}
}

// Read returns the next scan. It blocks across unplugs and returns an error
// only when ctx ends or the scanner is closed.
func (s *Scanner) Read(ctx context.Context) (scanner.Scan, error) { return s.feed.Read(ctx) }

// Status reports whether the port is open, which path it is, the last
// error and the last scan time.
func (s *Scanner) Status() scanner.Status { return s.feed.Status() }

// Close stops the reader and closes the port. A frame half read is dropped.
func (s *Scanner) Close() error {
	if !s.feed.Shut() {
		return nil
	}
	s.mu.Lock()
	port := s.port
	s.mu.Unlock()
	if port != nil {
		port.Close() // unblocks the pending Read; the reader sees Closed()
	}
	<-s.exited
	return nil
}

// List returns the serial ports on this machine, with USB VID/PID, serial
// number, manufacturer and product where the port is a USB device.
func List() ([]scanner.Device, error) {
	ports, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, pos.E(pos.Unavailable, "serialscan.List", err)
	}
	out := make([]scanner.Device, 0, len(ports))
	for _, p := range ports {
		d := scanner.Device{Kind: "serial", Path: p.Name, Interface: -1}
		if p.IsUSB {
			vid, err1 := scanner.ParseUSBID(p.VID)
			pid, err2 := scanner.ParseUSBID(p.PID)
			if err1 == nil && err2 == nil {
				d.USB, d.VID, d.PID = true, vid, pid
			}
			d.Serial, d.Manufacturer, d.Product = p.SerialNumber, p.Manufacturer, p.Product
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}
