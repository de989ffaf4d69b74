package gatewaytest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/sim"
)

// callTimeout bounds every gateway call the suite makes; noAnswerTimeout
// is the caller's patience when the simulator holds the request.
const (
	callTimeout     = 10 * time.Second
	noAnswerTimeout = 700 * time.Millisecond
	maxFastTiming   = 2 * time.Second
)

var orderSeq atomic.Int64

// NewOutTradeNo returns an order number unique within the process and at
// most 20 characters, letters and digits only (the strictest wire limit).
func NewOutTradeNo() string {
	return fmt.Sprintf("GT%s%04d", time.Now().Format("0102150405"), orderSeq.Add(1)%10000)
}

type suite struct {
	h    Harness
	cur  pos.Currency
	caps gateways.Capabilities
	// seeds: the gateway takes no payments of its own, but its simulator
	// can place paid orders (Seeder), so query, refund and notification
	// are exercised on those.
	seeds bool
}

// Seeder is implemented by the Controller of a gateway that takes no
// payments at the till (HipoPay: a mini-program places the orders): it
// places an order in the simulator as the acquirer would have it, paid
// unless b says otherwise, and returns the reference the till would hold.
// With b.Fault sim.NotifyBeforeResponse on sim.OpSubmit, the notification
// of an order paid at once is delivered (and acknowledged) before Seed
// returns: the truth check adopts seeded orders that way.
type Seeder interface {
	Seed(outTradeNo string, amount pos.Money, b sim.Behaviour) (gateways.OrderRef, error)
}

// takesPayments reports whether the gateway creates orders itself.
func (s *suite) takesPayments() bool {
	return len(s.caps.Micropay) > 0 || len(s.caps.MerchantQR) > 0
}

// skipWithoutOrders skips a group that needs paid orders when the gateway
// can neither take payments nor have them seeded.
func (s *suite) skipWithoutOrders(t *testing.T) {
	if !s.takesPayments() && !s.seeds {
		t.Skip("the gateway takes no payments and its simulator cannot seed orders")
	}
}

// Run runs the contract suite. Each leaf subtest builds its own gateway and
// simulator with h.New and runs in parallel with the others.
func Run(t *testing.T, h Harness) {
	s := &suite{h: h, cur: h.Currency}
	if s.cur == "" {
		s.cur = "CNY"
	}
	gw, ctl := h.New(t, Config{})
	s.caps = gw.Capabilities()
	_, s.seeds = ctl.(Seeder)
	tm := gw.Timing()
	if tm.PollInterval > maxFastTiming || tm.ReverseAfter > maxFastTiming || tm.CloseAfter > maxFastTiming {
		t.Fatalf("harness gateway timings are too slow for the suite: %+v", tm)
	}
	t.Run("Capabilities", func(t *testing.T) { s.testCapabilities(t, gw) })
	// Groups run in parallel with each other, and so do their subtests.
	group := func(name string, f func(*testing.T)) {
		t.Run(name, func(t *testing.T) { t.Parallel(); f(t) })
	}
	for _, w := range s.caps.Micropay {
		group("Micropay/"+string(w), func(t *testing.T) { s.testMicropay(t, w) })
	}
	for _, w := range s.caps.MerchantQR {
		group("MerchantQR/"+string(w), func(t *testing.T) { s.testMerchantQR(t, w) })
	}
	group("Query", s.testQuery)
	if s.caps.Reverse {
		group("Reverse", s.testReverse)
	}
	if s.caps.Close {
		group("Close", s.testClose)
	}
	if s.caps.Refund {
		group("Refund", s.testRefund)
	}
	if s.caps.Notify {
		group("Notify", s.testNotify)
	}
}

func (s *suite) testCapabilities(t *testing.T, gw gateways.Gateway) {
	if gw.Kind() == "" {
		t.Error("Kind() is empty")
	}
	check := func(name string, declared, implemented bool) {
		if declared && !implemented {
			t.Errorf("Capabilities declare %s but the gateway does not implement it", name)
		}
	}
	_, mp := gw.(gateways.Micropayer)
	_, qr := gw.(gateways.QRCreator)
	_, rv := gw.(gateways.Reverser)
	_, cl := gw.(gateways.Closer)
	_, rf := gw.(gateways.Refunder)
	_, nt := gw.(gateways.Notifier)
	check("Micropay", len(s.caps.Micropay) > 0, mp)
	check("MerchantQR", len(s.caps.MerchantQR) > 0, qr)
	check("Reverse", s.caps.Reverse, rv)
	check("Close", s.caps.Close, cl)
	check("Refund", s.caps.Refund, rf)
	check("Notify", s.caps.Notify, nt)
	if s.caps.PartialRefund && !s.caps.Refund {
		t.Error("PartialRefund without Refund")
	}
	if !s.caps.Accepts(s.cur) {
		t.Errorf("the gateway does not accept the suite currency %s", s.cur)
	}
}

