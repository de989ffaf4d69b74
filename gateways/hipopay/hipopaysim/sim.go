// Package hipopaysim simulates the HipoPay API over real HTTP for tests and
// demos, as hipopay-miniprogram.txt describes it. It is a second reading of
// the spec: its parameters, signed text, RSA signatures, headers, codes and
// times (wire.go) are written from the spec and import nothing from
// gateways/hipopay (deps_test.go), so a misreading in the adapter fails a
// test instead of being shared. It checks the requests' MerchantNO,
// Version, Timestamp and Signature headers (the signature with the
// merchant's public key, over the parameters read raw or URL-encoded: the
// spec's "URL key pair format" allows both, see verifyRequest) and their
// fields; it answers JSON without a signature (the spec signs requests
// and notifications, not answers; sim.BadSignature adds one that cannot
// verify), and posts signed payment notifications to a configured URL.
//
// HipoPay orders are placed by a mini-program, never by the till: the
// spec's Place an Order API (POST /wechatpay/mini_program/payment,
// unsigned) places one, as does Seed for tests. What then happens to an
// order is decided by gateways/sim: the magic amounts (..91 paid on the
// 2nd query, ..92 and ..95 waiting for payment for ever, ..93 failed,
// anything else paid at once) and per-order scripts (Script) with faults:
// no answer, HTTP 5xx, malformed body, wrong signature, duplicated
// notification, notification before Seed returns.
//
// The chassis is the shared sim.Base (ledger, scripts, scripted answers
// with an independent truth, notification resends, Close). The Server is
// a gatewaytest.Truther: ScriptAnswer gives, on the next call of an
// operation, any answer the spec documents for it (answers.go, with its
// section: a payment order status on Check Payment Order, a refund status
// or FAIL with any Refund Code on Refund and Check Refund, each call's
// Error Codes, a PAID notification or none, the exchange rate's and the
// bill's refusals) or no answer within the client's timeout, while the
// ledger moves as the answer's Truth says, whatever the words (Settle):
// "FAIL/0099" to a refund that was executed, "USERPAYING" for an order
// the customer has just paid. A refund or check of a refund answers from
// the ledger's status: SUCCESS executed, PROCESSING pending, FAIL
// refused (without a result code: the Check Refund table lists none).
//
// The platform's rules it enforces: signatures and the Timestamp's age,
// the merchant number, Version 1.0 (3.0 for the bill), the parameters each
// API takes, refunds only of paid orders and never above the original in
// total, a repeated out_refund_id answered with the first refund; the
// bill lists executed refunds only.
package hipopaysim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/sim"
)

// DefaultMerchantNO is the one merchant a simulator knows unless told.
const DefaultMerchantNO = "HP000000000001"

// Options configure a Server.
type Options struct {
	// MerchantKey verifies requests (required).
	MerchantKey *rsa.PublicKey
	// PlatformKey signs answers and notifications (required).
	PlatformKey *rsa.PrivateKey
	// MerchantNO is the merchant the simulator knows. Default DefaultMerchantNO.
	MerchantNO string
	// LedgerPath persists the ledger; empty keeps it in memory.
	LedgerPath string
	// NotifyURL receives payment notifications; empty sends none.
	NotifyURL string
	// HTTPClient posts notifications; default a client with a 5 s timeout.
	HTTPClient *http.Client
	// MaxClockSkew is how old (or early) a request's Timestamp may be.
	// Default 10 minutes.
	MaxClockSkew time.Duration
	// Hold bounds how long a NoAnswer fault holds a request (default
	// sim.DefaultHold).
	Hold time.Duration
	// NotifyAttempts is how often a notification is posted until the
	// receiver answers "success" (the platform tries 11 times over about
	// 50 minutes; the simulator compresses that). Default 3, 200 ms apart
	// and growing.
	NotifyAttempts int
	// Logger; default discards.
	Logger *slog.Logger
}

// Server is the simulated platform, an http.Handler for every path in
// scope (matched by suffix, so the endpoint may carry a prefix). The
// chassis (ledger, scripts, scripted answers with their truth,
// notification resends, acknowledgements, Close) is the embedded
// sim.Base; the Server keeps HipoPay's own reading of the spec.
type Server struct {
	*sim.Base
	opts Options
	log  *slog.Logger
	mu   sync.Mutex
	now  func() time.Time
}

