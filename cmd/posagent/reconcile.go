package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/internal/metrics"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/store"
)

// reconciler builds the daemon's reconciliation over its journal and
// gateways.
func (d *daemon) reconciler() (*flows.Reconciler, error) {
	o := flows.ReconcileOptions{Journal: d.journal, Gateways: d.gateways}
	if rj, ok := d.journal.(store.RefundJournal); ok {
		o.Refunds = rj
	}
	return flows.NewReconciler(o)
}

// dailyReconcile builds the daily run of reconcile.daily_at; nil when none
// is configured.
func (d *daemon) dailyReconcile(rec *flows.Reconciler) (*flows.DailyReconcile, error) {
	if d.reconcileDailyAt == "" {
		return nil, nil
	}
	kept, ok := d.journal.(store.ReconcileLog)
	if !ok {
		return nil, fmt.Errorf("reconcile.daily_at: this journal cannot keep reconciliations")
	}
	h, m, err := flows.ParseDailyAt(d.reconcileDailyAt)
	if err != nil {
		return nil, fmt.Errorf("reconcile.daily_at: %w", err)
	}
	d.log.Info("daily reconciliation", "at", d.reconcileDailyAt, "zone", time.Local.String())
	return flows.NewDailyReconcile(flows.DailyReconcileOptions{Reconciler: rec, Log: kept, Hour: h, Minute: m, Logger: d.log.With("component", "reconcile")})
}

// operatorStats reads, for /metrics, how many outbox items are overdue
// and the last kept reconciliation.
func operatorStats(outbox *flows.Outbox, journal store.Journal) func(ctx context.Context) (metrics.OperatorStats, error) {
	kept, _ := journal.(store.ReconcileLog)
	return func(ctx context.Context) (metrics.OperatorStats, error) {
		var out metrics.OperatorStats
		if outbox != nil {
			items, err := outbox.List(ctx)
			if err != nil {
				return out, err
			}
			for _, it := range items {
				if it.Alert {
					out.OutboxOverdue++
				}
			}
		}
		if kept != nil {
			r, err := kept.LastReconciliation(ctx)
			switch {
			case err == nil:
				out.Reconciled = &metrics.Reconciliation{At: r.At, Date: r.Date, OK: r.OK, Issues: r.Issues, Failed: r.Failed}
			case !pos.Match(pos.NotFound, err):
				return out, err
			}
		}
		return out, nil
	}
}

// runReconcile is `posagent reconcile --date YYYY-MM-DD [--gateway NAME]
// [--csv FILE]`: the day through the daemon's API, a report on stdout, the
// issues (and the journal's day) as CSV; exit 1 on any mismatch.
func runReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reconcile", stderr)
	client := apiFlags(fs)
	date := fs.String("date", "", "the acquirer's day, YYYY-MM-DD (UTC+8 for the gateways posagent speaks to); required")
	gateway := fs.String("gateway", "", "one configured gateway (default: every one)")
	csvPath := fs.String("csv", "", "also write the report as CSV to this file")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: posagent reconcile --date YYYY-MM-DD [--gateway NAME] [--csv FILE] [--api URL] [--token-file FILE]")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\nexit status: 0 the day adds up (or the gateway offers no bill); 1 a mismatch, or the bill could not be had; 2 bad flags; 5 daemon unreachable\n")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected arguments: %v", fs.Args())
	}
	if *date == "" {
		fs.Usage()
		return usageError("--date is required")
	}
	if _, err := time.Parse("2006-01-02", *date); err != nil {
		return usageError("--date %q is not YYYY-MM-DD", *date)
	}
	c, err := client()
	if err != nil {
		return err
	}
	q := url.Values{"date": {*date}}
	if *gateway != "" {
		q.Set("gateway", *gateway)
	}
	var a localapi.ReconcileAnswer
	if err := c.do(ctx, http.MethodGet, "/v1/reconcile?"+q.Encode(), nil, &a); err != nil {
		return apiExit(err)
	}
	printReconcile(stdout, a)
	if *csvPath != "" {
		if err := writeReconcileCSV(*csvPath, a); err != nil {
			return err
		}
	}
	if !a.OK {
		return &exitError{code: 1, err: fmt.Errorf("reconciliation of %s does not add up", *date)}
	}
	return nil
}

