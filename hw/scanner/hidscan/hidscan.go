// Package hidscan reads USB-HID barcode scanners through
// github.com/karalabe/hid: keyboard-wedge scanners (boot keyboard reports)
// and scanners in HID-POS mode (usage page 0x8C barcode reports).
//
// # What opening a scanner does on Linux
//
// On Linux, karalabe/hid drives the device through its bundled libusb, not
// hidraw. Opening an interface detaches the kernel's usbhid driver from it
// for as long as it is open, so a keyboard-wedge scanner stops typing into
// whatever window has focus: the till application never receives a payment
// code as keystrokes. A clean Close reattaches the driver. A crash (or
// SIGKILL) does not: the scanner stays silent to the desktop until it is
// replugged or posagent opens and closes it again.
//
// Permissions follow from libusb: posagent needs read-write access to the
// USB device node /dev/bus/usb/BBB/DDD, not to /dev/hidrawN. A udev rule
// such as
//
//	SUBSYSTEM=="usb", ATTRS{idVendor}=="1eab", ATTRS{idProduct}=="1d06", MODE="0660", GROUP="posagent"
//
// grants it; packaging ships the rule.
//
// libusb does not report a HID interface's usage page on Linux, so a
// composite scanner (keyboard and HID-POS interfaces) is configured by
// interface number (Options.Interface) and protocol, as `posagent devices`
// lists them.
//
// A build without cgo has no USB-HID support: Supported reports false, New
// and List return an error saying so, and evdevscan remains for
// keyboard-wedge scanners.
//
// # Reading
//
// One goroutine owns the open device: it reads with a short timeout, so
// Close takes effect within it, and it alone closes the device, because the
// library frees the handle on Close while a concurrent read may still use
// it. Any read error counts as a disconnect: the device is closed, the code
// in progress dropped, and the scanner enumerated again with backoff.
package hidscan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/karalabe/hid"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/framing"
	"github.com/posagent/posagent/hw/scanner/internal/feed"
)

// Protocol is how a scanner's reports are read.
type Protocol string

// Protocols.
const (
	// Keyboard: boot keyboard reports, US layout (keyboard-wedge mode).
	Keyboard Protocol = "keyboard"
	// POS: HID-POS barcode reports, usage page 0x8C.
	POS Protocol = "hidpos"
)

// Device is an open HID device, as the reader needs it.
type Device interface {
	// ReadTimeout reads one input report, waiting at most timeout; it
	// returns 0, nil when none came.
	ReadTimeout(b []byte, timeout time.Duration) (int, error)
	Close() error
}

// Backend finds and opens HID devices. The default is libusb through
// karalabe/hid; tests use a fake.
type Backend interface {
	Enumerate(vid, pid scanner.USBID) ([]scanner.Device, error)
	Open(scanner.Device) (Device, error)
}

// Options configure a HID scanner. Zero fields take the documented defaults.
type Options struct {
	// Name identifies the scanner in scans, logs and status. Default
	// "hid:VID:PID".
	Name string `yaml:"name"`

	// VID and PID select the device (required); Serial, if set, also
	// matches its USB serial number.
	VID    scanner.USBID `yaml:"vid"`
	PID    scanner.USBID `yaml:"pid"`
	Serial string        `yaml:"serial"`

	// Interface is the USB interface number to open. Required when the
	// device has several HID interfaces; nil means "the only one".
	Interface *int `yaml:"interface"`

	// Protocol is "keyboard" (default) or "hidpos".
	Protocol Protocol `yaml:"protocol"`

	// ReportID: for keyboard, the keyboard collection's report ID if the
	// device numbers its reports (default none); for hidpos, the barcode
	// report's ID (default 2).
	ReportID byte `yaml:"report_id"`

	// Framing for keyboard mode: the suffix is the key the scanner ends a
	// code with (default CR, i.e. Enter; "tab" for Tab). For hidpos only
	// max_length applies; the symbology comes in its own field.
	Framing framing.Options `yaml:",inline"`

	// Backoff between reconnect attempts. Default 250ms doubling to 5s.
	Backoff scanner.Backoff `yaml:"reconnect"`

	// Logger receives connects, disconnects and dropped codes (never a
	// full code). Default: discard.
	Logger *slog.Logger `yaml:"-"`

	// Backend finds and opens devices. Default: libusb via karalabe/hid.
	Backend Backend `yaml:"-"`
}

// readTimeout bounds each read, and so how long Close waits.
const readTimeout = 100 * time.Millisecond

func (o Options) withDefaults() Options {
	if o.Protocol == "" {
		o.Protocol = Keyboard
	}
	if o.Name == "" {
		o.Name = "hid:" + o.VID.String() + ":" + o.PID.String()
	}
	if o.Protocol == POS && o.ReportID == 0 {
		o.ReportID = posDefaultReportID
	}
	o.Backoff = o.Backoff.WithDefaults()
	return o
}

