package escpos

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/printertest"
)

// fake is the printer end of a transport: it answers StatusQuery with
// status and records every other byte.
type fake struct {
	mu     sync.Mutex
	status []byte
	silent bool // never answer
	got    bytes.Buffer
}

func (f *fake) setStatus(b ...byte) {
	f.mu.Lock()
	f.status = b
	f.mu.Unlock()
}

func (f *fake) received() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.got.Bytes())
}

// serve reads rw until it fails.
func (f *fake) serve(rw io.ReadWriter) {
	var pending []byte
	buf := make([]byte, 4096)
	for {
		n, err := rw.Read(buf)
		pending = append(pending, buf[:n]...)
		for len(pending) > 0 {
			if bytes.HasPrefix(pending, StatusQuery) {
				pending = pending[len(StatusQuery):]
				f.mu.Lock()
				ans, silent := f.status, f.silent
				f.mu.Unlock()
				if !silent {
					rw.Write(ans)
				}
				continue
			}
			if len(pending) < len(StatusQuery) && bytes.HasPrefix(StatusQuery, pending) {
				break // wait for the rest of a query
			}
			f.mu.Lock()
			f.got.WriteByte(pending[0])
			f.mu.Unlock()
			pending = pending[1:]
		}
		if err != nil {
			return
		}
	}
}

func newFake() *fake { return &fake{status: []byte{0x12, 0x12, 0x12}} }

// tcpFake listens on loopback and serves each connection.
func tcpFake(t *testing.T, f *fake) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); f.serve(c) }()
		}
	}()
	return ln.Addr().String()
}

// ptyFake opens a pseudo-terminal, serves its master side and returns the
// path of its slave, which stands for a serial port or a USB printer device.
func ptyFake(t *testing.T, f *fake) string {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	name := slave.Name()
	// A printer device is not a terminal: no line editing, no echo. The
	// settings stay with the pseudo-terminal while its master is open.
	if err := makeRaw(slave); err != nil {
		t.Fatal(err)
	}
	// The transport opens the device by name. The test keeps its own
	// slave open meanwhile: with no slave open, a read of the master
	// fails with EIO (hang-up), and the fake printer, reading before the
	// transport has opened the device, stopped answering (seen as "did
	// not answer: i/o timeout" on a loaded machine).
	t.Cleanup(func() { master.Close(); slave.Close() })
	go f.serve(master)
	return name
}

func makeRaw(f *os.File) error {
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, tio)
}

func receipt() printer.Receipt { return printertest.Receipts()[0].Receipt }

// eventually waits for cond, for a transport that delivers asynchronously.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met in 2s")
}

// TestTransports prints the standard receipt through every transport to a
// fake printer and checks it received exactly the encoded bytes.
func TestTransports(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		opts   func(f *fake) Options
		status bool // the transport reads status
	}{
		{"tcp", func(f *fake) Options { return Options{Kind: "tcp", Address: tcpFake(t, f)} }, true},
		{"serial over a pseudo-terminal", func(f *fake) Options { return Options{Kind: "serial", Path: ptyFake(t, f), Baud: 115200} }, true},
		{"usb device (a pseudo-terminal stands in)", func(f *fake) Options { return Options{Kind: "usb", Path: ptyFake(t, f)} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			p, err := Open(tt.opts(f))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			st, err := p.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Ready() || st.Detail != "" {
				t.Errorf("status %+v, want ready", st)
			}
			want, err := p.Encode(receipt())
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Print(ctx, receipt()); err != nil {
				t.Fatal(err)
			}
			eventually(t, func() bool { return len(f.received()) >= len(want) })
			if !bytes.Equal(f.received(), want) {
				t.Errorf("printer received %d bytes, want the %d encoded", len(f.received()), len(want))
			}

			// Paper out: refused with Unavailable and a NotReadyError,
			// nothing sent.
			f.setStatus(0x1a, 0x32, 0x7e)
			before := len(f.received())
			err = p.Print(ctx, receipt())
			var nr *printer.NotReadyError
			if !pos.Match(pos.Unavailable, err) || !errors.As(err, &nr) || !nr.Status.PaperOut {
				t.Fatalf("Print with paper out = %v, want Unavailable NotReadyError", err)
			}
			time.Sleep(20 * time.Millisecond)
			if len(f.received()) != before {
				t.Errorf("a refused receipt sent %d bytes", len(f.received())-before)
			}

			// The drawer opens regardless.
			if err := p.KickDrawer(ctx); err != nil {
				t.Fatal(err)
			}
			eventually(t, func() bool { return bytes.HasSuffix(f.received(), []byte{0x1b, 'p', 0, 25, 250}) })
		})
	}
}

