package truthtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/gatewaytest"
	"github.com/posagent/posagent/gateways/sim"
)

// fakepay is a tiny acquirer that lives in this test: its "wire" is a
// function call answering a status word, its simulator is a sim.Base, and
// its adapter can be made to read "BUSY" wrongly as a refusal. It exists
// to prove the truth check itself: right reading, every cell passes; wrong
// reading, exactly the cells where "busy" hid a charge fail.

// fakeSim is the simulated acquirer.
type fakeSim struct {
	*sim.Base
}

// The fake spec's documented answers, by operation.
var fakeAnswers = map[sim.Op][]sim.DocumentedAnswer{
	sim.OpSubmit: {
		{Code: "SUCCESS", Section: "pay", Truths: []sim.Truth{sim.TruthDone}},
		{Code: "USERPAYING", Section: "pay", Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone, sim.TruthPending}},
		{Code: "BUSY", Section: "errors", Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone}},
		{Code: "DECLINED", Section: "pay", Truths: []sim.Truth{sim.TruthNotDone}},
	},
	sim.OpQuery: {
		{Code: "SUCCESS", Section: "query", Truths: []sim.Truth{sim.TruthDone}},
		{Code: "USERPAYING", Section: "query", Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone, sim.TruthPending}},
		{Code: "NOTPAY", Section: "query", Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone}},
		{Code: "CLOSED", Section: "query", Truths: []sim.Truth{sim.TruthNotDone}},
		{Code: "BUSY", Section: "errors", Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone}},
	},
	sim.OpReverse: {
		{Code: "REVERSED", Section: "reverse", Truths: []sim.Truth{sim.TruthDone}},
		{Code: "BUSY", Section: "errors", Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone}},
	},
	sim.OpClose: {
		{Code: "CLOSED", Section: "close", Truths: []sim.Truth{sim.TruthDone}},
		{Code: "BUSY", Section: "errors", Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone}},
	},
	sim.OpRefund: {
		{Code: "REFUNDED", Section: "refund", Truths: []sim.Truth{sim.TruthDone}},
		{Code: "PROCESSING", Section: "refund", Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone, sim.TruthPending}},
		{Code: "BUSY", Section: "errors", Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone}},
		{Code: "REFUSED", Section: "refund", Truths: []sim.Truth{sim.TruthNotDone}},
	},
	sim.OpQueryRefund: {
		{Code: "REFUNDED", Section: "refund query", Truths: []sim.Truth{sim.TruthDone}},
		{Code: "PROCESSING", Section: "refund query", Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone, sim.TruthPending}},
		{Code: "REFUSED", Section: "refund query", Truths: []sim.Truth{sim.TruthNotDone}},
	},
}

// Answers is the fake spec's table; QR creation answers CREATED instead
// of the micropay words.
func (s *fakeSim) Answers(op sim.Op, method string) []sim.DocumentedAnswer {
	if op == sim.OpSubmit && method == "qr" {
		return []sim.DocumentedAnswer{
			{Code: "CREATED", Section: "qr", Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone}},
			{Code: "BUSY", Section: "errors", Truths: []sim.Truth{sim.TruthDone, sim.TruthNotDone}},
		}
	}
	return fakeAnswers[op]
}

var errNoAnswer = errors.New("fakepay: no answer")

// scripted applies the call's scripted answer, if any: ok=false means
// answer honestly.
func (s *fakeSim) scripted(ctx context.Context, no string, op sim.Op, ref sim.RefundRef) (string, bool, error) {
	a, ok := s.TakeAnswer(no, op)
	if !ok {
		return "", false, nil
	}
	_, _ = s.Settle(op, no, a.Truth, ref)
	switch a.Code {
	case sim.CodeHonest:
		return "", false, nil
	case sim.CodeNoAnswer:
		<-ctx.Done()
		return "", true, errNoAnswer
	}
	return a.Code, true, nil
}

