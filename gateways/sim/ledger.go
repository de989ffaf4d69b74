// Package sim is the acquirer-independent half of every gateway simulator:
// a durable ledger of orders (the truth the contract suite checks the till
// against), the scenarios chosen by an amount's last two digits (the
// "magic amounts" in the README), per-order scripts and faults, scripted
// answers with a truth of their own, and Base, the chassis a wire
// simulator embeds. Each gateway's simulator (gateways/<acquirer>/<acq>sim)
// speaks its wire protocol, checks signatures with its own reading of the
// spec, and asks this package what happens to an order.
//
// A wire simulator on Base:
//
//	type Server struct {
//		*sim.Base
//		o Options // its own: keys, merchant, field rules
//	}
//
//	func New(o Options) (*Server, error) {
//		b, err := sim.NewBase(sim.BaseOptions{Name: "mmsp", LedgerPath: o.LedgerPath,
//			Rules: o.Rules, NotifySchedule: o.NotifySchedule, Logger: o.Logger})
//		if err != nil {
//			return nil, err
//		}
//		return &Server{Base: b, o: o}, nil
//	}
//
//	// Answers is the simulator's own table of what the spec documents per
//	// call; with Base's ScriptAnswer and Order, *Server is a
//	// gatewaytest.Truther.
//	func (s *Server) Answers(op sim.Op, method string) []sim.DocumentedAnswer { ... }
//
// In a handler: s.Ledger().NewOrder/Query/Reverse/Close/Refund as the call
// asks; then s.TakeAnswer(no, op) and, when one is scripted, s.Settle(op,
// no, a.Truth, ref) and answer a.Code in the spec's words (CodeHonest: from
// the ledger; CodeNoAnswer: ServeFault(w, r, NoAnswer, hold)); else
// s.Script().TakeFault(...) and sim.ServeFault for transport faults.
// Notifications: s.Notify(no, func(ctx) bool { post; return acked }) follows
// the schedule until acknowledged; s.NotifyNow sends one before answering.
// Tests: url, _ := s.Serve(s) serves it on loopback, s.Stop() refuses
// connections (Controller.Stop), s.Close() ends everything. s.Bill(day,
// loc) lists what moved money on an acquirer day, for a bill endpoint.
package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Scenario is what the simulated acquirer does with a new order.
type Scenario string

const (
	// Immediate: paid at once.
	Immediate Scenario = "immediate"
	// PayOnSecondQuery (..91): USERPAYING, paid when queried the 2nd time.
	PayOnSecondQuery Scenario = "pay_on_second_query"
	// PayingUntilReversed (..92): USERPAYING until reversed or closed.
	PayingUntilReversed Scenario = "paying_until_reversed"
	// Decline (..93): refused at once with a reason.
	Decline Scenario = "decline"
	// NoAnswerPaid (..94): the submit gets no answer, but the order is paid.
	NoAnswerPaid Scenario = "no_answer_paid"
	// NoAnswerNeverPaid (..95): the submit gets no answer and the order
	// never completes.
	NoAnswerNeverPaid Scenario = "no_answer_never_paid"
	// PayAfterQueries: USERPAYING for Order.PayingQueries queries, paid on
	// the next one. Chosen by a Behaviour with PayingQueries > 0.
	PayAfterQueries Scenario = "pay_after_queries"
)

// ScenarioFor picks the scenario from the last two digits of the amount in
// minor units.
func ScenarioFor(minor int64) Scenario {
	switch minor % 100 {
	case 91:
		return PayOnSecondQuery
	case 92:
		return PayingUntilReversed
	case 93:
		return Decline
	case 94:
		return NoAnswerPaid
	case 95:
		return NoAnswerNeverPaid
	}
	return Immediate
}

// OrderState is the simulated acquirer's view of an order, in the words most
// of the specs use.
type OrderState string

const (
	NotPay     OrderState = "NOTPAY"
	UserPaying OrderState = "USERPAYING"
	Success    OrderState = "SUCCESS"
	PayError   OrderState = "PAYERROR"
	Revoked    OrderState = "REVOKED"
	Closed     OrderState = "CLOSED"
	Refunded   OrderState = "REFUND"
)

