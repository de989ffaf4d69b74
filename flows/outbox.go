package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// The operator's outbox: every gateway operation still owed (a payment's
// query, reverse or close; a refund's query), with "try it now" and
// "resolve by hand".
//
// Decisions written down here:
//   - An item's ID names its table: "op_12" is row 12 of the payment
//     outbox, "rop_3" row 3 of the refund outbox.
//   - An item is overdue (Alert) when its payment (refund) has owed
//     gateway work for longer than AlertAfter, counted from the payment's
//     (refund's) creation, not from the row's: a poll replaces its row at
//     every answer, yet the payment has been unresolved all along.
//   - An overdue item is logged at ERROR once per item and process (by
//     Run, which checks every few seconds, and by List).
//   - Resolving by hand names a final outcome. It is journaled like any
//     decision: compare-and-set on the state the operator saw, along the
//     transition table (anything else is refused, nothing changes), as an
//     event whose reason says why and whose detail says who; every
//     operation still owed for the payment (refund) is completed in the
//     same write, and a payment's receipts are owed as for any final
//     state.

// DefaultAlertAfter is how long an operation may stay owed before it is
// flagged, when the config does not say.
const DefaultAlertAfter = 5 * time.Minute

// OutboxItem is one gateway operation still owed, for the operator.
type OutboxItem struct {
	ID        string // "op_N" or "rop_N"
	PaymentID string
	RefundID  string // set for a refund's query
	// Kind is query, reverse or close for a payment, refund_query for a
	// refund.
	Kind      string
	Attempts  int
	LastError string
	NextTry   time.Time
	CreatedAt time.Time // when this row was enqueued
	// PendingSince is when its payment (refund) was created: how long it
	// has been unresolved.
	PendingSince time.Time
	State        string // the payment's (refund's) state
	Gateway      string
	OutTradeNo   string
	OutRefundNo  string
	Amount       pos.Money
	// Alert: owed for longer than AlertAfter.
	Alert bool
}

// Resolution is an operator's verdict on an item: the outcome (a final
// state of the payment or refund), why, and who says so.
type Resolution struct {
	Outcome string
	Reason  string
	By      string
}

// Resolved is the payment or refund after a resolution.
type Resolved struct {
	Payment *pos.Payment
	Refund  *pos.Refund
}

// OutboxOptions configures an Outbox. Payments is required and its
// journal must be a store.OutboxAdmin.
type OutboxOptions struct {
	Payments *Runner
	// Refunds is the refund runner; nil: refunds are not listed.
	Refunds *RefundRunner
	// AlertAfter flags items owed longer (default DefaultAlertAfter).
	AlertAfter time.Duration
	Logger     *slog.Logger // default: the payment runner's
}

// Outbox is the operator's view of the outboxes.
type Outbox struct {
	o     OutboxOptions
	admin store.OutboxAdmin
	log   *slog.Logger

	mu      sync.Mutex
	alerted map[string]bool
}

// NewOutbox validates o and returns an Outbox.
func NewOutbox(o OutboxOptions) (*Outbox, error) {
	if o.Payments == nil {
		return nil, errors.New("flows: OutboxOptions.Payments is required")
	}
	admin, ok := o.Payments.opts.Journal.(store.OutboxAdmin)
	if !ok {
		return nil, errors.New("flows: the journal does not list its outbox (store.OutboxAdmin)")
	}
	if o.AlertAfter < 0 {
		return nil, errors.New("flows: OutboxOptions.AlertAfter must not be negative")
	}
	if o.AlertAfter == 0 {
		o.AlertAfter = DefaultAlertAfter
	}
	if o.Logger == nil {
		o.Logger = o.Payments.log
	}
	return &Outbox{o: o, admin: admin, log: o.Logger, alerted: map[string]bool{}}, nil
}

// AlertAfter is how long an item may be owed before it is flagged.
func (ob *Outbox) AlertAfter() time.Duration { return ob.o.AlertAfter }

func (ob *Outbox) now() time.Time { return ob.o.Payments.opts.Clock.Now() }

