package textprinter

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/printertest"
)

func TestRender(t *testing.T) {
	r := printer.Receipt{Blocks: []printer.Block{
		printer.Text{Text: "好运面馆", Style: printer.Style{Align: printer.Center, Width: 2}},
		printer.Pair{Label: "Amount 金额", Value: "12.34"},
		printer.Rule{},
		printer.QR{Data: "4200"},
		printer.Feed{Lines: 1},
		printer.Cut{},
	}}
	want := strings.Join([]string{
		"      好运面馆",
		"Amount 金额    12.34",
		"--------------------",
		"     [QR 4200]",
		"",
		"====================",
		"",
	}, "\n")
	if d := cmp.Diff(want, Render(r, 20)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestOpenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "receipts.txt")
	p, err := OpenFile(path, 32)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range printertest.Receipts() {
		if err := p.Print(context.Background(), n.Receipt); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PAYMENT 支付凭证", "13************6789", "CNY 123.45", "REFUND 退款凭证", "SUMMARY 结算汇总", "Net 净额 CNY"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if st, _ := p.Status(context.Background()); !st.Ready() {
		t.Errorf("status %+v not ready", st)
	}
}
