package sqlite

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

var _ store.Pruner = (*DB)(nil)

// compactable selects the payments Prune may remove, oldest first: final,
// created and last changed before the watermark, nothing in the outbox,
// no receipt still owed, and every refund final (succeeded or failed;
// attention is final for the till but the operator still has to act),
// changed before the watermark and owing no query. The triggers of
// 009_retention check the same rules again on every row deleted.
const compactable = selectPayment + ` AS p
	WHERE p.state IN ('succeeded', 'failed', 'reversed')
	AND p.created_at < ?1 AND coalesce(p.updated_at, 0) < ?1
	AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.payment_id = p.id)
	AND NOT EXISTS (SELECT 1 FROM print_jobs j WHERE j.payment_id = p.id AND j.printed_at IS NULL)
	AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id AND (
		r.state NOT IN ('succeeded', 'failed') OR r.created_at >= ?1 OR coalesce(r.updated_at, 0) >= ?1
		OR EXISTS (SELECT 1 FROM refund_outbox ro WHERE ro.refund_id = r.id)))
	ORDER BY p.created_at, p.rowid LIMIT ?2`

// Prune removes up to limit compactable payments last changed before
// before, in one write: their contribution to each day's summary (totals)
// is added to day_totals, a pruning row lets the append-only triggers allow
// exactly these deletes, the payments go with their refunds, events,
// receipts and idempotency keys, the prune is logged in prunes, and the
// pruning row is removed again before the commit.
func (db *DB) Prune(ctx context.Context, before time.Time, limit int, zone string, totals func([]store.Compactable) []store.DayTotal) (store.PruneResult, error) {
	const op = "sqlite.Prune"
	var res store.PruneResult
	if limit <= 0 {
		return res, pos.Errorf(pos.Invalid, op, "limit %d is not positive", limit)
	}
	b, err := encTime(op, "before", before)
	if err != nil || b == nil {
		return res, pos.Errorf(pos.Invalid, op, "watermark %v cannot be stored", before)
	}
	tx, err := db.w.BeginTx(ctx, nil) // BEGIN IMMEDIATE: nothing changes under us
	if err != nil {
		return res, classify(op, err)
	}
	defer tx.Rollback()

	ps, err := queryAll(ctx, tx, op, compactable, scanPayment, b, limit)
	if err != nil || len(ps) == 0 {
		return res, err
	}
	batch := make([]store.Compactable, len(ps))
	for i, p := range ps {
		rs, err := queryAll(ctx, tx, op, selectRefund+` WHERE payment_id = ? ORDER BY created_at, rowid`, scanRefund, p.ID)
		if err != nil {
			return res, err
		}
		batch[i] = store.Compactable{Payment: p, Refunds: rs}
	}
	for _, t := range totals(batch) {
		if t.Day == "" || !t.Currency.Valid() || t.Payments < 0 || t.Refunds < 0 || t.Failed < 0 || t.Reversed < 0 || t.Paid < 0 || t.Refunded < 0 || t.Voids < 0 || t.Voided < 0 {
			return res, pos.Errorf(pos.Invalid, op, "day total %+v is not valid", t)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO day_totals
			(day, wallet, currency, zone, payments, paid_minor, refunds, refunded_minor, failed, reversed, voids, voided_minor)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (day, wallet, currency) DO UPDATE SET zone = excluded.zone,
				payments = payments + excluded.payments, paid_minor = paid_minor + excluded.paid_minor,
				refunds = refunds + excluded.refunds, refunded_minor = refunded_minor + excluded.refunded_minor,
				failed = failed + excluded.failed, reversed = reversed + excluded.reversed,
				voids = voids + excluded.voids, voided_minor = voided_minor + excluded.voided_minor`,
			t.Day, string(t.Wallet), string(t.Currency), t.Zone, t.Payments, t.Paid, t.Refunds, t.Refunded, t.Failed, t.Reversed, t.Voids, t.Voided); err != nil {
			return res, classify(op, err)
		}
		if !slices.Contains(res.Days, t.Day) {
			res.Days = append(res.Days, t.Day)
		}
	}
	slices.Sort(res.Days)

	if _, err := tx.ExecContext(ctx, `INSERT INTO pruning (before) VALUES (?)`, b); err != nil {
		return res, classify(op, err)
	}
	exec := func(q string, args ...any) (int, error) {
		r, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, classify(op, err)
		}
		n, err := r.RowsAffected()
		return int(n), classify(op, err)
	}
	for _, c := range batch {
		id := c.Payment.ID
		steps := []struct {
			q     string
			count *int
		}{
			{`INSERT INTO pruned_payments (gateway, wallet, method, state, n)
				SELECT gateway, wallet, method, state, 1 FROM payments WHERE id = ?1
				ON CONFLICT (gateway, wallet, method, state) DO UPDATE SET n = n + 1`, nil},
			{`INSERT INTO pruned_refunds (state, n)
				SELECT state, count(*) FROM refunds WHERE payment_id = ?1 GROUP BY state
				ON CONFLICT (state) DO UPDATE SET n = n + excluded.n`, nil},
			{`DELETE FROM idempotency_keys WHERE payment_id = ?`, nil},
			{`DELETE FROM print_jobs WHERE payment_id = ?`, nil},
			{`DELETE FROM refund_events WHERE refund_id IN (SELECT id FROM refunds WHERE payment_id = ?)`, &res.Events},
			{`DELETE FROM refunds WHERE payment_id = ?`, &res.Refunds},
			{`DELETE FROM events WHERE payment_id = ?`, &res.Events},
			{`DELETE FROM payments WHERE id = ?`, &res.Payments},
		}
		for _, s := range steps {
			n, err := exec(s.q, id)
			if err != nil {
				return store.PruneResult{}, fmt.Errorf("pruning payment %s: %w", id, err)
			}
			if s.count != nil {
				*s.count += n
			}
		}
	}
	if _, err := exec(`DELETE FROM pruning`); err != nil {
		return store.PruneResult{}, err
	}
	now, _ := encTime(op, "at", time.Now())
	if _, err := exec(`INSERT INTO prunes (at, before, zone, payments, refunds, events) VALUES (?, ?, ?, ?, ?, ?)`,
		now, b, zone, res.Payments, res.Refunds, res.Events); err != nil {
		return store.PruneResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return store.PruneResult{}, classify(op, err)
	}
	return res, nil
}

// DayTotals returns what pruned records contributed to day's summary,
// sorted by currency and wallet.
func (db *DB) DayTotals(ctx context.Context, day string) ([]store.DayTotal, error) {
	return queryAll(ctx, db.rq, "sqlite.DayTotals", `SELECT day, zone, wallet, currency, payments, paid_minor,
		refunds, refunded_minor, failed, reversed, voids, voided_minor FROM day_totals WHERE day = ? ORDER BY currency, wallet`,
		func(s scanner) (store.DayTotal, error) {
			var t store.DayTotal
			var w, c string
			err := s.Scan(&t.Day, &t.Zone, &w, &c, &t.Payments, &t.Paid, &t.Refunds, &t.Refunded, &t.Failed, &t.Reversed, &t.Voids, &t.Voided)
			t.Wallet, t.Currency = pos.Wallet(w), pos.Currency(c)
			return t, err
		}, day)
}