// RefundStatus is where a refund stands at the simulated acquirer. The
// zero value is an executed refund, so ledgers written before refunds had a
// status read as they always did.
type RefundStatus string

const (
	// RefundExecuted: the money went back to the customer.
	RefundExecuted RefundStatus = ""
	// RefundPending: accepted, not executed yet (TruthPending); its amount
	// is held against the order until a later truth executes or fails it.
	RefundPending RefundStatus = "pending"
	// RefundRefused: the acquirer refused it; nothing moved (TruthNotDone).
	// Kept so that a query of it answers "failed", not "not found".
	RefundRefused RefundStatus = "refused"
)

// Refund is one refund of an order.
type Refund struct {
	OutRefundNo string       `json:"out_refund_no"`
	RefundID    string       `json:"refund_id"`
	Amount      int64        `json:"amount"`
	At          time.Time    `json:"at"`
	Status      RefundStatus `json:"status,omitempty"`
}

// Executed reports whether the refund's money went back.
func (r Refund) Executed() bool { return r.Status == RefundExecuted }

// Order is one order in the ledger.
type Order struct {
	OutTradeNo    string     `json:"out_trade_no"`
	TransactionID string     `json:"transaction_id"`
	Amount        int64      `json:"amount"`
	Currency      string     `json:"currency"`
	Wallet        string     `json:"wallet"`
	Method        string     `json:"method"` // "micropay" or "qr"
	State         OrderState `json:"state"`
	Scenario      Scenario   `json:"scenario"`
	Queries       int        `json:"queries"`
	CreatedAt     time.Time  `json:"created_at"`
	PaidAt        time.Time  `json:"paid_at,omitempty"`
	// EndedAt is when the order was reversed or closed (the bill lists a
	// paid order's reversal on that day).
	EndedAt time.Time `json:"ended_at,omitempty"`
	// CodeMasked is the masked payment code; the simulator keeps no full code.
	CodeMasked string   `json:"code_masked,omitempty"`
	Refunds    []Refund `json:"refunds,omitempty"`
	// Tombstone marks a reverse of an order never received: a late submit
	// with the same number is refused, as real acquirers do.
	Tombstone bool `json:"tombstone,omitempty"`
	// PayingQueries is how many queries see USERPAYING before the order is
	// paid (scenario PayAfterQueries).
	PayingQueries int `json:"paying_queries,omitempty"`
	// DeclineCode and DeclineMsg are what a declined order reports; the
	// wire simulator picks its own defaults when they are empty.
	DeclineCode string `json:"decline_code,omitempty"`
	DeclineMsg  string `json:"decline_msg,omitempty"`
	// LastQueryAt is when the order was last queried, for Rules.MinQueryInterval.
	LastQueryAt time.Time `json:"last_query_at,omitempty"`
	// NotifyURL is where the wire simulator posts this order's payment
	// notification; empty for none.
	NotifyURL string `json:"notify_url,omitempty"`
}

// RefundedAmount sums the order's executed refunds: the money returned.
func (o Order) RefundedAmount() int64 {
	var n int64
	for _, r := range o.Refunds {
		if r.Executed() {
			n += r.Amount
		}
	}
	return n
}

// HeldAmount sums the refunds executed or still pending: what can no
// longer be refunded.
func (o Order) HeldAmount() int64 {
	var n int64
	for _, r := range o.Refunds {
		if r.Status != RefundRefused {
			n += r.Amount
		}
	}
	return n
}

// Charged reports whether the customer's money is with the merchant now:
// the order was paid and not reversed (refunds are counted separately).
func (o Order) Charged() bool { return o.State == Success || o.State == Refunded }

