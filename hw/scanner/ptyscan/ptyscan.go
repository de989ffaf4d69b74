// Package ptyscan is a virtual scanner for the demo and for development: a
// pseudo-terminal whose slave side stands where a serial scanner would be.
// Anything written to the slave is read as scanner output:
//
//	echo 134567890123456789 > /dev/pts/N
//
// where /dev/pts/N is Path(). Codes end with LF by default, which is what
// echo sends. The scanner keeps the slave open itself, so the terminal
// survives every writer that comes and goes.
package ptyscan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/framing"
	"github.com/posagent/posagent/hw/scanner/internal/feed"
)

// Options configure the virtual scanner.
type Options struct {
	// Name identifies the scanner in scans, logs and status. Default "virtual".
	Name string `yaml:"name"`

	// Framing as for a serial scanner: suffix auto by default, so echo's
	// LF, a scanner's factory CR and CRLF all end a code.
	Framing framing.Options `yaml:",inline"`

	// Logger receives the path and dropped frames. Default: discard.
	Logger *slog.Logger `yaml:"-"`
}

// Scanner is the virtual scanner. It implements scanner.Scanner and
// scanner.StatusReporter.
type Scanner struct {
	opts   Options
	feed   *feed.Feed
	master *os.File // read side: what is written to the slave comes out here
	slave  *os.File // held open so the terminal outlives each writer
	exited chan struct{}
	mu     sync.Mutex // serialises Send
}

var (
	_ scanner.Scanner        = (*Scanner)(nil)
	_ scanner.StatusReporter = (*Scanner)(nil)
)

// New opens a pseudo-terminal pair and starts reading it.
func New(opts Options) (*Scanner, error) {
	const op = "ptyscan.New"
	if opts.Name == "" {
		opts.Name = "virtual"
	}
	if opts.Framing.Suffix == "" {
		opts.Framing.Suffix = framing.SuffixAuto
	}
	if err := opts.Framing.Validate(); err != nil {
		return nil, pos.E(pos.Invalid, op, err)
	}
	master, slave, err := openPTY()
	if err != nil {
		return nil, pos.E(pos.Unavailable, op, err)
	}
	s := &Scanner{opts: opts, feed: feed.New(opts.Name, "virtual", opts.Logger), master: master, slave: slave, exited: make(chan struct{})}
	s.feed.Connected(slave.Name())
	go s.run()
	return s, nil
}

// openPTY opens /dev/ptmx non-blocking, so the runtime poller serves read
// deadlines and Close interrupts a pending read (creack/pty hands back a
// master in blocking mode, where neither works), and opens the slave in raw
// mode so bytes pass unchanged.
func openPTY() (master, slave *os.File, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0)
	}
	if err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("set up pseudo-terminal: %w", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	name := "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
	slave, err = os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	if err := makeRaw(slave); err != nil {
		master.Close()
		slave.Close()
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return master, slave, nil
}

func makeRaw(f *os.File) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	err = sc.Control(func(fd uintptr) {
		t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if err != nil {
			ierr = err
			return
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		ierr = unix.IoctlSetTermios(int(fd), unix.TCSETS, t)
	})
	if err != nil {
		return err
	}
	return ierr
}

// Path is the slave device to write codes to, e.g. /dev/pts/3.
func (s *Scanner) Path() string { return s.slave.Name() }

// Send writes data and the configured suffix to the slave, as if a code had
// been scanned. The demo and tests use it; users use echo.
func (s *Scanner) Send(data string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	suffix := s.opts.Framing.Suffix.Bytes()
	if s.opts.Framing.Suffix == framing.SuffixAuto {
		suffix = []byte{'\n'} // what echo sends
	}
	_, err := s.slave.Write(append([]byte(data), suffix...))
	return err
}

func (s *Scanner) run() {
	defer close(s.exited)
	fr, _ := framing.New(s.opts.Framing)
	buf := make([]byte, 256)
	for {
		var deadline time.Time
		if d := fr.Deadline(); !d.IsZero() {
			deadline = d
		}
		if err := s.master.SetReadDeadline(deadline); err != nil {
			s.stop(fr, err)
			return
		}
		n, err := s.master.Read(buf)
		now := time.Now()
		if n > 0 {
			s.feed.Emit(fr.Feed(buf[:n], now))
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			s.feed.Emit(fr.Expire(now))
		default:
			s.stop(fr, err)
			return
		}
	}
}

// stop ends reading after an error; unless we closed, the error is logged
// and Read starts returning errors, because a new terminal would have
// another path that nobody knows.
func (s *Scanner) stop(fr *framing.Framer, err error) {
	s.feed.Emit(fr.Abort())
	if s.feed.Closed() {
		return
	}
	s.feed.Disconnected(err)
	s.feed.Shut()
}

// Read returns the next scan.
func (s *Scanner) Read(ctx context.Context) (scanner.Scan, error) { return s.feed.Read(ctx) }

// Status reports the slave path and the last scan.
func (s *Scanner) Status() scanner.Status { return s.feed.Status() }

// Close closes both ends of the terminal.
func (s *Scanner) Close() error {
	s.feed.Shut()
	err := s.master.Close()
	<-s.exited
	s.slave.Close()
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}