// New builds a Server.
func New(o Options) (*Server, error) {
	if o.MerchantKey == nil || o.PlatformKey == nil {
		return nil, errors.New("hipopaysim: MerchantKey and PlatformKey are required")
	}
	if o.MerchantNO == "" {
		o.MerchantNO = DefaultMerchantNO
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if o.MaxClockSkew == 0 {
		o.MaxClockSkew = 10 * time.Minute
	}
	if o.NotifyAttempts == 0 {
		o.NotifyAttempts = 3
	}
	// The platform's schedule (1 s, 2 s, 4 s ... 1800 s) compressed: the
	// k-th resend waits k × 200 ms.
	schedule := make([]time.Duration, o.NotifyAttempts)
	for k := range schedule {
		schedule[k] = time.Duration(k) * 200 * time.Millisecond
	}
	b, err := sim.NewBase(sim.BaseOptions{Name: "hipopay", LedgerPath: o.LedgerPath, NotifySchedule: schedule, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("hipopaysim: %w", err)
	}
	return &Server{Base: b, opts: o, log: b.Log(), now: time.Now}, nil
}

// SetClock replaces the simulator's clock (and its ledger's), for tests.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
	s.Base.SetClock(now)
}

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// SeedOrder is an order as a mini-program would place it.
type SeedOrder struct {
	OutTradeNo string
	Amount     pos.Money
	// Behaviour scripts the order; the zero value follows the magic amount.
	Behaviour sim.Behaviour
	// Created leaves the order INIT (the customer has not reached the
	// payment page) until its first query, which applies the scenario.
	// Otherwise the scenario applies at once: paid, waiting or failed.
	Created bool
}

// Seed places an order, as the customer's mini-program does, and returns
// the ledger's view; its TransactionID is the payment_no. An order paid at
// once is notified (before Seed returns with sim.NotifyBeforeResponse,
// twice with sim.NotifyDuplicate).
func (s *Server) Seed(so SeedOrder) (sim.Order, error) {
	if so.OutTradeNo == "" || !so.Amount.Currency.Valid() || so.Amount.Minor <= 0 {
		return sim.Order{}, fmt.Errorf("hipopaysim: seed needs an out_trade_id and a positive amount")
	}
	b := so.Behaviour
	// The order's own script, even an empty one, so the magic amounts'
	// submit faults (..94, ..95: no answer) never apply: there is no submit.
	s.Script().SetOrder(so.OutTradeNo, b)
	o := sim.Order{OutTradeNo: so.OutTradeNo, Amount: so.Amount.Minor, Currency: string(so.Amount.Currency),
		Wallet: string(pos.WeChatPay), Method: "mini_program", NotifyURL: s.opts.NotifyURL}
	if so.Created {
		o.Method = "qr" // the ledger's "created, not yet paying" start
	}
	b.Fill(&o)
	got, err := s.Ledger().NewOrder(o)
	if err != nil {
		return got, err
	}
	if got.State == sim.Success {
		s.paid(context.Background(), got, b.FaultFor(sim.OpSubmit))
	}
	return got, nil
}

// paid notifies about an order that has just been paid.
func (s *Server) paid(ctx context.Context, o sim.Order, f sim.Fault) {
	switch f {
	case sim.NotifyBeforeResponse:
		s.notifyNow(ctx, o)
	case sim.NotifyDuplicate:
		s.notifyAsync(o)
		s.notifyAsync(o)
	default:
		s.notifyAsync(o)
	}
}

// exchange is one request being answered.
type exchange struct {
	r      *http.Request
	params params
	// answer is the JSON object to send, or text when a report.
	answer map[string]any
	text   []byte
	fault  sim.Fault
	// notify is an order paid by this request.
	notify *sim.Order
}

func (x *exchange) ok(resp map[string]any) {
	x.answer = map[string]any{"is_success": true, "response": resp}
}

func (x *exchange) refuse(code, msg string) {
	x.answer = map[string]any{"is_success": false, "error": code, "error_message": msg}
}

// ServeHTTP handles one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, PathPlaceOrder) {
		s.placeOrder(w, r) // the mini-program's call: unsigned
		return
	}
	x := &exchange{r: r}
	route := s.route(r)
	if route == nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if err := s.admit(x, route.version); err != nil {
		s.log.Info("hipopaysimRefused", "path", r.URL.Path, "err", err)
		x.refuse(errIllegalSecurity, err.Error())
	} else if err := route.check(x.params); err != nil {
		x.refuse(route.paramError, err.Error())
	} else {
		route.serve(s, x)
	}
	if x.notify != nil && x.fault == sim.NotifyBeforeResponse {
		s.notifyNow(r.Context(), *x.notify)
	}
	if x.fault.Transport() {
		s.afterAnswer(x)
		sim.ServeFault(w, r, x.fault, s.opts.Hold)
		return
	}
	// The spec signs requests and notifications, not answers: answers go
	// out unsigned. sim.BadSignature puts a Signature header on that
	// cannot verify (a client must check one that is there).
	var body []byte
	if x.answer == nil {
		body = x.text
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	} else {
		b, err := json.Marshal(x.answer)
		if err != nil {
			http.Error(w, "encoding failed", http.StatusInternalServerError)
			return
		}
		body = b
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	}
	if x.fault == sim.BadSignature {
		ts := timestamp(s.clock())
		sig, err := rsaSign(wrongKey(), string(body)+","+ts)
		if err != nil {
			http.Error(w, "signing failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set(hTimestamp, ts)
		w.Header().Set(hSignature, sig)
	}
	_, _ = w.Write(body)
	s.afterAnswer(x)
}

func (s *Server) afterAnswer(x *exchange) {
	if x.notify == nil || x.fault == sim.NotifyBeforeResponse {
		return
	}
	n := 1
	if x.fault == sim.NotifyDuplicate {
		n = 2
	}
	for range n {
		s.notifyAsync(*x.notify)
	}
}

// admit checks the headers and the signature, and reads the parameters.
func (s *Server) admit(x *exchange, version string) error {
	r := x.r
	var v url.Values
	if r.Method == http.MethodGet {
		v = r.URL.Query()
	} else {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			return fmt.Errorf("content type %q is not a form", ct)
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			return err
		}
		if v, err = url.ParseQuery(string(b)); err != nil {
			return fmt.Errorf("form: %w", err)
		}
	}
	p := params{}
	for k, vs := range v {
		if len(vs) != 1 {
			return fmt.Errorf("parameter %s repeated", k)
		}
		p[k] = vs[0]
	}
	x.params = p
	if m := r.Header.Get(hMerchantNO); m != s.opts.MerchantNO {
		return fmt.Errorf("unknown merchant %q", m)
	}
	if got := r.Header.Get(hVersion); got != version {
		return fmt.Errorf("Version %q, want %s", got, version)
	}
	ts := r.Header.Get(hTimestamp)
	t, err := parseTimestamp(ts)
	if err != nil {
		return err
	}
	if d := s.clock().Sub(t); d > s.opts.MaxClockSkew || d < -s.opts.MaxClockSkew {
		return fmt.Errorf("Timestamp %s too far from now", ts)
	}
	if err := verifyRequest(s.opts.MerchantKey, p, ts, r.Header.Get(hSignature)); err != nil {
		return err
	}
	return nil
}

