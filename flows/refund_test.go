package flows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/hw/printer/printertest"
	"github.com/posagent/posagent/store"
)

// These tests refund real payments through the real MMSP simulator over
// HTTP, with a real SQLite journal; the simulator's ledger is the oracle
// for "nothing is ever refunded twice".

// refundRig is a payment rig with a refund runner and a print spool on the
// same journal.
type refundRig struct {
	*rig
	refunds *flows.RefundRunner
	printer *printertest.Recorder
	spool   *flows.Spool
}

func newRefundRig(t *testing.T, run bool) *refundRig {
	t.Helper()
	rg := newRig(t)
	rec := printertest.NewRecorder()
	spool, err := flows.NewSpool(flows.SpoolOptions{Journal: rg.journal, Printer: rec, Customer: true, Merchant: true, Tick: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = spool.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	rr := &refundRig{rig: rg, printer: rec, spool: spool}
	rr.refunds = rr.newRefundRunner(t, run)
	return rr
}

// newRefundRunner starts (when run) a refund runner on the rig's journal,
// as a restarted process would.
func (rr *refundRig) newRefundRunner(t *testing.T, run bool) *flows.RefundRunner {
	t.Helper()
	r, err := flows.NewRefundRunner(flows.RefundOptions{
		Journal: rr.journal, Gateways: rr.gateways, Receipts: rr.spool,
		Tick: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = r.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return r
}

// pay takes a payment of minor CNY and waits for it to be final.
func (rr *refundRig) pay(t *testing.T, minor int64) pos.Payment {
	t.Helper()
	p, err := rr.runner.Start(context.Background(), flows.StartRequest{Amount: money(t, minor), Method: pos.Micropay, Code: code(t, "134567890123456789")})
	if err != nil {
		t.Fatal(err)
	}
	return rr.final(t, p.ID)
}

// finalRefund waits for a refund to be final.
func finalRefund(t *testing.T, r *flows.RefundRunner, id string) pos.Refund {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		ref, err := r.GetRefund(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ref.State.Final() {
			return ref
		}
		if _, err := r.WaitRefund(ctx, id, ref.State); err != nil || ctx.Err() != nil {
			t.Fatalf("refund %s still %s: %v", id, ref.State, err)
		}
	}
}

// ledgerRefunds is what the simulated acquirer refunded of an order.
func (rr *refundRig) ledgerRefunds(t *testing.T, outTradeNo string) []sim.Refund {
	t.Helper()
	o, ok := rr.sim.Ledger().Get(outTradeNo)
	if !ok {
		t.Fatalf("order %s is not in the simulator's ledger", outTradeNo)
	}
	return o.Refunds
}

// TestRefundPartsNeverAboveThePayment: a payment is refunded in two parts,
// the second "all that is left"; a third is refused before anything is
// journaled or sent. The ledger holds exactly the two, each refund prints
// its two copies, and the day's summary counts them.
func TestRefundPartsNeverAboveThePayment(t *testing.T) {
	rr := newRefundRig(t, true)
	ctx := context.Background()
	p := rr.pay(t, 2000)

	first, err := rr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Amount: money(t, 500), Reason: "one item returned"})
	if err == nil && first.State == pos.RefundProcessing {
		first = finalRefund(t, rr.refunds, first.ID) // MMSP 受理成功: accepted, final by 2313
	}
	if err != nil || first.State != pos.RefundSucceeded || first.GatewayRefundID == "" {
		t.Fatalf("first refund: %+v %v", first, err)
	}
	if len(first.OutRefundNo) != 20 || !strings.HasPrefix(first.OutRefundNo, "RF") {
		t.Errorf("out_refund_no %q is not RF + 18 digits", first.OutRefundNo)
	}
	rest, err := rr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID})
	if err == nil && rest.State == pos.RefundProcessing {
		rest = finalRefund(t, rr.refunds, rest.ID)
	}
	if err != nil || rest.State != pos.RefundSucceeded || rest.Amount != money(t, 1500) {
		t.Fatalf("refund of the rest: %+v %v", rest, err)
	}
	_, err = rr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Amount: money(t, 1)})
	if !pos.Match(pos.Conflict, err) || !strings.Contains(err.Error(), "exceeds what is left") {
		t.Fatalf("refund above the payment: %v, want Conflict", err)
	}
	_, err = rr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID})
	if !pos.Match(pos.Conflict, err) || !strings.Contains(err.Error(), "nothing left to refund") {
		t.Fatalf("refund of a fully refunded payment: %v, want Conflict", err)
	}

	got := rr.ledgerRefunds(t, p.OutTradeNo)
	if len(got) != 2 || got[0].Amount != 500 || got[1].Amount != 1500 || got[0].OutRefundNo != first.OutRefundNo {
		t.Fatalf("ledger refunds: %+v", got)
	}
	bal, err := rr.refunds.PaymentRefunds(ctx, p.ID)
	if err != nil || len(bal.Refunds) != 2 || bal.Refunded != money(t, 2000) || bal.Left.Minor != 0 {
		t.Fatalf("balance: %+v %v", bal, err)
	}

	// Each refund's copies, merchant's first, from the journaled jobs.
	want := map[string]bool{first.ID + "-merchant": true, first.ID + "-customer": true, rest.ID + "-merchant": true, rest.ID + "-customer": true}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !printedAll(rr.printer, want) {
		time.Sleep(20 * time.Millisecond)
	}
	if !printedAll(rr.printer, want) {
		t.Fatalf("refund receipts printed: %v, want %v", names(rr.printer), want)
	}
	jobs, err := rr.journal.RefundPrintJobs(ctx, first.ID)
	if err != nil || len(jobs) != 2 || jobs[0].Kind != store.ReceiptRefundMerchant || !jobs[1].Printed() {
		t.Errorf("first refund's jobs: %+v %v", jobs, err)
	}

	sum, err := rr.spool.DaySummary(ctx, time.Now())
	if err != nil || len(sum.Lines) != 1 || sum.Lines[0].Refunds != 2 || sum.Lines[0].Refunded.Minor != 2000 || sum.Lines[0].Amount.Minor != 2000 {
		t.Errorf("summary: %+v %v", sum, err)
	}
}

