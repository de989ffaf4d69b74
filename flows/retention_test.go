package flows

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// retentionJournal journals payments and refunds as the runners do, at
// given times.
type retentionJournal struct {
	t  *testing.T
	db *sqlite.DB
	n  int
}

// payment journals a payment created at at and ended in final a minute
// later; prints adds its receipts, still owed.
func (j *retentionJournal) payment(id string, w pos.Wallet, minor int64, cur pos.Currency, final pos.State, at time.Time, prints bool) pos.Payment {
	j.t.Helper()
	ctx := context.Background()
	p := pos.Payment{
		ID: id, OutTradeNo: "OTN" + id, Gateway: "mmsp", Method: pos.Micropay,
		Amount: pos.Money{Minor: minor, Currency: cur}, Wallet: w, CodeMasked: "1345********6789",
		State: pos.StateSubmitting, CreatedAt: at, UpdatedAt: at, SubmittedAt: at,
	}
	if err := j.db.Append(ctx, store.Change{Payment: p, Reason: "created", At: at}); err != nil {
		j.t.Fatal(err)
	}
	from := p.State
	if final == pos.StateReversed {
		p.State = pos.StateReversing
		if err := j.db.Append(ctx, store.Change{Payment: p, From: from, Reason: "reversing", At: at}); err != nil {
			j.t.Fatal(err)
		}
		from = p.State
	}
	p.State, p.UpdatedAt = final, at.Add(time.Minute)
	c := store.Change{Payment: p, From: from, Reason: "final", At: p.UpdatedAt}
	if prints {
		c.Prints = []store.PrintJob{{Kind: store.ReceiptCustomer}}
	}
	if err := j.db.Append(ctx, c); err != nil {
		j.t.Fatal(err)
	}
	return p
}

// refund journals a refund of p made at at, ending in final.
func (j *retentionJournal) refund(p pos.Payment, minor int64, final pos.RefundState, at time.Time) {
	j.t.Helper()
	j.refundBy(p, minor, final, at, pos.RefundByRefund)
}

// refundBy is refund with the record's method (a void of the sale).
func (j *retentionJournal) refundBy(p pos.Payment, minor int64, final pos.RefundState, at time.Time, m pos.RefundMethod) {
	j.t.Helper()
	j.n++
	r := pos.Refund{ID: "ref_" + p.ID + string(rune('a'+j.n)), PaymentID: p.ID, OutRefundNo: "RF" + p.ID + string(rune('a'+j.n)),
		Amount: pos.Money{Minor: minor, Currency: p.Amount.Currency}, State: pos.RefundSubmitting, CreatedAt: at, UpdatedAt: at, Method: m}
	ctx := context.Background()
	if err := j.db.AppendRefund(ctx, store.RefundChange{Refund: r, Reason: "refund asked", At: at}); err != nil {
		j.t.Fatal(err)
	}
	r.State, r.UpdatedAt = final, at.Add(time.Minute)
	if err := j.db.AppendRefund(ctx, store.RefundChange{Refund: r, From: pos.RefundSubmitting, Reason: "final", At: r.UpdatedAt}); err != nil {
		j.t.Fatal(err)
	}
}

