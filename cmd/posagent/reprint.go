package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// apiPrintJob is a receipt as the local API shows it.
type apiPrintJob struct {
	ID        int64  `json:"id"`
	PaymentID string `json:"payment_id"`
	Kind      string `json:"kind"`
	State     string `json:"state"` // pending, printed
	Reprint   bool   `json:"reprint"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error"`
}

type apiPrintJobs struct {
	PaymentID string        `json:"payment_id"`
	Jobs      []apiPrintJob `json:"jobs"`
}

// reprint queues a payment's receipts again; no kinds: the copies it got.
func (c *apiClient) reprint(ctx context.Context, id string, kinds []string) (apiPrintJobs, error) {
	var body any
	if len(kinds) > 0 {
		body = map[string]any{"kinds": kinds}
	}
	var out apiPrintJobs
	err := c.do(ctx, http.MethodPost, "/v1/payments/"+url.PathEscape(id)+"/reprint", body, &out)
	return out, err
}

// receipts lists a payment's receipts, printed or pending.
func (c *apiClient) receipts(ctx context.Context, id string) (apiPrintJobs, error) {
	var out apiPrintJobs
	err := c.do(ctx, http.MethodGet, "/v1/payments/"+url.PathEscape(id)+"/receipts", nil, &out)
	return out, err
}

// waitPrinted polls until every job in ids (every job of the payment, when
// ids is empty) is printed or ctx ends, and returns the jobs as last seen.
func (c *apiClient) waitPrinted(ctx context.Context, paymentID string, ids map[int64]bool) ([]apiPrintJob, error) {
	for {
		rs, err := c.receipts(ctx, paymentID)
		if err != nil {
			return nil, err
		}
		var jobs []apiPrintJob
		done := true
		for _, j := range rs.Jobs {
			if len(ids) > 0 && !ids[j.ID] {
				continue
			}
			jobs = append(jobs, j)
			done = done && j.State == "printed"
		}
		if done && len(jobs) > 0 {
			return jobs, nil
		}
		select {
		case <-ctx.Done():
			return jobs, nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// kindList is a repeatable --kind flag.
type kindList []string

func (k *kindList) String() string     { return strings.Join(*k, ",") }
func (k *kindList) Set(v string) error { *k = append(*k, v); return nil }

func runReprint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reprint", stderr)
	var kinds kindList
	fs.Var(&kinds, "kind", "receipt to print: payment-customer, payment-merchant or void (repeatable; default: the copies the payment got)")
	api := fs.String("api", defaultAPI(), "the daemon's local API (default $POSAGENT_API, else http://127.0.0.1:8417)")
	tokenFile := fs.String("token-file", "", "file holding the API token (default: $POSAGENT_TOKEN, then the daemon's and the demo's token files)")
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for the receipts to print (0: return once queued)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: posagent reprint PAYMENT_ID [--kind KIND]... [--api URL] [--token-file FILE] [--wait 10s]")
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
	c := &apiClient{base: strings.TrimRight(*api, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}
	queued, err := c.reprint(ctx, id, kinds)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	ids := map[int64]bool{}
	for _, j := range queued.Jobs {
		ids[j.ID] = true
		fmt.Fprintf(stdout, "queued  #%d %s\n", j.ID, j.Kind)
	}
	if *wait <= 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	jobs, err := c.waitPrinted(wctx, id, ids)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	pending := 0
	for _, j := range jobs {
		if j.State == "printed" {
			fmt.Fprintf(stdout, "printed #%d %s\n", j.ID, j.Kind)
			continue
		}
		pending++
		why := j.LastError
		if why == "" {
			why = "waiting for the printer"
		}
		fmt.Fprintf(stdout, "pending #%d %s: %s (kept; it prints when the printer is ready)\n", j.ID, j.Kind, why)
	}
	if pending > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d receipt(s) not printed yet", pending)}
	}
	return nil
}