// Ledger is the simulator's durable order book. On disk it is a log of
// JSON lines, one per change, each the changed order as it now stands;
// opening replays the log (the last line of each order wins). Every change
// is appended and fsync'ed before the wire simulator answers, so a demo
// killed and restarted on the same state directory continues against the
// same orders, and the cost of a change does not grow with the number of
// orders (BenchmarkLedgerNewOrder). A ledger written by an older posagent
// (one JSON document with every order) is read the same way and continued
// as a log.
type Ledger struct {
	mu     sync.Mutex
	path   string // "" keeps the ledger in memory only
	orders map[string]*Order
	seq    int64
	now    func() time.Time
	rules  Rules
	// qrPayDelay is how long the simulated customer takes to scan a QR
	// (SetQRPayDelay).
	qrPayDelay time.Duration
	// goodSize is where the last complete record of the file ends; a torn
	// record after it (a crash mid-append) is cut off before the next
	// append. A reader that never appends leaves the file alone.
	goodSize int64
	torn     bool
	needNL   bool // the file does not end in a newline (a torn record cut off, an old ledger)
}

// Rules are the acquirer's timing rules the ledger enforces. The zero value
// enforces nothing.
type Rules struct {
	// ReverseAfter is the minimum age of an order before a reverse is
	// accepted (MMSP asks for 15 s; demos use about 1 s). Younger orders get
	// ErrTooEarly.
	ReverseAfter time.Duration
	// MinQueryInterval is the minimum wait between two queries of one
	// order; a query sooner gets ErrQueryTooSoon and is not counted.
	MinQueryInterval time.Duration
}

// SetRules sets the timing rules the ledger enforces from now on.
func (l *Ledger) SetRules(r Rules) { l.mu.Lock(); l.rules = r; l.mu.Unlock() }

// SetQRPayDelay makes the simulated customer take d to scan a merchant QR:
// a QR order that is paid at once (the Immediate scenario) is paid by the
// first query at least d after the order was created, and is NOTPAY
// before. The demo uses about 10 s, so the QR can be looked at and scanned
// from a phone; zero (the default) pays at the first query.
func (l *Ledger) SetQRPayDelay(d time.Duration) { l.mu.Lock(); l.qrPayDelay = d; l.mu.Unlock() }

// ErrTooEarly is returned by Reverse for an order younger than Rules.ReverseAfter.
var ErrTooEarly = errors.New("sim: reverse too soon after the order")

// ErrQueryTooSoon is returned by Query when Rules.MinQueryInterval has not
// passed since the order's previous query.
var ErrQueryTooSoon = errors.New("sim: query too soon after the previous one")

// record is one line of the ledger's log. Orders is only in a ledger
// written by an older version (one document holding every order).
type record struct {
	Seq    int64    `json:"seq"`
	Order  *Order   `json:"order,omitempty"`
	Orders []*Order `json:"orders,omitempty"`
}

// OpenLedger loads the ledger at path, creating it when absent. An empty
// path gives an in-memory ledger.
func OpenLedger(path string) (*Ledger, error) {
	l := &Ledger{path: path, orders: map[string]*Order{}, now: time.Now}
	if path == "" {
		return l, nil
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sim: reading ledger: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var r record
		err := dec.Decode(&r)
		if err == io.EOF {
			break
		}
		if err != nil {
			// Only the last record may be torn (a crash mid-append): the
			// rest of the file must be one line at most.
			rest := bytes.TrimRight(data[l.goodSize:], "\n")
			if bytes.IndexByte(bytes.TrimLeft(rest, "\n"), '\n') >= 0 {
				return nil, fmt.Errorf("sim: ledger %s is corrupt after byte %d: %w", path, l.goodSize, err)
			}
			l.torn, l.needNL = true, true
			break
		}
		l.goodSize = dec.InputOffset()
		l.seq = max(l.seq, r.Seq)
		for _, o := range r.Orders {
			l.orders[o.OutTradeNo] = o
		}
		if r.Order != nil {
			l.orders[r.Order.OutTradeNo] = r.Order
		}
	}
	if !l.torn {
		l.goodSize = int64(len(data))
		l.needNL = len(data) > 0 && data[len(data)-1] != '\n'
	}
	return l, nil
}

// SetClock replaces the ledger's clock, for tests.
func (l *Ledger) SetClock(now func() time.Time) { l.mu.Lock(); l.now = now; l.mu.Unlock() }

