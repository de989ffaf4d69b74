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
// dropped by ID, and a notification for a payment already final changes
// nothing. A notification for an order we do not know is an error (the
// caller still acknowledges nothing, so the acquirer will retry).
func (r *Runner) Notify(ctx context.Context, gateway string, n gateways.Notification) (pos.Payment, error) {
	const op = "flows.Notify"
	if r.seenNotification(gateway + "/" + n.ID) {
		return r.opts.Journal.PaymentByOutTradeNo(ctx, n.OutTradeNo)
	}
	p, err := r.opts.Journal.PaymentByOutTradeNo(ctx, n.OutTradeNo)
	if pos.Match(pos.NotFound, err) {
		// An order placed outside the till (external.go).
		if np, took, aerr := r.adoptNotified(ctx, gateway, n); took {
			if aerr == nil {
				r.markNotification(gateway + "/" + n.ID)
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
	if p.State.Final() {
		r.markNotification(gateway + "/" + n.ID)
		return p, nil
	}
	switch p.State {
	case pos.StateUserPaying, pos.StateUnknown:
	case pos.StateReversing:
		// The reverse goes on whatever the notification says: reversing
		// a paid order refunds it.
		r.markNotification(gateway + "/" + n.ID)
		return p, nil
	default:
		// Submitting: the submit's own answer is on its way and decides;
		// a notification arriving first is kept by the acquirer's retry.
		return p, pos.Errorf(pos.Conflict, op, "payment %s is %s; notification not applied yet", p.ID, p.State)
	}
	np, err := r.apply(ctx, p.ID, Input{Kind: Queried, Result: n.Result}, nil)
	if err == nil {
		r.markNotification(gateway + "/" + n.ID)
	}
	return np, err
}

// notificationsSeen remembers recent notification IDs; bounded, because the
// journal's final states already make duplicates harmless.
type notificationsSeen struct {
	mu    sync.Mutex
	ids   map[string]struct{}
	order []string
}

const maxSeenNotifications = 4096

func (r *Runner) seenNotification(id string) bool {
	r.notes.mu.Lock()
	defer r.notes.mu.Unlock()
	_, ok := r.notes.ids[id]
	return ok
}

func (r *Runner) markNotification(id string) {
	r.notes.mu.Lock()
	defer r.notes.mu.Unlock()
	if r.notes.ids == nil {
		r.notes.ids = map[string]struct{}{}
	}
	if _, ok := r.notes.ids[id]; ok {
		return
	}
	r.notes.ids[id] = struct{}{}
	r.notes.order = append(r.notes.order, id)
	if len(r.notes.order) > maxSeenNotifications {
		delete(r.notes.ids, r.notes.order[0])
		r.notes.order = r.notes.order[1:]
	}
}