// TestRetentionKeepsEveryDaysSummary: old, finished payments are pruned
// with their refunds and events, and the summary of every day they touched
// (payments on their day, refunds on theirs, in the till's zone) reads
// exactly as before; a payment still owing a receipt, one still pending
// and one whose refund is recent stay; pruning again adds nothing twice;
// the metrics' counts do not go down.
func TestRetentionKeepsEveryDaysSummary(t *testing.T) {
	ctx := context.Background()
	db := openJournal(t, filepath.Join(t.TempDir(), "j.db"))
	cst := time.FixedZone("CST", 8*3600)
	day := func(d int, hour int) time.Time { return time.Date(2025, 6, d, hour, 0, 0, 0, cst) }
	j := &retentionJournal{t: t, db: db}

	x := j.payment("pay_x", pos.WeChatPay, 4000, "CNY", pos.StateSucceeded, day(9, 12), false) // the day before
	j.refund(x, 1000, pos.RefundSucceeded, day(10, 9))                                         // refunded on the day
	j.payment("pay_a", pos.WeChatPay, 1200, "CNY", pos.StateSucceeded, day(10, 10), false)
	b := j.payment("pay_b", pos.Alipay, 500, "CNY", pos.StateSucceeded, day(10, 11), false)
	j.refund(b, 100, pos.RefundFailed, day(11, 9))
	j.refund(b, 200, pos.RefundSucceeded, day(13, 9))
	j.payment("pay_c", pos.WeChatPay, 300, "HKD", pos.StateSucceeded, day(10, 12), false)
	j.payment("pay_d", pos.WeChatPay, 1293, "CNY", pos.StateFailed, day(10, 13), false)
	j.payment("pay_e", pos.Alipay, 1292, "CNY", pos.StateReversed, day(10, 14), false)
	j.payment("pay_late", pos.Alipay, 800, "CNY", pos.StateSucceeded, day(10, 23), false) // 15:00 UTC: the 10th here
	voided := j.payment("pay_v", pos.WeChatPay, 700, "CNY", pos.StateSucceeded, day(10, 18), false)
	j.refundBy(voided, 700, pos.RefundSucceeded, day(10, 19), pos.RefundByVoid) // a void of the sale: apart from refunds
	owed := j.payment("pay_f", pos.WeChatPay, 800, "CNY", pos.StateSucceeded, day(10, 15), true)
	recent := j.payment("pay_i", pos.Alipay, 100, "CNY", pos.StateSucceeded, day(10, 16), false)
	j.refund(recent, 50, pos.RefundSucceeded, time.Date(2026, 11, 30, 10, 0, 0, 0, cst))
	pending := pos.Payment{ID: "pay_g", OutTradeNo: "OTNpay_g", Gateway: "mmsp", Method: pos.Micropay,
		Amount: pos.Money{Minor: 999, Currency: "CNY"}, Wallet: pos.WeChatPay, CodeMasked: "1345********6789",
		State: pos.StateUserPaying, CreatedAt: day(10, 17), UpdatedAt: day(10, 17)}
	if err := db.Append(ctx, store.Change{Payment: pending, Reason: "created", At: day(10, 17),
		Enqueue: []store.Op{{Kind: store.OpQuery, NotBefore: day(10, 17)}}}); err != nil {
		t.Fatal(err)
	}

	s, err := NewSpool(SpoolOptions{Journal: db, Printer: &scriptedPrinter{st: online}, Customer: true, Location: cst, Clock: &fakeClock{now: spoolT0}})
	if err != nil {
		t.Fatal(err)
	}
	days := []time.Time{day(9, 12), day(10, 12), day(11, 12), day(13, 12)}
	summaries := func() []printer.Summary {
		var out []printer.Summary
		for _, d := range days {
			sum, err := s.DaySummary(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, sum)
		}
		return out
	}
	before := summaries()
	if before[1].Lines[0].Count == 0 || before[1].Failed != 1 || before[1].Reversed != 1 || before[1].Lines[1].Voids != 1 || before[1].Lines[1].Voided.Minor != 700 {
		t.Fatalf("the day's summary before pruning is not what was journaled: %+v", before[1])
	}
	statsBefore, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}

	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	rt, err := NewRetention(RetentionOptions{Journal: db, Keep: 400 * 24 * time.Hour, Location: cst, Batch: 2, Clock: &fakeClock{now: now}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := rt.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Payments != 8 || res.Refunds != 4 {
		t.Errorf("pruned %+v, want 8 payments (x a b c d e late v) and 4 refunds (one a void)", res)
	}
	for _, id := range []string{"pay_x", "pay_a", "pay_b", "pay_c", "pay_d", "pay_e", "pay_late", "pay_v"} {
		if _, err := db.Payment(ctx, id); !pos.Match(pos.NotFound, err) {
			t.Errorf("%s is still in the journal after pruning (%v)", id, err)
		}
		if evs, _ := db.Events(ctx, id); len(evs) != 0 {
			t.Errorf("%s's events are still in the journal: %d", id, len(evs))
		}
	}
	for _, id := range []string{owed.ID, recent.ID, pending.ID} {
		if _, err := db.Payment(ctx, id); err != nil {
			t.Errorf("%s was pruned: it owes a receipt, has a recent refund or is pending (%v)", id, err)
		}
	}
	if diff := cmp.Diff(before, summaries()); diff != "" {
		t.Errorf("the summaries changed with pruning (-before +after):\n%s", diff)
	}
	statsAfter, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	statsAfter.Bytes, statsBefore.Bytes = 0, 0
	if diff := cmp.Diff(statsBefore, statsAfter); diff != "" {
		t.Errorf("the metrics' counts changed with pruning (-before +after):\n%s", diff)
	}

	// Again: nothing new, nothing counted twice.
	if res, err := rt.Prune(ctx); err != nil || res.Payments != 0 {
		t.Errorf("a second prune: %+v %v", res, err)
	}
	// The receipt prints: now that payment goes too, and the day still
	// reads the same.
	jobs, err := db.PrintJobs(ctx, owed.ID)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs of %s: %v %v", owed.ID, jobs, err)
	}
	if err := db.MarkPrinted(ctx, jobs[0].ID, day(10, 16)); err != nil {
		t.Fatal(err)
	}
	if res, err := rt.Prune(ctx); err != nil || res.Payments != 1 {
		t.Errorf("prune after the receipt printed: %+v %v", res, err)
	}
	if diff := cmp.Diff(before, summaries()); diff != "" {
		t.Errorf("the summaries changed with the second prune (-before +after):\n%s", diff)
	}
}

func TestDayTotalsMatchSummarize(t *testing.T) {
	at := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	cs := []store.Compactable{
		{Payment: pos.Payment{Wallet: pos.WeChatPay, Amount: pos.Money{Minor: 100, Currency: "CNY"}, State: pos.StateSucceeded, CreatedAt: at}},
		{Payment: pos.Payment{Wallet: pos.WeChatPay, Amount: pos.Money{Minor: 250, Currency: "CNY"}, State: pos.StateSucceeded, CreatedAt: at},
			Refunds: []pos.Refund{{Amount: pos.Money{Minor: 50, Currency: "CNY"}, State: pos.RefundSucceeded, CreatedAt: at.AddDate(0, 0, 1)}}},
		{Payment: pos.Payment{Wallet: pos.Alipay, Amount: pos.Money{Minor: 7, Currency: "CNY"}, State: pos.StateFailed, CreatedAt: at}},
	}
	got := DayTotals(cs, time.UTC)
	want := []store.DayTotal{
		{Day: "2025-06-10", Zone: "UTC", Wallet: pos.WeChatPay, Currency: "CNY", Payments: 2, Paid: 350},
		{Day: "2025-06-11", Zone: "UTC", Wallet: pos.WeChatPay, Currency: "CNY", Refunds: 1, Refunded: 50},
		{Day: "2025-06-10", Zone: "UTC", Wallet: pos.Alipay, Currency: "CNY", Failed: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DayTotals (-want +got):\n%s", diff)
	}
}
