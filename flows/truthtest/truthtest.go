// Package truthtest is the truth check: it drives a real flows.Runner and
// RefundRunner, on a real SQLite journal, against a gateway and its
// simulator, and checks the till's final state against the simulator's
// ledger for every answer the spec documents on every call, with the truth
// moving either way (STYLE.md, "test the truth, not the answer"):
//
//	succeeded ⇔ charged and kept; failed ⇒ never charged;
//	reversed ⇒ not charged now; refund succeeded ⇔ executed;
//	refund failed ⇒ not executed; a refund held for the operator
//	(final, neither succeeded nor failed) ⇒ its amount still held.
//
// A gateway adopts it in its contract test, beside gatewaytest.Run, once
// its simulator's controller is a gatewaytest.Truther:
//
//	func TestTruth(t *testing.T) {
//		truthtest.Run(t, truthtest.Harness{Harness: gatewaytest.Harness{
//			New: func(t *testing.T, cfg gatewaytest.Config) (gateways.Gateway, gatewaytest.Controller) {
//				return newPair(t, cfg.NotifyURL) // the same pair as TestContract
//			},
//		}})
//	}
//
// The simulator must understand, besides its DocumentedAnswers, the two
// codes of gateways/sim: sim.CodeHonest (answer from the ledger after
// moving the truth) and sim.CodeNoAnswer (hold the call until the client
// gives up); and sim.TruthPending (sim.Base.Settle does all of it).
//
// # Cells
//
// One cell per (operation, method, documented answer, truth it allows),
// named op/method/code/truth, so a failure reads like a spec line:
// "query/micropay/SYSTEMERROR/done". Each builds a fresh gateway and
// simulator pair (Harness.New), a fresh journal in t.TempDir(), a runner
// with fast ticks, takes one payment of 1.00 and scripts exactly one
// answer, on the first call of the operation (the gateway is wrapped so
// the answer is scripted on the order number the runner drew):
//
//   - submit: the answer on the micropay or QR create itself;
//   - query: the submit is held open (sim.CodeHonest, sim.TruthPending),
//     the answer goes on the first query;
//   - reverse (micropay) and close (merchant QR, a wallet the gateway
//     closes): the submit is held open, the cashier cancels, the answer
//     goes on the first reverse or close;
//   - refund: a payment paid honestly, then a full refund, the answer on
//     the refund;
//   - query_refund: the refund gets no answer with the refund held
//     pending (sim.CodeNoAnswer, sim.TruthPending), the answer goes on the
//     first refund query;
//   - void (a gateway that is a gateways.Voider): a payment paid
//     honestly, then a void of it (flows.RefundRequest.Void), the answer
//     on the void; the void's record must say void, and its end must agree
//     with the ledger: succeeded ⇔ the order voided, failed ⇒ still
//     charged.
//
// A cell whose truth is sim.TruthPending leaves the outcome open; the
// simulator's own reading of the spec settles it later (Swiftpass: a
// refund NOTSURE is executed when sent again), or nothing does and the
// till must end it itself (reverse or close at its deadline) or hold it
// for the operator; a till that ends it as settled either way while it
// is open fails the ledger check.
//
// Every other call is answered honestly. Besides the simulator's list,
// every operation gets a sim.CodeNoAnswer cell with both truths. A cell
// whose scripted call never happens fails: it checked nothing. A payment
// (or refund) not final within Harness.Bound fails with its journaled
// history. Notifications are not delivered: every outcome must be reached
// by the calls the till makes itself.
//
// A gateway that takes no payments at the till but whose orders are
// placed elsewhere (Capabilities.External, HipoPay) gets seeded cells
// instead, when its Controller is also a gatewaytest.Seeder (seeded.go):
// the order is placed at the simulator, adopted from its notification or
// the cashier's lookup, then refunded in part and in full. One that
// neither takes payments nor can have them seeded is skipped.
package truthtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/gatewaytest"
	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/store/sqlite"
)