// pair is one fresh gateway with its simulator.
type pair struct {
	gw  gateways.Gateway
	ctl Controller
	tm  gateways.Timing
}

func (s *suite) pair(t *testing.T, cfg Config) pair {
	t.Helper()
	gw, ctl := s.h.New(t, cfg)
	return pair{gw: gw, ctl: ctl, tm: gw.Timing().WithDefaults()}
}

func (s *suite) money(t *testing.T, minor int64) pos.Money {
	t.Helper()
	m, err := pos.NewMoney(minor, string(s.cur))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (s *suite) code(t *testing.T, w pos.Wallet) pos.AuthCode {
	t.Helper()
	raw, ok := s.h.Codes[w]
	if !ok {
		raw = DefaultCodes[w]
	}
	c, err := pos.ParseAuthCode(raw)
	if err != nil {
		t.Fatalf("payment code for %s: %v", w, err)
	}
	if c.Wallet() != w {
		t.Fatalf("payment code for %s classifies as %s", w, c.Wallet())
	}
	return c
}

func ctx(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

// order is one submitted order and what the suite needs to follow it up.
type order struct {
	ref gateways.OrderRef
	// submitted is when the submit's answer came back (or the call gave
	// up). Rules such as "reverse no sooner than N after the order" are
	// timed from it: the acquirer stamped the order somewhere between the
	// request leaving and this moment, so waiting from here is never early,
	// however loaded the machine (timing from before the call was, and
	// failed now and then under load).
	submitted time.Time
	lastQuery time.Time
}

// submit creates an order with method m (micropay or merchant QR) in wallet
// w, scripting it first when b is not nil.
func (s *suite) submit(t *testing.T, p pair, m pos.Method, w pos.Wallet, minor int64, b *sim.Behaviour) (*order, gateways.Result, error) {
	t.Helper()
	no := NewOutTradeNo()
	if b != nil {
		p.ctl.Script(no, *b)
	}
	amt := s.money(t, minor)
	o := &order{ref: gateways.OrderRef{OutTradeNo: no, Wallet: w, Method: m, Amount: amt}, submitted: time.Now()}
	o.ref.SubmittedAt = o.submitted
	d := callTimeout
	if b != nil && b.FaultFor(sim.OpSubmit) == sim.NoAnswer || b == nil && sim.BehaviourFor(minor).FaultFor(sim.OpSubmit) == sim.NoAnswer {
		d = noAnswerTimeout
	}
	var res gateways.Result
	var err error
	switch m {
	case pos.Micropay:
		res, err = p.gw.(gateways.Micropayer).Micropay(ctx(t, d), gateways.MicropayRequest{
			OutTradeNo: no, Amount: amt, Code: s.code(t, w), Description: "contract test",
		})
	case pos.MerchantQR:
		res, err = p.gw.(gateways.QRCreator).CreateQR(ctx(t, d), gateways.QRRequest{
			OutTradeNo: no, Amount: amt, Wallet: w, Description: "contract test",
		})
	}
	o.submitted = time.Now()
	if err == nil && res.TransactionID != "" {
		o.ref.TransactionID = res.TransactionID
	}
	return o, res, err
}

// query waits the gateway's poll interval since the previous query of the
// order, then queries it.
func (s *suite) query(t *testing.T, p pair, o *order) (gateways.Result, error) {
	t.Helper()
	if !o.lastQuery.IsZero() {
		time.Sleep(time.Until(o.lastQuery.Add(p.tm.PollInterval)))
	}
	res, err := p.gw.Query(ctx(t, callTimeout), o.ref)
	o.lastQuery = time.Now()
	return res, err
}

func (s *suite) queryWant(t *testing.T, p pair, o *order, want gateways.Status) gateways.Result {
	t.Helper()
	res, err := s.query(t, p, o)
	if err != nil {
		t.Fatalf("Query(%s): %v", o.ref.OutTradeNo, err)
	}
	if res.Status != want {
		t.Fatalf("Query(%s) = %s (%s %s), want %s", o.ref.OutTradeNo, res.Status, res.Code, res.Reason, want)
	}
	return res
}

// waitReverse sleeps until the gateway's ReverseAfter has passed since the submit.
func waitReverse(p pair, o *order) {
	time.Sleep(time.Until(o.submitted.Add(p.tm.ReverseAfter + 10*time.Millisecond)))
}

// reverseWant reverses the order and checks the outcome. A reverse
// answered UserPaying is still in progress at the gateway ("ask again
// later": an acquirer whose spec cancels no payment still waiting for the
// customer, Allinpay, says so until the wallet gives up), so it is asked
// again at the poll interval, for a while.
func (s *suite) reverseWant(t *testing.T, p pair, o *order, want gateways.Status) gateways.Result {
	t.Helper()
	waitReverse(p, o)
	res, err := p.gw.(gateways.Reverser).Reverse(ctx(t, callTimeout), o.ref)
	for deadline := time.Now().Add(callTimeout); err == nil && res.Status == gateways.StatusUserPaying && want != res.Status && time.Now().Before(deadline); {
		time.Sleep(p.tm.PollInterval)
		res, err = p.gw.(gateways.Reverser).Reverse(ctx(t, callTimeout), o.ref)
	}
	if err != nil {
		t.Fatalf("Reverse(%s): %v", o.ref.OutTradeNo, err)
	}
	if res.Status != want {
		t.Fatalf("Reverse(%s) = %s (%s %s), want %s", o.ref.OutTradeNo, res.Status, res.Code, res.Reason, want)
	}
	return res
}

func wantKind(t *testing.T, what string, res gateways.Result, err error, kind pos.Kind) {
	t.Helper()
	if !pos.Match(kind, err) {
		t.Fatalf("%s = (%s %q, %v), want a %s error", what, res.Status, res.Reason, err, kind)
	}
	if res.Status == gateways.StatusFailed || res.Status == gateways.StatusSucceeded {
		t.Fatalf("%s returned %s alongside the %s error", what, res.Status, kind)
	}
}

func wantStatus(t *testing.T, what string, res gateways.Result, err error, want gateways.Status) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if res.Status != want {
		t.Fatalf("%s = %s (code %q reason %q), want %s", what, res.Status, res.Code, res.Reason, want)
	}
	if want == gateways.StatusFailed && res.Reason == "" {
		t.Fatalf("%s failed without a Reason", what)
	}
}

// faultCases are the transport and signature faults every call must
// survive as pos.Unknown: the request was sent, no trustworthy answer came.
// A redirect is one of them: following it would re-send the request (a
// payment code) to another host, so the other URL must never be hit.
var faultCases = []sim.Fault{sim.NoAnswer, sim.HTTP5xx, sim.Malformed, sim.BadSignature, sim.Redirect}

// noRedirectFollowed checks, when the subtest ends, that a Redirect fault
// was not followed: nothing reached sim.RedirectURL.
func noRedirectFollowed(t *testing.T, f sim.Fault) {
	if f != sim.Redirect {
		return
	}
	if _, err := sim.RedirectURL(); err != nil {
		t.Fatalf("redirect trap: %v", err)
	}
	before := sim.RedirectHits()
	t.Cleanup(func() {
		if n := sim.RedirectHits() - before; n > 0 {
			t.Errorf("the client followed the redirect: %d request(s) reached the other URL", n)
		}
	})
}

func (s *suite) testSubmitOutcomes(t *testing.T, m pos.Method, w pos.Wallet) {
	first := gateways.StatusSucceeded
	if m == pos.MerchantQR {
		first = gateways.StatusUserPaying // the code is shown, not yet scanned
	}
	checkFirst := func(t *testing.T, res gateways.Result) {
		t.Helper()
		if m == pos.MerchantQR && res.CodeURL == "" {
			t.Fatal("CreateQR returned no CodeURL")
		}
	}
	t.Run("Success", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o, res, err := s.submit(t, p, m, w, 100, nil)
		wantStatus(t, "submit", res, err, first)
		checkFirst(t, res)
		if m == pos.Micropay && res.TransactionID == "" {
			t.Error("a succeeded micropay has no TransactionID")
		}
		got := s.queryWant(t, p, o, gateways.StatusSucceeded)
		if got.Amount.Minor != 0 && got.Amount != o.ref.Amount {
			t.Errorf("Query amount = %v, want %v", got.Amount, o.ref.Amount)
		}
	})
	t.Run("UserPayingThenPaid", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o, res, err := s.submit(t, p, m, w, 191, nil)
		wantStatus(t, "submit", res, err, gateways.StatusUserPaying)
		checkFirst(t, res)
		s.queryWant(t, p, o, gateways.StatusUserPaying)
		s.queryWant(t, p, o, gateways.StatusSucceeded)
	})
	t.Run("ScriptedPayingQueries", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o, res, err := s.submit(t, p, m, w, 100, &sim.Behaviour{PayingQueries: 3})
		wantStatus(t, "submit", res, err, gateways.StatusUserPaying)
		for range 3 {
			s.queryWant(t, p, o, gateways.StatusUserPaying)
		}
		s.queryWant(t, p, o, gateways.StatusSucceeded)
	})
	t.Run("Declined", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o, res, err := s.submit(t, p, m, w, 193, nil)
		if m == pos.MerchantQR {
			// A QR order is refused when the customer tries to pay it.
			wantStatus(t, "CreateQR", res, err, gateways.StatusUserPaying)
			s.queryWant(t, p, o, gateways.StatusFailed)
			return
		}
		wantStatus(t, "Micropay", res, err, gateways.StatusFailed)
	})
	if m == pos.Micropay {
		t.Run("ScriptedDecline", func(t *testing.T) {
			t.Parallel()
			p := s.pair(t, Config{})
			_, res, err := s.submit(t, p, m, w, 100, &sim.Behaviour{DeclineCode: "NOTENOUGH", DeclineMsg: "余额不足"})
			wantStatus(t, "Micropay", res, err, gateways.StatusFailed)
		})
	}
	// A merchant-QR order of a wallet the gateway may not close is polled
	// until it expires (Capabilities.CanClose); its simulator's expiry is
	// not the suite's to wait for.
	if s.caps.Reverse && m == pos.Micropay || s.caps.CanClose(w) && m == pos.MerchantQR {
		t.Run("UserPayingThenReversed", func(t *testing.T) {
			t.Parallel()
			p := s.pair(t, Config{})
			o, res, err := s.submit(t, p, m, w, 192, nil)
			wantStatus(t, "submit", res, err, gateways.StatusUserPaying)
			s.queryWant(t, p, o, gateways.StatusUserPaying)
			if m == pos.Micropay {
				s.reverseWant(t, p, o, gateways.StatusSucceeded)
			} else {
				time.Sleep(time.Until(o.submitted.Add(p.tm.CloseAfter)))
				res, err := p.gw.(gateways.Closer).Close(ctx(t, callTimeout), o.ref)
				wantStatus(t, "Close", res, err, gateways.StatusSucceeded)
			}
			s.queryWant(t, p, o, gateways.StatusFailed)
		})
	}
	t.Run("NoAnswerButPaid", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o, res, err := s.submit(t, p, m, w, 194, nil)
		wantKind(t, "submit", res, err, pos.Unknown)
		s.queryWant(t, p, o, gateways.StatusSucceeded)
	})
	t.Run("NoAnswerNeverCompletes", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o, res, err := s.submit(t, p, m, w, 195, nil)
		wantKind(t, "submit", res, err, pos.Unknown)
		s.queryWant(t, p, o, gateways.StatusUserPaying)
		if m == pos.Micropay && s.caps.Reverse {
			s.reverseWant(t, p, o, gateways.StatusSucceeded)
		}
	})
	for _, f := range faultCases {
		t.Run("Fault/"+string(f), func(t *testing.T) {
			t.Parallel()
			noRedirectFollowed(t, f)
			p := s.pair(t, Config{})
			o, res, err := s.submit(t, p, m, w, 100, &sim.Behaviour{Fault: f, FaultOn: []sim.Op{sim.OpSubmit}})
			wantKind(t, "submit", res, err, pos.Unknown)
			// The simulator processed the order before misbehaving: the
			// follow-up query finds it.
			// (A merchant QR order in the default scenario is paid on its
			// first query.)
			s.queryWant(t, p, o, gateways.StatusSucceeded)
		})
	}
	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		p.ctl.Stop()
		_, res, err := s.submit(t, p, m, w, 100, nil)
		wantKind(t, "submit", res, err, pos.Unavailable)
	})
}

