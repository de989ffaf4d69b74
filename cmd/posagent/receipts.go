package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // logo_file may be a JPEG
	_ "image/png"  // or a PNG
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/escpos"
	"github.com/posagent/posagent/hw/printer/textprinter"
	"github.com/posagent/posagent/hw/printer/virtual"
	"github.com/posagent/posagent/store/sqlite"
)

// receiptSetup is the configured printer and what goes on its receipts,
// built before the journal is open (so `serve --check` builds it too); the
// spool over it is made once the journal is.
type receiptSetup struct {
	printer            printer.Printer
	describe           string // "escpos usb /dev/usb/lp0", for logs and `devices`
	header             printer.Header
	customer, merchant bool
	closer             io.Closer // closes the printer's device, or nil
}

func (r *receiptSetup) close() {
	if r != nil && r.closer != nil {
		_ = r.closer.Close()
	}
}

// spool returns the print spool over the journal.
func (r *receiptSetup) spool(db *sqlite.DB, log *slog.Logger) (*flows.Spool, error) {
	return flows.NewSpool(flows.SpoolOptions{
		Journal:  db,
		Printer:  r.printer,
		Header:   r.header,
		Customer: r.customer,
		Merchant: r.merchant,
		Logger:   log.With("component", "printer"),
	})
}

// buildReceipts builds the configured printer. No printer section: no
// receipts (nil, nil). receipt.copies none keeps the printer for reprints.
func buildReceipts(cfg *configs.Config, log *slog.Logger) (*receiptSetup, error) {
	if cfg.Printer == nil {
		return nil, nil
	}
	p, desc, closer, err := buildPrinter(cfg, log)
	if err != nil {
		return nil, err
	}
	h := printer.Header{Merchant: cfg.Receipt.MerchantName, Store: cfg.Receipt.StoreName, Terminal: cfg.Receipt.TerminalID, Footer: cfg.Receipt.Footer}
	if cfg.Receipt.LogoFile != "" {
		img, err := loadImage(cfg.Resolve(cfg.Receipt.LogoFile))
		if err != nil {
			if closer != nil {
				closer.Close()
			}
			return nil, fmt.Errorf("receipt.logo_file: %w", err)
		}
		h.Logo = img
	}
	copies := strings.ToLower(cfg.Receipt.Copies)
	log.Debug("printer configured", "printer", desc, "copies", copies)
	return &receiptSetup{
		printer:  p,
		describe: desc,
		header:   h,
		customer: copies == "both" || copies == "customer",
		merchant: copies == "both" || copies == "merchant",
		closer:   closer,
	}, nil
}

func loadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// printerKinds are the values of printer.kind.
const printerKinds = "escpos, virtual or text"

// escposConfig is printer.options for kind escpos: escpos.Options in the
// config file's snake_case. transport is escpos.Options.Kind.
type escposConfig struct {
	Transport     string        `yaml:"transport"` // usb, serial, tcp or file
	Path          string        `yaml:"path"`
	Address       string        `yaml:"address"`
	Baud          int           `yaml:"baud"`
	Profile       string        `yaml:"profile"`
	NativeQR      bool          `yaml:"native_qr"`
	NoStatus      bool          `yaml:"no_status"`
	StatusTimeout time.Duration `yaml:"status_timeout"`
	WriteTimeout  time.Duration `yaml:"write_timeout"`
	DialTimeout   time.Duration `yaml:"dial_timeout"`
}

// options checks c, naming the field at fault, and converts it.
func (c escposConfig) options(cfg *configs.Config) (escpos.Options, error) {
	const f = "printer.options."
	o := escpos.Options{
		Kind: c.Transport, Path: c.Path, Address: c.Address, Baud: c.Baud, Profile: c.Profile,
		NativeQR: c.NativeQR, NoStatus: c.NoStatus,
		StatusTimeout: c.StatusTimeout, WriteTimeout: c.WriteTimeout, DialTimeout: c.DialTimeout,
	}
	switch c.Transport {
	case "":
		return o, errors.New(f + "transport: required (usb, serial, tcp or file)")
	case "usb", "file":
	case "serial":
		if c.Baud < 0 {
			return o, fmt.Errorf(f+"baud: %d is negative", c.Baud)
		}
	case "tcp":
		if c.Address == "" {
			return o, errors.New(f + "address: required for transport tcp (host or host:9100)")
		}
	default:
		return o, fmt.Errorf(f+"transport: %q is not one of usb, serial, tcp, file", c.Transport)
	}
	if c.Path == "" && (c.Transport == "serial" || c.Transport == "file") {
		return o, fmt.Errorf(f+"path: required for transport %s", c.Transport)
	}
	if c.Address != "" && c.Transport != "tcp" {
		return o, fmt.Errorf(f+"address: only for transport tcp (this is %s)", c.Transport)
	}
	if c.Profile != "" {
		if _, err := escpos.ProfileByName(c.Profile); err != nil {
			return o, fmt.Errorf(f+"profile: %v", err)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"status_timeout", c.StatusTimeout}, {"write_timeout", c.WriteTimeout}, {"dial_timeout", c.DialTimeout}} {
		if d.v < 0 {
			return o, fmt.Errorf(f+"%s: %v is negative", d.name, d.v)
		}
	}
	if c.Transport != "tcp" {
		o.Path = cfg.Resolve(o.Path)
	}
	if _, err := o.Validate(); err != nil {
		return o, fmt.Errorf("printer.options: %w", err)
	}
	return o, nil
}

