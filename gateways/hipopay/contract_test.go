package hipopay_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows/truthtest"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/gatewaytest"
	"github.com/posagent/posagent/gateways/hipopay"
	"github.com/posagent/posagent/gateways/hipopay/hipopaysim"
	"github.com/posagent/posagent/gateways/sim"
)

// keySet is generated once per test binary: RSA key generation is the slow
// part of building a pair.
var keySet hipopaysim.KeySet

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hipopay-keys-")
	if err != nil {
		panic(err)
	}
	keySet, err = hipopaysim.GenerateKeySet(dir)
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// controller is the contract suite's handle on one simulator. Seed is the
// hook a query-only gateway needs (see the report on gatewaytest): orders
// come from a mini-program, so the suite cannot submit them.
type controller struct {
	srv       *hipopaysim.Server
	ts        *httptest.Server
	transport *http.Transport
}

func (c *controller) Script(outTradeNo string, b sim.Behaviour) {
	c.srv.Script().SetOrder(outTradeNo, b)
}

func (c *controller) Notification(outTradeNo string, f sim.Fault) (http.Header, []byte, error) {
	return c.srv.Notification(outTradeNo, f)
}

// The simulator is the gatewaytest.Truther the truth check drives.
func (c *controller) Answers(op sim.Op, method string) []sim.DocumentedAnswer {
	return c.srv.Answers(op, method)
}
func (c *controller) ScriptAnswer(no string, op sim.Op, a sim.Answer) { c.srv.ScriptAnswer(no, op, a) }
func (c *controller) Order(no string) (sim.Order, bool)               { return c.srv.Order(no) }

func (c *controller) Stop() {
	c.ts.Close()
	c.transport.CloseIdleConnections()
}

// Seed places an order as the customer's mini-program would and returns
// the reference the till would hold.
func (c *controller) Seed(outTradeNo string, amount pos.Money, b sim.Behaviour) (gateways.OrderRef, error) {
	o, err := c.srv.Seed(hipopaysim.SeedOrder{OutTradeNo: outTradeNo, Amount: amount, Behaviour: b})
	if err != nil {
		return gateways.OrderRef{}, err
	}
	return gateways.OrderRef{OutTradeNo: outTradeNo, TransactionID: o.TransactionID, Wallet: pos.WeChatPay, Amount: amount, SubmittedAt: o.CreatedAt}, nil
}

type pair struct {
	client *hipopay.Client
	ctl    *controller
}

func newPair(t *testing.T, notifyURL string) pair {
	t.Helper()
	return newPairWith(t, notifyURL, nil)
}

// newPairWith is newPair with the client's options adjusted.
func newPairWith(t *testing.T, notifyURL string, client func(*hipopay.Options)) pair {
	t.Helper()
	so := hipopaysim.Options{NotifyURL: notifyURL, Hold: 5 * time.Second}
	if err := keySet.Load(&so); err != nil {
		t.Fatal(err)
	}
	srv, err := hipopaysim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	o := clientOptions(keySet, ts.URL)
	o.PollInterval = 20 * time.Millisecond
	o.CallTimeout = 10 * time.Second
	if client != nil {
		client(&o)
	}
	tr := &http.Transport{}
	c, err := hipopay.New(o, gateways.Env{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	return pair{client: c, ctl: &controller{srv: srv, ts: ts, transport: tr}}
}

// The shared suite: for a gateway that takes no payments it checks the
// declared capabilities against the implemented interfaces; TestOperations
// below covers the same outcome classes on seeded orders.
func TestContract(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		New: func(t *testing.T, cfg gatewaytest.Config) (gateways.Gateway, gatewaytest.Controller) {
			p := newPair(t, cfg.NotifyURL)
			return p.client, p.ctl
		},
		Currency: "HKD",
	})
}

