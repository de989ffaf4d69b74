package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// The small commands over the local API: status, list, lookup, cancel,
// events. Each takes --api and --token-file like pay.

// apiFlags adds --api and --token-file to fs and returns a constructor for
// the client.
func apiFlags(fs *flag.FlagSet) func() (*apiClient, error) {
	api := fs.String("api", defaultAPI(), "the daemon's local API (default $POSAGENT_API, else http://127.0.0.1:8417)")
	tokenFile := fs.String("token-file", "", "file holding the API token (default: $POSAGENT_TOKEN, then the daemon's and the demo's token files)")
	return func() (*apiClient, error) {
		token, err := readToken(*tokenFile)
		if err != nil {
			return nil, usageError("%v", err)
		}
		return &apiClient{base: strings.TrimRight(*api, "/"), token: token, http: &http.Client{Timeout: 90 * time.Second}}, nil
	}
}

// parseWithID parses flags around one positional ID (before or after the
// flags, as people type it).
func parseWithID(fs *flag.FlagSet, args []string) (string, error) {
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return "", err
		}
	}
	if id == "" {
		fs.Usage()
		return "", usageError("a payment ID is required")
	}
	if fs.NArg() > 0 {
		return "", usageError("unexpected arguments: %v", fs.Args())
	}
	return id, nil
}

func printPayment(w io.Writer, p apiPayment) {
	fmt.Fprintf(w, "%s  %-9s %-13s %s %s", p.ID, p.State, p.Detail, formatMinor(p.Amount, p.Currency), p.Currency)
	if p.Wallet != "" {
		fmt.Fprintf(w, "  %s", p.Wallet)
	}
	if p.Reference != "" {
		fmt.Fprintf(w, "  ref %s", p.Reference)
	}
	if p.Reason != "" {
		fmt.Fprintf(w, "  — %s", p.Reason)
	}
	fmt.Fprintln(w)
}

// formatMinor shows minor units with two decimals (every currency the
// gateways take has two, except JPY-like ones, which the API would show
// as they are).
func formatMinor(minor int64, currency string) string {
	if currency == "JPY" || currency == "KRW" {
		return fmt.Sprint(minor)
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", stderr)
	wait := fs.Bool("wait", false, "wait until the payment is final")
	client := apiFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: posagent status PAYMENT_ID [--wait] [--api URL] [--token-file FILE]")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+exitCodesHelp)
	}
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	c, err := client()
	if err != nil {
		return err
	}
	p, err := c.payment(ctx, id)
	if err != nil {
		return apiExit(err)
	}
	if *wait {
		if p, err = c.follow(ctx, p, func(p apiPayment) { printPayment(stdout, p) }, nil); err != nil {
			return apiExit(err)
		}
	}
	printPayment(stdout, p)
	if code := exitFor(p.State); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

func runCancel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cancel", stderr)
	client := apiFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: posagent cancel PAYMENT_ID [--api URL] [--token-file FILE]\n\nA payment waiting for a scan fails at once; one that was sent is reversed\n(followed until final). A succeeded payment needs a refund (exit 2: conflict).\nExit 0 once the payment is cancelled (failed or reversed); otherwise the codes of pay.")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+exitCodesHelp)
	}
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	c, err := client()
	if err != nil {
		return err
	}
	var p apiPayment
	if err := c.doKey(ctx, http.MethodPost, "/v1/payments/"+url.PathEscape(id)+"/cancel", nil, &p, map[string]string{"Idempotency-Key": newKey()}); err != nil {
		return apiExit(err)
	}
	printPayment(stdout, p)
	if p.State == "pending" {
		if p, err = c.follow(ctx, p, nil, nil); err != nil {
			return apiExit(err)
		}
		printPayment(stdout, p)
	}
	// A cancel that ended the payment (failed, reversed) did what was
	// asked: 0. One that found it paid, or still going: its code.
	if code := exitFor(p.State); code != exitDeclined && code != exitReversed {
		return &exitError{code: code}
	}
	return nil
}

func runList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return listCommand(ctx, "list", args, stdout, stderr)
}

func runLookup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if externalLookup(args) {
		return runLookupExternal(ctx, args, stdout, stderr) // lookup.go
	}
	return listCommand(ctx, "lookup", args, stdout, stderr)
}

