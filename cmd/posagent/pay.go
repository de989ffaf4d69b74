package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
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
}

type apiError struct {
	Status  int
	Kind    string
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Kind, e.Status, e.Message)
}

func (c *apiClient) do(ctx context.Context, method, path string, body any, out any) error {
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
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach posagent at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var eb struct {
			Error struct{ Kind, Message string }
		}
		_ = json.Unmarshal(b, &eb)
		return &apiError{Status: resp.StatusCode, Kind: eb.Error.Kind, Message: eb.Error.Message}
	}
	return json.Unmarshal(b, out)
}

func (c *apiClient) create(ctx context.Context, req map[string]any) (apiPayment, error) {
	var p apiPayment
	err := c.do(ctx, http.MethodPost, "/v1/payments", req, &p)
	return p, err
}

// wait returns the payment once its detailed state differs from seen.
func (c *apiClient) wait(ctx context.Context, id, seen string, d time.Duration) (apiPayment, error) {
	var p apiPayment
	q := url.Values{"wait": {d.String()}, "state": {seen}}
	err := c.do(ctx, http.MethodGet, "/v1/payments/"+url.PathEscape(id)+"?"+q.Encode(), nil, &p)
	return p, err
}

// follow long-polls until the payment is final, calling progress on each change.
func (c *apiClient) follow(ctx context.Context, p apiPayment, progress func(apiPayment)) (apiPayment, error) {
	for p.State == "pending" {
		next, err := c.wait(ctx, p.ID, p.Detail, 30*time.Second)
		if err != nil {
			return p, err
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

func runPay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pay", stderr)
	amount := fs.String("amount", "", "amount in major units, e.g. 12.91 (required)")
	currency := fs.String("currency", "CNY", "ISO 4217 currency")
	code := fs.String("code", "", "the customer's payment code; omit to wait for a scan at the till")
	qr := fs.String("qr", "", "take a merchant-presented QR payment for this wallet (wechat, alipay, ...) instead")
	gateway := fs.String("gateway", "", "configured gateway name (default: the daemon's default)")
	api := fs.String("api", "http://127.0.0.1:8417", "the daemon's local API")
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
	fmt.Fprintf(stdout, "Paying %s…\n", m)
	p, err := c.create(ctx, req)
	if err != nil {
		return &exitError{code: 1, err: err}
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
	show(p)
	p, err = c.follow(ctx, p, show)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(stdout, "Final: %s (out_trade_no %s", p.State, p.OutTradeNo)
	if p.TransactionID != "" {
		fmt.Fprintf(stdout, ", transaction %s", p.TransactionID)
	}
	fmt.Fprintln(stdout, ")")
	if p.State != "succeeded" {
		return &exitError{code: 1}
	}
	return nil
}
