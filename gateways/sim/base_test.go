package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func newOrder(t *testing.T, l *Ledger, no string, amount int64, method string) Order {
	t.Helper()
	o, err := l.NewOrder(Order{OutTradeNo: no, Amount: amount, Currency: "CNY", Wallet: "wechat", Method: method})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// The ledger is a log: each change appends one line and never rewrites
// what is there; reopening replays it to the same orders.
func TestLedgerAppendsAndReplays(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.json")
	l, err := OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	newOrder(t, l, "P1", 100, "micropay")
	before, _ := os.ReadFile(path)
	newOrder(t, l, "P2", 192, "micropay")
	after, _ := os.ReadFile(path)
	if !bytes.HasPrefix(after, before) || lines(t, path) != 2 {
		t.Fatalf("the second order did not append one line:\n%s", after)
	}
	if _, _, err := l.Refund("P1", "R1", 40); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reverse("P2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.AcceptRefund("P1", "R2", 60); err != nil {
		t.Fatal(err)
	}
	if got := lines(t, path); got != 5 {
		t.Fatalf("%d lines after 5 changes", got)
	}
	re, err := OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(re.Orders())
	want, _ := json.Marshal(l.Orders())
	if !bytes.Equal(got, want) {
		t.Fatalf("replayed\n%v\nwant\n%v", re.Orders(), l.Orders())
	}
	// Ids continue after a restart, never reused.
	o := newOrder(t, re, "P3", 100, "micropay")
	for _, prev := range l.Orders() {
		if prev.TransactionID == o.TransactionID {
			t.Fatalf("transaction id %s reused after reopening", o.TransactionID)
		}
	}
}

// A crash mid-append leaves a torn last record: the ledger opens without
// it and the next append starts on a clean line. A damaged record that is
// not the last is corruption, refused.
func TestLedgerTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.json")
	l, _ := OpenLedger(path)
	newOrder(t, l, "P1", 100, "micropay")
	newOrder(t, l, "P2", 100, "micropay")
	good, _ := os.ReadFile(path)
	torn := append(append([]byte(nil), good...), []byte(`{"seq":9,"order":{"out_trade_no":"P3","amo`)...)
	if err := os.WriteFile(path, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := OpenLedger(path)
	if err != nil {
		t.Fatalf("torn tail refused: %v", err)
	}
	if len(l.Orders()) != 2 {
		t.Fatalf("orders after a torn tail: %v", l.Orders())
	}
	newOrder(t, l, "P4", 100, "micropay")
	l, err = OpenLedger(path)
	if err != nil || len(l.Orders()) != 3 {
		t.Fatalf("after repair: %v, %v", l.Orders(), err)
	}
	if _, ok := l.Get("P3"); ok {
		t.Fatal("the torn record was adopted")
	}

	bad := bytes.Replace(good, []byte(`"P1"`), []byte(`"P1`), 1)
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLedger(path); err == nil {
		t.Fatal("a damaged record before the last was accepted")
	}
}

// A ledger written by an older posagent (one document with every order) is
// read and continued as a log.
func TestLedgerReadsOldFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.json")
	old := map[string]any{"seq": 7, "orders": []Order{{OutTradeNo: "OLD1", TransactionID: "42x0000000007", Amount: 100, State: Success, Method: "micropay"}}}
	b, _ := json.MarshalIndent(old, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := l.Get("OLD1"); !ok || o.State != Success {
		t.Fatalf("old order: %+v %v", o, ok)
	}
	n := newOrder(t, l, "NEW1", 100, "micropay")
	if n.TransactionID[len(n.TransactionID)-10:] != "0000000008" {
		t.Fatalf("sequence did not continue from the old ledger: %s", n.TransactionID)
	}
	l, err = OpenLedger(path)
	if err != nil || len(l.Orders()) != 2 {
		t.Fatalf("reopened: %v %v", l.Orders(), err)
	}
}

// A change that cannot be made durable is not made: the ledger in memory
// never runs ahead of the disk.
func TestLedgerAppendFailureChangesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ledger.json")
	l, _ := OpenLedger(path)
	newOrder(t, l, "P1", 192, "micropay")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil { // appends now fail
		t.Fatal(err)
	}
	if _, err := l.NewOrder(Order{OutTradeNo: "P2", Amount: 100, Method: "micropay"}); err == nil {
		t.Fatal("NewOrder succeeded without a ledger file")
	}
	if _, ok := l.Get("P2"); ok {
		t.Fatal("an order that was not written is in the ledger")
	}
	if _, err := l.Charge("P1"); err == nil {
		t.Fatal("Charge succeeded without a ledger file")
	}
	if o, _ := l.Get("P1"); o.State != UserPaying {
		t.Fatalf("a charge that was not written moved the order: %s", o.State)
	}
}