// route is one API: its method and path, Version, parameter rules and
// handler.
type route struct {
	method, path string
	version      string
	paramError   string
	check        func(params) error
	serve        func(*Server, *exchange)
}

var routes = []route{
	{http.MethodGet, pathForex, version, errCurrencyNotSupported,
		fields(nil, "currency"), (*Server).forex},
	{http.MethodGet, pathBill, billVersion, "PARAM_ERROR",
		fields(nil, "merchant_no", "start_date", "end_date"), (*Server).bill},
	{http.MethodPost, pathRefund, version, "PARAM_ERROR",
		fields([]string{"refund_amount"}, "payment_no", "out_refund_id"), (*Server).refund},
	{http.MethodGet, pathRefund, version, "PARAM_ERROR",
		oneOf("refund_no", "out_refund_id"), (*Server).queryRefund},
	{http.MethodGet, pathPayment, version, "PARAM_ERROR",
		oneOf("payment_no", "out_trade_id"), (*Server).query},
}

func (s *Server) route(r *http.Request) *route {
	for i := range routes {
		if rt := &routes[i]; r.Method == rt.method && strings.HasSuffix(r.URL.Path, rt.path) {
			return rt
		}
	}
	return nil
}

// fields requires every name in required and admits those in optional.
func fields(optional []string, required ...string) func(params) error {
	return func(p params) error {
		for _, k := range required {
			if p[k] == "" {
				return fmt.Errorf("%s is required", k)
			}
		}
	next:
		for k := range p {
			for _, a := range append(required, optional...) {
				if k == a {
					continue next
				}
			}
			return fmt.Errorf("unknown parameter %s", k)
		}
		return nil
	}
}

