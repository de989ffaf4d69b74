package truthtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/gatewaytest"
	"github.com/posagent/posagent/gateways/sim"
)

// Seeded cells: a gateway whose orders are placed outside the till
// (Capabilities.External, HipoPay's mini-program) has no payment for the
// till to start, so the check places one at the simulator
// (gatewaytest.Seeder) and follows it the way the product does: the
// order enters the journal from a verified PAID notification or when the
// cashier looks it up (flows.Runner.Lookup), and is then refunded.
//
//   - query/lookup/CODE/TRUTH: the order is seeded payable and unpaid; the
//     cashier looks it up, the answer goes on the first query, and the
//     cashier looks it up again (answered honestly) until it is adopted:
//     at most three answers that it is not paid or not known, and again
//     after a lookup that got no trustworthy answer;
//   - notify/notify/CODE/TRUTH: the order is seeded paid (TruthDone) or
//     declined (TruthNotDone) with the answer scripted on its notification,
//     which the simulator posts before Seed returns (sim.
//     NotifyBeforeResponse) to a receiver that verifies it with the
//     gateway and hands it to the runner, as the daemon does; then the
//     cashier looks it up as above. A PAID notification must have
//     adopted it before the lookup;
//   - refund/partial|full/CODE/TRUTH: a paid order adopted from its
//     notification is refunded, 40 of 100 or all of it, the answer on the
//     refund;
//   - query_refund/partial|full/CODE/TRUTH: the refund gets no answer and
//     is held pending (sim.CodeNoAnswer, sim.TruthPending), the answer
//     goes on the first refund query.
//
// Besides the refund rules of every cell, an adopted payment is
// succeeded ⇔ the simulator has the order charged.

const (
	seedAmount    = 100
	partialRefund = 40
	// lookups is how often the cashier looks an order up before giving up
	// on it: one answer is scripted, the others are honest.
	lookups = 3
)

// planSeeded lists the seeded cells.
func planSeeded(gw gateways.Gateway, tr gatewaytest.Truther, h Harness) []cell {
	caps := gw.Capabilities()
	type target struct {
		op       sim.Op
		variants []string
	}
	targets := []target{{sim.OpQuery, []string{"lookup"}}}
	if _, ok := gw.(gateways.Notifier); ok && caps.Notify {
		targets = append(targets, target{sim.OpNotify, []string{"notify"}})
	}
	if _, ok := gw.(gateways.Refunder); ok && caps.Refund {
		v := []string{"full"}
		if caps.PartialRefund {
			v = []string{"partial", "full"}
		}
		targets = append(targets, target{sim.OpRefund, v}, target{sim.OpQueryRefund, v})
	}
	var cells []cell
	for _, tg := range targets {
		if len(h.Ops) > 0 && !slices.Contains(h.Ops, tg.op) {
			continue
		}
		answers := tr.Answers(tg.op, "external")
		if !slices.ContainsFunc(answers, func(a sim.DocumentedAnswer) bool { return a.Code == sim.CodeNoAnswer }) {
			answers = append(answers, sim.DocumentedAnswer{Code: sim.CodeNoAnswer, Section: "every call may go unanswered",
				Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone}})
		}
		for _, v := range tg.variants {
			for _, a := range answers {
				for _, tt := range a.Truths {
					cells = append(cells, cell{op: tg.op, answer: a, truth: tt, seeded: true, variant: v})
				}
			}
		}
	}
	return cells
}

// seededScript is what a seeded cell scripts on the till's calls (the
// notification's answer is scripted on the simulator directly: it is no
// call of the till's).
func (c cell) seededScript() map[sim.Op][]sim.Answer {
	a := sim.Answer{Code: c.answer.Code, Truth: c.truth}
	switch c.op {
	case sim.OpQuery, sim.OpRefund:
		return map[sim.Op][]sim.Answer{c.op: {a}}
	case sim.OpQueryRefund:
		return map[sim.Op][]sim.Answer{
			sim.OpRefund:      {{Code: sim.CodeNoAnswer, Truth: sim.TruthPending}},
			sim.OpQueryRefund: {a},
		}
	}
	return map[sim.Op][]sim.Answer{}
}

