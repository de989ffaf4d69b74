package flows_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allinpay"
	"github.com/posagent/posagent/gateways/allinpay/allinpaysim"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// till is one journal with its runners on an Allinpay simulator.
type till struct {
	db      *sqlite.DB
	runner  *flows.Runner
	refunds *flows.RefundRunner
}

type allinpayDay struct {
	srv *allinpaysim.Server
	g   *allinpay.Client
}

func newAllinpayDay(t *testing.T, mutate ...func(*allinpaysim.Options)) allinpayDay {
	t.Helper()
	return newAllinpayDayWith(t, nil, mutate...)
}

// newAllinpayDayWith is newAllinpayDay with the adapter's options adjusted
// by tweak (and the simulator's by mutate).
func newAllinpayDayWith(t *testing.T, tweak func(*allinpay.Options), mutate ...func(*allinpaysim.Options)) allinpayDay {
	t.Helper()
	ks, err := allinpaysim.GenerateKeySet(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	so := allinpaysim.Options{MinQueryInterval: 40 * time.Millisecond, Hold: 5 * time.Second, WalletTimeout: 1500 * time.Millisecond, Minute: time.Second}
	if err := ks.Load(&so); err != nil {
		t.Fatal(err)
	}
	for _, m := range mutate {
		m(&so)
	}
	srv, err := allinpaysim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	ao := allinpay.Options{
		Endpoint: ts.URL + "/gateway/pay/consumeTrans", AccessCode: allinpaysim.DefaultAccessCode, MchNo: allinpaysim.DefaultMchNo,
		Currency: allinpaysim.DefaultCurrency, MerchantKeyFile: ks.MerchantKeyFile, PlatformKeyFile: ks.PlatformPublicKeyFile,
		NotifyURL: "http://127.0.0.1:9/allinpay/notify", PollInterval: 50 * time.Millisecond, PayTimeout: 30 * time.Second,
		QRTimeout: 2 * time.Minute, CallTimeout: 10 * time.Second, RetryBackoff: 100 * time.Millisecond, RetryBackoffMax: time.Second, Simulated: true,
	}
	if tweak != nil {
		tweak(&ao)
	}
	g, err := allinpay.New(ao, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return allinpayDay{srv: srv, g: g}
}

func (d allinpayDay) till(t *testing.T) *till {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	gws := map[string]gateways.Gateway{"allinpay": d.g}
	r, err := flows.NewRunner(flows.Options{Journal: db, Gateways: gws, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := flows.NewRefundRunner(flows.RefundOptions{Journal: db, Gateways: gws, Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = r.Run(ctx); done <- struct{}{} }()
	go func() { _ = rr.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return &till{db: db, runner: r, refunds: rr}
}

// pay takes a micropay of minor HKD to the end; it must succeed.
func (tl *till) pay(t *testing.T, minor int64) pos.Payment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := tl.runner.Start(ctx, flows.StartRequest{Amount: hkd(minor), Method: pos.Micropay, Code: code(t, "134567890123456789")})
	if err != nil {
		t.Fatal(err)
	}
	for !p.State.Final() {
		if p, err = tl.runner.Wait(ctx, p.ID, p.State); err != nil {
			t.Fatalf("payment %s: %v", p.ID, err)
		}
	}
	if p.State != pos.StateSucceeded {
		t.Fatalf("payment of %d ended %s (%s)", minor, p.State, p.Reason)
	}
	return p
}

func (tl *till) refund(t *testing.T, p pos.Payment, minor int64) pos.Refund {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := tl.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Amount: hkd(minor), Reason: "returned"})
	if err != nil {
		t.Fatal(err)
	}
	for !r.State.Final() {
		if r, err = tl.refunds.WaitRefund(ctx, r.ID, r.State); err != nil {
			t.Fatal(err)
		}
	}
	if r.State != pos.RefundSucceeded {
		t.Fatalf("refund ended %s (%s)", r.State, r.Outcome)
	}
	return r
}

// plant journals a payment that did not go through this till's runner.
func (tl *till) plant(t *testing.T, id, outTradeNo string, minor int64, state pos.State) pos.Payment {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	p := pos.Payment{ID: id, OutTradeNo: outTradeNo, Gateway: "allinpay", Method: pos.Micropay, Amount: hkd(minor), Wallet: pos.WeChatPay,
		State: pos.StateSubmitting, CreatedAt: now, UpdatedAt: now, SubmittedAt: now}
	if err := tl.db.Append(ctx, store.Change{Payment: p, Reason: "planted", At: now}); err != nil {
		t.Fatal(err)
	}
	from := p.State
	p.State = state
	if err := tl.db.Append(ctx, store.Change{Payment: p, From: from, Reason: "planted", At: now}); err != nil {
		t.Fatal(err)
	}
	return p
}

func (tl *till) plantRefund(t *testing.T, p pos.Payment, id, outRefundNo string, minor int64, state pos.RefundState) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	r := pos.Refund{ID: id, PaymentID: p.ID, OutRefundNo: outRefundNo, Amount: hkd(minor), Reason: "planted", State: pos.RefundSubmitting, CreatedAt: now, UpdatedAt: now, SubmittedAt: now}
	if err := tl.db.AppendRefund(ctx, store.RefundChange{Refund: r, Reason: "planted", At: now}); err != nil {
		t.Fatal(err)
	}
	from := r.State
	r.State = state
	if err := tl.db.AppendRefund(ctx, store.RefundChange{Refund: r, From: from, Reason: "planted", At: now}); err != nil {
		t.Fatal(err)
	}
}

// nextDay makes the simulator's bill of today available (a day's bill is
// served from the next day, §1.5.3.1).
func (d allinpayDay) nextDay() {
	d.srv.SetClock(func() time.Time { return time.Now().Add(24 * time.Hour) })
}

func reconcile(t *testing.T, tl *till, g gateways.Gateway, date string) flows.Report {
	t.Helper()
	rc, err := flows.NewReconciler(flows.ReconcileOptions{Journal: tl.db, Gateways: map[string]gateways.Gateway{"allinpay": g}})
	if err != nil {
		t.Fatal(err)
	}
	reps, err := rc.Reconcile(context.Background(), date, "allinpay")
	if err != nil || len(reps) != 1 {
		t.Fatalf("Reconcile = %+v, %v", reps, err)
	}
	return reps[0]
}

// today is the acquirer's day now (UTC+8).
func today() string { return time.Now().In(time.FixedZone("UTC+8", 8*3600)).Format("2006-01-02") }

// A day whose journal and bill agree: payments and a refund matched,
// nothing reported, the day said in UTC+8.
func TestReconcileMatchingDay(t *testing.T) {
	d := newAllinpayDay(t)
	tl := d.till(t)
	tl.pay(t, 1000)
	b := tl.pay(t, 2000)
	tl.refund(t, b, 500)
	d.nextDay()
	rep := reconcile(t, tl, d.g, today())
	if !rep.OK() || !rep.HasBill || rep.Matched != 3 || rep.BillLines != 3 || rep.Zone != "UTC+8" || rep.Date != today() || len(rep.Day) != 3 {
		t.Fatalf("report = %+v", rep)
	}
	checkTotals(t, rep, 2, 3000, 1, 500)
}

// checkTotals: the report's one currency (HKD) sums as the journal and the
// bill agree: payments charged, refunds, and the same net on both sides.
func checkTotals(t *testing.T, rep flows.Report, payments int, paid int64, refunds int, refunded int64) {
	t.Helper()
	if len(rep.Totals) != 1 {
		t.Fatalf("totals = %+v, want one currency", rep.Totals)
	}
	tot := rep.Totals[0]
	net := hkd(paid - refunded)
	for name, s := range map[string]flows.ReconSide{"journal": tot.Journal, "bill": tot.Bill} {
		if tot.Currency != "HKD" || s.Payments != payments || s.Paid != hkd(paid) || s.Refunds != refunds || s.Refunded != hkd(refunded) || s.Net != net {
			t.Errorf("%s totals = %+v, want %d payments of %d, %d refunds of %d, net %d", name, s, payments, paid, refunds, refunded, paid-refunded)
		}
	}
}

// A simulator serving the day still running (SameDayBill) lets the day be
// reconciled before it ends: matched, and the report says provisional. The
// same day reconciled after its end is not provisional.
func TestReconcileSameDayBill(t *testing.T) {
	d := newAllinpayDay(t, func(o *allinpaysim.Options) { o.SameDayBill = true })
	tl := d.till(t)
	a := tl.pay(t, 1000)
	tl.pay(t, 2500)
	tl.refund(t, a, 1000)
	rep := reconcile(t, tl, d.g, today())
	if !rep.OK() || !rep.HasBill || !rep.Provisional || rep.Matched != 3 || rep.BillLines != 3 || len(rep.Day) != 3 {
		t.Fatalf("report = %+v", rep)
	}
	checkTotals(t, rep, 2, 3500, 1, 1000)
	rc, err := flows.NewReconciler(flows.ReconcileOptions{Journal: tl.db, Gateways: map[string]gateways.Gateway{"allinpay": d.g},
		Now: func() time.Time { return time.Now().Add(48 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	reps, err := rc.Reconcile(context.Background(), today(), "allinpay")
	if err != nil || len(reps) != 1 || reps[0].Provisional || !reps[0].OK() {
		t.Errorf("after the day's end: %+v, %v", reps, err)
	}
}

// A day with planted mismatches reports each kind, for payments and for
// refunds.
func TestReconcilePlantedMismatches(t *testing.T) {
	d := newAllinpayDay(t)
	ours, other := d.till(t), d.till(t)
	x := other.pay(t, 1100) // not in our journal
	y := other.pay(t, 1200) // ours says 1300
	z := other.pay(t, 1400) // ours says failed
	v := other.pay(t, 1600) // ours agrees
	r2 := other.refund(t, v, 500)
	r3 := other.refund(t, x, 300) // a refund of an order we do not know
	r4 := other.refund(t, y, 200) // ours says failed

	ours.plant(t, "pay_y", y.OutTradeNo, 1300, pos.StateSucceeded)
	ours.plant(t, "pay_z", z.OutTradeNo, 1400, pos.StateFailed)
	ours.plant(t, "pay_lost", "PLANTNOTBILLED01", 1500, pos.StateSucceeded)
	pv := ours.plant(t, "pay_v", v.OutTradeNo, 1600, pos.StateSucceeded)
	ours.plantRefund(t, pv, "ref_v", r2.OutRefundNo, 400, pos.RefundSucceeded)
	ours.plantRefund(t, pv, "ref_lost", "RFPLANT000000001", 100, pos.RefundSucceeded)
	py, _ := ours.db.Payment(context.Background(), "pay_y")
	ours.plantRefund(t, py, "ref_y", r4.OutRefundNo, 200, pos.RefundFailed)
	d.nextDay()

	rep := reconcile(t, ours, d.g, today())
	if rep.OK() || !rep.HasBill {
		t.Fatalf("planted mismatches reported OK: %+v", rep)
	}
	var got []string
	for _, i := range rep.Issues {
		who := i.OutTradeNo
		if i.Refund {
			who = i.OutRefundNo
		}
		got = append(got, fmt.Sprintf("%v %s %s", i.Refund, i.Kind, who))
		if i.Message == "" {
			t.Errorf("issue without a message: %+v", i)
		}
	}
	want := []string{
		"false amount " + y.OutTradeNo,
		"false not_in_bill PLANTNOTBILLED01",
		"false not_in_journal " + x.OutTradeNo,
		"false state " + z.OutTradeNo,
		"true amount " + r2.OutRefundNo,
		"true not_in_bill RFPLANT000000001",
		"true not_in_journal " + r3.OutRefundNo,
		"true state " + r4.OutRefundNo,
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("issues:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.Matched != 1 { // pay_v
		t.Errorf("matched = %d, want 1", rep.Matched)
	}
}

// A gateway without a bill is said so, with the journal's day listed;
// that is no mismatch. A malformed date is refused.
func TestReconcileWithoutBill(t *testing.T) {
	rg := newRig(t)
	p, err := rg.runner.Start(context.Background(), flows.StartRequest{Amount: money(t, 1291), Method: pos.Micropay, Code: code(t, "134567890123456789")})
	if err != nil {
		t.Fatal(err)
	}
	rg.final(t, p.ID)
	rc, err := flows.NewReconciler(flows.ReconcileOptions{Journal: rg.journal, Gateways: rg.gateways})
	if err != nil {
		t.Fatal(err)
	}
	reps, err := rc.Reconcile(context.Background(), today(), "")
	if err != nil || len(reps) != 1 {
		t.Fatalf("%+v %v", reps, err)
	}
	if r := reps[0]; r.HasBill || !strings.Contains(r.NoBill, "no bill") || !r.OK() || len(r.Day) != 1 || r.Day[0].PaymentID != p.ID {
		t.Errorf("report = %+v", r)
	}
	for _, bad := range []string{"2026-13-01", "yesterday", "20261201"} {
		if _, err := rc.Reconcile(context.Background(), bad, ""); !pos.Match(pos.Invalid, err) {
			t.Errorf("Reconcile(%q) = %v, want Invalid", bad, err)
		}
	}
	if _, err := rc.Reconcile(context.Background(), today(), "nope"); !pos.Match(pos.Invalid, err) {
		t.Errorf("unknown gateway: %v", err)
	}
}