func printReconcile(w io.Writer, a localapi.ReconcileAnswer) {
	for _, r := range a.Reports {
		fmt.Fprintf(w, "reconciliation of %s: acquirer day %s (%s, %s to %s)\n", r.Gateway, r.Date, r.Zone,
			r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
		switch {
		case r.Error != "":
			fmt.Fprintf(w, "  %s: %s\n", r.NoBill, r.Error)
		case !r.HasBill:
			fmt.Fprintf(w, "  %s\n", r.NoBill)
		default:
			fmt.Fprintf(w, "  bill: %d lines; matched %d; %d issues\n", r.BillLines, r.Matched, len(r.Issues))
		}
		if r.Provisional {
			fmt.Fprintln(w, "  provisional: the day has not ended; its bill lists what moved so far")
		}
		payments, refunds := 0, 0
		for _, l := range r.Day {
			if l.RefundID != "" {
				refunds++
			} else {
				payments++
			}
		}
		fmt.Fprintf(w, "  journal: %d payments and %d refunds in the day\n", payments, refunds)
		for _, t := range r.Totals {
			m := func(v int64) string { return formatMinor(v, t.Currency) }
			j, b := t.Journal, t.Bill
			fmt.Fprintf(w, "  %s journal: %d charged %s, %d refunds %s, net %s\n", t.Currency, j.Payments, m(j.Paid), j.Refunds, m(j.Refunded), m(j.Net))
			if r.HasBill {
				fmt.Fprintf(w, "  %s bill:    %d payments %s, %d voids %s, %d refunds %s, net %s\n", t.Currency, b.Payments, m(b.Paid),
					b.Reversals, m(b.Reversed), b.Refunds, m(b.Refunded), m(b.Net))
			}
		}
		for _, i := range r.Issues {
			what := "payment"
			if i.Refund {
				what = "refund"
			}
			fmt.Fprintf(w, "  MISMATCH %-14s %-7s %s\n", i.Kind, what, i.Message)
		}
		if !r.HasBill {
			fmt.Fprintf(w, "  the journal's day (%d):\n", len(r.Day))
			for _, l := range r.Day {
				id := l.PaymentID
				if l.RefundID != "" {
					id = l.RefundID
				}
				fmt.Fprintf(w, "    %-26s %-10s %s %s\n", id, l.State, formatMinor(l.Amount, l.Currency), l.Currency)
			}
		}
		if r.OK {
			fmt.Fprintln(w, "  OK: the day adds up")
		}
	}
}

func writeReconcileCSV(path string, a localapi.ReconcileAnswer) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("reconcile --csv: %w", err)
	}
	cw := csv.NewWriter(f)
	_ = cw.Write([]string{"gateway", "date", "zone", "line", "kind", "refund", "payment_id", "refund_id", "out_trade_no", "out_refund_no", "journal_state", "journal_amount", "bill_amount", "currency", "bill_type", "message"})
	amt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	for _, r := range a.Reports {
		for _, i := range r.Issues {
			_ = cw.Write([]string{r.Gateway, r.Date, r.Zone, "issue", i.Kind, strconv.FormatBool(i.Refund), i.PaymentID, i.RefundID, i.OutTradeNo, i.OutRefundNo,
				i.JournalState, amt(i.JournalAmount), amt(i.BillAmount), i.Currency, i.BillType, i.Message})
		}
		for _, l := range r.Day {
			_ = cw.Write([]string{r.Gateway, r.Date, r.Zone, "journal", "", strconv.FormatBool(l.RefundID != ""), l.PaymentID, l.RefundID, l.OutTradeNo, l.OutRefundNo,
				l.State, strconv.FormatInt(l.Amount, 10), "", l.Currency, "", ""})
		}
		if r.Error != "" {
			_ = cw.Write([]string{r.Gateway, r.Date, r.Zone, "error", "", "", "", "", "", "", "", "", "", "", "", r.Error})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		return fmt.Errorf("reconcile --csv: %w", err)
	}
	return f.Close()
}
