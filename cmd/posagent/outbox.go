package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/store"
)

// outbox builds the operator's outbox over the daemon's runners; nil when
// the journal does not list its outbox.
func (d *daemon) outbox(runner *flows.Runner, refunder *flows.RefundRunner) (*flows.Outbox, error) {
	if _, ok := d.journal.(store.OutboxAdmin); !ok {
		return nil, nil
	}
	return flows.NewOutbox(flows.OutboxOptions{Payments: runner, Refunds: refunder, AlertAfter: d.outboxAlertAfter, Logger: d.log})
}

// apiOutboxItem and apiOutboxList are the CLI's reading of GET /v1/outbox.
type apiOutboxItem struct {
	ID           string    `json:"id"`
	PaymentID    string    `json:"payment_id"`
	RefundID     string    `json:"refund_id"`
	Kind         string    `json:"kind"`
	Attempts     int       `json:"attempts"`
	LastError    string    `json:"last_error"`
	NextTry      time.Time `json:"next_try"`
	PendingSince time.Time `json:"pending_since"`
	State        string    `json:"state"`
	Gateway      string    `json:"gateway"`
	OutTradeNo   string    `json:"out_trade_no"`
	Amount       int64     `json:"amount"`
	Currency     string    `json:"currency"`
	Alert        bool      `json:"alert"`
}

type apiOutboxList struct {
	Items      []apiOutboxItem `json:"items"`
	Alerts     int             `json:"alerts"`
	AlertAfter string          `json:"alert_after"`
}

// runOutbox is `posagent outbox [retry ID | resolve ID --outcome S --reason R --by WHO]`.
func runOutbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := "list"
	if len(args) > 0 && (args[0] == "retry" || args[0] == "resolve" || args[0] == "list") {
		sub, args = args[0], args[1:]
	}
	fs := newFlagSet("outbox", stderr)
	client := apiFlags(fs)
	outcome := fs.String("outcome", "", "resolve: the final state confirmed with the acquirer (payment: succeeded, failed, reversed; refund: succeeded, failed, attention)")
	reason := fs.String("reason", "", "resolve: why (what was confirmed, and with whom); journaled")
	by := fs.String("by", "", "resolve: who resolves it; journaled")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: posagent outbox [--api URL] [--token-file FILE]\n       posagent outbox retry ITEM_ID\n       posagent outbox resolve ITEM_ID --outcome STATE --reason TEXT --by NAME")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\nexit status: 0 when nothing is overdue (list) or the action was taken; 1 when items are overdue; 2 bad flags or the API refused (4xx); 5 daemon unreachable\n")
	}
	var id string
	if sub == "list" {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usageError("unexpected arguments: %v", fs.Args())
		}
	} else {
		var err error
		if id, err = parseWithID(fs, args); err != nil {
			return err
		}
	}
	c, err := client()
	if err != nil {
		return err
	}
	switch sub {
	case "retry":
		var it apiOutboxItem
		if err := c.do(ctx, http.MethodPost, "/v1/outbox/"+url.PathEscape(id)+"/retry", nil, &it); err != nil {
			return apiExit(err)
		}
		fmt.Fprintf(stdout, "%s retried: %s of %s is due now\n", it.ID, it.Kind, it.PaymentID)
		return nil
	case "resolve":
		if *outcome == "" || *reason == "" || *by == "" {
			return usageError("resolve needs --outcome, --reason and --by")
		}
		var ans struct {
			Resolved string      `json:"resolved"`
			Payment  *apiPayment `json:"payment"`
			Refund   *struct {
				ID     string `json:"id"`
				Detail string `json:"detail"`
			} `json:"refund"`
		}
		body := map[string]string{"outcome": *outcome, "reason": *reason, "by": *by}
		if err := c.do(ctx, http.MethodPost, "/v1/outbox/"+url.PathEscape(id)+"/resolve", body, &ans); err != nil {
			return apiExit(err)
		}
		switch {
		case ans.Payment != nil:
			fmt.Fprintf(stdout, "%s resolved: ", ans.Resolved)
			printPayment(stdout, *ans.Payment)
		case ans.Refund != nil:
			fmt.Fprintf(stdout, "%s resolved: refund %s is %s\n", ans.Resolved, ans.Refund.ID, ans.Refund.Detail)
		}
		return nil
	}
	var list apiOutboxList
	if err := c.do(ctx, http.MethodGet, "/v1/outbox", nil, &list); err != nil {
		return apiExit(err)
	}
	printOutbox(stdout, list, time.Now())
	if list.Alerts > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d outbox items overdue", list.Alerts)}
	}
	return nil
}

func printOutbox(w io.Writer, list apiOutboxList, now time.Time) {
	if len(list.Items) == 0 {
		fmt.Fprintln(w, "outbox empty: no gateway operation is owed")
		return
	}
	fmt.Fprintf(w, "%-8s %-12s %-26s %-13s %-10s %8s  %-20s %s\n", "ITEM", "KIND", "PAYMENT", "STATE", "GATEWAY", "ATTEMPTS", "NEXT TRY", "LAST ERROR")
	for _, it := range list.Items {
		subject := it.PaymentID
		if it.RefundID != "" {
			subject = it.RefundID
		}
		flag := ""
		if it.Alert {
			flag = fmt.Sprintf("  ALERT: pending %s (over %s)", now.Sub(it.PendingSince).Round(time.Second), list.AlertAfter)
		}
		fmt.Fprintf(w, "%-8s %-12s %-26s %-13s %-10s %8d  %-20s %s%s\n", it.ID, it.Kind, subject, it.State, it.Gateway, it.Attempts,
			it.NextTry.Local().Format("2006-01-02 15:04:05"), it.LastError, flag)
	}
}
