package main

import (
	"context"
	"log/slog"
	"time"
)

// clockSlack is how far behind the journal the clock may be before start
// calls it a step back: NTP slews and a journal written a moment ago are
// not news.
const clockSlack = time.Minute

// latestTimer is the part of the journal checkClock needs.
type latestTimer interface {
	LatestTime(ctx context.Context) (time.Time, error)
}

// checkClock logs at ERROR when the clock is behind the latest time in the
// journal: it stepped back while the daemon was down (a dead RTC battery,
// a wrong manual setting). The daemon still starts (refusing would stop the
// till), but the operator must know: receipts, the day's summary and the
// gateways' day boundaries follow the wall clock. Scheduling within a run
// is unaffected (it follows the monotonic clock). It reports whether the
// clock was behind.
func checkClock(ctx context.Context, j latestTimer, now time.Time, log *slog.Logger) bool {
	last, err := j.LatestTime(ctx)
	if err != nil {
		log.Warn("reading the journal's latest time failed", "err", err)
		return false
	}
	if last.IsZero() || !now.Before(last.Add(-clockSlack)) {
		return false
	}
	log.Error("the clock is behind the journal: it was set back while posagent was down; check the time (timedatectl) before trusting receipts and the day's summary",
		"journalLatest", last.Format(time.RFC3339), "now", now.UTC().Format(time.RFC3339), "behindBy", last.Sub(now).Round(time.Second).String())
	return true
}

// clockStep is the wall-clock jump, against the monotonic clock, that
// watchClock reports.
const clockStep = 5 * time.Second

// watchClock logs at ERROR when the wall clock steps while the daemon runs
// (an RTC corrected by NTP, an operator's date command). The payment runner
// schedules by the monotonic clock (flows/timeline.go), so queries and
// reversals keep their times; but receipts, the day's summary, refunds and
// the gateways' day boundaries follow the wall clock, and the operator must
// know. It returns when ctx ends.
func watchClock(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		// Sub of two readings uses the monotonic clock; with Round(0)
		// only the wall clock is left.
		if step := wallStep(now.Sub(last), now.Round(0).Sub(last.Round(0))); step > clockStep || step < -clockStep {
			log.Error("the wall clock stepped while posagent runs; payments under way keep their timing, receipts and the day's summary follow the new time", "step", step.Round(time.Second).String())
		}
		last = now
	}
}

// wallStep is how far the wall clock moved beyond what the monotonic clock
// measured over the same interval.
func wallStep(mono, wall time.Duration) time.Duration { return wall - mono }