// TestTruth: orders placed in the mini-program (seeded), adopted from
// their notification or by the cashier's lookup, then refunded in part or
// in full, for every answer the simulator's reading of the spec documents
// on every call, with the truth going either way: a real till ends
// agreeing with the ledger.
func TestTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("the truth check runs a till per cell")
	}
	truthtest.Run(t, truthtest.Harness{
		Harness: gatewaytest.Harness{
			New: func(t *testing.T, cfg gatewaytest.Config) (gateways.Gateway, gatewaytest.Controller) {
				p := newPairWith(t, cfg.NotifyURL, func(o *hipopay.Options) {
					o.CallTimeout = time.Second
					o.RetryBackoff, o.RetryBackoffMax = 50*time.Millisecond, 200*time.Millisecond
				})
				return p.client, p.ctl
			},
			Currency: "HKD",
		},
		Bound:    30 * time.Second,
		Parallel: 4,
	})
}

func hkd(minor int64) pos.Money { return pos.Money{Minor: minor, Currency: "HKD"} }

func ctxFor(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

const (
	callTimeout     = 10 * time.Second
	noAnswerTimeout = 700 * time.Millisecond
)

var faults = []sim.Fault{sim.NoAnswer, sim.HTTP5xx, sim.Malformed, sim.BadSignature}

func seed(t *testing.T, p pair, minor int64, b sim.Behaviour) gateways.OrderRef {
	t.Helper()
	ref, err := p.ctl.Seed(gatewaytest.NewOutTradeNo(), hkd(minor), b)
	if err != nil {
		t.Fatal(err)
	}
	return ref
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

func wantKind(t *testing.T, what string, res gateways.Result, err error, kind pos.Kind) {
	t.Helper()
	if !pos.Match(kind, err) {
		t.Fatalf("%s = (%s, %v), want a %s error", what, res.Status, err, kind)
	}
	if res.Status == gateways.StatusSucceeded || res.Status == gateways.StatusFailed {
		t.Fatalf("%s returned %s beside the %s error", what, res.Status, kind)
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	query := func(t *testing.T, p pair, ref gateways.OrderRef, d time.Duration) (gateways.Result, error) {
		t.Helper()
		return p.client.Query(ctxFor(t, d), ref)
	}
	t.Run("Paid", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 100, sim.Behaviour{})
		res, err := query(t, p, ref, callTimeout)
		wantStatus(t, "Query", res, err, gateways.StatusSucceeded)
		if res.Amount != hkd(100) || res.TransactionID != ref.TransactionID || res.PaidAt.IsZero() || res.Wallet != pos.WeChatPay {
			t.Errorf("Query = %+v", res)
		}
		// By out_trade_id alone, as a till that never learnt payment_no asks.
		ref.TransactionID = ""
		res, err = query(t, p, ref, callTimeout)
		wantStatus(t, "Query by out_trade_id", res, err, gateways.StatusSucceeded)
	})
	t.Run("UserPayingThenPaid", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 191, sim.Behaviour{})
		res, err := query(t, p, ref, callTimeout)
		wantStatus(t, "first Query", res, err, gateways.StatusUserPaying)
		res, err = query(t, p, ref, callTimeout)
		wantStatus(t, "second Query", res, err, gateways.StatusSucceeded)
	})
	t.Run("ScriptedPayingQueries", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 100, sim.Behaviour{PayingQueries: 3})
		for range 3 {
			res, err := query(t, p, ref, callTimeout)
			wantStatus(t, "Query", res, err, gateways.StatusUserPaying)
		}
		res, err := query(t, p, ref, callTimeout)
		wantStatus(t, "last Query", res, err, gateways.StatusSucceeded)
	})
	t.Run("Failed", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 193, sim.Behaviour{})
		res, err := query(t, p, ref, callTimeout)
		wantStatus(t, "Query", res, err, gateways.StatusFailed)
	})
	t.Run("AmountDiffers", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 100, sim.Behaviour{})
		ref.Amount = hkd(200)
		res, err := query(t, p, ref, callTimeout)
		wantStatus(t, "Query of an order of another amount", res, err, gateways.StatusUnknown)
	})
	t.Run("UnknownOrder", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		res, err := query(t, p, gateways.OrderRef{OutTradeNo: gatewaytest.NewOutTradeNo()}, callTimeout)
		wantKind(t, "Query of an unknown order", res, err, pos.NotFound)
	})
	for _, f := range faults {
		t.Run("Fault/"+string(f), func(t *testing.T) {
			t.Parallel()
			p := newPair(t, "")
			ref := seed(t, p, 100, sim.Behaviour{Fault: f, FaultOn: []sim.Op{sim.OpQuery}, Times: 1})
			d := callTimeout
			if f == sim.NoAnswer {
				d = noAnswerTimeout
			}
			res, err := query(t, p, ref, d)
			wantKind(t, "Query", res, err, pos.Unknown)
			res, err = query(t, p, ref, callTimeout)
			wantStatus(t, "Query after a one-off fault", res, err, gateways.StatusSucceeded)
		})
	}
	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 100, sim.Behaviour{})
		p.ctl.Stop()
		res, err := query(t, p, ref, callTimeout)
		wantKind(t, "Query", res, err, pos.Unavailable)
	})
}

