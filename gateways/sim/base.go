package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// BaseOptions configure a Base. Zero values take the documented defaults.
type BaseOptions struct {
	// Name is the acquirer's kind, for log lines ("mmsp").
	Name string
	// LedgerPath keeps the ledger's log in a file (a state directory) so
	// a restarted simulator continues; empty keeps it in memory.
	LedgerPath string
	// Rules are the timing rules the ledger enforces.
	Rules Rules
	// NotifySchedule is the wait before each delivery attempt of a
	// notification (the spec's resend schedule); default one attempt at
	// once.
	NotifySchedule []time.Duration
	// Logger; default discards.
	Logger *slog.Logger
	// SameDayBills serves the bill of the acquirer day still running
	// (BillReady), for demos and tests that reconcile the day they ran.
	// Off by default, and no real acquirer does it: see BillReady.
	SameDayBills bool
}

// Base is the chassis every wire simulator embeds (as *sim.Base): the
// ledger, the Behaviour scripts, the queue of scripted answers, the
// truth-moving ledger operations (Settle), notification delivery with a
// resend schedule and acknowledgement tracking, a loopback endpoint that
// can refuse connections (Serve, Stop), the bill of an acquirer day, and
// Close. The wire simulator keeps only its acquirer's own reading of the
// spec: wire format, signing, field rules, and the words of each answer.
//
// Embedded, Base gives the simulator ScriptAnswer and Order, two of the
// three methods of gatewaytest.Truther; the simulator adds Answers(op,
// method), its table of documented answers with their spec sections.
// A wire handler takes the scripted answer for the call first:
//
//	if a, ok := s.TakeAnswer(no, sim.OpQuery); ok {
//		o, err := s.Settle(sim.OpQuery, no, a.Truth, sim.RefundRef{})
//		switch {
//		case err != nil:
//			// the truth could not move (ErrSettled): log it, answer anyway
//		case a.Code == sim.CodeNoAnswer:
//			sim.ServeFault(w, r, sim.NoAnswer, s.hold)
//			return
//		case a.Code != sim.CodeHonest:
//			s.answerCode(w, req, a.Code, o) // the spec's words for a.Code
//			return
//		}
//		// CodeHonest: answer from the ledger as usual
//	}
//
// It is safe for concurrent use.
type Base struct {
	name     string
	ledger   *Ledger
	script   Script
	answers  Answers
	log      *slog.Logger
	schedule []time.Duration

	ctx    context.Context // cancelled by Close: stops notification resends
	cancel context.CancelFunc
	wg     sync.WaitGroup

	sameDayBills atomic.Bool

	mu       sync.Mutex
	acked    map[string]bool
	closed   bool
	endpoint *Endpoint
}

