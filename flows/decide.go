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
	// Notification marks a Queried input that is an acquirer's
	// notification, not the answer to our query: it does not count as a
	// query for the minimum interval, and while a merchant-QR order is
	// being closed only a "paid" one matters.
	Notification bool
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
	retryKind store.OpKind // the operation a retry repeats
	// Flag marks the decision's event: the answer did not match the
	// journal (it was treated as no answer), the gateway raised an alert,
	// or a payment already ended was charged. Note says what, for the
	// ERROR log line the runner writes. A flagged decision is always a
	// transition (a self-transition if nothing else changes), so the flag
	// is journaled.
	Flag pos.Flag
	Note string
}

// Decide is the micropay and merchant-QR state machine. It never
// returns a transition that pos.CanTransition refuses, except a final
// state's flag-only self-transition, which the journal accepts.
//
// Every gateway answer is first checked against the journaled payment
// (order number, amount, currency, the adapter's Mismatch): one that
// disagrees is treated as no answer at all, Unknown, so it is never
// adopted and never the reason for a reverse or close; the decision is
// flagged pos.FlagMismatch.
func Decide(p pos.Payment, in Input, now time.Time, pol Policy) Decision {
	pol.Timing = pol.Timing.WithDefaults()
	var flag pos.Flag
	var note string
	if in.Err == nil && (in.Kind == Submitted || in.Kind == Queried || in.Kind == ReverseAnswered) {
		if m := mismatch(p, in.Kind, in.Result); m != "" {
			flag, note = pos.FlagMismatch, m
			in.Result = gateways.Result{Status: gateways.StatusUnknown, Reason: "the answer does not match the journal (" + m + ")", Detail: in.Result.Detail}
		} else if in.Result.Alert != "" {
			flag, note = pos.FlagAlert, in.Result.Alert
		}
	}
	d := decide(p, in, now, pol)
	if flag == "" && d.Flag != "" {
		flag, note = d.Flag, d.Note
	}
	if flag == "" {
		return d
	}
	d.Flag, d.Note = flag, note
	switch {
	case d.Retry:
		// A retry journals nothing; a flag must be journaled: record it
		// as a self-transition that owes the same operation again.
		kind := d.retryKind
		d = Decision{To: p.State, Reason: d.LastError, Payment: p, Flag: flag, Note: note,
			Enqueue: []store.Op{{PaymentID: p.ID, Kind: kind, NotBefore: d.RetryAt, CreatedAt: now, Attempts: in.Attempts + 1}}}
		d.Payment.UpdatedAt = now
	case d.To == "":
		d.To, d.Payment = p.State, p
		d.Reason = "flagged: " + note
		d.Payment.UpdatedAt = now
	}
	if flag == pos.FlagMismatch || flag == pos.FlagAlert {
		d.Payment.Alert = note
	}
	if in.Kind == Queried && !in.Notification && !p.State.Final() {
		d.Payment.LastQueryAt = now
	}
	return d
}

// mismatch says how an answer disagrees with the journaled payment, or ""
// when it does not. Values from the answer are masked: they are the
// gateway's, and may be anything.
func mismatch(p pos.Payment, kind InputKind, r gateways.Result) string {
	switch {
	case r.Mismatch != "":
		return "the gateway adapter says: " + r.Mismatch
	case r.OutTradeNo != "" && r.OutTradeNo != p.OutTradeNo:
		return fmt.Sprintf("it names order %s, the journal has %s", pos.MaskCode(r.OutTradeNo), p.OutTradeNo)
	case r.Amount != (pos.Money{}) && r.Amount != p.Amount:
		return fmt.Sprintf("it says the amount is %s %d (minor units), the journal has %s", r.Amount.Currency, r.Amount.Minor, p.Amount)
	}
	return ""
}