// Harness is what the truth check asks of a gateway.
type Harness struct {
	// Harness builds gateway and simulator pairs, as for the contract
	// suite; the Controller must also implement gatewaytest.Truther.
	// Codes and Currency are used as there (Currency defaults to CNY, or
	// the gateway's first currency when it does not take CNY).
	gatewaytest.Harness
	// Parallel bounds how many cells run at once; default 6.
	Parallel int
	// Bound is how long one cell's payment (and refund) may take to reach
	// a final state; default 90 s.
	Bound time.Duration
	// Ops, when set, limits the check to these operations.
	Ops []sim.Op
	// KnownFailures lists cells (by name, "query/micropay/BUSY/done")
	// that are known to fail, with the reason (an issue). They still run:
	// a listed cell that fails is logged, one that passes fails the check,
	// so the list cannot outlive the bug.
	KnownFailures map[string]string
}

func (h Harness) withDefaults() Harness {
	if h.Parallel <= 0 {
		h.Parallel = 6
	}
	if h.Bound <= 0 {
		h.Bound = 90 * time.Second
	}
	return h
}

// Run runs the truth check: one subtest per cell, in parallel (bounded).
func Run(t *testing.T, h Harness) {
	run(t, h, func(t *testing.T) testing.TB { return t })
}

// run is Run with the cells' failures reported to wrap(t) instead of t,
// so the package's own tests can watch the check fail.
func run(t *testing.T, h Harness, wrap func(*testing.T) testing.TB) {
	h = h.withDefaults()
	gw, ctl := h.New(t, gatewaytest.Config{})
	tr, ok := ctl.(gatewaytest.Truther)
	if !ok {
		t.Fatalf("the controller %T is not a gatewaytest.Truther: its simulator cannot script answers with a truth", ctl)
	}
	if h.Currency == "" {
		// As the contract suite: CNY, unless the gateway does not take it.
		h.Currency = "CNY"
		if caps := gw.Capabilities(); !caps.Accepts("CNY") && len(caps.Currencies) > 0 {
			h.Currency = caps.Currencies[0]
		}
	}
	cells := plan(gw, tr, h)
	if len(cells) == 0 {
		if _, seeds := ctl.(gatewaytest.Seeder); seeds && gw.Capabilities().External {
			cells = planSeeded(gw, tr, h)
		}
	}
	if len(cells) == 0 {
		t.Skip("the gateway takes no payments at the till and its simulator cannot seed orders: nothing for the truth check to follow")
	}
	seen := map[string]bool{}
	for _, c := range cells {
		seen[c.name()] = true
	}
	for name := range h.KnownFailures {
		if !seen[name] {
			t.Errorf("KnownFailures names %q, which is not a cell of this gateway", name)
		}
	}
	sem := make(chan struct{}, h.Parallel)
	t.Run("cells", func(t *testing.T) {
		for _, c := range cells {
			t.Run(c.name(), func(st *testing.T) {
				st.Parallel()
				sem <- struct{}{}
				defer func() { <-sem }()
				reason, known := h.KnownFailures[c.name()]
				tb := wrap(st)
				if !known {
					c.run(st, tb, h)
					return
				}
				rec := &recorder{TB: tb}
				c.run(st, rec, h)
				if rec.Failed() {
					st.Logf("known failure (%s):\n%s", reason, strings.Join(rec.msgs, "\n"))
				} else {
					tb.Errorf("listed in KnownFailures (%s) but passes: remove it from the list", reason)
				}
			})
		}
	})
}

// recorder is a testing.TB that keeps failures to itself.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	msgs   []string
	failed bool
}

func (r *recorder) Errorf(format string, args ...any) { r.Error(fmt.Sprintf(format, args...)) }
func (r *recorder) Error(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprint(args...))
	r.failed = true
}
func (r *recorder) Fail() { r.mu.Lock(); r.failed = true; r.mu.Unlock() }
func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// cell is one line of the check.
type cell struct {
	op     sim.Op
	method pos.Method
	wallet pos.Wallet
	answer sim.DocumentedAnswer
	truth  sim.Truth
	// seeded cells (seeded.go) follow an order placed outside the till;
	// variant names what the cell does with it in place of the method:
	// "lookup", "notify", "partial" or "full".
	seeded  bool
	variant string
}

func (c cell) name() string {
	code := c.answer.Code
	if code == "" {
		code = "(honest)"
	}
	truth := string(c.truth)
	if truth == "" {
		truth = "as_scenario"
	}
	variant := methodWord(c.method)
	if c.seeded {
		variant = c.variant
	}
	return fmt.Sprintf("%s/%s/%s/%s", c.op, variant, code, truth)
}

