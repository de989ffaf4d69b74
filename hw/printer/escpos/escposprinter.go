package escpos

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/transport"
)

// Options configure an ESC/POS printer; the zero value of every field but
// Kind and its address is a working default.
type Options struct {
	// Kind is the transport: "usb", "serial", "tcp" or "file". Required.
	Kind string `json:"kind"`
	// Path is the device or file: for usb default transport.DefaultUSBPath
	// (/dev/usb/lp0); required for serial ("/dev/ttyUSB0") and file.
	Path string `json:"path,omitempty"`
	// Address is the network printer, "host" or "host:port" (port 9100 by
	// default). Required for tcp.
	Address string `json:"address,omitempty"`
	// Baud is the serial speed; default transport.DefaultBaud (19200).
	Baud int `json:"baud,omitempty"`
	// Profile is the paper and model: "58mm" or "80mm"; default "80mm".
	Profile string `json:"profile,omitempty"`
	// NativeQR sends QR codes as GS ( k. Default false: QR codes are drawn
	// here and sent as raster images, which every raster-capable printer
	// prints; turn it on for printers known to implement GS ( k.
	NativeQR bool `json:"native_qr,omitempty"`
	// NoStatus skips the real-time status check before each print, for
	// one-way connections that never answer. File printers never check.
	NoStatus bool `json:"no_status,omitempty"`
	// StatusTimeout bounds the wait for a status answer; default
	// transport.DefaultReadTimeout (2s).
	StatusTimeout time.Duration `json:"status_timeout,omitempty"`
	// WriteTimeout bounds sending one receipt; default
	// transport.DefaultWriteTimeout (30s).
	WriteTimeout time.Duration `json:"write_timeout,omitempty"`
	// DialTimeout bounds connecting to a tcp printer; default 3s.
	DialTimeout time.Duration `json:"dial_timeout,omitempty"`
}

// common checks and defaults the fields that do not depend on Kind.
func (o Options) common() (Options, error) {
	const op = "escpos.Options"
	if o.Profile == "" {
		o.Profile = Profile80.Name
	}
	if _, err := ProfileByName(o.Profile); err != nil {
		return o, pos.E(pos.Invalid, op, err)
	}
	if o.StatusTimeout < 0 || o.WriteTimeout < 0 || o.DialTimeout < 0 {
		return o, pos.Errorf(pos.Invalid, op, "timeouts must not be negative")
	}
	if o.StatusTimeout == 0 {
		o.StatusTimeout = transport.DefaultReadTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = transport.DefaultWriteTimeout
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 3 * time.Second
	}
	return o, nil
}

// Validate checks o and fills in the defaults.
func (o Options) Validate() (Options, error) {
	const op = "escpos.Options"
	o, err := o.common()
	if err != nil {
		return o, err
	}
	switch o.Kind {
	case "usb":
		if o.Path == "" {
			o.Path = transport.DefaultUSBPath
		}
	case "serial":
		if o.Path == "" {
			return o, pos.Errorf(pos.Invalid, op, "serial printer needs a path (/dev/ttyUSB0)")
		}
		if o.Baud == 0 {
			o.Baud = transport.DefaultBaud
		}
		if o.Baud < 0 {
			return o, pos.Errorf(pos.Invalid, op, "baud %d", o.Baud)
		}
	case "tcp":
		if o.Address == "" {
			return o, pos.Errorf(pos.Invalid, op, "network printer needs an address (host or host:9100)")
		}
	case "file":
		if o.Path == "" {
			return o, pos.Errorf(pos.Invalid, op, "file printer needs a path")
		}
		o.NoStatus = true
	case "":
		return o, pos.Errorf(pos.Invalid, op, "printer kind is required (usb, serial, tcp or file)")
	default:
		return o, pos.Errorf(pos.Invalid, op, "unknown printer kind %q (want usb, serial, tcp or file)", o.Kind)
	}
	return o, nil
}

// Printer is an ESC/POS printer on a transport. It checks the real-time
// status before each print, so a receipt that cannot print is refused (and
// kept by the caller) instead of lost in a printer without paper. It is
// safe for concurrent use; prints are serialised.
type Printer struct {
	conn    transport.Conn
	profile Profile
	enc     EncodeOptions
	o       Options
	mu      sync.Mutex
}

var (
	_ printer.Printer      = (*Printer)(nil)
	_ printer.DrawerKicker = (*Printer)(nil)
)

