// Package allpaysim simulates the AllPay V5 platform (allpay-v5.txt) over
// real HTTP: form POSTs to the §4.1 paths, request signatures and the §4
// tables checked, answers signed with the same key and signType, and JSON
// payment notifications POSTed to backURL (or Options.NotifyURL) until
// they are answered "OK". The chassis is the shared sim.Base: the ledger
// (in memory, or a file that survives restarts), the magic amounts and
// per-order scripts, scripted answers with an independent truth, the
// notification resend schedule, Close and the day bill.
//
// It is a second reading of the spec: its signing, parsing and field
// rules (wire.go) are written from the spec and import nothing from
// gateways/allpay, so a misreading in the adapter shows as a failing
// contract test instead of being shared.
//
// It runs inside `posagent demo --gateway allpay` and `posagent simulate`:
// build it with New(DemoOptions()) (fast) or New(Options{}), serve it with
// any http.Server, and point an allpay.Client at it (cmd/posagent wires the
// client options; the contract tests do the same).
//
// QR orders follow the magic amounts through inquiries: ..00 paid on the
// first INQY, ..91 on the second, ..92 never (until cancelled), ..93
// declined when the customer tries; ..94/..95 get no answer to PURC.
//
// What the simulator answers where the spec is silent (its reading):
//   - PURC QRCODE: only what §5.1.1 promises (RespCode, RespMsg, code_url),
//     signed, with signType;
//   - bad signature or signType: U2; unknown merID: U1; a missing M field:
//     U4; an empty one: U8; one longer than its String(n), a bad
//     transTime, or a transType sent to another interface's path: U5;
//     orderNum reused (purchase, refund or cancellation numbers): U6;
//     unknown order or refund: U7; an inquiry sooner than
//     Rules.MinQueryInterval or a VOID sooner than Rules.ReverseAfter: U9;
//   - tradeFrom other than QRCODE: P4; a paymentSchema other than WX, AP,
//     APHK: P1; a currency it does not take: P2; an amount with more
//     decimals than its currency has (zeros excepted: "100.00" JPY is 100
//     yen, §4.2 "100 or 100.00"): U5;
//   - INQY: 00 paid (also after refunds), 04 not yet paid, 01 declined or
//     cancelled, or no longer payable after Options.PayableWindow;
//   - REFD: 61 above what is left to refund, 01 for an unpaid order;
//     RFQY 00 for an executed refund;
//   - VOID: §4.8 documents it for cards ("FC") only, so a VOID of a
//     WX/AP/APHK order is refused with P4 unless Options.VoidQR says the
//     acquirer confirmed it; then 00 for an order without refunds (paid or
//     not), 01 for one with refunds.
//   - Notifications name Alipay orders AP (the ledger keeps the wallet,
//     not the channel).
//
// Scripted answers (ScriptAnswer, the gatewaytest.Truther the truth check
// drives) give any §6 code on any call, or none ("no_answer"), with the
// ledger moving as the answer's Truth says (Base.Settle; truth.go).
package allpaysim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/sim"
)