func decide(p pos.Payment, in Input, now time.Time, pol Policy) Decision {
	t := pol.Timing
	rule := pol.rule(p.Wallet)
	d := Decision{Payment: p}
	to := func(s pos.State, reason string) Decision {
		d.To = s
		d.Reason = reason
		d.Payment.State = s
		d.Payment.UpdatedAt = now
		if reason != "" && (s == pos.StateFailed || s == pos.StateReversed || s == pos.StateReversing || s == pos.StateSucceeded) {
			d.Payment.Reason = reason
		}
		if in.Kind == Queried && !in.Notification {
			d.Payment.LastQueryAt = now
		}
		return d
	}
	// The minimum interval between two queries of one payment holds for
	// every query owed, whatever asks for it: the next poll, the last one
	// before the deadline, the one after a refused reverse, the first on
	// resume.
	lastQuery := p.LastQueryAt
	if in.Kind == Queried && !in.Notification {
		lastQuery = now // this query ended now
	}
	queryAt := func(at time.Time) time.Time {
		if !lastQuery.IsZero() {
			at = later(at, lastQuery.Add(t.MinPollInterval))
		}
		return at
	}
	query := func(at time.Time) store.Op {
		return store.Op{PaymentID: p.ID, Kind: store.OpQuery, NotBefore: queryAt(at), CreatedAt: now}
	}
	// answered is when the submit's answer came back (or the call ended):
	// "not sooner than N after the pay" is timed from it.
	answered := p.AnsweredAt
	if answered.IsZero() {
		answered = p.SubmittedAt
	}
	qr := p.Method == pos.MerchantQR
	canClose := pol.Caps.CanClose(p.Wallet)
	// expiry is when a merchant-QR order that cannot be closed is asked
	// about once more after it expired: the gateway's clock may lag ours,
	// so by one call timeout.
	expiry := p.Deadline.Add(t.CallTimeout)
	// unwind starts the way out of a payment that must not stay open:
	// reverse a micropay (allowed whether or not it was paid), close a
	// merchant QR order (which cannot be paid yet, or we would know). A QR
	// order the gateway may not close, and a micropay past its wallet's
	// cancel window, are queried instead until their outcome is final.
	unwind := func(reason string) Decision {
		if qr && !canClose {
			next := p.State
			if next == pos.StateSubmitting {
				next = pos.StateUnknown
			}
			d := to(next, reason+"; the order cannot be closed and is watched until it expires")
			d.Enqueue = append(d.Enqueue, query(nextWatch(now, t.PollInterval, expiry)))
			return d
		}
		if !qr && rule.CancelWithin > 0 && !now.Before(answered.Add(rule.CancelWithin)) {
			next := p.State
			if next == pos.StateSubmitting {
				next = pos.StateUnknown
			}
			d := to(next, reason+fmt.Sprintf("; too late to cancel (%s after the payment): asking until it is final", rule.CancelWithin))
			d.Enqueue = append(d.Enqueue, query(now.Add(backoff(t, in.Attempts))))
			return d
		}
		d := to(pos.StateReversing, reason)
		kind, earliest := store.OpReverse, answered.Add(rule.ReverseAfter)
		if qr {
			kind, earliest = store.OpClose, answered.Add(t.CloseAfter)
		}
		d.Enqueue = append(d.Enqueue, store.Op{PaymentID: p.ID, Kind: kind, NotBefore: later(now, earliest), CreatedAt: now})
		return d
	}
	retry := func(kind store.OpKind, err string) Decision {
		at := now.Add(backoff(t, in.Attempts))
		if kind == store.OpQuery {
			at = queryAt(at)
		}
		return Decision{Payment: p, Retry: true, RetryAt: at, LastError: err, retryKind: kind}
	}
	unwindKind := store.OpReverse
	if qr {
		unwindKind = store.OpClose
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
			// The call ended with the crash, and no later than its
			// timeout: that is when its answer would have come.
			ended := later(p.SubmittedAt, earlier(now, p.SubmittedAt.Add(t.CallTimeout)))
			if p.CancelRequested {
				// The cashier cancelled while the submit was in flight,
				// and the answer was lost with the crash: unwind it as
				// the answer would have been. A query would find the
				// order paid and keep a sale the cashier voided.
				p.AnsweredAt, answered = ended, ended
				d.Payment = p
				return unwind("cancelled by cashier; restarted during submit")
			}
			// We crashed with the submit possibly on the wire. Never send
			// it again: find out.
			d := to(pos.StateUnknown, "restarted during submit; outcome unknown")
			d.Payment.AnsweredAt = ended
			d.Enqueue = append(d.Enqueue, query(now))
			return d
		case pos.StateUserPaying, pos.StateUnknown:
			d := to(p.State, "resumed after restart")
			d.Enqueue = append(d.Enqueue, query(now))
			return d
		case pos.StateReversing:
			d := to(pos.StateReversing, "resumed after restart")
			d.Payment.Reason = p.Reason
			if qr && !canClose {
				d.Enqueue = append(d.Enqueue, query(now))
				return d
			}
			earliest := answered.Add(rule.ReverseAfter)
			if qr {
				earliest = answered.Add(t.CloseAfter)
			}
			d.Enqueue = append(d.Enqueue, store.Op{PaymentID: p.ID, Kind: unwindKind, NotBefore: later(now, earliest), CreatedAt: now})
			return d
		}
		return d

	case Submitted:
		if p.State != pos.StateSubmitting {
			return d
		}
		// From here every rule "not sooner than N after the pay" is timed
		// from this answer.
		p.AnsweredAt, answered = now, now
		if !qr {
			if min := now.Add(rule.MinPayTimeout); p.Deadline.Before(min) {
				p.Deadline = min
			}
		}
		d.Payment = p
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
		if qr && res.Status == gateways.StatusSucceeded {
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
			return decideQueryWhileReversing(p, in, now, pol, to, retry, unwind, query, expiry)
		case pos.StateFailed, pos.StateReversed:
			return decideChargedLate(p, in, now)
		default:
			return d
		}
		if in.Err == nil {
			switch in.Result.Status {
			case gateways.StatusSucceeded:
				reason := ""
				if p.CancelRequested {
					// Only a QR order that could not be closed is still
					// followed after a cancel.
					reason = "paid after the cashier cancelled (the order could not be closed): refund it if the sale is void"
				}
				d := to(pos.StateSucceeded, reason)
				adopt(&d.Payment, in.Result)
				if p.CancelRequested {
					d.Flag, d.Note = pos.FlagAlert, reason
				}
				return d
			case gateways.StatusFailed:
				if !qr {
					return to(pos.StateFailed, failReason(in.Result))
				}
				if canClose {
					// A failed QR order may still be paid (the customer
					// tries another card) until it is closed: close it,
					// and say failed only once it is (Swiftpass §6.6.1).
					d := unwind("the gateway reads the order failed: " + failReason(in.Result))
					d.Payment.ReadFailed = true
					return d
				}
				if !now.Before(expiry) {
					return to(pos.StateFailed, failReason(in.Result))
				}
				// Not closable: it expires by itself; watch it until then.
			}
		}
		// Still paying, unknown, not found yet, or no answer: keep asking
		// until the deadline, then unwind. A "not found" right after a
		// lost submit may be a request still in flight, so it is never
		// taken as failure here.
		if qr && !canClose && !p.Deadline.After(now) {
			return decideQRExpired(p, in, now, pol, to, query, expiry)
		}
		if !now.Before(p.Deadline) {
			return unwind("customer did not complete the payment in time")
		}
		next := pos.StateUnknown
		reason := "outcome still unknown"
		if in.Err == nil && in.Result.Status == gateways.StatusUserPaying {
			next, reason = pos.StateUserPaying, "waiting for the customer"
		} else if in.Err == nil && in.Result.Status == gateways.StatusFailed {
			next, reason = pos.StateUserPaying, "the gateway reads the order failed; it cannot be closed and is watched until it expires"
		} else if in.Err != nil {
			reason = "query failed: " + errMessage(in.Err)
		}
		if p.State == pos.StateUserPaying && next == pos.StateUnknown && in.Err != nil {
			// A failed query says nothing new about the customer.
			next = pos.StateUserPaying
		}
		if p.CancelRequested {
			reason = "cancelled by cashier; the order cannot be closed and is watched until it expires"
		}
		d := to(next, reason)
		if in.Err == nil {
			adopt(&d.Payment, in.Result)
		}
		if !in.Notification {
			d.Payment.Polls++
		}
		d.Enqueue = append(d.Enqueue, query(now.Add(t.PollInterval)))
		if at := p.Deadline; at.Before(now.Add(t.PollInterval)) && at.After(now) {
			// The deadline falls before the next poll: check once more right
			// at the deadline so the unwind is not late (but never sooner
			// than the minimum interval after this query).
			d.Enqueue[len(d.Enqueue)-1].NotBefore = queryAt(at)
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
			return retry(unwindKind, errMessage(in.Err))
		}
		switch in.Result.Status {
		case gateways.StatusSucceeded:
			if p.ReadFailed {
				// Closed after a query read it failed: nothing was
				// charged, and nothing can be now.
				return to(pos.StateFailed, p.Reason)
			}
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
			return retry(unwindKind, "reverse not confirmed: "+unknownReason(in.Result))
		}
	}
	return d
}

