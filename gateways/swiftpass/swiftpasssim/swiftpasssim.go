// Package swiftpasssim simulates the Swiftpass QR payment platform
// (gateways/swiftpass) over real HTTP, for tests and `posagent demo
// --gateway swiftpass`. It speaks the same flat XML: it verifies request
// signatures (MD5, SHA256 or RSA_1_256, whichever it is configured for)
// and the spec's field tables, signs its answers and notifications, keeps
// orders in a gateways/sim Ledger (in memory, or a JSON file that survives
// restarts) and posts payment notifications.
//
// What happens to an order is decided by gateways/sim. A QR order is
// created NOTPAY; its queries advance it: ..00 (any ordinary amount) paid
// on the first query, ..91 on the second, ..92 never (the till closes it
// at its QR timeout), ..93 declined (PAYERROR), ..94 the create gets no
// answer but the order is paid, ..95 no answer and never paid. Per-order
// scripts (Script) add faults: no answer, HTTP 5xx, malformed body, wrong
// signature, duplicated notification, notification before the response
// (the customer pays before the till sees the answer).
//
// The platform's rules it enforces: signatures and sign_type, required
// fields, lengths and formats, the merchant's mch_id and currency, no
// close sooner than CloseAfter after the order (the spec's 5 minutes
// unless set), close only of an unpaid order, refunds only of a paid one
// and summing to at most the original, one refund per out_refund_no.
//
// Answers it invents where the spec is silent (the adapter's reading in
// brackets):
//   - unparsable XML, bad signature, missing or malformed field, unknown
//     mch_id or service: status 400 with a §8.1 message, unsigned
//     [pos.Unknown];
//   - unknown order: result_code 1, err_code "Order not exists"
//     [pos.NotFound]; unknown refund: "Refund not exists";
//   - reused out_trade_no: "Order exists" [Unknown];
//   - close of a paid order: "ORDERPAID" [Failed]; too early:
//     "CLOSE_TOO_EARLY" [Failed, then the flows query and retry];
//     of a closed order: result_code 0 [Succeeded];
//   - refund of an unpaid order: "TRADE_STATUS_ERROR"; above what is
//     left: "REFUND_FEE_INVALID"; total_fee not the order's: "INVALID_FEE"
//     [all Failed];
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
	"github.com/posagent/posagent/gateways/swiftpass"
)