// appendLocked makes a change to o durable: one JSON line appended to the
// log and fsync'ed. The file is opened per append, so a ledger needs no
// Close and two ledgers never hold a stale handle.
func (l *Ledger) appendLocked(o *Order) error {
	if l.path == "" {
		return nil
	}
	b, err := json.Marshal(record{Seq: l.seq, Order: o})
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return fmt.Errorf("sim: ledger directory: %w", err)
	}
	fh, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sim: opening ledger: %w", err)
	}
	if l.torn {
		// Cut off the torn record a crash left, so this one starts on a
		// line of its own.
		if err := fh.Truncate(l.goodSize); err != nil {
			fh.Close()
			return fmt.Errorf("sim: repairing ledger: %w", err)
		}
		l.torn = false
	}
	end, err := fh.Seek(0, io.SeekEnd)
	if err != nil {
		fh.Close()
		return err
	}
	if l.needNL && end > 0 {
		b = append([]byte{'\n'}, b...)
	}
	if _, err := fh.Write(b); err != nil {
		fh.Close()
		// The log may now end in a torn record: cut it off next time.
		l.torn = true
		return fmt.Errorf("sim: appending to ledger: %w", err)
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		l.torn = true
		return fmt.Errorf("sim: syncing ledger: %w", err)
	}
	l.goodSize, l.needNL = end+int64(len(b)), false
	return fh.Close()
}

// commitLocked appends o's new state; when that fails it puts back prev
// (nil: o was new), so the ledger in memory never runs ahead of the disk.
func (l *Ledger) commitLocked(o *Order, prev *Order) error {
	err := l.appendLocked(o)
	if err == nil {
		return nil
	}
	if prev == nil {
		delete(l.orders, o.OutTradeNo)
	} else {
		*o = *prev
	}
	return err
}

func snapshot(o *Order) *Order {
	c := cloneOrder(o)
	return &c
}

// Get returns a copy of an order.
func (l *Ledger) Get(outTradeNo string) (Order, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.orders[outTradeNo]
	if !ok {
		return Order{}, false
	}
	return cloneOrder(o), true
}

// Orders returns copies of all orders, sorted by out_trade_no.
func (l *Ledger) Orders() []Order {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Order, 0, len(l.orders))
	for _, o := range l.orders {
		out = append(out, cloneOrder(o))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OutTradeNo < out[j].OutTradeNo })
	return out
}

func cloneOrder(o *Order) Order {
	c := *o
	c.Refunds = append([]Refund(nil), o.Refunds...)
	return c
}

func (l *Ledger) nextIDLocked(prefix string) string {
	l.seq++
	return prefix + l.now().UTC().Format("20060102") + fmt.Sprintf("%010d", l.seq)
}

// ErrDuplicate is returned when an out_trade_no is reused.
var ErrDuplicate = fmt.Errorf("sim: duplicate out_trade_no")

// ErrNotFound is returned for an order the ledger does not know.
var ErrNotFound = fmt.Errorf("sim: order not found")

// ErrSettled is returned by a truth-moving operation on an order (or
// refund) whose outcome is already final the other way: a paid order
// cannot be abandoned, a closed one cannot be charged.
var ErrSettled = errors.New("sim: the order's outcome is already settled")

// NewOrder records a new order and applies its scenario's first step.
// Micropay orders start paid, paying or failed; QR orders start NOTPAY
// (their scenario decides what queries see). The returned Order is the state
// the submit's answer should describe (a NoAnswer scenario's caller sends no
// answer at all).
func (l *Ledger) NewOrder(o Order) (Order, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.orders[o.OutTradeNo]; ok {
		return cloneOrder(prev), ErrDuplicate
	}
	o.CreatedAt = l.now()
	if o.Scenario == "" {
		switch {
		case o.PayingQueries > 0:
			o.Scenario = PayAfterQueries
		case o.DeclineCode != "" || o.DeclineMsg != "":
			o.Scenario = Decline
		default:
			o.Scenario = ScenarioFor(o.Amount)
		}
	}
	if o.Scenario == PayOnSecondQuery && o.PayingQueries == 0 {
		o.PayingQueries = 1
	}
	o.TransactionID = l.nextIDLocked("42")
	switch {
	case o.Method == "qr":
		o.State = NotPay
	case o.Scenario == Immediate || o.Scenario == NoAnswerPaid:
		o.State = Success
		o.PaidAt = o.CreatedAt
	case o.Scenario == Decline:
		o.State = PayError
	default:
		o.State = UserPaying
	}
	l.orders[o.OutTradeNo] = &o
	if err := l.commitLocked(&o, nil); err != nil {
		return Order{}, err
	}
	return cloneOrder(&o), nil
}

