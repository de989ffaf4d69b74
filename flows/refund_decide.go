package flows

import (
	"fmt"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// RefundInputKind says which gateway answer (or event) a RefundInput
// reports.
type RefundInputKind int

const (
	// RefundSubmitted: the answer to the refund call.
	RefundSubmitted RefundInputKind = iota + 1
	// RefundQueried: the answer to a refund query.
	RefundQueried
	// RefundResumed: the runner restarted and found the refund pending
	// with no query owed.
	RefundResumed
	// RefundResent: the answer to the same refund sent again because the
	// gateway asked for it (Result.Resend).
	RefundResent
)

func (k RefundInputKind) String() string {
	switch k {
	case RefundSubmitted:
		return "refund_submitted"
	case RefundQueried:
		return "refund_queried"
	case RefundResumed:
		return "refund_resumed"
	case RefundResent:
		return "refund_resent"
	}
	return fmt.Sprintf("refund_input(%d)", int(k))
}

// RefundInput is what just happened to a refund.
type RefundInput struct {
	Kind   RefundInputKind
	Result gateways.Result
	Err    error // the call got no trustworthy answer
	// OutTradeNo is the refunded payment's order number, to check the
	// answer against.
	OutTradeNo string
}

// RefundTiming is how a pending refund is followed up.
type RefundTiming struct {
	// PollInterval is the wait before the first query; each further query
	// waits twice as long as the one before, up to MaxPollInterval.
	PollInterval, MaxPollInterval time.Duration
}

// refundTiming derives a refund's timing from its gateway's.
func refundTiming(t gateways.Timing) RefundTiming {
	t = t.WithDefaults()
	return RefundTiming{PollInterval: t.PollInterval, MaxPollInterval: max(t.RetryBackoffMax, t.PollInterval)}
}

// RefundDecision is what to do next. To empty: nothing changes.
type RefundDecision struct {
	To     pos.RefundState
	Reason string
	Refund pos.Refund // the snapshot after the decision
	// QueryAt, when not zero, is when the next query is owed.
	QueryAt time.Time
	// ResendAt, when not zero, is when the same refund is owed again,
	// with the same out_refund_no (the gateway asked for it).
	ResendAt time.Time
	// Flag marks the decision's event (a mismatch, an alert); Note says
	// what, for the ERROR log line.
	Flag pos.Flag
	Note string
}

// DecideRefund is the refund state machine: pure, like Decide. A refund is
// sent once; every answer that is not final leads to a query, never to a
// second refund, except when the gateway itself asks for the same refund
// again (Result.Resend, Swiftpass NOTSURE): then it is sent again with the
// same out_refund_no, and queried. "Accepted" (StatusUserPaying) keeps it
// processing and queried until a final answer. Nothing is settled by a
// timer: a refund the gateway does not know stays unknown and is queried
// with backoff (issue 9: settle it by query or the bill, not the clock).
// An answer that names another order, refund or amount is treated as no
// answer (flagged pos.FlagMismatch); one with an Alert that is not a
// success ends it in attention, which keeps its amount held. It never
// returns a transition pos.CanTransitionRefund refuses.
func DecideRefund(r pos.Refund, in RefundInput, now time.Time, t RefundTiming) RefundDecision {
	var flag pos.Flag
	var note string
	if in.Err == nil && (in.Kind == RefundSubmitted || in.Kind == RefundQueried || in.Kind == RefundResent) {
		if m := refundMismatch(r, in.OutTradeNo, in.Result); m != "" {
			flag, note = pos.FlagMismatch, m
			in.Result = gateways.Result{Status: gateways.StatusUnknown, Reason: "the answer does not match the journal (" + m + ")", Detail: in.Result.Detail}
		} else if in.Result.Alert != "" {
			flag, note = pos.FlagAlert, in.Result.Alert
		}
	}
	d := decideRefund(r, in, now, t)
	if flag == "" {
		return d
	}
	d.Flag, d.Note = flag, note
	if d.To == "" {
		d.To, d.Refund, d.Reason = r.State, r, "flagged: "+note
		if r.State.Final() {
			// A final refund takes no flag-only change; the log line is
			// the record.
			d.To = ""
		}
	}
	d.Refund.Alert = note
	return d
}

// refundMismatch says how an answer disagrees with the journaled refund,
// or "" when it does not; the answer's values are masked.
func refundMismatch(r pos.Refund, outTradeNo string, res gateways.Result) string {
	switch {
	case res.Mismatch != "":
		return "the gateway adapter says: " + res.Mismatch
	case res.OutTradeNo != "" && outTradeNo != "" && res.OutTradeNo != outTradeNo:
		return fmt.Sprintf("it names order %s, the journal has %s", pos.MaskCode(res.OutTradeNo), outTradeNo)
	case res.OutRefundNo != "" && res.OutRefundNo != r.OutRefundNo:
		return fmt.Sprintf("it names refund %s, the journal has %s", pos.MaskCode(res.OutRefundNo), r.OutRefundNo)
	case res.RefundAmount != (pos.Money{}) && res.RefundAmount != r.Amount:
		return fmt.Sprintf("it says the refund is %s %d (minor units), the journal has %s", res.RefundAmount.Currency, res.RefundAmount.Minor, r.Amount)
	}
	return ""
}

func decideRefund(r pos.Refund, in RefundInput, now time.Time, t RefundTiming) RefundDecision {
	d := RefundDecision{Refund: r}
	to := func(s pos.RefundState, reason string) RefundDecision {
		d.To, d.Reason = s, reason
		d.Refund.State, d.Refund.UpdatedAt = s, now
		if reason != "" {
			d.Refund.Outcome = reason
		}
		if s == pos.RefundSucceeded {
			d.Refund.Outcome = ""
		}
		return d
	}
	// wait grows after every query: a refund the gateway is slow to
	// confirm is asked about less and less often, for as long as it
	// takes.
	wait := func() time.Duration {
		w := t.PollInterval
		for i := 0; i < r.Queries && w < t.MaxPollInterval; i++ {
			w *= 2
		}
		return min(w, max(t.MaxPollInterval, t.PollInterval))
	}
	query := func(d RefundDecision) RefundDecision {
		d.QueryAt = now.Add(wait())
		return d
	}
	adopt := func(d RefundDecision, res gateways.Result) RefundDecision {
		if res.RefundID != "" {
			d.Refund.GatewayRefundID = res.RefundID
		}
		return d
	}
	// answer maps a trustworthy answer to submit, resend or query.
	answer := func(res gateways.Result, pendingReason string) RefundDecision {
		if res.Alert != "" && res.Status != gateways.StatusSucceeded {
			// The operator must act (Swiftpass CHANGE: the money went to
			// the merchant's account, to be refunded offline). Neither
			// refunded through the wallet nor failed: the amount stays
			// held, and the till stops asking.
			d := adopt(to(pos.RefundAttention, "the gateway says the operator must act: "+res.Alert), res)
			d.Refund.Alert = res.Alert
			return d
		}
		switch res.Status {
		case gateways.StatusSucceeded:
			return adopt(to(pos.RefundSucceeded, ""), res)
		case gateways.StatusFailed:
			return adopt(to(pos.RefundFailed, failReason(res)), res)
		case gateways.StatusUserPaying:
			return query(adopt(to(pos.RefundProcessing, "the gateway accepted the refund and is processing it"), res))
		}
		next := pos.RefundUnknown
		if r.State == pos.RefundProcessing {
			// An unclear answer says nothing new about a refund the
			// gateway has accepted.
			next = pos.RefundProcessing
		}
		if res.Resend {
			// The spec asks for the same request again, with the same
			// numbers (Swiftpass NOTSURE): the one case a refund is sent
			// twice. A query follows its answer.
			d := adopt(to(next, "the gateway asks for the refund to be sent again: "+unknownReason(res)), res)
			d.ResendAt = now.Add(wait())
			return d
		}
		return query(adopt(to(next, pendingReason+unknownReason(res)), res))
	}

	switch in.Kind {
	case RefundResumed:
		switch r.State {
		case pos.RefundSubmitting:
			// We stopped with the refund possibly on the wire. Never send
			// it again: find out.
			d := to(pos.RefundUnknown, "restarted during the refund's submit; outcome unknown")
			d.QueryAt = now
			return d
		case pos.RefundProcessing, pos.RefundUnknown:
			d := to(r.State, "resumed after restart")
			d.Refund.Outcome = r.Outcome
			d.QueryAt = now
			return d
		}
		return d

	case RefundSubmitted:
		if r.State != pos.RefundSubmitting {
			return d
		}
		if in.Err != nil {
			switch pos.KindOf(in.Err) {
			case pos.Invalid:
				return to(pos.RefundFailed, "The refund could not be sent. Nothing was refunded.")
			case pos.Unavailable:
				// Never written (gateways.Do): the gateway cannot have
				// acted on it.
				return to(pos.RefundFailed, "The refund service could not be reached. Nothing was refunded.")
			case pos.NotFound:
				// The gateway answered that it has no such payment order:
				// it refunded nothing.
				return to(pos.RefundFailed, "the gateway does not know the payment: "+errMessage(in.Err))
			}
			return query(to(pos.RefundUnknown, "no answer to the refund: "+errMessage(in.Err)))
		}
		return answer(in.Result, "refund outcome unknown: ")

	case RefundQueried, RefundResent:
		if r.State != pos.RefundProcessing && r.State != pos.RefundUnknown {
			return d
		}
		r.Queries++ // this one: the next waits longer
		if in.Kind == RefundResent {
			r.Resends++
		}
		d.Refund = r
		if in.Err == nil {
			return answer(in.Result, "outcome still unknown: ")
		}
		// No answer, or a "not found" (a resend refused before sending
		// proves nothing either: the first may have gone through): ask
		// again later. Never a timer's verdict.
		reason := "query failed: "
		if in.Kind == RefundResent {
			reason = "the refund sent again got no answer: "
		}
		return query(to(r.State, reason+errMessage(in.Err)))
	}
	return d
}