func TestSettle(t *testing.T) {
	type step struct {
		op    Op
		truth Truth
	}
	for _, tc := range []struct {
		name    string
		method  string
		amount  int64
		steps   []step
		state   OrderState
		charged bool
		err     error
	}{
		{"busy and paid anyway", "micropay", 192, []step{{OpSubmit, TruthDone}}, Success, true, nil},
		{"busy and walked away", "micropay", 192, []step{{OpSubmit, TruthNotDone}}, PayError, false, nil},
		{"a submit's truth replaces the scenario's charge", "micropay", 100, []step{{OpSubmit, TruthNotDone}}, PayError, false, nil},
		{"a submit's truth replaces the scenario's decline", "micropay", 193, []step{{OpSubmit, TruthDone}}, Success, true, nil},
		{"a query's truth does not unpay", "micropay", 100, []step{{OpQuery, TruthNotDone}}, Success, true, ErrSettled},
		{"held, then paid by a query's truth", "micropay", 100, []step{{OpSubmit, TruthPending}, {OpQuery, TruthDone}}, Success, true, nil},
		{"held QR stays NOTPAY", "qr", 100, []step{{OpSubmit, TruthPending}}, NotPay, false, nil},
		{"a paid order cannot be abandoned", "micropay", 100, []step{{OpQuery, TruthNotDone}}, Success, true, ErrSettled},
		{"reverse executed whatever it said", "micropay", 192, []step{{OpReverse, TruthDone}}, Revoked, false, nil},
		{"reverse not executed", "micropay", 192, []step{{OpReverse, TruthNotDone}}, UserPaying, false, nil},
		{"close executed", "qr", 192, []step{{OpClose, TruthDone}}, Closed, false, nil},
		{"close not executed", "qr", 192, []step{{OpClose, TruthNotDone}}, NotPay, false, nil},
		{"a closed order cannot be charged", "qr", 192, []step{{OpClose, TruthDone}, {OpQuery, TruthDone}}, Closed, false, ErrSettled},
		{"as scenario moves nothing", "micropay", 192, []step{{OpSubmit, TruthAsScenario}}, UserPaying, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NewBase(BaseOptions{Rules: Rules{ReverseAfter: time.Hour}})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			newOrder(t, b.Ledger(), "P", tc.amount, tc.method)
			var last error
			for _, s := range tc.steps {
				_, last = b.Settle(s.op, "P", s.truth, RefundRef{})
			}
			o, _ := b.Order("P")
			if o.State != tc.state || o.Charged() != tc.charged || !errors.Is(last, tc.err) {
				t.Fatalf("state %s charged %v err %v; want %s %v %v", o.State, o.Charged(), last, tc.state, tc.charged, tc.err)
			}
		})
	}
}

func TestSettleRefunds(t *testing.T) {
	b, _ := NewBase(BaseOptions{})
	defer b.Close()
	newOrder(t, b.Ledger(), "P", 100, "micropay")
	ref := func(no string, amount int64) RefundRef { return RefundRef{OutRefundNo: no, Amount: amount} }

	// "error" to a refund, executed anyway.
	if _, err := b.Settle(OpRefund, "P", TruthDone, ref("R1", 10)); err != nil {
		t.Fatal(err)
	}
	// Refused: nothing moves, but the refund is known as refused.
	if _, err := b.Settle(OpRefund, "P", TruthNotDone, ref("R2", 10)); err != nil {
		t.Fatal(err)
	}
	// Pending: held against the order, then executed by a query's truth.
	if _, err := b.Settle(OpRefund, "P", TruthPending, ref("R3", 30)); err != nil {
		t.Fatal(err)
	}
	o, _ := b.Order("P")
	if o.RefundedAmount() != 10 || o.HeldAmount() != 40 {
		t.Fatalf("refunded %d held %d, want 10 and 40", o.RefundedAmount(), o.HeldAmount())
	}
	if _, _, err := b.Ledger().Refund("P", "R9", 61); err == nil {
		t.Fatal("a refund above what is not held was accepted")
	}
	if _, err := b.Settle(OpQueryRefund, "P", TruthDone, ref("R3", 0)); err != nil {
		t.Fatal(err)
	}
	// Pending, then refused by a query's truth: its amount is free again.
	b.Settle(OpRefund, "P", TruthPending, ref("R4", 60))
	if _, err := b.Settle(OpQueryRefund, "P", TruthNotDone, ref("R4", 0)); err != nil {
		t.Fatal(err)
	}
	// An executed refund cannot be refused afterwards.
	if _, err := b.Settle(OpQueryRefund, "P", TruthNotDone, ref("R1", 0)); !errors.Is(err, ErrSettled) {
		t.Fatalf("refusing an executed refund: %v", err)
	}
	o, _ = b.Order("P")
	if o.RefundedAmount() != 40 || o.HeldAmount() != 40 {
		t.Fatalf("refunded %d held %d, want 40 and 40", o.RefundedAmount(), o.HeldAmount())
	}
	for no, want := range map[string]RefundStatus{"R1": RefundExecuted, "R2": RefundRefused, "R3": RefundExecuted, "R4": RefundRefused} {
		if _, r, err := b.Ledger().FindRefund("P", no); err != nil || r.Status != want {
			t.Errorf("%s: %q %v, want %q", no, r.Status, err, want)
		}
	}
}

