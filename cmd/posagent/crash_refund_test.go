package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/store/sqlite"
)

// The refund half of the crash harness: a case with a refund pays first
// (the payment succeeds; no payment point fires), then refunds it in full
// or in part with a refund crash point armed, restarts on the same state
// and checks the refund against the simulator's ledger as well as the
// payment (checkRefundInvariants).

// isRefundPoint reports whether a crash point is on the refund path.
func isRefundPoint(name string) bool { return strings.HasPrefix(name, "refund.") }

// expectedRefund is what a refund must end as after a crash at point:
// sent and answered, the gateway refunded it, so it ends succeeded; a
// crash before it is sent leaves a refund the gateway never heard of,
// which stays unknown holding its amount (queried, never sent again, never
// freed by a timer: the gateway's "no such refund" proves nothing).
func expectedRefund(point string) pos.RefundState {
	if point == flows.CrashRefundSubmitted {
		return pos.RefundUnknown
	}
	return pos.RefundSucceeded
}

// runRefundCrashCase runs one refund case and reports whether the crash
// point fired.
func runRefundCrashCase(t *testing.T, c crashCase) bool {
	state, addr := t.TempDir(), freePort(t)
	a := startDemo(t, state, addr, "POSAGENT_CRASHPOINT="+c.spec)
	code, p, err := a.call("POST", "/v1/payments?wait=30s", fmt.Sprintf(`{"amount":%d,"currency":"CNY","auth_code":"134567890123456789"}`, c.amount))
	if err != nil || code != 201 || p["state"] != "succeeded" {
		t.Fatalf("the payment to refund: %d %v %v", code, p, err)
	}
	id := p["id"].(string)
	posted := make(chan postAnswer, 1)
	go func() {
		code, r, err := a.call("POST", "/v1/payments/"+id+"/refunds", fmt.Sprintf(`{"amount":%d,"reason":"crash test"}`, c.refund))
		posted <- postAnswer{code, r, err}
	}()
	fired := waitCrashUntil(t, a, c.spec, posted, refundsDone)
	if !fired {
		t.Logf("not exercised: %s is not reached in %s", c.spec, c.name())
		a.kill()
	}
	if c.then != "" && fired {
		b := startMayCrash(t, state, addr, "POSAGENT_CRASHPOINT="+c.then)
		if !waitCrashUntil(t, b, c.then, nil, refundsDone) {
			t.Errorf("the restart did not reach crash point %s", c.then)
		}
		b.kill()
	}

	b := startDemo(t, state, addr)
	waitSettled(t, b)
	// The balance the till shows agrees with the journal's refunds: what a
	// refund holds is not refundable again, what failed is freed.
	code, list, err := b.call("GET", "/v1/payments/"+id+"/refunds", "")
	if err != nil || code != 200 {
		t.Fatalf("refund list: %d %v %v", code, list, err)
	}
	b.kill()
	finals := checkCrashInvariants(t, state)
	if len(finals) != 1 || finals[0].State != pos.StateSucceeded {
		t.Fatalf("want the one succeeded payment in the journal, got %v", finals)
	}
	db, err := sqlite.Open(filepath.Join(state, "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := db.RefundsOf(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("want the one refund in the journal, got %d: %v", len(rs), rs)
	}
	want := expectedRefund(c.point())
	if rs[0].State != want || rs[0].Amount.Minor != c.refund {
		t.Errorf("the refund of %d ended %s (%s), want %s", rs[0].Amount.Minor, rs[0].State, rs[0].Outcome, want)
	}
	var refunded, pending int64
	switch rs[0].State {
	case pos.RefundSucceeded:
		refunded = c.refund
	case pos.RefundUnknown:
		pending = c.refund
	}
	if list["refunded"] != float64(refunded) || list["pending"] != float64(pending) || list["refundable"] != float64(c.amount-refunded-pending) {
		t.Errorf("the till's balance after a %s refund of %d: refunded %v, pending %v, refundable %v; want %d, %d, %d",
			rs[0].State, c.refund, list["refunded"], list["pending"], list["refundable"], refunded, pending, c.amount-refunded-pending)
	}
	return fired
}

// refundsDone reports whether a knows at least one refund, every payment
// and refund is final, and its print queue is empty: no crash point can
// fire any more.
func refundsDone(a *agent) bool {
	code, m, err := a.call("GET", "/v1/payments", "")
	ps, _ := m["payments"].([]any)
	if err != nil || code != 200 || len(ps) == 0 {
		return false
	}
	refunds := 0
	for _, p := range ps {
		p := p.(map[string]any)
		if p["state"] == "pending" {
			return false
		}
		rs, ok := refundsOf(a, p["id"].(string))
		if !ok {
			return false
		}
		for _, r := range rs {
			refunds++
			if r["state"] == "pending" {
				return false
			}
		}
	}
	return refunds > 0 && printQueueEmpty(a)
}

// refundsOf lists a payment's refunds through the API.
func refundsOf(a *agent, paymentID string) ([]map[string]any, bool) {
	code, m, err := a.call("GET", "/v1/payments/"+paymentID+"/refunds", "")
	if err != nil || code != 200 {
		return nil, false
	}
	var out []map[string]any
	for _, r := range m["refunds"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out, true
}

// waitRefundsSettled waits until every refund the running daemon b knows
// is final, or is one it can never settle by itself: resumed (no longer
// submitting) and absent from the simulator's ledger. A refund is never
// sent again, so one the gateway never received stays unknown, queried.
func waitRefundsSettled(t *testing.T, b *agent) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for _, p := range b.payments() {
		id := p["id"].(string)
		for {
			rs, ok := refundsOf(b, id)
			settled := ok
			for _, r := range rs {
				if !settled || r["state"] != "pending" {
					continue
				}
				settled = r["detail"] != "submitting" && !inLedger(t, b.state, r["out_refund_no"].(string))
			}
			if settled {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("payment %s: refunds not settled 45 s after the restart: %v", id, rs)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// inLedger reports whether the simulator's ledger has a refund with this
// number. The running simulator appends to the file; a torn last record is
// tolerated by OpenLedger.
func inLedger(t *testing.T, state, outRefundNo string) bool {
	t.Helper()
	l, err := sim.OpenLedger(filepath.Join(state, "sim-mmsp", "ledger.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = l.FindRefundByNo(outRefundNo)
	return err == nil
}

// checkRefundInvariants checks a stopped demo's refunds of payment p
// against the simulator's order o (found: the ledger has it):
//
//  1. succeeded ⇔ the ledger executed a refund with that out_refund_no, at
//     the journal's amount; failed ⇒ it executed none; a refund still not
//     final was never executed (the gateway never received it), holds its
//     amount and has its query owed; none is left in submitting;
//  2. every refund in the ledger belongs to one of the payment's journaled
//     refunds (none the journal does not know; one record per number, so
//     none executed twice);
//  3. the money agrees: what the ledger returned is what the journal's
//     succeeded refunds say, the journal holds no more than was paid, and
//     the ledger holds no more than the journal does; only a succeeded
//     payment has refunds.
func checkRefundInvariants(t *testing.T, db *sqlite.DB, p pos.Payment, o sim.Order, found bool) {
	t.Helper()
	ctx := t.Context()
	rs, err := db.RefundsOf(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) > 0 && !pos.Refundable(p) {
		t.Errorf("%s (%s) has %d refunds; only a succeeded payment can", p.ID, p.State, len(rs))
	}
	byNo := map[string]pos.Refund{}
	var succeeded, held int64
	for _, r := range rs {
		byNo[r.OutRefundNo] = r
		var lr sim.Refund
		inLedger := false
		if found {
			for _, x := range o.Refunds {
				if x.OutRefundNo == r.OutRefundNo {
					lr, inLedger = x, true
				}
			}
		}
		executed := inLedger && lr.Executed()
		if r.State.Holds() {
			held += r.Amount.Minor
		}
		switch {
		case r.State == pos.RefundSucceeded:
			succeeded += r.Amount.Minor
			if !executed || lr.Amount != r.Amount.Minor {
				t.Errorf("refund %s (%d) succeeded in the journal, but the ledger has %+v (found %v): money the customer never got", r.ID, r.Amount.Minor, lr, inLedger)
			}
		case r.State == pos.RefundFailed:
			if executed {
				t.Errorf("refund %s (%d) failed in the journal, but the ledger executed it: its amount was freed after the money moved", r.ID, r.Amount.Minor)
			}
		case !r.State.Final():
			ops, err := db.RefundOps(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case r.State == pos.RefundSubmitting:
				t.Errorf("refund %s (%d) is still submitting after the restart: it was never resumed", r.ID, r.Amount.Minor)
			case executed:
				t.Errorf("refund %s (%d) is %s in the journal, but the ledger executed it: the restart never found out", r.ID, r.Amount.Minor, r.State)
			case len(ops) == 0:
				t.Errorf("refund %s (%d) is %s with no query owed: nothing will ever settle it", r.ID, r.Amount.Minor, r.State)
			}
		}
	}
	if held > p.Amount.Minor {
		t.Errorf("%s: the journal's refunds hold %d of a payment of %d", p.ID, held, p.Amount.Minor)
	}
	if !found {
		return
	}
	for _, lr := range o.Refunds {
		if _, ok := byNo[lr.OutRefundNo]; !ok {
			t.Errorf("the ledger's order %s has refund %s (%d, %q) that no journaled refund knows", o.OutTradeNo, lr.OutRefundNo, lr.Amount, lr.Status)
		}
	}
	if got := o.RefundedAmount(); got != succeeded {
		t.Errorf("%s: the ledger returned %d to the customer, the journal's succeeded refunds say %d", p.ID, got, succeeded)
	}
	if o.HeldAmount() > held {
		t.Errorf("%s: the ledger holds %d in refunds, the journal only %d: the till could refund it twice", p.ID, o.HeldAmount(), held)
	}
}
