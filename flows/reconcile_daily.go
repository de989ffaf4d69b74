package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// The daily reconciliation (reconcile.daily_at).
//
// Decisions written down here:
//   - The time of day is the till's (Location, the daemon's local time):
//     the operator sets it by the clock on the wall. The day it reconciles
//     is the acquirer's day (UTC+8) before the one in which that local
//     time falls: the last day the acquirer has closed, whose bill it
//     serves. The day is fixed by the local date, not by when the check
//     happens to run, so a daemon that was down at the hour still
//     reconciles that same day when it comes back later that day.
//   - Each result is kept in the journal (store.ReconcileLog) whole, with
//     its counts; a day whose kept result downloaded every bill is never
//     run again by the daily run (a restart does not repeat it). A bill
//     that could not be had (the acquirer down, or not done with the bill
//     yet) is a result too (Failed), logged at ERROR, and the day is run
//     again RetryFailed (1 h) after it, until every bill was had or the
//     local day is over; each run is kept, the last is the one shown.
//   - Mismatches are logged at ERROR, a day that adds up at INFO.

// ReconcileTriggerDaily is the trigger of the daily run's kept results.
const ReconcileTriggerDaily = "daily"

// DailyReconcileOptions configures a DailyReconcile. Reconciler and Log
// are required.
type DailyReconcileOptions struct {
	Reconciler *Reconciler
	Log        store.ReconcileLog
	// Hour and Minute are the time of day to run, in Location.
	Hour, Minute int
	// Location is the till's time zone; default time.Local.
	Location *time.Location
	// Clock is the source of time; default the system clock.
	Clock Clock
	// Tick is how often Run checks whether a run is due; default 30 s.
	Tick time.Duration
	// RetryFailed is how long after a run that could not download every
	// bill the day is run again; default 1 h.
	RetryFailed time.Duration
	Logger      *slog.Logger
}

// DailyReconcile runs the reconciliation once a day and keeps its result.
type DailyReconcile struct{ o DailyReconcileOptions }

// ParseDailyAt reads "HH:MM" (24-hour).
func ParseDailyAt(s string) (hour, minute int, err error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, 0, fmt.Errorf("%q is not a time of day HH:MM (24-hour, e.g. 09:30)", s)
	}
	return t.Hour(), t.Minute(), nil
}

// NewDailyReconcile validates o.
func NewDailyReconcile(o DailyReconcileOptions) (*DailyReconcile, error) {
	if o.Reconciler == nil || o.Log == nil {
		return nil, errors.New("flows: DailyReconcileOptions needs a Reconciler and a Log")
	}
	if o.Hour < 0 || o.Hour > 23 || o.Minute < 0 || o.Minute > 59 {
		return nil, fmt.Errorf("flows: daily reconciliation at %02d:%02d is not a time of day", o.Hour, o.Minute)
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Tick <= 0 {
		o.Tick = 30 * time.Second
	}
	if o.RetryFailed <= 0 {
		o.RetryFailed = time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &DailyReconcile{o: o}, nil
}

// Owed returns the acquirer day the run owes at now, and when that run
// became due; ok is false before today's time of day.
func (d *DailyReconcile) Owed(now time.Time) (date string, due time.Time, ok bool) {
	local := now.In(d.o.Location)
	due = time.Date(local.Year(), local.Month(), local.Day(), d.o.Hour, d.o.Minute, 0, 0, d.o.Location)
	if now.Before(due) {
		return "", due, false
	}
	return due.In(acquirerZone).AddDate(0, 0, -1).Format(time.DateOnly), due, true
}

// Check runs the reconciliation if one is owed now and not yet kept, and
// returns what it kept (ran false when nothing was owed).
func (d *DailyReconcile) Check(ctx context.Context) (kept store.Reconciliation, ran bool, err error) {
	now := d.o.Clock.Now()
	date, _, ok := d.Owed(now)
	if !ok {
		return kept, false, nil
	}
	if last, err := d.o.Log.ReconciliationOf(ctx, date); err == nil {
		if last.Failed == 0 || now.Sub(last.At) < d.o.RetryFailed {
			return kept, false, nil
		}
	} else if !pos.Match(pos.NotFound, err) {
		return kept, false, fmt.Errorf("flows: daily reconciliation: %w", err)
	}
	reps, err := d.o.Reconciler.Reconcile(ctx, date, "")
	if err != nil {
		return kept, false, fmt.Errorf("flows: daily reconciliation of %s: %w", date, err)
	}
	kept = store.Reconciliation{At: now, Date: date, Trigger: ReconcileTriggerDaily, OK: true}
	for _, r := range reps {
		kept.Issues += len(r.Issues)
		if r.Error != "" {
			kept.Failed++
		}
		kept.OK = kept.OK && r.OK()
	}
	if kept.Report, err = json.Marshal(reps); err != nil {
		return kept, false, fmt.Errorf("flows: daily reconciliation: %w", err)
	}
	if kept, err = d.o.Log.AddReconciliation(ctx, kept); err != nil {
		return kept, false, fmt.Errorf("flows: daily reconciliation of %s not kept: %w", date, err)
	}
	if kept.OK {
		d.o.Logger.Info("daily reconciliation: the day adds up", "date", date, "gateways", len(reps))
	} else {
		d.o.Logger.Error("daily reconciliation: the day does not add up (posagent reconcile, /support)",
			"date", date, "mismatches", kept.Issues, "billsNotHad", kept.Failed)
	}
	return kept, true, nil
}

// Run checks every Tick until ctx ends. An error is logged and tried again
// at the next tick.
func (d *DailyReconcile) Run(ctx context.Context) {
	t := time.NewTicker(d.o.Tick)
	defer t.Stop()
	for {
		if _, _, err := d.Check(ctx); err != nil && ctx.Err() == nil {
			d.o.Logger.Warn("daily reconciliation failed; trying again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// KeptReports decodes a kept run's reports.
func KeptReports(r store.Reconciliation) ([]Report, error) {
	var out []Report
	if err := json.Unmarshal(r.Report, &out); err != nil {
		return nil, fmt.Errorf("flows: kept reconciliation %d: %w", r.ID, err)
	}
	return out, nil
}
