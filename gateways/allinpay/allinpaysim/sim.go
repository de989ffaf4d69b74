// Package allinpaysim simulates the Allinpay OATS platform over real HTTP
// for tests and `posagent demo --gateway allinpay`. It speaks the wire
// protocol of gateways/allinpay: form-encoded requests verified with the
// merchant's public key and checked against the spec's field tables,
// answers signed with the platform's private key, and notifications posted
// to a configured URL.
//
// What happens to an order is decided by gateways/sim: the magic amounts
// (..91 paid on the 2nd query, ..92 paying until reversed, ..93 declined,
// ..94 no answer but paid, ..95 no answer and never paid) and per-order
// scripts (Script) with faults: no answer, HTTP 5xx, malformed body, wrong
// signature, duplicated notification, notification before the response.
// The ledger persists to a file when a path is given, so a demo restarted
// on the same state continues.
//
// The platform's rules it enforces: signatures, mandatory fields and
// lengths, the merchant's access code, number and currency, at least
// MinQueryInterval between queries of one order (the spec's 10 s unless
// set), void only of a paid order of the same day, close only of an unpaid
// one, refunds summing to at most the original.
package allinpaysim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
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
	"github.com/posagent/posagent/gateways/allinpay"
	"github.com/posagent/posagent/gateways/sim"
)

// Defaults for a demo merchant.
const (
	DefaultAccessCode = "20000000"
	DefaultMchNo      = "6666666600003"
	DefaultCurrency   = "HKD"
)

// Options configure a Server.
type Options struct {
	// MerchantKey verifies requests (required).
	MerchantKey *rsa.PublicKey
	// PlatformKey signs answers and notifications (required).
	PlatformKey *rsa.PrivateKey
	// AccessCode, MchNo and Currency are the one merchant the simulator
	// knows. Defaults: DefaultAccessCode, DefaultMchNo, DefaultCurrency.
	AccessCode, MchNo, Currency string
	// LedgerPath persists the ledger; empty keeps it in memory.
	LedgerPath string
	// NotifyURL receives payment notifications; empty sends none.
	NotifyURL string
	// HTTPClient posts notifications; default a client with a 5 s timeout.
	HTTPClient *http.Client
	// MinQueryInterval is the least time between two queries of one order;
	// a query sooner is refused with 9996 "The system is busy". Zero means
	// the spec's 10 s; negative, no limit (demos and tests).
	MinQueryInterval time.Duration
	// Hold bounds how long a NoAnswer fault holds a request (default
	// sim.DefaultHold).
	Hold time.Duration
	// WalletTimeout is how long a micropay waits for the customer's
	// confirmation before the wallet gives up and the order fails (9998).
	// Nothing in the spec cancels a micropay still waiting, so this is how
	// one that is never confirmed ends. Default 2 minutes; demos and tests
	// run shorter.
	WalletTimeout time.Duration
	// Logger; default discards.
	Logger *slog.Logger
}

// Server is the simulated platform; it is an http.Handler for both the
// transaction and the download URL (it dispatches on transType).
type Server struct {
	opts   Options
	ledger *sim.Ledger
	script sim.Script
	log    *slog.Logger
	now    func() time.Time
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
}

// New builds a Server.
func New(o Options) (*Server, error) {
	if o.MerchantKey == nil || o.PlatformKey == nil {
		return nil, errors.New("allinpaysim: MerchantKey and PlatformKey are required")
	}
	if o.AccessCode == "" {
		o.AccessCode = DefaultAccessCode
	}
	if o.MchNo == "" {
		o.MchNo = DefaultMchNo
	}
	if o.Currency == "" {
		o.Currency = DefaultCurrency
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.WalletTimeout <= 0 {
		o.WalletTimeout = 2 * time.Minute
	}
	l, err := sim.OpenLedger(o.LedgerPath)
	if err != nil {
		return nil, err
	}
	switch {
	case o.MinQueryInterval == 0:
		l.SetRules(sim.Rules{MinQueryInterval: allinpay.MinPollInterval})
	case o.MinQueryInterval > 0:
		l.SetRules(sim.Rules{MinQueryInterval: o.MinQueryInterval})
	}
	return &Server{opts: o, ledger: l, log: o.Logger, now: time.Now}, nil
}

// SetClock replaces the simulator's clock (and its ledger's), for tests
// of day boundaries: same-day void, next-day bill.
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

// Script is the per-order and per-amount scripting of outcomes.
func (s *Server) Script() *sim.Script { return &s.script }

// Ledger is the simulator's order book.
func (s *Server) Ledger() *sim.Ledger { return s.ledger }

// Close waits for notifications in flight and stops sending new ones.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
}

