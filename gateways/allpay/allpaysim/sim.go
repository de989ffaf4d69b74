// Package allpaysim simulates the AllPay V5 platform (gateways/allpay) over
// real HTTP: form POSTs to the §4.1 paths, request signatures and field
// rules checked, answers signed with the same key and signType, orders kept
// in a gateways/sim Ledger (in memory, or a JSON file that survives
// restarts), the magic amounts and per-order scripts of gateways/sim, and
// JSON payment notifications POSTed to backURL (or Options.NotifyURL)
// until they are answered "OK".
//
// It runs inside `posagent demo --gateway allpay` and `posagent simulate`:
// build it with New(DemoOptions()) (fast) or New(Options{}), serve it with
// any http.Server, and point an allpay.Client at it with ClientOptions.
//
// QR orders follow the magic amounts through inquiries: ..00 paid on the
// first INQY, ..91 on the second, ..92 never (until cancelled with VOID),
// ..93 declined when the customer tries; ..94/..95 get no answer to PURC.
//
// Answers it invents where the spec is silent:
//   - bad signature or signType: U2; unknown merID: U1; a missing M field:
//     U4; a field that breaks its table, or a transType sent to another
//     interface's path: U5; orderNum reused (purchase, refund or
//     cancellation numbers): U6; unknown order or refund: U7; an inquiry
//     sooner than Rules.MinQueryInterval or a VOID sooner than
//     Rules.ReverseAfter: U9 "try again later";
//   - tradeFrom other than QRCODE: P4; a paymentSchema other than WX, AP,
//     APHK: P1;
//   - INQY: 00 paid (also after refunds), 04 not yet paid, 01 declined
//     (the script's DeclineCode when it is a §6 code, else 01) or
//     cancelled;
//   - REFD: 61 above what is left to refund, 01 for an unpaid order;
//   - VOID: 00 for any order without refunds, whatever its state; 01 when
//     it has refunds. Cancellation numbers are remembered in memory only.
//   - sim.NotifyBeforeResponse on a PURC: the customer pays at once (as if
//     the code had been scanned off another screen), and the notification
//     is delivered before the PURC is answered.
//   - Notifications name Alipay orders AP (the ledger keeps the wallet,
//     not the channel); the adapter reads AP and APHK alike.
package allpaysim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/allpay"
	"github.com/posagent/posagent/gateways/sim"
)

// Test credentials: the spec's sample merchant and key (§3.3).
const (
	TestMerID = "000000000000015"
	TestKey   = pos.Secret("2f2c77e3718c47cfb47a89a6fbc9d361")
)

// SpecNotifySchedule is §4.2.3's delivery schedule: at once, then resent
// after 15, 15, 30, 180, 1800, 3600, 7200, 14400 and 14400 s until "OK".
var SpecNotifySchedule = []time.Duration{0, 15 * time.Second, 15 * time.Second, 30 * time.Second,
	180 * time.Second, 1800 * time.Second, 3600 * time.Second, 7200 * time.Second, 14400 * time.Second, 14400 * time.Second}

// Options configure a Server. Zero values take the documented defaults.
type Options struct {
	// Key signs and verifies; default TestKey. SignType is the only type
	// accepted and used; default SHA256.
	Key      pos.Secret
	SignType string
	// MerID and AcqID are the only ones accepted; defaults TestMerID and
	// allpay.DefaultAcqID.
	MerID, AcqID string
	// Currencies accepted; default every currency posagent knows.
	Currencies []pos.Currency
	// Rules are the timing rules enforced; zero enforces none.
	Rules sim.Rules
	// LedgerPath keeps the orders in a JSON file; empty keeps them in memory.
	LedgerPath string
	// NotifyURL, when set, receives every notification instead of the
	// order's backURL.
	NotifyURL string
	// NotifySchedule is the wait before each delivery attempt; default
	// SpecNotifySchedule.
	NotifySchedule []time.Duration
	// HTTPClient posts notifications; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Hold bounds how long a NoAnswer fault holds a request; default
	// sim.DefaultHold.
	Hold time.Duration
	// Logger; default discards.
	Logger *slog.Logger
}

// DemoOptions are options for demos and tests: the spec's test merchant and
// key, no timing rules, notifications resent after 0, 1, 2 and 5 s.
func DemoOptions() Options {
	return Options{NotifySchedule: []time.Duration{0, time.Second, 2 * time.Second, 5 * time.Second}}
}

// ClientOptions returns allpay client options that talk to a simulator
// built with o at endpoint (its base URL), sending backURL, with Simulated
// set and queries every 500 ms (or o's MinQueryInterval when slower).
func ClientOptions(o Options, endpoint, backURL string) allpay.Options {
	o = o.withDefaults()
	return allpay.Options{
		Endpoint:     endpoint,
		MerID:        o.MerID,
		AcqID:        o.AcqID,
		Key:          o.Key,
		SignType:     o.SignType,
		BackURL:      backURL,
		Currency:     allpay.DefaultCurrency,
		PollInterval: max(500*time.Millisecond, o.Rules.MinQueryInterval),
		Simulated:    true,
	}
}