func TestRefund(t *testing.T) {
	t.Parallel()
	refund := func(t *testing.T, p pair, ref gateways.OrderRef, no string, minor int64, d time.Duration) (gateways.Result, error) {
		t.Helper()
		return p.client.Refund(ctxFor(t, d), gateways.RefundRequest{Order: ref, OutRefundNo: no, Amount: hkd(minor), Reason: "test"})
	}
	t.Run("Full", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 100, sim.Behaviour{})
		rno := gatewaytest.NewOutTradeNo()
		res, err := refund(t, p, ref, rno, 100, callTimeout)
		wantStatus(t, "Refund", res, err, gateways.StatusSucceeded)
		if res.RefundID == "" || res.Amount != hkd(100) {
			t.Errorf("Refund = %+v", res)
		}
		again, err := refund(t, p, ref, rno, 100, callTimeout)
		wantStatus(t, "Refund repeated", again, err, gateways.StatusSucceeded)
		if again.RefundID != res.RefundID {
			t.Errorf("repeated refund has RefundID %q, first %q: refunded twice?", again.RefundID, res.RefundID)
		}
		q, err := p.client.QueryRefund(ctxFor(t, callTimeout), gateways.RefundRequest{Order: ref, OutRefundNo: rno, Amount: hkd(100)})
		wantStatus(t, "QueryRefund", q, err, gateways.StatusSucceeded)
		if q.RefundID != res.RefundID {
			t.Errorf("QueryRefund RefundID %q, want %q", q.RefundID, res.RefundID)
		}
		over, err := refund(t, p, ref, gatewaytest.NewOutTradeNo(), 1, callTimeout)
		wantStatus(t, "Refund beyond the original", over, err, gateways.StatusFailed)
		if o, _ := p.ctl.srv.Ledger().Get(ref.OutTradeNo); o.RefundedAmount() != 100 {
			t.Errorf("ledger refunded %d, want 100", o.RefundedAmount())
		}
	})
	t.Run("Partial", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 100, sim.Behaviour{})
		for _, minor := range []int64{30, 70} {
			res, err := refund(t, p, ref, gatewaytest.NewOutTradeNo(), minor, callTimeout)
			wantStatus(t, "Refund", res, err, gateways.StatusSucceeded)
		}
		res, err := refund(t, p, ref, gatewaytest.NewOutTradeNo(), 1, callTimeout)
		wantStatus(t, "Refund beyond the sum", res, err, gateways.StatusFailed)
	})
	t.Run("OverRefund", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 100, sim.Behaviour{})
		res, err := refund(t, p, ref, gatewaytest.NewOutTradeNo(), 101, callTimeout)
		wantStatus(t, "Refund above the original (refused before sending)", res, err, gateways.StatusFailed)
		// Without the original amount the platform refuses it.
		ref.Amount = pos.Money{}
		res, err = refund(t, p, ref, gatewaytest.NewOutTradeNo(), 101, callTimeout)
		wantStatus(t, "Refund above the original (refused by the platform)", res, err, gateways.StatusFailed)
		if o, _ := p.ctl.srv.Ledger().Get(ref.OutTradeNo); o.RefundedAmount() != 0 {
			t.Errorf("ledger refunded %d", o.RefundedAmount())
		}
	})
	t.Run("Unpaid", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 192, sim.Behaviour{})
		res, err := refund(t, p, ref, gatewaytest.NewOutTradeNo(), 100, callTimeout)
		wantStatus(t, "Refund of an unpaid order", res, err, gateways.StatusFailed)
	})
	t.Run("LooksUpPaymentNo", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 100, sim.Behaviour{})
		ref.TransactionID = ""
		res, err := refund(t, p, ref, gatewaytest.NewOutTradeNo(), 40, callTimeout)
		wantStatus(t, "Refund by out_trade_id", res, err, gateways.StatusSucceeded)
		res, err = refund(t, p, gateways.OrderRef{OutTradeNo: gatewaytest.NewOutTradeNo()}, gatewaytest.NewOutTradeNo(), 40, callTimeout)
		wantStatus(t, "Refund of an unknown order", res, err, gateways.StatusFailed)
	})
	t.Run("QueryUnknownRefund", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 100, sim.Behaviour{})
		res, err := p.client.QueryRefund(ctxFor(t, callTimeout), gateways.RefundRequest{Order: ref, OutRefundNo: gatewaytest.NewOutTradeNo(), Amount: hkd(10)})
		wantKind(t, "QueryRefund of an unknown refund", res, err, pos.NotFound)
	})
	for _, f := range faults {
		t.Run("Fault/"+string(f), func(t *testing.T) {
			t.Parallel()
			p := newPair(t, "")
			ref := seed(t, p, 100, sim.Behaviour{Fault: f, FaultOn: []sim.Op{sim.OpRefund}, Times: 1})
			d := callTimeout
			if f == sim.NoAnswer {
				d = noAnswerTimeout
			}
			rno := gatewaytest.NewOutTradeNo()
			res, err := refund(t, p, ref, rno, 50, d)
			wantKind(t, "Refund", res, err, pos.Unknown)
			first, err := refund(t, p, ref, rno, 50, callTimeout)
			wantStatus(t, "Refund retried", first, err, gateways.StatusSucceeded)
			rest, err := refund(t, p, ref, gatewaytest.NewOutTradeNo(), 50, callTimeout)
			wantStatus(t, "Refund of the rest", rest, err, gateways.StatusSucceeded)
		})
		t.Run("QueryRefundFault/"+string(f), func(t *testing.T) {
			t.Parallel()
			p := newPair(t, "")
			ref := seed(t, p, 100, sim.Behaviour{})
			rno := gatewaytest.NewOutTradeNo()
			if res, err := refund(t, p, ref, rno, 50, callTimeout); err != nil || res.Status != gateways.StatusSucceeded {
				t.Fatalf("Refund = %+v, %v", res, err)
			}
			p.ctl.Script(ref.OutTradeNo, sim.Behaviour{Fault: f, FaultOn: []sim.Op{sim.OpQueryRefund}, Times: 1})
			d := callTimeout
			if f == sim.NoAnswer {
				d = noAnswerTimeout
			}
			req := gateways.RefundRequest{Order: ref, OutRefundNo: rno, Amount: hkd(50)}
			res, err := p.client.QueryRefund(ctxFor(t, d), req)
			wantKind(t, "QueryRefund", res, err, pos.Unknown)
			res, err = p.client.QueryRefund(ctxFor(t, callTimeout), req)
			wantStatus(t, "QueryRefund after a one-off fault", res, err, gateways.StatusSucceeded)
		})
	}
	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 100, sim.Behaviour{})
		p.ctl.Stop()
		res, err := refund(t, p, ref, gatewaytest.NewOutTradeNo(), 50, callTimeout)
		wantKind(t, "Refund", res, err, pos.Unavailable)
	})
}

