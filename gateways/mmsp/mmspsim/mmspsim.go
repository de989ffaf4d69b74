// Package mmspsim simulates the MMSP open platform's scan-code interface
// (扫码接口规范 in shared/specs/mmsp-openplat-zh.txt) over real HTTP. It is
// a second reading of the spec: its signing, JSON encoding, parsing and
// field tables are written here from the spec and import nothing of the
// adapter (gateways/mmsp), so where the two readings differ the contract
// suite and the truth check find it. It is built on gateways/sim's Base:
// the ledger (in memory or a state directory), Behaviour scripts, scripted
// answers that move the truth independently of their words, and 2324
// notifications on §10.8's resend schedule.
//
// It runs inside `posagent demo` and as its own process (`posagent
// simulate --gateway mmsp`): New(DemoOptions()) has fast timings,
// New(Options{}) the spec's. The pairing with an adapter (which options
// make an mmsp.Client talk to it) lives with the tests and cmd/posagent.
//
// # Its reading of the spec
//
//   - Signing (§3.3.2.1): the Body's fields sorted A–Z, json_encoded as PHP
//     does with JSON_UNESCAPED_UNICODE (中文不需要转码, "/" as "\/"),
//     "&key=" and the key appended, MD5, upper-case hex. Options.SignSlashes
//     offers the FAQ's reading ("faq": every "\" signed as "/") and "plain".
//   - Every request value is a JSON string (the tables type them
//     string(n)); a field the command's table does not list, a missing 必须
//     field, or one longer than string(n) characters is refused with
//     "[-1001] 参数错误". NOTIFY_URL is 必须 on every payment command.
//   - QQ micropay is command 776 (configurable), answered by 35094 (§3.2.1).
//   - Answers carry RetCode 1 (§11 成功), MERNO, TERMNO and every field
//     their table marks 必须; 2310 carries AMT.
//   - Negative answers (32768) are unsigned, RetCode 0 with a "[-N]"
//     sub-code as the document's examples show, or 39999 支付失败.
//   - Refund 2312 and 2313 answer STATUS 1 受理成功 for an accepted or
//     executed refund and 2 退款失败 for a refused one.
//
// Answers it invents where the spec is silent (each is one the adapter
// reads as Unknown or as a refusal before processing):
//   - bad signature: "[-1006] 签名错误"; wrong version "[-1007]"; another
//     merchant, terminal or agency "[-1002]"; bad fields "[-1001]";
//   - a reused MERORDERID: "[-1008] 流水号重复";
//   - an unknown order: "[-2002] 没有该订单", as the quick-pay example;
//   - 撤销 sooner than Rules.ReverseAfter: RetCode 39999 "[-2011] …";
//   - a query sooner than Rules.MinQueryInterval: 39999 "[-2003] 查询过于频繁";
//   - a declined payment: STATUS 2 with the script's code, default "Z1" 余额不足.
package mmspsim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/sim"
)

// The spec's test credentials (§12.2, §12.3), the defaults.
const (
	TestMerchantNo = "001440353999853"
	TestTerminalNo = "84970001"
	TestKey        = pos.Secret("ea21842eea24e448b991b1cb0a0294cf")
)

// SpecReverseAfter is §10.4's advice: 撤销 at least 15 s after the payment.
const SpecReverseAfter = 15 * time.Second

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
	// SignSlashes is the slash rule of the signed text: SlashEscaped
	// (default), SlashFAQ or SlashPlain.
	SignSlashes string
	// QQMicropayCommand is the CommandID taken as QQ micropay; default 776.
	// It is answered by 35094, as §3.2.1 pairs them.
	QQMicropayCommand int
	// Rules are the timing rules enforced. The zero value means the spec's:
	// 撤销 no sooner than 15 s after the order. DemoOptions uses 1 s.
	Rules sim.Rules
	// LedgerPath keeps the orders in a file (a state directory) so a
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
// and key, 撤销 accepted after 1 s, notifications resent after 0, 1, 2
// and 5 s.
func DemoOptions() Options {
	return Options{
		Rules:          sim.Rules{ReverseAfter: time.Second},
		NotifySchedule: []time.Duration{0, time.Second, 2 * time.Second, 5 * time.Second},
	}
}

