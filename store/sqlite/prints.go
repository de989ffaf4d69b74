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

var _ store.PrintQueue = (*DB)(nil)

// validPrintKind mirrors the CHECK on print_jobs.kind, so a bad kind is
// refused with a message rather than a constraint name.
func validPrintKind(kind, paymentID, refundID string) bool {
	switch kind {
	case store.ReceiptCustomer, store.ReceiptMerchant, store.ReceiptVoid:
		return paymentID != "" && refundID == ""
	case store.ReceiptRefundCustomer, store.ReceiptRefundMerchant:
		return paymentID != "" && refundID != ""
	case store.ReceiptTest:
		return paymentID == "" && refundID == ""
	}
	day, ok := strings.CutPrefix(kind, "summary-")
	if !ok || paymentID != "" || refundID != "" || len(day) != 8 {
		return false
	}
	_, err := time.Parse("20060102", day)
	return err == nil
}

const insertPrint = `INSERT INTO print_jobs (payment_id, kind, reprint, created_at, not_before, attempts, last_error, printed_at, refund_id)
	VALUES (?, ?, ?, ?, ?, ?, '', NULL, ?)`

// encodeNewPrint returns the insertPrint arguments for a new job. CreatedAt
// defaults to at.
func encodeNewPrint(op string, j store.PrintJob, at time.Time) ([]any, error) {
	switch {
	case j.ID != 0:
		return nil, pos.Errorf(pos.Invalid, op, "print job has ID %d; the journal assigns IDs", j.ID)
	case !validPrintKind(j.Kind, j.PaymentID, j.RefundID):
		if j.RefundID != "" || j.Kind == store.ReceiptRefundCustomer || j.Kind == store.ReceiptRefundMerchant {
			return nil, pos.Errorf(pos.Invalid, op, "refund %q: receipt kind %q needs a payment and a refund (kinds %s, %s)", j.RefundID, j.Kind, store.ReceiptRefundCustomer, store.ReceiptRefundMerchant)
		}
		if j.PaymentID == "" {
			return nil, pos.Errorf(pos.Invalid, op, "print job kind %q without a payment: only a summary-YYYYMMDD or a test print has none", j.Kind)
		}
		return nil, pos.Errorf(pos.Invalid, op, "payment %s: unknown receipt kind %q (want %s, %s or %s)", j.PaymentID, j.Kind, store.ReceiptCustomer, store.ReceiptMerchant, store.ReceiptVoid)
	case j.Attempts != 0 || j.LastError != "" || !j.PrintedAt.IsZero():
		return nil, pos.Errorf(pos.Invalid, op, "a new print job has no attempts, error or printed time")
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = at
	}
	ca, err := encTime(op, "CreatedAt", j.CreatedAt)
	if err != nil {
		return nil, err
	}
	if ca == nil {
		return nil, pos.Errorf(pos.Invalid, op, "print job has no CreatedAt")
	}
	nb, err := encTime(op, "NotBefore", j.NotBefore)
	if err != nil {
		return nil, err
	}
	var pid, rid any
	if j.PaymentID != "" {
		pid = j.PaymentID
	}
	if j.RefundID != "" {
		rid = j.RefundID
	}
	return []any{pid, j.Kind, j.Reprint, ca, nb, 0, rid}, nil
}

// encodeChangePrints checks and encodes a Change's Prints: each is for the
// change's payment (PaymentID defaults to it) and created at the change's At.
func encodeChangePrints(op string, c store.Change) ([][]any, error) {
	out := make([][]any, 0, len(c.Prints))
	for _, j := range c.Prints {
		if j.PaymentID == "" {
			j.PaymentID = c.Payment.ID
		}
		if j.PaymentID != c.Payment.ID {
			return nil, pos.Errorf(pos.Invalid, op, "payment %s: print job is for payment %s", c.Payment.ID, j.PaymentID)
		}
		if j.RefundID != "" {
			return nil, pos.Errorf(pos.Invalid, op, "payment %s: a refund's receipts are journaled with the refund", c.Payment.ID)
		}
		args, err := encodeNewPrint(op, j, c.At)
		if err != nil {
			return nil, err
		}
		out = append(out, args)
	}
	return out, nil
}

// EnqueuePrints adds jobs in one immediate transaction and returns them as
// journaled. Every PaymentID must name a journaled payment (pos.NotFound
// otherwise); a summary job has none.
func (db *DB) EnqueuePrints(ctx context.Context, at time.Time, jobs []store.PrintJob) ([]store.PrintJob, error) {
	const op = "sqlite.EnqueuePrints"
	if len(jobs) == 0 {
		return []store.PrintJob{}, nil
	}
	if at.IsZero() {
		return nil, pos.Errorf(pos.Invalid, op, "no enqueue time")
	}
	args := make([][]any, 0, len(jobs))
	for _, j := range jobs {
		a, err := encodeNewPrint(op, j, at)
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	tx, q, err := db.begin(ctx)
	if err != nil {
		return nil, classify(op, err)
	}
	defer tx.Rollback()
	ids := make([]int64, 0, len(jobs))
	for i, a := range args {
		if rid := jobs[i].RefundID; rid != "" {
			var pid string
			err := q.QueryRowContext(ctx, `SELECT payment_id FROM refunds WHERE id = ?`, rid).Scan(&pid)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, pos.Errorf(pos.NotFound, op, "no refund %s", rid)
			}
			if err != nil {
				return nil, classify(op, err)
			}
			if pid != jobs[i].PaymentID {
				return nil, pos.Errorf(pos.Invalid, op, "refund %s is of payment %s, not %s", rid, pid, jobs[i].PaymentID)
			}
		}
		if pid := jobs[i].PaymentID; pid != "" {
			var one int
			err := q.QueryRowContext(ctx, `SELECT 1 FROM payments WHERE id = ?`, pid).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, pos.Errorf(pos.NotFound, op, "no payment %s", pid)
			}
			if err != nil {
				return nil, classify(op, err)
			}
		}
		res, err := q.ExecContext(ctx, insertPrint, a...)
		if err != nil {
			return nil, classify(op, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return nil, classify(op, err)
		}
		ids = append(ids, id)
	}
	out, err := scanPrints(ctx, q, op, selectPrint+` WHERE id >= ? AND id <= ? ORDER BY id`, ids[0], ids[len(ids)-1])
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, classify(op, err)
	}
	return out, nil
}