func (s *suite) testMicropay(t *testing.T, w pos.Wallet) {
	s.testSubmitOutcomes(t, pos.Micropay, w)
}

func (s *suite) testMerchantQR(t *testing.T, w pos.Wallet) {
	s.testSubmitOutcomes(t, pos.MerchantQR, w)
}

// anyMethod picks the method and wallet used for tests of follow-up
// operations: micropay when declared, else merchant QR.
func (s *suite) anyMethod() (pos.Method, pos.Wallet) {
	switch {
	case len(s.caps.Micropay) > 0:
		return pos.Micropay, s.caps.Micropay[0]
	case len(s.caps.MerchantQR) > 0:
		return pos.MerchantQR, s.caps.MerchantQR[0]
	}
	return "", "" // seeded orders: the method is the acquirer's business
}

// paidOrder submits an order and follows it until paid.
func (s *suite) paidOrder(t *testing.T, p pair, minor int64) *order {
	t.Helper()
	if !s.takesPayments() {
		ref, err := p.ctl.(Seeder).Seed(NewOutTradeNo(), s.money(t, minor), sim.Behaviour{})
		if err != nil {
			t.Fatalf("seeding an order: %v", err)
		}
		o := &order{ref: ref, submitted: time.Now()}
		s.queryWant(t, p, o, gateways.StatusSucceeded)
		return o
	}
	m, w := s.anyMethod()
	o, res, err := s.submit(t, p, m, w, minor, nil)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if res.Status != gateways.StatusSucceeded {
		s.queryWant(t, p, o, gateways.StatusSucceeded)
	}
	return o
}