func methodWord(m pos.Method) string {
	if m == pos.MerchantQR {
		return "qr"
	}
	return "micropay"
}

// plan lists the cells for every operation the gateway supports.
func plan(gw gateways.Gateway, tr gatewaytest.Truther, h Harness) []cell {
	caps := gw.Capabilities()
	type target struct {
		op     sim.Op
		method pos.Method
		wallet pos.Wallet
	}
	var targets []target
	var methods []target // the methods payments can be taken with
	if _, ok := gw.(gateways.Micropayer); ok && len(caps.Micropay) > 0 {
		methods = append(methods, target{method: pos.Micropay, wallet: caps.Micropay[0]})
	}
	if _, ok := gw.(gateways.QRCreator); ok && len(caps.MerchantQR) > 0 {
		methods = append(methods, target{method: pos.MerchantQR, wallet: caps.MerchantQR[0]})
	}
	for _, m := range methods {
		targets = append(targets, target{sim.OpSubmit, m.method, m.wallet}, target{sim.OpQuery, m.method, m.wallet})
	}
	if _, ok := gw.(gateways.Reverser); ok && caps.Reverse && len(caps.Micropay) > 0 {
		targets = append(targets, target{sim.OpReverse, pos.Micropay, caps.Micropay[0]})
	}
	if _, ok := gw.(gateways.Closer); ok {
		for _, w := range caps.MerchantQR {
			if caps.CanClose(w) {
				targets = append(targets, target{sim.OpClose, pos.MerchantQR, w})
				break
			}
		}
	}
	if _, ok := gw.(gateways.Refunder); ok && caps.Refund && len(methods) > 0 {
		m := methods[0]
		targets = append(targets, target{sim.OpRefund, m.method, m.wallet}, target{sim.OpQueryRefund, m.method, m.wallet})
		if _, ok := gw.(gateways.Voider); ok {
			targets = append(targets, target{sim.OpVoid, m.method, m.wallet})
		}
	}
	var cells []cell
	for _, tg := range targets {
		if len(h.Ops) > 0 && !slices.Contains(h.Ops, tg.op) {
			continue
		}
		answers := tr.Answers(tg.op, methodWord(tg.method))
		if !slices.ContainsFunc(answers, func(a sim.DocumentedAnswer) bool { return a.Code == sim.CodeNoAnswer }) {
			answers = append(answers, sim.DocumentedAnswer{Code: sim.CodeNoAnswer, Section: "every call may go unanswered",
				Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone}})
		}
		for _, a := range answers {
			for _, tt := range a.Truths {
				cells = append(cells, cell{op: tg.op, method: tg.method, wallet: tg.wallet, answer: a, truth: tt})
			}
		}
	}
	return cells
}

// script is what the cell scripts on each call of each operation (by
// call: [0] on the first): the answer on the call the cell is about, and
// the answers that set it up.
func (c cell) script() map[sim.Op][]sim.Answer {
	a := sim.Answer{Code: c.answer.Code, Truth: c.truth}
	held := sim.Answer{Code: sim.CodeHonest, Truth: sim.TruthPending}
	s := map[sim.Op][]sim.Answer{}
	switch c.op {
	case sim.OpSubmit, sim.OpRefund, sim.OpVoid:
		s[c.op] = []sim.Answer{a}
	case sim.OpQuery, sim.OpReverse, sim.OpClose:
		s[sim.OpSubmit] = []sim.Answer{held}
		s[c.op] = []sim.Answer{a}
	case sim.OpQueryRefund:
		s[sim.OpRefund] = []sim.Answer{{Code: sim.CodeNoAnswer, Truth: sim.TruthPending}}
		s[sim.OpQueryRefund] = []sim.Answer{a}
	}
	return s
}

// env is one cell's till: journal, runners, and the wrapped gateway.
type env struct {
	db      *sqlite.DB
	runner  *flows.Runner
	refunds *flows.RefundRunner
	spy     *spy
	tr      gatewaytest.Truther
	ctl     gatewaytest.Controller
}

const gatewayName = "gw"

