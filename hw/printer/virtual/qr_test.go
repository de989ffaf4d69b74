package virtual

import (
	"bytes"
	"context"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/escpos"
	"github.com/posagent/posagent/hw/printer/printertest"
)

// TestQRRoundTrip: the QR code in a rendered payment receipt, sent natively
// (GS ( k, drawn from the stored data) or as a raster image, decodes back
// to the transaction id, with gozxing and, where installed, zbarimg.
func TestQRRoundTrip(t *testing.T) {
	want := printertest.Payment().TransactionID
	rc := printertest.Receipts()[0].Receipt
	for _, prof := range []escpos.Profile{escpos.Profile58, escpos.Profile80} {
		for _, raster := range []bool{false, true} {
			name := prof.Name + "-native"
			if raster {
				name = prof.Name + "-raster"
			}
			t.Run(name, func(t *testing.T) {
				b, err := escpos.Encode(rc, prof, escpos.EncodeOptions{RasterQR: raster})
				if err != nil {
					t.Fatal(err)
				}
				if native := bytes.Contains(b, []byte{0x1d, '(', 'k'}); native == raster {
					t.Fatalf("stream has GS ( k = %v, want %v", native, !raster)
				}
				img, err := Render(b, prof)
				if err != nil {
					t.Fatal(err)
				}
				if got := decodeQR(t, img); got != want {
					t.Errorf("gozxing decoded %q, want %q", got, want)
				}
				zbar(t, img, "QR-Code:"+want)
			})
		}
	}
}

func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("gozxing: %v", err)
	}
	return res.GetText()
}

// zbar decodes img with zbarimg, when it is installed, and expects want
// among its lines.
func zbar(t *testing.T, img image.Image, want string) {
	t.Helper()
	bin, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Log("zbarimg not installed; skipping its decode")
		return
	}
	path := filepath.Join(t.TempDir(), "receipt.png")
	if err := writePNG(path, img); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", "-Scode128.enable", path).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	_ = want
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == strings.SplitN(want, ":", 2)[1] {
			return
		}
	}
	t.Errorf("zbarimg read %q, want %q", out, want)
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return encodePNG(f, img)
}

// TestBarcodeRoundTrip: a CODE128 barcode renders to bars that decode back.
func TestBarcodeRoundTrip(t *testing.T) {
	const data = "PA2025{0314}"
	r := printer.Receipt{Blocks: []printer.Block{printer.Barcode{Data: data, HRI: true}, printer.Feed{Lines: 2}}}
	b, err := escpos.Encode(r, escpos.Profile80, escpos.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := Render(b, escpos.Profile80)
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := oned.NewCode128Reader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("gozxing: %v", err)
	}
	if res.GetText() != data {
		t.Errorf("decoded %q, want %q", res.GetText(), data)
	}
	zbar(t, img, "CODE-128:"+data)
}

func TestCutAndContext(t *testing.T) {
	dir := t.TempDir()
	v := New(dir, Options{})
	if err := v.Print(context.Background(), printer.Receipt{Name: "../../etc/x", Blocks: []printer.Block{printer.Text{Text: "hi"}, printer.Cut{}}}); err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(v.Last()) != dir {
		t.Errorf("preview written to %s", v.Last())
	}
}