// NewBase opens the ledger and builds a Base.
func NewBase(o BaseOptions) (*Base, error) {
	if o.Rules.ReverseAfter < 0 || o.Rules.MinQueryInterval < 0 {
		return nil, errors.New("sim: negative timing rule")
	}
	for _, d := range o.NotifySchedule {
		if d < 0 {
			return nil, errors.New("sim: negative wait in the notification schedule")
		}
	}
	if len(o.NotifySchedule) == 0 {
		o.NotifySchedule = []time.Duration{0}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Name == "" {
		o.Name = "sim"
	}
	l, err := OpenLedger(o.LedgerPath)
	if err != nil {
		return nil, err
	}
	l.SetRules(o.Rules)
	b := &Base{name: o.Name, ledger: l, log: o.Logger.With("simulator", o.Name),
		schedule: append([]time.Duration(nil), o.NotifySchedule...), acked: map[string]bool{}}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.sameDayBills.Store(o.SameDayBills)
	return b, nil
}

// Ledger is the simulator's order book.
func (b *Base) Ledger() *Ledger { return b.ledger }

// Script is the simulator's per-order Behaviour registry.
func (b *Base) Script() *Script { return &b.script }

// AnswerQueue is the simulator's queue of scripted answers.
func (b *Base) AnswerQueue() *Answers { return &b.answers }

// Log is the simulator's logger, tagged with its name.
func (b *Base) Log() *slog.Logger { return b.log }

// SetClock replaces the ledger's clock, for tests.
func (b *Base) SetClock(now func() time.Time) { b.ledger.SetClock(now) }

// ScriptAnswer queues a for the next call of op on the order outTradeNo
// (for refund operations, the original order): gatewaytest.Truther.
func (b *Base) ScriptAnswer(outTradeNo string, op Op, a Answer) {
	b.answers.Script(outTradeNo, op, a)
}

// TakeAnswer removes and returns the answer scripted for this call of op
// on the order, if any.
func (b *Base) TakeAnswer(outTradeNo string, op Op) (Answer, bool) {
	a, ok := b.answers.Take(outTradeNo, op)
	if ok {
		b.log.Info("scripted answer", "outTradeNo", outTradeNo, "op", string(op), "code", a.Code, "truth", string(a.Truth))
	}
	return a, ok
}

// Order returns the ledger's entry for an order, the truth:
// gatewaytest.Truther.
func (b *Base) Order(outTradeNo string) (Order, bool) { return b.ledger.Get(outTradeNo) }

// RefundRef names the refund a refund operation's truth applies to.
type RefundRef struct {
	OutRefundNo string
	Amount      int64 // in minor units; needed when the refund is new
}

// Settle moves the ledger as a scripted answer's truth says, whatever the
// answer's words, and returns the order as it now stands:
//
//	op                    TruthDone            TruthNotDone            TruthPending
//	submit, query         Charge: paid now     Abandon: PAYERROR       Hold: payable, unpaid
//	reverse, void         ExecuteReverse       not executed            not executed
//	close                 Close                not executed            not executed
//	refund                executed             refused (kept as such)  accepted, pending
//	query_refund          pending → executed   pending → refused       unchanged
//
// A submit's truth replaces what the scenario did at NewOrder (an order
// of an ordinary amount is paid at creation; TruthNotDone unpays it).
// TruthAsScenario moves nothing beyond what the handler's own ledger call
// did. A truth that contradicts a settled outcome (charge a closed order,
// abandon a paid one) is ErrSettled and moves nothing; the caller logs it
// and answers anyway. Call it after the handler's own ledger operation
// (NewOrder for a submit), before answering.
func (b *Base) Settle(op Op, outTradeNo string, t Truth, ref RefundRef) (Order, error) {
	l := b.ledger
	var o Order
	var err error
	switch {
	case t == TruthAsScenario:
	case op == OpSubmit || op == OpQuery:
		// A submit's truth replaces what the order's scenario did when
		// NewOrder created it; a query's moves only an open order.
		override := op == OpSubmit
		switch t {
		case TruthDone:
			o, err = l.charge(outTradeNo, override)
		case TruthNotDone:
			o, err = l.abandon(outTradeNo, override)
		case TruthPending:
			o, err = l.hold(outTradeNo, override)
		}
	case (op == OpReverse || op == OpVoid) && t == TruthDone:
		o, err = l.ExecuteReverse(outTradeNo)
	case op == OpClose && t == TruthDone:
		o, err = l.Close(outTradeNo)
	case op == OpRefund:
		_, r, ferr := l.FindRefund(outTradeNo, ref.OutRefundNo)
		switch {
		case ferr == nil && t == TruthDone:
			o, _, err = l.ExecuteRefund(outTradeNo, ref.OutRefundNo)
		case ferr == nil && t == TruthNotDone:
			o, _, err = l.RefuseRefund(outTradeNo, ref.OutRefundNo)
		case ferr == nil:
			if r.Status != RefundPending {
				err = ErrSettled
			}
		case t == TruthDone:
			o, _, err = l.Refund(outTradeNo, ref.OutRefundNo, ref.Amount)
		case t == TruthNotDone:
			o, _, err = l.RecordRefusedRefund(outTradeNo, ref.OutRefundNo, ref.Amount)
		case t == TruthPending:
			o, _, err = l.AcceptRefund(outTradeNo, ref.OutRefundNo, ref.Amount)
		}
	case op == OpQueryRefund && t == TruthDone:
		o, _, err = l.ExecuteRefund(outTradeNo, ref.OutRefundNo)
	case op == OpQueryRefund && t == TruthNotDone:
		o, _, err = l.RefuseRefund(outTradeNo, ref.OutRefundNo)
	case t != TruthDone && t != TruthNotDone && t != TruthPending:
		err = fmt.Errorf("sim: unknown truth %q", t)
	}
	if err != nil {
		b.log.Warn("truth not moved", "outTradeNo", outTradeNo, "op", string(op), "truth", string(t), "err", err.Error())
	} else if t != TruthAsScenario {
		b.log.Info("truth moved", "outTradeNo", outTradeNo, "op", string(op), "truth", string(t))
	}
	if o.OutTradeNo == "" {
		cur, ok := l.Get(outTradeNo)
		if !ok && err == nil {
			err = ErrNotFound
		}
		o = cur
	}
	return o, err
}

// Notify delivers a notification in the background, following the resend
// schedule until deliver reports it acknowledged, or Close. key names the
// notification for Acked (an order or refund number). deliver makes one
// attempt; ctx is cancelled by Close. After Close, Notify does nothing.
func (b *Base) Notify(key string, deliver func(ctx context.Context) (acked bool)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for _, wait := range b.schedule {
			t := time.NewTimer(wait)
			select {
			case <-b.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if b.NotifyNow(b.ctx, key, deliver) {
				return
			}
		}
	}()
}

// NotifyNow makes one delivery attempt now, in the caller's goroutine (a
// notification sent before the submit's answer), and records an
// acknowledgement.
func (b *Base) NotifyNow(ctx context.Context, key string, deliver func(ctx context.Context) (acked bool)) bool {
	ok := deliver(ctx)
	b.log.Info("notification", "key", key, "acked", ok)
	if ok {
		b.mu.Lock()
		b.acked[key] = true
		b.mu.Unlock()
	}
	return ok
}

// Acked reports whether the notification named key was acknowledged.
func (b *Base) Acked(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.acked[key]
}

// Serve starts serving h (the wire simulator) on a loopback port and
// returns its base URL; Stop and Close act on it. One endpoint per Base.
func (b *Base) Serve(h http.Handler) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return "", errors.New("sim: simulator is closed")
	}
	if b.endpoint != nil {
		return "", errors.New("sim: simulator is already served")
	}
	e, err := Serve(h)
	if err != nil {
		return "", err
	}
	b.endpoint = e
	return e.URL, nil
}

