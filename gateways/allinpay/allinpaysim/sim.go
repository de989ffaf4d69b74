// Package allinpaysim simulates the Allinpay OATS platform over real HTTP
// for tests and `posagent demo --gateway allinpay`. It is a second reading
// of shared/specs/allinpay-oats-qr.txt, written from the spec and sharing
// nothing with gateways/allinpay: its own key-value parsing (form or flat
// JSON, §1.4.3), RSA2 signing and verification (§1.4.2), request tables and
// data types (§1.5.1.2, §1.5.2, §1.5.3), and the words of every answer
// (§1.7). Where the adapter and this package read the spec differently, the
// tests between them fail, and the package docs say which reading stands.
//
// The platform's rules it enforces: the signature, signType RSA2, version
// V1.0, the access code and merchant, every request table's mandatory
// fields and data types, the merchant's fixed currency, a requestNo never
// used before (§1.5.1.4), tipsAmount not above transAmount (transAmount
// "including tips"), limitPay only with WeChat Pay and Alipay, PayNow only
// in SGD with its 3-minute code (§1.5.2.1), at least MinQueryInterval
// between queries of one order (§1.5.2.2's 10 s unless scaled), void only
// of a paid order of the same day (§1.5.2.4), close only of an unpaid
// WeChat Pay or Alipay QR order (§1.5.2.5: never a micropay, never UnionPay
// or PayNow), refunds summing to at most the original (§1.5.2.3). What the
// spec does not offer it never executes: a micropay still waiting for the
// customer ends only when the wallet gives up (WalletTimeout) and a QR
// order only when it is paid, closed or expires (expireTime minutes,
// default 30, PayNow 3; Minute scales the minute for demos and tests).
// DOWNLOAD_CHECK_BILL is served from the ledger (§1.5.3.1).
//
// It answers in either wire form (Options.JSON), and can be scripted
// (ScriptAnswer, gatewaytest.Truther) to give on any call any answer the
// spec documents for it (Answers, with sections) or none, while the
// ledger moves as the script's truth says. The chassis (ledger, scripts,
// notification delivery, bill lines) is gateways/sim's Base; magic
// amounts and Behaviour faults work as everywhere (gateways/sim).
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
	"github.com/posagent/posagent/gateways/sim"
)

// Defaults for a demo merchant.
const (
	DefaultAccessCode = "20000000"
	DefaultMchNo      = "6666666600003"
	DefaultCurrency   = "HKD"
)

// SpecQueryInterval is §1.5.2.2's "should not be less than 10 seconds".
const SpecQueryInterval = 10 * time.Second

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
	// NotifyURL receives notifications; empty sends none.
	NotifyURL string
	// HTTPClient posts notifications; default a client with a 5 s timeout.
	HTTPClient *http.Client
	// MinQueryInterval is the least time between two queries of one order;
	// a query sooner is answered 9996 "The system is busy". Zero means the
	// spec's 10 s; negative, no limit. Demos and tests scale it down.
	MinQueryInterval time.Duration
	// Minute is the length of expireTime's minute: a QR order expires
	// expireTime Minutes after it is created. Default a minute; demos and
	// tests scale it down.
	Minute time.Duration
	// WalletTimeout is how long a micropay waits for the customer's
	// confirmation before the wallet gives up and the order fails (9998).
	// Nothing in the spec cancels a micropay still waiting, so this is how
	// one never confirmed ends. Default 2 minutes.
	WalletTimeout time.Duration
	// JSON answers with a flat JSON object instead of a form.
	JSON bool
	// StrictRefundQuery answers TRANS_QUERY of a refund's own number with
	// 0007 "Order doesn't exist": §1.5.2.2 takes the original order's
	// number. By default a refund is a transaction of its own that
	// TRANS_QUERY finds by its outTransNo.
	StrictRefundQuery bool
	// Hold bounds how long a NoAnswer holds a request (default
	// sim.DefaultHold).
	Hold time.Duration
	// SameDayBill serves DOWNLOAD_CHECK_BILL of the day still running
	// (UTC+8), provisional: what moved so far. The platform offers a day's
	// bill from the next day only, and so does the simulator by default;
	// the demo turns this on so its tour can reconcile the day it ran
	// (sim.Base.BillReady).
	SameDayBill bool
	// Logger; default discards.
	Logger *slog.Logger
}