const selectPrint = `SELECT id, payment_id, kind, reprint, created_at, not_before, attempts, last_error, printed_at, refund_id FROM print_jobs`

// PendingPrints returns every job not yet printed, oldest first.
func (db *DB) PendingPrints(ctx context.Context) ([]store.PrintJob, error) {
	const op = "sqlite.PendingPrints"
	return scanPrints(ctx, db.rq, op, selectPrint+` WHERE printed_at IS NULL ORDER BY id`)
}

// PrintJobs returns a payment's own jobs, printed or not, oldest first;
// its refunds' receipts are RefundPrintJobs.
func (db *DB) PrintJobs(ctx context.Context, paymentID string) ([]store.PrintJob, error) {
	const op = "sqlite.PrintJobs"
	return scanPrints(ctx, db.rq, op, selectPrint+` WHERE payment_id = ? AND refund_id IS NULL ORDER BY id`, paymentID)
}

// RefundPrintJobs returns a refund's jobs, printed or not, oldest first.
func (db *DB) RefundPrintJobs(ctx context.Context, refundID string) ([]store.PrintJob, error) {
	const op = "sqlite.RefundPrintJobs"
	return scanPrints(ctx, db.rq, op, selectPrint+` WHERE refund_id = ? ORDER BY id`, refundID)
}

func scanPrints(ctx context.Context, q querier, op, query string, args ...any) ([]store.PrintJob, error) {
	return queryAll(ctx, q, op, query, func(s scanner) (store.PrintJob, error) {
		var (
			j                    store.PrintJob
			pid, rid             sql.NullString
			created, nb, printed sql.NullInt64
		)
		err := s.Scan(&j.ID, &pid, &j.Kind, &j.Reprint, &created, &nb, &j.Attempts, &j.LastError, &printed, &rid)
		j.PaymentID, j.RefundID = pid.String, rid.String
		j.CreatedAt, j.NotBefore, j.PrintedAt = decTime(created), decTime(nb), decTime(printed)
		return j, err
	}, args...)
}

// MarkPrinted records that job id was printed at at. The mark is a lazy
// write (lazyWrite): written at once, made durable by the journal's next
// durable commit, so a receipt costs the payment path no fsync of its own.
// The receipts were journaled durably with the final state, before
// anything printed; a power cut between printing and the next commit can
// only lose the mark, and the receipt is printed again: at least once, as
// when the process dies between printing and marking.
func (db *DB) MarkPrinted(ctx context.Context, id int64, at time.Time) error {
	const op = "sqlite.MarkPrinted"
	if at.IsZero() {
		return pos.Errorf(pos.Invalid, op, "print job %d: no printed time", id)
	}
	pa, err := encTime(op, "at", at)
	if err != nil {
		return err
	}
	err = db.lazyWrite(ctx, func(q prepared) error {
		var printed sql.NullInt64
		err := q.QueryRowContext(ctx, `SELECT printed_at FROM print_jobs WHERE id = ?`, id).Scan(&printed)
		if errors.Is(err, sql.ErrNoRows) {
			return pos.Errorf(pos.NotFound, op, "no print job %d", id)
		}
		if err != nil {
			return err
		}
		if printed.Valid {
			return pos.Errorf(pos.Conflict, op, "print job %d was printed already, at %v", id, decTime(printed))
		}
		_, err = q.ExecContext(ctx, `UPDATE print_jobs SET printed_at = ? WHERE id = ?`, pa, id)
		return err
	})
	return classify(op, err)
}

// RetryPrint records a failed attempt at job id.
func (db *DB) RetryPrint(ctx context.Context, id int64, notBefore time.Time, lastErr string) error {
	const op = "sqlite.RetryPrint"
	nb, err := encTime(op, "notBefore", notBefore)
	if err != nil {
		return err
	}
	res, err := db.wq.ExecContext(ctx,
		`UPDATE print_jobs SET attempts = attempts + 1, last_error = ?, not_before = ? WHERE id = ? AND printed_at IS NULL`,
		lastErr, nb, id)
	if err != nil {
		return classify(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return classify(op, err)
	}
	if n == 0 {
		return pos.Errorf(pos.NotFound, op, "no pending print job %d", id)
	}
	return nil
}