// decideQueryWhileReversing is a query's answer (or a notification) while
// the payment is being reversed or its QR order closed.
func decideQueryWhileReversing(p pos.Payment, in Input, now time.Time, pol Policy,
	to func(pos.State, string) Decision, retry func(store.OpKind, string) Decision, unwind func(string) Decision,
	query func(time.Time) store.Op, expiry time.Time) Decision {
	t := pol.Timing
	qr := p.Method == pos.MerchantQR
	if in.Notification {
		// The close (or reverse) goes on whatever a notification says,
		// unless it says a QR order was paid: a close of a paid order is
		// refused, so it is the sale's outcome. (Reversing a paid
		// micropay refunds it, so there the reverse goes on.)
		if qr && in.Err == nil && in.Result.Status == gateways.StatusSucceeded {
			return paidWhileClosing(p, in, to)
		}
		return Decision{Payment: p}
	}
	if in.Err != nil && !pos.Match(pos.NotFound, in.Err) {
		return retry(store.OpQuery, errMessage(in.Err))
	}
	if pos.Match(pos.NotFound, in.Err) {
		// A submit whose answer was lost may still be in flight: a "not
		// found" within ReverseAfter + CallTimeout of it proves nothing.
		answered := p.AnsweredAt
		if answered.IsZero() {
			answered = p.SubmittedAt
		}
		if safe := answered.Add(pol.rule(p.Wallet).ReverseAfter + t.CallTimeout); now.Before(safe) {
			d := to(pos.StateReversing, "the gateway does not know the order yet; asking again")
			d.Payment.Reason = p.Reason
			d.Enqueue = append(d.Enqueue, query(safe))
			return d
		}
		return to(pos.StateFailed, "the order never reached the gateway; nothing was charged")
	}
	switch in.Result.Status {
	case gateways.StatusSucceeded:
		if qr {
			return paidWhileClosing(p, in, to)
		}
		d := to(pos.StateSucceeded, "paid, and the reverse was refused: refund it if the sale is void")
		adopt(&d.Payment, in.Result)
		return d
	case gateways.StatusFailed:
		// A query while reversing follows a reverse or close the gateway
		// refused (or found no order for). Closes are never sent before
		// the gateway's close-after, so a refused close of an order that
		// still reads failed means the acquirer will not close an order
		// that has ended (Allinpay 0026): it is final.
		return to(pos.StateFailed, failReason(in.Result))
	}
	if qr && !pol.Caps.CanClose(p.Wallet) {
		// Left reversing by an older version or configuration: it can
		// only expire.
		if !now.Before(expiry) {
			return to(pos.StateFailed, "the order expired unpaid")
		}
		d := to(pos.StateReversing, p.Reason)
		d.Enqueue = append(d.Enqueue, query(nextWatch(now, t.PollInterval, expiry)))
		return d
	}
	// Still open: try the reverse again.
	d := unwind(p.Reason)
	if len(d.Enqueue) > 0 {
		d.Enqueue[0].NotBefore = later(d.Enqueue[0].NotBefore, now.Add(backoff(t, in.Attempts)))
	}
	return d
}