// answer is one response under construction.
type answer struct {
	f     allinpay.Fields
	fault sim.Fault
	// notify is the paid order to notify about once answered (or before,
	// for NotifyBeforeResponse).
	notify *sim.Order
}

func (a *answer) result(code, msg string) {
	a.f["resultCode"], a.f["resultMsg"] = code, msg
}

// ServeHTTP handles one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return
	}
	req, err := allinpay.ParseFields(body)
	if err != nil {
		http.Error(w, "bad request body", http.StatusBadRequest)
		return
	}
	a := &answer{f: allinpay.Fields{
		"requestNo":  req["requestNo"],
		"version":    allinpay.Version,
		"accessCode": s.opts.AccessCode,
		"transType":  req["transType"],
		"signType":   allinpay.SignType,
		"returnCode": "0000",
		"returnMsg":  "succeed",
	}}
	if req["transType"] != "DOWNLOAD_CHECK_BILL" {
		a.f["mchNo"] = s.opts.MchNo
	}
	if code, msg := s.admit(req); code != "" {
		a.f["returnCode"], a.f["returnMsg"] = code, msg
	} else {
		s.dispatch(req, a)
	}
	if a.notify != nil && a.fault == sim.NotifyBeforeResponse {
		s.notifyNow(r.Context(), *a.notify)
	}
	if a.fault.Transport() {
		s.afterAnswer(a)
		sim.ServeFault(w, r, a.fault, s.opts.Hold)
		return
	}
	key := s.opts.PlatformKey
	if a.fault == sim.BadSignature {
		key = wrongKey()
	}
	sig, err := allinpay.Sign(key, a.f)
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	a.f[allinpay.SignatureField] = sig
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	_, _ = io.WriteString(w, a.f.Encode())
	s.afterAnswer(a)
}

// afterAnswer sends the notification of an order paid by this request.
func (s *Server) afterAnswer(a *answer) {
	if a.notify == nil || a.fault == sim.NotifyBeforeResponse {
		return
	}
	n := 1
	if a.fault == sim.NotifyDuplicate {
		n = 2
	}
	for range n {
		s.notifyAsync(*a.notify)
	}
}

// admit checks what the platform checks before any business logic: the
// signature, the access organisation and merchant, the field rules.
// It returns a failing returnCode and message, or "".
func (s *Server) admit(req allinpay.Fields) (code, msg string) {
	if err := allinpay.Verify(s.opts.MerchantKey, req); err != nil {
		return "0012", "Failure in verifying signature"
	}
	if req["accessCode"] != s.opts.AccessCode {
		return "0045", "Access organization ID is wrong."
	}
	if req["version"] != allinpay.Version {
		return "0001", "The request parameters are illegal: version"
	}
	if err := allinpay.ValidateRequest(req); err != nil {
		return "0001", "The request parameters are illegal: " + err.Error()
	}
	if req["transType"] != "DOWNLOAD_CHECK_BILL" && req["mchNo"] != s.opts.MchNo {
		return "0010", "Merchant information doesn't exist."
	}
	if c := req["currency"]; c != "" && c != s.opts.Currency {
		return "0001", "The request parameters are illegal: currency " + c
	}
	return "", ""
}

