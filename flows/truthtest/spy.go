package truthtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/gatewaytest"
	"github.com/posagent/posagent/gateways/sim"
)

// spy wraps the gateway the runner uses: on the k-th call of each
// scripted operation it scripts the k-th answer planned for it on the
// order number the runner drew (which the check cannot know before the
// runner draws it), and it keeps a log of every call and its result for
// the failure report.
type spy struct {
	g       gateways.Gateway
	tr      gatewaytest.Truther
	scripts map[sim.Op][]sim.Answer // by call: [0] on the first call, ...

	hooks Hooks // Observe's; zero for the truth check's own spy

	mu    sync.Mutex
	calls map[sim.Op]int
	lines []string
}

func (s *spy) before(no string, op sim.Op) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	if k := s.calls[op] - 1; k < len(s.scripts[op]) {
		if a := s.scripts[op][k]; a != (sim.Answer{}) {
			s.tr.ScriptAnswer(no, op, a)
			s.lines = append(s.lines, fmt.Sprintf("  scripted %s #%d on %s: code %q truth %q", op, k+1, no, a.Code, a.Truth))
		}
	}
}

func (s *spy) after(op sim.Op, started time.Time, res gateways.Result, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := fmt.Sprintf("  %s %s (%s): status=%s code=%q reason=%q", started.Format("15:04:05.000"), op,
		time.Since(started).Round(time.Millisecond), res.Status, res.Code, res.Reason)
	if err != nil {
		line += fmt.Sprintf(" err=%v (kind %s)", err, pos.KindOf(err))
	}
	if res.Alert != "" {
		line += " alert=" + res.Alert
	}
	if res.Mismatch != "" {
		line += " mismatch=" + res.Mismatch
	}
	s.lines = append(s.lines, line)
}

func (s *spy) count(op sim.Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

func (s *spy) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "gateway calls:\n" + strings.Join(s.lines, "\n")
}

func (s *spy) call(no string, op sim.Op, f func() (gateways.Result, error)) (gateways.Result, error) {
	s.before(no, op)
	if s.hooks.Before != nil {
		s.hooks.Before(no, op)
	}
	started := time.Now()
	res, err := f()
	s.after(op, started, res, err)
	if s.hooks.After != nil {
		s.hooks.After(no, op, res, err)
	}
	return res, err
}

// Hooks see every call of a gateway wrapped by Observe, by the operation
// the simulators name it (a micropay and a QR create are both
// sim.OpSubmit); outTradeNo is the payment's order number, also for
// refund calls.
type Hooks struct {
	// Before runs just before the call goes to the gateway.
	Before func(outTradeNo string, op sim.Op)
	// After runs once the gateway answered, before the runner sees it.
	After func(outTradeNo string, op sim.Op, res gateways.Result, err error)
}

// Observe wraps g for a runner so that h sees every call: the fault
// matrix (flows/faultmatrix) aims its faults with it. The wrapper has
// g's method set: a Reverser or Closer only when g is one.
func Observe(g gateways.Gateway, h Hooks) gateways.Gateway {
	return (&spy{g: g, calls: map[sim.Op]int{}, hooks: h}).wrapped()
}

func (s *spy) Kind() string                        { return s.g.Kind() }
func (s *spy) Capabilities() gateways.Capabilities { return s.g.Capabilities() }
func (s *spy) Timing() gateways.Timing             { return s.g.Timing() }

func (s *spy) Query(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return s.call(ref.OutTradeNo, sim.OpQuery, func() (gateways.Result, error) { return s.g.Query(ctx, ref) })
}

// The capabilities guard these (the runner checks them before calling), so
// a missing implementation is never reached; it is an error all the same.
func missing(op string) error {
	return pos.Errorf(pos.Internal, "truthtest", "the gateway does not implement %s", op)
}

func (s *spy) Micropay(ctx context.Context, req gateways.MicropayRequest) (gateways.Result, error) {
	return s.call(req.OutTradeNo, sim.OpSubmit, func() (gateways.Result, error) {
		m, ok := s.g.(gateways.Micropayer)
		if !ok {
			return gateways.Result{}, missing("Micropay")
		}
		return m.Micropay(ctx, req)
	})
}