func orderWord(o sim.Order) string {
	switch o.State {
	case sim.Success, sim.Refunded:
		return "SUCCESS"
	case sim.UserPaying:
		return "USERPAYING"
	case sim.NotPay:
		return "NOTPAY"
	case sim.Revoked:
		return "REVERSED"
	case sim.Closed:
		return "CLOSED"
	}
	return "DECLINED"
}

func refundWordOf(r sim.Refund) string {
	switch r.Status {
	case sim.RefundPending:
		return "PROCESSING"
	case sim.RefundRefused:
		return "REFUSED"
	}
	return "REFUNDED"
}

func (s *fakeSim) pay(ctx context.Context, no string, amount int64, method string) (string, error) {
	o := sim.Order{OutTradeNo: no, Amount: amount, Currency: "CNY", Wallet: string(pos.WeChatPay), Method: method}
	s.Script().Behaviour(no, amount).Fill(&o)
	o, err := s.Ledger().NewOrder(o)
	if err != nil {
		return "BUSY", nil
	}
	if code, ok, err := s.scripted(ctx, no, sim.OpSubmit, sim.RefundRef{}); ok {
		return code, err
	}
	o, _ = s.Ledger().Get(no)
	if method == "qr" {
		return "CREATED", nil
	}
	return orderWord(o), nil
}

func (s *fakeSim) query(ctx context.Context, no string) (string, error) {
	if _, err := s.Ledger().Query(no); errors.Is(err, sim.ErrNotFound) {
		return "NOTFOUND", nil
	}
	if code, ok, err := s.scripted(ctx, no, sim.OpQuery, sim.RefundRef{}); ok {
		return code, err
	}
	o, _ := s.Ledger().Get(no)
	return orderWord(o), nil
}

func (s *fakeSim) reverse(ctx context.Context, no string) (string, error) {
	if code, ok, err := s.scripted(ctx, no, sim.OpReverse, sim.RefundRef{}); ok {
		return code, err
	}
	if _, err := s.Ledger().Reverse(no); err != nil {
		return "BUSY", nil
	}
	return "REVERSED", nil
}

func (s *fakeSim) close(ctx context.Context, no string) (string, error) {
	if code, ok, err := s.scripted(ctx, no, sim.OpClose, sim.RefundRef{}); ok {
		return code, err
	}
	if _, err := s.Ledger().Close(no); err != nil {
		return "PAID", nil
	}
	return "CLOSED", nil
}

func (s *fakeSim) refund(ctx context.Context, no, rno string, amount int64) (string, error) {
	if code, ok, err := s.scripted(ctx, no, sim.OpRefund, sim.RefundRef{OutRefundNo: rno, Amount: amount}); ok {
		return code, err
	}
	_, r, err := s.Ledger().Refund(no, rno, amount)
	if err != nil {
		return "REFUSED", nil
	}
	return refundWordOf(r), nil
}

// queryRefund: fakepay's spec says an accepted refund is executed by the
// time it is asked about again (its own follow-up of a pending truth).
func (s *fakeSim) queryRefund(ctx context.Context, no, rno string) (string, error) {
	if code, ok, err := s.scripted(ctx, no, sim.OpQueryRefund, sim.RefundRef{OutRefundNo: rno}); ok {
		return code, err
	}
	if _, r, err := s.Ledger().FindRefund(no, rno); err == nil && r.Status == sim.RefundPending {
		_, _, _ = s.Ledger().ExecuteRefund(no, rno)
	}
	_, r, err := s.Ledger().FindRefund(no, rno)
	if err != nil {
		return "NOTFOUND", nil
	}
	return refundWordOf(r), nil
}

// fakeGateway is the adapter. wrong makes it read a submit's "BUSY" as a
// refusal: the bug the truth check exists to catch.
type fakeGateway struct {
	s     *fakeSim
	wrong bool
	// wrongRefund reads a refund's "PROCESSING" as a refusal: the amount
	// is freed while the money may still go back.
	wrongRefund bool
}