// Query counts a query and advances the order's scenario: ..91 is paid on
// its second query (PayAfterQueries on query PayingQueries+1); a QR order in
// the Immediate scenario is paid on its first (the customer scanned while
// the till displayed it).
func (l *Ledger) Query(outTradeNo string) (Order, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.orders[outTradeNo]
	if !ok || o.Tombstone {
		return Order{}, ErrNotFound
	}
	now := l.now()
	if l.rules.MinQueryInterval > 0 && !o.LastQueryAt.IsZero() && now.Sub(o.LastQueryAt) < l.rules.MinQueryInterval {
		return cloneOrder(o), ErrQueryTooSoon
	}
	prev := snapshot(o)
	o.LastQueryAt = now
	o.Queries++
	paysAfter := o.Scenario == PayOnSecondQuery || o.Scenario == PayAfterQueries
	switch {
	case (o.State == UserPaying || o.State == NotPay) && paysAfter && o.Queries > o.PayingQueries,
		o.State == NotPay && o.Scenario == Immediate && now.Sub(o.CreatedAt) >= l.qrPayDelay,
		o.State == NotPay && o.Scenario == NoAnswerPaid:
		o.State = Success
		o.PaidAt = now
	case o.State == NotPay && o.Scenario == Decline:
		o.State = PayError
	case o.State == NotPay && (paysAfter || o.Scenario == PayingUntilReversed || o.Scenario == NoAnswerNeverPaid):
		o.State = UserPaying
	}
	if err := l.commitLocked(o, prev); err != nil {
		return Order{}, err
	}
	return cloneOrder(o), nil
}

// Reverse cancels an order whatever its state (撤销): a paid order is
// refunded in full by the acquirer, an unpaid one closed. An unknown
// out_trade_no gets a tombstone, so a submit that arrives late is refused.
func (l *Ledger) Reverse(outTradeNo string) (Order, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reverseLocked(outTradeNo, true)
}

// ExecuteReverse reverses an order as Reverse does, but ignores
// Rules.ReverseAfter: a scripted truth (TruthDone on a reverse) says the
// acquirer executed it, whatever it answered.
func (l *Ledger) ExecuteReverse(outTradeNo string) (Order, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reverseLocked(outTradeNo, false)
}

func (l *Ledger) reverseLocked(outTradeNo string, rules bool) (Order, error) {
	o, ok := l.orders[outTradeNo]
	var prev *Order
	if !ok {
		o = &Order{OutTradeNo: outTradeNo, State: Revoked, Tombstone: true, CreatedAt: l.now()}
		l.orders[outTradeNo] = o
	} else {
		prev = snapshot(o)
	}
	if rules && l.rules.ReverseAfter > 0 && !o.Tombstone && l.now().Sub(o.CreatedAt) < l.rules.ReverseAfter {
		return cloneOrder(o), ErrTooEarly
	}
	if o.State == Refunded || len(o.Refunds) > 0 {
		return cloneOrder(o), fmt.Errorf("sim: order %s has refunds and cannot be reversed", outTradeNo)
	}
	o.State, o.EndedAt = Revoked, l.now()
	if err := l.commitLocked(o, prev); err != nil {
		return Order{}, err
	}
	return cloneOrder(o), nil
}

// Close closes an unpaid order. A paid order cannot be closed.
func (l *Ledger) Close(outTradeNo string) (Order, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.orders[outTradeNo]
	if !ok || o.Tombstone {
		return Order{}, ErrNotFound
	}
	if o.State == Success || o.State == Refunded {
		return cloneOrder(o), fmt.Errorf("sim: order %s is paid and cannot be closed", outTradeNo)
	}
	prev := snapshot(o)
	o.State, o.EndedAt = Closed, l.now()
	if err := l.commitLocked(o, prev); err != nil {
		return Order{}, err
	}
	return cloneOrder(o), nil
}