func (s *Server) dispatch(req allinpay.Fields, a *answer) {
	tt := req["transType"]
	prefix, kind, _ := strings.Cut(tt, "_")
	switch {
	case tt == "TRANS_QUERY":
		s.query(req, a)
	case tt == "CLOSE_ORDER":
		s.close(req, a)
	case tt == "DOWNLOAD_CHECK_BILL":
		s.bill(req, a)
	case wallets[prefix] == "":
		a.f["returnCode"], a.f["returnMsg"] = "0018", "unauthorized transaction"
	case kind == "MICROPAY" && prefix != "PAYNOW", kind == "SCANCODE":
		s.pay(req, a, wallets[prefix], kind == "MICROPAY")
	case kind == "CANCEL":
		s.void(req, a)
	case kind == "RETURN":
		s.refund(req, a)
	default:
		a.f["returnCode"], a.f["returnMsg"] = "0018", "unauthorized transaction"
	}
}

var wallets = map[string]pos.Wallet{"WXPAY": pos.WeChatPay, "ALIPAY": pos.Alipay, "UNIONPAY": pos.UnionPay, "PAYNOW": pos.PayNow}

func (s *Server) pay(req allinpay.Fields, a *answer, w pos.Wallet, micropay bool) {
	no := req["outTransNo"]
	a.f["outTransNo"] = no
	amount, _ := strconv.ParseInt(req["transAmount"], 10, 64)
	if amount <= 0 {
		a.result("0027", "Transaction amount is illegal")
		return
	}
	o := sim.Order{OutTradeNo: no, Amount: amount, Currency: req["currency"], Wallet: string(w), Method: "qr"}
	if micropay {
		o.Method = "micropay"
		code, err := pos.ParseAuthCode(req["authCode"])
		if err != nil || code.Wallet() != w {
			a.result("0078", "Parameters of authorization code are wrong.")
			return
		}
		o.CodeMasked = code.Masked()
	}
	b := s.script.Behaviour(no, amount)
	b.Fill(&o)
	got, err := s.ledger.NewOrder(o)
	if errors.Is(err, sim.ErrDuplicate) {
		a.result("0022", "the order is recurrent")
		return
	}
	if err != nil {
		a.result("9996", "The system is busy")
		return
	}
	a.fault = s.script.TakeFault(no, amount, sim.OpSubmit)
	if !micropay && got.State == sim.NotPay {
		a.f["codeUrl"] = "https://qr.allinpay.invalid/" + strings.ToLower(string(w)) + "/" + got.TransactionID
	}
	s.describe(a, got, true)
	if got.State == sim.Success {
		a.notify = &got
	}
}

// describe reports an order's state as a payment or query answer.
func (s *Server) describe(a *answer, o sim.Order, withOrder bool) {
	a.f["transNo"] = o.TransactionID
	if withOrder {
		a.f["transAmount"] = strconv.FormatInt(o.Amount, 10)
		a.f["currency"] = o.Currency
	}
	switch o.State {
	case sim.Success, sim.Refunded:
		a.result("0000", "succeed")
		a.f["payTime"] = o.PaidAt.In(zone).Format("20060102150405")
		a.f["bankTradeNo"] = "4200" + o.TransactionID
	case sim.NotPay, sim.UserPaying:
		a.result("P000", "Transaction is processing")
	case sim.PayError:
		code, msg := o.DeclineCode, o.DeclineMsg
		if !declineCodes[code] {
			// A scripted decline in another acquirer's words: the spec's
			// own "Transaction fails".
			code, msg = "9998", "Transaction fails"
		}
		if msg == "" {
			msg = "Transaction fails"
		}
		a.result(code, msg)
	case sim.Revoked:
		a.result("0029", "original transaction has been voided.")
	case sim.Closed:
		if o.Method == "micropay" {
			// The wallet gave up waiting for the customer.
			a.result("9998", "Transaction fails")
		} else {
			a.result("0039", "Order has been closed.")
		}
	default:
		a.result("9999", "Unknown mistake, please contact the administrator.")
	}
}

var zone = time.FixedZone("UTC+8", 8*60*60)

// declineCodes are the spec's codes for a refused payment (§1.7.2).
var declineCodes = map[string]bool{"0008": true, "0019": true, "0023": true, "0076": true, "0077": true,
	"0078": true, "0079": true, "3003": true, "3004": true, "3009": true, "3010": true, "9998": true}

