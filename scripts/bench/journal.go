package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// runJournal: durable payment transitions per second through store/sqlite
// (Append: a payment journaled in submitting, then final with its two
// receipts, each one fsync'd commit) against a bare single-row
// INSERT+COMMIT loop on modernc.org/sqlite with the journal's settings
// (WAL, synchronous=FULL, busy_timeout, foreign_keys, BEGIN IMMEDIATE,
// prepared statement), and against raw 4 KiB write+fsync on the same disk.
func runJournal(args []string) error {
	fs := flag.NewFlagSet("journal", flag.ExitOnError)
	rounds := fs.Int("rounds", 7, "rounds (each runs every side once, the order rotating)")
	n := fs.Int("n", 300, "transitions per side per round")
	dir := fs.String("dir", "", "directory on the disk to measure (default: a temporary one)")
	fs.Parse(args)
	if *dir == "" {
		d, err := os.MkdirTemp("", "bench-journal-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(*dir, "journal.db"), sqlite.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	bare, err := openBare(filepath.Join(*dir, "bare.db"))
	if err != nil {
		return err
	}
	defer bare.Close()
	raw, err := os.OpenFile(filepath.Join(*dir, "raw.bin"), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer raw.Close()

	seq := 0
	journalSide := func() (time.Duration, error) {
		start := time.Now()
		for i := 0; i < *n; i += 2 {
			seq++
			p := benchPayment(seq)
			if err := db.Append(ctx, store.Change{Payment: p, Reason: "created", At: p.CreatedAt}); err != nil {
				return 0, err
			}
			f := p
			f.State, f.UpdatedAt, f.TransactionID = pos.StateSucceeded, p.CreatedAt.Add(time.Millisecond), fmt.Sprintf("42%026d", seq)
			c := store.Change{Payment: f, From: pos.StateSubmitting, Reason: "paid", At: f.UpdatedAt,
				Prints: []store.PrintJob{{Kind: store.ReceiptMerchant}, {Kind: store.ReceiptCustomer}}}
			if err := db.Append(ctx, c); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	ins, err := bare.Prepare(`INSERT INTO t (v, at) VALUES (?, ?)`)
	if err != nil {
		return err
	}
	bareSide := func() (time.Duration, error) {
		start := time.Now()
		for i := range *n {
			tx, err := bare.Begin()
			if err != nil {
				return 0, err
			}
			if _, err := tx.Stmt(ins).Exec(fmt.Sprintf("row %d", i), time.Now().UnixNano()); err != nil {
				tx.Rollback()
				return 0, err
			}
			if err := tx.Commit(); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	page := make([]byte, 4096)
	rawSide := func() (time.Duration, error) {
		start := time.Now()
		for range *n {
			if _, err := raw.WriteAt(page, 0); err != nil {
				return 0, err
			}
			if err := raw.Sync(); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	sides := []struct {
		name string
		f    func() (time.Duration, error)
	}{{"journal", journalSide}, {"bare", bareSide}, {"raw", rawSide}}
	rate := map[string][]float64{}
	var vsBare, vsRaw []float64
	before := db.Commits()
	for r := range *rounds {
		got := map[string]float64{}
		for k := range sides {
			s := sides[(k+r)%len(sides)]
			d, err := s.f()
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			got[s.name] = float64(*n) / d.Seconds()
			rate[s.name] = append(rate[s.name], got[s.name])
		}
		vsBare = append(vsBare, got["journal"]/got["bare"])
		vsRaw = append(vsRaw, got["journal"]/got["raw"])
	}
	after := db.Commits()
	emit(map[string]any{"bench": "journal", "rounds": *rounds, "n": *n, "dir": *dir,
		"journal_per_s": median(rate["journal"]), "bare_per_s": median(rate["bare"]), "raw_fsync_per_s": median(rate["raw"]),
		"journal_range": minmax(rate["journal"]), "bare_range": minmax(rate["bare"]), "raw_range": minmax(rate["raw"]),
		"ratio_vs_bare": median(vsBare), "ratio_vs_bare_range": minmax(vsBare), "ratio_vs_raw": median(vsRaw),
		"journal_commit_ms":              1000 / median(rate["journal"]),
		"durable_commits_per_transition": float64(after.Durable-before.Durable) / float64(*rounds**n)})
	return nil
}

func openBare(path string) (*sql.DB, error) {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: url.Values{
		"_pragma": {"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(on)"},
		"_txlock": {"immediate"},
	}.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, at INTEGER NOT NULL) STRICT`); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

var benchT0 = time.Now().UTC()

func benchPayment(i int) pos.Payment {
	at := benchT0.Add(time.Duration(i) * time.Millisecond)
	return pos.Payment{
		ID: fmt.Sprintf("pay_bench%08d", i), OutTradeNo: fmt.Sprintf("PABN%016d", i), Gateway: "mmsp",
		Method: pos.Micropay, Amount: pos.Money{Minor: 1200, Currency: "CNY"}, Wallet: pos.WeChatPay,
		CodeMasked: "13**************89", CodeHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		State: pos.StateSubmitting, CreatedAt: at, UpdatedAt: at, SubmittedAt: at, Deadline: at.Add(time.Minute),
	}
}