func (g *fakeGateway) Kind() string { return "fakepay" }
func (g *fakeGateway) Capabilities() gateways.Capabilities {
	return gateways.Capabilities{Micropay: []pos.Wallet{pos.WeChatPay}, MerchantQR: []pos.Wallet{pos.WeChatPay},
		Reverse: true, Close: true, Refund: true, PartialRefund: true}
}
func (g *fakeGateway) Timing() gateways.Timing {
	return gateways.Timing{PollInterval: 30 * time.Millisecond, PayTimeout: 5 * time.Second, QRTimeout: 5 * time.Second,
		CallTimeout: 300 * time.Millisecond, RetryBackoff: 50 * time.Millisecond, RetryBackoffMax: 200 * time.Millisecond}
}

func result(code string, err error, no string, amount pos.Money, table map[string]gateways.Status) (gateways.Result, error) {
	if err != nil {
		return gateways.Result{}, pos.E(pos.Unknown, "fakepay", err)
	}
	if code == "NOTFOUND" {
		return gateways.Result{}, pos.Errorf(pos.NotFound, "fakepay", "no such order")
	}
	st, ok := table[code] // unlisted: StatusUnknown
	res := gateways.Result{Status: st, Code: code, OutTradeNo: no, Amount: amount, TransactionID: "T" + no}
	if !ok {
		res.Status = gateways.StatusUnknown
	}
	if res.Status == gateways.StatusFailed {
		res.Reason = "fakepay says " + code
	}
	return res, nil
}

func (g *fakeGateway) submitTable() map[string]gateways.Status {
	t := map[string]gateways.Status{"SUCCESS": gateways.StatusSucceeded, "USERPAYING": gateways.StatusUserPaying,
		"CREATED": gateways.StatusUserPaying, "DECLINED": gateways.StatusFailed}
	if g.wrong {
		t["BUSY"] = gateways.StatusFailed
	}
	return t
}

func (g *fakeGateway) Micropay(ctx context.Context, req gateways.MicropayRequest) (gateways.Result, error) {
	code, err := g.s.pay(ctx, req.OutTradeNo, req.Amount.Minor, "micropay")
	return result(code, err, req.OutTradeNo, req.Amount, g.submitTable())
}

func (g *fakeGateway) CreateQR(ctx context.Context, req gateways.QRRequest) (gateways.Result, error) {
	code, err := g.s.pay(ctx, req.OutTradeNo, req.Amount.Minor, "qr")
	res, err := result(code, err, req.OutTradeNo, req.Amount, g.submitTable())
	if err == nil && code == "CREATED" {
		res.CodeURL = pos.Secret("fakepay://" + req.OutTradeNo)
	}
	return res, err
}

func (g *fakeGateway) Query(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	code, err := g.s.query(ctx, ref.OutTradeNo)
	return result(code, err, ref.OutTradeNo, ref.Amount, map[string]gateways.Status{"SUCCESS": gateways.StatusSucceeded,
		"USERPAYING": gateways.StatusUserPaying, "NOTPAY": gateways.StatusUserPaying,
		"DECLINED": gateways.StatusFailed, "CLOSED": gateways.StatusFailed, "REVERSED": gateways.StatusFailed})
}

func (g *fakeGateway) Reverse(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	code, err := g.s.reverse(ctx, ref.OutTradeNo)
	return result(code, err, ref.OutTradeNo, ref.Amount, map[string]gateways.Status{"REVERSED": gateways.StatusSucceeded})
}

func (g *fakeGateway) Close(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	code, err := g.s.close(ctx, ref.OutTradeNo)
	return result(code, err, ref.OutTradeNo, ref.Amount, map[string]gateways.Status{"CLOSED": gateways.StatusSucceeded, "PAID": gateways.StatusFailed})
}

var refundTable = map[string]gateways.Status{"REFUNDED": gateways.StatusSucceeded, "PROCESSING": gateways.StatusUserPaying, "REFUSED": gateways.StatusFailed}

func (g *fakeGateway) refundResult(code string, err error, req gateways.RefundRequest) (gateways.Result, error) {
	res, err := result(code, err, req.Order.OutTradeNo, req.Order.Amount, refundTable)
	if err == nil {
		res.OutRefundNo, res.RefundAmount, res.RefundID = req.OutRefundNo, req.Amount, "R"+req.OutRefundNo
	}
	return res, err
}

