// Package metrics is the daemon's Prometheus endpoint. Counts of payments,
// refunds, outbox items and flagged answers are read from the journal at
// scrape time, so they survive restarts and never drift from what was
// journaled; gateway call latencies are measured on the wire by an
// http.RoundTripper under gateways.Do; devices report themselves. The
// package knows none of the implementations: cmd/posagent hands it
// functions.
package metrics

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/posagent/posagent/gateways"
)

// PaymentCount is how many journaled payments share these labels.
type PaymentCount struct {
	Gateway, Wallet, Method, State string
	N                              int
}

// JournalStats is what the journal says at scrape time.
type JournalStats struct {
	Payments     []PaymentCount
	Refunds      map[string]int // by state
	Outbox       int
	OldestOutbox time.Time // zero when the outbox is empty
	Bytes        int64
	// Flags counts flagged events by flag: "mismatch" (an answer that did
	// not match the journaled order), "charged_late" (paid after the till
	// gave up), "alert".
	Flags map[string]int
}

// OperatorStats is what the operator's tools say at scrape time.
type OperatorStats struct {
	// OutboxOverdue counts the outbox items owed longer than
	// outbox.alert_after (flows.Outbox flags them).
	OutboxOverdue int
	// Reconciled is the last reconciliation kept in the journal; nil when
	// none has run.
	Reconciled *Reconciliation
}

// Reconciliation is the outcome of one kept reconciliation run.
type Reconciliation struct {
	At     time.Time // when it ran
	Date   string    // the acquirer day it reconciled
	OK     bool      // every gateway's day added up
	Issues int       // mismatches found, over every gateway
	Failed int       // gateways whose bill could not be had
}

// Device is one scanner or printer and whether it is up.
type Device struct {
	Kind, Name string
	Up         bool
}

// Options are what the daemon hands the metrics. Every function is called
// at scrape time with a bounded context.
type Options struct {
	Version string
	Journal func(ctx context.Context) (JournalStats, error)
	Devices func(ctx context.Context) []Device
	// Now is the clock for the outbox's age; time.Now when nil.
	Now func() time.Time
	// Operator reads the outbox's alerts and the last reconciliation; nil
	// until SetOperator (the daemon builds them after the registry).
	Operator func(ctx context.Context) (OperatorStats, error)
}

// Metrics is the registry behind /metrics.
type Metrics struct {
	jc    *journalCollector
	reg   *prometheus.Registry
	calls *prometheus.HistogramVec
	polls *prometheus.CounterVec
}

// New builds the registry: the journal and device collector, gateway call
// histograms, Go and process collectors, and build info.
func New(o Options) *Metrics {
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "posagent_gateway_call_duration_seconds",
			Help:    "Gateway HTTP calls by gateway, operation and outcome (ok, http_4xx, http_5xx, redirect, error).",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30},
		}, []string{"gateway", "op", "outcome"}),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posagent_gateway_polls_total",
			Help: "Queries sent to find out how a payment or refund ended.",
		}, []string{"gateway"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "posagent_build_info", Help: "The running posagent's version."}, []string{"version", "goversion"})
	build.WithLabelValues(o.Version, runtime.Version()).Set(1)
	m.jc = &journalCollector{o: o}
	m.jc.operator.Store(&o.Operator)
	m.reg.MustRegister(m.calls, m.polls, build, m.jc,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// SetOperator sets the function that reads the operator's figures (outbox
// alerts, last reconciliation) at scrape time.
func (m *Metrics) SetOperator(f func(ctx context.Context) (OperatorStats, error)) {
	m.jc.operator.Store(&f)
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Transport measures every gateway call made through next: gateways.Do
// names the operation ("mmsp.Query") in the request's context. name labels
// the calls with the configured gateway; empty takes the adapter kind from
// the operation. Requests that are not gateway calls pass unmeasured.
func (m *Metrics) Transport(name string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		op := gateways.CallOp(r.Context())
		if op == "" {
			return next.RoundTrip(r)
		}
		gw, short := name, op
		if kind, rest, ok := strings.Cut(op, "."); ok {
			short = rest
			if gw == "" {
				gw = kind
			}
		}
		start := time.Now()
		resp, err := next.RoundTrip(r)
		m.calls.WithLabelValues(gw, short, outcome(resp, err)).Observe(time.Since(start).Seconds())
		if strings.Contains(strings.ToLower(short), "query") {
			m.polls.WithLabelValues(gw).Inc()
		}
		return resp, err
	})
}

