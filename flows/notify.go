package flows

import (
	"context"
	"sync"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// Notify applies a verified asynchronous notification from gateway name as
// if it were the answer to a query. Acquirers resend a notification until
// they see the acknowledgement, so duplicates are expected: they are
// dropped by ID. A notification for an order we do not know is an error
// (the caller still acknowledges nothing, so the acquirer will retry).
//
// Like every answer, it is checked against the journal first: one that
// names another amount or currency (or that its adapter flags) is never
// applied; it is journaled as a flagged event, logged at ERROR, and
// refused (pos.Invalid), so the acquirer hears "fail" and the order is
// queried. A verified "paid" for a payment the till already ended failed
// or reversed is flagged charged-late (refundable), never acknowledged
// silently. While a merchant-QR order is being closed a "paid" ends it
// succeeded; while a micropay is reversed the reverse goes on (reversing
// a paid order returns the money).
func (r *Runner) Notify(ctx context.Context, gateway string, n gateways.Notification) (pos.Payment, error) {
	const op = "flows.Notify"
	key := gateway + "/" + n.ID
	if seen, prior := r.seenNotification(key); seen {
		p, err := r.opts.Journal.PaymentByOutTradeNo(ctx, n.OutTradeNo)
		if err == nil {
			err = prior
		}
		return p, err
	}
	p, err := r.opts.Journal.PaymentByOutTradeNo(ctx, n.OutTradeNo)
	if pos.Match(pos.NotFound, err) && n.Result.OutRefundNo != "" {
		// About one of our refunds or voids, by its own number (an
		// Allinpay *_RETURN or *_CANCEL notification names only that).
		if rp, ok, rerr := r.refundNotified(ctx, gateway, n); ok {
			if rerr == nil {
				r.markNotification(key, nil)
			}
			return rp, rerr
		}
	}
	if pos.Match(pos.NotFound, err) {
		// An order placed outside the till (external.go).
		if np, took, aerr := r.adoptNotified(ctx, gateway, n); took {
			if aerr == nil {
				r.markNotification(key, nil)
			}
			return np, aerr
		}
	}
	if err != nil {
		return p, err
	}
	if p.Gateway != gateway {
		return p, pos.Errorf(pos.Invalid, op, "notification from %s for a payment of %s", gateway, p.Gateway)
	}
	switch p.State {
	case pos.StateSubmitting, pos.StateAwaitingCode:
		// The submit's own answer is on its way and decides; a
		// notification arriving first is kept by the acquirer's retry.
		return p, pos.Errorf(pos.Conflict, op, "payment %s is %s; notification not applied yet", p.ID, p.State)
	}
	np, err := r.apply(ctx, p.ID, Input{Kind: Queried, Result: n.Result, Notification: true}, nil)
	if err != nil {
		return np, err
	}
	if m := mismatch(p, Queried, n.Result); m != "" {
		bad := pos.Errorf(pos.Invalid, op, "notification for payment %s does not match the journal: %s", p.ID, m)
		r.markNotification(key, bad)
		return np, bad
	}
	r.markNotification(key, nil)
	return np, nil
}

// notificationsSeen remembers recent notification IDs; bounded, because the
// journal's final states already make duplicates harmless.
type notificationsSeen struct {
	mu    sync.Mutex
	ids   map[string]error // nil: applied; else why it was refused
	order []string
}

const maxSeenNotifications = 4096

func (r *Runner) seenNotification(id string) (bool, error) {
	r.notes.mu.Lock()
	defer r.notes.mu.Unlock()
	err, ok := r.notes.ids[id]
	return ok, err
}

func (r *Runner) markNotification(id string, outcome error) {
	r.notes.mu.Lock()
	defer r.notes.mu.Unlock()
	if r.notes.ids == nil {
		r.notes.ids = map[string]error{}
	}
	if _, ok := r.notes.ids[id]; ok {
		return
	}
	r.notes.ids[id] = outcome
	r.notes.order = append(r.notes.order, id)
	if len(r.notes.order) > maxSeenNotifications {
		delete(r.notes.ids, r.notes.order[0])
		r.notes.order = r.notes.order[1:]
	}
}

// refundLookup is the part of a journal that finds a refund by its number
// (the SQLite journal has it).
type refundLookup interface {
	RefundByOutRefundNo(ctx context.Context, no string) (pos.Refund, error)
}

// refundNotified acknowledges a verified notification about one of our
// refunds or voids (a refund record) that names it only by its own number.
// Nothing is adopted from it: the refund runner settles the record by its
// own queries, as it would without the notification (trust only what was
// asked). ok is false when no refund has that number.
func (r *Runner) refundNotified(ctx context.Context, gateway string, n gateways.Notification) (pos.Payment, bool, error) {
	rl, ok := r.opts.Journal.(refundLookup)
	if !ok {
		return pos.Payment{}, false, nil
	}
	rf, err := rl.RefundByOutRefundNo(ctx, n.Result.OutRefundNo)
	if err != nil {
		return pos.Payment{}, false, nil
	}
	p, err := r.opts.Journal.Payment(ctx, rf.PaymentID)
	if err != nil {
		return pos.Payment{}, true, err
	}
	if p.Gateway != gateway {
		return p, true, pos.Errorf(pos.Invalid, "flows.Notify", "notification from %s for refund %s of a payment of %s", gateway, rf.ID, p.Gateway)
	}
	r.log.Info("refund notification acknowledged; the refund is settled by its queries", "refund", rf.ID, "method", rf.Method.OrRefund(),
		"outRefundNo", rf.OutRefundNo, "state", rf.State, "notified", n.Result.Status)
	return p, true, nil
}