func (g *fakeGateway) Refund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	code, err := g.s.refund(ctx, req.Order.OutTradeNo, req.OutRefundNo, req.Amount.Minor)
	res, err := g.refundResult(code, err, req)
	if g.wrongRefund && code == "PROCESSING" {
		res.Status, res.Reason = gateways.StatusFailed, "read as refused"
	}
	return res, err
}

func (g *fakeGateway) QueryRefund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	code, err := g.s.queryRefund(ctx, req.Order.OutTradeNo, req.OutRefundNo)
	return g.refundResult(code, err, req)
}

var (
	_ gateways.Micropayer = (*fakeGateway)(nil)
	_ gateways.QRCreator  = (*fakeGateway)(nil)
	_ gateways.Reverser   = (*fakeGateway)(nil)
	_ gateways.Closer     = (*fakeGateway)(nil)
	_ gateways.Refunder   = (*fakeGateway)(nil)
)

// fakeController is the Controller and Truther.
type fakeController struct{ *fakeSim }

func (c fakeController) Script(no string, b sim.Behaviour) { c.fakeSim.Script().SetOrder(no, b) }
func (c fakeController) Notification(string, sim.Fault) (http.Header, []byte, error) {
	return nil, nil, errors.New("fakepay sends no notifications")
}
func (c fakeController) Stop() {}

var _ gatewaytest.Truther = fakeController{}

