package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// apiClient is a small client of the local API, used by pay and the tour.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

type apiPayment struct {
	ID            string `json:"id"`
	State         string `json:"state"`
	Detail        string `json:"detail"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	Wallet        string `json:"wallet"`
	Gateway       string `json:"gateway"`
	OutTradeNo    string `json:"out_trade_no"`
	TransactionID string `json:"transaction_id"`
	Code          string `json:"code"`
	CodeURL       string `json:"code_url"`
	Reason        string `json:"reason"`
	Reference     string `json:"reference"`
	Method        string `json:"method"`
	CreatedAt     string `json:"created_at"`
	ScanRefusals  []struct {
		Message string `json:"message"`
	} `json:"scan_refusals"`
}

type apiError struct {
	Status  int
	Kind    string
	Type    string // the problem type's last part: invalid-field, payment-waiting, ...
	Field   string
	Message string
	// Waiting names the payment waiting for a scan (payment-waiting).
	Waiting string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s (HTTP %d): %s", e.Kind, e.Status, e.Message)
	if e.Field != "" {
		msg += " [" + e.Field + "]"
	}
	return msg
}

// unreachableError is a daemon that did not answer at all.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

func (c *apiClient) do(ctx context.Context, method, path string, body any, out any) error {
	return c.doKey(ctx, method, path, body, out, nil)
}

// doKey is do with extra request headers (Idempotency-Key, Prefer).
func (c *apiClient) doKey(ctx context.Context, method, path string, body any, out any, hdr map[string]string) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &unreachableError{fmt.Errorf("cannot reach posagent at %s: %w", c.base, err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var pb struct {
			Type, Kind, Detail, Field string
			Waiting                   string `json:"waiting_payment"`
		}
		_ = json.Unmarshal(b, &pb)
		return &apiError{Status: resp.StatusCode, Kind: pb.Kind, Type: strings.TrimPrefix(pb.Type, "urn:posagent:problem:"), Field: pb.Field, Message: pb.Detail, Waiting: pb.Waiting}
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, out)
}

func (c *apiClient) create(ctx context.Context, req map[string]any) (apiPayment, error) {
	var p apiPayment
	err := c.do(ctx, http.MethodPost, "/v1/payments", req, &p)
	return p, err
}

// wait returns the payment once its detailed state differs from seen, or
// it refused more than refusals scans.
func (c *apiClient) wait(ctx context.Context, id, seen string, refusals int, d time.Duration) (apiPayment, error) {
	var p apiPayment
	q := url.Values{"wait": {d.String()}, "state": {seen}, "refusals": {strconv.Itoa(refusals)}}
	err := c.do(ctx, http.MethodGet, "/v1/payments/"+url.PathEscape(id)+"?"+q.Encode(), nil, &p)
	return p, err
}

// follow long-polls until the payment is final, calling progress on each
// change and refused on each scan the payment refused.
func (c *apiClient) follow(ctx context.Context, p apiPayment, progress func(apiPayment), refused func(string)) (apiPayment, error) {
	seen := 0
	for p.State == "pending" {
		next, err := c.wait(ctx, p.ID, p.Detail, len(p.ScanRefusals), 30*time.Second)
		if err != nil {
			return p, err
		}
		for ; seen < len(next.ScanRefusals); seen++ {
			if refused != nil {
				refused(next.ScanRefusals[seen].Message)
			}
		}
		if next.Detail != p.Detail && progress != nil {
			progress(next)
		}
		p = next
	}
	return p, nil
}

// defaultTokenFiles are tried in order when pay is given no token.
func defaultTokenFiles() []string {
	return []string{"/var/lib/posagent/api.token", filepath.Join(os.TempDir(), "posagent-demo", "api.token")}
}

func readToken(flagFile string) (string, error) {
	if t := os.Getenv("POSAGENT_TOKEN"); t != "" && flagFile == "" {
		return t, nil
	}
	files := defaultTokenFiles()
	if flagFile != "" {
		files = []string{flagFile}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil {
			return strings.TrimSpace(string(b)), nil
		}
		if flagFile != "" {
			return "", fmt.Errorf("reading token: %w", err)
		}
	}
	return "", fmt.Errorf("no API token: pass --token-file, set POSAGENT_TOKEN, or run where %s exists", strings.Join(files, " or "))
}

// Exit codes of pay (and status, cancel), written in pay --help.
const (
	exitSucceeded   = 0
	exitDeclined    = 1 // failed: nothing was charged
	exitInvalid     = 2 // bad flags, or the API refused the request (4xx)
	exitReversed    = 3 // charged or possibly charged, then reversed
	exitPending     = 4 // not final yet (interrupted, or still unknown)
	exitUnreachable = 5 // the daemon did not answer, or is not ready (503)
)

const exitCodesHelp = `Exit codes:
  0  succeeded
  1  declined or failed (nothing was charged)
  2  invalid request (bad flags, or the API refused it: 4xx)
  3  reversed (charged or possibly charged, then reversed)
  4  still pending (interrupted, or not final yet)
  5  daemon unreachable or not ready
`

// exitFor is the exit code for a payment's public state.
func exitFor(state string) int {
	switch state {
	case "succeeded":
		return exitSucceeded
	case "failed":
		return exitDeclined
	case "reversed":
		return exitReversed
	}
	return exitPending
}

// apiExit turns a client error into an exit.
func apiExit(err error) error {
	var ue *unreachableError
	var ae *apiError
	switch {
	case errors.As(err, &ue):
		return &exitError{code: exitUnreachable, err: err}
	case errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable:
		return &exitError{code: exitUnreachable, err: err}
	case errors.As(err, &ae) && ae.Status/100 == 4:
		return &exitError{code: exitInvalid, err: err}
	}
	return &exitError{code: exitDeclined, err: err}
}

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "cli-" + hex.EncodeToString(b)
}

func runPay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pay", stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: posagent pay --amount 12.91 [flags]\n\nTake a payment through a running daemon and follow it until it is final.\nCtrl-C cancels the payment (and reverses it if it was sent) before exiting.\n\nFlags:")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+exitCodesHelp)
	}
	amount := fs.String("amount", "", "amount in major units, e.g. 12.91 (required)")
	currency := fs.String("currency", "CNY", "ISO 4217 currency")
	code := fs.String("code", "", "the customer's payment code; omit to wait for a scan at the till")
	qr := fs.String("qr", "", "take a merchant-presented QR payment for this wallet (wechat, alipay, ...) instead")
	gateway := fs.String("gateway", "", "configured gateway name (default: the daemon's routing, then its default)")
	reference := fs.String("reference", "", "the till's own order id, to find the payment by later (posagent lookup)")
	lane := fs.String("lane", "", "the till's lane (default: the default lane)")
	replace := fs.Bool("replace", false, "cancel a payment already waiting for a scan in the lane instead of being refused")
	api := fs.String("api", defaultAPI(), "the daemon's local API (default $POSAGENT_API, else http://127.0.0.1:8417)")
	tokenFile := fs.String("token-file", "", "file holding the API token (default: $POSAGENT_TOKEN, then the daemon's and the demo's token files)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *amount == "" {
		return usageError("--amount is required")
	}
	m, err := pos.ParseMoney(*amount, *currency)
	if err != nil {
		return usageError("%v", err)
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		return usageError("%v", err)
	}
	c := &apiClient{base: strings.TrimRight(*api, "/"), token: token, http: &http.Client{Timeout: 60 * time.Second}}
	req := map[string]any{"amount": m.Minor, "currency": string(m.Currency)}
	if *code != "" {
		req["auth_code"] = *code
	}
	if *qr != "" {
		req["method"] = "qr"
		req["wallet"] = *qr
	}
	if *gateway != "" {
		req["gateway"] = *gateway
	}
	if *reference != "" {
		req["reference"] = *reference
	}
	if *lane != "" {
		req["lane"] = *lane
	}
	if *replace {
		req["replace"] = true
	}
	fmt.Fprintf(stdout, "Paying %s…\n", m)
	// One Idempotency-Key for this payment: a create whose answer is
	// lost is sent again with it, and cannot charge twice.
	key := newKey()
	var p apiPayment
	for attempt := 0; ; attempt++ {
		err = c.doKey(ctx, http.MethodPost, "/v1/payments", req, &p, map[string]string{"Idempotency-Key": key})
		var ue *unreachableError
		if err == nil || !errors.As(err, &ue) || attempt == 2 || ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Waiting != "" {
			fmt.Fprintf(stderr, "payment %s is waiting for a scan in this lane: cancel it (posagent cancel %s) or pay with --replace\n", ae.Waiting, ae.Waiting)
		}
		return apiExit(err)
	}
	show := func(p apiPayment) {
		line := fmt.Sprintf("  %s  %-9s %s", p.ID, p.State, p.Detail)
		if p.Wallet != "" {
			line += "  " + p.Wallet
		}
		if p.Detail == "awaiting_code" {
			line += "  (scan the customer's code now)"
		}
		if p.CodeURL != "" && p.Detail == "user_paying" {
			line += "  code_url shown on the customer display"
		}
		if p.Reason != "" {
			line += "  — " + p.Reason
		}
		fmt.Fprintln(stdout, line)
	}
	refused := func(msg string) { fmt.Fprintf(stdout, "  scan refused: %s — ask the customer to scan again\n", msg) }
	show(p)
	p, err = c.follow(ctx, p, show, refused)
	if err != nil && ctx.Err() != nil {
		// Ctrl-C (or SIGTERM): the cashier gave up on this sale. Cancel
		// it before exiting, so no later scan can pay it.
		cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		fmt.Fprintf(stdout, "Interrupted: cancelling %s…\n", p.ID)
		var cp apiPayment
		if cerr := c.do(cctx, http.MethodPost, "/v1/payments/"+url.PathEscape(p.ID)+"/cancel", nil, &cp); cerr != nil {
			var ae *apiError
			if !errors.As(cerr, &ae) || ae.Status != http.StatusConflict {
				fmt.Fprintf(stderr, "posagent pay: cancelling %s failed: %v\n", p.ID, cerr)
				return &exitError{code: exitPending}
			}
			// Already final: report what it became.
			_ = c.do(cctx, http.MethodGet, "/v1/payments/"+url.PathEscape(p.ID), nil, &cp)
		}
		if cp.State == "pending" {
			if fp, err := c.follow(cctx, cp, show, nil); err == nil {
				cp = fp
			}
		}
		fmt.Fprintf(stdout, "Final: %s (cancelled by the cashier)\n", cp.State)
		return &exitError{code: exitFor(cp.State)}
	}
	if err != nil {
		return apiExit(err)
	}
	fmt.Fprintf(stdout, "Final: %s (out_trade_no %s", p.State, p.OutTradeNo)
	if p.TransactionID != "" {
		fmt.Fprintf(stdout, ", transaction %s", p.TransactionID)
	}
	fmt.Fprintln(stdout, ")")
	if p.State != "succeeded" {
		if p.Reason != "" {
			fmt.Fprintln(stdout, "Reason:", p.Reason)
		}
		return &exitError{code: exitFor(p.State)}
	}
	return nil
}
