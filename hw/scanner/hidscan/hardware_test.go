//go:build hardware

package hidscan

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/scanner"
)

// TestHardwareSmoke reads one scan from a real USB-HID scanner:
//
//	POSAGENT_HID=1eab:1d06[:interface] POSAGENT_HID_PROTOCOL=keyboard \
//	  go test -tags hardware -run Hardware -v ./hw/scanner/hidscan
//
// then scan any barcode within 30 seconds. While the test runs, the
// scanner must not type into the terminal (the kernel driver is detached);
// afterwards it types again (reattached on Close).
func TestHardwareSmoke(t *testing.T) {
	spec := os.Getenv("POSAGENT_HID")
	if spec == "" {
		t.Skip("set POSAGENT_HID=vid:pid[:interface]")
	}
	if !Supported() {
		t.Fatal(ErrUnsupported)
	}
	devs, err := List()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		t.Logf("%s %s:%s if%d %q %q", d.Path, d.VID, d.PID, d.Interface, d.Manufacturer, d.Product)
	}
	parts := strings.Split(spec, ":")
	var o Options
	if o.VID, err = scanner.ParseUSBID(parts[0]); err != nil {
		t.Fatal(err)
	}
	if o.PID, err = scanner.ParseUSBID(parts[1]); err != nil {
		t.Fatal(err)
	}
	if len(parts) > 2 {
		var n int
		for _, c := range parts[2] {
			n = n*10 + int(c-'0')
		}
		o.Interface = &n
	}
	o.Protocol = Protocol(os.Getenv("POSAGENT_HID_PROTOCOL"))
	o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t.Log("scan a barcode now")
	sc, err := s.Read(ctx)
	if err != nil {
		t.Fatalf("no scan: %v; status %+v", err, s.Status())
	}
	t.Logf("scanned %s (%d chars, symbology %q)", pos.MaskCode(sc.Data), len(sc.Data), sc.Symbology)
}