// walletGaveUp ends a micropay the customer never confirmed once
// WalletTimeout has passed: the wallet fails it.
func (s *Server) walletGaveUp(no string) {
	o, ok := s.ledger.Get(no)
	if ok && o.Method == "micropay" && o.State == sim.UserPaying && s.clock().Sub(o.CreatedAt) >= s.opts.WalletTimeout {
		_, _ = s.ledger.Close(no)
	}
}

func (s *Server) query(req allinpay.Fields, a *answer) {
	no := req["oriOutTransNo"]
	prev, ok := s.ledger.Get(no)
	if !ok || prev.Tombstone {
		if o, r, err := s.ledger.FindRefundByNo(no); err == nil {
			// A refund is a transaction of its own.
			a.f["transNo"] = r.RefundID
			a.f["transAmount"] = strconv.FormatInt(r.Amount, 10)
			a.f["currency"] = o.Currency
			a.result("0000", "succeed")
			return
		}
		a.result("0007", "Order doesn't exist")
		return
	}
	a.fault = s.script.TakeFault(no, prev.Amount, sim.OpQuery)
	s.walletGaveUp(no)
	o, err := s.ledger.Query(no)
	switch {
	case errors.Is(err, sim.ErrQueryTooSoon):
		a.result("9996", "The system is busy")
		return
	case err != nil:
		a.result("9996", "The system is busy")
		return
	}
	s.describe(a, o, true)
	if o.State == sim.Success && prev.State != sim.Success {
		a.notify = &o
	}
}

func (s *Server) void(req allinpay.Fields, a *answer) {
	no := req["oriOutTransNo"]
	a.f["outTransNo"] = req["outTransNo"]
	s.walletGaveUp(no)
	o, ok := s.ledger.Get(no)
	if !ok || o.Tombstone {
		a.result("0025", "original transaction doesn't exist.")
		return
	}
	a.fault = s.script.TakeFault(no, o.Amount, sim.OpReverse)
	switch {
	case o.State == sim.Revoked:
		a.result("0029", "original transaction has been voided.")
	case o.State == sim.Refunded:
		a.result("0031", "Original transaction has initiated voiding or refunding.")
	case o.State != sim.Success:
		a.result("0026", "The status of original transaction is abnormal")
	case !sameDay(o.CreatedAt, s.clock()):
		a.result("0032", "Original transaction doesn't support voiding.")
	default:
		if _, err := s.ledger.Reverse(no); err != nil {
			a.result("9996", "The system is busy")
			return
		}
		a.result("0000", "succeed")
		a.f["bankTradeNo"] = "4200" + o.TransactionID
	}
}

func (s *Server) close(req allinpay.Fields, a *answer) {
	no := req["oriOutTransNo"]
	a.f["outTransNo"] = req["outTransNo"]
	o, ok := s.ledger.Get(no)
	if !ok || o.Tombstone {
		a.result("0007", "Order doesn't exist")
		return
	}
	a.fault = s.script.TakeFault(no, o.Amount, sim.OpClose)
	if o.Method != "qr" || (o.Wallet != string(pos.WeChatPay) && o.Wallet != string(pos.Alipay)) {
		// §1.5.2.5: close is for WeChat Pay and Alipay QR orders only.
		a.result("0018", "unauthorized transaction")
		return
	}
	switch o.State {
	case sim.Closed:
		a.result("0039", "Order has been closed.")
	case sim.Revoked:
		a.result("0029", "original transaction has been voided.")
	case sim.Success, sim.Refunded:
		a.result("0038", "Order has been paid and is not allowed to close.")
	default:
		if _, err := s.ledger.Close(no); err != nil {
			a.result("9996", "The system is busy")
			return
		}
		a.result("0000", "succeed")
	}
}

