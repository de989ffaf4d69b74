// Package swiftpasssim simulates the Swiftpass QR payment platform
// (shared/specs/swiftpass-qr.txt) over real HTTP, for tests and `posagent
// demo --gateway swiftpass`. It is a second reading of the spec: its XML
// parsing, signing (MD5, HMAC-SHA256, RSA_1_256) and request tables are
// its own (wire.go), and it imports nothing from gateways/swiftpass, the
// adapter it tests (`go list -deps` shows it), so where the two readings
// of the spec differ the contract suite fails. Its signer reproduces the
// spec's worked examples (§4.2.1, §4.2.2) in its own tests.
//
// It embeds gateways/sim's Base: the ledger (the truth), Behaviour
// scripts, scripted answers, notification resends. A QR order is created
// NOTPAY; its queries advance it by the magic amounts: ..00 (any ordinary
// amount) paid on the first query, ..91 on the second, ..92 never (the
// till closes it), ..93 declined (PAYERROR, final), ..94 the create gets no
// answer but the order is paid, ..95 no answer and never paid.
//
// The platform's rules it enforces:
//   - signatures with the merchant's sign_type (MD5 when sign_type is
//     absent, §6.1.3's default), the request tables' required fields,
//     lengths and integers, the merchant's mch_id, UTF-8;
//   - no close within CloseAfter (the spec's 5 minutes unless set) of the
//     order's creation (§7 note 8), counted from its receipt of the create;
//   - no close of a UPI order (§6.6.1: "Close order only applicable for
//     Wechat Pay and Alipay, but not for UPI QR payment");
//   - a UPI order past its time_expire is closed and can no longer be paid
//     (§6.6.1: "if the payment of users is time out, the system will exit
//     and no longer accept the payment"), since it cannot be closed
//     otherwise; WeChat Pay and Alipay orders are left to the till's close;
//   - an order that answered PAYERROR stays payable until it is closed
//     (§6.6.1: close it "to avoid repeated payment"): a scripted
//     TruthPending or TruthDone after PAYERROR models the customer paying
//     again;
//   - close only of an unpaid order; refunds only of a paid one, summing to
//     at most the original, total_fee equal to the order's; one refund per
//     out_refund_no, and that number sent again is the same refund (§6.4.2:
//     "The recall function should be used with same refund number").
//
// Truther: Answers lists, per operation, every answer the spec documents
// for it, in its words ("trade_state=PAYERROR", "err_code=SYSTEMERROR",
// "status=400 Signature error", "refund_status=NOTSURE") with its section
// and the truths that may lie behind it. ScriptAnswer (from Base) makes
// the next call answer so while the ledger does what the truth says.
// Three answers carry their own follow-up: refund_status NOTSURE marks the
// refund so that the refund sent again with the same out_refund_no is
// executed; CHANGE keeps the refund held and answers CHANGE from then on;
// PAYERROR with TruthPending keeps answering PAYERROR while the order
// stays payable.
//
// Answers it invents where the spec is silent (the adapter's reading in
// brackets):
//   - unparsable XML, bad signature, missing or malformed field, unknown
//     mch_id or service: status 400 with a §8.1 message, unsigned
//     [pos.Unknown; a create: Failed];
//   - unknown order: result_code 1, err_code "Order not exists"
//     [pos.NotFound]; unknown refund: "Refund not exists";
//   - reused out_trade_no: "Order exists" [Unknown];
//   - close of a paid order: "ORDERPAID" [Failed]; too early: "Order close
//     fail" [Failed, then the flows query and retry]; of a UPI order:
//     "Order trade type error" [Failed]; of a closed order: result_code 0
//     [Succeeded];
//   - refund of an unpaid order: "TRADE_STATUS_ERROR"; above what is
//     left: "REFUND_FEE_INVALID"; total_fee not the order's: "INVALID_FEE"
//     [all Failed]; a refused refund sent again: "Refund status error"
//     [Unknown];
//   - query sooner than Rules.MinQueryInterval: "SYSTEMERROR" [Unknown].
package swiftpasssim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/sim"
)

// The spec's worked-example merchant and key (§4.2.1), the defaults.
const (
	TestMchID = "7551000001"
	TestKey   = pos.Secret("9f72151b6592fab3e0c63a1ab3c0877b")
)