func outcome(resp *http.Response, err error) string {
	switch {
	case err != nil:
		return "error"
	case resp.StatusCode/100 == 2:
		return "ok"
	case resp.StatusCode/100 == 3:
		return "redirect"
	}
	return "http_" + strconv.Itoa(resp.StatusCode/100) + "xx"
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

var (
	descPayments = prometheus.NewDesc("posagent_payments", "Journaled payments by gateway, wallet, method and state (final states: succeeded, failed, reversed).",
		[]string{"gateway", "wallet", "method", "state"}, nil)
	descRefunds       = prometheus.NewDesc("posagent_refunds", "Journaled refunds by state.", []string{"state"}, nil)
	descOutbox        = prometheus.NewDesc("posagent_outbox_depth", "Gateway operations waiting in the outbox (queries, reversals, closes, refund queries).", nil, nil)
	descOutboxAge     = prometheus.NewDesc("posagent_outbox_oldest_age_seconds", "Age of the oldest outbox operation; 0 when empty.", nil, nil)
	descMismatch      = prometheus.NewDesc("posagent_answers_mismatched", "Gateway answers and notifications that did not match the journaled order (never adopted).", nil, nil)
	descChargedLate   = prometheus.NewDesc("posagent_payments_charged_after_gave_up", "Payments the acquirer charged after the till had ended them failed or reversed (refund them).", nil, nil)
	descAlerts        = prometheus.NewDesc("posagent_alerts", "Journaled alerts an operator must act on.", nil, nil)
	descJournalBytes  = prometheus.NewDesc("posagent_journal_bytes", "Size of the journal and its WAL.", nil, nil)
	descDeviceUp      = prometheus.NewDesc("posagent_device_up", "1 when a scanner or printer is connected and ready.", []string{"kind", "name"}, nil)
	descJournalScrape = prometheus.NewDesc("posagent_journal_scrape_ok", "1 when the journal answered this scrape.", nil, nil)
	descOverdue       = prometheus.NewDesc("posagent_outbox_overdue", "Outbox items owed longer than outbox.alert_after: an operator should look (posagent outbox, /support).", nil, nil)
	descReconAt       = prometheus.NewDesc("posagent_reconcile_last_run_timestamp_seconds", "When the last kept reconciliation ran (Unix time).", []string{"date"}, nil)
	descReconOK       = prometheus.NewDesc("posagent_reconcile_last_ok", "1 when the last kept reconciliation added up on every gateway.", nil, nil)
	descReconIssues   = prometheus.NewDesc("posagent_reconcile_last_mismatches", "Mismatches the last kept reconciliation found, over every gateway.", nil, nil)
	descReconFailed   = prometheus.NewDesc("posagent_reconcile_last_failed_gateways", "Gateways whose bill the last kept reconciliation could not download.", nil, nil)
	descOperatorOK    = prometheus.NewDesc("posagent_operator_scrape_ok", "1 when the outbox and the reconciliation log answered this scrape.", nil, nil)
)

// journalCollector reads the journal and the devices at scrape time.
type journalCollector struct {
	o        Options
	operator atomic.Pointer[func(ctx context.Context) (OperatorStats, error)]
}

func (c *journalCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPayments, descRefunds, descOutbox, descOutboxAge, descMismatch, descChargedLate, descAlerts, descJournalBytes, descDeviceUp, descJournalScrape,
		descOverdue, descReconAt, descReconOK, descReconIssues, descReconFailed, descOperatorOK} {
		ch <- d
	}
}

func (c *journalCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if c.o.Devices != nil {
		for _, d := range c.o.Devices(ctx) {
			up := 0.0
			if d.Up {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(descDeviceUp, prometheus.GaugeValue, up, d.Kind, d.Name)
		}
	}
	c.collectOperator(ctx, ch)
	if c.o.Journal == nil {
		return
	}
	s, err := c.o.Journal(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descJournalScrape, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descJournalScrape, prometheus.GaugeValue, 1)
	for _, p := range s.Payments {
		ch <- prometheus.MustNewConstMetric(descPayments, prometheus.GaugeValue, float64(p.N), p.Gateway, p.Wallet, p.Method, p.State)
	}
	for st, n := range s.Refunds {
		ch <- prometheus.MustNewConstMetric(descRefunds, prometheus.GaugeValue, float64(n), st)
	}
	ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(s.Outbox))
	age := 0.0
	if !s.OldestOutbox.IsZero() {
		age = c.o.Now().Sub(s.OldestOutbox).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(descOutboxAge, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(descMismatch, prometheus.GaugeValue, float64(s.Flags["mismatch"]))
	ch <- prometheus.MustNewConstMetric(descChargedLate, prometheus.GaugeValue, float64(s.Flags["charged_late"]))
	ch <- prometheus.MustNewConstMetric(descAlerts, prometheus.GaugeValue, float64(s.Flags["alert"]))
	ch <- prometheus.MustNewConstMetric(descJournalBytes, prometheus.GaugeValue, float64(s.Bytes))
}

func (c *journalCollector) collectOperator(ctx context.Context, ch chan<- prometheus.Metric) {
	f := c.operator.Load()
	if f == nil || *f == nil {
		return
	}
	s, err := (*f)(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descOperatorOK, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descOperatorOK, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descOverdue, prometheus.GaugeValue, float64(s.OutboxOverdue))
	if r := s.Reconciled; r != nil {
		ok := 0.0
		if r.OK {
			ok = 1
		}
		ch <- prometheus.MustNewConstMetric(descReconAt, prometheus.GaugeValue, float64(r.At.Unix()), r.Date)
		ch <- prometheus.MustNewConstMetric(descReconOK, prometheus.GaugeValue, ok)
		ch <- prometheus.MustNewConstMetric(descReconIssues, prometheus.GaugeValue, float64(r.Issues))
		ch <- prometheus.MustNewConstMetric(descReconFailed, prometheus.GaugeValue, float64(r.Failed))
	}
}
