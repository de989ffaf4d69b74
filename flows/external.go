package flows

import (
	"context"
	"fmt"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/store"
)

// External payments: orders the till did not start (a HipoPay
// mini-program places them). They enter the journal as a payment with
// External set, already succeeded, when the gateway verifies them paid:
// a PAID notification (Notify), or the cashier looking the order up
// (Lookup). From then on they are payments like any other: shown, refunded
// in part or in full, reprinted, counted in the summary. Only a gateway
// that declares Capabilities.External adopts orders it was not asked for;
// anything not verified paid, or about something else (Result.Mismatch),
// is never adopted.

// LookupRequest names an order placed outside the till: by our side's
// number (out_trade_id) or the platform's (payment_no), at least one.
type LookupRequest struct {
	Gateway       string // configured gateway name; empty for the default
	OutTradeNo    string
	TransactionID string
}

// Lookup finds an order placed outside the till. One already journaled
// (adopted before, by a notification or an earlier lookup) is returned as
// it stands; otherwise the gateway is asked (Query) and a verified paid
// order is adopted. An order the gateway does not know is pos.NotFound;
// one not paid (yet) is pos.Conflict with its status; a gateway that takes
// no external orders is pos.Invalid.
func (r *Runner) Lookup(ctx context.Context, req LookupRequest) (pos.Payment, error) {
	const op = "flows.Lookup"
	name, g, err := r.gateway(req.Gateway)
	if err != nil {
		return pos.Payment{}, err
	}
	if !g.Capabilities().External {
		return pos.Payment{}, pos.Errorf(pos.Invalid, op, "gateway %s takes no orders placed outside the till", name)
	}
	if req.OutTradeNo == "" && req.TransactionID == "" {
		return pos.Payment{}, pos.Errorf(pos.Invalid, op, "out_trade_no or the gateway's transaction number is required")
	}
	if req.OutTradeNo != "" {
		if p, err := r.journaled(ctx, op, name, req.OutTradeNo); err == nil || !pos.Match(pos.NotFound, err) {
			return p, err
		}
	}
	res, err := callWithTimeout(ctx, g, func(ctx context.Context) (gateways.Result, error) {
		return g.Query(ctx, gateways.OrderRef{OutTradeNo: req.OutTradeNo, TransactionID: req.TransactionID})
	})
	if err != nil {
		return pos.Payment{}, err
	}
	if res.Status != gateways.StatusSucceeded {
		return pos.Payment{}, pos.Errorf(pos.Conflict, op, "order is not paid: %s (%s)", res.Status, unknownReason(res))
	}
	if req.OutTradeNo != "" && res.OutTradeNo != req.OutTradeNo {
		return pos.Payment{}, pos.Errorf(pos.Unknown, op, "the gateway answered about order %q, not %q", res.OutTradeNo, req.OutTradeNo)
	}
	if req.TransactionID != "" && res.TransactionID != req.TransactionID {
		return pos.Payment{}, pos.Errorf(pos.Unknown, op, "the gateway answered about %q, not %q", res.TransactionID, req.TransactionID)
	}
	if p, err := r.journaled(ctx, op, name, res.OutTradeNo); err == nil || !pos.Match(pos.NotFound, err) {
		return p, err
	}
	return r.adopt(ctx, name, res, "looked up by the cashier: placed outside the till, verified paid", true)
}

// journaled returns the payment of outTradeNo when it belongs to gateway.
func (r *Runner) journaled(ctx context.Context, op, gateway, outTradeNo string) (pos.Payment, error) {
	p, err := r.opts.Journal.PaymentByOutTradeNo(ctx, outTradeNo)
	if err != nil {
		return p, err
	}
	if p.Gateway != gateway {
		return pos.Payment{}, pos.Errorf(pos.Conflict, op, "order %s is a payment of gateway %s", outTradeNo, p.Gateway)
	}
	return p, nil
}

