// Package flows holds posagent's payment state machines and the runner that
// drives them. The decisions are pure: Decide takes a payment, what just
// happened and the time, and returns the next state and the outbox
// operations owed; it does no I/O, so every path is tested without a
// gateway, a database or a sleep. The Runner does the I/O around it, always
// journaling a decision before acting on it.
package flows

import (
	"errors"
	"fmt"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/store"
)

// InputKind says which gateway call (or cashier action) an Input reports.
type InputKind int

const (
	// Submitted: the answer to the micropay or create-QR call.
	Submitted InputKind = iota + 1
	// Queried: the answer to a query.
	Queried
	// Reversed: the answer to a reverse or close.
	ReverseAnswered
	// CancelRequested: the cashier cancelled.
	CancelRequested
	// Resumed: the runner restarted and found the payment pending.
	Resumed
	// CodeTimeout: nobody scanned a code in time for an awaiting payment.
	CodeTimeout
)

func (k InputKind) String() string {
	switch k {
	case Submitted:
		return "submitted"
	case Queried:
		return "queried"
	case ReverseAnswered:
		return "reverse_answered"
	case CancelRequested:
		return "cancel_requested"
	case Resumed:
		return "resumed"
	case CodeTimeout:
		return "code_timeout"
	}
	return fmt.Sprintf("input(%d)", int(k))
}

// Input is what just happened to a payment.
type Input struct {
	Kind   InputKind
	Result gateways.Result // for gateway answers
	Err    error           // for gateway calls that got no trustworthy answer
	// Attempts is how many times the outbox operation behind this input
	// has already failed (for backoff).
	Attempts int
}

// Decision is what to do next. Exactly one of a transition (To set) or a
// retry (Retry true) is meaningful.
type Decision struct {
	To      pos.State
	Reason  string
	Payment pos.Payment // the snapshot after the decision (To applied)
	Enqueue []store.Op  // outbox operations now owed
	// Retry means: no state change; try the same outbox operation again at
	// RetryAt. LastError says why.
	Retry     bool
	RetryAt   time.Time
	LastError string
}

