package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/posagent/posagent/gateways/hipopay/hipopaysim"
)

// tourExternal is the tour of a gateway whose orders are placed outside
// the till (HipoPay): an order of 20.00 is placed at the simulated
// mini-program (the spec's Place an Order API), enters the journal from
// its PAID notification, is looked up by out_trade_id and by payment_no
// (the same payment), refunded 5.00 then all that is left (a third refund
// refused), reprinted, and counted in the day's summary.
func tourExternal(ctx context.Context, c *apiClient, plan tourPlan, receipts receiptLister) ([]string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var lines []string
	ok := true
	check := func(name string, err error) bool {
		mark := "ok"
		if err != nil {
			mark, ok = "MISMATCH: "+err.Error(), false
		}
		lines = append(lines, fmt.Sprintf("  %-52s %s", name, mark))
		return err == nil
	}
	outTradeID := "MP" + time.Now().UTC().Format("20060102150405.000000")
	outTradeID = strings.ReplaceAll(outTradeID, ".", "")
	paymentNo, err := placeMiniProgramOrder(ctx, plan, outTradeID, "20.00")
	if !check("order of 20.00 placed in the mini-program", err) {
		return lines, false
	}
	// The simulator notifies the PAID order; the daemon adopts it.
	notified, err := waitJournaled(ctx, c, outTradeID)
	check("entered the journal from its PAID notification", err)
	p, err := c.lookup(ctx, "", outTradeID, "")
	if err == nil && (p.State != "succeeded" || p.Amount != 2000 || (notified != "" && p.ID != notified)) {
		err = fmt.Errorf("looked up %s %s %d (notified as %s)", p.ID, p.State, p.Amount, notified)
	}
	if !check("looked up by out_trade_id: succeeded, 20.00", err) {
		return lines, false
	}
	q, err := c.lookup(ctx, "", "", paymentNo)
	if err == nil && q.ID != p.ID {
		err = fmt.Errorf("payment_no %s is %s, not %s", paymentNo, q.ID, p.ID)
	}
	check("looked up by payment_no: the same payment", err)
	for _, step := range []struct {
		name   string
		amount int64
		want   int64
	}{{"refund 5.00 of it", 500, 500}, {"refund all that is left (15.00)", 0, 1500}} {
		r, err := c.refund(ctx, p.ID, step.amount, "tour")
		if err == nil {
			r, err = c.followRefund(ctx, r, nil)
		}
		if err == nil && (r.State != "succeeded" || r.Amount != step.want) {
			err = fmt.Errorf("refund %s ended %s for %d", r.ID, r.State, r.Amount)
		}
		if err == nil {
			err = waitRefundPrinted(ctx, c, r.ID)
		}
		check(step.name, err)
	}
	check("a third refund is refused (409)", refused(c.refund(ctx, p.ID, 1, "tour")))
	jobs, err := c.reprint(ctx, p.ID, nil)
	if err == nil && len(jobs.Jobs) == 0 {
		err = fmt.Errorf("no receipts queued")
	}
	if err == nil {
		_, err = c.waitPrinted(ctx, p.ID, nil)
	}
	check("reprinted", err)
	var sum struct {
		Lines []struct {
			Currency string `json:"currency"`
			Count    int    `json:"count"`
			Amount   int64  `json:"amount"`
			Refunded int64  `json:"refunded"`
		} `json:"lines"`
	}
	err = c.do(ctx, http.MethodGet, "/v1/summary", nil, &sum)
	if err == nil {
		err = fmt.Errorf("not in the summary: %+v", sum.Lines)
		for _, l := range sum.Lines {
			if l.Currency == plan.currency && l.Count >= 1 && l.Amount >= 2000 && l.Refunded >= 2000 {
				err = nil
			}
		}
	}
	check("counted in the day's summary (paid and refunded)", err)
	return lines, ok
}

// placeMiniProgramOrder is the customer's mini-program calling the
// simulator's Place an Order API; it returns the payment_no.
func placeMiniProgramOrder(ctx context.Context, plan tourPlan, outTradeID, amount string) (string, error) {
	if plan.simBase == "" {
		return "", fmt.Errorf("no simulator to place the order at")
	}
	form := url.Values{"merchant_no": {hipopaysim.DefaultMerchantNO}, "out_trade_id": {outTradeID}, "amount": {amount},
		"currency": {plan.currency}, "product_info": {"posagent tour"}, "appid": {"wx-tour"}, "openid": {"o-tour"}, "client_ip": {"127.0.0.1"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(plan.simBase, "/")+hipopaysim.PathPlaceOrder, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var ans struct {
		IsSuccess bool   `json:"is_success"`
		Error     string `json:"error"`
		Response  struct {
			PaymentNo string `json:"payment_no"`
		} `json:"response"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return "", err
	}
	if !ans.IsSuccess || ans.Response.PaymentNo == "" {
		return "", fmt.Errorf("place order refused: %s", ans.Error)
	}
	return ans.Response.PaymentNo, nil
}

// waitJournaled polls the recent payments until outTradeID is among them
// and returns its ID.
func waitJournaled(ctx context.Context, c *apiClient, outTradeID string) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var list struct {
			Payments []apiPayment `json:"payments"`
		}
		if err := c.do(ctx, http.MethodGet, "/v1/payments", nil, &list); err != nil {
			return "", err
		}
		for _, p := range list.Payments {
			if p.OutTradeNo == outTradeID {
				return p.ID, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", fmt.Errorf("not journaled within 10 s")
}
