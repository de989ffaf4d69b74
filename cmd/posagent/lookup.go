package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// lookup asks the daemon for an order placed outside the till (a HipoPay
// mini-program) by out_trade_id or payment_no: it comes back as a payment,
// adopted into the journal when the gateway says it is paid.
func (c *apiClient) lookup(ctx context.Context, gateway, outTradeID, paymentNo string) (apiPayment, error) {
	body := map[string]any{}
	for k, v := range map[string]string{"gateway": gateway, "out_trade_id": outTradeID, "payment_no": paymentNo} {
		if v != "" {
			body[k] = v
		}
	}
	var p apiPayment
	err := c.do(ctx, http.MethodPost, "/v1/payments/lookup", body, &p)
	return p, err
}

// externalLookup reports whether lookup's arguments name an order placed
// outside the till (--out-trade-id, --payment-no) rather than a reference.
func externalLookup(args []string) bool {
	for _, a := range args {
		for _, f := range []string{"-out-trade-id", "--out-trade-id", "-payment-no", "--payment-no"} {
			if a == f || strings.HasPrefix(a, f+"=") {
				return true
			}
		}
	}
	return false
}

// runLookupExternal is `posagent lookup --out-trade-id ID | --payment-no NO`.
func runLookupExternal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("lookup", stderr)
	outTradeID := fs.String("out-trade-id", "", "the merchant's order number the mini-program placed (out_trade_id)")
	paymentNo := fs.String("payment-no", "", "the platform's payment number (payment_no)")
	gateway := fs.String("gateway", "", "configured gateway name (default: the daemon's default gateway)")
	api := fs.String("api", "http://127.0.0.1:8417", "the daemon's local API")
	tokenFile := fs.String("token-file", "", "file holding the API token (default: $POSAGENT_TOKEN, then the daemon's and the demo's token files)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: posagent lookup (--out-trade-id ID | --payment-no NO) [--gateway NAME] [--api URL] [--token-file FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected arguments: %v", fs.Args())
	}
	if *outTradeID == "" && *paymentNo == "" {
		fs.Usage()
		return usageError("--out-trade-id or --payment-no is required")
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		return usageError("%v", err)
	}
	c := &apiClient{base: strings.TrimRight(*api, "/"), token: token, http: &http.Client{Timeout: 60 * time.Second}}
	p, err := c.lookup(ctx, *gateway, *outTradeID, *paymentNo)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(stdout, "%s  %s  %s  out_trade_no %s  payment_no %s\n", p.ID, p.State, money(p.Amount, p.Currency), p.OutTradeNo, p.TransactionID)
	fmt.Fprintf(stdout, "Refund it: posagent refund %s [--amount …]; reprint: posagent reprint %s\n", p.ID, p.ID)
	return nil
}