func (s *spy) CreateQR(ctx context.Context, req gateways.QRRequest) (gateways.Result, error) {
	return s.call(req.OutTradeNo, sim.OpSubmit, func() (gateways.Result, error) {
		q, ok := s.g.(gateways.QRCreator)
		if !ok {
			return gateways.Result{}, missing("CreateQR")
		}
		return q.CreateQR(ctx, req)
	})
}

func (s *spy) Refund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	return s.call(req.Order.OutTradeNo, sim.OpRefund, func() (gateways.Result, error) {
		r, ok := s.g.(gateways.Refunder)
		if !ok {
			return gateways.Result{}, missing("Refund")
		}
		return r.Refund(ctx, req)
	})
}

func (s *spy) QueryRefund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	return s.call(req.Order.OutTradeNo, sim.OpQueryRefund, func() (gateways.Result, error) {
		r, ok := s.g.(gateways.Refunder)
		if !ok {
			return gateways.Result{}, missing("QueryRefund")
		}
		return r.QueryRefund(ctx, req)
	})
}

// The spy is a Voider whatever it wraps: Voidable is false for a gateway
// that is not one, so the till never voids through it.
func (s *spy) Voidable(ref gateways.OrderRef, now time.Time) bool {
	v, ok := s.g.(gateways.Voider)
	return ok && v.Voidable(ref, now)
}

func (s *spy) Void(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	return s.call(req.Order.OutTradeNo, sim.OpVoid, func() (gateways.Result, error) {
		v, ok := s.g.(gateways.Voider)
		if !ok {
			return gateways.Result{}, missing("Void")
		}
		return v.Void(ctx, req)
	})
}

// QueryVoid reads the original order (Allinpay's TRANS_QUERY of it): a
// query on the wire.
func (s *spy) QueryVoid(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	return s.call(req.Order.OutTradeNo, sim.OpQuery, func() (gateways.Result, error) {
		v, ok := s.g.(gateways.Voider)
		if !ok {
			return gateways.Result{}, missing("QueryVoid")
		}
		return v.QueryVoid(ctx, req)
	})
}

func (s *spy) reverse(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return s.call(ref.OutTradeNo, sim.OpReverse, func() (gateways.Result, error) {
		return s.g.(gateways.Reverser).Reverse(ctx, ref)
	})
}

func (s *spy) close(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return s.call(ref.OutTradeNo, sim.OpClose, func() (gateways.Result, error) {
		return s.g.(gateways.Closer).Close(ctx, ref)
	})
}

// The runner chooses between reverse and close by what the gateway
// implements, so the wrapper implements exactly what the gateway does.
type (
	spyReverser       struct{ *spy }
	spyCloser         struct{ *spy }
	spyReverserCloser struct{ *spy }
)

func (s spyReverser) Reverse(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return s.reverse(ctx, ref)
}
func (s spyCloser) Close(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return s.close(ctx, ref)
}
func (s spyReverserCloser) Reverse(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return s.reverse(ctx, ref)
}
func (s spyReverserCloser) Close(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return s.close(ctx, ref)
}

// wrapped returns the spy as the gateway the runner sees.
func (s *spy) wrapped() gateways.Gateway {
	_, rv := s.g.(gateways.Reverser)
	_, cl := s.g.(gateways.Closer)
	switch {
	case rv && cl:
		return spyReverserCloser{s}
	case rv:
		return spyReverser{s}
	case cl:
		return spyCloser{s}
	}
	return s
}

var (
	_ gateways.Micropayer = (*spy)(nil)
	_ gateways.QRCreator  = (*spy)(nil)
	_ gateways.Refunder   = (*spy)(nil)
	_ gateways.Voider     = (*spy)(nil)
	_ gateways.Reverser   = spyReverser{}
	_ gateways.Closer     = spyCloser{}
	_ gateways.Reverser   = spyReverserCloser{}
	_ gateways.Closer     = spyReverserCloser{}
)
