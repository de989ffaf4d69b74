package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

var _ store.RefundJournal = (*DB)(nil)

// AppendRefund applies c in one immediate transaction. A creation checks,
// under the write lock, that the payment exists (pos.NotFound), is
// refundable (pos.Refundable: succeeded, or flagged ChargedLate; else
// pos.Conflict), is in the refund's currency (pos.Invalid), and
// that its refunds not failed, this one included, sum to at most its
// amount (pos.Conflict). Since every write holds the one write lock from
// BEGIN to COMMIT, two refunds racing for the last of an amount are
// decided one after the other: exactly the ones that fit are journaled.
//
// A transition is compare-and-set on c.From and must follow
// pos.CanTransitionRefund; PaymentID, OutRefundNo, Amount and CreatedAt
// never change (pos.Invalid). A Done ID that is not an outstanding op of
// this refund is pos.Conflict.
func (db *DB) AppendRefund(ctx context.Context, c store.RefundChange) error {
	const op = "sqlite.AppendRefund"
	r := c.Refund
	if err := validateRefundChange(op, c); err != nil {
		return err
	}
	row, err := encodeRefund(op, r)
	if err != nil {
		return err
	}
	at, err := encTime(op, "At", c.At)
	if err != nil {
		return err
	}
	var enqueue [][]any
	for _, o := range c.Enqueue {
		switch {
		case o.ID != 0:
			return pos.Errorf(pos.Invalid, op, "refund %s: enqueued op has ID %d; the journal assigns IDs", r.ID, o.ID)
		case o.RefundID != "" && o.RefundID != r.ID:
			return pos.Errorf(pos.Invalid, op, "refund %s: enqueued op is for refund %s", r.ID, o.RefundID)
		case o.Kind != store.RefundOpQuery && o.Kind != store.RefundOpResend:
			return pos.Errorf(pos.Invalid, op, "refund %s: unknown op kind %q", r.ID, o.Kind)
		}
		if o.CreatedAt.IsZero() {
			o.CreatedAt = c.At
		}
		nb, err := encTime(op, "NotBefore", o.NotBefore)
		if err != nil {
			return err
		}
		ca, err := encTime(op, "CreatedAt", o.CreatedAt)
		if err != nil {
			return err
		}
		enqueue = append(enqueue, []any{r.ID, string(o.Kind), nb, ca})
	}
	var prints [][]any
	for _, j := range c.Prints {
		if j.RefundID == "" {
			j.RefundID = r.ID
		}
		if j.PaymentID == "" {
			j.PaymentID = r.PaymentID
		}
		if j.RefundID != r.ID || j.PaymentID != r.PaymentID {
			return pos.Errorf(pos.Invalid, op, "refund %s: print job is for refund %q of payment %q", r.ID, j.RefundID, j.PaymentID)
		}
		args, err := encodeNewPrint(op, j, c.At)
		if err != nil {
			return err
		}
		prints = append(prints, args)
	}

	tx, q, err := db.begin(ctx) // BEGIN IMMEDIATE, from the DSN
	if err != nil {
		return classify(op, err)
	}
	defer tx.Rollback()

	cur, err := scanRefund(q.QueryRowContext(ctx, selectRefund+` WHERE id = ?`, r.ID))
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return classify(op, err)
	}
	if c.From == "" {
		if exists {
			return pos.Errorf(pos.Conflict, op, "refund %s already exists (in state %q)", r.ID, cur.State)
		}
		if err := checkRefundable(ctx, q, op, r); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, insertRefund, row...); err != nil {
			if pos.KindOf(classify(op, err)) == pos.Conflict {
				return pos.Errorf(pos.Conflict, op, "refund %s: out_refund_no %s: %w (%v)", r.ID, r.OutRefundNo, store.ErrNumberUsed, err)
			}
			return classify(op, err)
		}
	} else {
		if !exists {
			return pos.Errorf(pos.NotFound, op, "refund %s does not exist (change expects state %q)", r.ID, c.From)
		}
		if cur.State != c.From {
			return pos.Errorf(pos.Conflict, op, "refund %s is in state %q, not %q as the change expects", r.ID, cur.State, c.From)
		}
		switch {
		case cur.PaymentID != r.PaymentID, cur.OutRefundNo != r.OutRefundNo, cur.Amount != r.Amount, !cur.CreatedAt.Equal(r.CreatedAt),
			cur.Method.OrRefund() != r.Method.OrRefund():
			return pos.Errorf(pos.Invalid, op, "refund %s: payment, out_refund_no, amount, method and creation time are fixed once journaled", r.ID)
		}
		if _, err := q.ExecContext(ctx, updateRefund, row...); err != nil {
			return classify(op, err)
		}
	}
	if _, err := q.ExecContext(ctx,
		`INSERT INTO refund_events (refund_id, at, from_state, to_state, reason, detail, flag) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.ID, at, string(c.From), string(r.State), c.Reason, c.Detail, string(c.Flag)); err != nil {
		return classify(op, err)
	}
	for _, id := range c.Done {
		res, err := q.ExecContext(ctx, `DELETE FROM refund_outbox WHERE id = ? AND refund_id = ?`, id, r.ID)
		if err != nil {
			return classify(op, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return classify(op, err)
		} else if n != 1 {
			return pos.Errorf(pos.Conflict, op, "refund outbox op %d is not outstanding for refund %s", id, r.ID)
		}
	}
	for _, args := range enqueue {
		if _, err := q.ExecContext(ctx,
			`INSERT INTO refund_outbox (refund_id, kind, not_before, created_at) VALUES (?, ?, ?, ?)`, args...); err != nil {
			return classify(op, err)
		}
	}
	for _, args := range prints {
		if _, err := q.ExecContext(ctx, insertPrint, args...); err != nil {
			return classify(op, err)
		}
	}
	if k := c.Idempotency; k != nil {
		kk := *k
		if kk.RefundID == "" {
			kk.RefundID = r.ID
		}
		if kk.PaymentID == "" {
			kk.PaymentID = r.PaymentID
		}
		if err := insertKey(ctx, q, op, kk); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return classify(op, err)
	}
	return nil
}

// checkRefundable is the refund rule, read inside the creating
// transaction.
func checkRefundable(ctx context.Context, q prepared, op string, r pos.Refund) error {
	p, err := scanPayment(q.QueryRowContext(ctx, selectPayment+` WHERE id = ?`, r.PaymentID))
	if errors.Is(err, sql.ErrNoRows) {
		return pos.Errorf(pos.NotFound, op, "no payment %s", r.PaymentID)
	}
	if err != nil {
		return classify(op, err)
	}
	if !pos.Refundable(p) {
		return pos.Errorf(pos.Conflict, op, "payment %s is %s; only a succeeded payment can be refunded (or one charged after the till gave up)", p.ID, p.State)
	}
	if r.Amount.Currency != p.Amount.Currency {
		return pos.Errorf(pos.Invalid, op, "refund in %s of a payment in %s", r.Amount.Currency, p.Amount.Currency)
	}
	var held int64
	if err := q.QueryRowContext(ctx,
		`SELECT coalesce(sum(amount_minor), 0) FROM refunds WHERE payment_id = ? AND state <> 'failed'`,
		p.ID).Scan(&held); err != nil {
		return classify(op, err)
	}
	if left := p.Amount.Minor - held; r.Amount.Minor > left {
		return pos.Errorf(pos.Conflict, op, "refund of %s exceeds what is left to refund of payment %s: %s (paid %s, refunded or pending %s)",
			r.Amount, p.ID, pos.Money{Minor: left, Currency: p.Amount.Currency}, p.Amount, pos.Money{Minor: held, Currency: p.Amount.Currency})
	}
	return nil
}

// validateRefundChange checks everything about c that needs no database.
func validateRefundChange(op string, c store.RefundChange) error {
	r := c.Refund
	switch {
	case r.ID == "":
		return pos.Errorf(pos.Invalid, op, "refund has no ID")
	case r.PaymentID == "":
		return pos.Errorf(pos.Invalid, op, "refund %s names no payment", r.ID)
	case !r.State.Valid():
		return pos.Errorf(pos.Invalid, op, "refund %s: unknown state %q", r.ID, r.State)
	case c.From == "" && r.State != pos.RefundSubmitting:
		return pos.Errorf(pos.Invalid, op, "refund %s: a refund is created in %q, not %q", r.ID, pos.RefundSubmitting, r.State)
	case !c.Flag.Valid():
		return pos.Errorf(pos.Invalid, op, "refund %s: unknown flag %q", r.ID, c.Flag)
	case !r.Method.OrRefund().Valid():
		return pos.Errorf(pos.Invalid, op, "refund %s: unknown method %q", r.ID, r.Method)
	case r.Resends < 0:
		return pos.Errorf(pos.Invalid, op, "refund %s: negative Resends %d", r.ID, r.Resends)
	case c.From != "" && !pos.CanTransitionRefund(c.From, r.State):
		return pos.Errorf(pos.Invalid, op, "refund %s: transition %q -> %q is not allowed", r.ID, c.From, r.State)
	case r.OutRefundNo == "" || len(r.OutRefundNo) > 20:
		return pos.Errorf(pos.Invalid, op, "refund %s: out_refund_no %q must be 1 to 20 characters", r.ID, r.OutRefundNo)
	case !r.Amount.Currency.Valid():
		return pos.Errorf(pos.Invalid, op, "refund %s: unsupported currency %q", r.ID, r.Amount.Currency)
	case r.Amount.Minor <= 0 || r.Amount.Minor > pos.MaxMinor:
		return pos.Errorf(pos.Invalid, op, "refund %s: amount %d minor units is out of range", r.ID, r.Amount.Minor)
	case r.Queries < 0:
		return pos.Errorf(pos.Invalid, op, "refund %s: negative Queries %d", r.ID, r.Queries)
	case r.CreatedAt.IsZero():
		return pos.Errorf(pos.Invalid, op, "refund %s has no CreatedAt", r.ID)
	case c.At.IsZero():
		return pos.Errorf(pos.Invalid, op, "refund %s: change has no At time", r.ID)
	}
	seen := make(map[int64]bool, len(c.Done))
	for _, id := range c.Done {
		if id <= 0 || seen[id] {
			return pos.Errorf(pos.Invalid, op, "refund %s: Done lists op %d, which is not positive or is listed twice", r.ID, id)
		}
		seen[id] = true
	}
	return nil
}

const refundColumns = `id, payment_id, out_refund_no, amount_minor, currency, reason, state, outcome,
	gateway_refund_id, created_at, updated_at, submitted_at, queries, alert, resends, method`

const selectRefund = `SELECT ` + refundColumns + ` FROM refunds`

const insertRefund = `INSERT INTO refunds (` + refundColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// updateRefund takes insertRefund's arguments; the fixed columns are
// checked, not written.
const updateRefund = `UPDATE refunds SET reason = ?6, state = ?7, outcome = ?8, gateway_refund_id = ?9,
	updated_at = ?11, submitted_at = ?12, queries = ?13, alert = ?14, resends = ?15 WHERE id = ?1`

func encodeRefund(op string, r pos.Refund) ([]any, error) {
	var times [3]any
	for i, t := range []struct {
		name string
		t    time.Time
	}{{"CreatedAt", r.CreatedAt}, {"UpdatedAt", r.UpdatedAt}, {"SubmittedAt", r.SubmittedAt}} {
		v, err := encTime(op, t.name, t.t)
		if err != nil {
			return nil, err
		}
		times[i] = v
	}
	return []any{r.ID, r.PaymentID, r.OutRefundNo, r.Amount.Minor, string(r.Amount.Currency), r.Reason,
		string(r.State), r.Outcome, r.GatewayRefundID, times[0], times[1], times[2], r.Queries, r.Alert, r.Resends, string(r.Method.OrRefund())}, nil
}

func scanRefund(s scanner) (pos.Refund, error) {
	var (
		r                           pos.Refund
		currency, state, method     string
		created, updated, submitted sql.NullInt64
	)
	err := s.Scan(&r.ID, &r.PaymentID, &r.OutRefundNo, &r.Amount.Minor, &currency, &r.Reason, &state, &r.Outcome,
		&r.GatewayRefundID, &created, &updated, &submitted, &r.Queries, &r.Alert, &r.Resends, &method)
	if err != nil {
		return pos.Refund{}, err
	}
	r.Amount.Currency, r.State, r.Method = pos.Currency(currency), pos.RefundState(state), pos.RefundMethod(method)
	r.CreatedAt, r.UpdatedAt, r.SubmittedAt = decTime(created), decTime(updated), decTime(submitted)
	return r, nil
}

// Refund returns one refund by ID, or a pos.NotFound error.
func (db *DB) Refund(ctx context.Context, id string) (pos.Refund, error) {
	const op = "sqlite.Refund"
	r, err := scanRefund(db.rq.QueryRowContext(ctx, selectRefund+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return pos.Refund{}, pos.Errorf(pos.NotFound, op, "no refund %s", id)
	}
	if err != nil {
		return pos.Refund{}, classify(op, err)
	}
	return r, nil
}

// RefundByOutRefundNo returns one refund by its gateway number (our
// out_refund_no, unique), or a pos.NotFound error.
func (db *DB) RefundByOutRefundNo(ctx context.Context, no string) (pos.Refund, error) {
	const op = "sqlite.RefundByOutRefundNo"
	r, err := scanRefund(db.rq.QueryRowContext(ctx, selectRefund+` WHERE out_refund_no = ?`, no))
	if errors.Is(err, sql.ErrNoRows) {
		return pos.Refund{}, pos.Errorf(pos.NotFound, op, "no refund numbered %s", no)
	}
	if err != nil {
		return pos.Refund{}, classify(op, err)
	}
	return r, nil
}

// RefundsOf returns a payment's refunds, oldest first; none for an unknown
// payment.
func (db *DB) RefundsOf(ctx context.Context, paymentID string) ([]pos.Refund, error) {
	return db.refunds(ctx, "sqlite.RefundsOf", selectRefund+` WHERE payment_id = ? ORDER BY created_at, rowid`, paymentID)
}

// pendingRefundStates must match the refunds_pending index in
// 003_refunds.sql and every non-final pos.RefundState.
const pendingRefundStates = `('submitting', 'processing', 'unknown')`

// PendingRefunds returns every refund not final, oldest first.
func (db *DB) PendingRefunds(ctx context.Context) ([]pos.Refund, error) {
	return db.refunds(ctx, "sqlite.PendingRefunds",
		selectRefund+` WHERE state IN `+pendingRefundStates+` ORDER BY created_at, rowid`)
}

// RefundsBetween returns the refunds created in [from, to), oldest first.
func (db *DB) RefundsBetween(ctx context.Context, from, to time.Time) ([]pos.Refund, error) {
	const op = "sqlite.RefundsBetween"
	if !from.Before(to) {
		return nil, pos.Errorf(pos.Invalid, op, "empty period %s to %s", from, to)
	}
	f, err := encTime(op, "from", from)
	if err != nil {
		return nil, err
	}
	t, err := encTime(op, "to", to)
	if err != nil {
		return nil, err
	}
	return db.refunds(ctx, op, selectRefund+` WHERE created_at >= ? AND created_at < ? ORDER BY created_at, rowid`, f, t)
}

func (db *DB) refunds(ctx context.Context, op, query string, args ...any) ([]pos.Refund, error) {
	return queryAll(ctx, db.rq, op, query, scanRefund, args...)
}

// RefundEvents returns a refund's history, oldest first.
func (db *DB) RefundEvents(ctx context.Context, refundID string) ([]pos.RefundEvent, error) {
	return queryAll(ctx, db.rq, "sqlite.RefundEvents",
		`SELECT seq, refund_id, at, from_state, to_state, reason, detail, flag FROM refund_events WHERE refund_id = ? ORDER BY seq`,
		func(s scanner) (pos.RefundEvent, error) {
			var (
				e              pos.RefundEvent
				at             sql.NullInt64
				from, to, flag string
			)
			err := s.Scan(&e.Seq, &e.RefundID, &at, &from, &to, &e.Reason, &e.Detail, &flag)
			e.At, e.From, e.To, e.Flag = decTime(at), pos.RefundState(from), pos.RefundState(to), pos.Flag(flag)
			return e, err
		}, refundID)
}

const selectRefundOp = `SELECT id, refund_id, kind, not_before, created_at FROM refund_outbox`

// DueRefundOps returns refund outbox operations with NotBefore <= now,
// oldest NotBefore first, ties by ID.
func (db *DB) DueRefundOps(ctx context.Context, now time.Time) ([]store.RefundOp, error) {
	const op = "sqlite.DueRefundOps"
	n, err := encTime(op, "now", now)
	if err != nil {
		return nil, err
	}
	return db.refundOps(ctx, op, selectRefundOp+` WHERE not_before IS NULL OR not_before <= ? ORDER BY not_before, id`, n)
}

// RefundOps returns a refund's outstanding outbox operations.
func (db *DB) RefundOps(ctx context.Context, refundID string) ([]store.RefundOp, error) {
	return db.refundOps(ctx, "sqlite.RefundOps", selectRefundOp+` WHERE refund_id = ? ORDER BY id`, refundID)
}

func (db *DB) refundOps(ctx context.Context, op, query string, args ...any) ([]store.RefundOp, error) {
	return queryAll(ctx, db.rq, op, query, func(s scanner) (store.RefundOp, error) {
		var (
			o           store.RefundOp
			kind        string
			nb, created sql.NullInt64
		)
		err := s.Scan(&o.ID, &o.RefundID, &kind, &nb, &created)
		o.Kind, o.NotBefore, o.CreatedAt = store.RefundOpKind(kind), decTime(nb), decTime(created)
		return o, err
	}, args...)
}