// newFakeSim builds a fakepay simulator, closed with the test.
func newFakeSim(t *testing.T) *fakeSim {
	b, err := sim.NewBase(sim.BaseOptions{Name: "fakepay"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return &fakeSim{Base: b}
}

func fakeHarness(wrong bool) Harness {
	return fakeHarnessWith(func(g *fakeGateway) { g.wrong = wrong })
}

func fakeHarnessWith(bug func(*fakeGateway)) Harness {
	return Harness{Harness: gatewaytest.Harness{
		New: func(t *testing.T, _ gatewaytest.Config) (gateways.Gateway, gatewaytest.Controller) {
			s := newFakeSim(t)
			g := &fakeGateway{s: s}
			bug(g)
			return g, fakeController{s}
		},
	}}
}

// A right reading of the spec passes every cell of every operation.
func TestTruthCheckPassesARightReading(t *testing.T) {
	Run(t, fakeHarness(false))
}

// failures runs the check with every cell's failures recorded, not
// reported, and returns the failing cells with their messages.
func failures(t *testing.T, h Harness) map[string]string {
	var mu sync.Mutex
	got := map[string]string{}
	t.Run("check", func(t *testing.T) {
		run(t, h, func(st *testing.T) testing.TB {
			return &cellRecorder{recorder: recorder{TB: st}, name: st.Name(), mu: &mu, got: got}
		})
	})
	return got
}

// cellRecorder keeps a cell's failures under its name.
type cellRecorder struct {
	recorder
	name string
	mu   *sync.Mutex
	got  map[string]string
}

func (r *cellRecorder) Errorf(format string, args ...any) { r.Error(fmt.Sprintf(format, args...)) }
func (r *cellRecorder) Error(args ...any) {
	r.recorder.Error(args...)
	r.mu.Lock()
	defer r.mu.Unlock()
	_, cell, _ := strings.Cut(r.name, "/cells/")
	r.got[cell] += fmt.Sprint(args...) + "\n"
}

// The wrong reading ("BUSY" on a submit is a refusal) fails exactly the
// cells where busy hid a charge, and says why.
func TestTruthCheckCatchesAWrongReading(t *testing.T) {
	got := failures(t, fakeHarness(true))
	var names []string
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	want := []string{"submit/micropay/BUSY/done", "submit/qr/BUSY/done"}
	if !slices.Equal(names, want) {
		t.Fatalf("failing cells %v, want %v; messages:\n%v", names, want, got)
	}
	for _, n := range want {
		if !strings.Contains(got[n], "failed (the cashier is told no money moved), but the customer was charged") {
			t.Errorf("%s failed for another reason:\n%s", n, got[n])
		}
	}
}

// A refund "PROCESSING" read as refused fails where the money went back
// and where it still may (the pending truth), and nowhere else.
func TestTruthCheckCatchesAFreedRefund(t *testing.T) {
	h := fakeHarnessWith(func(g *fakeGateway) { g.wrongRefund = true })
	h.Ops = []sim.Op{sim.OpRefund, sim.OpQueryRefund}
	got := failures(t, h)
	var names []string
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	want := []string{"refund/micropay/PROCESSING/done", "refund/micropay/PROCESSING/pending"}
	if !slices.Equal(names, want) {
		t.Fatalf("failing cells %v, want %v; messages:\n%v", names, want, got)
	}
	if !strings.Contains(got[want[0]], "refund failed (its amount is free to refund again), but the ledger has it executed") ||
		!strings.Contains(got[want[1]], "but the ledger has it pending") {
		t.Errorf("messages:\n%v", got)
	}
}

// A known failure that passes fails the check, so the list cannot outlive
// the bug; one that fails is only logged.
func TestKnownFailuresAreStrict(t *testing.T) {
	h := fakeHarness(true)
	h.Ops = []sim.Op{sim.OpSubmit}
	h.KnownFailures = map[string]string{
		"submit/micropay/BUSY/done":     "the bug under test",
		"submit/micropay/BUSY/not_done": "listed, but passes",
	}
	got := failures(t, h)
	var names []string
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	want := []string{"submit/micropay/BUSY/not_done", "submit/qr/BUSY/done"}
	if !slices.Equal(names, want) {
		t.Fatalf("failing cells %v, want %v; messages:\n%v", names, want, got)
	}
	if !strings.Contains(got["submit/micropay/BUSY/not_done"], "remove it from the list") {
		t.Errorf("a passing known failure is reported as:\n%s", got["submit/micropay/BUSY/not_done"])
	}
}

// A cell whose scripted call never happens checked nothing and fails.
func TestACellThatNeverMakesItsCallFails(t *testing.T) {
	h := fakeHarness(false)
	h.Ops = []sim.Op{sim.OpReverse}
	inner := h.New
	h.New = func(t *testing.T, cfg gatewaytest.Config) (gateways.Gateway, gatewaytest.Controller) {
		g, c := inner(t, cfg)
		return alwaysPaid{g.(*fakeGateway)}, c
	}
	got := failures(t, h)
	if len(got) == 0 {
		t.Fatal("reverse cells passed against a gateway the till never needs to reverse with")
	}
	for n, msg := range got {
		if !strings.Contains(msg, "the till never made the reverse call") {
			t.Errorf("%s: %s", n, msg)
		}
	}
}

// alwaysPaid is the fake gateway reading every micropay as paid: the
// cashier's cancel comes too late, and the reverse cells' call never
// happens.
type alwaysPaid struct{ *fakeGateway }

func (g alwaysPaid) Micropay(ctx context.Context, req gateways.MicropayRequest) (gateways.Result, error) {
	res, err := g.fakeGateway.Micropay(ctx, req)
	res.Status = gateways.StatusSucceeded
	return res, err
}

// fakeExternal is fakepay taking no payments at the till: its orders are
// placed elsewhere (seeded) and adopted by the cashier's lookup, as
// HipoPay's are. wrongLookup reads a query's "USERPAYING" as paid.
type fakeExternal struct {
	*fakeGateway
	wrongLookup bool
}

func (g *fakeExternal) Capabilities() gateways.Capabilities {
	return gateways.Capabilities{Refund: true, PartialRefund: true, External: true}
}

// Query answers with the order's own amount: an adopted order's amount
// comes from the gateway, the till has none to expect.
func (g *fakeExternal) Query(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	res, err := g.fakeGateway.Query(ctx, ref)
	if o, ok := g.s.Ledger().Get(ref.OutTradeNo); ok && err == nil {
		res.Amount, res.Wallet = pos.Money{Minor: o.Amount, Currency: pos.Currency(o.Currency)}, pos.WeChatPay
	}
	if g.wrongLookup && res.Code == "USERPAYING" {
		res.Status = gateways.StatusSucceeded
	}
	return res, err
}

// fakeSeeder places an order as a mini-program would.
type fakeSeeder struct{ fakeController }

func (c fakeSeeder) Seed(no string, amount pos.Money, b sim.Behaviour) (gateways.OrderRef, error) {
	o := sim.Order{OutTradeNo: no, Amount: amount.Minor, Currency: string(amount.Currency), Wallet: string(pos.WeChatPay), Method: "mini_program"}
	b.Fill(&o)
	o, err := c.Ledger().NewOrder(o)
	return gateways.OrderRef{OutTradeNo: no, TransactionID: o.TransactionID, Amount: amount}, err
}

var _ gatewaytest.Seeder = fakeSeeder{}

func fakeExternalHarness(bug func(*fakeExternal)) Harness {
	return Harness{Harness: gatewaytest.Harness{
		New: func(t *testing.T, _ gatewaytest.Config) (gateways.Gateway, gatewaytest.Controller) {
			s := newFakeSim(t)
			g := &fakeExternal{fakeGateway: &fakeGateway{s: s}}
			bug(g)
			return g, fakeSeeder{fakeController{s}}
		},
	}}
}

// Orders placed outside the till are seeded, adopted by lookup and
// refunded in part and in full; a right reading passes every cell.
func TestTruthCheckFollowsSeededOrders(t *testing.T) {
	h := fakeExternalHarness(func(*fakeExternal) {})
	gw, ctl := h.New(t, gatewaytest.Config{})
	ops := map[string]int{}
	for _, c := range planSeeded(gw, ctl.(gatewaytest.Truther), h.withDefaults()) {
		ops[string(c.op)+"/"+c.variant]++
	}
	for _, want := range []string{"query/lookup", "refund/partial", "refund/full", "query_refund/partial", "query_refund/full"} {
		if ops[want] == 0 {
			t.Errorf("no %s cells: %v", want, ops)
		}
	}
	got := failures(t, h)
	if len(got) > 0 {
		t.Fatalf("failing cells against a right reading: %v", got)
	}
}

// An order adopted as paid while the customer has not paid fails the
// lookup cells where "USERPAYING" hid an unpaid order, and only those; a
// refund "PROCESSING" read as refused fails where the money went back or
// still may, for a partial and a full refund.
func TestTruthCheckCatchesAWrongAdoption(t *testing.T) {
	for _, tc := range []struct {
		name string
		bug  func(*fakeExternal)
		ops  []sim.Op
		want []string
		says string
	}{
		{"lookup", func(g *fakeExternal) { g.wrongLookup = true }, []sim.Op{sim.OpQuery},
			[]string{"query/lookup/USERPAYING/not_done", "query/lookup/USERPAYING/pending"},
			"adopted the order as paid, but the customer is not charged"},
		{"refund", func(g *fakeExternal) { g.wrongRefund = true }, []sim.Op{sim.OpRefund, sim.OpQueryRefund},
			[]string{"refund/full/PROCESSING/done", "refund/full/PROCESSING/pending", "refund/partial/PROCESSING/done", "refund/partial/PROCESSING/pending"},
			"refund failed (its amount is free to refund again)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := fakeExternalHarness(tc.bug)
			h.Ops = tc.ops
			got := failures(t, h)
			var names []string
			for n := range got {
				names = append(names, n)
			}
			sort.Strings(names)
			if !slices.Equal(names, tc.want) {
				t.Fatalf("failing cells %v, want %v; messages:\n%v", names, tc.want, got)
			}
			for _, n := range tc.want {
				if !strings.Contains(got[n], tc.says) {
					t.Errorf("%s failed for another reason:\n%s", n, got[n])
				}
			}
		})
	}
}