func names(rec *printertest.Recorder) []string {
	var out []string
	for _, r := range rec.Printed() {
		out = append(out, r.Name)
	}
	return out
}

func printedAll(rec *printertest.Recorder, want map[string]bool) bool {
	n := 0
	for _, name := range names(rec) {
		if want[name] {
			n++
		}
	}
	return n == len(want)
}

// TestRefundRefusals: only succeeded payments of gateways that refund can
// be refunded; a refused request journals nothing.
func TestRefundRefusals(t *testing.T) {
	rr := newRefundRig(t, true)
	ctx := context.Background()
	declined := rr.pay(t, 1293)
	if declined.State != pos.StateFailed {
		t.Fatalf("..93 ended %s", declined.State)
	}
	_, err := rr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: declined.ID})
	if !pos.Match(pos.Conflict, err) || !strings.Contains(err.Error(), "only a succeeded payment") {
		t.Errorf("refund of a failed payment: %v, want Conflict", err)
	}
	if _, err := rr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: "pay_nobody"}); !pos.Match(pos.NotFound, err) {
		t.Errorf("refund of an unknown payment: %v, want NotFound", err)
	}
	p := rr.pay(t, 1200)
	tests := []struct {
		name string
		req  flows.RefundRequest
		want pos.Kind
	}{
		{"other currency", flows.RefundRequest{PaymentID: p.ID, Amount: pos.Money{Minor: 100, Currency: "HKD"}}, pos.Invalid},
		{"reason too long", flows.RefundRequest{PaymentID: p.ID, Reason: strings.Repeat("x", flows.MaxRefundReason+1)}, pos.Invalid},
		{"above the payment", flows.RefundRequest{PaymentID: p.ID, Amount: money(t, 1201)}, pos.Conflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := rr.refunds.Refund(ctx, tc.req); !pos.Match(tc.want, err) {
				t.Fatalf("Refund: %v, want %v", err, tc.want)
			}
		})
	}
	if rs, _ := rr.journal.RefundsOf(ctx, p.ID); len(rs) != 0 {
		t.Errorf("refused refunds were journaled: %v", rs)
	}

	// A gateway without refunds says so.
	nr, err := flows.NewRefundRunner(flows.RefundOptions{Journal: rr.journal, Gateways: map[string]gateways.Gateway{"mmsp": queryOnly{rr.gateways["mmsp"]}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = nr.Refund(ctx, flows.RefundRequest{PaymentID: p.ID})
	if !pos.Match(pos.Invalid, err) || !strings.Contains(err.Error(), "gateway mmsp cannot refund") {
		t.Errorf("refund through a gateway that cannot: %v", err)
	}
}

// queryOnly hides every optional operation of a gateway.
type queryOnly struct{ g gateways.Gateway }

func (q queryOnly) Kind() string                        { return q.g.Kind() }
func (q queryOnly) Capabilities() gateways.Capabilities { return gateways.Capabilities{} }
func (q queryOnly) Timing() gateways.Timing             { return q.g.Timing() }
func (q queryOnly) Query(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return q.g.Query(ctx, ref)
}

// TestRefundLostAnswerIsQueried: the simulator refunds but its answer is
// lost (NoAnswer). The refund is pending, then found succeeded by a query;
// the ledger holds exactly one refund: it was never sent again.
func TestRefundLostAnswerIsQueried(t *testing.T) {
	rr := newRefundRig(t, true)
	ctx := context.Background()
	p := rr.pay(t, 1200)
	rr.sim.Script().SetOrder(p.OutTradeNo, sim.Behaviour{Fault: sim.NoAnswer, FaultOn: []sim.Op{sim.OpRefund}, Times: 1})

	r, err := rr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Amount: money(t, 300)})
	if err != nil || r.State != pos.RefundUnknown {
		t.Fatalf("refund with a lost answer: %+v %v, want unknown", r, err)
	}
	r = finalRefund(t, rr.refunds, r.ID)
	if r.State != pos.RefundSucceeded || r.GatewayRefundID == "" || r.Queries < 1 {
		t.Fatalf("refund after querying: %+v", r)
	}
	if got := rr.ledgerRefunds(t, p.OutTradeNo); len(got) != 1 || got[0].Amount != 300 {
		t.Fatalf("ledger refunds: %+v, want exactly one of 300", got)
	}
	evs, err := rr.journal.RefundEvents(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var path []string
	for _, e := range evs {
		path = append(path, string(e.To))
	}
	if strings.Join(path, ",") != "submitting,unknown,succeeded" {
		t.Errorf("refund history %v", path)
	}
}

// TestRefundResumedByANewRunner: refunds left pending by a process that
// stopped are finished by the next one on the same journal, by querying:
// one whose answer was lost, one journaled in submitting that reached the
// gateway, and one journaled in submitting that never did. The last stays
// unknown and queried, holding its amount: a refund is never settled by a
// timer (issue 9; this test used to expect "failed" ten minutes on, which
// could free an amount the gateway had in fact refunded).
func TestRefundResumedByANewRunner(t *testing.T) {
	rr := newRefundRig(t, false) // the first process never runs its loop
	ctx := context.Background()
	p := rr.pay(t, 3000)

	rr.sim.Script().SetOrder(p.OutTradeNo, sim.Behaviour{Fault: sim.NoAnswer, FaultOn: []sim.Op{sim.OpRefund}, Times: 1})
	lost, err := rr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Amount: money(t, 1000)})
	if err != nil || lost.State != pos.RefundUnknown {
		t.Fatalf("refund with a lost answer: %+v %v", lost, err)
	}

	// Two refunds journaled in submitting, as the runner journals them
	// before the call; the process "dies" before journaling any answer.
	now := time.Now()
	sent := pos.Refund{ID: "ref_sent", PaymentID: p.ID, OutRefundNo: "RF" + now.UTC().Format("20060102150405") + "0001",
		Amount: money(t, 1000), State: pos.RefundSubmitting, CreatedAt: now, UpdatedAt: now, SubmittedAt: now}
	never := sent
	never.ID, never.OutRefundNo = "ref_never", sent.OutRefundNo[:18]+"02"
	for _, r := range []pos.Refund{sent, never} {
		if err := rr.journal.AppendRefund(ctx, store.RefundChange{Refund: r, Reason: "refund requested", At: now}); err != nil {
			t.Fatal(err)
		}
	}
	// The first reached the gateway before the crash.
	res, err := rr.gateways["mmsp"].(gateways.Refunder).Refund(ctx, gateways.RefundRequest{
		Order: gateways.OrderRef{OutTradeNo: p.OutTradeNo, Wallet: p.Wallet, Method: p.Method, Amount: p.Amount}, OutRefundNo: sent.OutRefundNo, Amount: sent.Amount})
	if err != nil || (res.Status != gateways.StatusSucceeded && res.Status != gateways.StatusUserPaying) {
		t.Fatalf("refund sent before the crash: %+v %v", res, err)
	}

	// The next process: a new runner on the same journal.
	next := rr.newRefundRunner(t, true)
	for _, id := range []string{lost.ID, sent.ID} {
		if r := finalRefund(t, next, id); r.State != pos.RefundSucceeded {
			t.Errorf("refund %s ended %s (%s), want succeeded", id, r.State, r.Outcome)
		}
	}
	// The one the gateway never saw: queried again and again, never
	// declared failed by the clock.
	ctxw, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		r, err := next.GetRefund(ctxw, never.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != pos.RefundUnknown {
			t.Fatalf("refund never sent ended %s (%s), want it still unknown", r.State, r.Outcome)
		}
		if r.Queries >= 2 {
			break
		}
		if ctxw.Err() != nil {
			t.Fatalf("refund never sent was not queried twice: %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := rr.ledgerRefunds(t, p.OutTradeNo)
	if len(got) != 2 {
		t.Fatalf("ledger refunds: %+v, want exactly the two that reached it", got)
	}
	// Its amount stays held: nothing is left to refund.
	if last, err := next.Refund(ctx, flows.RefundRequest{PaymentID: p.ID}); !pos.Match(pos.Conflict, err) {
		t.Fatalf("refund of what the unknown one holds: %+v %v, want Conflict", last, err)
	}
}