func (o Options) withDefaults() Options {
	if o.Key == "" {
		o.Key = TestKey
	}
	if o.SignType == "" {
		o.SignType = allpay.SignSHA256
	}
	if o.MerID == "" {
		o.MerID = TestMerID
	}
	if o.AcqID == "" {
		o.AcqID = allpay.DefaultAcqID
	}
	if len(o.NotifySchedule) == 0 {
		o.NotifySchedule = SpecNotifySchedule
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Server is the simulated platform, an http.Handler.
type Server struct {
	o      Options
	key    string
	ledger *sim.Ledger
	script sim.Script
	log    *slog.Logger

	ctx    context.Context // cancelled by Close: stops notification resends
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	voids map[string]string // cancellation orderNum → original orderNum
	acked map[string]bool   // notifications answered OK, by orderNum
}

// New validates opts and builds a Server.
func New(opts Options) (*Server, error) {
	o := opts.withDefaults()
	if o.SignType != allpay.SignMD5 && o.SignType != allpay.SignSHA256 {
		return nil, fmt.Errorf("allpaysim: signType %q", o.SignType)
	}
	if o.Rules.ReverseAfter < 0 || o.Rules.MinQueryInterval < 0 {
		return nil, errors.New("allpaysim: negative timing rule")
	}
	l, err := sim.OpenLedger(o.LedgerPath)
	if err != nil {
		return nil, err
	}
	l.SetRules(o.Rules)
	s := &Server{o: o, key: o.Key.Reveal(), ledger: l, log: o.Logger.With("simulator", allpay.Kind),
		voids: map[string]string{}, acked: map[string]bool{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Ledger is the simulator's order book.
func (s *Server) Ledger() *sim.Ledger { return s.ledger }

// Script is the simulator's per-order script registry.
func (s *Server) Script() *sim.Script { return &s.script }

// Acked reports whether an order's notification was answered "OK".
func (s *Server) Acked(orderNum string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked[orderNum]
}

// Close stops notification resends and waits for deliveries in flight.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// exchange is one verified request and its answer under construction.
type exchange struct {
	req allpay.Fields
	ans allpay.Fields
	r   *http.Request
}

func (x *exchange) set(code, msg string) { x.ans["RespCode"], x.ans["RespMsg"] = code, msg }

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return
	}
	req, err := allpay.ParseFields(body)
	if err != nil {
		http.Error(w, "bad request body", http.StatusBadRequest)
		return
	}
	now := time.Now()
	x := &exchange{req: req, r: r, ans: allpay.Fields{
		"version":       allpay.Version,
		"charSet":       allpay.CharSet,
		"transType":     req["transType"],
		"orderNum":      req["orderNum"],
		"merID":         req["merID"],
		"acqID":         s.o.AcqID,
		"paymentSchema": req["paymentSchema"],
		"transTime":     req["transTime"],
		"GWTime":        allpay.FormatTime(now),
		"signType":      s.o.SignType,
	}}
	if code, msg := s.admit(r, req); code != "" {
		x.set(code, msg)
		s.answer(w, x, sim.FaultNone)
		return
	}
	switch req["transType"] {
	case allpay.TransPurchase:
		s.purchase(w, x)
	case allpay.TransInquiry:
		s.inquiry(w, x)
	case allpay.TransRefund:
		s.refund(w, x)
	case allpay.TransRefundQuery:
		s.refundQuery(w, x)
	case allpay.TransVoid:
		s.void(w, x)
	}
}

// admit checks what every request must satisfy; it returns the RespCode
// and message of a refusal, or "".
func (s *Server) admit(r *http.Request, req allpay.Fields) (string, string) {
	if err := allpay.Verify(req, s.key, s.o.SignType); err != nil {
		return allpay.RespBadSignature, "Signature is not correct"
	}
	if req["merID"] != s.o.MerID {
		return allpay.RespNoMerchant, "Merchant ID is not exsit"
	}
	if err := allpay.CheckRequest(req); err != nil {
		var fe *allpay.FieldError
		if errors.As(err, &fe) && fe.Missing {
			return allpay.RespMissingParam, "Missing parameter " + fe.Field
		}
		return allpay.RespInvalidParam, "Invalid parameter: " + err.Error()
	}
	if req["acqID"] != s.o.AcqID {
		return allpay.RespInvalidParam, "Invalid parameter acqID"
	}
	if allpay.TransTypeForPath(r.URL.Path) != req["transType"] {
		return allpay.RespInvalidParam, fmt.Sprintf("Invalid parameter: transType %s is not served at %s", req["transType"], r.URL.Path)
	}
	if allpay.WalletOf(req["paymentSchema"]) == "" {
		return allpay.RespNoChannel, "Channel is not setted"
	}
	return "", ""
}

// answer signs and writes x's answer, after applying fault.
func (s *Server) answer(w http.ResponseWriter, x *exchange, fault sim.Fault) {
	if fault.Transport() {
		s.log.Info("fault", "transType", x.req["transType"], "orderNum", x.req["orderNum"], "fault", string(fault))
		sim.ServeFault(w, x.r, fault, s.o.Hold)
		return
	}
	key := s.key
	if fault == sim.BadSignature {
		key += "-wrong"
	}
	sig, err := allpay.Sign(x.ans, key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	x.ans[allpay.SignatureField] = sig
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(x.ans.JSON())
}

func (s *Server) money(amount, currency string) (pos.Money, bool) {
	m, err := pos.ParseMoney(amount, currency)
	if err != nil {
		return pos.Money{}, false
	}
	if len(s.o.Currencies) > 0 && !slices.Contains(s.o.Currencies, m.Currency) {
		return pos.Money{}, false
	}
	return m, true
}

// numberInUse reports whether orderNum already names an order, a refund
// or a cancellation.
func (s *Server) numberInUse(no string) bool {
	if _, ok := s.ledger.Get(no); ok {
		return true
	}
	if _, _, err := s.ledger.FindRefundByNo(no); err == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.voids[no]
	return ok
}

func (s *Server) purchase(w http.ResponseWriter, x *exchange) {
	req := x.req
	if req["tradeFrom"] != allpay.TradeFromQR {
		x.set(allpay.RespNotSupported, "Function is not supported: tradeFrom "+req["tradeFrom"])
		s.answer(w, x, sim.FaultNone)
		return
	}
	amt, ok := s.money(req["orderAmount"], req["orderCurrency"])
	if !ok {
		x.set(allpay.RespNoCurrency, "Currency is not setted")
		s.answer(w, x, sim.FaultNone)
		return
	}
	no := req["orderNum"]
	if s.numberInUse(no) {
		x.set(allpay.RespRepeatOrderNum, "Repeat order number")
		s.answer(w, x, sim.FaultNone)
		return
	}
	o := sim.Order{OutTradeNo: no, Amount: amt.Minor, Currency: string(amt.Currency),
		Wallet: string(allpay.WalletOf(req["paymentSchema"])), Method: "qr", NotifyURL: req["backURL"]}
	s.script.Behaviour(no, amt.Minor).Fill(&o)
	created, err := s.ledger.NewOrder(o)
	if errors.Is(err, sim.ErrDuplicate) {
		x.set(allpay.RespRepeatOrderNum, "Repeat order number")
		s.answer(w, x, sim.FaultNone)
		return
	}
	if err != nil {
		s.log.Error("ledger", "err", err.Error())
		x.set(allpay.RespSystemError, "System error")
		s.answer(w, x, sim.FaultNone)
		return
	}
	s.log.Info("order", "orderNum", no, "amount", amt.String(), "schema", req["paymentSchema"], "scenario", string(created.Scenario))
	fault := s.script.TakeFault(no, amt.Minor, sim.OpSubmit)
	if fault == sim.NotifyBeforeResponse {
		// The customer pays before the till has shown the code.
		if paid, err := s.ledger.Query(no); err == nil && paid.State == sim.Success {
			s.notifyPaid(paid, fault)
		}
	}
	x.ans["transID"] = created.TransactionID
	x.ans["orderAmount"] = req["orderAmount"]
	x.ans["orderCurrency"] = req["orderCurrency"]
	x.ans["code_url"] = codeURL(req["paymentSchema"], created.TransactionID)
	x.set(allpay.RespSuccess, "Success")
	s.answer(w, x, fault)
}

func codeURL(schema, id string) string {
	if schema == allpay.SchemaWeChat {
		return "weixin://wxpay/bizpayurl?pr=allpaysim" + id
	}
	return "https://qr.alipay.com/allpaysim" + id
}

// stateCode is an inquiry's RespCode and message for an order's state.
func stateCode(o sim.Order) (string, string) {
	switch o.State {
	case sim.Success, sim.Refunded:
		return allpay.RespSuccess, "Success"
	case sim.NotPay, sim.UserPaying:
		return allpay.RespProcessing, "Processing"
	case sim.PayError:
		code, msg := allpay.RespFail, "Fail"
		if c := o.DeclineCode; c == allpay.RespExceedLimit || c == allpay.RespNoBalance {
			code = c
		}
		if o.DeclineMsg != "" {
			msg = o.DeclineMsg
		} else if code == allpay.RespFail {
			msg = "Fail: the payment was declined"
		}
		return code, msg
	case sim.Revoked, sim.Closed:
		return allpay.RespFail, "Fail: the order is cancelled"
	}
	return allpay.RespSystemError, "System error"
}

func (s *Server) inquiry(w http.ResponseWriter, x *exchange) {
	no := x.req["orderNum"]
	before, found := s.ledger.Get(no)
	if !found || before.Tombstone {
		x.set(allpay.RespNoOrder, "Order is not exist")
		s.answer(w, x, sim.FaultNone)
		return
	}
	o, err := s.ledger.Query(no)
	if errors.Is(err, sim.ErrQueryTooSoon) {
		x.set(allpay.RespSystemError, "System error: query too frequent, try again later")
		s.answer(w, x, sim.FaultNone)
		return
	}
	if err != nil {
		sim.ServeFault(w, x.r, sim.HTTP5xx, 0)
		return
	}
	fault := s.script.TakeFault(no, o.Amount, sim.OpQuery)
	if before.State != sim.Success && o.State == sim.Success {
		s.notifyPaid(o, fault)
	}
	x.ans["transID"] = o.TransactionID
	x.ans["paymentSchema"] = x.req["paymentSchema"]
	x.set(stateCode(o))
	s.answer(w, x, fault)
}

func (s *Server) refund(w http.ResponseWriter, x *exchange) {
	orig, no := x.req["origOrderNum"], x.req["orderNum"]
	o, found := s.ledger.Get(orig)
	if !found || o.Tombstone {
		x.set(allpay.RespNoOrder, "Order is not exist")
		s.answer(w, x, sim.FaultNone)
		return
	}
	if s.numberInUse(no) {
		x.set(allpay.RespRepeatOrderNum, "Repeat order number")
		s.answer(w, x, sim.FaultNone)
		return
	}
	amt, ok := s.money(x.req["returnAmount"], x.req["orderCurrency"])
	if !ok || string(amt.Currency) != o.Currency {
		x.set(allpay.RespInvalidParam, "Invalid parameter: returnAmount or orderCurrency")
		s.answer(w, x, sim.FaultNone)
		return
	}
	fault := s.script.TakeFault(orig, o.Amount, sim.OpRefund)
	switch {
	case o.State != sim.Success && o.State != sim.Refunded:
		x.set(allpay.RespFail, "Fail: the original order is not paid")
	case o.RefundedAmount()+amt.Minor > o.Amount:
		x.set(allpay.RespExceedLimit, "Exceed the limit")
	default:
		_, r, err := s.ledger.Refund(orig, no, amt.Minor)
		if err != nil {
			x.set(allpay.RespFail, "Fail: "+err.Error())
			break
		}
		x.ans["transID"] = r.RefundID
		x.set(allpay.RespSuccess, "Success")
	}
	s.answer(w, x, fault)
}

func (s *Server) refundQuery(w http.ResponseWriter, x *exchange) {
	o, r, err := s.ledger.FindRefundByNo(x.req["orderNum"])
	if err != nil || r.OutRefundNo != x.req["orderNum"] {
		x.set(allpay.RespNoOrder, "Order is not exist")
		s.answer(w, x, sim.FaultNone)
		return
	}
	x.ans["transID"] = r.RefundID
	x.set(allpay.RespSuccess, "Success")
	s.answer(w, x, s.script.TakeFault(o.OutTradeNo, o.Amount, sim.OpQueryRefund))
}

func (s *Server) void(w http.ResponseWriter, x *exchange) {
	orig, no := x.req["origOrderNum"], x.req["orderNum"]
	o, found := s.ledger.Get(orig)
	if !found || o.Tombstone {
		x.set(allpay.RespNoOrder, "Order is not exist")
		s.answer(w, x, sim.FaultNone)
		return
	}
	fault := s.script.TakeFault(orig, o.Amount, sim.OpReverse)
	if s.numberInUse(no) {
		x.set(allpay.RespRepeatOrderNum, "Repeat order number")
		s.answer(w, x, fault)
		return
	}
	voided, err := s.ledger.Reverse(orig)
	switch {
	case errors.Is(err, sim.ErrTooEarly):
		x.set(allpay.RespSystemError, "System error: cancellation too soon, try again later")
		s.answer(w, x, fault)
		return
	case err != nil:
		x.set(allpay.RespFail, "Fail: the order has refunds and cannot be cancelled")
	default:
		x.ans["transID"] = voided.TransactionID
		x.set(allpay.RespSuccess, "Success")
	}
	s.mu.Lock()
	s.voids[no] = orig
	s.mu.Unlock()
	s.log.Info("void", "orderNum", no, "origOrderNum", orig, "respCode", x.ans["RespCode"])
	s.answer(w, x, fault)
}