// oneOf admits the names given, and requires at least one.
func oneOf(names ...string) func(params) error {
	return func(p params) error {
		n := 0
		for _, k := range names {
			if p[k] != "" {
				n++
			}
		}
		if n == 0 {
			return fmt.Errorf("%s cannot all be empty", strings.Join(names, " and "))
		}
		return fields(names)(p)
	}
}

// wireStatus is the payment order status of a ledger state.
func wireStatus(st sim.OrderState) string {
	switch st {
	case sim.NotPay:
		return "INIT"
	case sim.UserPaying:
		return "USERPAYING"
	case sim.Success, sim.Refunded:
		return "PAID"
	case sim.PayError:
		return "FAIL"
	case sim.Revoked, sim.Closed:
		return "EXPIRED"
	}
	return string(st)
}

func decimal(minor int64, cur string) string {
	return pos.Money{Minor: minor, Currency: pos.Currency(cur)}.Decimal()
}

// findOrder finds an order by out_trade_id or payment_no.
func (s *Server) findOrder(p params) (sim.Order, bool) {
	if no := p["out_trade_id"]; no != "" {
		o, ok := s.Ledger().Get(no)
		if !ok || o.Tombstone || p["payment_no"] != "" && p["payment_no"] != o.TransactionID {
			return sim.Order{}, false
		}
		return o, true
	}
	for _, o := range s.Ledger().Orders() {
		if o.TransactionID == p["payment_no"] && !o.Tombstone {
			return o, true
		}
	}
	return sim.Order{}, false
}

func (s *Server) query(x *exchange) {
	o, ok := s.findOrder(x.params)
	if !ok {
		x.refuse(errPaymentNotFound, "Order not found")
		return
	}
	x.fault = s.Script().TakeFault(o.OutTradeNo, o.Amount, sim.OpQuery)
	before := o.State
	if s.scripted(x, o.OutTradeNo, sim.OpQuery, sim.RefundRef{}, func(code string, now sim.Order) {
		d := s.describe(now)
		d["status"] = code
		x.ok(d)
	}) {
		if now, _ := s.Ledger().Get(o.OutTradeNo); before != sim.Success && now.State == sim.Success {
			x.notify = &now // paid whatever the answer said: the platform notifies
		}
		return
	}
	o, err := s.Ledger().Query(o.OutTradeNo)
	if err != nil {
		x.refuse("FREQUENCY_LIMITED", err.Error())
		return
	}
	if before != sim.Success && o.State == sim.Success {
		x.notify = &o
	}
	x.ok(s.describe(o))
}

// describe is the check-order answer's response object for an order.
func (s *Server) describe(o sim.Order) map[string]any {
	d := map[string]any{
		"amount":        decimal(o.Amount, o.Currency),
		"currency":      o.Currency,
		"exchange_rate": rates[o.Currency],
		"out_trade_id":  o.OutTradeNo,
		"payment_no":    o.TransactionID,
		"status":        wireStatus(o.State),
		"product_info":  "posagent simulator order",
		"trade_time":    o.CreatedAt.In(zone).Format(timeLayout),
		"trade_type":    "MINIPROGRAM",
	}
	if !o.PaidAt.IsZero() {
		d["finish_time"] = o.PaidAt.In(zone).Format(timeLayout)
	}
	return d
}

