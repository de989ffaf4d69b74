package sim

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// Op names the request a simulator is answering, so a Behaviour can aim a
// fault at one of them.
type Op string

const (
	OpSubmit      Op = "submit" // micropay or merchant QR order creation
	OpQuery       Op = "query"
	OpReverse     Op = "reverse"
	OpClose       Op = "close"
	OpRefund      Op = "refund"
	OpQueryRefund Op = "query_refund"
	// OpVoid is a void of a paid order (the sale cancelled, money back in
	// full: Allinpay *_CANCEL of a successful same-day order), as opposed
	// to OpReverse, the till's way out of an order whose outcome it does
	// not know. On the wire they may be one command; a simulator takes an
	// OpVoid answer when the order it is asked to cancel is paid.
	OpVoid Op = "void"
	// OpNotify is the payment notification the acquirer posts: a scripted
	// sim.CodeNoAnswer on it means the notification never arrives.
	OpNotify Op = "notify"
)

// Fault is a misbehaviour of the simulated acquirer or of the network.
type Fault string

const (
	// FaultNone: answer normally.
	FaultNone Fault = ""
	// NoAnswer: hold the request until the client gives up (or Hold
	// passes), then drop the connection without an answer. The order is
	// still processed: the client must not know whether it was.
	NoAnswer Fault = "no_answer"
	// HTTP5xx: answer 502 with an HTML error page, after processing.
	HTTP5xx Fault = "http_5xx"
	// Malformed: answer 200 with a body that is not the wire format.
	Malformed Fault = "malformed"
	// BadSignature: a well-formed answer whose signature is wrong.
	BadSignature Fault = "bad_signature"
	// MissingSignature: a well-formed answer with no signature (an empty
	// one where the wire format has the field in a fixed place).
	MissingSignature Fault = "missing_signature"
	// Redirect: answer 307 Temporary Redirect to another URL (RedirectURL),
	// after processing. A client must not follow it (following it re-sends
	// the payment code to another host): the call is pos.Unknown, and the
	// other URL never sees a request (RedirectHits).
	Redirect Fault = "redirect"
	// NotifyDuplicate: send the payment notification twice.
	NotifyDuplicate Fault = "notify_duplicate"
	// NotifyBeforeResponse: send the payment notification (and wait for
	// its acknowledgement) before answering the submit.
	NotifyBeforeResponse Fault = "notify_before_response"
)

// Transport reports whether the fault is answered by ServeFault (NoAnswer,
// HTTP5xx, Malformed, Redirect) rather than by the wire simulator.
func (f Fault) Transport() bool {
	return f == NoAnswer || f == HTTP5xx || f == Malformed || f == Redirect
}

// Behaviour scripts what the simulated acquirer does with one order. The
// zero value means "as the magic amount says".
type Behaviour struct {
	// Scenario overrides the magic-amount scenario; empty picks one from
	// the fields below, else from the amount.
	Scenario Scenario
	// PayingQueries > 0: USERPAYING for that many queries, then paid.
	PayingQueries int
	// DeclineCode and DeclineMsg: decline with this code and message.
	DeclineCode, DeclineMsg string
	// Fault is applied to the operations in FaultOn (every operation on the
	// order when FaultOn is empty), Times times (always when Times is 0).
	Fault   Fault
	FaultOn []Op
	Times   int
}

// BehaviourFor is the magic-amount behaviour of an amount in minor units:
// ..91 USERPAYING then paid on the 2nd query; ..92 USERPAYING until
// reversed; ..93 declined; ..94 the submit gets no answer but the order is
// paid; ..95 the submit gets no answer and the order never completes; any
// other amount is paid at once.
func BehaviourFor(minor int64) Behaviour {
	b := Behaviour{Scenario: ScenarioFor(minor)}
	if b.Scenario == NoAnswerPaid || b.Scenario == NoAnswerNeverPaid {
		b.Fault, b.FaultOn = NoAnswer, []Op{OpSubmit}
	}
	return b
}

// Fill copies the behaviour's order-shaping fields into a new order before
// Ledger.NewOrder.
func (b Behaviour) Fill(o *Order) {
	o.Scenario = b.Scenario
	o.PayingQueries = b.PayingQueries
	o.DeclineCode = b.DeclineCode
	o.DeclineMsg = b.DeclineMsg
}