// Notifications follow the schedule until acknowledged, and Close stops
// the resends.
func TestBaseNotify(t *testing.T) {
	b, _ := NewBase(BaseOptions{NotifySchedule: []time.Duration{0, time.Millisecond, time.Millisecond, time.Millisecond}})
	var attempts atomic.Int32
	done := make(chan struct{})
	b.Notify("P1", func(ctx context.Context) bool {
		n := attempts.Add(1)
		if n == 3 {
			close(done)
		}
		return n == 3
	})
	<-done
	b.Close()
	if attempts.Load() != 3 || !b.Acked("P1") || b.Acked("P2") {
		t.Fatalf("attempts %d, acked %v", attempts.Load(), b.Acked("P1"))
	}

	b, _ = NewBase(BaseOptions{NotifySchedule: []time.Duration{0, time.Hour}})
	first := make(chan struct{})
	b.Notify("P1", func(ctx context.Context) bool { close(first); return false })
	<-first
	b.Close() // must not wait an hour for the resend
	if b.Acked("P1") {
		t.Fatal("an unacknowledged notification reads as acked")
	}
	b.Notify("P2", func(ctx context.Context) bool { t.Error("delivered after Close"); return true })
	b.Close()
}

// Stop refuses connections: the next call fails before anything is sent,
// even for a client that kept its connection open.
func TestBaseStopRefusesConnections(t *testing.T) {
	b, _ := NewBase(BaseOptions{})
	defer b.Close()
	var hits atomic.Int32
	url, err := b.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	b.Stop()
	if _, err := c.Get(url); err == nil {
		t.Fatal("a call after Stop got an answer")
	}
	if hits.Load() != 1 {
		t.Fatalf("%d requests reached the simulator, want 1", hits.Load())
	}
}

func TestBill(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC) // 23:30 in UTC+8
	b, _ := NewBase(BaseOptions{})
	defer b.Close()
	b.SetClock(func() time.Time { return now })
	newOrder(t, b.Ledger(), "PAID", 100, "micropay")
	newOrder(t, b.Ledger(), "REV", 100, "micropay")
	newOrder(t, b.Ledger(), "UNPAID", 192, "micropay")
	now = now.Add(time.Hour) // past midnight in UTC+8: the next acquirer day
	b.Ledger().Reverse("REV")
	b.Ledger().Refund("PAID", "R1", 30)
	b.Ledger().Reverse("UNPAID")

	var got []string
	for _, l := range b.Bill(time.Date(2026, 12, 1, 12, 0, 0, 0, cst), cst) {
		got = append(got, fmt.Sprintf("%s %s %d", l.Kind, l.OutTradeNo, l.Amount))
	}
	if want := "[pay PAID 100 pay REV 100]"; fmt.Sprint(got) != want {
		t.Errorf("1 Dec: %v, want %s", got, want)
	}
	got = nil
	for _, l := range b.Bill(time.Date(2026, 12, 2, 0, 0, 0, 0, cst), cst) {
		got = append(got, fmt.Sprintf("%s %s %d %s", l.Kind, l.OutTradeNo, l.Amount, l.OutRefundNo))
	}
	if want := "[refund PAID 30 R1 reverse REV 100 ]"; fmt.Sprint(got) != want {
		t.Errorf("2 Dec: %v, want %s", got, want)
	}
}

// A day's bill is ready from the next day (final); the day still running
// only with SameDayBills (provisional); a day not begun never.
func TestBillReady(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC) // 2 Dec 01:00 in UTC+8
	b, _ := NewBase(BaseOptions{})
	defer b.Close()
	check := func(day time.Time, wantReady, wantProv bool) {
		t.Helper()
		if r, p := b.BillReady(day, cst, now); r != wantReady || p != wantProv {
			t.Errorf("BillReady(%s) = %v, %v; want %v, %v", day.In(cst).Format("2006-01-02"), r, p, wantReady, wantProv)
		}
	}
	dec1 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) // 1 Dec 20:00 in UTC+8
	check(dec1, true, false)
	check(now, false, false) // 2 Dec in UTC+8, though still 1 Dec in UTC
	check(now.Add(24*time.Hour), false, false)
	b.SetSameDayBills(true)
	check(dec1, true, false)
	check(now, true, true)
	check(now.Add(24*time.Hour), false, false)
	on, _ := NewBase(BaseOptions{SameDayBills: true})
	defer on.Close()
	if r, p := on.BillReady(now, cst, now); !r || !p {
		t.Errorf("BaseOptions.SameDayBills: today = %v, %v", r, p)
	}
}