// Refund refunds part of a paid order. Refunds never sum above the
// original; the same out_refund_no twice returns the first refund.
func (l *Ledger) Refund(outTradeNo, outRefundNo string, amount int64) (Order, Refund, error) {
	return l.refund(outTradeNo, outRefundNo, amount, RefundExecuted)
}

// AcceptRefund records a refund accepted but not executed (RefundPending):
// its amount is held until ExecuteRefund or RefuseRefund settles it. The
// same out_refund_no twice returns the first refund.
func (l *Ledger) AcceptRefund(outTradeNo, outRefundNo string, amount int64) (Order, Refund, error) {
	return l.refund(outTradeNo, outRefundNo, amount, RefundPending)
}

// RecordRefusedRefund records a refund the acquirer refused (RefundRefused):
// nothing moved, but a query of it finds it and says so.
func (l *Ledger) RecordRefusedRefund(outTradeNo, outRefundNo string, amount int64) (Order, Refund, error) {
	return l.refund(outTradeNo, outRefundNo, amount, RefundRefused)
}

func (l *Ledger) refund(outTradeNo, outRefundNo string, amount int64, st RefundStatus) (Order, Refund, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.orders[outTradeNo]
	if !ok || o.Tombstone {
		return Order{}, Refund{}, ErrNotFound
	}
	for _, r := range o.Refunds {
		if r.OutRefundNo == outRefundNo {
			return cloneOrder(o), r, nil
		}
	}
	if st != RefundRefused {
		if o.State != Success && o.State != Refunded {
			return cloneOrder(o), Refund{}, fmt.Errorf("sim: order %s is %s, not paid", outTradeNo, o.State)
		}
		if amount <= 0 || o.HeldAmount()+amount > o.Amount {
			return cloneOrder(o), Refund{}, fmt.Errorf("sim: refund of %d exceeds the refundable %d", amount, o.Amount-o.HeldAmount())
		}
	}
	prev := snapshot(o)
	r := Refund{OutRefundNo: outRefundNo, RefundID: l.nextIDLocked("50"), Amount: amount, At: l.now(), Status: st}
	o.Refunds = append(o.Refunds, r)
	if st == RefundExecuted {
		o.State = Refunded
	}
	if err := l.commitLocked(o, prev); err != nil {
		return Order{}, Refund{}, err
	}
	return cloneOrder(o), r, nil
}

// ExecuteRefund executes a pending refund (an executed one is left as it
// is); a refused one is ErrSettled.
func (l *Ledger) ExecuteRefund(outTradeNo, outRefundNo string) (Order, Refund, error) {
	return l.settleRefund(outTradeNo, outRefundNo, RefundExecuted)
}

// RefuseRefund refuses a pending refund, freeing its amount (a refused
// one is left as it is); an executed one is ErrSettled.
func (l *Ledger) RefuseRefund(outTradeNo, outRefundNo string) (Order, Refund, error) {
	return l.settleRefund(outTradeNo, outRefundNo, RefundRefused)
}

func (l *Ledger) settleRefund(outTradeNo, outRefundNo string, st RefundStatus) (Order, Refund, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.orders[outTradeNo]
	if !ok {
		return Order{}, Refund{}, ErrNotFound
	}
	for i, r := range o.Refunds {
		if r.OutRefundNo != outRefundNo {
			continue
		}
		switch r.Status {
		case st:
			return cloneOrder(o), r, nil
		case RefundPending:
		default:
			return cloneOrder(o), r, ErrSettled
		}
		prev := snapshot(o)
		o.Refunds[i].Status = st
		o.Refunds[i].At = l.now()
		if st == RefundExecuted {
			o.State = Refunded
		}
		if err := l.commitLocked(o, prev); err != nil {
			return Order{}, Refund{}, err
		}
		return cloneOrder(o), o.Refunds[i], nil
	}
	return cloneOrder(o), Refund{}, ErrNotFound
}

// Charge pays an order now whatever its scenario (TruthDone on a submit or
// a query: "answer busy and pay anyway"). A paid order is left as it is; a
// reversed, closed or declined one is ErrSettled.
func (l *Ledger) Charge(outTradeNo string) (Order, error) {
	return l.charge(outTradeNo, false)
}