// virtualConfig is printer.options for kind virtual.
type virtualConfig struct {
	// Dir receives NAME.bin and NAME.png per receipt; default
	// STATE_DIR/receipts.
	Dir      string `yaml:"dir"`
	Profile  string `yaml:"profile"` // 58mm or 80mm (default)
	NativeQR bool   `yaml:"native_qr"`
	// CJKFont is the font previews draw Chinese with (.otf, .ttf or
	// .ttc); default: the system's (fonts-noto-cjk and others).
	CJKFont string `yaml:"cjk_font"`
}

// buildPrinter opens the printer a config names.
func buildPrinter(cfg *configs.Config, log *slog.Logger) (printer.Printer, string, io.Closer, error) {
	switch cfg.Printer.Kind {
	case "text":
		var o struct {
			Path    string `yaml:"path"`
			Columns int    `yaml:"columns"`
		}
		if err := cfg.Printer.Decode(&o); err != nil {
			return nil, "", nil, fmt.Errorf("printer.options: %w", err)
		}
		if o.Columns < 0 {
			return nil, "", nil, fmt.Errorf("printer.options.columns: %d is negative", o.Columns)
		}
		if o.Path == "" || o.Path == "-" {
			return textprinter.New(os.Stdout, o.Columns), "text to standard output", nil, nil
		}
		tp, err := textprinter.OpenFile(cfg.Resolve(o.Path), o.Columns)
		if err != nil {
			return nil, "", nil, fmt.Errorf("printer.options.path: %w", err)
		}
		return tp, "text " + cfg.Resolve(o.Path), tp, nil
	case "virtual":
		var o virtualConfig
		if err := cfg.Printer.Decode(&o); err != nil {
			return nil, "", nil, fmt.Errorf("printer.options: %w", err)
		}
		vo := virtual.Options{Encode: escpos.EncodeOptions{RasterQR: !o.NativeQR}, Logger: log.With("component", "printer")}
		if o.CJKFont != "" {
			f, err := virtual.OpenCJKFont(cfg.Resolve(o.CJKFont))
			if err != nil {
				return nil, "", nil, fmt.Errorf("printer.options.cjk_font: %w", err)
			}
			vo.CJK = f
		}
		if o.Profile != "" {
			prof, err := escpos.ProfileByName(o.Profile)
			if err != nil {
				return nil, "", nil, fmt.Errorf("printer.options.profile: %v", err)
			}
			vo.Profile = prof
		}
		dir := cfg.Resolve(o.Dir)
		if dir == "" {
			dir = filepath.Join(cfg.StateDir, "receipts")
		}
		return virtual.New(dir, vo), "virtual " + dir, nil, nil
	case "escpos":
		var c escposConfig
		if err := cfg.Printer.Decode(&c); err != nil {
			return nil, "", nil, fmt.Errorf("printer.options: %w", err)
		}
		o, err := c.options(cfg)
		if err != nil {
			return nil, "", nil, err
		}
		p, err := escpos.Open(o)
		if err != nil {
			return nil, "", nil, fmt.Errorf("printer: opening escpos %s printer: %w", o.Kind, err)
		}
		target := o.Path
		if o.Kind == "tcp" {
			target = o.Address
		} else if target == "" {
			target = "/dev/usb/lp0"
		}
		return p, "escpos " + o.Kind + " " + target, p, nil
	}
	return nil, "", nil, fmt.Errorf("printer.kind: %q is not one of %s", cfg.Printer.Kind, printerKinds)
}

// demoPrinter is the demo's printer: the virtual printer's NAME.png and
// NAME.bin, and beside them NAME.txt, the same receipt as text for grep.
type demoPrinter struct {
	dir string
	v   *virtual.Printer
}

func newDemoPrinter(dir string, log *slog.Logger) (*demoPrinter, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &demoPrinter{dir: dir, v: virtual.New(dir, virtual.Options{Encode: escpos.EncodeOptions{RasterQR: true}, Logger: log.With("component", "printer")})}, nil
}

func (d *demoPrinter) Print(ctx context.Context, r printer.Receipt) error {
	if err := d.v.Print(ctx, r); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d.dir, r.Name+".txt"), []byte(textprinter.Render(r, textprinter.DefaultColumns)), 0o600)
}

func (d *demoPrinter) Status(ctx context.Context) (printer.Status, error) {
	st, err := d.v.Status(ctx)
	st.Detail = "virtual printer, previews in " + d.dir
	return st, err
}

// Files lists the receipt files written for a payment.
func (d *demoPrinter) Files(paymentID string) []string {
	m, _ := filepath.Glob(filepath.Join(d.dir, paymentID+"-*"))
	sort.Strings(m)
	return m
}

// KickDrawer is the virtual printer's cash drawer: the ESC p pulse a real
// printer would get is appended to DIR/drawer.bin, one 5-byte pulse per
// opening, so the demo and its tests can see the drawer open.
func (d *demoPrinter) KickDrawer(ctx context.Context) error {
	e := escpos.NewEncoder(escpos.Profile80)
	if err := e.KickDrawer(0, 25, 250); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(d.dir, "drawer.bin"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(e.Bytes())
	return err
}
