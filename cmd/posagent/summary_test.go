package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSummaryShowsRefundsAndTheNet: the terminal summary says what the
// printed one does: refunds per wallet and the net per currency.
func TestSummaryShowsRefundsAndTheNet(t *testing.T) {
	var sum summaryView
	body := `{"from":"2026-12-01T00:00:00+08:00","to":"2026-12-02T00:00:00+08:00","lines":[
		{"wallet":"wechat","currency":"CNY","count":3,"amount":6000,"refunds":2,"refunded":2000},
		{"wallet":"alipay","currency":"CNY","count":1,"amount":1292,"refunds":0,"refunded":0},
		{"wallet":"alipay","currency":"JPY","count":1,"amount":500,"refunds":1,"refunded":100}],
		"failed":2,"reversed":1}`
	if err := json.Unmarshal([]byte(body), &sum); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	writeSummary(&out, sum)
	s := out.String()
	for _, want := range []string{"REFUNDS", "REFUNDED", "NET", "20.00", "40.00", "net CNY 52.92", "net JPY 400", "failed: 2, reversed: 1"} {
		if !strings.Contains(s, want) {
			t.Errorf("the summary lacks %q:\n%s", want, s)
		}
	}
}
