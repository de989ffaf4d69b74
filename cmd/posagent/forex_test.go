package main

import (
	"context"
	"log/slog"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

type quoter struct {
	gateways.Gateway
	calls atomic.Int32
	at    time.Time
}

func (q *quoter) ForexQuote(_ context.Context, cur pos.Currency) (gateways.ForexQuote, error) {
	q.calls.Add(1)
	return gateways.ForexQuote{Currency: cur, CNYPerUnit: big.NewRat(92, 100), At: q.at}, nil
}

// The display's rates come from the gateway's forex quote, cached with the
// time they were read; Rate never waits, and refreshes after forexTTL.
func TestForexRatesCachedWithTime(t *testing.T) {
	read := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	q := &quoter{at: read}
	f := newForexRates(map[string]gateways.Gateway{"hipopay": q}, slog.New(slog.DiscardHandler))
	if f == nil {
		t.Fatal("no rate source for a gateway that quotes rates")
	}
	now := read
	f.now = func() time.Time { return now }
	if _, ok := f.Rate("HKD"); ok {
		t.Fatal("a rate before any was read")
	}
	f.wait()
	r, ok := f.Rate("HKD")
	if !ok || !r.At.Equal(read) || r.CNY.Cmp(big.NewRat(92, 100)) != 0 {
		t.Fatalf("Rate = %+v, %v", r, ok)
	}
	if cny, ok := r.Equivalent(pos.Money{Minor: 2000, Currency: "HKD"}); !ok || cny.Minor != 1840 {
		t.Errorf("20.00 HKD = %v, want 18.40 CNY", cny)
	}
	f.wait()
	if n := q.calls.Load(); n != 1 {
		t.Errorf("%d quotes within the TTL, want 1", n)
	}
	now = read.Add(forexTTL + time.Second)
	f.Rate("HKD")
	f.wait()
	if n := q.calls.Load(); n != 2 {
		t.Errorf("%d quotes after the TTL, want 2", n)
	}
	if _, ok := f.Rate("CNY"); ok {
		t.Error("a rate for CNY itself")
	}
	if newForexRates(map[string]gateways.Gateway{}, nil) != nil {
		t.Error("a rate source without a quoting gateway")
	}
}
