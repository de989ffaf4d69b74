package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// tourCase is one row of the tour: a request and the final state the
// simulator's magic amounts promise for it.
type tourCase struct {
	name   string
	amount int64
	code   string // "" with scan set: scanned through the virtual scanner
	scan   string // the code to type into the virtual scanner
	want   string // final state, or "rejected" for a request refused with 400
	// qr makes the case a merchant-presented QR payment; the wallet comes
	// from the plan. cancel has the cashier cancel it once it is shown.
	qr, cancel bool
}

// tourPlan is what the tour runs against one gateway, from its declared
// capabilities: micropay cases where it takes codes, merchant-QR cases
// where it creates QR orders, refunds where it refunds.
type tourPlan struct {
	currency string
	micropay bool
	qrWallet string // "" when the gateway creates no merchant QR orders
	refunds  bool
	// external: the gateway's orders are placed outside the till (HipoPay):
	// the tour places one at the simulator's mini-program API (simBase).
	external bool
	simBase  string
	// qrClose: the gateway may close qrWallet's orders. Without, a
	// cancelled QR is watched until it expires and ends failed (nothing
	// was charged), never closed.
	qrClose bool
	// gateway is the configured name the tour reconciles ("" every one).
	gateway string
}

func (p tourPlan) cases() []tourCase {
	var out []tourCase
	if p.micropay {
		out = append(out, tourCases...)
	}
	if p.qrWallet != "" {
		for _, c := range tourQRCases {
			if c.cancel && !p.qrClose {
				c.name = "merchant QR ..92, cashier cancels, watched until it expires"
				c.want = "failed"
			}
			out = append(out, c)
		}
	}
	return out
}

// tourQRCases are the merchant-presented QR scenarios: the simulated
// customer scans while the till polls.
var tourQRCases = []tourCase{
	{name: "merchant QR, paid on the first query", amount: 2200, qr: true, want: "succeeded"},
	{name: "merchant QR ..91, paid on the 2nd query", amount: 2291, qr: true, want: "succeeded"},
	{name: "merchant QR ..92, cashier cancels, order closed", amount: 2292, qr: true, cancel: true, want: "reversed"},
	{name: "merchant QR ..93, declined", amount: 2293, qr: true, want: "failed"},
}

var tourCases = []tourCase{
	{name: "success at once", amount: 1200, code: "134567890123456789", want: "succeeded"},
	{name: "..91 user paying, paid on 2nd query", amount: 1291, code: "284567890123456789", want: "succeeded"},
	{name: "..92 never confirmed, reversed", amount: 1292, code: "134567890123456780", want: "reversed"},
	{name: "..93 declined", amount: 1293, code: "284567890123456780", want: "failed"},
	{name: "..94 no answer, but paid", amount: 1294, code: "134567890123456781", want: "succeeded"},
	{name: "..95 no answer, never paid", amount: 1295, code: "284567890123456781", want: "reversed"},
	{name: "scanned on the virtual scanner", amount: 1800, scan: "134567890123456782", want: "succeeded"},
	{name: "product barcode refused (EAN-13)", amount: 1200, code: "6901234567892", want: "rejected"},
}

type tourResult struct {
	c      tourCase
	got    string
	id     string
	detail string
	took   time.Duration
	err    error
	// receipts lists the receipt previews (PNG, each with its .bin beside
	// it) written for the payment.
	receipts []string
}

// receiptLister reports the receipt files written for a payment.
type receiptLister interface {
	Files(paymentID string) []string
}

// previews keeps the PNG previews among files that have their ESC/POS
// bytes (.bin) beside them: a receipt whose bytes are missing does not
// count as printed.
func previews(files []string) []string {
	have := map[string]bool{}
	for _, f := range files {
		have[f] = true
	}
	var out []string
	for _, f := range files {
		if base, ok := strings.CutSuffix(f, ".png"); ok && have[base+".bin"] {
			out = append(out, f)
		}
	}
	return out
}