// receiver is the daemon's notification endpoint as the tests play it.
type receiver struct {
	mu   sync.Mutex
	n    gateways.Notifier
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

// listening builds a pair whose simulator notifies a receiver that
// verifies with the pair's client.
func listening(t *testing.T) (*receiver, pair) {
	rcv := newReceiver(t)
	p := newPair(t, rcv.srv.URL)
	rcv.mu.Lock()
	rcv.n = p.client
	rcv.mu.Unlock()
	return rcv, p
}

func (r *receiver) wait(n int) ([]gateways.Notification, []error) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		r.mu.Lock()
		got, errs := append([]gateways.Notification(nil), r.got...), append([]error(nil), r.errs...)
		r.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got, errs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNotify(t *testing.T) {
	t.Parallel()
	t.Run("Verified", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 100, sim.Behaviour{})
		h, body, err := p.ctl.Notification(ref.OutTradeNo, sim.FaultNone)
		if err != nil {
			t.Fatal(err)
		}
		n, err := p.client.ParseNotification(h, body)
		if err != nil {
			t.Fatal(err)
		}
		if n.ID == "" || n.OutTradeNo != ref.OutTradeNo || n.Result.Status != gateways.StatusSucceeded ||
			n.Result.Amount != hkd(100) || n.Result.TransactionID != ref.TransactionID || n.Result.PaidAt.IsZero() {
			t.Fatalf("notification = %+v", n)
		}
		h2, body2, _ := p.ctl.Notification(ref.OutTradeNo, sim.FaultNone)
		if again, err := p.client.ParseNotification(h2, body2); err != nil || again.ID != n.ID {
			t.Errorf("resent notification ID %q (%v), first %q", again.ID, err, n.ID)
		}
		other := seed(t, p, 200, sim.Behaviour{})
		h3, body3, _ := p.ctl.Notification(other.OutTradeNo, sim.FaultNone)
		if n3, err := p.client.ParseNotification(h3, body3); err != nil || n3.ID == n.ID {
			t.Errorf("two orders' notifications share ID %q (%v)", n.ID, err)
		}
		// The signature covers the Timestamp header and every field.
		h.Set(hipopay.HeaderTimestamp, "1")
		if _, err := p.client.ParseNotification(h, body); !pos.Match(pos.Unknown, err) {
			t.Errorf("notification with another Timestamp: %v", err)
		}
	})
	t.Run("BadSignature", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		ref := seed(t, p, 100, sim.Behaviour{})
		h, body, err := p.ctl.Notification(ref.OutTradeNo, sim.BadSignature)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := p.client.ParseNotification(h, body); !pos.Match(pos.Unknown, err) {
			t.Fatalf("forged notification = %+v, %v", n, err)
		}
	})
	t.Run("Garbage", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		for _, body := range []string{"", "success", "{", `{"is_success":true}`, "<xml></xml>", "a=1&a=2"} {
			if n, err := p.client.ParseNotification(http.Header{}, []byte(body)); err == nil {
				t.Errorf("ParseNotification(%q) accepted: %+v", body, n)
			}
		}
	})
	t.Run("Ack", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		if _, ok := p.client.NotificationAck(true); string(ok) != "success" {
			t.Errorf("ack %q, the spec waits for 'success'", ok)
		}
		if _, no := p.client.NotificationAck(false); string(no) == "success" {
			t.Error("a refusal acknowledges")
		}
	})
	delivered := func(t *testing.T, minor int64, b sim.Behaviour, want int, queries int) {
		t.Parallel()
		rcv, p := listening(t)
		ref := seed(t, p, minor, b)
		if b.Fault == sim.NotifyBeforeResponse {
			rcv.mu.Lock()
			n := len(rcv.got)
			rcv.mu.Unlock()
			if n == 0 {
				t.Fatal("no notification before Seed returned")
			}
		}
		for range queries {
			if _, err := p.client.Query(ctxFor(t, callTimeout), ref); err != nil {
				t.Fatal(err)
			}
		}
		got, errs := rcv.wait(want)
		if len(errs) > 0 {
			t.Fatalf("notifications refused: %v", errs)
		}
		if len(got) < want {
			t.Fatalf("got %d notifications, want %d", len(got), want)
		}
		for _, n := range got {
			if n.ID != got[0].ID || n.OutTradeNo != ref.OutTradeNo || n.Result.Status != gateways.StatusSucceeded {
				t.Errorf("notification %+v, first ID %q", n, got[0].ID)
			}
		}
	}
	t.Run("Delivered/Paid", func(t *testing.T) { delivered(t, 100, sim.Behaviour{}, 1, 0) })
	t.Run("Delivered/PaidOnQuery", func(t *testing.T) { delivered(t, 191, sim.Behaviour{}, 1, 2) })
	t.Run("Delivered/Duplicate", func(t *testing.T) {
		delivered(t, 100, sim.Behaviour{Fault: sim.NotifyDuplicate, FaultOn: []sim.Op{sim.OpSubmit}}, 2, 0)
	})
	t.Run("Delivered/BeforeSeedReturns", func(t *testing.T) {
		delivered(t, 100, sim.Behaviour{Fault: sim.NotifyBeforeResponse, FaultOn: []sim.Op{sim.OpSubmit}}, 1, 0)
	})
}