// Stop makes the endpoint started by Serve refuse connections from now on
// (gatewaytest.Controller.Stop). Without Serve it does nothing: whoever
// serves the simulator stops it.
func (b *Base) Stop() {
	b.mu.Lock()
	e := b.endpoint
	b.mu.Unlock()
	if e != nil {
		e.Stop()
	}
}

// Close stops notification resends, waits for deliveries in flight and
// closes the endpoint started by Serve. It is idempotent.
func (b *Base) Close() error {
	b.mu.Lock()
	b.closed = true
	e := b.endpoint
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
	if e != nil {
		return e.Close()
	}
	return nil
}

// BillKind says what a bill line records.
type BillKind string

const (
	BillPay     BillKind = "pay"     // a payment, on the day it was paid
	BillReverse BillKind = "reverse" // a paid order reversed, on the day of the reversal
	BillRefund  BillKind = "refund"  // an executed refund, on the day it was executed
)

// BillLine is one line of an acquirer's daily bill, built from the ledger.
type BillLine struct {
	Kind          BillKind
	OutTradeNo    string
	TransactionID string
	OutRefundNo   string // refunds only
	RefundID      string // refunds only
	Wallet        string
	Method        string
	Amount        int64 // minor units: the payment, the reversal or the refund
	Currency      string
	At            time.Time
}

// Bill lists what moved money on the acquirer day of day in loc (acquirers
// in China close their day at midnight UTC+8): payments by the time they
// were paid, reversals of paid orders, executed refunds; sorted by time,
// then order number. An order paid and reversed the same day appears twice.
func (b *Base) Bill(day time.Time, loc *time.Location) []BillLine {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := day.In(loc).Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, loc)
	return b.ledger.Bill(from, from.AddDate(0, 0, 1))
}

// SetSameDayBills turns BaseOptions.SameDayBills on or off (the demo turns
// it on for the simulator it embeds).
func (b *Base) SetSameDayBills(on bool) { b.sameDayBills.Store(on) }

// BillReady reports whether the bill of the acquirer day holding day (in
// loc) may be served at now, and whether it is provisional. An acquirer
// closes its day at its midnight and offers the day's bill from the next
// day (Allinpay §1.5.3.1: "can be made in the next day"): a past day is
// ready and final. With SameDayBills the day still running is ready too,
// but provisional: it lists what moved so far, and grows until midnight.
// That is a simulator's option for demos and tests that reconcile the day
// they ran, never a real acquirer's behaviour; a simulator serving such a
// bill logs it as provisional. A day not yet begun is never ready.
func (b *Base) BillReady(day time.Time, loc *time.Location, now time.Time) (ready, provisional bool) {
	if loc == nil {
		loc = time.UTC
	}
	start := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	asked, today := start(day), start(now)
	switch {
	case asked.Before(today):
		return true, false
	case asked.Equal(today) && b.sameDayBills.Load():
		return true, true
	}
	return false, false
}

// Bill lists what moved money in [from, to); see Base.Bill.
func (l *Ledger) Bill(from, to time.Time) []BillLine {
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(from) && t.Before(to) }
	var out []BillLine
	for _, o := range l.Orders() {
		line := BillLine{OutTradeNo: o.OutTradeNo, TransactionID: o.TransactionID, Wallet: o.Wallet, Method: o.Method, Amount: o.Amount, Currency: o.Currency}
		if in(o.PaidAt) {
			p := line
			p.Kind, p.At = BillPay, o.PaidAt
			out = append(out, p)
		}
		if o.State == Revoked && !o.PaidAt.IsZero() && in(o.EndedAt) {
			r := line
			r.Kind, r.At = BillReverse, o.EndedAt
			out = append(out, r)
		}
		for _, rf := range o.Refunds {
			if rf.Executed() && in(rf.At) {
				r := line
				r.Kind, r.At, r.Amount, r.OutRefundNo, r.RefundID = BillRefund, rf.At, rf.Amount, rf.OutRefundNo, rf.RefundID
				out = append(out, r)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].OutTradeNo < out[j].OutTradeNo
	})
	return out
}