// paidWhileClosing: a merchant-QR order read paid while the till was
// closing it. The sale stands; if the cashier had cancelled, it needs a
// refund.
func paidWhileClosing(p pos.Payment, in Input, to func(pos.State, string) Decision) Decision {
	reason := "paid before the order was closed"
	if p.CancelRequested {
		reason = "paid before the order was closed, after the cashier cancelled: refund it if the sale is void"
	}
	d := to(pos.StateSucceeded, reason)
	adopt(&d.Payment, in.Result)
	if p.CancelRequested {
		d.Flag, d.Note = pos.FlagAlert, reason
	}
	return d
}

// decideQRExpired: a merchant-QR order that is not closed (the gateway may
// not close it, or the cashier cancelled one it may not close) has reached
// its expiry. It is asked once more after the expiry: paid is succeeded
// (handled before), unpaid or failed is failed; no trustworthy answer is
// asked again, with growing waits, never settled by a timer.
func decideQRExpired(p pos.Payment, in Input, now time.Time, pol Policy,
	to func(pos.State, string) Decision, query func(time.Time) store.Op, expiry time.Time) Decision {
	t := pol.Timing
	reason := "the order expired unpaid"
	if p.CancelRequested {
		reason = "cancelled by cashier; the order expired unpaid"
	}
	if !now.Before(expiry) && in.Err == nil && (in.Result.Status == gateways.StatusUserPaying || in.Result.Status == gateways.StatusFailed) && !in.Notification {
		return to(pos.StateFailed, reason)
	}
	next := p.State
	d := to(next, "the order has expired; asking once more whether it was paid")
	if in.Err == nil {
		adopt(&d.Payment, in.Result)
	}
	at := expiry
	if !now.Before(expiry) {
		// No trustworthy answer after the expiry: ask again, waiting
		// longer the longer it has been.
		at = now.Add(min(max(now.Sub(expiry), t.PollInterval), t.RetryBackoffMax))
	}
	d.Enqueue = append(d.Enqueue, query(at))
	return d
}

// decideChargedLate: a query answer or notification for a payment already
// ended failed or reversed. A verified "paid" means the customer was
// charged after the till gave up: flag it (the state stays; the payment
// becomes refundable) so it is never acknowledged silently.
func decideChargedLate(p pos.Payment, in Input, now time.Time) Decision {
	d := Decision{Payment: p}
	if in.Err != nil || in.Result.Status != gateways.StatusSucceeded || p.ChargedLate {
		return d
	}
	note := fmt.Sprintf("the gateway says the customer paid after the till ended the payment %s: refund it", p.State)
	d.To, d.Reason = p.State, "charged after the till gave up"
	d.Payment.ChargedLate = true
	d.Payment.Alert = note
	d.Payment.UpdatedAt = now
	if d.Payment.TransactionID == "" {
		d.Payment.TransactionID = in.Result.TransactionID
	}
	d.Flag, d.Note = pos.FlagChargedLate, note
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

// nextWatch is the next query of an order watched until it expires: a
// poll interval on, or at the expiry if that comes first.
func nextWatch(now time.Time, poll time.Duration, expiry time.Time) time.Time {
	at := now.Add(poll)
	if expiry.After(now) && expiry.Before(at) {
		at = expiry
	}
	return at
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