func (s *Server) refund(x *exchange) {
	p := x.params
	o, ok := s.findOrder(params{"payment_no": p["payment_no"]})
	resp := map[string]any{"payment_no": p["payment_no"], "out_refund_id": p["out_refund_id"]}
	fail := func(code, msg string) {
		resp["status"], resp["result_code"], resp["fail_message"] = "FAIL", code, msg
		resp["refund_no"] = "F" + p["out_refund_id"]
		resp["finish_time"] = s.clock().In(zone).Format(timeLayout)
		x.answer = map[string]any{"is_success": true, "response": resp, "return_message": "OK"}
	}
	if !ok {
		resp["refund_amount"] = p["refund_amount"]
		fail("0002", "payment "+p["payment_no"]+" Not Found.")
		return
	}
	x.fault = s.Script().TakeFault(o.OutTradeNo, o.Amount, sim.OpRefund)
	amount := o.Amount
	if a := p["refund_amount"]; a != "" {
		m, err := pos.ParseMoney(a, o.Currency)
		if err != nil {
			if strings.Trim(a, "0.") == "" && strings.Contains(a, "0") {
				resp["refund_amount"] = a
				fail("0009", "refund amount must more than zero.")
				return
			}
			x.refuse(errRefundAmountInvalid, "Refund amount is invalid")
			return
		}
		amount = m.Minor
	}
	resp["refund_amount"] = decimal(amount, o.Currency)
	ref := sim.RefundRef{OutRefundNo: p["out_refund_id"], Amount: amount}
	if s.scripted(x, o.OutTradeNo, sim.OpRefund, ref, func(code string, now sim.Order) {
		if _, r, err := s.Ledger().FindRefund(o.OutTradeNo, ref.OutRefundNo); err == nil {
			s.describeRefund(resp, now, r)
		} else {
			resp["refund_no"] = "F" + ref.OutRefundNo
		}
		refundWords(resp, code)
		x.answer = map[string]any{"is_success": true, "response": resp, "return_message": "OK"}
	}) {
		return
	}
	if _, r, err := s.Ledger().FindRefund(o.OutTradeNo, p["out_refund_id"]); err == nil {
		// A repeated out_refund_id is answered with the first refund.
		s.describeRefund(resp, o, r)
		x.answer = map[string]any{"is_success": true, "response": resp, "return_message": "OK"}
		return
	}
	switch {
	case o.State != sim.Success && o.State != sim.Refunded:
		fail("0004", "Payment not paid yet.")
		return
	case o.RefundedAmount() >= o.Amount:
		fail("0006", "Payment full refunded.")
		return
	case o.RefundedAmount()+amount > o.Amount:
		fail("0008", "Payment refundable not enough.")
		return
	}
	_, r, err := s.Ledger().Refund(o.OutTradeNo, p["out_refund_id"], amount)
	if err != nil {
		fail("0099", "SYSYTEM_ERROR")
		return
	}
	s.describeRefund(resp, o, r)
	x.answer = map[string]any{"is_success": true, "response": resp, "return_message": "OK"}
}

func (s *Server) describeRefund(resp map[string]any, o sim.Order, r sim.Refund) {
	resp["refund_no"] = r.RefundID
	resp["out_refund_id"] = r.OutRefundNo
	resp["payment_no"] = o.TransactionID
	resp["refund_amount"] = decimal(r.Amount, o.Currency)
	at := r.At
	if at.IsZero() {
		at = s.clock()
	}
	// finish_time: "Refund completion time (refund successful)/Refund form
	// creation time (refund unsuccessful)".
	resp["finish_time"] = at.In(zone).Format(timeLayout)
	switch r.Status {
	case sim.RefundPending:
		resp["status"], resp["result_code"] = "PROCESSING", "0000"
	case sim.RefundRefused:
		// The Check Refund table has no result code: FAIL says it all.
		resp["status"], resp["fail_message"] = "FAIL", "Refund failed"
		delete(resp, "result_code")
	default:
		resp["status"], resp["result_code"] = "SUCCESS", "0000"
	}
}

func (s *Server) queryRefund(x *exchange) {
	no := x.params["out_refund_id"]
	if no == "" {
		no = x.params["refund_no"]
	}
	o, r, err := s.Ledger().FindRefundByNo(no)
	if err != nil || x.params["refund_no"] != "" && x.params["refund_no"] != r.RefundID ||
		x.params["out_refund_id"] != "" && x.params["out_refund_id"] != r.OutRefundNo {
		x.refuse(errRefundNotFound, "Refund order not found")
		return
	}
	x.fault = s.Script().TakeFault(o.OutTradeNo, o.Amount, sim.OpQueryRefund)
	resp := map[string]any{}
	ref := sim.RefundRef{OutRefundNo: r.OutRefundNo}
	if s.scripted(x, o.OutTradeNo, sim.OpQueryRefund, ref, func(code string, now sim.Order) {
		_, r, _ = s.Ledger().FindRefund(o.OutTradeNo, ref.OutRefundNo)
		s.describeRefund(resp, now, r)
		refundWords(resp, code)
		x.answer = map[string]any{"is_success": true, "response": resp, "return_message": "OK"}
	}) {
		return
	}
	o, r, _ = s.Ledger().FindRefund(o.OutTradeNo, ref.OutRefundNo) // as the truth moved it
	s.describeRefund(resp, o, r)
	x.answer = map[string]any{"is_success": true, "response": resp, "return_message": "OK"}
}

