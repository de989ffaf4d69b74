//go:build linux

// Package evdevscan reads keyboard-wedge scanners through the Linux input
// layer (/dev/input/eventN), in pure Go: it works in builds without cgo,
// where hidscan is unavailable.
//
// The device is grabbed with EVIOCGRAB while open, so its keystrokes reach
// posagent only and never the focused window. The grab ends when the file
// is closed, including when posagent crashes: unlike a libusb detach, the
// kernel releases it with the file. Give the path as a /dev/input/by-id
// link (…-event-kbd), which survives a replug; posagent needs read access
// to the event device (group input, or a udev rule).
package evdevscan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/framing"
	"github.com/posagent/posagent/hw/scanner/internal/feed"
)

// Options configure an evdev scanner.
type Options struct {
	// Name identifies the scanner. Default: Path.
	Name string `yaml:"name"`
	// Path is the event device, preferably /dev/input/by-id/…-event-kbd.
	Path string `yaml:"path"`
	// Framing: suffix is the key ending a code (default CR, i.e. Enter).
	Framing framing.Options `yaml:",inline"`
	// Backoff between reconnect attempts. Default 250ms doubling to 5s.
	Backoff scanner.Backoff `yaml:"reconnect"`
	// Logger; default discard.
	Logger *slog.Logger `yaml:"-"`
}

// Validate reports every invalid field.
func (o Options) Validate() error {
	var errs []error
	if o.Path == "" {
		errs = append(errs, errors.New("set path (e.g. /dev/input/by-id/usb-…-event-kbd)"))
	}
	if err := o.Framing.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := o.Backoff.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return pos.E(pos.Invalid, "evdevscan.Options", errors.Join(errs...))
	}
	return nil
}

// Scanner is an evdev keyboard-wedge scanner.
type Scanner struct {
	opts   Options
	feed   *feed.Feed
	grab   func(f *os.File) error
	exited chan struct{}

	mu  sync.Mutex
	cur *os.File // the open device, for Close
}

var (
	_ scanner.Scanner        = (*Scanner)(nil)
	_ scanner.StatusReporter = (*Scanner)(nil)
)

// New validates opts and starts reading; the device need not exist yet.
func New(opts Options) (*Scanner, error) { return newScanner(opts, grab) }

func newScanner(opts Options, grab func(*os.File) error) (*Scanner, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = opts.Path
	}
	opts.Backoff = opts.Backoff.WithDefaults()
	s := &Scanner{opts: opts, feed: feed.New(opts.Name, "evdev", opts.Logger), grab: grab, exited: make(chan struct{})}
	go s.run()
	return s, nil
}

// grab takes the device for this process alone (EVIOCGRAB).
func grab(f *os.File) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := sc.Control(func(fd uintptr) { ierr = unix.IoctlSetInt(int(fd), evIOCGRAB, 1) }); err != nil {
		return err
	}
	if ierr != nil {
		return fmt.Errorf("EVIOCGRAB: %w (another program holds the scanner?)", ierr)
	}
	return nil
}

func (s *Scanner) run() {
	defer close(s.exited)
	s.feed.Reconnect(s.opts.Backoff, func() (string, func() error, error) {
		f, path, err := s.open()
		if err != nil {
			return "", nil, err
		}
		return path, func() error {
			err := s.read(f)
			s.mu.Lock()
			s.cur = nil
			s.mu.Unlock()
			f.Close()
			return err
		}, nil
	})
}