// Validate reports every invalid field.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	if o.VID == 0 || o.PID == 0 {
		errs = append(errs, errors.New("set vid and pid"))
	}
	if o.Protocol != Keyboard && o.Protocol != POS {
		errs = append(errs, fmt.Errorf("protocol %q: want keyboard or hidpos", string(o.Protocol)))
	}
	if o.Interface != nil && (*o.Interface < 0 || *o.Interface > 255) {
		errs = append(errs, fmt.Errorf("interface %d out of range 0..255", *o.Interface))
	}
	if err := o.Framing.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := o.Backoff.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return pos.E(pos.Invalid, "hidscan.Options", errors.Join(errs...))
	}
	return nil
}

// Supported reports whether this build can reach USB-HID devices (it needs
// cgo for libusb).
func Supported() bool { return hid.Supported() }

// ErrUnsupported says why HID is unavailable in this build.
var ErrUnsupported = errors.New("USB-HID support is not in this build (it was built without cgo); use an evdev scanner for keyboard-wedge scanners")

// Scanner is a USB-HID barcode scanner. It implements scanner.Scanner and
// scanner.StatusReporter.
type Scanner struct {
	opts   Options
	feed   *feed.Feed
	exited chan struct{}
}

var (
	_ scanner.Scanner        = (*Scanner)(nil)
	_ scanner.StatusReporter = (*Scanner)(nil)
)

// New validates opts and starts reading in the background; the device need
// not be present yet. With the default backend in a build without cgo it
// logs and returns an error wrapping ErrUnsupported.
func New(opts Options) (*Scanner, error) {
	const op = "hidscan.New"
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	s := &Scanner{opts: opts, feed: feed.New(opts.Name, "hid", opts.Logger), exited: make(chan struct{})}
	if opts.Backend == nil {
		s.feed.Log().Info("USB-HID backend", "supported", hid.Supported(), "backend", "libusb (karalabe/hid)")
		if !hid.Supported() {
			s.feed.Log().Error("USB-HID scanner unavailable", "err", ErrUnsupported)
			return nil, pos.E(pos.Unavailable, op, ErrUnsupported)
		}
		s.opts.Backend = libusb{}
	}
	go s.run()
	return s, nil
}

func (s *Scanner) run() {
	defer close(s.exited)
	s.feed.Reconnect(s.opts.Backoff, func() (string, func() error, error) {
		dev, info, err := s.connect()
		if err != nil {
			return "", nil, err
		}
		return info.Path, func() error {
			err := s.read(dev)
			dev.Close() // only this goroutine ever touches dev
			return err
		}, nil
	})
}

// connect enumerates and opens the configured device.
func (s *Scanner) connect() (Device, scanner.Device, error) {
	const op = "hidscan.connect"
	devs, err := s.opts.Backend.Enumerate(s.opts.VID, s.opts.PID)
	if err != nil {
		return nil, scanner.Device{}, pos.E(pos.Unavailable, op, err)
	}
	info, err := s.choose(devs)
	if err != nil {
		return nil, scanner.Device{}, err
	}
	dev, err := s.opts.Backend.Open(info)
	if err != nil {
		return nil, scanner.Device{}, pos.E(pos.Unavailable, op, fmt.Errorf("open %s (interface %d): %w; is the USB device node writable (udev rule)?", info.Path, info.Interface, err))
	}
	return dev, info, nil
}

// choose picks the one enumerated interface the options describe.
func (s *Scanner) choose(devs []scanner.Device) (scanner.Device, error) {
	const op = "hidscan.connect"
	id := s.opts.VID.String() + ":" + s.opts.PID.String()
	var match []scanner.Device
	for _, d := range devs {
		if d.VID != s.opts.VID || d.PID != s.opts.PID {
			continue
		}
		if s.opts.Serial != "" && d.Serial != s.opts.Serial {
			continue
		}
		if s.opts.Interface != nil && d.Interface != *s.opts.Interface {
			continue
		}
		match = append(match, d)
	}
	switch {
	case len(match) == 1:
		return match[0], nil
	case len(match) == 0:
		what := "no HID device " + id
		if s.opts.Serial != "" {
			what += " serial " + s.opts.Serial
		}
		if s.opts.Interface != nil {
			what += fmt.Sprintf(" interface %d", *s.opts.Interface)
		}
		return scanner.Device{}, pos.Errorf(pos.NotFound, op, "%s", what)
	}
	sort.Slice(match, func(i, j int) bool { return match[i].Path < match[j].Path })
	var ifaces []string
	serials := map[string]bool{}
	for _, d := range match {
		ifaces = append(ifaces, fmt.Sprint(d.Interface))
		serials[d.Serial] = true
	}
	if len(serials) > 1 {
		return scanner.Device{}, pos.Errorf(pos.Conflict, op, "%d HID devices match %s: set serial to choose one", len(serials), id)
	}
	return scanner.Device{}, pos.Errorf(pos.Conflict, op, "HID device %s has interfaces %s: set interface to choose one", id, strings.Join(ifaces, ", "))
}