// runSeeded plays a seeded cell. Failures go to tb.
func (c cell) runSeeded(st *testing.T, tb testing.TB, h Harness) {
	ctx := context.Background()
	e, err := newEnv(st, h, c.seededScript(), c.op != sim.OpQuery)
	if err != nil {
		tb.Errorf("setting up: %v", err)
		return
	}
	tb.Logf("%s: %q (%s) with truth %q", c.name(), c.answer.Code, c.answer.Section, c.truth)
	no := gatewaytest.NewOutTradeNo()
	amount := pos.Money{Minor: seedAmount, Currency: h.Currency}
	b := sim.Behaviour{Fault: sim.NotifyBeforeResponse, FaultOn: []sim.Op{sim.OpSubmit}}
	switch {
	case c.op == sim.OpQuery:
		// Payable and unpaid: the scripted query's truth decides.
		b = sim.Behaviour{Scenario: sim.PayingUntilReversed}
	case c.op == sim.OpNotify:
		e.tr.ScriptAnswer(no, sim.OpNotify, sim.Answer{Code: c.answer.Code, Truth: c.truth})
		if c.truth == sim.TruthNotDone {
			b.Scenario = sim.Decline // the customer never paid: nothing to notify
		}
	}
	if _, err := e.ctl.(gatewaytest.Seeder).Seed(no, amount, b); err != nil {
		tb.Errorf("Seed: %v", err)
		return
	}
	if c.op == sim.OpNotify && c.answer.Code != sim.CodeNoAnswer {
		if _, err := e.db.PaymentByOutTradeNo(ctx, no); err != nil {
			tb.Errorf("the notification %q did not adopt the order before the cashier looked it up: %v\n%s", c.answer.Code, err, e.spy.log())
		}
	}
	p, adopted := e.lookUp(ctx, tb, no, h.Bound)
	if c.op == sim.OpQuery || c.op == sim.OpNotify {
		e.checkScripted(tb)
		e.checkAdopted(ctx, tb, no, p, adopted)
		return
	}
	if !adopted {
		tb.Errorf("setup: the paid order %s was not adopted\n%s", no, e.spy.log())
		return
	}
	req := flows.RefundRequest{PaymentID: p.ID, Reason: "truth check"}
	if c.variant == "partial" {
		req.Amount = pos.Money{Minor: partialRefund, Currency: h.Currency}
	}
	r, err := e.refunds.Refund(ctx, req)
	if err != nil && r.ID == "" {
		tb.Errorf("Refund: %v", err)
		return
	}
	r, ok := e.finalRefund(ctx, tb, r.ID, h.Bound)
	if !ok {
		return
	}
	e.checkScripted(tb)
	e.checkRefund(ctx, tb, p, r)
	e.checkAdopted(ctx, tb, no, p, true)
}

// lookUp is the cashier looking the order up until it is adopted: at
// most lookups answers that it is not paid or not known, and again after
// any call that got no trustworthy answer (a cashier asks again), within
// bound.
func (e *env) lookUp(ctx context.Context, tb testing.TB, no string, bound time.Duration) (pos.Payment, bool) {
	deadline := time.Now().Add(bound)
	for answered, i := 0, 1; answered < lookups && time.Now().Before(deadline); i++ {
		p, err := e.runner.Lookup(ctx, flows.LookupRequest{Gateway: gatewayName, OutTradeNo: no})
		if err == nil {
			return p, true
		}
		if pos.Match(pos.Conflict, err) || pos.Match(pos.NotFound, err) {
			answered++
		}
		tb.Logf("lookup %d: %v", i, err)
	}
	return pos.Payment{}, false
}

// checkAdopted is the adoption half of the rule: the order is in the
// journal as a succeeded payment ⇔ the simulator has it charged.
func (e *env) checkAdopted(ctx context.Context, tb testing.TB, no string, p pos.Payment, adopted bool) {
	o, found := e.tr.Order(no)
	charged := found && !o.Tombstone && o.Charged()
	if adopted {
		cur, err := e.runner.Get(ctx, p.ID)
		if err != nil {
			tb.Errorf("Get adopted payment: %v", err)
			return
		}
		p = cur
	}
	var bad string
	switch {
	case adopted && p.State != pos.StateSucceeded:
		bad = fmt.Sprintf("adopted the order as a %s payment", p.State)
	case adopted && !charged:
		bad = "adopted the order as paid, but the customer is not charged"
	case !adopted && charged:
		bad = "did not adopt the order after looking it up, but the customer is charged"
	}
	if bad == "" {
		return
	}
	history := e.spy.log()
	if adopted {
		history = e.paymentHistory(ctx, p)
	}
	tb.Errorf("the till %s.\nledger: %s\n%s", bad, DescribeOrder(o, found), history)
}

// receiver is the daemon's notification endpoint as the check plays it:
// verified by the gateway, applied by the runner, acknowledged as the
// gateway words it (localapi does the same).
type receiver struct {
	url    string
	mu     sync.Mutex
	n      gateways.Notifier
	runner *flows.Runner
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func (r *receiver) ready(n gateways.Notifier, runner *flows.Runner) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n, r.runner = n, runner
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	n, runner := r.n, r.runner
	r.mu.Unlock()
	if n == nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<16))
	ok := err == nil
	if ok {
		var note gateways.Notification
		note, err = n.ParseNotification(req.Header, body)
		if ok = err == nil; ok {
			_, err = runner.Notify(req.Context(), gatewayName, note)
			ok = err == nil
		}
	}
	ct, ack := n.NotificationAck(ok)
	w.Header().Set("Content-Type", ct)
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
	}
	_, _ = w.Write(ack)
}
