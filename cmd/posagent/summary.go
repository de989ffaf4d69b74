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
	var sum struct {
		From, To time.Time
		Lines    []struct {
			Wallet, Currency string
			Count            int
			Amount           int64
		}
		Failed, Reversed int
	}
	if err := c.do(ctx, http.MethodGet, "/v1/summary"+q, nil, &sum); err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(stdout, "Summary %s to %s\n", sum.From.Format(time.DateTime), sum.To.Format(time.DateTime))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "WALLET\tPAYMENTS\tAMOUNT\tCURRENCY\t")
	for _, l := range sum.Lines {
		amount := fmt.Sprint(l.Amount)
		if cur, err := pos.ParseCurrency(l.Currency); err == nil {
			amount = pos.Money{Minor: l.Amount, Currency: cur}.Decimal()
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\n", l.Wallet, l.Count, amount, l.Currency)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "failed: %d, reversed: %d\n", sum.Failed, sum.Reversed)
	if *printIt {
		var out struct{ Jobs []struct{ ID int64 } }
		if err := c.do(ctx, http.MethodPost, "/v1/summary/print"+q, nil, &out); err != nil {
			return &exitError{code: 1, err: err}
		}
		fmt.Fprintf(stdout, "summary queued for printing (job %d)\n", out.Jobs[0].ID)
	}
	return nil
}