// The spec's worked-example merchant and key (§4.2.1), the defaults.
const (
	TestMchID = "7551000001"
	TestKey   = pos.Secret("9f72151b6592fab3e0c63a1ab3c0877b")
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
	// SignType is the merchant's algorithm; requests signed otherwise are
	// refused. Default MD5.
	SignType swiftpass.SignType
	// Key signs and verifies for MD5 and SHA256; default TestKey.
	Key pos.Secret
	// MerchantKey verifies requests and PlatformKey signs answers for
	// RSA_1_256 (both required then).
	MerchantKey *rsa.PublicKey
	PlatformKey *rsa.PrivateKey
	// Currency is the merchant's; default swiftpass.DefaultCurrency.
	Currency string
	// CloseAfter is the least age of an order a close is accepted at.
	// Zero means the spec's 5 minutes; negative, no limit.
	CloseAfter time.Duration
	// Rules are the ledger's timing rules (MinQueryInterval); the zero
	// value enforces none (the spec suggests 5 s but refuses nothing).
	Rules sim.Rules
	// LedgerPath keeps the orders in a JSON file so a restarted
	// simulator continues; empty keeps them in memory.
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

// ClientOptions returns adapter options that talk to a simulator built
// with o at endpoint: its merchant, sign_type and key, Simulated set, and
// timings as fast as o allows (poll every 500 ms, a 2 minute QR, close
// after o's CloseAfter: the simulator counts from its receipt of the
// create, the flows from its answer, so no margin is added here that a
// real endpoint would not get). For RSA_1_256 the caller
// sets the key files (KeyFiles.Client).
func ClientOptions(o Options, endpoint, notifyURL string) swiftpass.Options {
	o = o.withDefaults()
	co := swiftpass.Options{
		Endpoint:     endpoint,
		MchID:        o.MchID,
		SignType:     o.SignType,
		NotifyURL:    notifyURL,
		Currency:     o.Currency,
		PollInterval: max(500*time.Millisecond, o.Rules.MinQueryInterval),
		QRTimeout:    2 * time.Minute,
		CloseAfter:   o.CloseAfter,
		CallTimeout:  5 * time.Second,
		Simulated:    true,
	}
	if o.SignType != swiftpass.RSA {
		co.Key = o.Key
	}
	return co
}

func (o Options) withDefaults() Options {
	if o.MchID == "" {
		o.MchID = TestMchID
	}
	if o.SignType == "" {
		o.SignType = swiftpass.MD5
	}
	if o.Key == "" && o.SignType != swiftpass.RSA {
		o.Key = TestKey
	}
	if o.Currency == "" {
		o.Currency = swiftpass.DefaultCurrency
	}
	if o.CloseAfter == 0 {
		o.CloseAfter = swiftpass.SpecCloseAfter
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
// any path.
type Server struct {
	o      Options
	signer swiftpass.Signer // verifies requests, signs answers
	wrong  swiftpass.Signer // signs with a key that is not the platform's
	ledger *sim.Ledger
	script sim.Script
	log    *slog.Logger

	ctx    context.Context // cancelled by Close: stops notification resends
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	now   func() time.Time
	acked map[string]bool // notifications acknowledged, by out_trade_no
}

// New validates opts and builds a Server.
func New(opts Options) (*Server, error) {
	o := opts.withDefaults()
	s := &Server{o: o, log: o.Logger.With("simulator", swiftpass.Kind), now: time.Now, acked: map[string]bool{}}
	var err error
	switch o.SignType {
	case swiftpass.MD5, swiftpass.SHA256:
		if s.signer, err = swiftpass.NewKeySigner(o.SignType, o.Key.Reveal()); err != nil {
			return nil, fmt.Errorf("swiftpasssim: %w", err)
		}
		s.wrong, _ = swiftpass.NewKeySigner(o.SignType, o.Key.Reveal()+"-wrong")
	case swiftpass.RSA:
		if s.signer, err = swiftpass.NewRSASigner(o.PlatformKey, o.MerchantKey); err != nil {
			return nil, fmt.Errorf("swiftpasssim: %w", err)
		}
		k, err := rsa.GenerateKey(rand.Reader, swiftpass.RSAKeyBits)
		if err != nil {
			return nil, err
		}
		s.wrong, _ = swiftpass.NewRSASigner(k, o.MerchantKey)
	default:
		return nil, fmt.Errorf("swiftpasssim: unknown sign_type %q", o.SignType)
	}
	if o.Rules.ReverseAfter < 0 || o.Rules.MinQueryInterval < 0 {
		return nil, errors.New("swiftpasssim: negative timing rule")
	}
	if s.ledger, err = sim.OpenLedger(o.LedgerPath); err != nil {
		return nil, err
	}
	s.ledger.SetRules(o.Rules)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Ledger is the simulator's order book.
func (s *Server) Ledger() *sim.Ledger { return s.ledger }

// Script is the simulator's per-order script registry.
func (s *Server) Script() *sim.Script { return &s.script }

// SetClock replaces the simulator's clock (and its ledger's), for tests
// of the close-too-early rule.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
	s.ledger.SetClock(now)
}

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// Acked reports whether the notification of an order has been
// acknowledged with "success".
func (s *Server) Acked(outTradeNo string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked[outTradeNo]
}

// Close stops notification resends and waits for deliveries in flight.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// answer is one response under construction.
type answer struct {
	f     swiftpass.Fields
	fault sim.Fault
	// paid is an order this request has just paid: its notification goes
	// out after the answer.
	paid *sim.Order
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
	req, err := swiftpass.ParseXML(raw)
	if err != nil {
		s.protocolError(w, "400", "Parse xml error")
		return
	}
	if st := req["sign_type"]; st != "" && swiftpass.SignType(st) != s.signer.Type() || st == "" && s.signer.Type() != swiftpass.MD5 {
		s.protocolError(w, "400", "unsupported sign method")
		return
	}
	if err := s.signer.Verify(req); err != nil {
		s.protocolError(w, "400", "Signature error")
		return
	}
	if err := swiftpass.ValidateRequest(req); err != nil {
		s.protocolError(w, "400", "Parse params error: "+err.Error())
		return
	}
	if req["mch_id"] != s.o.MchID {
		s.protocolError(w, "400", "Verification failed: unknown mch_id")
		return
	}
	if cs := req["charset"]; cs != "" && !strings.EqualFold(cs, swiftpass.Charset) {
		s.protocolError(w, "400", "Parse xml error, please use UTF-8 encoded")
		return
	}
	a := &answer{f: swiftpass.Fields{
		"version":     swiftpass.Version,
		"charset":     swiftpass.Charset,
		"sign_type":   string(s.signer.Type()),
		"status":      "0",
		"mch_id":      s.o.MchID,
		"nonce_str":   nonce(),
		"result_code": "0",
	}}
	switch svc := req["service"]; svc {
	case swiftpass.ServiceWeChatQR:
		s.create(r.Context(), req, a, pos.WeChatPay)
	case swiftpass.ServiceAlipayQR:
		s.create(r.Context(), req, a, pos.Alipay)
	case swiftpass.ServiceUPIQR:
		s.create(r.Context(), req, a, pos.UnionPay)
	case swiftpass.ServiceQuery:
		s.query(req, a)
	case swiftpass.ServiceClose:
		s.close(req, a)
	case swiftpass.ServiceRefund:
		s.refund(req, a)
	case swiftpass.ServiceRefundQuery:
		s.refundQuery(req, a)
	}
	if a.fault.Transport() {
		s.log.Info("fault", "service", req["service"], "fault", string(a.fault))
		s.afterAnswer(a)
		sim.ServeFault(w, r, a.fault, s.o.Hold)
		return
	}
	signer := s.signer
	if a.fault == sim.BadSignature {
		signer = s.wrong
	}
	sig, err := signer.Sign(a.f)
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	a.f[swiftpass.SignField] = sig
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	_, _ = w.Write(a.f.Marshal())
	s.afterAnswer(a)
}

// protocolError is §3.2's "protocol error return": a status other than 0
// and a message, unsigned (§4: "the failed result will not be signed").
func (s *Server) protocolError(w http.ResponseWriter, status, msg string) {
	s.log.Info("protocolError", "status", status, "message", msg)
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	_, _ = w.Write(swiftpass.Fields{"status": status, "message": msg}.Marshal())
}

// afterAnswer sends the notification of an order this request paid.
func (s *Server) afterAnswer(a *answer) {
	if a.paid == nil || a.fault == sim.NotifyBeforeResponse {
		return
	}
	s.notifyPaid(*a.paid, a.fault)
}

var walletService = map[pos.Wallet]string{
	pos.WeChatPay: swiftpass.ServiceWeChatQR,
	pos.Alipay:    swiftpass.ServiceAlipayQR,
	pos.UnionPay:  swiftpass.ServiceUPIQR,
}

func (s *Server) create(ctx context.Context, req swiftpass.Fields, a *answer, w pos.Wallet) {
	no := req["out_trade_no"]
	amount, err := strconv.ParseInt(req["total_fee"], 10, 64)
	if err != nil || amount <= 0 || amount > pos.MaxMinor {
		a.refuse("INVALID_FEE", "Amount error")
		return
	}
	o := sim.Order{OutTradeNo: no, Amount: amount, Currency: s.o.Currency, Wallet: string(w), Method: "qr", NotifyURL: req["notify_url"]}
	s.script.Behaviour(no, amount).Fill(&o)
	created, err := s.ledger.NewOrder(o)
	if errors.Is(err, sim.ErrDuplicate) {
		a.refuse("Order exists", "Order already existed")
		return
	}
	if err != nil {
		s.log.Error("ledger", "err", err.Error())
		a.fault = sim.HTTP5xx
		return
	}
	s.log.Info("order", "outTradeNo", no, "amount", amount, "wallet", string(w), "scenario", string(created.Scenario))
	a.fault = s.script.TakeFault(no, amount, sim.OpSubmit)
	if a.fault == sim.NotifyBeforeResponse {
		// The customer scans and pays before the answer reaches the till.
		if paid, err := s.ledger.Query(no); err == nil && paid.State == sim.Success {
			s.deliverOnce(ctx, paid, s.notifyURL(paid))
		}
	}
	a.f["code_url"] = codeURL(w, created.TransactionID)
	a.f["code_img_url"] = "https://swiftpass-sim.invalid/qr/img?uuid=" + created.TransactionID
	a.f["uuid"] = created.TransactionID
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
func (s *Server) lookup(req swiftpass.Fields, a *answer) (sim.Order, bool) {
	if id := req["transaction_id"]; id != "" {
		for _, o := range s.ledger.Orders() {
			if o.TransactionID == id && !o.Tombstone {
				return o, true
			}
		}
	} else if o, ok := s.ledger.Get(req["out_trade_no"]); ok && !o.Tombstone {
		return o, true
	}
	a.refuse("Order not exists", "Order do not exist")
	return sim.Order{}, false
}

// describe reports an order as a query answer (§6.3.3).
func describe(a *answer, o sim.Order) {
	a.f["out_trade_no"] = o.OutTradeNo
	a.f["transaction_id"] = o.TransactionID
	a.f["trade_type"] = walletService[pos.Wallet(o.Wallet)]
	a.f["total_fee"] = strconv.FormatInt(o.Amount, 10)
	a.f["fee_type"] = o.Currency
	a.f["trade_state"] = string(o.State)
	switch o.State {
	case sim.Success, sim.Refunded:
		a.f["out_transaction_id"] = "4200" + o.TransactionID
		a.f["time_end"] = o.PaidAt.In(zone).Format(swiftpass.TimeLayout)
	case sim.PayError:
		msg := o.DeclineMsg
		if msg == "" {
			msg = "Payment declined: insufficient balance"
		}
		a.f["trade_state_desc"] = msg
	}
}

func (s *Server) query(req swiftpass.Fields, a *answer) {
	before, ok := s.lookup(req, a)
	if !ok {
		return
	}
	a.fault = s.script.TakeFault(before.OutTradeNo, before.Amount, sim.OpQuery)
	o, err := s.ledger.Query(before.OutTradeNo)
	if errors.Is(err, sim.ErrQueryTooSoon) {
		a.refuse("SYSTEMERROR", "Query too frequent, try again later")
		return
	}
	if err != nil {
		a.fault = sim.HTTP5xx
		return
	}
	describe(a, o)
	if before.State != sim.Success && o.State == sim.Success {
		a.paid = &o
	}
}

func (s *Server) close(req swiftpass.Fields, a *answer) {
	o, ok := s.lookup(req, a)
	if !ok {
		return
	}
	a.fault = s.script.TakeFault(o.OutTradeNo, o.Amount, sim.OpClose)
	a.f["out_trade_no"] = o.OutTradeNo
	switch o.State {
	case sim.Closed, sim.Revoked:
		return // closing twice is done already
	case sim.Success, sim.Refunded:
		a.refuse("ORDERPAID", "Order paid, cannot be closed")
		return
	}
	if age := s.clock().Sub(o.CreatedAt); age < s.o.CloseAfter {
		a.refuse("Order close fail", fmt.Sprintf("Failed to close order: it cannot be closed within %s of its creation", s.o.CloseAfter))
		return
	}
	if _, err := s.ledger.Close(o.OutTradeNo); err != nil {
		a.refuse("SYSTEMERROR", "System error")
	}
}

func (s *Server) refund(req swiftpass.Fields, a *answer) {
	o, ok := s.lookup(req, a)
	if !ok {
		return
	}
	a.fault = s.script.TakeFault(o.OutTradeNo, o.Amount, sim.OpRefund)
	a.f["out_trade_no"] = o.OutTradeNo
	a.f["out_refund_no"] = req["out_refund_no"]
	if req["total_fee"] != strconv.FormatInt(o.Amount, 10) {
		a.refuse("INVALID_FEE", "Amount error: total_fee is not the order's")
		return
	}
	if o.State != sim.Success && o.State != sim.Refunded {
		a.refuse("TRADE_STATUS_ERROR", "The transaction status is not allowed for refund")
		return
	}
	amount, _ := strconv.ParseInt(req["refund_fee"], 10, 64)
	_, r, err := s.ledger.Refund(o.OutTradeNo, req["out_refund_no"], amount)
	if err != nil {
		a.refuse("REFUND_FEE_INVALID", "Invalid refund amount")
		return
	}
	a.f["transaction_id"] = o.TransactionID
	a.f["trade_type"] = walletService[pos.Wallet(o.Wallet)]
	a.f["refund_id"] = r.RefundID
	a.f["refund_channel"] = "ORIGINAL"
	a.f["refund_fee"] = strconv.FormatInt(r.Amount, 10)
	a.f["fee_type"] = o.Currency
}

func (s *Server) refundQuery(req swiftpass.Fields, a *answer) {
	o, ok := s.lookup(req, a)
	if !ok {
		return
	}
	a.fault = s.script.TakeFault(o.OutTradeNo, o.Amount, sim.OpQueryRefund)
	refunds := o.Refunds
	if no, id := req["out_refund_no"], req["refund_id"]; no != "" || id != "" {
		refunds = nil
		for _, r := range o.Refunds {
			if id != "" && r.RefundID == id || id == "" && r.OutRefundNo == no {
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
		a.f["refund_status_"+n] = "SUCCESS"
		a.f["refund_time_"+n] = r.At.In(zone).Format(swiftpass.TimeLayout)
	}
}

func nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