// newEnv builds a cell's till. With notify, the simulator posts its
// notifications to a receiver that does what the daemon's notification
// endpoint does: verify them with the gateway and hand them to the runner.
func newEnv(st *testing.T, h Harness, scripts map[sim.Op][]sim.Answer, notify bool) (*env, error) {
	var cfg gatewaytest.Config
	var rcv *receiver
	if notify {
		rcv = newReceiver(st)
		cfg.NotifyURL = rcv.url
	}
	gw, ctl := h.New(st, cfg)
	tr, ok := ctl.(gatewaytest.Truther)
	if !ok {
		return nil, fmt.Errorf("controller %T is not a gatewaytest.Truther", ctl)
	}
	sp := &spy{g: gw, tr: tr, scripts: scripts, calls: map[sim.Op]int{}}
	db, err := sqlite.Open(filepath.Join(st.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		return nil, err
	}
	st.Cleanup(func() { _ = db.Close() })
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	gws := map[string]gateways.Gateway{gatewayName: sp.wrapped()}
	// The simulators run fast timings: no wallet rules on top (as the demo).
	runner, err := flows.NewRunner(flows.Options{Journal: db, Gateways: gws, CodeKey: key, Tick: 20 * time.Millisecond, WalletRules: flows.WalletRules{}})
	if err != nil {
		return nil, err
	}
	refunds, err := flows.NewRefundRunner(flows.RefundOptions{Journal: db, Gateways: gws, Tick: 20 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = runner.Run(ctx) }()
	go func() { defer wg.Done(); _ = refunds.Run(ctx) }()
	st.Cleanup(func() { cancel(); wg.Wait() })
	if n, ok := gw.(gateways.Notifier); ok && rcv != nil {
		rcv.ready(n, runner) // else it answers 503: nothing is notified
	}
	return &env{db: db, runner: runner, refunds: refunds, spy: sp, tr: tr, ctl: ctl}, nil
}

// run plays the cell. Failures go to tb; st only builds the pair and
// owns the cleanups.
func (c cell) run(st *testing.T, tb testing.TB, h Harness) {
	ctx := context.Background()
	if c.seeded {
		c.runSeeded(st, tb, h)
		return
	}
	e, err := newEnv(st, h, c.script(), false)
	if err != nil {
		tb.Errorf("setting up: %v", err)
		return
	}
	tb.Logf("%s: %q (%s) with truth %q", c.name(), c.answer.Code, c.answer.Section, c.truth)
	req := flows.StartRequest{Amount: pos.Money{Minor: 100, Currency: h.Currency}, Method: c.method, Gateway: gatewayName, Description: "truth check"}
	if c.method == pos.Micropay {
		raw := h.Codes[c.wallet]
		if raw == "" {
			raw = gatewaytest.DefaultCodes[c.wallet]
		}
		code, err := pos.ParseAuthCode(raw)
		if err != nil {
			tb.Errorf("payment code for %s: %v", c.wallet, err)
			return
		}
		req.Code = code
	} else {
		req.Wallet = c.wallet
	}
	p, err := e.runner.Start(ctx, req)
	if err != nil && p.ID == "" {
		tb.Errorf("Start: %v", err)
		return
	}
	if c.op == sim.OpReverse || c.op == sim.OpClose {
		// The cashier gives up on the payment: the till must reverse
		// (or close) it, which is the call this cell scripts.
		// A Cancel refused because the payment is already final is no
		// failure in itself; the cell's call then never happens, which
		// checkScripted reports.
		if _, err := e.runner.Cancel(ctx, p.ID); err != nil {
			tb.Logf("Cancel: %v", err)
		}
	}
	p, ok := e.finalPayment(ctx, tb, p.ID, h.Bound)
	if !ok {
		return
	}
	if c.op != sim.OpRefund && c.op != sim.OpQueryRefund && c.op != sim.OpVoid {
		e.checkScripted(tb)
		e.checkPayment(ctx, tb, p)
		return
	}
	// Refund cells: the payment was answered honestly and must be paid.
	if p.State != pos.StateSucceeded {
		tb.Errorf("setup: the honestly answered payment ended %s, not succeeded", p.State)
		e.checkPayment(ctx, tb, p)
		return
	}
	r, err := e.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Reason: "truth check", Void: c.op == sim.OpVoid})
	if err != nil && r.ID == "" {
		tb.Errorf("Refund: %v", err)
		return
	}
	if c.op == sim.OpVoid && r.Method != pos.RefundByVoid {
		tb.Errorf("a void of today's payment was journaled as %q, not a void", r.Method)
		return
	}
	r, ok = e.finalRefund(ctx, tb, r.ID, h.Bound)
	if !ok {
		return
	}
	e.checkScripted(tb)
	if c.op == sim.OpVoid {
		// The payment stays succeeded (a final state) while its void
		// takes the money back: the void is checked, not the payment.
		e.checkVoid(ctx, tb, p, r)
		return
	}
	e.checkRefund(ctx, tb, p, r)
	if p, err = e.runner.Get(ctx, p.ID); err == nil {
		e.checkPayment(ctx, tb, p)
	}
}