func (s *Server) refund(req allinpay.Fields, a *answer) {
	no := req["oriOutTransNo"]
	a.f["outTransNo"] = req["outTransNo"]
	a.f["transAmount"] = req["transAmount"]
	o, ok := s.ledger.Get(no)
	if !ok || o.Tombstone {
		a.result("0025", "original transaction doesn't exist.")
		return
	}
	a.fault = s.script.TakeFault(no, o.Amount, sim.OpRefund)
	amount, _ := strconv.ParseInt(req["transAmount"], 10, 64)
	switch o.State {
	case sim.Success, sim.Refunded:
	case sim.Revoked:
		a.result("0029", "original transaction has been voided.")
		return
	default:
		a.result("0026", "The status of original transaction is abnormal")
		return
	}
	_, r, err := s.ledger.Refund(no, req["outTransNo"], amount)
	if err != nil {
		a.result("0027", "Transaction amount is illegal")
		return
	}
	a.f["transNo"] = r.RefundID
	a.f["transAmount"] = strconv.FormatInt(r.Amount, 10)
	a.result("0000", "succeed")
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.In(zone).Date()
	by, bm, bd := b.In(zone).Date()
	return ay == by && am == bm && ad == bd
}

// Notification builds the notification the platform posts for a paid
// order. With sim.BadSignature it is signed with a key that is not the
// platform's.
func (s *Server) Notification(outTradeNo string, f sim.Fault) (http.Header, []byte, error) {
	o, ok := s.ledger.Get(outTradeNo)
	if !ok {
		return nil, nil, sim.ErrNotFound
	}
	return s.notification(o, f)
}

func (s *Server) notification(o sim.Order, f sim.Fault) (http.Header, []byte, error) {
	tt := "WXPAY_SCANCODE"
	for p, w := range wallets {
		if string(w) == o.Wallet {
			tt = p + "_SCANCODE"
			if o.Method == "micropay" {
				tt = p + "_MICROPAY"
			}
		}
	}
	a := &answer{f: allinpay.Fields{
		"requestNo":  "N" + time.Now().In(zone).Format("20060102150405") + strconv.FormatInt(time.Now().UnixNano()%1e9, 10),
		"version":    allinpay.Version,
		"accessCode": s.opts.AccessCode,
		"transType":  tt,
		"signType":   allinpay.SignType,
		"mchNo":      s.opts.MchNo,
		"outTransNo": o.OutTradeNo,
	}}
	s.describe(a, o, true)
	key := s.opts.PlatformKey
	if f == sim.BadSignature {
		key = wrongKey()
	}
	sig, err := allinpay.Sign(key, a.f)
	if err != nil {
		return nil, nil, err
	}
	a.f[allinpay.SignatureField] = sig
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	return h, []byte(a.f.Encode()), nil
}

// notifyNow posts the notification and waits for the acknowledgement.
func (s *Server) notifyNow(ctx context.Context, o sim.Order) {
	if s.opts.NotifyURL == "" {
		return
	}
	h, body, err := s.notification(o, sim.FaultNone)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	ack, err := sim.PostNotification(ctx, s.opts.HTTPClient, s.opts.NotifyURL, h.Get("Content-Type"), body)
	s.log.Info("allinpaysimNotified", "outTransNo", o.OutTradeNo, "ack", string(ack), "err", err)
}

// notifyAsync posts the notification in the background, resending (three
// attempts) until the receiver answers SUCCESS, as the spec describes.
func (s *Server) notifyAsync(o sim.Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.NotifyURL == "" || s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		h, body, err := s.notification(o, sim.FaultNone)
		if err != nil {
			return
		}
		for attempt := range 3 {
			if attempt > 0 {
				time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ack, err := sim.PostNotification(ctx, s.opts.HTTPClient, s.opts.NotifyURL, h.Get("Content-Type"), body)
			cancel()
			s.log.Info("allinpaysimNotified", "outTransNo", o.OutTradeNo, "attempt", attempt+1, "ack", string(ack), "err", err)
			if err == nil && strings.TrimSpace(string(ack)) == "SUCCESS" {
				return
			}
		}
	}()
}

var (
	wrongOnce sync.Once
	wrong     *rsa.PrivateKey
)

// wrongKey is a key that is not the platform's, for BadSignature.
func wrongKey() *rsa.PrivateKey {
	wrongOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, allinpay.KeyBits)
		if err != nil {
			panic(fmt.Sprintf("allinpaysim: %v", err))
		}
		wrong = k
	})
	return wrong
}