func (s *suite) testQuery(t *testing.T) {
	s.skipWithoutOrders(t)
	t.Run("UnknownOrder", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		m, w := s.anyMethod()
		o := &order{ref: gateways.OrderRef{OutTradeNo: NewOutTradeNo(), Wallet: w, Method: m, Amount: s.money(t, 100)}}
		res, err := s.query(t, p, o)
		wantKind(t, "Query of an unknown order", res, err, pos.NotFound)
	})
	for _, f := range faultCases {
		t.Run("Fault/"+string(f), func(t *testing.T) {
			t.Parallel()
			noRedirectFollowed(t, f)
			p := s.pair(t, Config{})
			o := s.paidOrder(t, p, 100)
			p.ctl.Script(o.ref.OutTradeNo, sim.Behaviour{Fault: f, FaultOn: []sim.Op{sim.OpQuery}, Times: 1})
			d := callTimeout
			if f == sim.NoAnswer {
				d = noAnswerTimeout
			}
			time.Sleep(p.tm.PollInterval)
			res, err := p.gw.Query(ctx(t, d), o.ref)
			o.lastQuery = time.Now()
			wantKind(t, "Query", res, err, pos.Unknown)
			// The fault was one-off: the next query is answered.
			s.queryWant(t, p, o, gateways.StatusSucceeded)
		})
	}
	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o := s.paidOrder(t, p, 100)
		p.ctl.Stop()
		res, err := p.gw.Query(ctx(t, callTimeout), o.ref)
		wantKind(t, "Query", res, err, pos.Unavailable)
	})
}