func (e *env) finalPayment(ctx context.Context, tb testing.TB, id string, bound time.Duration) (pos.Payment, bool) {
	deadline := time.Now().Add(bound)
	for {
		p, err := e.runner.Get(ctx, id)
		if err != nil {
			tb.Errorf("Get payment: %v", err)
			return p, false
		}
		if p.State.Final() {
			return p, true
		}
		if time.Now().After(deadline) {
			tb.Errorf("payment still %s after %s:\n%s", p.State, bound, e.paymentHistory(ctx, p))
			return p, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *env) finalRefund(ctx context.Context, tb testing.TB, id string, bound time.Duration) (pos.Refund, bool) {
	deadline := time.Now().Add(bound)
	for {
		r, err := e.refunds.GetRefund(ctx, id)
		if err != nil {
			tb.Errorf("Get refund: %v", err)
			return r, false
		}
		if r.State.Final() {
			return r, true
		}
		if time.Now().After(deadline) {
			tb.Errorf("refund still %s after %s:\n%s", r.State, bound, e.refundHistory(ctx, r))
			return r, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkScripted fails a cell whose scripted calls never happened: the
// call it is about, and the calls that set it up.
func (e *env) checkScripted(tb testing.TB) {
	for op := range e.spy.scripts {
		if e.spy.count(op) == 0 {
			tb.Errorf("the till never made the %s call this cell scripts: the cell checked nothing", op)
		}
	}
}

// checkPayment is the payment half of the rule.
func (e *env) checkPayment(ctx context.Context, tb testing.TB, p pos.Payment) {
	o, found := e.tr.Order(p.OutTradeNo)
	bad := PaymentVerdict(p, o, found)
	if bad == "" {
		return
	}
	tb.Errorf("the till says %s.\nledger: %s\n%s", bad, DescribeOrder(o, found), e.paymentHistory(ctx, p))
}

// PaymentVerdict is the payment half of the rule: "" when the till's
// final state of p agrees with the simulator's ledger entry o (found:
// the simulator knows the order), else what the till wrongly says.
func PaymentVerdict(p pos.Payment, o sim.Order, found bool) string {
	charged := found && !o.Tombstone && o.Charged()
	everPaid := found && !o.PaidAt.IsZero()
	switch p.State {
	case pos.StateSucceeded:
		if !charged {
			return "succeeded, but the customer is not charged"
		}
	case pos.StateFailed:
		if everPaid || charged {
			return "failed (the cashier is told no money moved), but the customer was charged"
		}
	case pos.StateReversed:
		if charged {
			return "reversed, but the customer is still charged"
		}
	}
	return ""
}

// checkRefund is the refund half of the rule.
func (e *env) checkRefund(ctx context.Context, tb testing.TB, p pos.Payment, r pos.Refund) {
	o, found := e.tr.Order(p.OutTradeNo)
	var held pos.Money
	if r.State != pos.RefundSucceeded && r.State != pos.RefundFailed {
		bal, err := e.refunds.PaymentRefunds(ctx, p.ID)
		if err != nil {
			tb.Errorf("refund %s is held for the operator; its balance cannot be read: %v", r.ID, err)
			return
		}
		held = bal.Held
	}
	bad := RefundVerdict(r, o, held)
	if bad == "" {
		return
	}
	tb.Errorf("the till says %s.\nledger: %s\n%s", bad, DescribeOrder(o, found), e.refundHistory(ctx, r))
}

// RefundVerdict is the refund half of the rule: "" when the till's final
// state of r agrees with the ledger entry o of its payment, else what the
// till wrongly says. held is what the payment's refunds still hold
// (flows.RefundBalance.Held), read for a refund held for the operator.
func RefundVerdict(r pos.Refund, o sim.Order, held pos.Money) string {
	var lr *sim.Refund
	for i := range o.Refunds {
		if o.Refunds[i].OutRefundNo == r.OutRefundNo {
			lr = &o.Refunds[i]
		}
	}
	executed := lr != nil && lr.Executed()
	switch r.State {
	case pos.RefundSucceeded:
		if !executed {
			return "refund succeeded, but the ledger did not execute it"
		}
	case pos.RefundFailed:
		if lr != nil && lr.Status != sim.RefundRefused {
			return fmt.Sprintf("refund failed (its amount is free to refund again), but the ledger has it %s", refundWord(lr))
		}
	default: // final and neither: held for the operator
		if !r.State.Holds() || held.Minor < r.Amount.Minor {
			return fmt.Sprintf("refund %s no longer holds its amount (held %s)", r.State, held)
		}
	}
	return ""
}

// checkVoid is the rule for a void of a paid order: succeeded ⇔ the
// ledger voided the order (not charged now); failed ⇒ still charged,
// nothing went back; held for the operator ⇒ its amount still held.
func (e *env) checkVoid(ctx context.Context, tb testing.TB, p pos.Payment, r pos.Refund) {
	o, found := e.tr.Order(p.OutTradeNo)
	voided := found && !o.Tombstone && o.State == sim.Revoked
	var bad string
	switch r.State {
	case pos.RefundSucceeded:
		if !voided {
			bad = "void succeeded, but the ledger did not void the order"
		}
	case pos.RefundFailed:
		if voided || !o.Charged() {
			bad = "void failed (the payment stands and may be refunded), but the ledger took the money back"
		}
	default:
		bal, err := e.refunds.PaymentRefunds(ctx, p.ID)
		switch {
		case err != nil:
			bad = "held for the operator; its balance cannot be read: " + err.Error()
		case !r.State.Holds() || bal.Held.Minor < r.Amount.Minor:
			bad = fmt.Sprintf("void %s no longer holds its amount (held %s)", r.State, bal.Held)
		}
	}
	if bad == "" {
		return
	}
	tb.Errorf("the till says %s.\nledger: %s\n%s", bad, DescribeOrder(o, found), e.refundHistory(ctx, r))
}

func refundWord(r *sim.Refund) string {
	switch r.Status {
	case sim.RefundExecuted:
		return "executed"
	case sim.RefundPending:
		return "pending (it may still be executed)"
	}
	return string(r.Status)
}

// DescribeOrder is a ledger entry in one line, for failure messages.
func DescribeOrder(o sim.Order, found bool) string {
	if !found {
		return "no such order"
	}
	s := fmt.Sprintf("%s state=%s scenario=%s paid_at=%s queries=%d", o.OutTradeNo, o.State, o.Scenario, stamp(o.PaidAt), o.Queries)
	for _, r := range o.Refunds {
		s += fmt.Sprintf("; refund %s %d %s", r.OutRefundNo, r.Amount, refundWord(&r))
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("15:04:05.000")
}

func (e *env) paymentHistory(ctx context.Context, p pos.Payment) string {
	evs, err := e.runner.Events(ctx, p.ID)
	if err != nil {
		return "history: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "payment %s (%s) history:\n", p.ID, p.OutTradeNo)
	for _, ev := range evs {
		fmt.Fprintf(&b, "  %s %s → %s: %s [%s]\n", ev.At.Format("15:04:05.000"), ev.From, ev.To, ev.Reason, ev.Detail)
	}
	b.WriteString(e.spy.log())
	return b.String()
}

func (e *env) refundHistory(ctx context.Context, r pos.Refund) string {
	evs, err := e.db.RefundEvents(ctx, r.ID)
	if err != nil {
		return "history: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "refund %s (%s) history:\n", r.ID, r.OutRefundNo)
	for _, ev := range evs {
		fmt.Fprintf(&b, "  %s %s → %s: %s [%s]\n", ev.At.Format("15:04:05.000"), ev.From, ev.To, ev.Reason, ev.Detail)
	}
	b.WriteString(e.spy.log())
	return b.String()
}
