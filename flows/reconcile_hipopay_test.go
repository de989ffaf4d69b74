package flows_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/hipopay/hipopaysim"
	"github.com/posagent/posagent/store"
)

// HipoPay's orders are placed in the mini-program and adopted as external
// payments; the reconciliation matches them, and their refunds, against
// the simulator's report (whose refund lines, as the spec's example,
// carry the refund_no and not our out_refund_id).

func (rg *externalRig) reconcile(t *testing.T) flows.Report {
	t.Helper()
	rc, err := flows.NewReconciler(flows.ReconcileOptions{Journal: rg.journal, Gateways: map[string]gateways.Gateway{"hipopay": rg.gw}})
	if err != nil {
		t.Fatal(err)
	}
	reps, err := rc.Reconcile(context.Background(), today(), "hipopay")
	if err != nil || len(reps) != 1 {
		t.Fatalf("Reconcile = %+v, %v", reps, err)
	}
	return reps[0]
}

// adopt places an order in the mini-program and looks it up at the till.
func (rg *externalRig) adopt(t *testing.T, no string, minor int64) pos.Payment {
	t.Helper()
	if _, err := rg.sim.Seed(hipopaysim.SeedOrder{OutTradeNo: no, Amount: hkd(minor)}); err != nil {
		t.Fatal(err)
	}
	p, err := rg.runner.Lookup(context.Background(), flows.LookupRequest{OutTradeNo: no})
	if err != nil || p.State != pos.StateSucceeded {
		t.Fatalf("lookup %s = %+v, %v", no, p, err)
	}
	return p
}

func (rg *externalRig) refund(t *testing.T, p pos.Payment, minor int64) pos.Refund {
	t.Helper()
	r, err := rg.refunds.Refund(context.Background(), flows.RefundRequest{PaymentID: p.ID, Amount: hkd(minor), Reason: "returned"})
	if err != nil {
		t.Fatal(err)
	}
	if r = finalRefund(t, rg.refunds, r.ID); r.State != pos.RefundSucceeded || r.GatewayRefundID == "" {
		t.Fatalf("refund = %+v", r)
	}
	return r
}

// refundAtAcquirer refunds an order straight through the adapter, the
// journal knowing nothing of it; it returns the refund_no.
func (rg *externalRig) refundAtAcquirer(t *testing.T, no string, minor int64, outRefundNo string) string {
	t.Helper()
	o, ok := rg.sim.Ledger().Get(no)
	if !ok {
		t.Fatalf("no order %s", no)
	}
	res, err := rg.gw.Refund(context.Background(), gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: no, TransactionID: o.TransactionID, Amount: hkd(o.Amount)},
		OutRefundNo: outRefundNo, Amount: hkd(minor)})
	if err != nil || res.Status != gateways.StatusSucceeded || res.RefundID == "" {
		t.Fatalf("refund at the acquirer = %+v, %v", res, err)
	}
	return res.RefundID
}

func (rg *externalRig) plant(t *testing.T, id, no string, minor int64, state pos.State) pos.Payment {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	p := pos.Payment{ID: id, OutTradeNo: no, Gateway: "hipopay", Method: pos.MerchantQR, Amount: hkd(minor), Wallet: pos.WeChatPay, External: true,
		State: pos.StateSubmitting, CreatedAt: now, UpdatedAt: now, SubmittedAt: now}
	if err := rg.journal.Append(ctx, store.Change{Payment: p, Reason: "planted", At: now}); err != nil {
		t.Fatal(err)
	}
	from := p.State
	p.State = state
	if err := rg.journal.Append(ctx, store.Change{Payment: p, From: from, Reason: "planted", At: now}); err != nil {
		t.Fatal(err)
	}
	return p
}