// Open validates o, opens its transport and returns the printer. Opening a
// tcp printer does not connect; usb, serial and file open the device now.
func Open(o Options) (*Printer, error) {
	o, err := o.Validate()
	if err != nil {
		return nil, err
	}
	var c transport.Conn
	switch o.Kind {
	case "usb":
		d, err := transport.OpenUSB(o.Path)
		if err != nil {
			return nil, err
		}
		d.ReadTimeout, d.WriteTimeout = o.StatusTimeout, o.WriteTimeout
		c = d
	case "serial":
		s, err := transport.OpenSerial(o.Path, o.Baud)
		if err != nil {
			return nil, err
		}
		s.ReadTimeout = o.StatusTimeout
		c = s
	case "tcp":
		c, err = transport.NewTCP(o.Address, transport.TCPOptions{DialTimeout: o.DialTimeout, WriteTimeout: o.WriteTimeout, ReadTimeout: o.StatusTimeout})
	case "file":
		c, err = transport.OpenFile(o.Path)
	}
	if err != nil {
		return nil, err
	}
	return New(c, o)
}

// New returns a printer on an open transport; o.Kind and the addresses are
// ignored. The printer closes c on Close.
func New(c transport.Conn, o Options) (*Printer, error) {
	o, err := o.common()
	if err != nil {
		return nil, err
	}
	prof, _ := ProfileByName(o.Profile)
	return &Printer{conn: c, profile: prof, enc: EncodeOptions{RasterQR: !o.NativeQR}, o: o}, nil
}

// Profile is the printer's profile.
func (p *Printer) Profile() Profile { return p.profile }

// Encode returns the bytes Print would send for r: for journaling a
// receipt, and for previews of exactly what was printed.
func (p *Printer) Encode(r printer.Receipt) ([]byte, error) {
	b, err := Encode(r, p.profile, p.enc)
	if err != nil {
		return nil, pos.E(pos.Invalid, "escpos.Encode", err)
	}
	return b, nil
}

// Print encodes r and sends it (see PrintBytes).
func (p *Printer) Print(ctx context.Context, r printer.Receipt) error {
	b, err := p.Encode(r)
	if err != nil {
		return err
	}
	return p.PrintBytes(ctx, b)
}

// PrintBytes checks the printer's status and sends b. When the printer
// cannot print it returns a *pos.Error of kind Unavailable wrapping a
// *printer.NotReadyError, and sends nothing; when it does not answer, or
// the transport fails, also Unavailable. Keep the receipt and print it
// again when Status is Ready.
func (p *Printer) PrintBytes(ctx context.Context, b []byte) error {
	const op = "escpos.Print"
	p.mu.Lock()
	defer p.mu.Unlock()
	if q, ok := p.conn.(transport.Querier); ok && !p.o.NoStatus {
		st, err := p.status(ctx, q)
		if err != nil {
			return pos.E(pos.Unavailable, op, err)
		}
		if !st.Ready() {
			return pos.E(pos.Unavailable, op, &printer.NotReadyError{Status: st})
		}
	}
	wctx, cancel := context.WithTimeout(ctx, p.o.WriteTimeout)
	defer cancel()
	if err := p.conn.Write(wctx, b); err != nil {
		return pos.E(pos.Unavailable, op, err)
	}
	return nil
}

// Status asks the printer for its real-time status. A transport that
// cannot read (a file, or NoStatus) reports online with a Detail saying
// the status is not known. A printer that does not answer is an error of
// kind Unavailable.
func (p *Printer) Status(ctx context.Context) (printer.Status, error) {
	q, ok := p.conn.(transport.Querier)
	if !ok || p.o.NoStatus {
		return printer.Status{Online: true, Detail: "status not reported by " + p.o.Kind + " printer"}, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st, err := p.status(ctx, q)
	if err != nil {
		return printer.Status{Detail: "no answer"}, pos.E(pos.Unavailable, "escpos.Status", err)
	}
	return st, nil
}

func (p *Printer) status(ctx context.Context, q transport.Querier) (printer.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, p.o.StatusTimeout)
	defer cancel()
	var ans [3]byte
	if err := q.Query(ctx, StatusQuery, ans[:]); err != nil {
		return printer.Status{}, err
	}
	st, err := ParseStatus(ans[:])
	if err != nil {
		return printer.Status{}, fmt.Errorf("%w (% x)", err, ans)
	}
	return st, nil
}

// KickDrawer opens the cash drawer on connector pin 2 with a 50 ms pulse.
// It is sent even when the printer is out of paper: the drawer still opens.
func (p *Printer) KickDrawer(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := NewEncoder(p.profile)
	_ = e.KickDrawer(0, 25, 250)
	if err := p.conn.Write(ctx, e.Bytes()); err != nil {
		return pos.E(pos.Unavailable, "escpos.KickDrawer", err)
	}
	return nil
}

// Close closes the transport.
func (p *Printer) Close() error {
	if p.conn == nil {
		return nil
	}
	return p.conn.Close()
}