func (s *suite) testReverse(t *testing.T) {
	if len(s.caps.Micropay) == 0 {
		t.Skip("reverse is exercised on micropay orders")
	}
	w := s.caps.Micropay[0]
	t.Run("Paid", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o := s.paidOrder(t, p, 100)
		s.reverseWant(t, p, o, gateways.StatusSucceeded)
		s.queryWant(t, p, o, gateways.StatusFailed)
	})
	t.Run("Twice", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o, _, err := s.submit(t, p, pos.Micropay, w, 192, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.reverseWant(t, p, o, gateways.StatusSucceeded)
		s.reverseWant(t, p, o, gateways.StatusSucceeded)
	})
	t.Run("NeverReceived", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o := &order{ref: gateways.OrderRef{OutTradeNo: NewOutTradeNo(), Wallet: w, Method: pos.Micropay, Amount: s.money(t, 100)}, submitted: time.Now()}
		waitReverse(p, o)
		res, err := p.gw.(gateways.Reverser).Reverse(ctx(t, callTimeout), o.ref)
		if pos.Match(pos.NotFound, err) {
			return
		}
		wantStatus(t, "Reverse of an order never received", res, err, gateways.StatusSucceeded)
	})
	for _, f := range faultCases {
		t.Run("Fault/"+string(f), func(t *testing.T) {
			t.Parallel()
			noRedirectFollowed(t, f)
			p := s.pair(t, Config{})
			o, _, err := s.submit(t, p, pos.Micropay, w, 192, nil)
			if err != nil {
				t.Fatal(err)
			}
			p.ctl.Script(o.ref.OutTradeNo, sim.Behaviour{Scenario: sim.PayingUntilReversed, Fault: f, FaultOn: []sim.Op{sim.OpReverse}, Times: 1})
			waitReverse(p, o)
			d := callTimeout
			if f == sim.NoAnswer {
				d = noAnswerTimeout
			}
			res, err := p.gw.(gateways.Reverser).Reverse(ctx(t, d), o.ref)
			wantKind(t, "Reverse", res, err, pos.Unknown)
			// Reverse is idempotent: repeating it after no answer is safe.
			s.reverseWant(t, p, o, gateways.StatusSucceeded)
		})
	}
	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o, _, err := s.submit(t, p, pos.Micropay, w, 192, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.ctl.Stop()
		waitReverse(p, o)
		res, err := p.gw.(gateways.Reverser).Reverse(ctx(t, callTimeout), o.ref)
		wantKind(t, "Reverse", res, err, pos.Unavailable)
	})
}

