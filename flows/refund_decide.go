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
)

func (k RefundInputKind) String() string {
	switch k {
	case RefundSubmitted:
		return "refund_submitted"
	case RefundQueried:
		return "refund_queried"
	case RefundResumed:
		return "refund_resumed"
	}
	return fmt.Sprintf("refund_input(%d)", int(k))
}

// RefundInput is what just happened to a refund.
type RefundInput struct {
	Kind   RefundInputKind
	Result gateways.Result
	Err    error // the call got no trustworthy answer
}

// RefundTiming is how a pending refund is followed up.
type RefundTiming struct {
	// PollInterval is the wait before the first query; each further query
	// waits twice as long as the one before, up to MaxPollInterval.
	PollInterval, MaxPollInterval time.Duration
	// NotFoundAfter is how long after the submit a gateway's "no such
	// refund" is believed. Before that the request may still be in flight
	// (the same caution as for a payment's lost submit); after it, a
	// refund whose submit got no answer and that the gateway does not
	// know ends failed: nothing was refunded.
	NotFoundAfter time.Duration
}

// refundTiming derives a refund's timing from its gateway's.
func refundTiming(t gateways.Timing, notFoundAfter time.Duration) RefundTiming {
	t = t.WithDefaults()
	return RefundTiming{PollInterval: t.PollInterval, MaxPollInterval: max(t.RetryBackoffMax, t.PollInterval), NotFoundAfter: notFoundAfter}
}

// RefundDecision is what to do next. To empty: nothing changes.
type RefundDecision struct {
	To     pos.RefundState
	Reason string
	Refund pos.Refund // the snapshot after the decision
	// QueryAt, when not zero, is when the next query is owed.
	QueryAt time.Time
}

// DecideRefund is the refund state machine: pure, like Decide. A refund is
// sent once; every answer that is not final leads to a query, never to a
// second refund. It never returns a transition pos.CanTransitionRefund
// refuses.
func DecideRefund(r pos.Refund, in RefundInput, now time.Time, t RefundTiming) RefundDecision {
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
	// query waits longer after every query: a refund the gateway is slow
	// to confirm is asked about less and less often, for as long as it
	// takes.
	query := func(d RefundDecision) RefundDecision {
		wait := t.PollInterval
		for i := 0; i < r.Queries && wait < t.MaxPollInterval; i++ {
			wait *= 2
		}
		d.QueryAt = now.Add(min(wait, max(t.MaxPollInterval, t.PollInterval)))
		return d
	}
	adopt := func(d RefundDecision, res gateways.Result) RefundDecision {
		if res.RefundID != "" {
			d.Refund.GatewayRefundID = res.RefundID
		}
		return d
	}
	// answer maps a trustworthy answer to submit or query.
	answer := func(res gateways.Result, pendingReason string) RefundDecision {
		switch res.Status {
		case gateways.StatusSucceeded:
			return adopt(to(pos.RefundSucceeded, ""), res)
		case gateways.StatusFailed:
			return adopt(to(pos.RefundFailed, failReason(res)), res)
		case gateways.StatusUserPaying:
			return query(adopt(to(pos.RefundProcessing, "the gateway is processing the refund"), res))
		}
		return query(adopt(to(pos.RefundUnknown, pendingReason+unknownReason(res)), res))
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

	case RefundQueried:
		if r.State != pos.RefundProcessing && r.State != pos.RefundUnknown {
			return d
		}
		r.Queries++ // this one: the next waits longer
		d.Refund = r
		if in.Err == nil {
			d := answer(in.Result, "outcome still unknown: ")
			if d.To == pos.RefundUnknown && r.State == pos.RefundProcessing {
				// An unclear answer says nothing new about a refund the
				// gateway has accepted.
				d = to(pos.RefundProcessing, d.Reason)
				d = query(d)
			}
			return d
		}
		if pos.Match(pos.NotFound, in.Err) && r.State == pos.RefundUnknown && !now.Before(r.SubmittedAt.Add(t.NotFoundAfter)) {
			return to(pos.RefundFailed, fmt.Sprintf("the gateway has no record of the refund %s after it was sent: nothing was refunded", t.NotFoundAfter))
		}
		// No answer, or "not found" too soon to believe: ask again later.
		return query(to(r.State, "query failed: "+errMessage(in.Err)))
	}
	return d
}