func TestForexRate(t *testing.T) {
	t.Parallel()
	p := newPair(t, "")
	r, err := p.client.ForexRate(ctxFor(t, callTimeout), "USD")
	if err != nil {
		t.Fatal(err)
	}
	if r.Currency != "USD" || r.Text != "0.1490046489450470854690666349" || r.Rate.FloatString(28) != r.Text {
		t.Errorf("ForexRate = %+v (%s)", r, r.Rate.FloatString(28))
	}
	if _, err := p.client.ForexRate(ctxFor(t, callTimeout), "SGD"); !pos.Match(pos.Invalid, err) {
		t.Errorf("ForexRate(SGD) = %v, want Invalid (CURRENCY_NOT_SUPPORT)", err)
	}
}

func TestDownloadBill(t *testing.T) {
	t.Parallel()
	p := newPair(t, "")
	paid := seed(t, p, 1000, sim.Behaviour{})
	seed(t, p, 193, sim.Behaviour{}) // failed: not in the report
	res, err := p.client.Refund(ctxFor(t, callTimeout), gateways.RefundRequest{Order: paid, OutRefundNo: "RF1", Amount: hkd(250)})
	if err != nil || res.Status != gateways.StatusSucceeded {
		t.Fatalf("Refund = %+v, %v", res, err)
	}
	bill, err := p.client.DownloadBill(ctxFor(t, callTimeout), time.Now().In(hipopay.PlatformZone))
	if err != nil {
		t.Fatal(err)
	}
	if len(bill.Records) != 2 {
		t.Fatalf("bill has %d records, want 2: %+v", len(bill.Records), bill)
	}
	c, r := bill.Records[0], bill.Records[1]
	if c.PaymentNo != paid.TransactionID || c.OutTradeID != paid.OutTradeNo || c.Amount != hkd(1000) ||
		c.Fee != hkd(10) || c.Credit != hkd(990) || c.Balance != hkd(990) {
		t.Errorf("collection = %+v", c)
	}
	if r.Type != "Refund" || r.RefundOrder != paid.TransactionID || r.RefundAmount != hkd(250) ||
		r.Debit != hkd(-250) || r.Balance != hkd(740) || r.PaymentNo != res.RefundID {
		t.Errorf("refund = %+v", r)
	}
	empty, err := p.client.DownloadBill(ctxFor(t, callTimeout), time.Now().AddDate(0, 0, -7))
	if err != nil || len(empty.Records) != 0 {
		t.Errorf("a day without movements = %+v, %v", empty, err)
	}
}