func (s *suite) closeOrder(t *testing.T, p pair, o *order, d time.Duration) (gateways.Result, error) {
	time.Sleep(time.Until(o.submitted.Add(p.tm.CloseAfter)))
	return p.gw.(gateways.Closer).Close(ctx(t, d), o.ref)
}

func (s *suite) testClose(t *testing.T) {
	// Close applies to unpaid orders: merchant QR when declared, else a
	// micropay the customer is still confirming.
	m, w := s.anyMethod()
	for _, qw := range s.caps.MerchantQR {
		if s.caps.CanClose(qw) {
			m, w = pos.MerchantQR, qw
			break
		}
	}
	t.Run("Unpaid", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o, _, err := s.submit(t, p, m, w, 192, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.closeOrder(t, p, o, callTimeout)
		wantStatus(t, "Close", res, err, gateways.StatusSucceeded)
		s.queryWant(t, p, o, gateways.StatusFailed)
	})
	t.Run("Paid", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o := s.paidOrder(t, p, 100)
		res, err := s.closeOrder(t, p, o, callTimeout)
		wantStatus(t, "Close of a paid order", res, err, gateways.StatusFailed)
		s.queryWant(t, p, o, gateways.StatusSucceeded)
	})
	for _, f := range faultCases {
		t.Run("Fault/"+string(f), func(t *testing.T) {
			t.Parallel()
			noRedirectFollowed(t, f)
			p := s.pair(t, Config{})
			o, _, err := s.submit(t, p, m, w, 192, nil)
			if err != nil {
				t.Fatal(err)
			}
			p.ctl.Script(o.ref.OutTradeNo, sim.Behaviour{Scenario: sim.PayingUntilReversed, Fault: f, FaultOn: []sim.Op{sim.OpClose}, Times: 1})
			d := callTimeout
			if f == sim.NoAnswer {
				d = noAnswerTimeout
			}
			res, err := s.closeOrder(t, p, o, d)
			wantKind(t, "Close", res, err, pos.Unknown)
			res, err = s.closeOrder(t, p, o, callTimeout)
			wantStatus(t, "Close again", res, err, gateways.StatusSucceeded)
		})
	}
}

func (s *suite) refund(t *testing.T, p pair, o *order, no string, minor int64, d time.Duration) (gateways.Result, error) {
	return p.gw.(gateways.Refunder).Refund(ctx(t, d), gateways.RefundRequest{
		Order: o.ref, OutRefundNo: no, Amount: s.money(t, minor), Reason: "contract test",
	})
}

// wantRefunded checks a refund answer that should have refunded: either
// Succeeded at once, or accepted (UserPaying: Swiftpass result_code 0,
// §6.4.1; MMSP 受理成功) and then Succeeded by the refund query, which is
// where such a gateway's refund becomes final.
func (s *suite) wantRefunded(t *testing.T, what string, p pair, o *order, no string, minor int64, res gateways.Result, err error) gateways.Result {
	t.Helper()
	if err == nil && res.Status == gateways.StatusUserPaying {
		q, qerr := p.gw.(gateways.Refunder).QueryRefund(ctx(t, callTimeout), gateways.RefundRequest{Order: o.ref, OutRefundNo: no, Amount: s.money(t, minor)})
		wantStatus(t, what+", accepted, then QueryRefund", q, qerr, gateways.StatusSucceeded)
		if res.RefundID == "" {
			res.RefundID = q.RefundID
		}
		return res
	}
	wantStatus(t, what, res, err, gateways.StatusSucceeded)
	return res
}

