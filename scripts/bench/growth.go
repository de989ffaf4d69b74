package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// buildJournal writes a journal of n payments at path: the first 1,000
// through store/sqlite (each journaled in submitting, then succeeded with
// its two receipts, printed), all today; the rest copies of those in SQL,
// each thousand shifted a day further into the past, as a till's history
// grows (a day's summary stays a day's).
func buildJournal(path string, n int) error {
	const base = 1000
	ctx := context.Background()
	db, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		return err
	}
	today := time.Now().UTC().Add(-time.Hour)
	for i := range min(n, base) {
		p := benchPayment(i)
		p.CreatedAt = today.Add(time.Duration(i) * time.Second)
		p.UpdatedAt, p.SubmittedAt, p.Deadline = p.CreatedAt, p.CreatedAt, p.CreatedAt.Add(time.Minute)
		if err := db.Append(ctx, store.Change{Payment: p, Reason: "created", At: p.CreatedAt}); err != nil {
			return err
		}
		f := p
		f.State, f.UpdatedAt, f.TransactionID = pos.StateSucceeded, p.CreatedAt.Add(time.Second), fmt.Sprintf("42%026d", i)
		if err := db.Append(ctx, store.Change{Payment: f, From: pos.StateSubmitting, Reason: "paid", At: f.UpdatedAt,
			Prints: []store.PrintJob{{Kind: store.ReceiptMerchant}, {Kind: store.ReceiptCustomer}}}); err != nil {
			return err
		}
	}
	jobs, err := db.PendingPrints(ctx)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if err := db.MarkPrinted(ctx, j.ID, j.CreatedAt.Add(time.Second)); err != nil {
			return err
		}
	}
	if err := db.Close(); err != nil {
		return err
	}
	if n <= base {
		return nil
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=synchronous(OFF)&_pragma=foreign_keys(on)")
	if err != nil {
		return err
	}
	defer raw.Close()
	cols := func(table string) ([]string, error) {
		rows, err := raw.Query(`SELECT name FROM pragma_table_info(?)`, table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var c string
			rows.Scan(&c)
			out = append(out, c)
		}
		return out, rows.Err()
	}
	// copySQL copies table's first thousand payments' rows with the given
	// columns rewritten (k: the copy, its day offset).
	copySQL := func(table string, skip map[string]bool, rewrite map[string]string, where string) (string, error) {
		cs, err := cols(table)
		if err != nil {
			return "", err
		}
		var names, exprs []string
		for _, c := range cs {
			if skip[c] {
				continue
			}
			names = append(names, c)
			if e, ok := rewrite[c]; ok {
				exprs = append(exprs, e)
			} else {
				exprs = append(exprs, c)
			}
		}
		return fmt.Sprintf(`INSERT INTO %s (%s) SELECT %s FROM %s WHERE %s`, table, strings.Join(names, ", "), strings.Join(exprs, ", "), table, where), nil
	}
	const day = "(?1 * 86400000000000)"
	shift := func(c string) string { return "CASE WHEN " + c + " IS NULL THEN NULL ELSE " + c + " - " + day + " END" }
	payments, err := copySQL("payments", nil, map[string]string{
		"id": "id || '_' || ?1", "out_trade_no": "out_trade_no || printf('%05d', ?1)", "transaction_id": "transaction_id || printf('%05d', ?1)",
		"created_at": shift("created_at"), "updated_at": shift("updated_at"), "submitted_at": shift("submitted_at"),
		"deadline": shift("deadline"), "answered_at": shift("answered_at"), "last_query_at": shift("last_query_at"),
	}, "length(id) = 17") // the originals: pay_benchNNNNNNNN
	if err != nil {
		return err
	}
	events, err := copySQL("events", map[string]bool{"seq": true}, map[string]string{
		"payment_id": "payment_id || '_' || ?1", "at": shift("at"),
	}, "length(payment_id) = 17")
	if err != nil {
		return err
	}
	prints, err := copySQL("print_jobs", map[string]bool{"id": true}, map[string]string{
		"payment_id": "payment_id || '_' || ?1", "created_at": shift("created_at"), "not_before": shift("not_before"), "printed_at": shift("printed_at"),
	}, "length(payment_id) = 17")
	if err != nil {
		return err
	}
	for k := 1; k < n/base; k++ {
		tx, err := raw.Begin()
		if err != nil {
			return err
		}
		for _, q := range []string{payments, events, prints} {
			if _, err := tx.Exec(q, k); err != nil {
				tx.Rollback()
				return fmt.Errorf("copy %d: %w (%s)", k, err, q)
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	_, err = raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// runGrowth: for journals of each size, the daemon's start to API ready,
// GET /v1/payments (the newest, the API's default page) and GET
// /v1/summary (today: 1,000 payments at every size).
func runGrowth(args []string) error {
	fs := flag.NewFlagSet("growth", flag.ExitOnError)
	bin := fs.String("bin", "./posagent", "posagent binary")
	sizes := fs.String("sizes", "1000,10000,100000", "journal sizes (payments)")
	rounds := fs.Int("rounds", 20, "calls of each request per size")
	starts := fs.Int("starts", 5, "starts per size")
	fs.Parse(args)
	abs, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "bench-growth-")
		if err != nil {
			return err
		}
		err = func() error {
			defer os.RemoveAll(dir)
			if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
				return err
			}
			t := time.Now()
			if err := buildJournal(filepath.Join(dir, "state", "journal.db"), n); err != nil {
				return err
			}
			built := time.Since(t)
			st, _ := os.Stat(filepath.Join(dir, "state", "journal.db"))
			r, err := newRig(abs, dir)
			if err != nil {
				return err
			}
			defer r.close()
			var startMS, listMS, sumMS []float64
			for range *starts {
				d, err := r.start()
				if err != nil {
					return err
				}
				startMS = append(startMS, ms(d))
				r.stop()
			}
			if _, err := r.start(); err != nil {
				return err
			}
			var listed int
			for range *rounds {
				t := time.Now()
				v, _, err := r.call("GET", "/v1/payments", nil)
				if err != nil {
					return err
				}
				listMS = append(listMS, ms(time.Since(t)))
				ps, _ := v["payments"].([]any)
				listed = len(ps)
				t = time.Now()
				if _, _, err := r.call("GET", "/v1/summary", nil); err != nil {
					return err
				}
				sumMS = append(sumMS, ms(time.Since(t)))
			}
			emit(map[string]any{"bench": "growth", "payments": n, "journal_mb": float64(st.Size()) / (1 << 20), "built_s": built.Seconds(),
				"start_ms": median(startMS), "list_ms": median(listMS), "listed": listed, "summary_ms": median(sumMS)})
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}