func (rg *externalRig) plantRefund(t *testing.T, p pos.Payment, id, outRefundNo, refundNo string, minor int64, state pos.RefundState) {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	r := pos.Refund{ID: id, PaymentID: p.ID, OutRefundNo: outRefundNo, GatewayRefundID: refundNo, Amount: hkd(minor), Reason: "planted",
		State: pos.RefundSubmitting, CreatedAt: now, UpdatedAt: now, SubmittedAt: now}
	if err := rg.journal.AppendRefund(ctx, store.RefundChange{Refund: r, Reason: "planted", At: now}); err != nil {
		t.Fatal(err)
	}
	from := r.State
	r.State = state
	if err := rg.journal.AppendRefund(ctx, store.RefundChange{Refund: r, From: from, Reason: "planted", At: now}); err != nil {
		t.Fatal(err)
	}
}

// A day whose journal and report agree: the adopted orders and their
// refunds matched (the refunds by refund_no), the day in UTC+8, both
// sides' totals equal.
func TestReconcileHipoPayMatchingDay(t *testing.T) {
	rg := newExternalRig(t)
	a := rg.adopt(t, "MPRECON000000001", 2000)
	rg.adopt(t, "MPRECON000000002", 1000)
	rg.refund(t, a, 500)
	rg.refund(t, a, 1500)
	rep := rg.reconcile(t)
	if !rep.OK() || !rep.HasBill || rep.Matched != 4 || rep.BillLines != 4 || len(rep.Day) != 4 || rep.Zone != "UTC+8" || rep.Date != today() {
		t.Fatalf("report = %+v", rep)
	}
	checkTotals(t, rep, 2, 3000, 2, 2000)
}

// A day with planted mismatches reports each kind, for payments and for
// refunds, the refunds named in the report by refund_no only.
func TestReconcileHipoPayPlantedMismatches(t *testing.T) {
	rg := newExternalRig(t)
	ctx := context.Background()
	for no, minor := range map[string]int64{"MPX": 1100, "MPY": 1200, "MPZ": 1400} {
		if _, err := rg.sim.Seed(hipopaysim.SeedOrder{OutTradeNo: no, Amount: hkd(minor)}); err != nil {
			t.Fatal(err)
		}
	}
	v := rg.adopt(t, "MPV", 1600)                  // ours agrees
	rv := rg.refund(t, v, 500)                     // ours agrees
	rg.refundAtAcquirer(t, "MPX", 300, "RFX00001") // a refund of an order we do not know
	amountNo := rg.refundAtAcquirer(t, "MPV", 300, "RFV00002")
	stateNo := rg.refundAtAcquirer(t, "MPY", 200, "RFY00003")

	rg.plant(t, "pay_y", "MPY", 1300, pos.StateSucceeded) // the report says 12.00
	rg.plant(t, "pay_z", "MPZ", 1400, pos.StateFailed)    // the report has it paid
	rg.plant(t, "pay_lost", "MPNOTBILLED", 1500, pos.StateSucceeded)
	rg.plantRefund(t, v, "ref_amount", "RFV00002", amountNo, 400, pos.RefundSucceeded) // the report says 3.00
	rg.plantRefund(t, v, "ref_lost", "RFPLANT000000001", "NOSUCHREFUND", 100, pos.RefundSucceeded)
	py, err := rg.journal.Payment(ctx, "pay_y")
	if err != nil {
		t.Fatal(err)
	}
	rg.plantRefund(t, py, "ref_state", "RFY00003", stateNo, 200, pos.RefundFailed)

	rep := rg.reconcile(t)
	if rep.OK() || !rep.HasBill {
		t.Fatalf("planted mismatches reported OK: %+v", rep)
	}
	var got []string
	for _, i := range rep.Issues {
		got = append(got, fmt.Sprintf("%v %s %s %s", i.Refund, i.Kind, i.OutTradeNo, i.OutRefundNo))
		if i.Message == "" {
			t.Errorf("issue without a message: %+v", i)
		}
	}
	want := []string{
		"false amount MPY ",
		"false not_in_bill MPNOTBILLED ",
		"false not_in_journal MPX ",
		"false state MPZ ",
		"true amount MPV RFV00002",
		"true not_in_bill  RFPLANT000000001",
		"true not_in_journal MPX ",
		"true state MPY RFY00003",
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("issues:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.Matched != 2 { // MPV and its refund rv
		t.Errorf("matched = %d, want 2 (payment %s, refund %s)", rep.Matched, v.ID, rv.ID)
	}
}