// Server is the simulated platform; it is an http.Handler for both the
// transaction and the download URL (it dispatches on transType).
type Server struct {
	*sim.Base
	opts Options
	log  *slog.Logger

	mu         sync.Mutex
	now        func() time.Time
	requestNos map[string]bool
	expires    map[string]time.Time // QR orders' expiry
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
	if o.Minute <= 0 {
		o.Minute = time.Minute
	}
	rules := sim.Rules{}
	switch {
	case o.MinQueryInterval == 0:
		rules.MinQueryInterval = SpecQueryInterval
	case o.MinQueryInterval > 0:
		rules.MinQueryInterval = o.MinQueryInterval
	}
	b, err := sim.NewBase(sim.BaseOptions{Name: "allinpay", LedgerPath: o.LedgerPath, Rules: rules, Logger: o.Logger, SameDayBills: o.SameDayBill,
		// §1.5.2.6: the platform "would initiate the notification timely
		// through some methods": three attempts.
		NotifySchedule: []time.Duration{0, 200 * time.Millisecond, 400 * time.Millisecond}})
	if err != nil {
		return nil, err
	}
	return &Server{Base: b, opts: o, log: b.Log(), now: time.Now, requestNos: map[string]bool{}, expires: map[string]time.Time{}}, nil
}

// SetClock replaces the simulator's clock (and its ledger's), for tests
// of day boundaries: same-day void, next-day bill.
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

// exchange is one request and its answer under construction.
type exchange struct {
	req   message
	ans   message
	fault sim.Fault
	// notify is the notification to post once answered (or before, for
	// NotifyBeforeResponse); key names it for Acked.
	notify    message
	notifyKey string
}

// result sets the business result in the spec's words.
func (x *exchange) result(code string) {
	x.ans["resultCode"], x.ans["resultMsg"] = code, words[code]
}

// refuse sets a returnCode other than 0000: the request was not processed.
func (x *exchange) refuse(code, detail string) {
	msg := words[code]
	if detail != "" {
		msg += ": " + detail
	}
	x.ans["returnCode"], x.ans["returnMsg"] = code, msg
	delete(x.ans, "resultCode")
	delete(x.ans, "resultMsg")
}

// ServeHTTP handles one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only (§1.4.1)", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return
	}
	req, err := readMessage(body)
	if err != nil {
		http.Error(w, "bad request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	x := &exchange{req: req, ans: message{
		"requestNo":  req["requestNo"],
		"version":    "V1.0",
		"accessCode": s.opts.AccessCode,
		"transType":  req["transType"],
		"signType":   "RSA2",
		"returnCode": "0000",
		"returnMsg":  "succeed",
	}}
	if req["transType"] != "DOWNLOAD_CHECK_BILL" {
		x.ans["mchNo"] = s.opts.MchNo
	}
	if code, detail := s.admit(req); code != "" {
		x.refuse(code, detail)
	} else {
		s.dispatch(x)
	}
	if x.notify != nil && x.fault == sim.NotifyBeforeResponse {
		s.NotifyNow(r.Context(), x.notifyKey, s.deliver(x.notify))
	}
	if x.fault.Transport() {
		s.afterAnswer(x)
		sim.ServeFault(w, r, x.fault, s.opts.Hold)
		return
	}
	key := s.opts.PlatformKey
	if x.fault == sim.BadSignature {
		key = wrongKey()
	}
	if x.fault == sim.MissingSignature {
		delete(x.ans, "signature")
	} else if err := x.ans.sign(key); err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	if s.opts.JSON {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_, _ = w.Write(x.ans.json())
	} else {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
		_, _ = w.Write(x.ans.form())
	}
	s.afterAnswer(x)
}

// afterAnswer sends the notification this request owes.
func (s *Server) afterAnswer(x *exchange) {
	if x.notify == nil || x.fault == sim.NotifyBeforeResponse {
		return
	}
	n := 1
	if x.fault == sim.NotifyDuplicate {
		n = 2
	}
	for range n {
		s.Notify(x.notifyKey, s.deliver(x.notify))
	}
}