// listCommand is list and lookup: lookup REFERENCE is list --reference.
func listCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet(name, stderr)
	state := fs.String("state", "", "only these states, comma-separated (pending, succeeded, failed, reversed, or a detail)")
	method := fs.String("method", "", "only this method (micropay, qr)")
	wallet := fs.String("wallet", "", "only this wallet")
	gateway := fs.String("gateway", "", "only this gateway")
	reference := fs.String("reference", "", "only payments with this till reference")
	since := fs.String("since", "", "created at or after this RFC 3339 time")
	until := fs.String("until", "", "created before this RFC 3339 time")
	limit := fs.Int("limit", 20, "how many (1-200)")
	all := fs.Bool("all", false, "follow the cursor through every page")
	client := apiFlags(fs)
	fs.Usage = func() {
		if name == "lookup" {
			fmt.Fprintln(fs.Output(), "usage: posagent lookup REFERENCE [flags]\n\nFind the payments a till created with a reference (its own order id):\nthe way back to a payment whose create answer was lost.")
		} else {
			fmt.Fprintln(fs.Output(), "usage: posagent list [flags]")
		}
		fs.PrintDefaults()
	}
	if name == "lookup" {
		ref, err := parseWithID(fs, args)
		if err != nil {
			return err
		}
		*reference = ref
	} else if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return usageError("unexpected arguments: %v", fs.Args())
	}
	c, err := client()
	if err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"state": *state, "method": *method, "wallet": *wallet, "gateway": *gateway, "reference": *reference, "created_from": *since, "created_to": *until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("limit", fmt.Sprint(*limit))
	n := 0
	for {
		var page struct {
			Payments   []apiPayment `json:"payments"`
			NextCursor string       `json:"next_cursor"`
		}
		if err := c.do(ctx, http.MethodGet, "/v1/payments?"+q.Encode(), nil, &page); err != nil {
			return apiExit(err)
		}
		for _, p := range page.Payments {
			printPayment(stdout, p)
			n++
		}
		if !*all || page.NextCursor == "" {
			break
		}
		q.Set("cursor", page.NextCursor)
	}
	if n == 0 {
		fmt.Fprintln(stderr, "no payments")
		if name == "lookup" {
			return &exitError{code: 1}
		}
	}
	return nil
}

func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("events", stderr)
	after := fs.String("after", "", `resume after this event id (as printed); "now" for new events only (default: from the beginning)`)
	once := fs.Bool("once", false, "print what there is and exit instead of following")
	client := apiFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: posagent events [--after ID|now] [--once]\n\nFollow every payment and refund change (Server-Sent Events of GET /v1/events),\none line each: ID KIND PAYMENT/REFUND FROM -> TO (STATE) REASON. Reconnects\nby itself, resuming after the last ID, when the daemon restarts.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := client()
	if err != nil {
		return err
	}
	c.http.Timeout = 0 // a stream
	last := *after
	for {
		err := c.stream(ctx, last, *once, func(id, kind, line string) {
			last = id
			if kind != "" {
				fmt.Fprintf(stdout, "%s %s %s\n", id, kind, line)
			}
		})
		if ctx.Err() != nil || (*once && err == nil) {
			return nil
		}
		var ue *unreachableError
		if err != nil && !errors.As(err, &ue) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return apiExit(err)
		}
		if *once {
			return apiExit(err)
		}
		fmt.Fprintln(stderr, "posagent events: connection lost; reconnecting…")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// stream reads /v1/events from after, calling emit per event, and once
// with kind "" and the position the stream starts at. With once it returns
// after about a second, when the backlog has been sent.
func (c *apiClient) stream(ctx context.Context, after string, once bool, emit func(id, kind, line string)) error {
	q := ""
	if after != "" {
		q = "?after=" + url.QueryEscape(after)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/events"+q, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return &unreachableError{fmt.Errorf("cannot reach posagent at %s: %w", c.base, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return &apiError{Status: resp.StatusCode, Kind: "error", Message: strings.TrimSpace(string(b))}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var id, kind, data string
	idle := make(chan struct{}, 1)
	if once {
		// The backlog is sent at once; a pause means it is all here.
		go func() {
			t := time.NewTimer(time.Second)
			defer t.Stop()
			<-t.C
			idle <- struct{}{}
			resp.Body.Close()
		}()
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data != "" {
				emit(id, kind, describeEvent(data))
			}
			id, kind, data = "", "", ""
		case strings.HasPrefix(line, ": posagent events from "):
			// Where the stream starts: an id with no event, so a
			// caller can resume from here.
			emit(strings.TrimPrefix(line, ": posagent events from "), "", "")
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			kind = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
	select {
	case <-idle:
		return nil
	default:
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return &unreachableError{err}
	}
	if ctx.Err() != nil {
		return nil
	}
	return io.ErrUnexpectedEOF
}

func describeEvent(data string) string {
	var e struct {
		PaymentID string `json:"payment_id"`
		RefundID  string `json:"refund_id"`
		From, To  string
		State     string
		Reason    string
	}
	if err := jsonUnmarshal([]byte(data), &e); err != nil {
		return data
	}
	who := e.PaymentID
	if e.RefundID != "" {
		who = e.RefundID
	}
	from := e.From
	if from == "" {
		from = "(new)"
	}
	s := fmt.Sprintf("%s %s -> %s (%s)", who, from, e.To, e.State)
	if e.Reason != "" {
		s += " " + e.Reason
	}
	return s
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// defaultAPI is the local API the commands talk to when --api is not
// given: $POSAGENT_API, else the default listen address.
func defaultAPI() string {
	if v := os.Getenv("POSAGENT_API"); v != "" {
		return v
	}
	return "http://127.0.0.1:8417"
}