// WithDefaults fills the zero fields with their documented defaults.
func (o Options) WithDefaults() Options {
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
		o.SignSlashes = SlashEscaped
	}
	if o.QQMicropayCommand == 0 {
		o.QQMicropayCommand = cmdQQMicropay
	}
	if o.Rules == (sim.Rules{}) {
		o.Rules.ReverseAfter = SpecReverseAfter
	}
	if len(o.NotifySchedule) == 0 {
		o.NotifySchedule = SpecNotifySchedule
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Hold == 0 {
		o.Hold = sim.DefaultHold
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Server is the simulated platform; an http.Handler for POSTs of MMSP
// messages at any path.
type Server struct {
	*sim.Base
	o   Options
	key string
}

// New validates opts and builds a Server.
func New(opts Options) (*Server, error) {
	o := opts.WithDefaults()
	switch o.SignSlashes {
	case SlashEscaped, SlashFAQ, SlashPlain:
	default:
		return nil, fmt.Errorf("mmspsim: unknown slash rule %q", o.SignSlashes)
	}
	if o.QQMicropayCommand <= 0 || o.QQMicropayCommand >= answerOffset {
		return nil, fmt.Errorf("mmspsim: QQ micropay command %d is not a request", o.QQMicropayCommand)
	}
	b, err := sim.NewBase(sim.BaseOptions{Name: "mmsp", LedgerPath: o.LedgerPath, Rules: o.Rules, NotifySchedule: o.NotifySchedule, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	return &Server{Base: b, o: o, key: o.Key.Reveal()}, nil
}

// Options returns the options the server runs with, defaults filled.
func (s *Server) Options() Options { return s.o }

var cst = time.FixedZone("CST", 8*3600)

// reply is one answer being built.
type reply struct {
	w   http.ResponseWriter
	r   *http.Request
	req message
}

// negative writes the unified negative answer (unsigned, §3.1).
func (s *Server) negative(rp reply, ret int, msg string) {
	h := header{CommandID: cmdNegative, SeqID: rp.req.SeqID, NodeType: rp.req.NodeType, NodeID: rp.req.NodeID,
		AgentNo: rp.req.AgentNo, MerNo: s.o.MerchantNo, TermNo: s.o.TerminalNo, RetCode: ret, ErrorMsg: msg, Answer: true}
	s.Log().Info("negative answer", "command", rp.req.CommandID, "retCode", ret, "errorMsg", msg)
	rp.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = rp.w.Write(encodeMessage(h, "", ""))
}

// answerFor is the CommandID answering cmd (§3.2.1).
func (s *Server) answerFor(cmd int) int {
	if cmd == s.o.QQMicropayCommand {
		return cmdQQMicropayAns
	}
	return cmd + answerOffset
}

// typed writes a signed answer with fields, after applying fault.
func (s *Server) typed(rp reply, f map[string]string, fault sim.Fault) {
	if fault.Transport() {
		s.Log().Info("fault", "command", rp.req.CommandID, "fault", string(fault))
		sim.ServeFault(rp.w, rp.r, fault, s.o.Hold)
		return
	}
	canonical, err := stringBody(f).canonical()
	if err != nil {
		sim.ServeFault(rp.w, rp.r, sim.HTTP5xx, 0)
		return
	}
	key := s.key
	if fault == sim.BadSignature {
		key += "-wrong"
	}
	h := header{CommandID: s.answerFor(rp.req.CommandID), SeqID: rp.req.SeqID, NodeType: rp.req.NodeType, NodeID: rp.req.NodeID,
		AgentNo: rp.req.AgentNo, MerNo: s.o.MerchantNo, TermNo: s.o.TerminalNo, RetCode: 1, Answer: true}
	sig := sign(canonical, key, s.o.SignSlashes)
	if fault == sim.MissingSignature {
		sig = ""
	}
	rp.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = rp.w.Write(encodeMessage(h, canonical, sig))
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
	m, err := decode(raw)
	rp := reply{w: w, r: r, req: m}
	switch {
	case err != nil:
		s.negative(rp, 0, "消息结构体错误")
		return
	case m.Version != protocolVersion:
		s.negative(rp, 0, "[-1007] 版本号错误")
		return
	case m.MerNo != s.o.MerchantNo || m.TermNo != s.o.TerminalNo:
		s.negative(rp, 0, "[-1002] 不存在此商户或终端")
		return
	case s.o.AgentNo != "" && m.AgentNo != s.o.AgentNo:
		s.negative(rp, 0, "[-1002] 代理商编号错误")
		return
	}
	if err := m.verify(s.key, s.o.SignSlashes); err != nil {
		if errors.Is(err, errSignature) {
			s.negative(rp, 0, "[-1006] 签名错误")
		} else {
			s.negative(rp, 0, "消息结构体错误")
		}
		return
	}
	switch cmd := m.CommandID; cmd {
	case cmdWeChatMicropay:
		s.micropay(rp, pos.WeChatPay)
	case cmdAlipayMicropay:
		s.micropay(rp, pos.Alipay)
	case s.o.QQMicropayCommand:
		s.micropay(rp, pos.QQWallet)
	case cmdWeChatQR:
		s.createQR(rp, pos.WeChatPay, qrFields)
	case cmdAlipayQR:
		s.createQR(rp, pos.Alipay, qrFields)
	case cmdAlipayStatic, cmdAlipayDynamic:
		s.createQR(rp, pos.Alipay, plainQRFields)
	case cmdQQQR:
		s.createQR(rp, pos.QQWallet, qrFields)
	case cmdUnionPayQR:
		s.createQR(rp, pos.UnionPay, plainQRFields)
	case cmdJDQR:
		s.createQR(rp, pos.JDPay, plainQRFields)
	case cmdQuery:
		s.query(rp)
	case cmdReverse:
		s.reverse(rp)
	case cmdClose:
		s.close(rp)
	case cmdRefund:
		s.refund(rp)
	case cmdRefundQuery:
		s.refundQuery(rp)
	default:
		s.negative(rp, 0, fmt.Sprintf("[-1001] 不支持的命令字 %d", cmd))
	}
}

// scripted takes the answer scripted for this call of op, moves the truth
// as it says and, unless the words are honest, gives them; it reports
// whether the call is answered. describe builds a typed answer from the
// order as it now stands.
func (s *Server) scripted(rp reply, op sim.Op, no string, ref sim.RefundRef, describe func(code string, o sim.Order) map[string]string) bool {
	a, ok := s.TakeAnswer(no, op)
	if !ok {
		return false
	}
	o, err := s.Settle(op, no, a.Truth, ref)
	if err != nil && !errors.Is(err, sim.ErrSettled) && !errors.Is(err, sim.ErrNotFound) {
		s.Log().Warn("truth", "err", err.Error())
	}
	switch a.Code {
	case sim.CodeHonest:
		return false
	case sim.CodeNoAnswer:
		sim.ServeFault(rp.w, rp.r, sim.NoAnswer, s.o.Hold)
		return true
	}
	if n, ok := negatives[a.Code]; ok {
		s.negative(rp, n.ret, n.msg)
		return true
	}
	f := describe(a.Code, o)
	if f == nil {
		s.Log().Warn("scripted code not understood; answering honestly", "code", a.Code)
		return false
	}
	s.typed(rp, f, sim.FaultNone)
	return true
}

// status writes STATUS, ERR_CODE and ERR_CODE_MSG for a scripted code.
func status(f map[string]string, code string) map[string]string {
	switch code {
	case CodeStatus1:
		f["STATUS"] = "1"
	case CodeStatus2:
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "2", "Z9", "交易失败"
	case CodeStatus3:
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "3", "AA", "用户支付中"
	default:
		return nil
	}
	return f
}

var walletTradeType = map[pos.Wallet]string{pos.WeChatPay: "1", pos.Alipay: "2", pos.QQWallet: "3", pos.UnionPay: "4", pos.JDPay: "5"}

func (s *Server) newOrder(rp reply, wallet pos.Wallet, method string) (sim.Order, sim.Fault, bool) {
	bd := rp.req.Body
	no := bd.str("MERORDERID")
	amount, _ := strconv.ParseInt(bd.str("AMT"), 10, 64)
	o := sim.Order{OutTradeNo: no, Amount: amount, Currency: "CNY", Wallet: string(wallet), Method: method, NotifyURL: bd.str("NOTIFY_URL")}
	s.Script().Behaviour(no, amount).Fill(&o)
	if method == "micropay" {
		code, err := pos.ParseAuthCode(bd.str("CODE"))
		o.CodeMasked = pos.MaskCode(bd.str("CODE"))
		if err != nil || code.Wallet() != wallet {
			o.Scenario, o.DeclineCode, o.DeclineMsg = sim.Decline, "Z2", "付款码无效"
		}
	}
	created, err := s.Ledger().NewOrder(o)
	if errors.Is(err, sim.ErrDuplicate) {
		s.negative(rp, 0, "[-1008] 流水号重复")
		return sim.Order{}, "", false
	}
	if err != nil {
		s.Log().Error("ledger", "err", err.Error())
		sim.ServeFault(rp.w, rp.r, sim.HTTP5xx, 0)
		return sim.Order{}, "", false
	}
	s.Log().Info("order", "outTradeNo", no, "amount", amount, "wallet", string(wallet), "method", method, "scenario", string(created.Scenario), "state", string(created.State))
	return created, s.Script().TakeFault(no, amount, sim.OpSubmit), true
}

// payRules checks a payment request; ok is false once it is refused.
func (s *Server) payRules(rp reply, table []field, qr bool) bool {
	bd := rp.req.Body
	msg := checkFields(bd, table)
	if msg == "" {
		msg = checkPay(bd, qr)
	}
	if msg != "" {
		s.negative(rp, 0, msg)
		return false
	}
	if n, _ := strconv.ParseInt(bd.str("AMT"), 10, 64); n <= 0 {
		s.negative(rp, 0, "[-3005] 交易金额不符")
		return false
	}
	return true
}

func (s *Server) micropay(rp reply, wallet pos.Wallet) {
	if !s.payRules(rp, micropayFields, false) {
		return
	}
	o, fault, ok := s.newOrder(rp, wallet, "micropay")
	if !ok {
		return
	}
	describe := func(code string, o sim.Order) map[string]string {
		return status(s.payFields(o), code)
	}
	if s.scripted(rp, sim.OpSubmit, o.OutTradeNo, sim.RefundRef{}, describe) {
		return
	}
	o, _ = s.Ledger().Get(o.OutTradeNo)
	// §5.2.3 note: an immediate success is not pushed. Scripts push anyway.
	if o.State == sim.Success && (fault == sim.NotifyBeforeResponse || fault == sim.NotifyDuplicate) {
		s.notifyPaid(o, fault)
	}
	f := s.payFields(o)
	orderStatus(f, o)
	s.typed(rp, f, fault)
}

// payFields are a pay answer's fields (§5.2.3).
func (s *Server) payFields(o sim.Order) map[string]string {
	return map[string]string{
		"ORDERNO":    o.TransactionID,
		"TRADETIME":  o.CreatedAt.In(cst).Format(timeLayout),
		"MERORDERID": o.OutTradeNo,
	}
}

func (s *Server) createQR(rp reply, wallet pos.Wallet, table []field) {
	if !s.payRules(rp, table, true) {
		return
	}
	o, fault, ok := s.newOrder(rp, wallet, "qr")
	if !ok {
		return
	}
	qrFields := func(o sim.Order) map[string]string {
		return map[string]string{
			"ORDERNO":    o.TransactionID,
			"URL":        qrURL(wallet, o.TransactionID),
			"TRADETYPE":  "1",
			"TRADETIME":  o.CreatedAt.In(cst).Format(timeLayout),
			"MERORDERID": o.OutTradeNo,
		}
	}
	describe := func(code string, o sim.Order) map[string]string {
		f := qrFields(o)
		if code != CodeStatus1 {
			delete(f, "URL")
		}
		return status(f, code)
	}
	if s.scripted(rp, sim.OpSubmit, o.OutTradeNo, sim.RefundRef{}, describe) {
		return
	}
	f := qrFields(o)
	f["STATUS"] = "1"
	s.typed(rp, f, fault)
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

// orderStatus sets STATUS, ERR_CODE and ERR_CODE_MSG for an order's state
// (§10.3.2, §11 AA and D4).
func orderStatus(f map[string]string, o sim.Order) {
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

// orderFields are the fields §10.3.2, §10.4.2 and §10.5.2 answer with.
func orderFields(o sim.Order) map[string]string {
	f := map[string]string{"ORDERNO": o.TransactionID, "MERORDERID": o.OutTradeNo, "TRADETYPE": walletTradeType[pos.Wallet(o.Wallet)]}
	if o.Amount > 0 {
		f["AMT"] = strconv.FormatInt(o.Amount, 10)
	}
	if !o.CreatedAt.IsZero() {
		f["TRADETIME"] = o.CreatedAt.In(cst).Format(timeLayout)
	}
	if !o.PaidAt.IsZero() {
		f["PAYTIME"] = o.PaidAt.In(cst).Format(timeLayout)
	}
	return f
}

// findOrder resolves MERORDERID or ORDERNO, one of which must be sent
// (§10.3.1 跟交易订单号其中必须上送一个).
func (s *Server) findOrder(rp reply, table []field) (string, bool) {
	bd := rp.req.Body
	if msg := checkFields(bd, table); msg != "" {
		s.negative(rp, 0, msg)
		return "", false
	}
	if no := bd.str("MERORDERID"); no != "" {
		return no, true
	}
	if id := bd.str("ORDERNO"); id != "" {
		for _, o := range s.Ledger().Orders() {
			if o.TransactionID == id {
				return o.OutTradeNo, true
			}
		}
		s.negative(rp, 0, "[-2002] 没有该订单")
		return "", false
	}
	s.negative(rp, 0, "[-1001] 参数错误 ORDERNO与MERORDERID必须上送一个")
	return "", false
}

func (s *Server) query(rp reply) {
	no, ok := s.findOrder(rp, orderRefFields)
	if !ok {
		return
	}
	describe := func(code string, o sim.Order) map[string]string {
		f := orderFields(o)
		if f["AMT"] == "" {
			f["AMT"] = "1"
		}
		return status(f, code)
	}
	if s.scripted(rp, sim.OpQuery, no, sim.RefundRef{}, describe) {
		return
	}
	before, found := s.Ledger().Get(no)
	if !found || before.Tombstone {
		s.negative(rp, 0, "[-2002] 没有该订单")
		return
	}
	o, err := s.Ledger().Query(no)
	if errors.Is(err, sim.ErrQueryTooSoon) {
		s.negative(rp, 39999, "[-2003] 查询过于频繁")
		return
	}
	if err != nil {
		sim.ServeFault(rp.w, rp.r, sim.HTTP5xx, 0)
		return
	}
	fault := s.Script().TakeFault(no, o.Amount, sim.OpQuery)
	if before.State != sim.Success && o.State == sim.Success {
		s.notifyPaid(o, fault)
	}
	f := orderFields(o)
	orderStatus(f, o)
	s.typed(rp, f, fault)
}

func (s *Server) reverse(rp reply) {
	no, ok := s.findOrder(rp, orderRefFields)
	if !ok {
		return
	}
	describe := func(code string, o sim.Order) map[string]string {
		f := orderFields(o)
		f["MERORDERID"] = no
		return status(f, code)
	}
	if s.scripted(rp, sim.OpReverse, no, sim.RefundRef{}, describe) {
		return
	}
	o, err := s.Ledger().Reverse(no)
	f := orderFields(o)
	f["MERORDERID"] = no
	switch {
	case errors.Is(err, sim.ErrTooEarly):
		s.negative(rp, 39999, fmt.Sprintf("[-2011] 请在支付%s后撤销", s.o.Rules.ReverseAfter))
		return
	case err != nil:
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "2", "R1", "订单已退款，不能撤销"
	default:
		f["STATUS"] = "1"
	}
	s.typed(rp, f, s.Script().TakeFault(no, o.Amount, sim.OpReverse))
}

func (s *Server) close(rp reply) {
	no, ok := s.findOrder(rp, orderRefFields)
	if !ok {
		return
	}
	describe := func(code string, o sim.Order) map[string]string {
		f := orderFields(o)
		f["MERORDERID"] = no
		return status(f, code)
	}
	if s.scripted(rp, sim.OpClose, no, sim.RefundRef{}, describe) {
		return
	}
	o, err := s.Ledger().Close(no)
	if errors.Is(err, sim.ErrNotFound) {
		s.negative(rp, 0, "[-2002] 没有该订单")
		return
	}
	f := orderFields(o)
	if err != nil {
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "2", "C1", "订单已支付，不能关闭"
	} else {
		f["STATUS"] = "1"
	}
	s.typed(rp, f, s.Script().TakeFault(no, o.Amount, sim.OpClose))
}

// refundAnswer are §10.6.2 / §10.7.2's fields for a refund: STATUS 1
// 受理成功 when accepted or executed, 2 退款失败 when refused.
func refundAnswer(r sim.Refund) map[string]string {
	f := map[string]string{
		"REFUND_ORDERNO":    r.RefundID,
		"REFUND_MERORDERID": r.OutRefundNo,
		"AMT":               strconv.FormatInt(r.Amount, 10),
		"REFUND_TIME":       r.At.In(cst).Format(timeLayout),
		"STATUS":            "1",
	}
	if r.Status == sim.RefundRefused {
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "2", "F2", "退款失败"
	}
	return f
}

func (s *Server) refund(rp reply) {
	no, ok := s.findOrder(rp, refundFields)
	if !ok {
		return
	}
	bd := rp.req.Body
	rno := bd.str("REFUND_MERORDERID")
	amount, _ := strconv.ParseInt(bd.str("AMT"), 10, 64)
	describe := func(code string, o sim.Order) map[string]string {
		r := sim.Refund{OutRefundNo: rno, Amount: amount, At: time.Now()}
		if _, found, err := s.Ledger().FindRefund(no, rno); err == nil {
			r = found
		}
		f := refundAnswer(r)
		delete(f, "ERR_CODE")
		delete(f, "ERR_CODE_MSG")
		return status(f, code)
	}
	if s.scripted(rp, sim.OpRefund, no, sim.RefundRef{OutRefundNo: rno, Amount: amount}, describe) {
		return
	}
	o, r, err := s.Ledger().Refund(no, rno, amount)
	if errors.Is(err, sim.ErrNotFound) {
		s.negative(rp, 0, "[-2002] 没有该订单")
		return
	}
	f := map[string]string{}
	if err != nil {
		f["REFUND_MERORDERID"], f["AMT"] = rno, bd.str("AMT")
		f["STATUS"], f["ERR_CODE"], f["ERR_CODE_MSG"] = "2", "F1", "退款失败：可退金额不足或订单未支付"
	} else {
		f = refundAnswer(r)
	}
	s.typed(rp, f, s.Script().TakeFault(no, o.Amount, sim.OpRefund))
}

func (s *Server) refundQuery(rp reply) {
	bd := rp.req.Body
	if msg := checkFields(bd, refundQueryFields); msg != "" {
		s.negative(rp, 0, msg)
		return
	}
	rno := bd.str("REFUND_MERORDERID")
	if rno == "" {
		rno = bd.str("REFUND_ORDERNO")
	}
	if rno == "" {
		s.negative(rp, 0, "[-1001] 参数错误 REFUND_ORDERNO与REFUND_MERORDERID必须上送一个")
		return
	}
	o, r, err := s.Ledger().FindRefundByNo(rno)
	if err != nil {
		s.negative(rp, 0, "[-2002] 没有该订单")
		return
	}
	describe := func(code string, o sim.Order) map[string]string {
		if _, now, err := s.Ledger().FindRefund(o.OutTradeNo, r.OutRefundNo); err == nil {
			r = now
		}
		f := refundAnswer(r)
		delete(f, "ERR_CODE")
		delete(f, "ERR_CODE_MSG")
		return status(f, code)
	}
	if s.scripted(rp, sim.OpQueryRefund, o.OutTradeNo, sim.RefundRef{OutRefundNo: r.OutRefundNo, Amount: r.Amount}, describe) {
		return
	}
	_, r, _ = s.Ledger().FindRefund(o.OutTradeNo, r.OutRefundNo)
	s.typed(rp, refundAnswer(r), s.Script().TakeFault(o.OutTradeNo, o.Amount, sim.OpQueryRefund))
}

// notifyURL is where an order's notification goes.
func (s *Server) notifyURL(o sim.Order) string {
	if s.o.NotifyURL != "" {
		return s.o.NotifyURL
	}
	return o.NotifyURL
}
