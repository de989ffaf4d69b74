//go:build hardware

package serialscan

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/posagent/posagent"
)

// TestHardwareSmoke reads one scan from a real serial or USB-CDC scanner:
//
//	POSAGENT_SERIAL=/dev/ttyACM0 go test -tags hardware -run Hardware -v ./hw/scanner/serialscan
//
// then scan a barcode within 30 seconds; unplug and replug the scanner
// and scan again within the next 30 seconds.
func TestHardwareSmoke(t *testing.T) {
	path := os.Getenv("POSAGENT_SERIAL")
	if path == "" {
		t.Skip("set POSAGENT_SERIAL=/dev/ttyACM0 (or a /dev/serial/by-id path)")
	}
	devs, err := List()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		t.Logf("%s usb=%v %s:%s %q %q", d.Path, d.USB, d.VID, d.PID, d.Manufacturer, d.Product)
	}
	s, err := New(Options{Path: path, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, prompt := range []string{"scan a barcode now", "unplug, replug, and scan again"} {
		t.Log(prompt)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		sc, err := s.Read(ctx)
		cancel()
		if err != nil {
			t.Fatalf("scan %d: %v; status %+v", i+1, err, s.Status())
		}
		t.Logf("scanned %s (%d chars)", pos.MaskCode(sc.Data), len(sc.Data))
	}
}
