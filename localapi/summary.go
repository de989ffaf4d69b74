package localapi

import (
	"context"
	"net/http"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/store"
)

// Summaries is what the API needs for the end-of-day summary
// (flows.Spool implements it). A day is a date in the till's time zone.
type Summaries interface {
	DaySummary(ctx context.Context, day time.Time) (printer.Summary, error)
	PrintSummary(ctx context.Context, day time.Time) (store.PrintJob, error)
}

// summaryJSON is the API's view of a day's totals.
type summaryJSON struct {
	From     time.Time         `json:"from"`
	To       time.Time         `json:"to"`
	Lines    []summaryLineJSON `json:"lines"`
	Failed   int               `json:"failed"`
	Reversed int               `json:"reversed"`
}

type summaryLineJSON struct {
	Wallet   string `json:"wallet"`
	Currency string `json:"currency"`
	Count    int    `json:"count"`
	Amount   int64  `json:"amount"` // minor units
	// Refunds counts the refunds asked for that day that succeeded, of
	// payments of any day; Refunded sums them (minor units).
	Refunds  int   `json:"refunds"`
	Refunded int64 `json:"refunded"`
	// Voids counts the succeeded sales voided that day (the gateway
	// cancelled them); Voided sums them (minor units).
	Voids  int   `json:"voids"`
	Voided int64 `json:"voided"`
}

// parseDay reads ?date=YYYY-MM-DD (default: today). The date is returned
// at noon UTC, which is the same date in every time zone within ±12 h, so
// the spool's "that date in the till's zone" cannot slip a day.
func parseDay(r *http.Request, now time.Time) (time.Time, error) {
	s := r.URL.Query().Get("date")
	if s == "" {
		y, m, d := now.Date()
		return time.Date(y, m, d, 12, 0, 0, 0, time.UTC), nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, problemf("malformed-request", "date", "date %q is not YYYY-MM-DD", s)
	}
	return d.Add(12 * time.Hour), nil
}

// summaryDay is the common start of the summary handlers: the service and
// the requested day, or an error already answered.
func (s *Server) summaryDay(w http.ResponseWriter, r *http.Request) (Summaries, time.Time, bool) {
	if s.opts.Summaries == nil {
		writeError(w, pos.Errorf(pos.Unavailable, "localapi.summary", "no printer is configured, so there is no summary service"))
		return nil, time.Time{}, false
	}
	day, err := parseDay(r, time.Now())
	if err != nil {
		writeError(w, err)
		return nil, time.Time{}, false
	}
	return s.opts.Summaries, day, true
}

// getSummary answers GET /v1/summary?date=YYYY-MM-DD with the day's totals.
func (s *Server) getSummary(w http.ResponseWriter, r *http.Request) {
	sm, day, ok := s.summaryDay(w, r)
	if !ok {
		return
	}
	sum, err := sm.DaySummary(r.Context(), day)
	if err != nil {
		writeError(w, err)
		return
	}
	out := summaryJSON{From: sum.From, To: sum.To, Failed: sum.Failed, Reversed: sum.Reversed, Lines: []summaryLineJSON{}}
	for _, l := range sum.Lines {
		out.Lines = append(out.Lines, summaryLineJSON{Wallet: string(l.Wallet), Currency: string(l.Amount.Currency), Count: l.Count, Amount: l.Amount.Minor, Refunds: l.Refunds, Refunded: l.Refunded.Minor, Voids: l.Voids, Voided: l.Voided.Minor})
	}
	writeJSON(w, http.StatusOK, out)
}

// printSummary answers POST /v1/summary/print?date=YYYY-MM-DD with 202 and
// the queued job; the summary prints when the printer is ready.
func (s *Server) printSummary(w http.ResponseWriter, r *http.Request) {
	sm, day, ok := s.summaryDay(w, r)
	if !ok {
		return
	}
	job, err := sm.PrintSummary(r.Context(), day)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"jobs": printJobsJSON([]store.PrintJob{job})})
}
