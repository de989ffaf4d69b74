package virtual

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/escpos"
)

// Options configure a virtual printer.
type Options struct {
	// Profile is the printer it pretends to be; zero means escpos.Profile80.
	Profile escpos.Profile
	// Encode chooses native or raster QR codes, as for a real printer.
	Encode escpos.EncodeOptions
	// CJK draws Chinese in the previews; nil: the system's CJK font
	// (SystemCJKFont), or boxes when it has none.
	CJK *CJKFont
	// Logger hears, once, that previews draw Chinese as boxes for want of
	// a font (default: discarded).
	Logger *slog.Logger
}

// Printer writes each receipt to Dir as NAME.bin (the ESC/POS bytes a real
// printer would get) and NAME.png (what it would print). It is always
// online. It is safe for concurrent use.
type Printer struct {
	dir  string
	o    Options
	warn sync.Once
	mu   sync.Mutex
	// last is the path of the last PNG written, for a demo to show.
	last string
}

var _ printer.Printer = (*Printer)(nil)

// New returns a virtual printer writing into dir, which it creates on the
// first print.
func New(dir string, o Options) *Printer {
	if o.Profile.Dots == 0 {
		o.Profile = escpos.Profile80
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Printer{dir: dir, o: o}
}

// Print encodes r, then writes and renders the bytes (see Write).
func (p *Printer) Print(ctx context.Context, r printer.Receipt) error {
	const op = "virtual.Print"
	b, err := escpos.Encode(r, p.o.Profile, p.o.Encode)
	if err != nil {
		return pos.E(pos.Invalid, op, err)
	}
	if _, _, err := p.Write(r.Name, b); err != nil {
		return err
	}
	return nil
}

// Write stores stream as NAME.bin and its rendering as NAME.png in the
// printer's directory and returns both paths. A stream the virtual printer
// cannot interpret is an Invalid error, and then no files are written. The
// print spool uses it to preview bytes it journaled.
func (p *Printer) Write(name string, stream []byte) (binPath, pngPath string, err error) {
	const op = "virtual.Write"
	name = safeName(name)
	img, err := RenderWith(stream, p.o.Profile, p.font())
	if err != nil {
		return "", "", pos.E(pos.Invalid, op, err)
	}
	var buf bytes.Buffer
	if err := encodePNG(&buf, img); err != nil {
		return "", "", pos.E(pos.Internal, op, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return "", "", pos.E(pos.Unavailable, op, err)
	}
	binPath = filepath.Join(p.dir, name+".bin")
	pngPath = filepath.Join(p.dir, name+".png")
	if err := writeFile(binPath, stream); err != nil {
		return "", "", pos.E(pos.Unavailable, op, err)
	}
	if err := writeFile(pngPath, buf.Bytes()); err != nil {
		return "", "", pos.E(pos.Unavailable, op, err)
	}
	p.last = pngPath
	return binPath, pngPath, nil
}

// font is the CJK font previews use, nil for boxes (said once in the log).
func (p *Printer) font() *CJKFont {
	if p.o.CJK != nil {
		return p.o.CJK
	}
	f, err := SystemCJKFont()
	if err != nil {
		p.warn.Do(func() {
			p.o.Logger.Warn("receipt previews draw Chinese as boxes", "err", err)
		})
	}
	return f
}

// Last is the path of the most recent PNG, "" before the first print.
func (p *Printer) Last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// Status is always ready.
func (p *Printer) Status(ctx context.Context) (printer.Status, error) {
	return printer.Status{Online: true, Detail: "virtual " + p.o.Profile.Name}, nil
}

func encodePNG(w io.Writer, img image.Image) error {
	return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
}

// writeFile writes through a temporary file and a rename, so a reader never
// sees half a preview.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// safeName keeps a receipt name to one path element of plain characters.
func safeName(name string) string {
	if name == "" {
		return "receipt"
	}
	var b strings.Builder
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	if s == "" {
		return fmt.Sprintf("receipt-%x", name)
	}
	return s
}