// List returns every item, payments' first, each oldest first, flagging
// (and logging once) the overdue ones.
func (ob *Outbox) List(ctx context.Context) ([]OutboxItem, error) {
	j := ob.o.Payments.opts.Journal
	ops, err := ob.admin.AllOps(ctx)
	if err != nil {
		return nil, fmt.Errorf("flows: listing the outbox: %w", err)
	}
	now := ob.now()
	items := []OutboxItem{}
	for _, op := range ops {
		p, err := j.Payment(ctx, op.PaymentID)
		if err != nil {
			return nil, fmt.Errorf("flows: outbox op %d: %w", op.ID, err)
		}
		items = append(items, ob.paymentItem(op, p, now))
	}
	if ob.o.Refunds != nil {
		rops, err := ob.admin.AllRefundOps(ctx)
		if err != nil {
			return nil, fmt.Errorf("flows: listing the refund outbox: %w", err)
		}
		for _, op := range rops {
			r, err := ob.o.Refunds.o.Journal.Refund(ctx, op.RefundID)
			if err != nil {
				return nil, fmt.Errorf("flows: refund outbox op %d: %w", op.ID, err)
			}
			p, err := ob.o.Refunds.o.Journal.Payment(ctx, r.PaymentID)
			if err != nil {
				return nil, fmt.Errorf("flows: refund outbox op %d: %w", op.ID, err)
			}
			items = append(items, ob.refundItem(op, r, p, now))
		}
	}
	ob.alert(items)
	return items, nil
}

func (ob *Outbox) paymentItem(op store.Op, p pos.Payment, now time.Time) OutboxItem {
	return OutboxItem{
		ID: "op_" + strconv.FormatInt(op.ID, 10), PaymentID: p.ID, Kind: string(op.Kind),
		Attempts: op.Attempts, LastError: op.LastError, NextTry: op.NotBefore, CreatedAt: op.CreatedAt,
		PendingSince: p.CreatedAt, State: string(p.State), Gateway: p.Gateway, OutTradeNo: p.OutTradeNo,
		Amount: p.Amount, Alert: now.Sub(p.CreatedAt) >= ob.o.AlertAfter,
	}
}

func (ob *Outbox) refundItem(op store.RefundOp, r pos.Refund, p pos.Payment, now time.Time) OutboxItem {
	// A refund's query replaces its row at every answer: its attempts are
	// the refund's queries, its last error what the gateway last said.
	return OutboxItem{
		ID: "rop_" + strconv.FormatInt(op.ID, 10), PaymentID: r.PaymentID, RefundID: r.ID, Kind: "refund_" + string(op.Kind),
		Attempts: r.Queries, LastError: r.Outcome, NextTry: op.NotBefore, CreatedAt: op.CreatedAt,
		PendingSince: r.CreatedAt, State: string(r.State), Gateway: p.Gateway, OutTradeNo: p.OutTradeNo,
		OutRefundNo: r.OutRefundNo, Amount: r.Amount, Alert: now.Sub(r.CreatedAt) >= ob.o.AlertAfter,
	}
}

// alert logs each overdue item at ERROR, once.
func (ob *Outbox) alert(items []OutboxItem) {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	for _, it := range items {
		if !it.Alert || ob.alerted[it.ID] {
			continue
		}
		ob.alerted[it.ID] = true
		ob.log.Error("gateway operation overdue: an operator should look (posagent outbox)",
			"item", it.ID, "payment", it.PaymentID, "refund", it.RefundID, "op", it.Kind, "state", it.State,
			"attempts", it.Attempts, "since", it.PendingSince, "alertAfter", ob.o.AlertAfter, "lastError", it.LastError)
	}
}

// Overdue counts the items owed longer than AlertAfter (for metrics).
func (ob *Outbox) Overdue(ctx context.Context) (int, error) {
	items, err := ob.List(ctx)
	n := 0
	for _, it := range items {
		if it.Alert {
			n++
		}
	}
	return n, err
}