// TestSilentPrinter: a printer that does not answer status makes Print fail
// with Unavailable within the status timeout, sending nothing.
func TestSilentPrinter(t *testing.T) {
	f := newFake()
	f.silent = true
	for _, o := range []Options{
		{Kind: "tcp", Address: tcpFake(t, f), StatusTimeout: 100 * time.Millisecond},
		{Kind: "serial", Path: ptyFake(t, f), StatusTimeout: 100 * time.Millisecond},
	} {
		p, err := Open(o)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = p.Print(context.Background(), receipt())
		if !pos.Match(pos.Unavailable, err) {
			t.Errorf("%s: Print = %v, want Unavailable", o.Kind, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: gave up after %v", o.Kind, d)
		}
		if _, err := p.Status(context.Background()); !pos.Match(pos.Unavailable, err) {
			t.Errorf("%s: Status = %v, want Unavailable", o.Kind, err)
		}
		p.Close()
	}
	if n := len(f.received()); n != 0 {
		t.Errorf("sent %d bytes to a silent printer", n)
	}
}

func TestTCPUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	p, err := Open(Options{Kind: "tcp", Address: addr, NoStatus: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Print(context.Background(), receipt()); !pos.Match(pos.Unavailable, err) {
		t.Errorf("Print = %v, want Unavailable", err)
	}
}

func TestFilePrinter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.bin")
	p, err := Open(Options{Kind: "file", Path: path, Profile: "58mm", NativeQR: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Status(context.Background())
	if err != nil || !st.Ready() {
		t.Errorf("Status = %+v, %v", st, err)
	}
	if err := p.Print(context.Background(), receipt()); err != nil {
		t.Fatal(err)
	}
	p.Close()
	got, _ := os.ReadFile(path)
	want, _ := Encode(receipt(), Profile58, EncodeOptions{})
	if !bytes.Equal(got, want) {
		t.Errorf("file holds %d bytes, want %d", len(got), len(want))
	}
}

func TestOptions(t *testing.T) {
	good, err := Options{Kind: "usb"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if good.Path != "/dev/usb/lp0" || good.Profile != "80mm" || good.StatusTimeout != 2*time.Second {
		t.Errorf("defaults: %+v", good)
	}
	if s, _ := (Options{Kind: "serial", Path: "/dev/ttyS0"}).Validate(); s.Baud != 19200 {
		t.Errorf("serial default baud %d", s.Baud)
	}
	for _, o := range []Options{
		{},
		{Kind: "lpt"},
		{Kind: "serial"},
		{Kind: "tcp"},
		{Kind: "file"},
		{Kind: "usb", Profile: "110mm"},
		{Kind: "usb", StatusTimeout: -1},
	} {
		if _, err := o.Validate(); !pos.Match(pos.Invalid, err) {
			t.Errorf("Validate(%+v) = %v, want Invalid", o, err)
		}
	}
	if _, err := Open(Options{Kind: "usb", Path: "/dev/usb/does-not-exist"}); !pos.Match(pos.NotFound, err) {
		t.Errorf("Open of a missing device = %v, want NotFound", err)
	}
}
