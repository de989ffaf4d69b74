package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// tourAPI is the tour's walk through what a till integrating the API
// relies on (issue 10): a create retried with its Idempotency-Key answers
// the first result and charges once; the payment is found by the till's
// reference; a second waiting payment is refused naming the first, and
// replaces it when asked; the event stream carries all of it. It returns
// the lines to print and whether everything happened as expected.
func tourAPI(ctx context.Context, c *apiClient, plan tourPlan) ([]string, bool) {
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
	// Where the event stream stands before the walk.
	var start string
	err := c.stream(ctx, "now", true, func(id, kind, _ string) {
		if kind == "" {
			start = id
		}
	})
	if err != nil {
		check("event stream opens", err)
		return lines, false
	}
	ref := fmt.Sprintf("tour-%d", time.Now().UnixNano())
	req := map[string]any{"amount": 2100, "currency": plan.currency, "reference": ref}
	if plan.micropay {
		req["auth_code"] = "134567890123456784"
	} else {
		req["method"], req["wallet"] = "qr", plan.qrWallet
	}
	hdr := map[string]string{"Idempotency-Key": ref + "-pay", "Prefer": "wait=30"}
	var first, again apiPayment
	err = c.doKey(ctx, http.MethodPost, "/v1/payments", req, &first, hdr)
	if err == nil {
		err = c.doKey(ctx, http.MethodPost, "/v1/payments", req, &again, hdr)
	}
	if err == nil && (again.ID != first.ID || again.State != first.State) {
		err = fmt.Errorf("the retry answered %s %s, the first %s %s", again.ID, again.State, first.ID, first.State)
	}
	check("a create retried with its Idempotency-Key", err)
	req["amount"] = 2200
	var ae *apiError
	err = c.doKey(ctx, http.MethodPost, "/v1/payments", req, nil, hdr)
	if !errors.As(err, &ae) || ae.Type != "idempotency-key-reused" {
		check("the key with another body is refused (409)", fmt.Errorf("got %v", err))
	} else {
		check("the key with another body is refused (409)", nil)
	}
	var page struct {
		Payments []apiPayment `json:"payments"`
	}
	err = c.do(ctx, http.MethodGet, "/v1/payments?reference="+url.QueryEscape(ref), nil, &page)
	if err == nil && (len(page.Payments) != 1 || page.Payments[0].ID != first.ID) {
		err = fmt.Errorf("found %d payments for the reference", len(page.Payments))
	}
	check("found by the till's reference", err)
	if plan.micropay {
		var waiting, replacing apiPayment
		err := c.do(ctx, http.MethodPost, "/v1/payments", map[string]any{"amount": 1500, "currency": plan.currency}, &waiting)
		if err == nil {
			err = c.do(ctx, http.MethodPost, "/v1/payments", map[string]any{"amount": 1600, "currency": plan.currency}, nil)
			if !errors.As(err, &ae) || ae.Waiting != waiting.ID {
				err = fmt.Errorf("a second waiting payment: %v", err)
			} else {
				err = nil
			}
		}
		check("a second waiting payment is refused (409)", err)
		if err == nil {
			err = c.do(ctx, http.MethodPost, "/v1/payments", map[string]any{"amount": 1600, "currency": plan.currency, "replace": true}, &replacing)
		}
		var old apiPayment
		if err == nil {
			old, err = c.follow(ctx, waiting, nil, nil)
		}
		if err == nil && old.State != "failed" {
			err = fmt.Errorf("the replaced payment is %s", old.State)
		}
		check("the waiting payment replaced (cancelled)", err)
		if err == nil {
			err = c.do(ctx, http.MethodPost, "/v1/payments/"+replacing.ID+"/cancel", nil, nil)
		}
		check("and the new one cancelled", err)
	}
	// The stream has every change of the walk, after where it stood.
	var events []string
	err = c.stream(ctx, start, true, func(id, kind, line string) {
		if kind != "" {
			events = append(events, kind+" "+line)
		}
	})
	all := strings.Join(events, "\n")
	if err == nil && (!strings.Contains(all, first.ID) || !strings.Contains(all, "-> "+first.State)) {
		err = fmt.Errorf("%d events, none for %s", len(events), first.ID)
	}
	check(fmt.Sprintf("the event stream has them (%d events)", len(events)), err)
	return lines, ok
}
