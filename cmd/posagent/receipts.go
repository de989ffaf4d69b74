package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/textprinter"
)

// dirPrinter writes each receipt as its own files in a directory, named
// after the receipt: the demo's printer, so every receipt can be opened.
type dirPrinter struct {
	dir string
}

func (d *dirPrinter) Print(ctx context.Context, r printer.Receipt) error {
	return os.WriteFile(filepath.Join(d.dir, r.Name+".txt"), []byte(textprinter.Render(r, textprinter.DefaultColumns)), 0o644)
}

func (d *dirPrinter) Status(ctx context.Context) (printer.Status, error) {
	return printer.Status{Online: true, Detail: "preview directory " + d.dir}, nil
}

// Files lists the receipt files written for a payment.
func (d *dirPrinter) Files(paymentID string) []string {
	m, _ := filepath.Glob(filepath.Join(d.dir, paymentID+"-*"))
	sort.Strings(m)
	return m
}

type demoReceipts struct {
	*flows.ReceiptPrinter
	dir *dirPrinter
}

func (d demoReceipts) Files(paymentID string) []string { return d.dir.Files(paymentID) }

func newDemoReceipts(dir string, log *slog.Logger) (demoReceipts, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return demoReceipts{}, err
	}
	dp := &dirPrinter{dir: dir}
	rp := &flows.ReceiptPrinter{
		Printer:  dp,
		Header:   printer.Header{Merchant: "posagent demo store", Store: "Store 001", Terminal: "T01", Footer: []string{"Thank you! 谢谢惠顾"}},
		Customer: true, Merchant: true,
		Logger: log,
	}
	return demoReceipts{ReceiptPrinter: rp, dir: dp}, nil
}

// buildReceipts builds the configured printer and the receipt sink over it.
func buildReceipts(cfg *configs.Config, log *slog.Logger) (flows.ReceiptSink, error) {
	if cfg.Printer == nil || cfg.Receipt.Copies == "none" {
		return nil, nil
	}
	var p printer.Printer
	switch cfg.Printer.Kind {
	case "text":
		var o struct {
			Path    string `yaml:"path"`
			Columns int    `yaml:"columns"`
		}
		if err := cfg.Printer.Decode(&o); err != nil {
			return nil, fmt.Errorf("printer: %w", err)
		}
		if o.Path == "" || o.Path == "-" {
			p = textprinter.New(os.Stdout, o.Columns)
		} else {
			tp, err := textprinter.OpenFile(cfg.Resolve(o.Path), o.Columns)
			if err != nil {
				return nil, fmt.Errorf("printer: %w", err)
			}
			p = tp
		}
	default:
		return nil, fmt.Errorf("printer.kind %q is not one of: text", cfg.Printer.Kind)
	}
	h := printer.Header{Merchant: cfg.Receipt.MerchantName, Store: cfg.Receipt.StoreName, Terminal: cfg.Receipt.TerminalID, Footer: cfg.Receipt.Footer}
	copies := strings.ToLower(cfg.Receipt.Copies)
	return &flows.ReceiptPrinter{
		Printer:  p,
		Header:   h,
		Customer: copies == "both" || copies == "customer",
		Merchant: copies == "both" || copies == "merchant",
		Logger:   log,
	}, nil
}