// clientOptions are adapter options for a simulator at endpoint with the
// key set k: the simulator's default merchant, plain http allowed
// (Simulated) and fast timings (a query a second, 5 s per call). The
// pairing lives here, not in the simulator, which knows nothing of the
// adapter.
func clientOptions(k hipopaysim.KeySet, endpoint string) hipopay.Options {
	return hipopay.Options{
		Endpoint:        endpoint,
		MerchantNO:      hipopaysim.DefaultMerchantNO,
		MerchantKeyFile: k.MerchantKeyFile,
		PlatformKeyFile: k.PlatformPublicKeyFile,
		PollInterval:    time.Second,
		CallTimeout:     5 * time.Second,
		RetryBackoff:    time.Second,
		RetryBackoffMax: 10 * time.Second,
		Simulated:       true,
	}
}

// The simulator gives the answers scripted on the calls the truth check
// does not drive (the exchange rate, the bill, the notification) and keeps
// its bill to what moved money, whatever it answered.
func TestScriptedAnswers(t *testing.T) {
	t.Parallel()
	t.Run("Forex", func(t *testing.T) {
		t.Parallel()
		p := newPairWith(t, "", func(o *hipopay.Options) { o.CallTimeout = 500 * time.Millisecond })
		p.ctl.ScriptAnswer("USD", hipopaysim.OpForex, sim.Answer{Code: "ILLEGAL_SECURITY_PROFILE"})
		p.ctl.ScriptAnswer("USD", hipopaysim.OpForex, sim.Answer{Code: sim.CodeNoAnswer})
		if _, err := p.client.ForexRate(ctxFor(t, callTimeout), "USD"); err == nil {
			t.Error("ForexRate answered ILLEGAL_SECURITY_PROFILE: no error")
		}
		if _, err := p.client.ForexRate(ctxFor(t, callTimeout), "USD"); !pos.Match(pos.Unknown, err) {
			t.Errorf("ForexRate without an answer = %v, want Unknown", err)
		}
		if r, err := p.client.ForexRate(ctxFor(t, callTimeout), "USD"); err != nil || r.Currency != "USD" {
			t.Errorf("ForexRate answered honestly = %+v, %v", r, err)
		}
	})
	t.Run("BillKeepsToTheTruth", func(t *testing.T) {
		t.Parallel()
		p := newPair(t, "")
		paid := seed(t, p, 1000, sim.Behaviour{})
		// "Settled Balance not enough", and executed all the same; then a
		// refund answered SUCCESS that the platform never executed.
		p.ctl.ScriptAnswer(paid.OutTradeNo, sim.OpRefund, sim.Answer{Code: "FAIL/0099", Truth: sim.TruthDone})
		p.ctl.ScriptAnswer(paid.OutTradeNo, sim.OpRefund, sim.Answer{Code: "PROCESSING", Truth: sim.TruthNotDone})
		for i, want := range []gateways.Status{gateways.StatusUnknown, gateways.StatusUserPaying} {
			res, err := p.client.Refund(ctxFor(t, callTimeout), gateways.RefundRequest{Order: paid, OutRefundNo: fmt.Sprintf("RF%d", i), Amount: hkd(100)})
			wantStatus(t, "scripted refund", res, err, want)
		}
		for i, want := range []gateways.Status{gateways.StatusSucceeded, gateways.StatusFailed} {
			q, err := p.client.QueryRefund(ctxFor(t, callTimeout), gateways.RefundRequest{Order: paid, OutRefundNo: fmt.Sprintf("RF%d", i), Amount: hkd(100)})
			wantStatus(t, "QueryRefund after the truth moved", q, err, want)
		}
		day := time.Now().In(hipopay.PlatformZone)
		p.ctl.ScriptAnswer(day.Format("20060102"), hipopaysim.OpBill, sim.Answer{Code: sim.CodeNoAnswer})
		if _, err := p.client.DownloadBill(ctxFor(t, 2*time.Second), day); err == nil {
			t.Error("DownloadBill without an answer: no error")
		}
		bill, err := p.client.DownloadBill(ctxFor(t, callTimeout), day)
		if err != nil {
			t.Fatal(err)
		}
		if len(bill.Records) != 2 || bill.Records[1].Type != "Refund" || bill.Records[1].RefundAmount != hkd(100) {
			t.Fatalf("bill = %+v, want the collection and the one executed refund", bill.Records)
		}
	})
	t.Run("NotificationLost", func(t *testing.T) {
		t.Parallel()
		rcv, p := listening(t)
		early := sim.Behaviour{Fault: sim.NotifyBeforeResponse, FaultOn: []sim.Op{sim.OpSubmit}}
		lost := gatewaytest.NewOutTradeNo()
		p.ctl.ScriptAnswer(lost, sim.OpNotify, sim.Answer{Code: sim.CodeNoAnswer})
		if _, err := p.ctl.Seed(lost, hkd(100), early); err != nil {
			t.Fatal(err)
		}
		sent, err := p.ctl.Seed(gatewaytest.NewOutTradeNo(), hkd(100), early)
		if err != nil {
			t.Fatal(err)
		}
		// Both were delivered (or not) before Seed returned.
		rcv.mu.Lock()
		got := append([]gateways.Notification(nil), rcv.got...)
		rcv.mu.Unlock()
		if len(got) != 1 || got[0].OutTradeNo != sent.OutTradeNo {
			t.Fatalf("notifications %+v, want only %s's", got, sent.OutTradeNo)
		}
	})
}
