package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// Append applies c in one immediate transaction: compare-and-set on the
// payment's state, the new snapshot, one event, the outbox rows to add and
// to remove. When it returns nil all of it is committed and fsync'd; when it
// returns an error none of it is.
//
// Beyond the store.Journal contract it refuses, as pos.Invalid:
//   - a snapshot that is not a well-formed payment (empty ID, unknown state,
//     method, wallet or currency, a non-positive amount, negative polls, a
//     time outside int64 nanoseconds), or a CodeMasked without '*', which
//     would look like a full payment code;
//   - a change to a payment's OutTradeNo once set, its Amount, Method or
//     CreatedAt: the order number is generated once and reused on every
//     retry, and the rest identify what was asked for;
//   - an event without At, an Enqueue op with an ID set or for another
//     payment, an unknown op kind, a Done ID that is not positive or listed
//     twice;
//   - a Prints job with an ID, attempts or a printed time set, for another
//     payment, or of an unknown receipt kind.
//
// A transition for a payment that does not exist is pos.NotFound. A Done ID
// that is not an outstanding op of this payment is pos.Conflict: someone
// else completed it, and this change was decided on stale data.
func (db *DB) Append(ctx context.Context, c store.Change) error {
	const op = "sqlite.Append"
	p := c.Payment
	if err := validateChange(op, c); err != nil {
		return err
	}
	row, err := encodePayment(op, p)
	if err != nil {
		return err
	}
	at, err := encTime(op, "At", c.At)
	if err != nil {
		return err
	}
	enqueue := make([][]any, 0, len(c.Enqueue))
	for _, o := range c.Enqueue {
		args, err := encodeNewOp(op, o, p.ID, c.At)
		if err != nil {
			return err
		}
		enqueue = append(enqueue, args)
	}
	prints, err := encodeChangePrints(op, c)
	if err != nil {
		return err
	}

	tx, q, err := db.begin(ctx) // BEGIN IMMEDIATE, from the DSN
	if err != nil {
		return classify(op, err)
	}
	defer tx.Rollback() // no-op after Commit

	cur, err := scanPayment(q.QueryRowContext(ctx, selectPayment+` WHERE id = ?`, p.ID))
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return classify(op, err)
	}
	if c.From == "" {
		if exists {
			return pos.Errorf(pos.Conflict, op, "payment %s already exists (in state %q)", p.ID, cur.State)
		}
		if _, err := q.ExecContext(ctx, insertPayment, row...); err != nil {
			if pos.KindOf(classify(op, err)) == pos.Conflict {
				// The ID is free (checked above, under the write lock), so
				// the unique index that failed is out_trade_no's.
				return pos.Errorf(pos.Conflict, op, "payment %s: out_trade_no %s is already used by another payment: %w", p.ID, p.OutTradeNo, err)
			}
			return classify(op, err)
		}
	} else {
		if !exists {
			return pos.Errorf(pos.NotFound, op, "payment %s does not exist (change expects state %q)", p.ID, c.From)
		}
		if cur.State != c.From {
			return pos.Errorf(pos.Conflict, op, "payment %s is in state %q, not %q as the change expects", p.ID, cur.State, c.From)
		}
		if err := checkImmutable(op, cur, p); err != nil {
			return err
		}
		if cur.State.Final() {
			if err := checkFlagOnly(op, cur, p); err != nil {
				return err
			}
		}
		if _, err := q.ExecContext(ctx, updatePayment, row...); err != nil {
			return classify(op, err)
		}
	}

	if _, err := q.ExecContext(ctx,
		`INSERT INTO events (payment_id, at, from_state, to_state, reason, detail, flag) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.ID, at, string(c.From), string(p.State), c.Reason, c.Detail, string(c.Flag)); err != nil {
		return classify(op, err)
	}
	for _, id := range c.Done {
		res, err := q.ExecContext(ctx, `DELETE FROM outbox WHERE id = ? AND payment_id = ?`, id, p.ID)
		if err != nil {
			return classify(op, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return classify(op, err)
		} else if n != 1 {
			return pos.Errorf(pos.Conflict, op, "outbox op %d is not outstanding for payment %s", id, p.ID)
		}
	}
	for _, args := range enqueue {
		if _, err := q.ExecContext(ctx,
			`INSERT INTO outbox (payment_id, kind, not_before, attempts, last_error, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			args...); err != nil {
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
		if kk.PaymentID == "" {
			kk.PaymentID = p.ID
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

// validateChange checks everything about c that needs no database.
func validateChange(op string, c store.Change) error {
	p := c.Payment
	switch {
	case p.ID == "":
		return pos.Errorf(pos.Invalid, op, "payment has no ID")
	case !p.State.Valid():
		return pos.Errorf(pos.Invalid, op, "payment %s: unknown state %q", p.ID, p.State)
	case !c.Flag.Valid():
		return pos.Errorf(pos.Invalid, op, "payment %s: unknown flag %q", p.ID, c.Flag)
	case c.From != "" && !pos.CanTransition(c.From, p.State) && !(c.Flag != "" && c.From == p.State):
		// A final state's self-transition is only a flag's record.
		return pos.Errorf(pos.Invalid, op, "payment %s: transition %q -> %q is not allowed", p.ID, c.From, p.State)
	case p.Method != pos.Micropay && p.Method != pos.MerchantQR:
		return pos.Errorf(pos.Invalid, op, "payment %s: unknown method %q", p.ID, p.Method)
	case p.Wallet != "" && !slices.Contains(pos.Wallets, p.Wallet):
		return pos.Errorf(pos.Invalid, op, "payment %s: unknown wallet %q", p.ID, p.Wallet)
	case !p.Amount.Currency.Valid():
		return pos.Errorf(pos.Invalid, op, "payment %s: unsupported currency %q", p.ID, p.Amount.Currency)
	case p.Amount.Minor <= 0 || p.Amount.Minor > pos.MaxMinor:
		return pos.Errorf(pos.Invalid, op, "payment %s: amount %d minor units is out of range", p.ID, p.Amount.Minor)
	case p.CodeMasked != "" && !strings.Contains(p.CodeMasked, "*"):
		// Defence in depth: the journal never holds a full payment code.
		// The value is not echoed, in case it is one.
		return pos.Errorf(pos.Invalid, op, "payment %s: CodeMasked is not masked (no '*'); refusing to journal what may be a full payment code", p.ID)
	case len(p.Reference) > 64 || len(p.Lane) > 32:
		return pos.Errorf(pos.Invalid, op, "payment %s: reference (64 bytes) or lane (32 bytes) too long", p.ID)
	case p.Polls < 0:
		return pos.Errorf(pos.Invalid, op, "payment %s: negative Polls %d", p.ID, p.Polls)
	case c.At.IsZero():
		return pos.Errorf(pos.Invalid, op, "payment %s: change has no At time", p.ID)
	}
	seen := make(map[int64]bool, len(c.Done))
	for _, id := range c.Done {
		if id <= 0 || seen[id] {
			return pos.Errorf(pos.Invalid, op, "payment %s: Done lists op %d, which is not positive or is listed twice", p.ID, id)
		}
		seen[id] = true
	}
	return nil
}

// checkImmutable refuses changes to what identifies a payment's request.
func checkImmutable(op string, cur, next pos.Payment) error {
	switch {
	case cur.OutTradeNo != "" && next.OutTradeNo != cur.OutTradeNo:
		return pos.Errorf(pos.Invalid, op, "payment %s: OutTradeNo %q is fixed once journaled, cannot become %q", cur.ID, cur.OutTradeNo, next.OutTradeNo)
	case next.Amount != cur.Amount:
		return pos.Errorf(pos.Invalid, op, "payment %s: amount %s cannot change to %s", cur.ID, cur.Amount, next.Amount)
	case next.Method != cur.Method:
		return pos.Errorf(pos.Invalid, op, "payment %s: method %q cannot change to %q", cur.ID, cur.Method, next.Method)
	case next.External != cur.External:
		return pos.Errorf(pos.Invalid, op, "payment %s: External cannot change", cur.ID)
	case !next.CreatedAt.Equal(cur.CreatedAt):
		return pos.Errorf(pos.Invalid, op, "payment %s: CreatedAt cannot change", cur.ID)
	case next.Reference != cur.Reference, next.Lane != cur.Lane:
		return pos.Errorf(pos.Invalid, op, "payment %s: the till's reference and lane are fixed once journaled", cur.ID)
	}
	return nil
}

// checkFlagOnly refuses a change to a final payment beyond what a flag
// records: ChargedLate (set, never cleared), Alert, TransactionID (learnt
// from the late answer, when not known before) and UpdatedAt.
func checkFlagOnly(op string, cur, next pos.Payment) error {
	want := cur
	if !cur.ChargedLate {
		want.ChargedLate = next.ChargedLate
	}
	want.Alert = next.Alert
	want.UpdatedAt = next.UpdatedAt
	if cur.TransactionID == "" {
		want.TransactionID = next.TransactionID
	}
	if next != want {
		return pos.Errorf(pos.Invalid, op, "payment %s is %s: a change to a final payment may only record a flag", cur.ID, cur.State)
	}
	return nil
}

var opKinds = []store.OpKind{store.OpQuery, store.OpReverse, store.OpClose}

// encodeNewOp returns the INSERT arguments for an Enqueue op. PaymentID
// defaults to the change's payment and CreatedAt to the change's At; a zero
// NotBefore means due at once.
func encodeNewOp(op string, o store.Op, paymentID string, at time.Time) ([]any, error) {
	switch {
	case o.ID != 0:
		return nil, pos.Errorf(pos.Invalid, op, "payment %s: enqueued op has ID %d; the journal assigns IDs", paymentID, o.ID)
	case o.PaymentID != "" && o.PaymentID != paymentID:
		return nil, pos.Errorf(pos.Invalid, op, "payment %s: enqueued op is for payment %s", paymentID, o.PaymentID)
	case !slices.Contains(opKinds, o.Kind):
		return nil, pos.Errorf(pos.Invalid, op, "payment %s: unknown op kind %q", paymentID, o.Kind)
	case o.Attempts < 0:
		return nil, pos.Errorf(pos.Invalid, op, "payment %s: enqueued op has negative Attempts", paymentID)
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = at
	}
	nb, err := encTime(op, "NotBefore", o.NotBefore)
	if err != nil {
		return nil, err
	}
	ca, err := encTime(op, "CreatedAt", o.CreatedAt)
	if err != nil {
		return nil, err
	}
	return []any{paymentID, string(o.Kind), nb, o.Attempts, o.LastError, ca}, nil
}

const paymentColumns = `id, out_trade_no, gateway, method, amount_minor, currency, wallet,
	code_masked, code_hash, state, reason, transaction_id, code_url, cancel_requested,
	created_at, updated_at, submitted_at, deadline, polls, description,
	answered_at, last_query_at, charged_late, alert, reference, lane, external, read_failed`

const selectPayment = `SELECT ` + paymentColumns + ` FROM payments`

const insertPayment = `INSERT INTO payments (` + paymentColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// updatePayment takes the same arguments as insertPayment, id first.
const updatePayment = `UPDATE payments SET
	out_trade_no = ?2, gateway = ?3, method = ?4, amount_minor = ?5, currency = ?6,
	wallet = ?7, code_masked = ?8, code_hash = ?9, state = ?10, reason = ?11,
	transaction_id = ?12, code_url = ?13, cancel_requested = ?14, created_at = ?15,
	updated_at = ?16, submitted_at = ?17, deadline = ?18, polls = ?19, description = ?20,
	answered_at = ?21, last_query_at = ?22, charged_late = ?23, alert = ?24,
	reference = ?25, lane = ?26, external = ?27, read_failed = ?28
	WHERE id = ?1`

// encodePayment returns p as arguments in paymentColumns order.
func encodePayment(op string, p pos.Payment) ([]any, error) {
	var times [6]any
	for i, t := range []struct {
		name string
		t    time.Time
	}{{"CreatedAt", p.CreatedAt}, {"UpdatedAt", p.UpdatedAt}, {"SubmittedAt", p.SubmittedAt}, {"Deadline", p.Deadline},
		{"AnsweredAt", p.AnsweredAt}, {"LastQueryAt", p.LastQueryAt}} {
		v, err := encTime(op, t.name, t.t)
		if err != nil {
			return nil, err
		}
		times[i] = v
	}
	// The merchant QR's payload is kept only while the payment is open, so
	// a restart can show it again; once final, nobody may pay it and the
	// journal forgets it.
	codeURL := p.CodeURL.Reveal()
	if p.State.Final() {
		codeURL = ""
	}
	return []any{
		p.ID, p.OutTradeNo, p.Gateway, string(p.Method), p.Amount.Minor, string(p.Amount.Currency), string(p.Wallet),
		p.CodeMasked, p.CodeHash, string(p.State), p.Reason, p.TransactionID, codeURL, p.CancelRequested,
		times[0], times[1], times[2], times[3], p.Polls, p.Description,
		times[4], times[5], p.ChargedLate, p.Alert, p.Reference, p.Lane, p.External, p.ReadFailed,
	}, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs a query and scans every row with scan; any failure is
// classified under op. Every list method of the journal is one call.
func queryAll[T any](ctx context.Context, q querier, op, query string, scan func(scanner) (T, error), args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, classify(op, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, classify(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(op, err)
	}
	return out, nil
}

func scanPayment(s scanner) (pos.Payment, error) {
	var (
		p                                    pos.Payment
		method, currency, wallet, state, url string
		created, updated, submitted, dl      sql.NullInt64
		answered, lastQuery                  sql.NullInt64
	)
	err := s.Scan(&p.ID, &p.OutTradeNo, &p.Gateway, &method, &p.Amount.Minor, &currency, &wallet,
		&p.CodeMasked, &p.CodeHash, &state, &p.Reason, &p.TransactionID, &url, &p.CancelRequested,
		&created, &updated, &submitted, &dl, &p.Polls, &p.Description,
		&answered, &lastQuery, &p.ChargedLate, &p.Alert, &p.Reference, &p.Lane, &p.External, &p.ReadFailed)
	if err != nil {
		return pos.Payment{}, err
	}
	p.Method = pos.Method(method)
	p.Amount.Currency = pos.Currency(currency)
	p.Wallet = pos.Wallet(wallet)
	p.State = pos.State(state)
	p.CodeURL = pos.Secret(url)
	p.CreatedAt, p.UpdatedAt, p.SubmittedAt, p.Deadline = decTime(created), decTime(updated), decTime(submitted), decTime(dl)
	p.AnsweredAt, p.LastQueryAt = decTime(answered), decTime(lastQuery)
	return p, nil
}

// encTime encodes t as Unix nanoseconds, the zero time as NULL. A time that
// int64 nanoseconds cannot hold (before 1678 or after 2262) is refused
// rather than silently changed.
func encTime(op, name string, t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	n := t.UnixNano()
	if !time.Unix(0, n).Equal(t) {
		return nil, pos.Errorf(pos.Invalid, op, "%s %v cannot be stored (outside the years 1678-2262)", name, t)
	}
	return n, nil
}

// decTime is the inverse of encTime; times come back in UTC.
func decTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// Payment returns one payment by ID, or a pos.NotFound error.
func (db *DB) Payment(ctx context.Context, id string) (pos.Payment, error) {
	const op = "sqlite.Payment"
	p, err := scanPayment(db.rq.QueryRowContext(ctx, selectPayment+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return pos.Payment{}, pos.Errorf(pos.NotFound, op, "no payment %s", id)
	}
	if err != nil {
		return pos.Payment{}, classify(op, err)
	}
	return p, nil
}

// PaymentByOutTradeNo returns the payment with our gateway order number
// outTradeNo, or a pos.NotFound error.
func (db *DB) PaymentByOutTradeNo(ctx context.Context, outTradeNo string) (pos.Payment, error) {
	const op = "sqlite.PaymentByOutTradeNo"
	if outTradeNo == "" {
		// Payments without an order number yet store ""; none of them is
		// "the" payment for it.
		return pos.Payment{}, pos.Errorf(pos.NotFound, op, "empty out_trade_no")
	}
	p, err := scanPayment(db.rq.QueryRowContext(ctx, selectPayment+` WHERE out_trade_no = ?`, outTradeNo))
	if errors.Is(err, sql.ErrNoRows) {
		return pos.Payment{}, pos.Errorf(pos.NotFound, op, "no payment with out_trade_no %s", outTradeNo)
	}
	if err != nil {
		return pos.Payment{}, classify(op, err)
	}
	return p, nil
}

// pendingStates must match the payments_pending index in 001_init.sql, and
// every non-final pos.State (a test checks both).
const pendingStates = `('awaiting_code', 'submitting', 'user_paying', 'unknown', 'reversing')`

// Pending returns every payment not in a final state, oldest first (by
// CreatedAt, then by the order they were journaled).
func (db *DB) Pending(ctx context.Context) ([]pos.Payment, error) {
	return db.payments(ctx, "sqlite.Pending",
		selectPayment+` WHERE state IN `+pendingStates+` ORDER BY created_at, rowid`)
}

// Recent returns up to limit payments, newest first (by CreatedAt, then by
// the reverse of the order they were journaled). limit must be positive.
func (db *DB) Recent(ctx context.Context, limit int) ([]pos.Payment, error) {
	const op = "sqlite.Recent"
	if limit <= 0 {
		return nil, pos.Errorf(pos.Invalid, op, "limit %d is not positive", limit)
	}
	return db.payments(ctx, op,
		selectPayment+` ORDER BY created_at DESC, rowid DESC LIMIT ?`, limit)
}

// PaymentsBetween returns the payments created in [from, to), oldest first.
func (db *DB) PaymentsBetween(ctx context.Context, from, to time.Time) ([]pos.Payment, error) {
	const op = "sqlite.PaymentsBetween"
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
	return db.payments(ctx, op,
		selectPayment+` WHERE created_at >= ? AND created_at < ? ORDER BY created_at, rowid`, f, t)
}

func (db *DB) payments(ctx context.Context, op, query string, args ...any) ([]pos.Payment, error) {
	return queryAll(ctx, db.rq, op, query, scanPayment, args...)
}

// Events returns a payment's history, oldest first; empty for an unknown
// payment.
func (db *DB) Events(ctx context.Context, paymentID string) ([]pos.Event, error) {
	return queryAll(ctx, db.rq, "sqlite.Events",
		`SELECT seq, payment_id, at, from_state, to_state, reason, detail, flag FROM events WHERE payment_id = ? ORDER BY seq`,
		func(s scanner) (pos.Event, error) {
			var (
				e              pos.Event
				at             sql.NullInt64
				from, to, flag string
			)
			err := s.Scan(&e.Seq, &e.PaymentID, &at, &from, &to, &e.Reason, &e.Detail, &flag)
			e.At, e.From, e.To, e.Flag = decTime(at), pos.State(from), pos.State(to), pos.Flag(flag)
			return e, err
		}, paymentID)
}

const selectOp = `SELECT id, payment_id, kind, not_before, attempts, last_error, created_at FROM outbox`

// DueOps returns outbox operations with NotBefore <= now, oldest NotBefore
// first (a zero NotBefore is due at once and comes first), ties by ID.
func (db *DB) DueOps(ctx context.Context, now time.Time) ([]store.Op, error) {
	const op = "sqlite.DueOps"
	n, err := encTime(op, "now", now)
	if err != nil {
		return nil, err
	}
	return db.ops(ctx, op, selectOp+` WHERE not_before IS NULL OR not_before <= ? ORDER BY not_before, id`, n)
}

// Ops returns a payment's outstanding outbox operations in the order they
// were enqueued.
func (db *DB) Ops(ctx context.Context, paymentID string) ([]store.Op, error) {
	return db.ops(ctx, "sqlite.Ops", selectOp+` WHERE payment_id = ? ORDER BY id`, paymentID)
}

func (db *DB) ops(ctx context.Context, op, query string, args ...any) ([]store.Op, error) {
	return queryAll(ctx, db.rq, op, query, func(s scanner) (store.Op, error) {
		var (
			o           store.Op
			kind        string
			nb, created sql.NullInt64
		)
		err := s.Scan(&o.ID, &o.PaymentID, &kind, &nb, &o.Attempts, &o.LastError, &created)
		o.Kind, o.NotBefore, o.CreatedAt = store.OpKind(kind), decTime(nb), decTime(created)
		return o, err
	}, args...)
}

// RetryOp records a failed attempt at op id: Attempts+1, LastError, and the
// NotBefore of the next attempt. lastErr must already be redacted. An id
// that is not outstanding (done, or never existed) is pos.NotFound.
func (db *DB) RetryOp(ctx context.Context, id int64, notBefore time.Time, lastErr string) error {
	const op = "sqlite.RetryOp"
	nb, err := encTime(op, "notBefore", notBefore)
	if err != nil {
		return err
	}
	res, err := db.wq.ExecContext(ctx,
		`UPDATE outbox SET attempts = attempts + 1, last_error = ?, not_before = ? WHERE id = ?`,
		lastErr, nb, id)
	if err != nil {
		return classify(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return classify(op, err)
	}
	if n == 0 {
		return pos.Errorf(pos.NotFound, op, "no outstanding outbox op %d", id)
	}
	return nil
}

// FlagCounts counts flagged events of payments and refunds by flag.
func (db *DB) FlagCounts(ctx context.Context) (map[pos.Flag]int, error) {
	type row struct {
		flag pos.Flag
		n    int
	}
	rows, err := queryAll(ctx, db.rq, "sqlite.FlagCounts",
		`SELECT flag, sum(n) FROM (
			SELECT flag, count(*) AS n FROM events WHERE flag <> '' GROUP BY flag
			UNION ALL
			SELECT flag, count(*) AS n FROM refund_events WHERE flag <> '' GROUP BY flag
		) GROUP BY flag`,
		func(s scanner) (row, error) {
			var r row
			var f string
			err := s.Scan(&f, &r.n)
			r.flag = pos.Flag(f)
			return r, err
		})
	if err != nil {
		return nil, err
	}
	m := make(map[pos.Flag]int, len(rows))
	for _, r := range rows {
		m[r.flag] = r.n
	}
	return m, nil
}

// String describes the journal for logs.
func (db *DB) String() string { return fmt.Sprintf("sqlite journal %s", db.path) }