// runTour runs every case concurrently through the local API, as a till
// would, and prints a table. It returns whether every case ended as
// expected and every final payment has its receipt previews.
func runTour(ctx context.Context, c *apiClient, plan tourPlan, scannerPath string, receipts receiptLister, w io.Writer) bool {
	cases := plan.cases()
	day := acquirerDay(time.Now())
	fmt.Fprintf(w, "Running the tour: %d scenarios in %s against the simulated gateway…\n", len(cases), plan.currency)
	results := make([]tourResult, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases {
		wg.Go(func() {
			start := time.Now()
			r := tourResult{c: tc}
			r.got, r.id, r.detail, r.err = runTourCase(ctx, c, tc, plan, scannerPath)
			r.took = time.Since(start).Round(100 * time.Millisecond)
			results[i] = r
		})
	}
	wg.Wait()
	// Receipts are journaled with the final state and printed by the spool
	// just after; wait until the API says every one is printed.
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	for i := range results {
		if r := &results[i]; r.id != "" && r.err == nil {
			if _, err := c.waitPrinted(pctx, r.id, nil); err != nil {
				r.err = fmt.Errorf("receipts: %w", err)
			}
		}
	}
	cancel()
	ok := true
	var refundLines []string
	switch {
	case plan.external:
		refundLines, ok = tourExternal(ctx, c, plan, receipts)
	case plan.refunds:
		refundLines, ok = tourRefunds(ctx, c, plan, receipts)
	}
	// The till API's walk creates payments: only where the till can start
	// one (HipoPay's orders are placed in the mini-program).
	apiLines, apiOK := []string{"  skipped: this gateway's orders are placed outside the till"}, true
	if plan.micropay || plan.qrWallet != "" {
		apiLines, apiOK = tourAPI(ctx, c, plan)
	}
	ok = ok && apiOK
	failed := ""
	for _, r := range results {
		if r.err == nil && r.got == "failed" && r.id != "" {
			failed = r.id
		}
	}
	receiptLines, receiptsOK := tourReceipts(ctx, c, receipts, failed)
	ok = ok && receiptsOK
	// Last, with every payment and refund final: the day against the bill.
	reconLines, reconOK := tourReconcile(ctx, c, plan, day)
	ok = ok && reconOK
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AMOUNT\tSCENARIO\tEXPECTED\tACTUAL\tTOOK\tRECEIPTS\tRESULT")
	for i := range results {
		r := &results[i]
		pass := r.err == nil && r.got == r.c.want
		rc := "-"
		if r.id != "" && receipts != nil {
			r.receipts = previews(receipts.Files(r.id))
			rc = fmt.Sprintf("%d png", len(r.receipts))
			if len(r.receipts) == 0 {
				pass = false
				rc = "missing"
			}
		}
		mark := "ok"
		if !pass {
			mark = "MISMATCH"
			ok = false
		}
		got := r.got
		if r.err != nil {
			got = "error: " + r.err.Error()
		}
		fmt.Fprintf(tw, "%d.%02d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.c.amount/100, r.c.amount%100, r.c.name, r.c.want, got, r.took, rc, mark)
	}
	tw.Flush()
	if plan.external {
		fmt.Fprintln(w, "An order placed in the mini-program:")
		for _, l := range refundLines {
			fmt.Fprintln(w, l)
		}
	} else if plan.refunds {
		fmt.Fprintln(w, "Refunds:")
		for _, l := range refundLines {
			fmt.Fprintln(w, l)
		}
	}
	fmt.Fprintln(w, "Till API:")
	for _, l := range apiLines {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, "Receipts:")
	for _, l := range receiptLines {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintf(w, "Reconciliation of the acquirer's day %s:\n", day)
	for _, l := range reconLines {
		fmt.Fprintln(w, l)
	}
	if ok {
		fmt.Fprintln(w, "All scenarios ended as expected.")
	}
	for _, r := range results {
		if len(r.receipts) > 0 {
			fmt.Fprintf(w, "  %s receipts: %v\n", r.id, r.receipts)
		}
	}
	return ok
}

func runTourCase(ctx context.Context, c *apiClient, tc tourCase, plan tourPlan, scannerPath string) (state, id, detail string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req := map[string]any{"amount": tc.amount, "currency": plan.currency}
	if tc.code != "" {
		req["auth_code"] = tc.code
	}
	if tc.qr {
		req["method"], req["wallet"] = "qr", plan.qrWallet
	}
	p, err := c.create(ctx, req)
	var ae *apiError
	if errors.As(err, &ae) && (ae.Status == 400 || ae.Status == 422) {
		return "rejected", "", "", nil
	}
	if err != nil {
		return "", "", "", err
	}
	// The create answers within about a second, maybe before the
	// gateway did: a QR order's code_url comes with its answer.
	for tc.qr && p.Detail == "submitting" {
		if p, err = c.wait(ctx, p.ID, p.Detail, 0, 30*time.Second); err != nil {
			return "", p.ID, "", err
		}
	}
	if tc.scan != "" {
		if p.Detail != "awaiting_code" {
			return p.State, p.ID, p.Detail, fmt.Errorf("payment is %s, not waiting for a scan", p.Detail)
		}
		if err := typeIntoScanner(scannerPath, tc.scan); err != nil {
			return "", p.ID, "", err
		}
	}
	if tc.qr && p.CodeURL == "" && p.State == "pending" {
		return p.State, p.ID, p.Detail, fmt.Errorf("merchant QR payment has no code_url to show")
	}
	if tc.cancel {
		if err := c.do(ctx, http.MethodPost, "/v1/payments/"+p.ID+"/cancel", nil, &p); err != nil {
			return p.State, p.ID, p.Detail, fmt.Errorf("cancel: %w", err)
		}
	}
	p, err = c.follow(ctx, p, nil, nil)
	return p.State, p.ID, p.Detail, err
}

// typeIntoScanner writes a code and a line feed to the virtual scanner's
// pseudo-terminal, exactly as `echo CODE > PATH` does.
func typeIntoScanner(path, code string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("opening virtual scanner: %w", err)
	}
	defer f.Close()
	_, err = f.WriteString(code + "\n")
	return err
}

// planTour reads the gateway's capabilities: its first currency, micropay
// when it takes WeChat Pay and Alipay codes (the tour's codes), merchant QR
// with WeChat Pay if it offers it, else its first QR wallet.
func planTour(g gateways.Gateway) tourPlan {
	caps := g.Capabilities()
	p := tourPlan{currency: "CNY", refunds: caps.Refund, external: caps.External}
	if len(caps.Currencies) > 0 {
		p.currency = string(caps.Currencies[0])
	}
	_, mp := g.(gateways.Micropayer)
	p.micropay = mp && caps.Supports(pos.Micropay, pos.WeChatPay) && caps.Supports(pos.Micropay, pos.Alipay)
	if _, ok := g.(gateways.QRCreator); ok && len(caps.MerchantQR) > 0 {
		p.qrWallet = string(caps.MerchantQR[0])
		if caps.Supports(pos.MerchantQR, pos.WeChatPay) {
			p.qrWallet = string(pos.WeChatPay)
		}
		p.qrClose = caps.CanClose(pos.Wallet(p.qrWallet))
	}
	if _, ok := g.(gateways.Refunder); !ok {
		p.refunds = false
	}
	return p
}
