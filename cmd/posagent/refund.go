package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// apiRefund is a refund as the local API shows it.
type apiRefund struct {
	ID              string `json:"id"`
	PaymentID       string `json:"payment_id"`
	State           string `json:"state"`  // pending, succeeded, failed
	Detail          string `json:"detail"` // submitting, processing, unknown, ...
	Amount          int64  `json:"amount"`
	Currency        string `json:"currency"`
	Reason          string `json:"reason"`
	Outcome         string `json:"outcome"`
	OutRefundNo     string `json:"out_refund_no"`
	GatewayRefundID string `json:"gateway_refund_id"`
}

func (c *apiClient) payment(ctx context.Context, id string) (apiPayment, error) {
	var p apiPayment
	err := c.do(ctx, http.MethodGet, "/v1/payments/"+url.PathEscape(id), nil, &p)
	return p, err
}

// refund asks for a refund of a payment; amount 0 refunds all that is left.
func (c *apiClient) refund(ctx context.Context, paymentID string, amount int64, reason string) (apiRefund, error) {
	body := map[string]any{}
	if amount > 0 {
		body["amount"] = amount
	}
	if reason != "" {
		body["reason"] = reason
	}
	var r apiRefund
	err := c.do(ctx, http.MethodPost, "/v1/payments/"+url.PathEscape(paymentID)+"/refunds", body, &r)
	return r, err
}

// followRefund long-polls until the refund is final, calling progress on
// each change.
func (c *apiClient) followRefund(ctx context.Context, r apiRefund, progress func(apiRefund)) (apiRefund, error) {
	for r.State == "pending" {
		var next apiRefund
		q := url.Values{"wait": {"30s"}, "state": {r.Detail}}
		if err := c.do(ctx, http.MethodGet, "/v1/refunds/"+url.PathEscape(r.ID)+"?"+q.Encode(), nil, &next); err != nil {
			return r, err
		}
		if next.Detail != r.Detail && progress != nil {
			progress(next)
		}
		r = next
	}
	return r, nil
}

func runRefund(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("refund", stderr)
	amount := fs.String("amount", "", "amount to refund in major units of the payment's currency, e.g. 5.00 (default: all that is left)")
	reason := fs.String("reason", "", "why, sent to the gateway and printed on the receipt")
	api := fs.String("api", defaultAPI(), "the daemon's local API (default $POSAGENT_API, else http://127.0.0.1:8417)")
	tokenFile := fs.String("token-file", "", "file holding the API token (default: $POSAGENT_TOKEN, then the daemon's and the demo's token files)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: posagent refund PAYMENT_ID [--amount 5.00] [--reason TEXT] [--api URL] [--token-file FILE]")
		fs.PrintDefaults()
	}
	// The payment ID may come before the flags, as people type it.
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if id == "" {
		fs.Usage()
		return usageError("a payment ID is required")
	}
	if fs.NArg() > 0 {
		return usageError("unexpected arguments: %v", fs.Args())
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		return usageError("%v", err)
	}
	c := &apiClient{base: strings.TrimRight(*api, "/"), token: token, http: &http.Client{Timeout: 60 * time.Second}}
	// The amount is in the payment's currency, which the API knows.
	p, err := c.payment(ctx, id)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	var minor int64
	what := "all that is left of " + id
	if *amount != "" {
		m, err := pos.ParseMoney(*amount, p.Currency)
		if err != nil {
			return usageError("--amount: %v", err)
		}
		minor, what = m.Minor, m.String()+" of "+id
	}
	fmt.Fprintf(stdout, "Refunding %s…\n", what)
	r, err := c.refund(ctx, id, minor, *reason)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	show := func(r apiRefund) {
		line := fmt.Sprintf("  %s  %-9s %s  %s", r.ID, r.State, r.Detail, money(r.Amount, r.Currency))
		if r.Outcome != "" {
			line += "  — " + r.Outcome
		}
		fmt.Fprintln(stdout, line)
	}
	show(r)
	r, err = c.followRefund(ctx, r, show)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(stdout, "Final: %s (out_refund_no %s", r.State, r.OutRefundNo)
	if r.GatewayRefundID != "" {
		fmt.Fprintf(stdout, ", gateway refund %s", r.GatewayRefundID)
	}
	fmt.Fprintln(stdout, ")")
	if r.State != "succeeded" {
		return &exitError{code: 1}
	}
	return nil
}

// money formats minor units of a currency for the terminal.
func money(minor int64, currency string) string {
	if c, err := pos.ParseCurrency(currency); err == nil {
		return pos.Money{Minor: minor, Currency: c}.String()
	}
	return fmt.Sprintf("%d %s", minor, currency)
}