// Decide is the micropay and merchant-QR state machine. It never
// returns a transition that pos.CanTransition refuses.
func Decide(p pos.Payment, in Input, now time.Time, t gateways.Timing) Decision {
	t = t.WithDefaults()
	d := Decision{Payment: p}
	to := func(s pos.State, reason string) Decision {
		d.To = s
		d.Reason = reason
		d.Payment.State = s
		d.Payment.UpdatedAt = now
		if reason != "" && (s == pos.StateFailed || s == pos.StateReversed || s == pos.StateReversing || s == pos.StateSucceeded) {
			d.Payment.Reason = reason
		}
		return d
	}
	query := func(at time.Time) store.Op {
		return store.Op{PaymentID: p.ID, Kind: store.OpQuery, NotBefore: at, CreatedAt: now}
	}
	// unwind starts the way out of a payment that must not stay open:
	// reverse a micropay (allowed whether or not it was paid), close a
	// merchant QR order (which cannot be paid yet, or we would know).
	unwind := func(reason string) Decision {
		d := to(pos.StateReversing, reason)
		kind, earliest := store.OpReverse, p.SubmittedAt.Add(t.ReverseAfter)
		if p.Method == pos.MerchantQR {
			kind, earliest = store.OpClose, p.SubmittedAt.Add(t.CloseAfter)
		}
		d.Enqueue = append(d.Enqueue, store.Op{PaymentID: p.ID, Kind: kind, NotBefore: later(now, earliest), CreatedAt: now})
		return d
	}
	retry := func(err string) Decision {
		return Decision{Payment: p, Retry: true, RetryAt: now.Add(backoff(t, in.Attempts)), LastError: err}
	}

	switch in.Kind {
	case CancelRequested:
		switch p.State {
		case pos.StateAwaitingCode:
			return to(pos.StateFailed, "cancelled by cashier")
		case pos.StateSubmitting:
			// The submit is in flight; record the wish durably. The
			// submit's answer is then unwound instead of kept.
			d := to(pos.StateSubmitting, "cancel requested during submit")
			d.Payment.CancelRequested = true
			return d
		case pos.StateUserPaying, pos.StateUnknown:
			d := unwind("cancelled by cashier")
			d.Payment.CancelRequested = true
			return d
		}
		return d // nothing to do; the caller reports the state

	case CodeTimeout:
		if p.State == pos.StateAwaitingCode {
			return to(pos.StateFailed, "no payment code was scanned in time")
		}
		return d

	case Resumed:
		switch p.State {
		case pos.StateSubmitting:
			if p.CancelRequested {
				// The cashier cancelled while the submit was in flight,
				// and the answer was lost with the crash: unwind it as
				// the answer would have been. A query would find the
				// order paid and keep a sale the cashier voided.
				return unwind("cancelled by cashier; restarted during submit")
			}
			// We crashed with the submit possibly on the wire. Never send
			// it again: find out.
			d := to(pos.StateUnknown, "restarted during submit; outcome unknown")
			d.Enqueue = append(d.Enqueue, query(now))
			return d
		case pos.StateUserPaying, pos.StateUnknown:
			d := to(p.State, "resumed after restart")
			d.Enqueue = append(d.Enqueue, query(now))
			return d
		case pos.StateReversing:
			d := to(pos.StateReversing, "resumed after restart")
			kind := store.OpReverse
			if p.Method == pos.MerchantQR {
				kind = store.OpClose
			}
			d.Enqueue = append(d.Enqueue, store.Op{PaymentID: p.ID, Kind: kind, NotBefore: now, CreatedAt: now})
			return d
		}
		return d

	case Submitted:
		if p.State != pos.StateSubmitting {
			return d
		}
		if in.Err != nil {
			switch pos.KindOf(in.Err) {
			case pos.Invalid:
				// The technical cause is the event's detail (and the
				// log); the reason is what the customer reads.
				return to(pos.StateFailed, "The payment could not be sent. Nothing was charged.")
			case pos.Unavailable:
				// The request was never written, so the gateway cannot
				// have acted on it (gateways.Do).
				return to(pos.StateFailed, "The payment service could not be reached. Nothing was charged.")
			}
			if p.CancelRequested {
				return unwind("cancelled by cashier; submit outcome unknown")
			}
			d := to(pos.StateUnknown, "no answer to submit: "+errMessage(in.Err))
			d.Enqueue = append(d.Enqueue, query(now.Add(t.PollInterval)))
			return d
		}
		res := in.Result
		if p.Method == pos.MerchantQR && res.Status == gateways.StatusSucceeded {
			// A created QR order is not a payment yet: wait for the scan.
			res.Status = gateways.StatusUserPaying
		}
		switch res.Status {
		case gateways.StatusFailed:
			return to(pos.StateFailed, failReason(res))
		case gateways.StatusSucceeded:
			if p.CancelRequested {
				return unwind("cancelled by cashier after the customer paid")
			}
			d := to(pos.StateSucceeded, "")
			adopt(&d.Payment, res)
			return d
		case gateways.StatusUserPaying:
			if p.CancelRequested {
				return unwind("cancelled by cashier")
			}
			d := to(pos.StateUserPaying, "waiting for the customer")
			adopt(&d.Payment, res)
			d.Enqueue = append(d.Enqueue, query(now.Add(t.PollInterval)))
			return d
		default:
			if p.CancelRequested {
				return unwind("cancelled by cashier; submit outcome unknown")
			}
			d := to(pos.StateUnknown, "submit outcome unknown: "+unknownReason(res))
			d.Enqueue = append(d.Enqueue, query(now.Add(t.PollInterval)))
			return d
		}

	case Queried:
		switch p.State {
		case pos.StateUserPaying, pos.StateUnknown:
		case pos.StateReversing:
			return decideQueryWhileReversing(p, in, now, t, to, retry, unwind)
		default:
			return d
		}
		if in.Err == nil {
			switch in.Result.Status {
			case gateways.StatusSucceeded:
				d := to(pos.StateSucceeded, "")
				adopt(&d.Payment, in.Result)
				return d
			case gateways.StatusFailed:
				return to(pos.StateFailed, failReason(in.Result))
			}
		}
		// Still paying, unknown, not found yet, or no answer: keep asking
		// until the deadline, then unwind. A "not found" right after a
		// lost submit may be a request still in flight, so it is never
		// taken as failure here.
		if !now.Before(p.Deadline) {
			return unwind("customer did not complete the payment in time")
		}
		next := pos.StateUnknown
		reason := "outcome still unknown"
		if in.Err == nil && in.Result.Status == gateways.StatusUserPaying {
			next, reason = pos.StateUserPaying, "waiting for the customer"
		} else if in.Err != nil {
			reason = "query failed: " + errMessage(in.Err)
		}
		if p.State == pos.StateUserPaying && next == pos.StateUnknown && in.Err != nil {
			// A failed query says nothing new about the customer.
			next = pos.StateUserPaying
		}
		d := to(next, reason)
		if in.Err == nil {
			adopt(&d.Payment, in.Result)
		}
		d.Payment.Polls++
		d.Enqueue = append(d.Enqueue, query(now.Add(t.PollInterval)))
		if at := p.Deadline; at.Before(now.Add(t.PollInterval)) && at.After(now) {
			// The deadline falls before the next poll: check once more right
			// at the deadline so the unwind is not late.
			d.Enqueue[len(d.Enqueue)-1].NotBefore = at
		}
		return d

	case ReverseAnswered:
		if p.State != pos.StateReversing {
			return d
		}
		if pos.Match(pos.NotFound, in.Err) {
			// The gateway knows no such order. Ask once more by query:
			// a query that also finds nothing ends the payment failed.
			d := to(pos.StateReversing, "reverse found no order: "+errMessage(in.Err))
			d.Payment.Reason = p.Reason
			d.Enqueue = append(d.Enqueue, query(now))
			return d
		}
		if in.Err != nil {
			return retry(errMessage(in.Err))
		}
		switch in.Result.Status {
		case gateways.StatusSucceeded:
			reason := p.Reason
			if reason == "" {
				reason = "reversed"
			}
			return to(pos.StateReversed, reason)
		case gateways.StatusFailed:
			// Refused: find out whether the customer paid (then the
			// payment stands and needs a refund) or not.
			d := to(pos.StateReversing, "reverse refused: "+failReason(in.Result))
			d.Payment.Reason = p.Reason
			d.Enqueue = append(d.Enqueue, query(now))
			return d
		default:
			return retry("reverse not confirmed: " + unknownReason(in.Result))
		}
	}
	return d
}