// Test credentials: the spec's sample merchant and key (§3.3).
const (
	TestMerID = "000000000000015"
	TestKey   = pos.Secret("2f2c77e3718c47cfb47a89a6fbc9d361")
	// AcqID is the acqID every table of the spec fixes.
	AcqID = "99020344"
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
	// MerID and AcqID are the only ones accepted; defaults TestMerID and AcqID.
	MerID, AcqID string
	// Currencies accepted; default every currency posagent knows.
	Currencies []pos.Currency
	// Rules are the timing rules enforced; zero enforces none.
	Rules sim.Rules
	// VoidQR makes VOID cancel WX/AP/APHK orders (the acquirer confirmed
	// it); by default §4.8's "FC" only, anything else P4.
	VoidQR bool
	// PayableWindow is how long an unpaid QR order stays payable; after it
	// INQY answers 01 and the order can no longer be paid. Zero: for ever.
	PayableWindow time.Duration
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

// WithDefaults returns o with its defaults filled, so a caller wiring a
// client to the simulator sees the merchant, key and signType it uses.
func (o Options) WithDefaults() Options {
	if o.Key == "" {
		o.Key = TestKey
	}
	if o.SignType == "" {
		o.SignType = "SHA256"
	}
	if o.MerID == "" {
		o.MerID = TestMerID
	}
	if o.AcqID == "" {
		o.AcqID = AcqID
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

// Server is the simulated platform, an http.Handler. The chassis (ledger,
// scripts, scripted answers with their truth, notification resends,
// acknowledgements, Close) is the embedded sim.Base; the Server keeps
// AllPay's own reading: the wire, the §4 tables and each answer's words.
type Server struct {
	*sim.Base
	o   Options
	key string
	log *slog.Logger

	mu    sync.Mutex
	voids map[string]string // cancellation orderNum → original orderNum
}

// New validates opts and builds a Server.
func New(opts Options) (*Server, error) {
	o := opts.WithDefaults()
	if o.SignType != "MD5" && o.SignType != "SHA256" {
		return nil, fmt.Errorf("allpaysim: signType %q", o.SignType)
	}
	if o.PayableWindow < 0 {
		return nil, errors.New("allpaysim: negative payable window")
	}
	b, err := sim.NewBase(sim.BaseOptions{Name: "allpay", LedgerPath: o.LedgerPath, Rules: o.Rules,
		NotifySchedule: o.NotifySchedule, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("allpaysim: %w", err)
	}
	return &Server{Base: b, o: o, key: o.Key.Reveal(), log: b.Log(), voids: map[string]string{}}, nil
}

// exchange is one verified request and its answer under construction.
type exchange struct {
	tt  string
	req fields
	ans fields
	r   *http.Request
	// fault is what the answer suffers (scripted or magic-amount).
	fault sim.Fault
}

func (x *exchange) set(code string, msg ...string) {
	x.ans["RespCode"] = code
	x.ans["RespMsg"] = respMsg[code]
	if len(msg) > 0 {
		x.ans["RespMsg"] = msg[0]
	}
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	tt, ok := pathType[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return
	}
	req, err := parseForm(string(body))
	if err != nil || len(req) == 0 {
		http.Error(w, "bad request body", http.StatusBadRequest)
		return
	}
	x := &exchange{tt: tt, req: req, r: r, ans: fields{
		"version":       "VER000000005",
		"charSet":       "UTF-8",
		"transType":     req["transType"],
		"orderNum":      req["orderNum"],
		"merID":         req["merID"],
		"acqID":         s.o.AcqID,
		"paymentSchema": req["paymentSchema"],
		"transTime":     req["transTime"],
		"GWTime":        gwTime(time.Now()),
		"signType":      s.o.SignType,
	}}
	if code, msg := s.admit(x); code != "" {
		x.set(code, msg)
		s.answer(w, x)
		return
	}
	switch tt {
	case "PURC":
		s.purchase(x)
	case "INQY":
		s.inquiry(x)
	case "REFD":
		s.refund(x)
	case "RFQY":
		s.refundQuery(x)
	case "VOID":
		s.void(x)
	}
	s.answer(w, x)
}

// admit checks what every request must satisfy; it returns the RespCode
// and message of a refusal, or "".
func (s *Server) admit(x *exchange) (string, string) {
	req := x.req
	if !signatureOK(req, s.key, s.o.SignType) {
		return "U2", "Signature is not correct"
	}
	if req["merID"] != s.o.MerID {
		return "U1", "Merchant ID is not exsit"
	}
	if req["transType"] != x.tt {
		return "U5", fmt.Sprintf("Invalid parameter: transType %q is not served at %s", req["transType"], x.r.URL.Path)
	}
	if code, msg := checkTable(x.tt, req); code != "" {
		return code, msg
	}
	if req["acqID"] != s.o.AcqID {
		return "U5", "Invalid parameter acqID"
	}
	if walletOf(req["paymentSchema"]) == "" {
		return "P1", "Channel is not setted"
	}
	return "", ""
}

func walletOf(schema string) pos.Wallet {
	switch schema {
	case "WX":
		return pos.WeChatPay
	case "AP", "APHK":
		return pos.Alipay
	}
	return ""
}

// answer signs and writes x's answer, after applying its fault.
func (s *Server) answer(w http.ResponseWriter, x *exchange) {
	if x.fault.Transport() {
		s.log.Info("fault", "transType", x.tt, "orderNum", x.req["orderNum"], "fault", string(x.fault))
		sim.ServeFault(w, x.r, x.fault, s.o.Hold)
		return
	}
	key := s.key
	if x.fault == sim.BadSignature {
		key += "-wrong"
	}
	if x.fault != sim.MissingSignature {
		sign(x.ans, key)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(jsonBody(x.ans))
}

// money reads a §4.2 amount ("100 or 100.00") in minor units of cur: more
// decimals than the currency has only when they are zeros.
func (s *Server) money(amount, currency string) (int64, pos.Currency, string) {
	cur := pos.Currency(currency)
	if !cur.Valid() || len(s.o.Currencies) > 0 && !slices.Contains(s.o.Currencies, cur) {
		return 0, "", "P2"
	}
	whole, frac, dot := strings.Cut(amount, ".")
	exp := cur.Exponent()
	if whole == "" || strings.Trim(whole, "0123456789") != "" || dot && (frac == "" || strings.Trim(frac, "0123456789") != "") {
		return 0, "", "U5"
	}
	if len(frac) > exp {
		if strings.Trim(frac[exp:], "0") != "" {
			return 0, "", "U5"
		}
		frac = frac[:exp]
	}
	frac += strings.Repeat("0", exp-len(frac))
	var n int64
	for _, c := range whole + frac {
		n = n*10 + int64(c-'0')
		if n > 1e15 {
			return 0, "", "U5"
		}
	}
	if n <= 0 {
		return 0, "", "U5"
	}
	return n, cur, ""
}

// numberInUse reports whether orderNum already names an order, a refund
// or a cancellation.
func (s *Server) numberInUse(no string) bool {
	if _, ok := s.Ledger().Get(no); ok {
		return true
	}
	if _, _, err := s.Ledger().FindRefundByNo(no); err == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.voids[no]
	return ok
}

func (s *Server) purchase(x *exchange) {
	req := x.req
	minor, cur, code := s.money(req["orderAmount"], req["orderCurrency"])
	if code != "" {
		x.set(code)
		return
	}
	no := req["orderNum"]
	if s.numberInUse(no) {
		x.set("U6")
		return
	}
	o := sim.Order{OutTradeNo: no, Amount: minor, Currency: string(cur),
		Wallet: string(walletOf(req["paymentSchema"])), Method: "qr", NotifyURL: req["backURL"]}
	s.Script().Behaviour(no, minor).Fill(&o)
	scriptedAns, isScripted := s.TakeAnswer(no, sim.OpSubmit)
	truth := scriptedAns.Truth
	if isScripted && truth == sim.TruthDone {
		// Paid by the customer when scanned: seen on the next inquiry.
		o.Scenario, truth = sim.Immediate, sim.TruthAsScenario
	}
	created, err := s.Ledger().NewOrder(o)
	if errors.Is(err, sim.ErrDuplicate) {
		x.set("U6")
		return
	}
	if err != nil {
		s.log.Error("ledger", "err", err.Error())
		x.set("U9")
		return
	}
	s.log.Info("order", "orderNum", no, "amount", minor, "schema", req["paymentSchema"], "scenario", string(created.Scenario))
	// §5.1.1: the QRCODE answer is RespCode, RespMsg and code_url.
	x.ans = fields{"signType": s.o.SignType}
	x.fault = s.Script().TakeFault(no, minor, sim.OpSubmit)
	if isScripted {
		// NotDone: the customer walked away; Pending: payable, unpaid,
		// until a later truth.
		_, _ = s.Settle(sim.OpSubmit, no, truth, sim.RefundRef{})
		switch scriptedAns.Code {
		case NoAnswer:
			x.fault = sim.NoAnswer
			return
		case sim.CodeHonest:
			scriptedAns.Code = "00"
		}
		x.set(scriptedAns.Code)
		if scriptedAns.Code == "00" {
			x.ans["code_url"] = codeURL(req["paymentSchema"], created.TransactionID)
		}
		return
	}
	if x.fault == sim.NotifyBeforeResponse {
		// The customer pays before the till has shown the code.
		if paid, err := s.Ledger().Query(no); err == nil && paid.State == sim.Success {
			s.notifyPaid(paid, x.fault)
		}
	}
	x.ans["code_url"] = codeURL(req["paymentSchema"], created.TransactionID)
	x.set("00")
}

func codeURL(schema, id string) string {
	if schema == "WX" {
		return "weixin://wxpay/bizpayurl?pr=allpaysim" + id
	}
	return "https://qr.alipay.com/allpaysim" + id
}

// expired reports whether an unpaid order is past the payable window.
func (s *Server) expired(o sim.Order) bool {
	return s.o.PayableWindow > 0 && time.Since(o.CreatedAt) > s.o.PayableWindow
}

// stateCode is an inquiry's RespCode and message for an order's state.
func (s *Server) stateCode(o sim.Order) (string, string) {
	switch o.State {
	case sim.Success, sim.Refunded:
		return "00", "Success"
	case sim.NotPay, sim.UserPaying:
		if s.expired(o) {
			return "01", "Fail: the order is no longer payable"
		}
		return "04", "Processing"
	case sim.PayError:
		code, msg := "01", "Fail: the payment was declined"
		if c := o.DeclineCode; c == "61" || c == "P3" {
			code, msg = c, respMsg[c]
		}
		if o.DeclineMsg != "" {
			msg = o.DeclineMsg
		}
		return code, msg
	case sim.Revoked, sim.Closed:
		return "01", "Fail: the order is cancelled"
	}
	return "U9", "System error"
}

func (s *Server) inquiry(x *exchange) {
	no := x.req["orderNum"]
	before, found := s.Ledger().Get(no)
	if !found || before.Tombstone {
		x.set("U7")
		return
	}
	if s.expired(before) && (before.State == sim.NotPay || before.State == sim.UserPaying) {
		// Past its window nobody can pay it any more.
		_, _ = s.Ledger().Close(no)
	}
	x.fault = s.Script().TakeFault(no, before.Amount, sim.OpQuery)
	if s.scripted(x, no, sim.OpQuery, sim.RefundRef{}) {
		o, _ := s.Ledger().Get(no)
		x.ans["transID"] = o.TransactionID
		return
	}
	o, err := s.Ledger().Query(no)
	if errors.Is(err, sim.ErrQueryTooSoon) {
		x.set("U9", "System error: query too frequent, try again later")
		return
	}
	if err != nil {
		x.fault = sim.HTTP5xx
		return
	}
	if before.State != sim.Success && o.State == sim.Success {
		s.notifyPaid(o, x.fault)
	}
	x.ans["transID"] = o.TransactionID
	x.set(s.stateCode(o))
}

func (s *Server) refund(x *exchange) {
	orig, no := x.req["origOrderNum"], x.req["orderNum"]
	o, found := s.Ledger().Get(orig)
	if !found || o.Tombstone {
		x.set("U7")
		return
	}
	if s.numberInUse(no) {
		x.set("U6")
		return
	}
	minor, cur, code := s.money(x.req["returnAmount"], x.req["orderCurrency"])
	if code != "" || string(cur) != o.Currency {
		x.set("U5", "Invalid parameter: returnAmount or orderCurrency")
		return
	}
	x.fault = s.Script().TakeFault(orig, o.Amount, sim.OpRefund)
	if s.scriptedRefund(x, o, no, minor) {
		return
	}
	switch {
	case o.State != sim.Success && o.State != sim.Refunded:
		x.set("01", "Fail: the original order is not paid")
	case o.RefundedAmount()+minor > o.Amount:
		x.set("61")
	default:
		_, r, err := s.Ledger().Refund(orig, no, minor)
		if err != nil {
			x.set("01", "Fail: "+err.Error())
			break
		}
		x.ans["transID"] = r.RefundID
		x.set("00")
	}
}

func (s *Server) refundQuery(x *exchange) {
	no := x.req["orderNum"]
	o, r, err := s.Ledger().FindRefundByNo(no)
	if err != nil || r.OutRefundNo != no {
		x.set("U7")
		return
	}
	x.fault = s.Script().TakeFault(o.OutTradeNo, o.Amount, sim.OpQueryRefund)
	x.ans["transID"] = r.RefundID
	if s.scripted(x, o.OutTradeNo, sim.OpQueryRefund, sim.RefundRef{OutRefundNo: no}) {
		return
	}
	_, r, _ = s.Ledger().FindRefund(o.OutTradeNo, no) // as the truth moved it
	switch r.Status {
	case sim.RefundPending:
		x.set("04")
	case sim.RefundRefused:
		x.set("01", "Fail: the refund was refused")
	default:
		x.set("00")
	}
}

func (s *Server) void(x *exchange) {
	orig, no := x.req["origOrderNum"], x.req["orderNum"]
	o, found := s.Ledger().Get(orig)
	if !found || o.Tombstone {
		x.set("U7")
		return
	}
	x.fault = s.Script().TakeFault(orig, o.Amount, sim.OpReverse)
	if s.numberInUse(no) {
		x.set("U6")
		return
	}
	s.mu.Lock()
	s.voids[no] = orig
	s.mu.Unlock()
	if s.scripted(x, orig, sim.OpReverse, sim.RefundRef{}) {
		return
	}
	if x.req["paymentSchema"] != "FC" && !s.o.VoidQR {
		// §4.8: "The cancellation interface is suitable for international
		// credit card transactions"; paymentSchema "FC".
		x.set("P4", "Function is not supported: cancellation is for FC card transactions")
		return
	}
	voided, err := s.Ledger().Reverse(orig)
	switch {
	case errors.Is(err, sim.ErrTooEarly):
		x.set("U9", "System error: cancellation too soon, try again later")
	case err != nil:
		x.set("01", "Fail: the order has refunds and cannot be cancelled")
	default:
		x.ans["transID"] = voided.TransactionID
		x.set("00")
	}
	s.log.Info("void", "orderNum", no, "origOrderNum", orig, "respCode", x.ans["RespCode"])
}