// Spec values the simulator holds on its own.
const (
	// SpecCloseAfter: "the shortest invocation interval is 5 minutes"
	// between creating an order and closing it (§7 note 8).
	SpecCloseAfter = 5 * time.Minute
	// DefaultCurrency: §6.1.3's example merchant counts in HKD.
	DefaultCurrency = "HKD"
	// timeLayout is yyyyMMddHHmmss, GMT+8 (§6.1.3).
	timeLayout = "20060102150405"
	// rsaBits: "the length of the RSA key is required to be 2048" (§4.2.3).
	rsaBits = 2048
)

// SpecNotifySchedule is §5's resend schedule of a notification until the
// receiver answers "success".
var SpecNotifySchedule = []time.Duration{0, 15 * time.Second, 15 * time.Second, 30 * time.Second,
	180 * time.Second, 1800 * time.Second, 1800 * time.Second, 1800 * time.Second, 1800 * time.Second,
	3600 * time.Second}

// Options configure a Server. Zero values take the documented defaults.
type Options struct {
	// MchID is the one merchant accepted; default TestMchID.
	MchID string
	// SignType is the merchant's algorithm (MD5, SHA256 or RSA_1_256);
	// requests signed otherwise are refused. Default MD5.
	SignType string
	// Key signs and verifies for MD5 and SHA256; default TestKey.
	Key pos.Secret
	// MerchantKey verifies requests and PlatformKey signs answers for
	// RSA_1_256 (both required then).
	MerchantKey *rsa.PublicKey
	PlatformKey *rsa.PrivateKey
	// Currency is the merchant's; default DefaultCurrency.
	Currency string
	// CloseAfter is the least age of an order a close is accepted at.
	// Zero means the spec's 5 minutes; negative, no limit.
	CloseAfter time.Duration
	// Rules are the ledger's timing rules (MinQueryInterval); the zero
	// value enforces none (the spec suggests 5 s but refuses nothing).
	Rules sim.Rules
	// LedgerPath keeps the orders in a file so a restarted simulator
	// continues; empty keeps them in memory.
	LedgerPath string
	// NotifyURL, when set, receives every notification instead of the
	// order's notify_url.
	NotifyURL string
	// NotifySchedule is the wait before each delivery attempt; default
	// SpecNotifySchedule.
	NotifySchedule []time.Duration
	// HTTPClient posts notifications; default a client with a 5 s timeout
	// (the spec's deadline for the answer).
	HTTPClient *http.Client
	// Hold bounds how long a NoAnswer fault holds a request; default
	// sim.DefaultHold.
	Hold time.Duration
	// Logger; default discards.
	Logger *slog.Logger
}

// DemoOptions are options for demos and tests: the spec's example
// merchant and key, closes accepted 1 s after the order, notifications
// resent after 0, 1, 2 and 5 s.
func DemoOptions() Options {
	return Options{
		CloseAfter:     time.Second,
		NotifySchedule: []time.Duration{0, time.Second, 2 * time.Second, 5 * time.Second},
	}
}