// Run checks the outboxes for overdue items until ctx ends, so an alert is
// logged even when nobody asks.
func (ob *Outbox) Run(ctx context.Context) {
	every := min(max(ob.o.AlertAfter/10, time.Second), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := ob.List(ctx); err != nil && ctx.Err() == nil {
			ob.log.Warn("checking the outbox failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// parseItemID splits "op_12" / "rop_3".
func parseItemID(id string) (refund bool, n int64, err error) {
	const op = "flows.outbox"
	rest, ok := strings.CutPrefix(id, "rop_")
	if ok {
		refund = true
	} else if rest, ok = strings.CutPrefix(id, "op_"); !ok {
		return false, 0, pos.Errorf(pos.NotFound, op, "no outbox item %q (ids are op_N or rop_N)", id)
	}
	n, err = strconv.ParseInt(rest, 10, 64)
	if err != nil || n <= 0 {
		return false, 0, pos.Errorf(pos.NotFound, op, "no outbox item %q (ids are op_N or rop_N)", id)
	}
	return refund, n, nil
}

// find returns the item id names, or pos.NotFound.
func (ob *Outbox) find(ctx context.Context, id string) (OutboxItem, error) {
	if _, _, err := parseItemID(id); err != nil {
		return OutboxItem{}, err
	}
	items, err := ob.List(ctx)
	if err != nil {
		return OutboxItem{}, err
	}
	for _, it := range items {
		if it.ID == id {
			return it, nil
		}
	}
	return OutboxItem{}, pos.Errorf(pos.NotFound, "flows.outbox", "no outstanding outbox item %s (done already, or never was)", id)
}

// Retry makes item id due now and wakes its runner.
func (ob *Outbox) Retry(ctx context.Context, id string) (OutboxItem, error) {
	it, err := ob.find(ctx, id)
	if err != nil {
		return it, err
	}
	refund, n, _ := parseItemID(id)
	now := ob.now()
	// Due now in its payment's (refund's) frame, which a clock step may
	// have set apart from the wall clock (timeline.go).
	if !refund {
		now = ob.o.Payments.tl.now(it.PaymentID)
	} else {
		now = ob.o.Refunds.tl.now(it.RefundID)
	}
	if refund {
		err = ob.admin.RetryRefundOpNow(ctx, n, now)
	} else {
		err = ob.admin.RetryOpNow(ctx, n, now)
	}
	if err != nil {
		return it, fmt.Errorf("flows: retrying %s: %w", id, err)
	}
	it.NextTry = now
	ob.log.Info("outbox operation retried by hand", "item", id, "payment", it.PaymentID, "refund", it.RefundID, "op", it.Kind)
	if refund {
		ob.o.Refunds.notify()
	} else {
		ob.o.Payments.notify()
	}
	return it, nil
}

// checkResolution validates an operator's text.
func checkResolution(res Resolution) error {
	const op = "flows.resolve"
	if strings.TrimSpace(res.Reason) == "" {
		return pos.Errorf(pos.Invalid, op, "reason is required (what was confirmed, and with whom)")
	}
	if strings.TrimSpace(res.By) == "" {
		return pos.Errorf(pos.Invalid, op, "by is required (who resolves it)")
	}
	if len(res.Reason) > 200 || len(res.By) > 64 {
		return pos.Errorf(pos.Invalid, op, "reason is at most 200 bytes and by at most 64")
	}
	if strings.ContainsFunc(res.Reason+res.By, unicode.IsControl) {
		return pos.Errorf(pos.Invalid, op, "reason and by must not hold control characters")
	}
	return nil
}

// Resolve ends item id by hand with res.Outcome, journaled with who and
// why.
func (ob *Outbox) Resolve(ctx context.Context, id string, res Resolution) (Resolved, error) {
	refund, n, err := parseItemID(id)
	if err != nil {
		return Resolved{}, err
	}
	if err := checkResolution(res); err != nil {
		return Resolved{}, err
	}
	it, err := ob.find(ctx, id)
	if err != nil {
		return Resolved{}, err
	}
	detail := fmt.Sprintf("resolved by hand by %s (outbox %s, %s, %d attempts)", res.By, id, it.Kind, it.Attempts)
	reason := "resolved by hand: " + res.Reason
	if refund {
		if ob.o.Refunds == nil {
			return Resolved{}, pos.Errorf(pos.Unavailable, "flows.resolve", "refunds are not configured")
		}
		r, err := ob.o.Refunds.resolveByHand(ctx, it.RefundID, n, pos.RefundState(res.Outcome), reason, detail)
		if err != nil {
			return Resolved{}, err
		}
		ob.log.Warn("refund resolved by hand", "item", id, "refund", r.ID, "payment", r.PaymentID, "to", r.State, "by", res.By, "reason", res.Reason)
		return Resolved{Refund: &r}, nil
	}
	p, err := ob.o.Payments.resolveByHand(ctx, it.PaymentID, n, pos.State(res.Outcome), reason, detail)
	if err != nil {
		return Resolved{}, err
	}
	ob.log.Warn("payment resolved by hand", "item", id, "payment", p.ID, "to", p.State, "by", res.By, "reason", res.Reason)
	return Resolved{Payment: &p}, nil
}

// resolveByHand journals an operator's final outcome for payment id, whose
// outbox op opID is outstanding, under the decision lock.
func (r *Runner) resolveByHand(ctx context.Context, id string, opID int64, to pos.State, reason, detail string) (pos.Payment, error) {
	const op = "flows.resolve"
	ctx = context.WithoutCancel(ctx)
	r.decideMu.Lock()
	p, err := r.opts.Journal.Payment(ctx, id)
	if err != nil {
		r.decideMu.Unlock()
		return p, err
	}
	from := p.State
	fail := func(err error) (pos.Payment, error) { r.decideMu.Unlock(); return p, err }
	if !to.Final() {
		return fail(pos.Errorf(pos.Invalid, op, "outcome %q is not a final state (want one of %s)", to, finalsFrom(from)))
	}
	if !pos.CanTransition(from, to) {
		return fail(pos.Errorf(pos.Invalid, op, "payment %s is %s, which cannot become %s (allowed: %s)", id, from, to, finalsFrom(from)))
	}
	ops, err := r.opts.Journal.Ops(ctx, id)
	if err != nil {
		return fail(err)
	}
	if !slices.ContainsFunc(ops, func(o store.Op) bool { return o.ID == opID }) {
		return fail(pos.Errorf(pos.NotFound, op, "outbox op_%d of payment %s is done already", opID, id))
	}
	now := r.tl.now(id)
	next := p
	next.State, next.Reason, next.UpdatedAt = to, reason, now
	c := store.Change{Payment: next, From: from, Reason: reason, Detail: detail, At: now}
	for _, o := range ops {
		c.Done = append(c.Done, o.ID)
	}
	if rp, ok := r.opts.Receipts.(ReceiptPlanner); ok {
		c.Prints = rp.ReceiptJobs(next)
	}
	if err := r.opts.Journal.Append(ctx, c); err != nil {
		return fail(fmt.Errorf("flows: journaling the resolution of %s (%s -> %s): %w", id, from, to, err))
	}
	r.decideMu.Unlock()
	r.afterChange(ctx, from, next)
	return next, nil
}

func finalsFrom(from pos.State) string {
	var out []string
	for _, s := range pos.Transitions()[from] {
		if s.Final() {
			out = append(out, string(s))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// resolveByHand journals an operator's final outcome for refund id, whose
// refund outbox op opID is outstanding.
func (rr *RefundRunner) resolveByHand(ctx context.Context, id string, opID int64, to pos.RefundState, reason, detail string) (pos.Refund, error) {
	const op = "flows.resolve"
	ctx = context.WithoutCancel(ctx)
	r, err := rr.o.Journal.Refund(ctx, id)
	if err != nil {
		return r, err
	}
	from := r.State
	if !to.Final() || !pos.CanTransitionRefund(from, to) {
		var allowed []string
		for _, s := range pos.RefundTransitions()[from] {
			if s.Final() {
				allowed = append(allowed, string(s))
			}
		}
		return r, pos.Errorf(pos.Invalid, op, "refund %s is %s, which cannot be resolved as %q (allowed: %s)", id, from, to, strings.Join(allowed, ", "))
	}
	ops, err := rr.o.Journal.RefundOps(ctx, id)
	if err != nil {
		return r, err
	}
	if !slices.ContainsFunc(ops, func(o store.RefundOp) bool { return o.ID == opID }) {
		return r, pos.Errorf(pos.NotFound, op, "outbox rop_%d of refund %s is done already", opID, id)
	}
	now := rr.tl.now(id)
	next := r
	next.State, next.Outcome, next.UpdatedAt = to, reason, now
	c := store.RefundChange{Refund: next, From: from, Reason: reason, Detail: detail, At: now}
	for _, o := range ops {
		c.Done = append(c.Done, o.ID)
	}
	if rr.o.Receipts != nil {
		c.Prints = rr.o.Receipts.RefundReceiptJobs(next)
	}
	if err := rr.o.Journal.AppendRefund(ctx, c); err != nil {
		return r, fmt.Errorf("flows: journaling the resolution of refund %s (%s -> %s): %w", id, from, to, err)
	}
	rr.tl.end(id)
	rr.notify()
	if rr.o.Receipts != nil {
		rr.o.Receipts.Wake()
	}
	return next, nil
}