// reportBuf holds the largest report we expect (HID-POS: 64 bytes) with room.
const reportBuf = 256

// read decodes reports until the device fails or the scanner is closed.
func (s *Scanner) read(dev Device) error {
	fr, _ := framing.New(s.opts.Framing) // validated in New
	kb := &KeyboardDecoder{ReportID: s.opts.ReportID}
	pd := &POSDecoder{ReportID: s.opts.ReportID, MaxLen: fr.Options().MaxLen}
	abort := func() {
		s.feed.Emit(fr.Abort())
		if f, ok := pd.Reset(); ok {
			f.At = time.Now()
			s.feed.Emit([]framing.Frame{f})
		}
	}
	buf := make([]byte, reportBuf)
	for !s.feed.Closed() {
		timeout := readTimeout
		if d := fr.Deadline(); !d.IsZero() {
			timeout = min(timeout, max(time.Until(d), time.Millisecond))
		}
		n, err := dev.ReadTimeout(buf, timeout)
		now := time.Now()
		if err != nil {
			abort()
			return pos.E(pos.Unavailable, "hidscan.read", fmt.Errorf("device went away (unplugged or reset): %w", err))
		}
		if n == 0 {
			s.feed.Emit(fr.Expire(now))
			continue
		}
		report := buf[:n]
		if s.opts.Protocol == POS {
			if f, ok := pd.Decode(report); ok {
				f.At = now
				s.feed.Emit([]framing.Frame{f})
			}
			continue
		}
		s.feed.Emit(decodeKeys(kb, fr, report, now))
	}
	abort()
	return nil
}

// decodeKeys runs one keyboard report through the decoder into the framer.
func decodeKeys(kb *KeyboardDecoder, fr *framing.Framer, report []byte, now time.Time) []framing.Frame {
	var out []framing.Frame
	out = append(out, fr.Expire(now)...)
	for _, ev := range kb.Decode(report) {
		if ev.Garbled != "" {
			fr.Poison(ev.Garbled)
			fr.Touch(now)
			continue
		}
		out = append(out, fr.Feed([]byte{ev.Char}, now)...)
	}
	// A report without a new key (a release, a held key) is still
	// activity within the code.
	fr.Touch(now)
	return out
}

// Read returns the next scan. It blocks across unplugs.
func (s *Scanner) Read(ctx context.Context) (scanner.Scan, error) { return s.feed.Read(ctx) }

// Status reports whether the device is open, its path, the last error and
// the last scan.
func (s *Scanner) Status() scanner.Status { return s.feed.Status() }

// Close stops the reader, which closes the device (reattaching the kernel
// driver) within one read timeout.
func (s *Scanner) Close() error {
	s.feed.Shut()
	<-s.exited
	return nil
}

// List returns every HID interface on the machine with VID/PID, serial,
// product strings and interface number. It fails with ErrUnsupported in a
// build without cgo.
func List() ([]scanner.Device, error) {
	if !hid.Supported() {
		return nil, pos.E(pos.Unavailable, "hidscan.List", ErrUnsupported)
	}
	devs, err := libusb{}.Enumerate(0, 0)
	if err != nil {
		return nil, err
	}
	sort.Slice(devs, func(i, j int) bool {
		if devs[i].Path != devs[j].Path {
			return devs[i].Path < devs[j].Path
		}
		return devs[i].Interface < devs[j].Interface
	})
	return devs, nil
}

// libusb is the karalabe/hid backend.
type libusb struct{}

func (libusb) Enumerate(vid, pid scanner.USBID) ([]scanner.Device, error) {
	infos, err := hid.Enumerate(uint16(vid), uint16(pid))
	if err != nil {
		return nil, pos.E(pos.Unavailable, "hidscan.Enumerate", err)
	}
	out := make([]scanner.Device, 0, len(infos))
	for _, i := range infos {
		out = append(out, scanner.Device{
			Kind: "hid", Path: i.Path, USB: true,
			VID: scanner.USBID(i.VendorID), PID: scanner.USBID(i.ProductID),
			Serial: i.Serial, Manufacturer: i.Manufacturer, Product: i.Product,
			Interface: i.Interface,
		})
	}
	return out, nil
}

func (libusb) Open(d scanner.Device) (Device, error) {
	dev, err := hid.DeviceInfo{Path: d.Path, VendorID: uint16(d.VID), ProductID: uint16(d.PID), Serial: d.Serial, Interface: d.Interface}.Open()
	if err != nil {
		return nil, err
	}
	return hidDevice{dev}, nil
}

// hidDevice adapts hid.Device's millisecond timeout.
type hidDevice struct{ d hid.Device }

func (h hidDevice) ReadTimeout(b []byte, timeout time.Duration) (int, error) {
	// karalabe/hid: -1 blocks, 0 does not wait at all; keep at least 1ms.
	return h.d.ReadTimeout(b, int(max(timeout/time.Millisecond, 1)))
}

func (h hidDevice) Close() error { return h.d.Close() }