// rates are the simulator's reference rates, units per CNY.
var rates = map[string]string{
	"CNY": "1", "HKD": "1.0876", "USD": "0.1490046489450470854690666349", "GBP": "0.1098",
	"EUR": "0.1287", "JPY": "21.05", "KRW": "189.7", "AUD": "0.2197", "CAD": "0.2020", "NZD": "0.2390", "THB": "4.913",
}

func (s *Server) forex(x *exchange) {
	c := x.params["currency"]
	if s.scripted(x, c, OpForex, sim.RefundRef{}, func(string, sim.Order) {}) {
		return
	}
	r, ok := rates[c]
	if !ok {
		x.refuse(errCurrencyNotSupported, "This currency is not supported")
		return
	}
	x.ok(map[string]any{"currency": c, "forex_rate": r})
}

// Notification builds the notification the platform posts for an order:
// a signed form. With sim.BadSignature it is signed with a key that is not
// the platform's.
func (s *Server) Notification(outTradeNo string, f sim.Fault) (http.Header, []byte, error) {
	o, ok := s.Ledger().Get(outTradeNo)
	if !ok {
		return nil, nil, sim.ErrNotFound
	}
	return s.notification(o, f)
}

func (s *Server) notification(o sim.Order, f sim.Fault) (http.Header, []byte, error) {
	amount := decimal(o.Amount, o.Currency)
	p := params{
		"status":          wireStatus(o.State),
		"trade_type":      "MINIPROGRAM",
		"exchange_rate":   rates[o.Currency],
		"payment_no":      o.TransactionID,
		"currency":        o.Currency,
		"settle_currency": o.Currency,
		"amount":          amount,
		"trade_time":      o.CreatedAt.In(zone).Format(timeLayout),
		"finish_time":     o.PaidAt.In(zone).Format(timeLayout),
		"pay_currency":    o.Currency,
		"pay_amount":      amount,
		"out_trade_id":    o.OutTradeNo,
	}
	key := s.opts.PlatformKey
	if f == sim.BadSignature {
		key = wrongKey()
	}
	ts := timestamp(s.clock())
	sig, err := rsaSign(key, signText(p, ts, false))
	if err != nil {
		return nil, nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	h.Set(hTimestamp, ts)
	h.Set(hSignature, sig)
	return h, []byte(p.encode()), nil
}

// deliver makes one delivery attempt of an order's notification and
// reports whether the receiver answered "success".
func (s *Server) deliver(o sim.Order) func(ctx context.Context) bool {
	return func(ctx context.Context) bool {
		h, body, err := s.notification(o, sim.FaultNone)
		if err != nil {
			return false
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.NotifyURL, strings.NewReader(string(body)))
		if err != nil {
			return false
		}
		req.Header = h
		resp, err := s.opts.HTTPClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		ack, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return resp.StatusCode/100 == 2 && strings.TrimSpace(string(ack)) == "success"
	}
}

// notifies reports whether the platform sends this order's notification:
// there is somewhere to send it, and no scripted answer on OpNotify says
// it is lost (sim.CodeNoAnswer).
func (s *Server) notifies(o sim.Order) bool {
	if s.opts.NotifyURL == "" {
		return false
	}
	if a, ok := s.TakeAnswer(o.OutTradeNo, sim.OpNotify); ok && a.Code == sim.CodeNoAnswer {
		return false
	}
	return true
}

// notifyNow posts the notification and waits for the acknowledgement.
func (s *Server) notifyNow(ctx context.Context, o sim.Order) {
	if !s.notifies(o) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	s.NotifyNow(ctx, o.OutTradeNo, s.deliver(o))
}

// notifyAsync posts the notification in the background, resending along
// the schedule until the receiver answers "success" (Base.Notify).
func (s *Server) notifyAsync(o sim.Order) {
	if s.notifies(o) {
		s.Notify(o.OutTradeNo, s.deliver(o))
	}
}

var (
	wrongOnce sync.Once
	wrong     *rsa.PrivateKey
)

// wrongKey is a key that is not the platform's, for sim.BadSignature.
func wrongKey() *rsa.PrivateKey {
	wrongOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, keyBits)
		if err != nil {
			panic(fmt.Sprintf("hipopaysim: %v", err))
		}
		wrong = k
	})
	return wrong
}
