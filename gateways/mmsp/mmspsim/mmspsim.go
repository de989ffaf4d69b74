// Package mmspsim simulates the MMSP open platform's scan-code interface
// (gateways/mmsp) over real HTTP: it verifies request signatures and the
// spec's field rules, keeps orders in a gateways/sim Ledger (in memory, or
// a JSON file that survives restarts), signs its answers with the same key,
// follows the magic amounts and per-order scripts of gateways/sim, and
// posts 2324 payment notifications.
//
// It runs inside `posagent demo` and as its own process (`posagent
// simulate --gateway mmsp --listen ADDR`): build it with New(DemoOptions())
// (fast timings) or New(Options{}) (the spec's timings), serve it with any
// http.Server, and point an mmsp.Client at it with Options.Simulated set.
// ClientOptions gives the matching client options.
//
// Answers it invents where the spec is silent (the adapter maps all of them
// to Unknown unless noted):
//   - bad signature: negative answer RetCode 1006 "[-1006] 签名错误";
//   - missing or malformed field, wrong merchant, wrong version: RetCode 0
//     "[-1001] 参数错误 …" (a refusal: nothing was processed);
//   - reused MERORDERID: RetCode 1008 "[-1008] 商户订单号重复";
//   - unknown order: RetCode 0 "[-2002] 没有该订单", as the spec's example;
//   - reverse sooner than Rules.ReverseAfter: RetCode 39999 "[-2011] …";
//   - query sooner than Rules.MinQueryInterval: RetCode 39999 "[-2003] …";
//   - declined payment: STATUS 2 with the script's code, default "Z1" 余额不足.
package mmspsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/gateways/sim"
)

// The spec's test credentials (§12.2, §12.3), the defaults.
const (
	TestMerchantNo = "001440353999853"
	TestTerminalNo = "84970001"
	TestKey        = pos.Secret("ea21842eea24e448b991b1cb0a0294cf")
)

// SpecNotifySchedule is §10.8's resend schedule of a notification until it
// is acknowledged with SUCCESS.
var SpecNotifySchedule = []time.Duration{0, 15 * time.Second, 15 * time.Second, 30 * time.Second,
	180 * time.Second, 1800 * time.Second, 1800 * time.Second, 1800 * time.Second, 1800 * time.Second,
	1800 * time.Second, 3600 * time.Second}

