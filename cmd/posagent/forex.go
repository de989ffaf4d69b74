package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/hw/display"
)

// forexTTL is how long a gateway's reference rate is shown before it is
// read again.
const forexTTL = 10 * time.Minute

// forexRates is a display.Rates fed by a gateway's forex quote
// (gateways.ForexQuoter, found by type assertion): the customer display
// shows a foreign-currency amount's CNY equivalent with the time the rate
// was read. Rate never waits on the network (it is asked per screen): it
// answers from the cache and, when the cached rate is missing or older
// than forexTTL, reads a fresh one in the background.
type forexRates struct {
	q   gateways.ForexQuoter
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	rates    map[pos.Currency]display.Rate
	fetching map[pos.Currency]bool
	wg       sync.WaitGroup
}

// newForexRates returns the display's rate source for the gateways that
// quote rates (the first that does), or nil when none does.
func newForexRates(gws map[string]gateways.Gateway, log *slog.Logger) *forexRates {
	for _, g := range gws {
		if q, ok := g.(gateways.ForexQuoter); ok {
			return &forexRates{q: q, log: log, now: time.Now, rates: map[pos.Currency]display.Rate{}, fetching: map[pos.Currency]bool{}}
		}
	}
	return nil
}

// Rate is display.Rates.
func (f *forexRates) Rate(cur pos.Currency) (display.Rate, bool) {
	if cur == "CNY" || !cur.Valid() {
		return display.Rate{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rates[cur]
	if (!ok || f.now().Sub(r.At) > forexTTL) && !f.fetching[cur] {
		f.fetching[cur] = true
		f.wg.Add(1)
		go f.fetch(cur)
	}
	return r, ok
}

func (f *forexRates) fetch(cur pos.Currency) {
	defer f.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	q, err := f.q.ForexQuote(ctx, cur)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetching[cur] = false
	if err != nil || q.CNYPerUnit == nil || q.CNYPerUnit.Sign() <= 0 {
		f.log.Warn("forex rate not read", "currency", cur, "err", err)
		return
	}
	f.rates[cur] = display.Rate{Currency: cur, CNY: q.CNYPerUnit, At: q.At}
}

// wait is for tests: it returns once no fetch is running.
func (f *forexRates) wait() { f.wg.Wait() }
