package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// tourRefunds is the tour's refund scenario, run after the payments: a
// payment of 20.00 is refunded 5.00, then all that is left; a third refund
// and the refund of a declined payment are refused with 409. Both refunds
// must print their two copies. It returns the lines to print and whether
// everything happened as expected.
func tourRefunds(ctx context.Context, c *apiClient, plan tourPlan, receipts receiptLister) ([]string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var lines []string
	ok := true
	check := func(name string, err error) {
		mark := "ok"
		if err != nil {
			mark, ok = "MISMATCH: "+err.Error(), false
		}
		lines = append(lines, fmt.Sprintf("  %-48s %s", name, mark))
	}
	paid, err := tourPay(ctx, c, plan, 2000, "134567890123456783")
	if err == nil && paid.State != "succeeded" {
		err = fmt.Errorf("the payment ended %s", paid.State)
	}
	check("pay 20.00 to refund", err)
	if err != nil {
		return lines, false
	}
	declined, err := tourPay(ctx, c, plan, 1993, "284567890123456783")
	if err == nil {
		err = refused(c.refund(ctx, declined.ID, 0, "tour"))
	}
	check("refund of a declined payment is refused (409)", err)
	var refunds []apiRefund
	for _, step := range []struct {
		name   string
		amount int64
		want   int64
	}{{"refund 5.00 of it", 500, 500}, {"refund all that is left (15.00)", 0, 1500}} {
		r, err := c.refund(ctx, paid.ID, step.amount, "tour")
		if err == nil {
			r, err = c.followRefund(ctx, r, nil)
		}
		if err == nil && (r.State != "succeeded" || r.Amount != step.want) {
			err = fmt.Errorf("refund %s ended %s for %d", r.ID, r.State, r.Amount)
		}
		if err == nil {
			refunds = append(refunds, r)
		}
		check(step.name, err)
	}
	check("a third refund is refused (409)", refused(c.refund(ctx, paid.ID, 1, "tour")))
	// Receipts print in the order they were queued, so once the refunds'
	// have printed, the payments' before them have too.
	for _, r := range refunds {
		err := waitRefundPrinted(ctx, c, r.ID)
		if err == nil && receipts != nil && len(previews(receipts.Files(r.ID))) != 2 {
			err = fmt.Errorf("receipt previews %v", receipts.Files(r.ID))
		}
		check("refund "+r.ID+" printed both copies", err)
	}
	return lines, ok
}

// tourPay takes a payment the way the gateway can: with a code, or as a
// merchant QR the simulated customer pays.
func tourPay(ctx context.Context, c *apiClient, plan tourPlan, minor int64, code string) (apiPayment, error) {
	req := map[string]any{"amount": minor, "currency": plan.currency, "auth_code": code}
	if !plan.micropay {
		req = map[string]any{"amount": minor, "currency": plan.currency, "method": "qr", "wallet": plan.qrWallet}
	}
	p, err := c.create(ctx, req)
	if err != nil {
		return p, err
	}
	return c.follow(ctx, p, nil, nil)
}

// refused wants a 409 answer.
func refused(_ apiRefund, err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		return nil
	}
	return fmt.Errorf("want 409, got %v", err)
}

// waitRefundPrinted polls until the refund has receipts and all are
// printed.
func waitRefundPrinted(ctx context.Context, c *apiClient, id string) error {
	for {
		var rs apiPrintJobs
		if err := c.do(ctx, http.MethodGet, "/v1/refunds/"+url.PathEscape(id)+"/receipts", nil, &rs); err != nil {
			return err
		}
		done := len(rs.Jobs) > 0
		for _, j := range rs.Jobs {
			done = done && j.State == "printed"
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("receipts not printed: %+v", rs.Jobs)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