// FaultFor reports the fault aimed at op, ignoring Times.
func (b Behaviour) FaultFor(op Op) Fault {
	if b.Fault == FaultNone || (len(b.FaultOn) > 0 && !slices.Contains(b.FaultOn, op)) {
		return FaultNone
	}
	return b.Fault
}

// Script is a registry of behaviours keyed by out_trade_no or by amount; a
// scripted behaviour replaces the magic-amount one entirely (a script with
// an empty Scenario still takes its scenario, but not its fault, from the
// amount). It is safe for concurrent use; the zero value is ready.
type Script struct {
	mu       sync.Mutex
	byOrder  map[string]*Behaviour
	byAmount map[int64]*Behaviour
}

// SetOrder scripts the order with this out_trade_no.
func (s *Script) SetOrder(outTradeNo string, b Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byOrder == nil {
		s.byOrder = map[string]*Behaviour{}
	}
	s.byOrder[outTradeNo] = &b
}

// SetAmount scripts every order of this amount in minor units that has no
// script of its own.
func (s *Script) SetAmount(minor int64, b Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byAmount == nil {
		s.byAmount = map[int64]*Behaviour{}
	}
	s.byAmount[minor] = &b
}

// Reset removes every script.
func (s *Script) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byOrder, s.byAmount = nil, nil
}

func (s *Script) lookupLocked(outTradeNo string, minor int64) (*Behaviour, bool) {
	if b, ok := s.byOrder[outTradeNo]; ok {
		return b, true
	}
	if b, ok := s.byAmount[minor]; ok {
		return b, true
	}
	return nil, false
}

// Behaviour resolves the behaviour of an order: its own script, else its
// amount's script, else the magic amount. minor is ignored for the script
// lookup when negative (operations that do not carry the amount).
func (s *Script) Behaviour(outTradeNo string, minor int64) Behaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.lookupLocked(outTradeNo, minor); ok {
		c := *b
		c.FaultOn = slices.Clone(b.FaultOn)
		if c.Scenario == "" && c.PayingQueries == 0 && c.DeclineCode == "" && c.DeclineMsg == "" && minor >= 0 {
			c.Scenario = ScenarioFor(minor)
		}
		return c
	}
	if minor < 0 {
		return Behaviour{}
	}
	return BehaviourFor(minor)
}

// TakeFault returns the fault to apply to op on this order and counts it
// against the script's Times. Pass minor < 0 when the request does not
// carry the amount; then the order's own script (or the amount recorded in
// the ledger, passed by the caller) decides.
func (s *Script) TakeFault(outTradeNo string, minor int64, op Op) Fault {
	s.mu.Lock()
	b, ok := s.lookupLocked(outTradeNo, minor)
	if ok {
		defer s.mu.Unlock()
		f := b.FaultFor(op)
		if f == FaultNone {
			return FaultNone
		}
		if b.Times > 0 {
			b.Times--
			if b.Times == 0 {
				b.Fault = FaultNone
			}
		}
		return f
	}
	s.mu.Unlock()
	if minor < 0 {
		return FaultNone
	}
	return BehaviourFor(minor).FaultFor(op)
}

// DefaultHold bounds how long a NoAnswer fault holds a request when the
// client never gives up.
const DefaultHold = 2 * time.Minute

// ServeFault answers a transport fault (NoAnswer, HTTP5xx, Malformed,
// Redirect) and
// reports whether it did; the caller then writes nothing. Wire simulators
// call it after processing the request, so the order exists whatever the
// client sees. hold bounds NoAnswer (DefaultHold when zero).
func ServeFault(w http.ResponseWriter, r *http.Request, f Fault, hold time.Duration) bool {
	switch f {
	case NoAnswer:
		if hold <= 0 {
			hold = DefaultHold
		}
		t := time.NewTimer(hold)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		Drop(w)
		return true
	case HTTP5xx:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>\n"))
		return true
	case Malformed:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{\"CommandID\":35075,\"Body\":{\"STATUS\":\"1\"  <!-- truncated"))
		return true
	case Redirect:
		target, err := RedirectURL()
		if err != nil {
			// No trap to redirect to: an answer the client cannot trust
			// either way.
			return ServeFault(w, r, HTTP5xx, hold)
		}
		http.Redirect(w, r, target+r.URL.Path, http.StatusTemporaryRedirect)
		return true
	}
	return false
}

// Drop closes the connection without an answer.
func Drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// Not hijackable (HTTP/2, a recorder): the server aborts the stream.
	panic(http.ErrAbortHandler)
}
