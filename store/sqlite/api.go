package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

var (
	_ store.Idempotency   = (*DB)(nil)
	_ store.PaymentLister = (*DB)(nil)
	_ store.EventFeed     = (*DB)(nil)
)

// MaxIdempotencyKey is the longest Idempotency-Key the journal keeps.
const MaxIdempotencyKey = 255

func checkKey(op string, k store.IdempotencyKey) error {
	switch {
	case k.Key == "" || len(k.Key) > MaxIdempotencyKey:
		return pos.Errorf(pos.Invalid, op, "idempotency key must be 1 to %d bytes", MaxIdempotencyKey)
	case k.Fingerprint == "":
		return pos.Errorf(pos.Invalid, op, "idempotency key %q has no request fingerprint", k.Key)
	case k.CreatedAt.IsZero():
		return pos.Errorf(pos.Invalid, op, "idempotency key %q has no creation time", k.Key)
	}
	return nil
}

// insertKey writes k inside tx (or the writer, for tx nil).
func insertKey(ctx context.Context, x interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, op string, k store.IdempotencyKey) error {
	if err := checkKey(op, k); err != nil {
		return err
	}
	at, err := encTime(op, "CreatedAt", k.CreatedAt)
	if err != nil {
		return err
	}
	var resp any
	if k.Response != nil {
		resp = k.Response
	}
	_, err = x.ExecContext(ctx,
		`INSERT INTO idempotency_keys (key, fingerprint, payment_id, refund_id, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.Key, k.Fingerprint, k.PaymentID, k.RefundID, k.Status, resp, at)
	if err != nil {
		if pos.KindOf(classify(op, err)) == pos.Conflict {
			return pos.Errorf(pos.Conflict, op, "idempotency key %q: %w", k.Key, store.ErrKeyUsed)
		}
		return classify(op, err)
	}
	return nil
}

// IdempotencyKey returns the record of key, or a pos.NotFound error.
func (db *DB) IdempotencyKey(ctx context.Context, key string) (store.IdempotencyKey, error) {
	const op = "sqlite.IdempotencyKey"
	var (
		k  store.IdempotencyKey
		at sql.NullInt64
	)
	err := db.rq.QueryRowContext(ctx,
		`SELECT key, fingerprint, payment_id, refund_id, status, response, created_at FROM idempotency_keys WHERE key = ?`, key).
		Scan(&k.Key, &k.Fingerprint, &k.PaymentID, &k.RefundID, &k.Status, &k.Response, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return k, pos.Errorf(pos.NotFound, op, "no idempotency key %q", key)
	}
	if err != nil {
		return k, classify(op, err)
	}
	k.CreatedAt = decTime(at)
	return k, nil
}

// SaveIdempotencyKey records k on its own write.
func (db *DB) SaveIdempotencyKey(ctx context.Context, k store.IdempotencyKey) error {
	return insertKey(ctx, db.wq, "sqlite.SaveIdempotencyKey", k)
}

// RecordAnswer stores the first answer to key's call; a later one is
// ignored, so a replay can never overwrite what the first caller was told.
func (db *DB) RecordAnswer(ctx context.Context, key string, status int, body []byte) error {
	const op = "sqlite.RecordAnswer"
	if status < 200 || status > 599 {
		return pos.Errorf(pos.Invalid, op, "HTTP status %d", status)
	}
	res, err := db.wq.ExecContext(ctx, `UPDATE idempotency_keys SET status = ?, response = ? WHERE key = ? AND status = 0`, status, body, key)
	if err != nil {
		return classify(op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := db.IdempotencyKey(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// ListPayments lists payments by f, newest first.
func (db *DB) ListPayments(ctx context.Context, f store.PaymentFilter) ([]pos.Payment, error) {
	const op = "sqlite.ListPayments"
	if f.Limit <= 0 {
		return nil, pos.Errorf(pos.Invalid, op, "limit %d is not positive", f.Limit)
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if len(f.States) > 0 {
		marks := make([]string, len(f.States))
		for i, s := range f.States {
			if !s.Valid() {
				return nil, pos.Errorf(pos.Invalid, op, "unknown state %q", s)
			}
			marks[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, "state IN ("+strings.Join(marks, ", ")+")")
	}
	if f.Method != "" {
		add("method = ?", string(f.Method))
	}
	if f.Wallet != "" {
		add("wallet = ?", string(f.Wallet))
	}
	if f.Gateway != "" {
		add("gateway = ?", f.Gateway)
	}
	if f.Reference != "" {
		add("reference = ?", f.Reference)
	}
	for _, b := range []struct {
		name, cond string
		t          time.Time
	}{{"CreatedFrom", "created_at >= ?", f.CreatedFrom}, {"CreatedTo", "created_at < ?", f.CreatedTo}} {
		if b.t.IsZero() {
			continue
		}
		n, err := encTime(op, b.name, b.t)
		if err != nil {
			return nil, err
		}
		add(b.cond, n)
	}
	if f.After != nil {
		n, err := encTime(op, "cursor", f.After.CreatedAt)
		if err != nil {
			return nil, err
		}
		add("(created_at < ? OR (created_at = ? AND id < ?))", n, n, f.After.ID)
	}
	q := selectPayment
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, f.Limit)
	return db.payments(ctx, op, q, args...)
}

// EventsAfter returns up to limit payment events with Seq > after.
func (db *DB) EventsAfter(ctx context.Context, after int64, limit int) ([]pos.Event, error) {
	const op = "sqlite.EventsAfter"
	if limit <= 0 {
		return nil, pos.Errorf(pos.Invalid, op, "limit %d is not positive", limit)
	}
	return queryAll(ctx, db.rq, op,
		`SELECT seq, payment_id, at, from_state, to_state, reason, detail FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
		scanEvent, after, limit)
}

func scanEvent(s scanner) (pos.Event, error) {
	var (
		e        pos.Event
		at       sql.NullInt64
		from, to string
	)
	err := s.Scan(&e.Seq, &e.PaymentID, &at, &from, &to, &e.Reason, &e.Detail)
	e.At, e.From, e.To = decTime(at), pos.State(from), pos.State(to)
	return e, err
}

// RefundEventsAfter returns up to limit refund events with Seq > after.
func (db *DB) RefundEventsAfter(ctx context.Context, after int64, limit int) ([]pos.RefundEvent, error) {
	const op = "sqlite.RefundEventsAfter"
	if limit <= 0 {
		return nil, pos.Errorf(pos.Invalid, op, "limit %d is not positive", limit)
	}
	return queryAll(ctx, db.rq, op,
		`SELECT e.seq, e.refund_id, e.at, e.from_state, e.to_state, e.reason, e.detail, coalesce(r.method, 'refund')
		FROM refund_events e LEFT JOIN refunds r ON r.id = e.refund_id WHERE e.seq > ? ORDER BY e.seq LIMIT ?`,
		func(s scanner) (pos.RefundEvent, error) {
			var (
				e                pos.RefundEvent
				at               sql.NullInt64
				from, to, method string
			)
			err := s.Scan(&e.Seq, &e.RefundID, &at, &from, &to, &e.Reason, &e.Detail, &method)
			e.At, e.From, e.To, e.Method = decTime(at), pos.RefundState(from), pos.RefundState(to), pos.RefundMethod(method)
			return e, err
		}, after, limit)
}