// adoptNotified adopts the order of a verified notification the journal
// does not know, when its gateway takes external orders. It reports
// whether the notification was for it to take.
func (r *Runner) adoptNotified(ctx context.Context, gateway string, n gateways.Notification) (pos.Payment, bool, error) {
	g, ok := r.opts.Gateways[gateway]
	if !ok || !g.Capabilities().External {
		return pos.Payment{}, false, nil
	}
	if n.Result.Status != gateways.StatusSucceeded {
		// Only a verified paid order is adopted; the platform resends.
		return pos.Payment{}, true, pos.Errorf(pos.NotFound, "flows.Notify", "order %s is not journaled and the notification does not say it is paid", n.OutTradeNo)
	}
	res := n.Result
	if res.OutTradeNo == "" {
		res.OutTradeNo = n.OutTradeNo
	}
	if res.OutTradeNo != n.OutTradeNo {
		return pos.Payment{}, true, pos.Errorf(pos.Unknown, "flows.Notify", "notification names order %q and %q", n.OutTradeNo, res.OutTradeNo)
	}
	p, err := r.adopt(ctx, gateway, res, "notified paid: placed outside the till", false)
	return p, true, err
}

// adopt journals a verified paid external order as a succeeded payment,
// with its receipts. show puts the result on the customer display (a
// lookup at the till; a notification arrives while the till may be busy
// with another customer, so it only wakes waiters).
func (r *Runner) adopt(ctx context.Context, gateway string, res gateways.Result, reason string, show bool) (pos.Payment, error) {
	const op = "flows.adopt"
	switch {
	case res.Status != gateways.StatusSucceeded:
		return pos.Payment{}, pos.Errorf(pos.Internal, op, "adopting an order that is %s", res.Status)
	case res.Mismatch != "":
		return pos.Payment{}, pos.Errorf(pos.Unknown, op, "not adopted: %s", res.Mismatch)
	case res.OutTradeNo == "":
		return pos.Payment{}, pos.Errorf(pos.Unknown, op, "the gateway's answer names no order number")
	case !res.Amount.Currency.Valid() || res.Amount.Minor <= 0:
		return pos.Payment{}, pos.Errorf(pos.Unknown, op, "the gateway's answer has no valid amount (%v)", res.Amount)
	}
	now := r.opts.Clock.Now()
	p := pos.Payment{
		ID:            newPaymentID(),
		OutTradeNo:    res.OutTradeNo,
		Gateway:       gateway,
		Method:        pos.MerchantQR, // the customer paid on the phone, from a merchant's order
		External:      true,
		Amount:        res.Amount,
		Wallet:        res.Wallet,
		State:         pos.StateSucceeded,
		Reason:        reason,
		TransactionID: res.TransactionID,
		CreatedAt:     now,
		UpdatedAt:     now,
		SubmittedAt:   now,
		Deadline:      now,
		AnsweredAt:    now,
	}
	c := store.Change{Payment: p, Reason: reason, Detail: "adopted: " + res.Detail, At: now}
	if rp, ok := r.opts.Receipts.(ReceiptPlanner); ok {
		c.Prints = rp.ReceiptJobs(p)
	}
	if err := r.opts.Journal.Append(ctx, c); err != nil {
		if pos.Match(pos.Conflict, err) {
			// Adopted meanwhile (a notification and a lookup racing).
			if q, qerr := r.opts.Journal.PaymentByOutTradeNo(ctx, res.OutTradeNo); qerr == nil && q.Gateway == gateway {
				return q, nil
			}
		}
		return pos.Payment{}, fmt.Errorf("flows: adopting external order %s: %w", res.OutTradeNo, err)
	}
	r.log.Info("external payment adopted", "payment", p.ID, "gateway", gateway, "outTradeNo", p.OutTradeNo, "amount", p.Amount.String(), "reason", reason)
	if show {
		r.afterChange(ctx, "", p)
	} else {
		r.notify()
	}
	return p, nil
}