func (s *Scanner) open() (*os.File, string, error) {
	const op = "evdevscan.open"
	path := s.opts.Path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	// Non-blocking, so the runtime poller serves deadlines and Close.
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		kind := pos.Unavailable
		if errors.Is(err, unix.ENOENT) {
			kind = pos.NotFound
		}
		return nil, "", pos.E(kind, op, fmt.Errorf("%s: %w", path, err))
	}
	f := os.NewFile(uintptr(fd), path)
	if err := s.grab(f); err != nil {
		f.Close()
		return nil, "", pos.E(pos.Unavailable, op, fmt.Errorf("%s: %w", path, err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.feed.Closed() {
		f.Close()
		return nil, "", errors.New("closed")
	}
	s.cur = f
	return f, path, nil
}

// eventSize is sizeof(struct input_event): a timeval, type, code, value.
var eventSize = int(unsafe.Sizeof(unix.Timeval{})) + 8

func (s *Scanner) read(f *os.File) error {
	fr, _ := framing.New(s.opts.Framing)
	var kd KeyDecoder
	buf := make([]byte, eventSize*64)
	have := 0
	for !s.feed.Closed() {
		if err := f.SetReadDeadline(fr.Deadline()); err != nil {
			s.feed.Emit(fr.Abort())
			return err
		}
		n, err := f.Read(buf[have:])
		now := time.Now()
		have += n
		for have >= eventSize {
			ev := buf[:eventSize]
			tv := eventSize - 8
			typ := uint16(ev[tv]) | uint16(ev[tv+1])<<8
			code := uint16(ev[tv+2]) | uint16(ev[tv+3])<<8
			value := int32(uint32(ev[tv+4]) | uint32(ev[tv+5])<<8 | uint32(ev[tv+6])<<16 | uint32(ev[tv+7])<<24)
			if c, bad := kd.Decode(typ, code, value); bad != "" {
				fr.Poison(bad)
				fr.Touch(now)
			} else if c != 0 {
				s.feed.Emit(fr.Feed([]byte{c}, now))
			} else if typ == evKey {
				fr.Touch(now)
			}
			copy(buf, buf[eventSize:have])
			have -= eventSize
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			s.feed.Emit(fr.Expire(now))
		case errors.Is(err, io.EOF):
			s.feed.Emit(fr.Abort())
			return pos.Errorf(pos.Unavailable, "evdevscan.read", "device went away (end of file)")
		default:
			s.feed.Emit(fr.Abort())
			return pos.E(pos.Unavailable, "evdevscan.read", fmt.Errorf("device went away (unplugged?): %w", err))
		}
	}
	s.feed.Emit(fr.Abort())
	return nil
}

// Read returns the next scan; it blocks across unplugs.
func (s *Scanner) Read(ctx context.Context) (scanner.Scan, error) { return s.feed.Read(ctx) }

// Status reports the scanner's health.
func (s *Scanner) Status() scanner.Status { return s.feed.Status() }

// Close releases the grab and stops reading.
func (s *Scanner) Close() error {
	if !s.feed.Shut() {
		return nil
	}
	s.mu.Lock()
	f := s.cur
	s.mu.Unlock()
	if f != nil {
		f.Close() // the poller wakes the pending Read; the reader sees Closed()
	}
	<-s.exited
	return nil
}

// List returns the input devices that can type (keyboards, and so
// keyboard-wedge scanners), with USB VID/PID and name from sysfs.
func List() ([]scanner.Device, error) {
	paths, err := filepath.Glob("/sys/class/input/event*")
	if err != nil {
		return nil, err
	}
	var out []scanner.Device
	for _, p := range paths {
		keys := readSys(filepath.Join(p, "device/capabilities/key"))
		if len(keys) < 16 { // not a keyboard: too few key bits
			continue
		}
		d := scanner.Device{Kind: "evdev", Path: "/dev/input/" + filepath.Base(p), Interface: -1, Product: readSys(filepath.Join(p, "device/name"))}
		if bus := readSys(filepath.Join(p, "device/id/bustype")); bus == "0003" { // BUS_USB
			v, err1 := scanner.ParseUSBID(readSys(filepath.Join(p, "device/id/vendor")))
			q, err2 := scanner.ParseUSBID(readSys(filepath.Join(p, "device/id/product")))
			d.USB, d.VID, d.PID = err1 == nil && err2 == nil, v, q
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return eventNum(out[i].Path) < eventNum(out[j].Path) })
	return out, nil
}

func readSys(p string) string {
	b, _ := os.ReadFile(p)
	return strings.TrimSpace(string(b))
}

func eventNum(p string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(p), "event"))
	return n
}
