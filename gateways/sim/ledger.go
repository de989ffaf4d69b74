// Package sim is the acquirer-independent half of every gateway simulator:
// a durable ledger of orders and the scenarios chosen by an amount's last two
// digits (the "magic amounts" in the README). Each gateway's simulator
// (gateways/<acquirer>/<acquirer>sim) speaks its wire protocol and checks
// signatures, and asks this package what happens to an order.
package sim

import (
	"encoding/json"
	"errors"
	"fmt"
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

// Refund is one refund of an order.
type Refund struct {
	OutRefundNo string    `json:"out_refund_no"`
	RefundID    string    `json:"refund_id"`
	Amount      int64     `json:"amount"`
	At          time.Time `json:"at"`
}

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

// RefundedAmount sums the order's refunds.
func (o Order) RefundedAmount() int64 {
	var n int64
	for _, r := range o.Refunds {
		n += r.Amount
	}
	return n
}

// Ledger is the simulator's durable order book: a JSON file rewritten
// atomically after every change, so a demo killed and restarted on the same
// state directory continues against the same orders.
type Ledger struct {
	mu     sync.Mutex
	path   string // "" keeps the ledger in memory only
	orders map[string]*Order
	seq    int64
	now    func() time.Time
	rules  Rules
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

// ErrTooEarly is returned by Reverse for an order younger than Rules.ReverseAfter.
var ErrTooEarly = errors.New("sim: reverse too soon after the order")

// ErrQueryTooSoon is returned by Query when Rules.MinQueryInterval has not
// passed since the order's previous query.
var ErrQueryTooSoon = errors.New("sim: query too soon after the previous one")

type ledgerFile struct {
	Seq    int64    `json:"seq"`
	Orders []*Order `json:"orders"`
}

// OpenLedger loads the ledger at path, creating it when absent. An empty
// path gives an in-memory ledger.
func OpenLedger(path string) (*Ledger, error) {
	l := &Ledger{path: path, orders: map[string]*Order{}, now: time.Now}
	if path == "" {
		return l, nil
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sim: reading ledger: %w", err)
	}
	var f ledgerFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("sim: ledger %s is corrupt: %w", path, err)
	}
	l.seq = f.Seq
	for _, o := range f.Orders {
		l.orders[o.OutTradeNo] = o
	}
	return l, nil
}

// SetClock replaces the ledger's clock, for tests.
func (l *Ledger) SetClock(now func() time.Time) { l.mu.Lock(); l.now = now; l.mu.Unlock() }

func (l *Ledger) saveLocked() error {
	if l.path == "" {
		return nil
	}
	f := ledgerFile{Seq: l.seq}
	for _, o := range l.orders {
		f.Orders = append(f.Orders, o)
	}
	sort.Slice(f.Orders, func(i, j int) bool { return f.Orders[i].OutTradeNo < f.Orders[j].OutTradeNo })
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp := l.path + ".tmp"
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return err
	}
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := fh.Write(b); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, l.path)
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
	if err := l.saveLocked(); err != nil {
		delete(l.orders, o.OutTradeNo)
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
	o.LastQueryAt = now
	o.Queries++
	paysAfter := o.Scenario == PayOnSecondQuery || o.Scenario == PayAfterQueries
	switch {
	case (o.State == UserPaying || o.State == NotPay) && paysAfter && o.Queries > o.PayingQueries,
		o.State == NotPay && o.Scenario == Immediate,
		o.State == NotPay && o.Scenario == NoAnswerPaid:
		o.State = Success
		o.PaidAt = now
	case o.State == NotPay && o.Scenario == Decline:
		o.State = PayError
	case o.State == NotPay && (paysAfter || o.Scenario == PayingUntilReversed || o.Scenario == NoAnswerNeverPaid):
		o.State = UserPaying
	}
	if err := l.saveLocked(); err != nil {
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
	o, ok := l.orders[outTradeNo]
	if !ok {
		o = &Order{OutTradeNo: outTradeNo, State: Revoked, Tombstone: true, CreatedAt: l.now()}
		l.orders[outTradeNo] = o
	}
	if l.rules.ReverseAfter > 0 && !o.Tombstone && l.now().Sub(o.CreatedAt) < l.rules.ReverseAfter {
		return cloneOrder(o), ErrTooEarly
	}
	if o.State == Refunded {
		return cloneOrder(o), fmt.Errorf("sim: order %s has refunds and cannot be reversed", outTradeNo)
	}
	o.State = Revoked
	if err := l.saveLocked(); err != nil {
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
	o.State = Closed
	if err := l.saveLocked(); err != nil {
		return Order{}, err
	}
	return cloneOrder(o), nil
}

// Refund refunds part of a paid order. Refunds never sum above the
// original; the same out_refund_no twice returns the first refund.
func (l *Ledger) Refund(outTradeNo, outRefundNo string, amount int64) (Order, Refund, error) {
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
	if o.State != Success && o.State != Refunded {
		return cloneOrder(o), Refund{}, fmt.Errorf("sim: order %s is %s, not paid", outTradeNo, o.State)
	}
	if amount <= 0 || o.RefundedAmount()+amount > o.Amount {
		return cloneOrder(o), Refund{}, fmt.Errorf("sim: refund of %d exceeds the refundable %d", amount, o.Amount-o.RefundedAmount())
	}
	r := Refund{OutRefundNo: outRefundNo, RefundID: l.nextIDLocked("50"), Amount: amount, At: l.now()}
	o.Refunds = append(o.Refunds, r)
	o.State = Refunded
	if err := l.saveLocked(); err != nil {
		return Order{}, Refund{}, err
	}
	return cloneOrder(o), r, nil
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