// admit checks what the platform checks before any business logic. It
// returns a returnCode and a detail, or "".
func (s *Server) admit(req message) (code, detail string) {
	if req["signature"] == "" {
		return "0009", ""
	}
	if req["signType"] != "RSA2" || !req.verify(s.opts.MerchantKey) {
		return "0012", ""
	}
	if req["accessCode"] != s.opts.AccessCode {
		return "0045", ""
	}
	if req["version"] != "V1.0" {
		return "0001", "version"
	}
	if msg := validate(req); msg != "" {
		return "0001", msg
	}
	if req["transType"] != "DOWNLOAD_CHECK_BILL" && req["mchNo"] != s.opts.MchNo {
		return "0010", ""
	}
	if c := req["currency"]; c != "" && c != s.opts.Currency {
		return "0001", "currency " + c + " is not the merchant's fixed currency " + s.opts.Currency
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.requestNos[req["requestNo"]] {
		return "0001", "requestNo " + req["requestNo"] + " was used before"
	}
	if len(s.requestNos) > 1<<16 {
		s.requestNos = map[string]bool{}
	}
	s.requestNos[req["requestNo"]] = true
	return "", ""
}

// wallets are the appendix's transType prefixes (§1.8.2).
var wallets = map[string]pos.Wallet{"WXPAY": pos.WeChatPay, "ALIPAY": pos.Alipay, "UNIONPAY": pos.UnionPay, "PAYNOW": pos.PayNow}

func (s *Server) dispatch(x *exchange) {
	tt := x.req["transType"]
	prefix, kind, _ := strings.Cut(tt, "_")
	switch {
	case tt == "TRANS_QUERY":
		s.query(x)
	case tt == "CLOSE_ORDER":
		s.close(x)
	case tt == "DOWNLOAD_CHECK_BILL":
		s.bill(x)
	case wallets[prefix] == "":
		x.refuse("0018", tt)
	case kind == "MICROPAY" && prefix != "PAYNOW", kind == "SCANCODE":
		s.pay(x, wallets[prefix], kind == "MICROPAY")
	case kind == "CANCEL":
		s.void(x)
	case kind == "RETURN":
		s.refund(x)
	default:
		x.refuse("0018", tt)
	}
}

// scripted takes the answer scripted for this call, moves the ledger as
// its truth says, and reports whether the answer is given (the caller
// then answers nothing more). CodeHonest moves the truth and lets the
// caller answer from the ledger.
func (s *Server) scripted(x *exchange, no string, op sim.Op, ref sim.RefundRef) (answered bool) {
	a, ok := s.TakeAnswer(no, op)
	if !ok {
		return false
	}
	return s.give(x, no, op, ref, a)
}

// give answers a scripted answer a (see scripted).
func (s *Server) give(x *exchange, no string, op sim.Op, ref sim.RefundRef, a sim.Answer) (answered bool) {
	if _, err := s.Settle(op, no, a.Truth, ref); err != nil && !errors.Is(err, sim.ErrNotFound) {
		s.log.Warn("allinpaysimTruth", "outTransNo", no, "op", string(op), "truth", string(a.Truth), "err", err.Error())
	}
	switch a.Code {
	case sim.CodeHonest:
		return false
	case sim.CodeNoAnswer:
		x.fault = sim.NoAnswer
	default:
		if ret, ok := strings.CutPrefix(a.Code, returnPrefix); ok {
			x.refuse(ret, "")
		} else {
			x.result(a.Code)
		}
	}
	return true
}

func (s *Server) pay(x *exchange, w pos.Wallet, micropay bool) {
	req := x.req
	no := req["outTransNo"]
	x.ans["outTransNo"] = no
	amount, _ := strconv.ParseInt(req["transAmount"], 10, 64)
	tips, _ := strconv.ParseInt(orZero(req["tipsAmount"]), 10, 64)
	switch {
	case amount <= 0:
		x.result("0027")
		return
	case tips > amount:
		// transAmount is "The unit is cent (including tips)".
		x.refuse("0001", "tipsAmount is above transAmount, which includes tips")
		return
	case req["limitPay"] != "" && w != pos.WeChatPay && w != pos.Alipay:
		x.refuse("0001", "limitPay is only for Wechat Pay and Alipay")
		return
	case w == pos.PayNow && s.opts.Currency != "SGD":
		x.refuse("0018", "PayNow is for Singapore merchants (SGD)")
		return
	case micropay && req["authCode"] == "":
		x.refuse("0001", "authCode is required when customers present their code")
		return
	}
	o := sim.Order{OutTradeNo: no, Amount: amount, Currency: req["currency"], Wallet: string(w), Method: "qr"}
	if micropay {
		o.Method = "micropay"
		code, err := pos.ParseAuthCode(req["authCode"])
		if err != nil || code.Wallet() != w {
			x.result("0078")
			return
		}
		o.CodeMasked = code.Masked()
	}
	b := s.Script().Behaviour(no, amount)
	b.Fill(&o)
	scripted, isScripted := s.TakeAnswer(no, sim.OpSubmit)
	if isScripted && scripted.Truth != sim.TruthAsScenario {
		// The script's truth decides the money, not the amount's scenario:
		// the order starts payable and the truth then settles it.
		o.Scenario, o.PayingQueries, o.DeclineCode, o.DeclineMsg = sim.PayingUntilReversed, 0, "", ""
	}
	got, err := s.Ledger().NewOrder(o)
	if errors.Is(err, sim.ErrDuplicate) {
		x.result("0022")
		return
	}
	if err != nil {
		x.result("9996")
		return
	}
	if !micropay {
		minutes, _ := strconv.Atoi(orDefault(req["expireTime"], "30"))
		if minutes <= 0 {
			minutes = 30
		}
		if w == pos.PayNow {
			minutes = min(minutes, 3) // "(Paynow QR code is 3 minutes)"
		}
		s.mu.Lock()
		s.expires[no] = got.CreatedAt.Add(time.Duration(minutes) * s.opts.Minute)
		s.mu.Unlock()
	}
	x.fault = s.Script().TakeFault(no, amount, sim.OpSubmit)
	if isScripted && s.give(x, no, sim.OpSubmit, sim.RefundRef{}, scripted) {
		got, _ = s.Ledger().Get(no)
		if !micropay && got.State == sim.NotPay && (x.ans["resultCode"] == "P000" || x.ans["resultCode"] == "0000") {
			x.ans["codeUrl"] = codeURL(w, got)
		}
		return
	}
	got, _ = s.Ledger().Get(no)
	if !micropay && got.State == sim.NotPay {
		x.ans["codeUrl"] = codeURL(w, got)
	}
	s.describe(x, got, false)
	if got.State == sim.Success {
		s.owe(x, got)
	}
}

func codeURL(w pos.Wallet, o sim.Order) string {
	return "https://qr.allinpay.invalid/" + strings.ToLower(string(w)) + "/" + o.TransactionID
}

// describe reports an order's state in the spec's words.
func (s *Server) describe(x *exchange, o sim.Order, withAmount bool) {
	x.ans["transNo"] = o.TransactionID
	if withAmount {
		x.ans["transAmount"] = itoa(o.Amount)
		x.ans["currency"] = o.Currency
	}
	switch o.State {
	case sim.Success, sim.Refunded:
		x.result("0000")
		x.ans["payTime"] = o.PaidAt.In(zone).Format("20060102150405")
		x.ans["bankTradeNo"] = "4200" + o.TransactionID
	case sim.NotPay, sim.UserPaying:
		x.result("P000")
	case sim.PayError:
		code := o.DeclineCode
		if r, ok := resultTable[code]; !ok || r.kind != declined {
			code = "9998" // a scripted decline in another acquirer's words
		}
		x.result(code)
	case sim.Revoked:
		x.result("0029")
	case sim.Closed:
		if o.Method == "micropay" {
			x.result("9998") // the wallet gave up waiting for the customer
		} else {
			x.result("0039")
		}
	default:
		x.result("9999")
	}
}

var zone = time.FixedZone("UTC+8", 8*60*60)

// settleTime ends what the spec ends by time: a micropay the customer
// never confirmed (the wallet gives up) and an expired QR order.
func (s *Server) settleTime(no string) {
	o, ok := s.Ledger().Get(no)
	if !ok || (o.State != sim.UserPaying && o.State != sim.NotPay) {
		return
	}
	now := s.clock()
	end := o.CreatedAt.Add(s.opts.WalletTimeout)
	if o.Method == "qr" {
		s.mu.Lock()
		e, ok := s.expires[no]
		s.mu.Unlock()
		if !ok {
			e = o.CreatedAt.Add(30 * s.opts.Minute)
		}
		end = e
	}
	if !now.Before(end) {
		_, _ = s.Ledger().Close(no)
	}
}

func (s *Server) query(x *exchange) {
	no := x.req["oriOutTransNo"]
	prev, ok := s.Ledger().Get(no)
	if !ok || prev.Tombstone {
		s.queryRefund(x, no)
		return
	}
	x.fault = s.Script().TakeFault(no, prev.Amount, sim.OpQuery)
	s.settleTime(no)
	if s.scripted(x, no, sim.OpQuery, sim.RefundRef{}) {
		o, _ := s.Ledger().Get(no)
		x.ans["transAmount"], x.ans["currency"] = itoa(o.Amount), o.Currency
		return
	}
	o, err := s.Ledger().Query(no)
	if err != nil {
		x.result("9996") // too soon (§1.5.2.2), or the ledger failed
		return
	}
	s.describe(x, o, true)
	if o.State == sim.Success && prev.State != sim.Success {
		s.owe(x, o)
	}
}

// queryRefund answers TRANS_QUERY of a number that is not an order: a
// refund's own number, unless StrictRefundQuery.
func (s *Server) queryRefund(x *exchange, no string) {
	o, r, err := s.Ledger().FindRefundByNo(no)
	if err != nil || s.opts.StrictRefundQuery {
		x.result("0007")
		return
	}
	// A fault scripted for the original order's refund queries (the
	// contract suite's and the fault matrix's transport faults).
	x.fault = s.Script().TakeFault(o.OutTradeNo, o.Amount, sim.OpQueryRefund)
	ref := sim.RefundRef{OutRefundNo: r.OutRefundNo, Amount: r.Amount}
	if s.scripted(x, o.OutTradeNo, sim.OpQueryRefund, ref) {
		x.ans["transAmount"], x.ans["currency"] = itoa(r.Amount), o.Currency
		return
	}
	_, r, _ = s.Ledger().FindRefund(o.OutTradeNo, r.OutRefundNo)
	x.ans["transNo"] = r.RefundID
	x.ans["transAmount"] = itoa(r.Amount)
	x.ans["currency"] = o.Currency
	switch r.Status {
	case sim.RefundPending:
		x.result("0034")
	case sim.RefundRefused:
		x.result("9998")
	default:
		x.result("0000")
	}
}

func (s *Server) void(x *exchange) {
	no := x.req["oriOutTransNo"]
	x.ans["outTransNo"] = x.req["outTransNo"]
	s.settleTime(no)
	o, ok := s.Ledger().Get(no)
	if !ok || o.Tombstone {
		if !s.scripted(x, no, sim.OpReverse, sim.RefundRef{}) {
			x.result("0025")
		}
		return
	}
	x.fault = s.Script().TakeFault(no, o.Amount, sim.OpReverse)
	// A cancel of a paid order is the void of a sale (sim.OpVoid); of any
	// other, the till's reverse of an order it does not know the end of.
	if o.State == sim.Success && s.scripted(x, no, sim.OpVoid, sim.RefundRef{}) {
		return
	}
	if s.scripted(x, no, sim.OpReverse, sim.RefundRef{}) {
		return
	}
	switch {
	case o.State == sim.Revoked:
		x.result("0029")
	case o.State == sim.Refunded || len(o.Refunds) > 0:
		x.result("0031")
	case o.State != sim.Success:
		// "Only successful transactions are acceptable to be voided."
		x.result("0026")
	case !sameDay(o.PaidAt, s.clock()):
		// "Failure will always be presented if voiding the transaction
		// of other time."
		x.result("0032")
	default:
		if _, err := s.Ledger().Reverse(no); err != nil {
			x.result("9996")
			return
		}
		x.result("0000")
		x.ans["bankTradeNo"] = "4200" + o.TransactionID
		s.oweCancel(x, o)
	}
}

func (s *Server) close(x *exchange) {
	no := x.req["oriOutTransNo"]
	x.ans["outTransNo"] = x.req["outTransNo"]
	s.settleTime(no)
	o, ok := s.Ledger().Get(no)
	if !ok || o.Tombstone {
		x.result("0007")
		return
	}
	x.fault = s.Script().TakeFault(no, o.Amount, sim.OpClose)
	if o.Method != "qr" || (o.Wallet != string(pos.WeChatPay) && o.Wallet != string(pos.Alipay)) {
		// §1.5.2.5: close is for WeChat Pay and Alipay QR orders only;
		// nothing else is ever closed, whatever a script says.
		x.result("0018")
		return
	}
	if s.scripted(x, no, sim.OpClose, sim.RefundRef{}) {
		return
	}
	switch o.State {
	case sim.Closed:
		x.result("0039")
	case sim.Revoked:
		x.result("0029")
	case sim.Success, sim.Refunded:
		x.result("0038")
	case sim.PayError:
		x.result("0026")
	default:
		if _, err := s.Ledger().Close(no); err != nil {
			x.result("9996")
			return
		}
		x.result("0000")
		s.oweCancel(x, o)
	}
}

func (s *Server) refund(x *exchange) {
	no := x.req["oriOutTransNo"]
	rno := x.req["outTransNo"]
	x.ans["outTransNo"] = rno
	x.ans["transAmount"] = x.req["transAmount"]
	amount, _ := strconv.ParseInt(x.req["transAmount"], 10, 64)
	o, ok := s.Ledger().Get(no)
	if !ok || o.Tombstone {
		x.result("0025")
		return
	}
	x.fault = s.Script().TakeFault(no, o.Amount, sim.OpRefund)
	if s.scripted(x, no, sim.OpRefund, sim.RefundRef{OutRefundNo: rno, Amount: amount}) {
		if _, r, err := s.Ledger().FindRefund(no, rno); err == nil {
			x.ans["transNo"] = r.RefundID
		}
		return
	}
	if _, r, err := s.Ledger().FindRefund(no, rno); err == nil {
		// The refund number is known: the order is recurrent (§1.7.2).
		x.ans["transNo"] = r.RefundID
		x.ans["transAmount"] = itoa(r.Amount)
		if r.Amount != amount {
			x.result("0055")
			return
		}
		x.result("0022")
		return
	}
	switch o.State {
	case sim.Success, sim.Refunded:
	case sim.Revoked:
		x.result("0029")
		return
	case sim.Closed:
		x.result("0039")
		return
	default:
		x.result("0026")
		return
	}
	_, r, err := s.Ledger().Refund(no, rno, amount)
	if err != nil {
		// "The total amount of refunding cannot exceed the total amount
		// of original transaction."
		x.result("0027")
		return
	}
	x.ans["transNo"] = r.RefundID
	x.ans["transAmount"] = itoa(r.Amount)
	x.result("0000")
	s.oweRefund(x, o, r)
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.In(zone).Date()
	by, bm, bd := b.In(zone).Date()
	return ay == by && am == bm && ad == bd
}

func orZero(s string) string { return orDefault(s, "0") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// owe makes the exchange owe the payment notification of a paid order.
func (s *Server) owe(x *exchange, o sim.Order) {
	if s.opts.NotifyURL == "" {
		return
	}
	n, err := s.paymentNotification(o)
	if err == nil {
		x.notify, x.notifyKey = n, o.OutTradeNo
	}
}

// oweRefund makes the exchange owe a refund's notification (§1.5.2.3
// carries a mandatory notifyUrl).
func (s *Server) oweRefund(x *exchange, o sim.Order, r sim.Refund) {
	if s.opts.NotifyURL == "" {
		return
	}
	n := s.notificationBase(prefixOf(o) + "_RETURN")
	n["outTransNo"] = r.OutRefundNo
	n["oriOutTransNo"] = o.OutTradeNo
	n["transAmount"] = itoa(r.Amount)
	n["currency"] = o.Currency
	n["transNo"] = r.RefundID
	n["resultCode"], n["resultMsg"] = "0000", words["0000"]
	if n.sign(s.opts.PlatformKey) == nil {
		x.notify, x.notifyKey = n, r.OutRefundNo
	}
}

// oweCancel makes the exchange owe the notification of a void or close
// it executed: §1.5.2.4 and §1.5.2.5 carry a mandatory notifyUrl like a
// refund, so the platform posts §1.5.2.6's message for them too, with the
// request's transType (*_CANCEL, CLOSE_ORDER) and outTransNo (the void's
// or close's own number), the order as oriOutTransNo (as for a refund),
// and the order's amount and platform number (transNo is M). Only an
// executed one is notified: §1.5.2.6 is posted "after completing the
// transaction successfully", so a refused void or close owes nothing.
func (s *Server) oweCancel(x *exchange, o sim.Order) {
	if s.opts.NotifyURL == "" {
		return
	}
	n := s.notificationBase(x.req["transType"])
	n["outTransNo"] = x.req["outTransNo"]
	n["oriOutTransNo"] = o.OutTradeNo
	n["transAmount"] = itoa(o.Amount)
	n["currency"] = o.Currency
	n["transNo"] = o.TransactionID
	if o.State == sim.Success {
		n["bankTradeNo"] = "4200" + o.TransactionID
	}
	n["resultCode"], n["resultMsg"] = "0000", words["0000"]
	if n.sign(s.opts.PlatformKey) == nil {
		x.notify, x.notifyKey = n, x.req["outTransNo"]
	}
}

func prefixOf(o sim.Order) string {
	for p, w := range wallets {
		if string(w) == o.Wallet {
			return p
		}
	}
	return "WXPAY"
}

func (s *Server) notificationBase(tt string) message {
	now := s.clock()
	return message{
		"requestNo":  "N" + now.In(zone).Format("20060102150405") + strconv.FormatInt(now.UnixNano()%1e9, 10),
		"version":    "V1.0",
		"accessCode": s.opts.AccessCode,
		"transType":  tt,
		"signType":   "RSA2",
		"mchNo":      s.opts.MchNo,
	}
}

// paymentNotification is §1.5.2.6's message for an order, signed.
func (s *Server) paymentNotification(o sim.Order) (message, error) {
	kind := "_SCANCODE"
	if o.Method == "micropay" {
		kind = "_MICROPAY"
	}
	x := &exchange{ans: s.notificationBase(prefixOf(o) + kind)}
	x.ans["outTransNo"] = o.OutTradeNo
	s.describe(x, o, true)
	if err := x.ans.sign(s.opts.PlatformKey); err != nil {
		return nil, err
	}
	return x.ans, nil
}

// Notification builds the notification the platform posts for a paid
// order. With sim.BadSignature it is signed with a key that is not the
// platform's.
func (s *Server) Notification(outTradeNo string, f sim.Fault) (http.Header, []byte, error) {
	o, ok := s.Ledger().Get(outTradeNo)
	if !ok {
		return nil, nil, sim.ErrNotFound
	}
	n, err := s.paymentNotification(o)
	if err != nil {
		return nil, nil, err
	}
	if f == sim.BadSignature {
		if err := n.sign(wrongKey()); err != nil {
			return nil, nil, err
		}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	return h, n.form(), nil
}

// deliver posts n once and reports whether the receiver said SUCCESS.
func (s *Server) deliver(n message) func(ctx context.Context) bool {
	return func(ctx context.Context) bool {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ack, err := sim.PostNotification(ctx, s.opts.HTTPClient, s.opts.NotifyURL, "application/x-www-form-urlencoded; charset=UTF-8", n.form())
		return err == nil && strings.TrimSpace(string(ack)) == "SUCCESS"
	}
}

var (
	wrongOnce sync.Once
	wrong     *rsa.PrivateKey
)

// wrongKey is a key that is not the platform's, for BadSignature.
func wrongKey() *rsa.PrivateKey {
	wrongOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, keyBits)
		if err != nil {
			panic(fmt.Sprintf("allinpaysim: %v", err))
		}
		wrong = k
	})
	return wrong
}