func (s *suite) testRefund(t *testing.T) {
	s.skipWithoutOrders(t)
	t.Run("Full", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o := s.paidOrder(t, p, 100)
		rno := NewOutTradeNo()
		res, err := s.refund(t, p, o, rno, 100, callTimeout)
		res = s.wantRefunded(t, "Refund", p, o, rno, 100, res, err)
		if res.RefundID == "" {
			t.Error("a succeeded refund has no RefundID")
		}
		again, err := s.refund(t, p, o, rno, 100, callTimeout)
		again = s.wantRefunded(t, "Refund with the same out_refund_no", p, o, rno, 100, again, err)
		if again.RefundID != res.RefundID {
			t.Errorf("repeated refund got RefundID %q, first %q: refunded twice?", again.RefundID, res.RefundID)
		}
		q, err := p.gw.(gateways.Refunder).QueryRefund(ctx(t, callTimeout), gateways.RefundRequest{Order: o.ref, OutRefundNo: rno, Amount: s.money(t, 100)})
		wantStatus(t, "QueryRefund", q, err, gateways.StatusSucceeded)
		if q.RefundID != res.RefundID {
			t.Errorf("QueryRefund RefundID = %q, want %q", q.RefundID, res.RefundID)
		}
		over, err := s.refund(t, p, o, NewOutTradeNo(), 1, callTimeout)
		wantStatus(t, "Refund beyond the original", over, err, gateways.StatusFailed)
	})
	t.Run("OverRefund", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o := s.paidOrder(t, p, 100)
		res, err := s.refund(t, p, o, NewOutTradeNo(), 101, callTimeout)
		wantStatus(t, "Refund of more than the original", res, err, gateways.StatusFailed)
	})
	if s.caps.PartialRefund {
		t.Run("Partial", func(t *testing.T) {
			t.Parallel()
			p := s.pair(t, Config{})
			o := s.paidOrder(t, p, 100)
			for _, minor := range []int64{30, 70} {
				rno := NewOutTradeNo()
				res, err := s.refund(t, p, o, rno, minor, callTimeout)
				s.wantRefunded(t, fmt.Sprintf("Refund of %d", minor), p, o, rno, minor, res, err)
			}
			res, err := s.refund(t, p, o, NewOutTradeNo(), 1, callTimeout)
			wantStatus(t, "Refund beyond the sum of the original", res, err, gateways.StatusFailed)
		})
	}
	t.Run("Unpaid", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		m, w := s.anyMethod()
		o, _, err := s.submit(t, p, m, w, 192, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.refund(t, p, o, NewOutTradeNo(), 100, callTimeout)
		wantStatus(t, "Refund of an unpaid order", res, err, gateways.StatusFailed)
	})
	for _, f := range faultCases {
		t.Run("Fault/"+string(f), func(t *testing.T) {
			t.Parallel()
			noRedirectFollowed(t, f)
			p := s.pair(t, Config{})
			o := s.paidOrder(t, p, 100)
			p.ctl.Script(o.ref.OutTradeNo, sim.Behaviour{Fault: f, FaultOn: []sim.Op{sim.OpRefund}, Times: 1})
			d := callTimeout
			if f == sim.NoAnswer {
				d = noAnswerTimeout
			}
			rno := NewOutTradeNo()
			res, err := s.refund(t, p, o, rno, 50, d)
			wantKind(t, "Refund", res, err, pos.Unknown)
			// Retrying with the same out_refund_no refunds once.
			first, err := s.refund(t, p, o, rno, 50, callTimeout)
			s.wantRefunded(t, "Refund retry", p, o, rno, 50, first, err)
			if s.caps.PartialRefund {
				rest := NewOutTradeNo()
				res, err := s.refund(t, p, o, rest, 50, callTimeout)
				s.wantRefunded(t, "Refund of the rest", p, o, rest, 50, res, err)
			}
		})
	}
}

// receiver is the daemon's notification endpoint, as the suite plays it.
type receiver struct {
	mu   sync.Mutex
	n    gateways.Notifier // set once the gateway exists
	got  []gateways.Notification
	errs []error
	srv  *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := r.n
		r.mu.Unlock()
		if n == nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		note, err := n.ParseNotification(req.Header, body)
		r.mu.Lock()
		if err != nil {
			r.errs = append(r.errs, err)
		} else {
			r.got = append(r.got, note)
		}
		r.mu.Unlock()
		ct, ack := n.NotificationAck(err == nil)
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(ack)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setNotifier(n gateways.Notifier) { r.mu.Lock(); r.n = n; r.mu.Unlock() }

func (r *receiver) notes() ([]gateways.Notification, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]gateways.Notification(nil), r.got...), append([]error(nil), r.errs...)
}

