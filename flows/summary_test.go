package flows

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/textprinter"
)

func TestSummarize(t *testing.T) {
	pay := func(w pos.Wallet, minor int64, cur pos.Currency, st pos.State) pos.Payment {
		return pos.Payment{Wallet: w, Amount: pos.Money{Minor: minor, Currency: cur}, State: st}
	}
	ps := []pos.Payment{
		pay(pos.WeChatPay, 1200, "CNY", pos.StateSucceeded),
		pay(pos.Alipay, 500, "CNY", pos.StateSucceeded),
		pay(pos.WeChatPay, 1291, "CNY", pos.StateSucceeded),
		pay(pos.WeChatPay, 1293, "CNY", pos.StateFailed),
		pay(pos.Alipay, 1292, "CNY", pos.StateReversed),
		pay(pos.WeChatPay, 300, "HKD", pos.StateSucceeded),
		pay(pos.Alipay, 999, "CNY", pos.StateUserPaying), // pending: not business yet
	}
	from := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	got := Summarize(ps, from, from.AddDate(0, 0, 1))
	want := printer.Summary{
		From: from, To: from.AddDate(0, 0, 1),
		Lines: []printer.SummaryLine{
			{Wallet: pos.Alipay, Count: 1, Amount: pos.Money{Minor: 500, Currency: "CNY"}},
			{Wallet: pos.WeChatPay, Count: 2, Amount: pos.Money{Minor: 2491, Currency: "CNY"}},
			{Wallet: pos.WeChatPay, Count: 1, Amount: pos.Money{Minor: 300, Currency: "HKD"}},
		},
		Failed: 1, Reversed: 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Summarize (-want +got):\n%s", diff)
	}
}

// TestPrintSummary queues the end-of-day summary while the printer is out
// of paper; it prints, with the day's totals, once paper is back.
func TestPrintSummary(t *testing.T) {
	ctx := context.Background()
	db := openJournal(t, filepath.Join(t.TempDir(), "j.db"))
	p := &scriptedPrinter{st: paperOut}
	s := newTestSpool(t, db, p, &fakeClock{now: spoolT0})
	finalPayment(t, db, s, "pay_a", pos.StateSucceeded)
	finalPayment(t, db, s, "pay_b", pos.StateSucceeded)
	finalPayment(t, db, s, "pay_c", pos.StateReversed)
	job, err := s.PrintSummary(ctx, spoolT0)
	if err != nil {
		t.Fatal(err)
	}
	if job.PaymentID != "" || !strings.HasPrefix(job.Kind, "summary-") {
		t.Fatalf("summary job %+v", job)
	}
	s.round(ctx)
	if n := len(p.names()); n != 0 {
		t.Fatalf("printed %d receipts with no paper", n)
	}
	p.set(online)
	s.round(ctx)
	var sum *printer.Receipt
	for i, r := range p.printed {
		if strings.HasPrefix(r.Name, "summary-") {
			sum = &p.printed[i]
		}
	}
	if sum == nil {
		t.Fatalf("no summary printed; printed %v", p.names())
	}
	text := textprinter.Render(*sum, 48)
	for _, want := range []string{"SUMMARY", "Paid 收款 ×2", "24.00 CNY", "Voided 撤销                                    1"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	if j := pending(t, db); len(j) != 0 {
		t.Errorf("still pending: %v", j)
	}
}