func decideQueryWhileReversing(p pos.Payment, in Input, now time.Time, t gateways.Timing,
	to func(pos.State, string) Decision, retry func(string) Decision, unwind func(string) Decision) Decision {
	if in.Err != nil && !pos.Match(pos.NotFound, in.Err) {
		return retry(errMessage(in.Err))
	}
	if pos.Match(pos.NotFound, in.Err) {
		return to(pos.StateFailed, "the order never reached the gateway; nothing was charged")
	}
	switch in.Result.Status {
	case gateways.StatusSucceeded:
		d := to(pos.StateSucceeded, "paid, and the reverse was refused: refund it if the sale is void")
		adopt(&d.Payment, in.Result)
		return d
	case gateways.StatusFailed:
		return to(pos.StateFailed, failReason(in.Result))
	}
	// Still open: try the reverse again.
	d := unwind(p.Reason)
	d.Enqueue[0].NotBefore = later(d.Enqueue[0].NotBefore, now.Add(backoff(t, in.Attempts)))
	return d
}

// adopt copies what the gateway told us about the order into the payment.
func adopt(p *pos.Payment, r gateways.Result) {
	if r.TransactionID != "" {
		p.TransactionID = r.TransactionID
	}
	if r.CodeURL != "" {
		p.CodeURL = r.CodeURL
	}
	if p.Wallet == "" && r.Wallet != "" {
		p.Wallet = r.Wallet
	}
}

func failReason(r gateways.Result) string {
	switch {
	case r.Reason != "" && r.Code != "":
		return r.Reason + " (" + r.Code + ")"
	case r.Reason != "":
		return r.Reason
	case r.Code != "":
		return "declined (" + r.Code + ")"
	}
	return "declined by the gateway"
}

func unknownReason(r gateways.Result) string {
	if r.Reason != "" {
		return r.Reason
	}
	if r.Code != "" {
		return r.Code
	}
	return "no status"
}

func errMessage(err error) string {
	var e *pos.Error
	if errors.As(err, &e) {
		return e.Message()
	}
	return err.Error()
}

// backoff is the wait before retrying an outbox operation that failed
// attempts times: RetryBackoff doubled per attempt, capped.
func backoff(t gateways.Timing, attempts int) time.Duration {
	d := t.RetryBackoff
	for i := 0; i < attempts && d < t.RetryBackoffMax; i++ {
		d *= 2
	}
	return min(d, t.RetryBackoffMax)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
