package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posagent/posagent/configs"
)

// printerConfig is a valid config whose printer section is section.
func printerConfig(t *testing.T, section string) *configs.Config {
	t.Helper()
	dir := t.TempDir()
	yaml := fmt.Sprintf("state_dir: %s\ngateways:\n  - {name: g, kind: mmsp}\n%s\n", filepath.Join(dir, "state"), section)
	path := filepath.Join(dir, "posagent.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yaml, err)
	}
	return cfg
}

func TestPrinterConfigRefusals(t *testing.T) {
	for _, tc := range []struct {
		section, want string
	}{
		{"printer: {kind: laser}", `printer.kind: "laser" is not one of escpos, virtual or text`},
		{"printer: {kind: escpos}", "printer.options.transport: required (usb, serial, tcp or file)"},
		{"printer: {kind: escpos, options: {transport: bluetooth}}", `printer.options.transport: "bluetooth" is not one of usb, serial, tcp, file`},
		{"printer: {kind: escpos, options: {transport: tcp}}", "printer.options.address: required for transport tcp"},
		{"printer: {kind: escpos, options: {transport: serial}}", "printer.options.path: required for transport serial"},
		{"printer: {kind: escpos, options: {transport: file}}", "printer.options.path: required for transport file"},
		{"printer: {kind: escpos, options: {transport: usb, address: 10.0.0.9}}", "printer.options.address: only for transport tcp"},
		{"printer: {kind: escpos, options: {transport: tcp, address: 10.0.0.9, profile: 76mm}}", `printer.options.profile: unknown printer profile "76mm"`},
		{"printer: {kind: escpos, options: {transport: tcp, address: 10.0.0.9, write_timeout: -1s}}", "printer.options.write_timeout: -1s is negative"},
		{"printer: {kind: escpos, options: {transport: usb, papper: 80mm}}", `printer.options: line 4: unknown setting "papper"`},
		{"printer: {kind: virtual, options: {profile: 76mm}}", "printer.options.profile:"},
		{"printer: {kind: virtual, options: {cjk_font: /nonexistent/font.ttc}}", "printer.options.cjk_font:"},
		{"printer: {kind: text, options: {columns: -2}}", "printer.options.columns: -2 is negative"},
		{"printer: {kind: escpos, options: {transport: serial, path: /nonexistent/ttyUSB9}}", "printer: opening escpos serial printer"},
	} {
		t.Run(tc.section, func(t *testing.T) {
			_, _, closer, err := buildPrinter(printerConfig(t, tc.section), slog.New(slog.DiscardHandler))
			if closer != nil {
				closer.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestPrinterConfigBuilds(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "printer.bin")
	for _, tc := range []struct {
		section, desc string
	}{
		{"printer: {kind: escpos, options: {transport: file, path: " + out + "}}", "escpos file " + out},
		{"printer: {kind: escpos, options: {transport: tcp, address: 127.0.0.1:9100, profile: 58mm}}", "escpos tcp 127.0.0.1:9100"},
		{"printer: {kind: virtual, options: {profile: 58mm}}", "virtual "},
		{"printer: {kind: text, options: {path: receipts.txt}}", "text "},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := printerConfig(t, tc.section)
			p, desc, closer, err := buildPrinter(cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if closer != nil {
				defer closer.Close()
			}
			if !strings.HasPrefix(desc, tc.desc) {
				t.Errorf("described as %q, want %q...", desc, tc.desc)
			}
			if strings.HasPrefix(tc.desc, "virtual") && desc != "virtual "+filepath.Join(cfg.StateDir, "receipts") {
				t.Errorf("virtual printer writes to %q, want STATE_DIR/receipts", desc)
			}
			if strings.Contains(tc.desc, "tcp") {
				return // nothing listens: Status would wait for a dial
			}
			if st, err := p.Status(ctx); err != nil || !st.Ready() {
				t.Errorf("Status = %+v, %v", st, err)
			}
		})
	}
}

// TestDevicesShowsThePrinter: `posagent devices --config` keeps listing
// scanners and adds the configured printer's status.
func TestDevicesShowsThePrinter(t *testing.T) {
	cfg := printerConfig(t, "printer: {kind: virtual}")
	var stdout, stderr bytes.Buffer
	path := filepath.Join(cfg.Dir, "posagent.yaml")
	if err := runDevices(context.Background(), []string{"--config", path}, &stdout, &stderr); err != nil {
		t.Fatalf("devices: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"KIND", "PRINTER", "virtual " + filepath.Join(cfg.StateDir, "receipts"), "ready"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("devices output lacks %q:\n%s", want, stdout.String())
		}
	}
}