// charge with override set also pays a declined order: the truth of a
// submit replaces what the scenario did when the order was created.
func (l *Ledger) charge(outTradeNo string, override bool) (Order, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.orders[outTradeNo]
	if !ok || o.Tombstone {
		return Order{}, ErrNotFound
	}
	switch {
	case o.State == Success || o.State == Refunded:
		return cloneOrder(o), nil
	case o.State == NotPay || o.State == UserPaying:
	case override && o.State == PayError:
	default:
		return cloneOrder(o), ErrSettled
	}
	prev := snapshot(o)
	o.State, o.PaidAt, o.Scenario = Success, l.now(), Immediate
	if err := l.commitLocked(o, prev); err != nil {
		return Order{}, err
	}
	return cloneOrder(o), nil
}

// Abandon ends an unpaid order without a charge (TruthNotDone on a submit
// or a query: the customer walked away): it is PAYERROR from now on and can
// no longer be paid. A declined, closed or reversed order is left as it
// is; a paid one is ErrSettled.
func (l *Ledger) Abandon(outTradeNo string) (Order, error) {
	return l.abandon(outTradeNo, false)
}

// abandon with override set also unpays an order its scenario paid when it
// was created (no refund yet): the truth of a submit replaces the
// scenario's.
func (l *Ledger) abandon(outTradeNo string, override bool) (Order, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.orders[outTradeNo]
	if !ok || o.Tombstone {
		return Order{}, ErrNotFound
	}
	switch {
	case override && o.State == Success && len(o.Refunds) == 0:
	case o.State == Success || o.State == Refunded:
		return cloneOrder(o), ErrSettled
	case o.State == NotPay || o.State == UserPaying:
	default:
		return cloneOrder(o), nil
	}
	prev := snapshot(o)
	o.State, o.Scenario, o.PaidAt = PayError, Decline, time.Time{}
	if err := l.commitLocked(o, prev); err != nil {
		return Order{}, err
	}
	return cloneOrder(o), nil
}

// Hold keeps an unpaid order payable but unpaid until a later truth or a
// reverse or close settles it (TruthPending): a micropay order is
// USERPAYING, a QR order NOTPAY, and queries no longer advance it. A paid
// or ended order is ErrSettled.
func (l *Ledger) Hold(outTradeNo string) (Order, error) {
	return l.hold(outTradeNo, false)
}

// hold with override set also holds an order its scenario paid or
// declined when it was created (no refund yet).
func (l *Ledger) hold(outTradeNo string, override bool) (Order, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.orders[outTradeNo]
	if !ok || o.Tombstone {
		return Order{}, ErrNotFound
	}
	switch {
	case o.State == NotPay || o.State == UserPaying:
	case override && (o.State == Success || o.State == PayError) && len(o.Refunds) == 0:
	default:
		return cloneOrder(o), ErrSettled
	}
	prev := snapshot(o)
	o.Scenario, o.PaidAt = PayingUntilReversed, time.Time{}
	if o.Method == "qr" {
		o.State = NotPay
	} else {
		o.State = UserPaying
	}
	if err := l.commitLocked(o, prev); err != nil {
		return Order{}, err
	}
	return cloneOrder(o), nil
}

// FindRefund looks a refund up by our number.
func (l *Ledger) FindRefund(outTradeNo, outRefundNo string) (Order, Refund, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.orders[outTradeNo]
	if !ok {
		return Order{}, Refund{}, ErrNotFound
	}
	for _, r := range o.Refunds {
		if r.OutRefundNo == outRefundNo {
			return cloneOrder(o), r, nil
		}
	}
	return cloneOrder(o), Refund{}, ErrNotFound
}

// FindRefundByNo looks a refund up by our refund number alone, for
// acquirers whose refund query does not name the order.
func (l *Ledger) FindRefundByNo(outRefundNo string) (Order, Refund, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range l.orders {
		for _, r := range o.Refunds {
			if r.OutRefundNo == outRefundNo || r.RefundID == outRefundNo {
				return cloneOrder(o), r, nil
			}
		}
	}
	return Order{}, Refund{}, ErrNotFound
}