// waitNotes waits until the receiver has n notifications or two seconds pass.
func (r *receiver) waitNotes(n int) ([]gateways.Notification, []error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		got, errs := r.notes()
		if len(got) >= n || time.Now().After(deadline) {
			return got, errs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *suite) testNotify(t *testing.T) {
	s.skipWithoutOrders(t)
	parse := func(t *testing.T, p pair, o *order, f sim.Fault) (gateways.Notification, error) {
		t.Helper()
		h, body, err := p.ctl.Notification(o.ref.OutTradeNo, f)
		if err != nil {
			t.Fatalf("simulator Notification: %v", err)
		}
		return p.gw.(gateways.Notifier).ParseNotification(h, body)
	}
	t.Run("Verified", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o := s.paidOrder(t, p, 100)
		n, err := parse(t, p, o, sim.FaultNone)
		if err != nil {
			t.Fatalf("ParseNotification: %v", err)
		}
		if n.ID == "" || n.OutTradeNo != o.ref.OutTradeNo || n.Result.Status != gateways.StatusSucceeded {
			t.Fatalf("notification = %+v, want a succeeded one for %s with an ID", n, o.ref.OutTradeNo)
		}
		if n.Result.Amount.Minor != 0 && n.Result.Amount != o.ref.Amount {
			t.Errorf("notification amount %v, want %v", n.Result.Amount, o.ref.Amount)
		}
		again, err := parse(t, p, o, sim.FaultNone)
		if err != nil || again.ID != n.ID {
			t.Errorf("the same notification resent has ID %q (%v), first %q: dedupe by ID fails", again.ID, err, n.ID)
		}
		other := s.paidOrder(t, p, 200)
		if n2, err := parse(t, p, other, sim.FaultNone); err != nil || n2.ID == n.ID {
			t.Errorf("notifications of two orders share ID %q (%v)", n.ID, err)
		}
	})
	t.Run("BadSignature", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		o := s.paidOrder(t, p, 100)
		if n, err := parse(t, p, o, sim.BadSignature); err == nil {
			t.Fatalf("a notification with a wrong signature was accepted: %+v", n)
		}
	})
	t.Run("Garbage", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		for _, body := range []string{"", "SUCCESS", "{", `{"Body":{}}`, "<xml></xml>"} {
			if n, err := p.gw.(gateways.Notifier).ParseNotification(http.Header{}, []byte(body)); err == nil {
				t.Errorf("ParseNotification(%q) accepted: %+v", body, n)
			}
		}
	})
	t.Run("Ack", func(t *testing.T) {
		t.Parallel()
		p := s.pair(t, Config{})
		_, ok := p.gw.(gateways.Notifier).NotificationAck(true)
		_, notOK := p.gw.(gateways.Notifier).NotificationAck(false)
		if len(ok) == 0 || string(ok) == string(notOK) {
			t.Errorf("acks: ok %q, not ok %q", ok, notOK)
		}
	})
	delivered := func(t *testing.T, f sim.Fault, want int) {
		t.Parallel()
		if !s.takesPayments() {
			// Delivery is timed against the till's own submit; a seeded
			// order has none (the adapter's own tests cover its pushes).
			t.Skip("the gateway takes no payments: no submit to deliver around")
		}
		rcv := newReceiver(t)
		p := s.pair(t, Config{NotifyURL: rcv.srv.URL})
		rcv.setNotifier(p.gw.(gateways.Notifier))
		m, w := s.anyMethod()
		b := &sim.Behaviour{PayingQueries: 1, Fault: f, FaultOn: []sim.Op{sim.OpSubmit, sim.OpQuery}}
		if f == sim.NotifyBeforeResponse {
			b = &sim.Behaviour{Scenario: sim.Immediate, Fault: f, FaultOn: []sim.Op{sim.OpSubmit}}
		}
		o, res, err := s.submit(t, p, m, w, 100, b)
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		if f == sim.NotifyBeforeResponse {
			got, errs := rcv.notes()
			if len(got) == 0 {
				t.Fatalf("no verified notification before the submit answered %s (errors %v)", res.Status, errs)
			}
			if got[0].OutTradeNo != o.ref.OutTradeNo || got[0].Result.Status != gateways.StatusSucceeded {
				t.Fatalf("early notification = %+v", got[0])
			}
			return
		}
		for i := 0; res.Status != gateways.StatusSucceeded; i++ {
			if i == 5 {
				t.Fatalf("order still %s after %d queries", res.Status, i)
			}
			if res, err = s.query(t, p, o); err != nil {
				t.Fatalf("Query: %v", err)
			}
		}
		got, errs := rcv.waitNotes(want)
		if len(errs) > 0 {
			t.Fatalf("notifications refused: %v", errs)
		}
		if len(got) < want {
			t.Fatalf("got %d notifications, want %d", len(got), want)
		}
		for _, n := range got[1:] {
			if n.ID != got[0].ID {
				t.Errorf("duplicate notification has ID %q, first %q", n.ID, got[0].ID)
			}
		}
	}
	t.Run("Delivered/BeforeResponse", func(t *testing.T) { delivered(t, sim.NotifyBeforeResponse, 1) })
	t.Run("Delivered/Duplicate", func(t *testing.T) { delivered(t, sim.NotifyDuplicate, 2) })
}
