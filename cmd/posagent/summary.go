package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/posagent/posagent"
)

// runSummary shows (and with --print, prints) the end-of-day summary of a
// running daemon.
func runSummary(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("summary", stderr)
	date := fs.String("date", "", "the day, YYYY-MM-DD in the till's time zone (default today)")
	printIt := fs.Bool("print", false, "also print the summary on the receipt printer")
	api := fs.String("api", defaultAPI(), "the daemon's local API (default $POSAGENT_API, else http://127.0.0.1:8417)")
	tokenFile := fs.String("token-file", "", "file holding the API token (default: as for pay)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *date != "" {
		if _, err := time.Parse(time.DateOnly, *date); err != nil {
			return usageError("--date %q is not YYYY-MM-DD", *date)
		}
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		return usageError("%v", err)
	}
	c := &apiClient{base: strings.TrimRight(*api, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}
	q := ""
	if *date != "" {
		q = "?" + url.Values{"date": {*date}}.Encode()
	}
	var sum summaryView
	if err := c.do(ctx, http.MethodGet, "/v1/summary"+q, nil, &sum); err != nil {
		return &exitError{code: 1, err: err}
	}
	writeSummary(stdout, sum)
	if *printIt {
		var out struct{ Jobs []struct{ ID int64 } }
		if err := c.do(ctx, http.MethodPost, "/v1/summary/print"+q, nil, &out); err != nil {
			return &exitError{code: 1, err: err}
		}
		fmt.Fprintf(stdout, "summary queued for printing (job %d)\n", out.Jobs[0].ID)
	}
	return nil
}

// summaryView is GET /v1/summary's answer.
type summaryView struct {
	From, To time.Time
	Lines    []struct {
		Wallet, Currency string
		Count            int
		Amount           int64
		Refunds          int
		Refunded         int64
	}
	Failed, Reversed int
}

// writeSummary shows a summary as the printed one says it: per wallet the
// payments and the refunds, then per currency the net (paid minus
// refunded), and the payments that moved no money.
func writeSummary(w io.Writer, sum summaryView) {
	fmt.Fprintf(w, "Summary %s to %s\n", sum.From.Format(time.DateTime), sum.To.Format(time.DateTime))
	dec := func(minor int64, cur string) string {
		if c, err := pos.ParseCurrency(cur); err == nil {
			return pos.Money{Minor: minor, Currency: c}.Decimal()
		}
		return fmt.Sprint(minor)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "WALLET\tPAYMENTS\tAMOUNT\tREFUNDS\tREFUNDED\tNET\tCURRENCY\t")
	var order []string
	net := map[string]int64{}
	for _, l := range sum.Lines {
		if _, ok := net[l.Currency]; !ok {
			order = append(order, l.Currency)
		}
		net[l.Currency] += l.Amount - l.Refunded
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\t%s\t\n", l.Wallet, l.Count, dec(l.Amount, l.Currency), l.Refunds,
			dec(l.Refunded, l.Currency), dec(l.Amount-l.Refunded, l.Currency), l.Currency)
	}
	tw.Flush()
	if len(order) == 0 {
		fmt.Fprintln(w, "no payments")
	}
	for _, cur := range order {
		fmt.Fprintf(w, "net %s %s\n", cur, dec(net[cur], cur))
	}
	fmt.Fprintf(w, "failed: %d, reversed: %d\n", sum.Failed, sum.Reversed)
}