// Options configure a Server. Zero values take the documented defaults.
type Options struct {
	// Key signs and verifies; default TestKey.
	Key pos.Secret
	// MerchantNo and TerminalNo are the only ones accepted; default the
	// spec's test merchant and terminal. AgentNo, when set, must be sent
	// as AGENTNO (agency mode); when empty any AGENTNO is accepted.
	MerchantNo, TerminalNo, AgentNo string
	// SignSlashes must match the client's; default mmsp.SlashFAQ.
	SignSlashes mmsp.SlashRule
	// QQMicropayCommand is the CommandID taken as QQ micropay; default 776.
	QQMicropayCommand int
	// Rules are the timing rules enforced. The zero value means the spec's:
	// reverse no sooner than 15 s after the order. DemoOptions uses 1 s.
	Rules sim.Rules
	// LedgerPath keeps the orders in a JSON file (a state directory) so a
	// restarted simulator continues; empty keeps them in memory.
	LedgerPath string
	// NotifyURL, when set, receives every notification instead of the
	// order's NOTIFY_URL.
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

// DemoOptions are options for demos and tests: the spec's test merchant
// and key, reverse accepted after 1 s, notifications resent after 0, 1, 2
// and 5 s.
func DemoOptions() Options {
	return Options{
		Rules:          sim.Rules{ReverseAfter: time.Second},
		NotifySchedule: []time.Duration{0, time.Second, 2 * time.Second, 5 * time.Second},
	}
}

// ClientOptions returns mmsp client options that talk to a simulator built
// with o at endpoint, with timings as fast as o allows (poll every 500 ms,
// reverse after o.Rules.ReverseAfter, pay timeout 30 s) and Simulated set.
func ClientOptions(o Options, endpoint, notifyURL string) mmsp.Options {
	o = o.withDefaults()
	return mmsp.Options{
		Endpoint:          endpoint,
		MerchantNo:        o.MerchantNo,
		TerminalNo:        o.TerminalNo,
		AgentNo:           o.AgentNo,
		Key:               o.Key,
		NotifyURL:         notifyURL,
		QQMicropayCommand: o.QQMicropayCommand,
		SignSlashes:       o.SignSlashes,
		Simulated:         true,
		RefundSettle:      time.Millisecond,
		Timing: mmsp.TimingOptions{
			PollInterval: max(500*time.Millisecond, o.Rules.MinQueryInterval),
			PayTimeout:   30 * time.Second,
			ReverseAfter: o.Rules.ReverseAfter,
		},
	}
}

func (o Options) withDefaults() Options {
	if o.Key == "" {
		o.Key = TestKey
	}
	if o.MerchantNo == "" {
		o.MerchantNo = TestMerchantNo
	}
	if o.TerminalNo == "" {
		o.TerminalNo = TestTerminalNo
	}
	if o.SignSlashes == "" {
		o.SignSlashes = mmsp.SlashEscaped
	}
	if o.QQMicropayCommand == 0 {
		o.QQMicropayCommand = mmsp.CmdQQMicropay
	}
	if o.Rules == (sim.Rules{}) {
		o.Rules.ReverseAfter = mmsp.SpecReverseAfter
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

// Server is the simulated platform; an http.Handler for POSTs of MMSP
// messages at any path.
type Server struct {
	o      Options
	key    string
	ledger *sim.Ledger
	script sim.Script
	log    *slog.Logger
	now    func() time.Time

	ctx    context.Context // cancelled by Close: stops notification resends
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	acked map[string]bool // notifications acknowledged, by MERORDERID
}

// New validates opts and builds a Server.
func New(opts Options) (*Server, error) {
	o := opts.withDefaults()
	if !o.SignSlashes.Valid() {
		return nil, fmt.Errorf("mmspsim: unknown slash rule %q", o.SignSlashes)
	}
	if o.Rules.ReverseAfter < 0 || o.Rules.MinQueryInterval < 0 {
		return nil, errors.New("mmspsim: negative timing rule")
	}
	l, err := sim.OpenLedger(o.LedgerPath)
	if err != nil {
		return nil, err
	}
	l.SetRules(o.Rules)
	s := &Server{o: o, key: o.Key.Reveal(), ledger: l, log: o.Logger.With("simulator", "mmsp"), now: time.Now, acked: map[string]bool{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Ledger is the simulator's order book.
func (s *Server) Ledger() *sim.Ledger { return s.ledger }

// Script is the simulator's per-order script registry.
func (s *Server) Script() *sim.Script { return &s.script }

// Acked reports whether the notification for an order has been
// acknowledged with SUCCESS.
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

// request is one verified incoming message.
type request struct {
	mmsp.Message
	r *http.Request
}

// ServeHTTP answers one MMSP message.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return
	}
	h, err := peekHeader(raw)
	if err != nil {
		s.negative(w, mmsp.Header{}, mmsp.RetStructure, "消息结构体错误")
		return
	}
	switch {
	case h.Version != mmsp.Version:
		s.negative(w, h.Header, mmsp.RetStructure, "[-1007] 版本号错误")
		return
	case h.MerNo != s.o.MerchantNo || h.TermNo != s.o.TerminalNo:
		s.negative(w, h.Header, mmsp.RetStructure, "[-1002] 不存在此商户或终端")
		return
	case s.o.AgentNo != "" && h.AgentNo != s.o.AgentNo:
		s.negative(w, h.Header, mmsp.RetStructure, "[-1002] 代理商编号错误")
		return
	}
	m, err := mmsp.Parse(raw, s.key, s.o.SignSlashes)
	if errors.Is(err, mmsp.ErrBadSignature) {
		s.negative(w, h.Header, 1006, "[-1006] 签名错误")
		return
	}
	if err != nil {
		s.negative(w, h.Header, mmsp.RetStructure, "消息结构体错误")
		return
	}
	// FAQ 3: numeric fields are quoted. A number here means the client
	// signed something other than what the platform expects.
	for k, v := range m.Fields {
		if len(v) == 0 || v[0] != '"' {
			s.negative(w, m.Header, mmsp.RetStructure, "[-1001] 参数错误 "+k+" 必须为字符串")
			return
		}
	}
	req := request{Message: m, r: r}
	switch cmd := m.CommandID; {
	case cmd == mmsp.CmdWeChatMicropay:
		s.micropay(w, req, pos.WeChatPay)
	case cmd == mmsp.CmdAlipayMicropay:
		s.micropay(w, req, pos.Alipay)
	case cmd == s.o.QQMicropayCommand:
		s.micropay(w, req, pos.QQWallet)
	case cmd == mmsp.CmdWeChatQR:
		s.createQR(w, req, pos.WeChatPay)
	case cmd == mmsp.CmdAlipayQR, cmd == mmsp.CmdAlipayStaticQR, cmd == mmsp.CmdAlipayDynamicQR:
		s.createQR(w, req, pos.Alipay)
	case cmd == mmsp.CmdQQQR:
		s.createQR(w, req, pos.QQWallet)
	case cmd == mmsp.CmdUnionPayQR:
		s.createQR(w, req, pos.UnionPay)
	case cmd == mmsp.CmdJDQR:
		s.createQR(w, req, pos.JDPay)
	case cmd == mmsp.CmdQuery:
		s.query(w, req)
	case cmd == mmsp.CmdReverse:
		s.reverse(w, req)
	case cmd == mmsp.CmdClose:
		s.close(w, req)
	case cmd == mmsp.CmdRefund:
		s.refund(w, req)
	case cmd == mmsp.CmdRefundQuery:
		s.refundQuery(w, req)
	default:
		s.negative(w, m.Header, mmsp.RetStructure, fmt.Sprintf("[-1001] 不支持的命令字 %d", cmd))
	}
}

type peeked struct {
	mmsp.Header
	Version string
}

// peekHeader reads the header without trusting anything, to address the
// negative answer.
func peekHeader(raw []byte) (peeked, error) {
	var e struct {
		CommandID json.Number `json:"CommandID"`
		SeqID     json.RawMessage
		NodeType  json.RawMessage
		NodeID    string
		Version   string
		AGENTNO   string
		MERNO     string
		TERMNO    string
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return peeked{}, err
	}
	cmd, err := e.CommandID.Int64()
	if err != nil {
		return peeked{}, err
	}
	num := func(r json.RawMessage) int {
		n, _ := strconv.Atoi(strings.Trim(string(r), `"`))
		return n
	}
	return peeked{Header: mmsp.Header{CommandID: int(cmd), SeqID: num(e.SeqID), NodeType: num(e.NodeType), NodeID: e.NodeID,
		AgentNo: e.AGENTNO, MerNo: e.MERNO, TermNo: e.TERMNO}, Version: e.Version}, nil
}

// negative writes the unified negative answer (unsigned, as the spec says).
func (s *Server) negative(w http.ResponseWriter, req mmsp.Header, ret int, msg string) {
	h := mmsp.Header{CommandID: mmsp.CmdNegative, SeqID: req.SeqID, NodeType: req.NodeType, NodeID: req.NodeID,
		AgentNo: req.AgentNo, MerNo: s.o.MerchantNo, TermNo: s.o.TerminalNo, RetCode: ret, ErrorMsg: msg, Answer: true}
	s.log.Info("negative answer", "command", req.CommandID, "retCode", ret, "errorMsg", msg)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(mmsp.Marshal(h, nil, ""))
}

// answer writes a signed answer to req, after applying fault.
func (s *Server) answer(w http.ResponseWriter, req request, fields map[string]string, fault sim.Fault) {
	if fault.Transport() {
		s.log.Info("fault", "command", req.CommandID, "fault", string(fault))
		sim.ServeFault(w, req.r, fault, s.o.Hold)
		return
	}
	body := mmsp.EncodeBody(fields)
	key := s.key
	if fault == sim.BadSignature {
		key += "-wrong"
	}
	cmd := mmsp.ResponseFor(req.CommandID)
	if req.CommandID == s.o.QQMicropayCommand {
		cmd = mmsp.QQMicropayResponse
	}
	h := mmsp.Header{CommandID: cmd, SeqID: req.SeqID, NodeType: req.NodeType, NodeID: req.NodeID,
		AgentNo: req.AgentNo, MerNo: s.o.MerchantNo, TermNo: s.o.TerminalNo, RetCode: mmsp.RetOK, Answer: true}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(mmsp.Marshal(h, body, mmsp.Sign(body, key, s.o.SignSlashes)))
}

// field rules: name, maximum length in characters, required.
type rule struct {
	name     string
	max      int
	required bool
	digits   bool
}

// check applies the spec's field table; it returns the negative answer's
// message or "".
func check(m mmsp.Message, rules ...rule) string {
	for _, r := range rules {
		v := m.Str(r.name)
		switch {
		case v == "" && r.required:
			return "[-1001] 参数错误 缺少 " + r.name
		case utf8.RuneCountInString(v) > r.max:
			return fmt.Sprintf("[-1001] 参数错误 %s 超过%d位", r.name, r.max)
		case v != "" && r.digits && strings.Trim(v, "0123456789") != "":
			return "[-1001] 参数错误 " + r.name + " 必须为数字"
		}
	}
	return ""
}

func (s *Server) submitRules(req request, qr bool) string {
	notifyMax := 100
	if qr {
		notifyMax = 50
	}
	rules := []rule{
		{"AMT", 20, true, true}, {"CUR", 4, !qr, false}, {"GOODSNAME", 15, true, false},
		{"NOTIFY_URL", notifyMax, true, false}, {"MERORDERID", 20, true, false}, {"RANDSTR", 20, true, false},
		{"TIME_END", 30, false, false}, {"IP", 18, false, false}, {"LIMIT_PAY", 32, false, true}, {"ISTO", 1, false, true},
	}
	if qr {
		rules = append(rules, rule{"TRADETYPE", 1, true, true})
	} else {
		rules = append(rules, rule{"CODE", 32, true, true})
	}
	if msg := check(req.Message, rules...); msg != "" {
		return msg
	}
	if cur := req.Str("CUR"); cur != "" && cur != "CNY" {
		return "[-1001] 参数错误 CUR 仅支持CNY"
	}
	if te := req.Str("TIME_END"); te != "" {
		if _, err := time.Parse(mmsp.TimeLayout, te); err != nil {
			return "[-1001] 参数错误 TIME_END 格式应为 yyyy-mm-dd hh24:mi:ss"
		}
	}
	if qr && req.Str("TRADETYPE") != "1" {
		return "[-1001] 参数错误 TRADETYPE 仅支持1(正扫)"
	}
	if lp := req.Str("LIMIT_PAY"); lp != "" && lp != "1" && lp != "2" {
		return "[-1001] 参数错误 LIMIT_PAY"
	}
	if n, _ := strconv.ParseInt(req.Str("AMT"), 10, 64); n <= 0 {
		return "[-3005] 交易金额不符"
	}
	return ""
}

var walletTradeType = map[pos.Wallet]string{pos.WeChatPay: "1", pos.Alipay: "2", pos.QQWallet: "3", pos.UnionPay: "4", pos.JDPay: "5"}

func (s *Server) newOrder(w http.ResponseWriter, req request, wallet pos.Wallet, method string) (sim.Order, sim.Fault, bool) {
	no := req.Str("MERORDERID")
	amount, _ := strconv.ParseInt(req.Str("AMT"), 10, 64)
	o := sim.Order{OutTradeNo: no, Amount: amount, Currency: "CNY", Wallet: string(wallet), Method: method, NotifyURL: req.Str("NOTIFY_URL")}
	s.script.Behaviour(no, amount).Fill(&o)
	if method == "micropay" {
		code, err := pos.ParseAuthCode(req.Str("CODE"))
		o.CodeMasked = pos.MaskCode(req.Str("CODE"))
		if err != nil || code.Wallet() != wallet {
			o.Scenario, o.DeclineCode, o.DeclineMsg = sim.Decline, "Z2", "付款码无效"
		}
	}
	created, err := s.ledger.NewOrder(o)
	if errors.Is(err, sim.ErrDuplicate) {
		s.negative(w, req.Header, 1008, "[-1008] 商户订单号重复")
		return sim.Order{}, "", false
	}
	if err != nil {
		s.log.Error("ledger", "err", err.Error())
		sim.ServeFault(w, req.r, sim.HTTP5xx, 0)
		return sim.Order{}, "", false
	}
	s.log.Info("order", "outTradeNo", no, "amount", amount, "wallet", string(wallet), "method", method, "scenario", string(created.Scenario), "state", string(created.State))
	return created, s.script.TakeFault(no, amount, sim.OpSubmit), true
}

func (s *Server) micropay(w http.ResponseWriter, req request, wallet pos.Wallet) {
	if msg := s.submitRules(req, false); msg != "" {
		s.negative(w, req.Header, mmsp.RetStructure, msg)
		return
	}
	o, fault, ok := s.newOrder(w, req, wallet, "micropay")
	if !ok {
		return
	}
	// §5.2.3 note: an immediate success is not pushed. Scripts push anyway.
	if o.State == sim.Success {
		s.maybeNotify(o, fault)
	}
	f := map[string]string{
		"ORDERNO":    o.TransactionID,
		"TRADETIME":  o.CreatedAt.In(cst).Format(mmsp.TimeLayout),
		"MERORDERID": o.OutTradeNo,
	}
	statusFields(f, o)
	s.answer(w, req, f, fault)
}

func (s *Server) createQR(w http.ResponseWriter, req request, wallet pos.Wallet) {
	if msg := s.submitRules(req, true); msg != "" {
		s.negative(w, req.Header, mmsp.RetStructure, msg)
		return
	}
	o, fault, ok := s.newOrder(w, req, wallet, "qr")
	if !ok {
		return
	}
	f := map[string]string{
		"ORDERNO":    o.TransactionID,
		"URL":        qrURL(wallet, o.TransactionID),
		"TRADETYPE":  "1",
		"TRADETIME":  o.CreatedAt.In(cst).Format(mmsp.TimeLayout),
		"MERORDERID": o.OutTradeNo,
		"STATUS":     "1",
	}
	s.answer(w, req, f, fault)
}

func qrURL(w pos.Wallet, id string) string {
	switch w {
	case pos.WeChatPay:
		return "weixin://wxpay/bizpayurl?pr=sim" + id
	case pos.Alipay:
		return "https://qr.alipay.com/sim" + id
	}
	return "https://mmsp-sim.invalid/qr/" + string(w) + "/" + id
}

var cst = time.FixedZone("CST", 8*3600)

// statusFields sets STATUS, ERR_CODE and ERR_CODE_MSG for an order's state.
func statusFields(f map[string]string, o sim.Order) {
	switch o.State {
	case sim.Success, sim.Refunded:
		f["STATUS"] = "1"
	case sim.UserPaying, sim.NotPay:
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "3", "AA", "用户支付中"
	case sim.PayError:
		code, msg := o.DeclineCode, o.DeclineMsg
		if code == "" {
			code = "Z1"
		}
		if msg == "" {
			msg = "余额不足"
		}
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "2", code, msg
	case sim.Revoked:
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "2", "D4", "订单已撤销"
	case sim.Closed:
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "2", "D4", "订单已关闭"
	default:
		f["STATUS"] = "0"
	}
}

func orderFields(f map[string]string, o sim.Order) {
	f["ORDERNO"] = o.TransactionID
	f["MERORDERID"] = o.OutTradeNo
	if o.Amount > 0 {
		f["AMT"] = strconv.FormatInt(o.Amount, 10)
	}
	if !o.CreatedAt.IsZero() {
		f["TRADETIME"] = o.CreatedAt.In(cst).Format(mmsp.TimeLayout)
	}
	if !o.PaidAt.IsZero() {
		f["PAYTIME"] = o.PaidAt.In(cst).Format(mmsp.TimeLayout)
	}
	f["TRADETYPE"] = walletTradeType[pos.Wallet(o.Wallet)]
}

// findOrder resolves MERORDERID or ORDERNO, one of which must be sent.
func (s *Server) findOrder(w http.ResponseWriter, req request) (string, bool) {
	if msg := check(req.Message, rule{"MERORDERID", 20, false, false}, rule{"ORDERNO", 20, false, false}, rule{"RANDSTR", 20, true, false}); msg != "" {
		s.negative(w, req.Header, mmsp.RetStructure, msg)
		return "", false
	}
	if no := req.Str("MERORDERID"); no != "" {
		return no, true
	}
	if id := req.Str("ORDERNO"); id != "" {
		for _, o := range s.ledger.Orders() {
			if o.TransactionID == id {
				return o.OutTradeNo, true
			}
		}
		s.negative(w, req.Header, mmsp.RetStructure, "[-2002] 没有该订单")
		return "", false
	}
	s.negative(w, req.Header, mmsp.RetStructure, "[-1001] 参数错误 ORDERNO与MERORDERID必须上送一个")
	return "", false
}

func (s *Server) query(w http.ResponseWriter, req request) {
	no, ok := s.findOrder(w, req)
	if !ok {
		return
	}
	before, found := s.ledger.Get(no)
	if !found || before.Tombstone {
		s.negative(w, req.Header, mmsp.RetStructure, "[-2002] 没有该订单")
		return
	}
	o, err := s.ledger.Query(no)
	if errors.Is(err, sim.ErrQueryTooSoon) {
		s.negative(w, req.Header, mmsp.RetPayFailed, "[-2003] 查询过于频繁")
		return
	}
	if err != nil {
		sim.ServeFault(w, req.r, sim.HTTP5xx, 0)
		return
	}
	fault := s.script.TakeFault(no, o.Amount, sim.OpQuery)
	if before.State != sim.Success && o.State == sim.Success {
		s.notifyPaid(o, fault)
	}
	f := map[string]string{}
	orderFields(f, o)
	statusFields(f, o)
	s.answer(w, req, f, fault)
}

func (s *Server) reverse(w http.ResponseWriter, req request) {
	no, ok := s.findOrder(w, req)
	if !ok {
		return
	}
	o, err := s.ledger.Reverse(no)
	f := map[string]string{}
	switch {
	case errors.Is(err, sim.ErrTooEarly):
		s.negative(w, req.Header, mmsp.RetPayFailed, fmt.Sprintf("[-2011] 请在支付%s后撤销", s.o.Rules.ReverseAfter))
		return
	case err != nil:
		orderFields(f, o)
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "2", "R1", "订单已退款，不能撤销"
	default:
		orderFields(f, o)
		f["STATUS"] = "1"
	}
	s.answer(w, req, f, s.script.TakeFault(no, o.Amount, sim.OpReverse))
}

func (s *Server) close(w http.ResponseWriter, req request) {
	no, ok := s.findOrder(w, req)
	if !ok {
		return
	}
	o, err := s.ledger.Close(no)
	if errors.Is(err, sim.ErrNotFound) {
		s.negative(w, req.Header, mmsp.RetStructure, "[-2002] 没有该订单")
		return
	}
	f := map[string]string{}
	orderFields(f, o)
	if err != nil {
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "2", "C1", "订单已支付，不能关闭"
	} else {
		f["STATUS"] = "1"
	}
	s.answer(w, req, f, s.script.TakeFault(no, o.Amount, sim.OpClose))
}

func refundFields(f map[string]string, r sim.Refund) {
	f["REFUND_ORDERNO"] = r.RefundID
	f["REFUND_MERORDERID"] = r.OutRefundNo
	f["AMT"] = strconv.FormatInt(r.Amount, 10)
	f["REFUND_TIME"] = r.At.In(cst).Format(mmsp.TimeLayout)
	f["STATUS"] = "1"
}

func (s *Server) refund(w http.ResponseWriter, req request) {
	no, ok := s.findOrder(w, req)
	if !ok {
		return
	}
	if msg := check(req.Message, rule{"REFUND_MERORDERID", 20, true, false}, rule{"AMT", 20, true, true}); msg != "" {
		s.negative(w, req.Header, mmsp.RetStructure, msg)
		return
	}
	amount, _ := strconv.ParseInt(req.Str("AMT"), 10, 64)
	o, r, err := s.ledger.Refund(no, req.Str("REFUND_MERORDERID"), amount)
	if errors.Is(err, sim.ErrNotFound) {
		s.negative(w, req.Header, mmsp.RetStructure, "[-2002] 没有该订单")
		return
	}
	f := map[string]string{}
	if err != nil {
		f["REFUND_MERORDERID"] = req.Str("REFUND_MERORDERID")
		f["AMT"] = req.Str("AMT")
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "2", "F1", "退款失败：可退金额不足或订单未支付"
	} else {
		refundFields(f, r)
	}
	s.answer(w, req, f, s.script.TakeFault(no, o.Amount, sim.OpRefund))
}

func (s *Server) refundQuery(w http.ResponseWriter, req request) {
	if msg := check(req.Message, rule{"REFUND_MERORDERID", 20, false, false}, rule{"REFUND_ORDERNO", 20, false, false}, rule{"RANDSTR", 20, true, false}); msg != "" {
		s.negative(w, req.Header, mmsp.RetStructure, msg)
		return
	}
	no := req.Str("REFUND_MERORDERID")
	if no == "" {
		no = req.Str("REFUND_ORDERNO")
	}
	if no == "" {
		s.negative(w, req.Header, mmsp.RetStructure, "[-1001] 参数错误 REFUND_ORDERNO与REFUND_MERORDERID必须上送一个")
		return
	}
	o, r, err := s.ledger.FindRefundByNo(no)
	if err != nil {
		s.negative(w, req.Header, mmsp.RetStructure, "[-2002] 没有该订单")
		return
	}
	f := map[string]string{}
	refundFields(f, r)
	s.answer(w, req, f, s.script.TakeFault(o.OutTradeNo, o.Amount, sim.OpQueryRefund))
}