// WithDefaults returns o with the documented defaults filled in: what a
// Server built from o uses (the merchant, sign type and key a client
// pairs with).
func (o Options) WithDefaults() Options {
	if o.MchID == "" {
		o.MchID = TestMchID
	}
	if o.SignType == "" {
		o.SignType = SignMD5
	}
	if o.Key == "" && o.SignType != SignRSA {
		o.Key = TestKey
	}
	if o.Currency == "" {
		o.Currency = DefaultCurrency
	}
	if o.CloseAfter == 0 {
		o.CloseAfter = SpecCloseAfter
	}
	if o.CloseAfter < 0 {
		o.CloseAfter = 0
	}
	if len(o.NotifySchedule) == 0 {
		o.NotifySchedule = SpecNotifySchedule
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Server is the simulated platform: an http.Handler for POSTs of XML at
// any path. It is safe for concurrent use.
type Server struct {
	*sim.Base
	o      Options
	signer signer // verifies requests, signs answers
	wrong  signer // signs with a key that is not the platform's

	mu  sync.Mutex
	now func() time.Time
	// payError: orders that answered PAYERROR and are still payable.
	payError map[string]bool
	// refundMark: refunds (order/out_refund_no) that answered NOTSURE
	// (executed when sent again) or CHANGE (held, offline).
	refundMark map[string]string
	// early counts closes refused as sooner than CloseAfter.
	early int
	// upiExpiry: when each UPI order's time_expire passes.
	upiExpiry map[string]time.Time
}

// EarlyCloses is how many closes were refused because they came sooner
// than CloseAfter after the order's creation: a till that times its close
// right makes none.
func (s *Server) EarlyCloses() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.early
}

// New validates opts and builds a Server.
func New(opts Options) (*Server, error) {
	o := opts.WithDefaults()
	s := &Server{o: o, now: time.Now, payError: map[string]bool{}, refundMark: map[string]string{}, upiExpiry: map[string]time.Time{}}
	switch o.SignType {
	case SignMD5, SignSHA256:
		s.signer = signer{typ: o.SignType, key: []byte(o.Key.Reveal())}
		s.wrong = signer{typ: o.SignType, key: []byte(o.Key.Reveal() + "-wrong")}
	case SignRSA:
		if o.PlatformKey == nil || o.MerchantKey == nil {
			return nil, errors.New("swiftpasssim: RSA_1_256 needs the merchant's public key and the platform's private key")
		}
		k, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return nil, err
		}
		s.signer = signer{typ: SignRSA, priv: o.PlatformKey, pub: o.MerchantKey}
		s.wrong = signer{typ: SignRSA, priv: k, pub: o.MerchantKey}
	default:
		return nil, fmt.Errorf("swiftpasssim: unknown sign_type %q", o.SignType)
	}
	b, err := sim.NewBase(sim.BaseOptions{Name: "swiftpass", LedgerPath: o.LedgerPath, Rules: o.Rules,
		NotifySchedule: o.NotifySchedule, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	s.Base = b
	return s, nil
}

// Options returns the options the server runs with, defaults filled in.
func (s *Server) Options() Options { return s.o }

// SetClock replaces the simulator's clock (and its ledger's), for tests
// of the close-too-early rule.
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

// answer is one response under construction.
type answer struct {
	f     Message
	fault sim.Fault
	// proto, when set, is answered as the unsigned protocol error
	// "status message" instead of f.
	protoStatus, protoMsg string
	// paid is an order this request has just paid: its notification goes
	// out after the answer.
	paid *sim.Order
	// noAnswer: hold the request and drop it (a scripted no answer).
	noAnswer bool
}

func (a *answer) refuse(code, msg string) {
	a.f["result_code"], a.f["err_code"], a.f["err_msg"] = "1", code, msg
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.protocolError(w, "400", "Require POST method")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return
	}
	req, err := parse(raw)
	if err != nil {
		s.protocolError(w, "400", "Parse xml error")
		return
	}
	st := req["sign_type"]
	if st == "" {
		st = SignMD5 // §6.1.3: "Default value: MD5"
	}
	if st != s.signer.typ {
		s.protocolError(w, "400", "unsupported sign method")
		return
	}
	if !s.signer.verify(req) {
		s.protocolError(w, "400", "Signature error")
		return
	}
	if err := check(req); err != nil {
		s.protocolError(w, "400", err.Error())
		return
	}
	if req["mch_id"] != s.o.MchID {
		s.protocolError(w, "400", "Verification failed")
		return
	}
	if cs := req["charset"]; cs != "" && !strings.EqualFold(cs, "UTF-8") {
		s.protocolError(w, "400", "Parse xml error, please use UTF-8 encoded")
		return
	}
	a := &answer{f: Message{
		"version":     "2.0",
		"charset":     "UTF-8",
		"sign_type":   s.signer.typ,
		"status":      "0",
		"mch_id":      s.o.MchID,
		"nonce_str":   nonce(),
		"result_code": "0",
	}}
	switch svc := req["service"]; svc {
	case svcWeChat:
		s.create(r.Context(), req, a, pos.WeChatPay)
	case svcAlipay:
		s.create(r.Context(), req, a, pos.Alipay)
	case svcUPI:
		s.create(r.Context(), req, a, pos.UnionPay)
	case svcQuery:
		s.query(req, a)
	case svcClose:
		s.close(req, a)
	case svcRefund:
		s.refund(req, a)
	case svcRefundQuery:
		s.refundQuery(req, a)
	}
	if a.noAnswer {
		s.afterAnswer(a)
		sim.ServeFault(w, r, sim.NoAnswer, s.o.Hold)
		return
	}
	if a.fault.Transport() {
		s.Log().Info("fault", "service", req["service"], "fault", string(a.fault))
		s.afterAnswer(a)
		sim.ServeFault(w, r, a.fault, s.o.Hold)
		return
	}
	if a.protoStatus != "" {
		s.protocolError(w, a.protoStatus, a.protoMsg)
		s.afterAnswer(a)
		return
	}
	sg := s.signer
	if a.fault == sim.BadSignature {
		sg = s.wrong
	}
	sig, err := sg.sign(a.f)
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	if a.fault != sim.MissingSignature {
		a.f["sign"] = sig
	}
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	_, _ = w.Write(a.f.marshal())
	s.afterAnswer(a)
}

// protocolError is §3.2's "protocol error return": a status other than 0
// and a message, unsigned (§4: "the failed result will not be signed").
func (s *Server) protocolError(w http.ResponseWriter, status, msg string) {
	s.Log().Info("protocolError", "status", status, "message", msg)
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	_, _ = w.Write(Message{"status": status, "message": msg}.marshal())
}

// afterAnswer sends the notification of an order this request paid.
func (s *Server) afterAnswer(a *answer) {
	if a.paid == nil || a.fault == sim.NotifyBeforeResponse {
		return
	}
	s.notifyPaid(*a.paid, a.fault)
}

var walletService = map[pos.Wallet]string{
	pos.WeChatPay: svcWeChat,
	pos.Alipay:    svcAlipay,
	pos.UnionPay:  svcUPI,
}

// scripted takes the answer scripted for this call, moves the truth as it
// says, and reports whether the scripted words replace the honest answer
// (they are then in a); an honest scripted answer falls through.
func (s *Server) scripted(op sim.Op, no string, ref sim.RefundRef, a *answer, words func(code string, o sim.Order)) bool {
	sc, ok := s.TakeAnswer(no, op)
	if !ok {
		return false
	}
	o, err := s.Settle(op, no, sc.Truth, ref)
	if err != nil && !errors.Is(err, sim.ErrSettled) && !errors.Is(err, sim.ErrNotFound) {
		s.Log().Warn("truth", "err", err.Error())
	}
	switch sc.Code {
	case sim.CodeHonest:
		return false
	case sim.CodeNoAnswer:
		a.noAnswer = true
		return true
	}
	if st, msg, ok := strings.Cut(sc.Code, " "); ok && strings.HasPrefix(st, "status=") {
		a.protoStatus, a.protoMsg = strings.TrimPrefix(st, "status="), msg
		return true
	}
	if ec, ok := strings.CutPrefix(sc.Code, "err_code="); ok {
		a.refuse(ec, errMsg[ec])
		a.f["out_trade_no"] = no
		return true
	}
	words(sc.Code, o)
	return true
}

// errMsg are §8's messages for the codes the simulator answers with.
var errMsg = map[string]string{
	"SYSTEMERROR": "System error", "Order exists": "Order already existed", "Order not exists": "Order do not exist",
	"INVALID_FEE": "Amount error", "ORDERPAID": "Order paid.", "ORDERCLOSED": "Order closed",
	"Order close fail": "Failed to close order", "REFUND_FEE_INVALID": "Invalid refund amount",
	"TRADE_STATUS_ERROR": "The corresponding transaction status is not allowed for current operation.",
	"Refund exists":      "Refund already existed", "Refund not exists": "Refund do not exist",
	"Internal error": "Third-party request error, timeout", "Order trade type error": "Cannot match payment type",
}

func (s *Server) create(ctx context.Context, req Message, a *answer, w pos.Wallet) {
	no := req["out_trade_no"]
	amount, err := strconv.ParseInt(req["total_fee"], 10, 64)
	if err != nil || amount <= 0 || amount > pos.MaxMinor {
		a.refuse("INVALID_FEE", "Amount error")
		return
	}
	o := sim.Order{OutTradeNo: no, Amount: amount, Currency: s.o.Currency, Wallet: string(w), Method: "qr", NotifyURL: req["notify_url"]}
	s.Script().Behaviour(no, amount).Fill(&o)
	created, err := s.Ledger().NewOrder(o)
	if errors.Is(err, sim.ErrDuplicate) {
		a.refuse("Order exists", "Order already existed")
		return
	}
	if err != nil {
		s.Log().Error("ledger", "err", err.Error())
		a.fault = sim.HTTP5xx
		return
	}
	s.Log().Info("order", "outTradeNo", no, "amount", amount, "wallet", string(w), "scenario", string(created.Scenario))
	if t, err := time.ParseInLocation(timeLayout, req["time_expire"], zone); err == nil && w == pos.UnionPay {
		s.mu.Lock()
		s.upiExpiry[no] = t
		s.mu.Unlock()
	}
	if s.scripted(sim.OpSubmit, no, sim.RefundRef{}, a, func(string, sim.Order) { s.codeURL(a, w, created) }) {
		return
	}
	a.fault = s.Script().TakeFault(no, amount, sim.OpSubmit)
	if a.fault == sim.NotifyBeforeResponse {
		// The customer scans and pays before the answer reaches the till.
		if paid, err := s.Ledger().Query(no); err == nil && paid.State == sim.Success {
			s.deliverNow(ctx, paid)
		}
	}
	s.codeURL(a, w, created)
}

func (s *Server) codeURL(a *answer, w pos.Wallet, o sim.Order) {
	a.f["code_url"] = codeURL(w, o.TransactionID)
	a.f["code_img_url"] = "https://swiftpass-sim.invalid/qr/img?uuid=" + o.TransactionID
	a.f["uuid"] = o.TransactionID
}

// codeURL is what the wallet app would open; the till only shows it.
func codeURL(w pos.Wallet, id string) string {
	switch w {
	case pos.WeChatPay:
		return "weixin://wxpay/bizpayurl?pr=sim" + id
	case pos.Alipay:
		return "https://qr.alipay.com/sim" + id
	}
	return "https://qr.95516.com/sim" + id
}

var zone = time.FixedZone("UTC+8", 8*60*60)

// lookup finds the order a request names by out_trade_no or, when only
// that is sent, transaction_id ("transaction_id shall prevail").
func (s *Server) lookup(req Message, a *answer) (sim.Order, bool) {
	if id := req["transaction_id"]; id != "" {
		for _, o := range s.Ledger().Orders() {
			if o.TransactionID == id && !o.Tombstone {
				return o, true
			}
		}
	} else if o, ok := s.Ledger().Get(req["out_trade_no"]); ok && !o.Tombstone {
		return o, true
	}
	a.refuse("Order not exists", "Order do not exist")
	return sim.Order{}, false
}

// describe reports an order as a query answer (§6.3.3), with state as the
// trade_state.
func (s *Server) describe(a *answer, o sim.Order, state string) {
	a.f["out_trade_no"] = o.OutTradeNo
	a.f["transaction_id"] = o.TransactionID
	a.f["trade_type"] = walletService[pos.Wallet(o.Wallet)]
	a.f["total_fee"] = strconv.FormatInt(o.Amount, 10)
	a.f["fee_type"] = o.Currency
	a.f["trade_state"] = state
	switch state {
	case "SUCCESS", "REFUND":
		a.f["out_transaction_id"] = "4200" + o.TransactionID
		paid := o.PaidAt
		if paid.IsZero() {
			paid = s.clock()
		}
		a.f["time_end"] = paid.In(zone).Format(timeLayout)
	case "PAYERROR":
		msg := o.DeclineMsg
		if msg == "" {
			msg = "Payment declined: insufficient balance"
		}
		a.f["trade_state_desc"] = msg
	}
}

// tradeState is the honest trade_state of an order.
func (s *Server) tradeState(o sim.Order) string {
	s.mu.Lock()
	pe := s.payError[o.OutTradeNo]
	s.mu.Unlock()
	if pe && (o.State == sim.NotPay || o.State == sim.UserPaying) {
		return "PAYERROR" // the last attempt failed; still payable
	}
	return string(o.State)
}

// expire closes a UPI order whose time_expire has passed unpaid: "if the
// payment of users is time out, the system will exit and no longer accept
// the payment" (§6.6.1), and a UPI order cannot be closed otherwise. A
// WeChat Pay or Alipay order is left to the till's close.
func (s *Server) expire(o sim.Order) sim.Order {
	s.mu.Lock()
	at, ok := s.upiExpiry[o.OutTradeNo]
	now := s.now()
	s.mu.Unlock()
	if !ok || now.Before(at) || o.Charged() || o.State == sim.Closed || o.State == sim.Revoked {
		return o
	}
	if c, err := s.Ledger().Close(o.OutTradeNo); err == nil {
		s.Log().Info("expired", "outTradeNo", o.OutTradeNo)
		return c
	}
	return o
}

func (s *Server) query(req Message, a *answer) {
	before, ok := s.lookup(req, a)
	if !ok {
		return
	}
	before = s.expire(before)
	no := before.OutTradeNo
	if s.scripted(sim.OpQuery, no, sim.RefundRef{}, a, func(code string, o sim.Order) {
		state := strings.TrimPrefix(code, "trade_state=")
		if state == "PAYERROR" && (o.State == sim.NotPay || o.State == sim.UserPaying) {
			s.mu.Lock()
			s.payError[no] = true
			s.mu.Unlock()
		}
		s.describe(a, o, state)
		if before.State != sim.Success && o.State == sim.Success {
			a.paid = &o
		}
	}) {
		return
	}
	a.fault = s.Script().TakeFault(no, before.Amount, sim.OpQuery)
	o, err := s.Ledger().Query(no)
	if errors.Is(err, sim.ErrQueryTooSoon) {
		a.refuse("SYSTEMERROR", "System error")
		return
	}
	if err != nil {
		a.fault = sim.HTTP5xx
		return
	}
	s.describe(a, o, s.tradeState(o))
	if before.State != sim.Success && o.State == sim.Success {
		a.paid = &o
	}
}

func (s *Server) close(req Message, a *answer) {
	o, ok := s.lookup(req, a)
	if !ok {
		return
	}
	if s.scripted(sim.OpClose, o.OutTradeNo, sim.RefundRef{}, a, func(string, sim.Order) {}) {
		return
	}
	a.fault = s.Script().TakeFault(o.OutTradeNo, o.Amount, sim.OpClose)
	switch {
	case o.State == sim.Closed || o.State == sim.Revoked:
		return // closing twice is done already
	case o.State == sim.Success || o.State == sim.Refunded:
		a.refuse("ORDERPAID", "Order paid.")
		return
	case o.Wallet == string(pos.UnionPay):
		a.refuse("Order trade type error", "Close order is not applicable to UPI QR payment")
		return
	}
	if age := s.clock().Sub(o.CreatedAt); age < s.o.CloseAfter {
		s.mu.Lock()
		s.early++
		s.mu.Unlock()
		a.refuse("Order close fail", fmt.Sprintf("Failed to close order: it cannot be closed within %s of its creation", s.o.CloseAfter))
		return
	}
	if _, err := s.Ledger().Close(o.OutTradeNo); err != nil {
		a.refuse("SYSTEMERROR", "System error")
		return
	}
	s.mu.Lock()
	delete(s.payError, o.OutTradeNo)
	s.mu.Unlock()
}

func refundKey(no, rno string) string { return no + "/" + rno }

func (s *Server) refund(req Message, a *answer) {
	o, ok := s.lookup(req, a)
	if !ok {
		return
	}
	no, rno := o.OutTradeNo, req["out_refund_no"]
	amount, _ := strconv.ParseInt(req["refund_fee"], 10, 64)
	if req["total_fee"] != strconv.FormatInt(o.Amount, 10) {
		a.refuse("INVALID_FEE", "Amount error: total_fee is not the order's")
		return
	}
	accepted := func(r sim.Refund) {
		a.f["out_trade_no"] = no
		a.f["transaction_id"] = o.TransactionID
		a.f["trade_type"] = walletService[pos.Wallet(o.Wallet)]
		a.f["out_refund_no"] = rno
		a.f["refund_id"] = r.RefundID
		a.f["refund_channel"] = "ORIGINAL"
		a.f["refund_fee"] = strconv.FormatInt(r.Amount, 10)
		a.f["fee_type"] = o.Currency
	}
	if s.scripted(sim.OpRefund, no, sim.RefundRef{OutRefundNo: rno, Amount: amount}, a, func(_ string, o sim.Order) {
		for _, r := range o.Refunds {
			if r.OutRefundNo == rno {
				accepted(r)
				return
			}
		}
		accepted(sim.Refund{RefundID: "50" + rno, Amount: amount})
	}) {
		return
	}
	a.fault = s.Script().TakeFault(no, o.Amount, sim.OpRefund)
	if _, r, err := s.Ledger().FindRefund(no, rno); err == nil {
		// The same out_refund_no again is the same refund (§6.4.2); one
		// the platform was not sure of is executed now (§6.5.2 NOTSURE).
		s.mu.Lock()
		mark := s.refundMark[refundKey(no, rno)]
		if mark == "NOTSURE" {
			delete(s.refundMark, refundKey(no, rno))
		}
		s.mu.Unlock()
		switch {
		case r.Status == sim.RefundRefused:
			a.refuse("Refund status error", "Refund status error")
			return
		case r.Status == sim.RefundPending && mark == "NOTSURE":
			_, r, _ = s.Ledger().ExecuteRefund(no, rno)
		}
		accepted(r)
		return
	}
	if o.State != sim.Success && o.State != sim.Refunded {
		a.refuse("TRADE_STATUS_ERROR", errMsg["TRADE_STATUS_ERROR"])
		return
	}
	_, r, err := s.Ledger().Refund(no, rno, amount)
	if err != nil {
		a.refuse("REFUND_FEE_INVALID", "Invalid refund amount")
		return
	}
	accepted(r)
}

// refundState is the honest refund_status_$n of a refund.
func (s *Server) refundState(no string, r sim.Refund) string {
	s.mu.Lock()
	mark := s.refundMark[refundKey(no, r.OutRefundNo)]
	s.mu.Unlock()
	switch {
	case r.Status == sim.RefundExecuted:
		return "SUCCESS"
	case r.Status == sim.RefundRefused:
		return "FAIL"
	case mark != "":
		return mark
	}
	return "PROCESSING"
}

func (s *Server) refundQuery(req Message, a *answer) {
	o, ok := s.lookup(req, a)
	if !ok {
		return
	}
	no, rno := o.OutTradeNo, req["out_refund_no"]
	list := func(o sim.Order, status map[string]string) {
		refunds := o.Refunds
		if id := req["refund_id"]; rno != "" || id != "" {
			refunds = nil
			for _, r := range o.Refunds {
				if id != "" && r.RefundID == id || id == "" && r.OutRefundNo == rno {
					refunds = append(refunds, r)
				}
			}
		}
		if len(refunds) == 0 {
			a.refuse("Refund not exists", "Refund do not exist")
			return
		}
		a.f["out_trade_no"] = o.OutTradeNo
		a.f["transaction_id"] = o.TransactionID
		a.f["fee_type"] = o.Currency
		a.f["refund_count"] = strconv.Itoa(len(refunds))
		for i, r := range refunds {
			n := strconv.Itoa(i)
			a.f["out_refund_no_"+n] = r.OutRefundNo
			a.f["refund_id_"+n] = r.RefundID
			a.f["refund_channel_"+n] = "ORIGINAL"
			a.f["refund_fee_"+n] = strconv.FormatInt(r.Amount, 10)
			st := status[r.OutRefundNo]
			if st == "" {
				st = s.refundState(o.OutTradeNo, r)
			}
			a.f["refund_status_"+n] = st
			a.f["refund_time_"+n] = r.At.In(zone).Format(timeLayout)
		}
	}
	if s.scripted(sim.OpQueryRefund, no, sim.RefundRef{OutRefundNo: rno}, a, func(code string, o sim.Order) {
		st := strings.TrimPrefix(code, "refund_status=")
		if st == "NOTSURE" || st == "CHANGE" {
			s.mu.Lock()
			s.refundMark[refundKey(no, rno)] = st
			s.mu.Unlock()
		}
		list(o, map[string]string{rno: st})
	}) {
		return
	}
	a.fault = s.Script().TakeFault(no, o.Amount, sim.OpQueryRefund)
	list(o, nil)
}

func nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
