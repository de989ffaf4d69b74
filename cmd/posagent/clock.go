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
