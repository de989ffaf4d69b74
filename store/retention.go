package store

import (
	"context"
	"time"

	"github.com/posagent/posagent"
)

// DayTotal is what pruned payments and refunds contributed to one day's
// summary, per wallet and currency: the journal keeps it when it prunes
// their history, so the summary of that day stays exactly what it was.
// Payments are counted on the day they were created, refunds on the day
// they were made (as the summary counts them), both in Zone.
type DayTotal struct {
	Day      string // YYYY-MM-DD in Zone
	Zone     string // the till's time zone when the rows were pruned
	Wallet   pos.Wallet
	Currency pos.Currency
	// Payments succeeded, and their amount in minor units.
	Payments int
	Paid     int64
	// Refunds succeeded (of payments of any day), and their amount.
	Refunds  int
	Refunded int64
	// Voids succeeded (sales voided, pos.RefundByVoid), and their amount.
	Voids  int
	Voided int64
	// Failed and Reversed count payments that moved no money.
	Failed, Reversed int
}

// Compactable is a payment whose history may be pruned: final, with every
// refund final, nothing owed to the gateway or the printer, and nothing
// about it changed since the retention window's start.
type Compactable struct {
	Payment pos.Payment
	Refunds []pos.Refund
}

// PruneResult says what one Prune removed.
type PruneResult struct {
	Payments, Refunds, Events int
	// Days are the days whose totals the pruned records were rolled into.
	Days []string
}

// Pruner is the journal's sanctioned way to forget old history. Events are
// append-only; only Prune may remove them, and only with their payments,
// in one write that first adds what they contributed to the day totals.
type Pruner interface {
	// Prune removes up to limit compactable payments (oldest first) last
	// changed before before, with their refunds, events, printed receipts
	// and idempotency keys. totals turns them into what they contributed
	// to each day's summary; those rows are added to DayTotals in the same
	// write, so a day's summary reads the same before and after.
	Prune(ctx context.Context, before time.Time, limit int, zone string, totals func([]Compactable) []DayTotal) (PruneResult, error)
	// DayTotals returns what pruned records contributed to day's summary
	// (YYYY-MM-DD in the till's zone); none for a day nothing was pruned of.
	DayTotals(ctx context.Context, day string) ([]DayTotal, error)
}
