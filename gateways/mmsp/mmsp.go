package mmsp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/internal/keyfile"
)

// Kind is the registered adapter kind.
const Kind = "mmsp"

// Spec timing rules.
const (
	// SpecReverseAfter: §10.4 "建议支付后至少15s后再调用撤销订单接口".
	SpecReverseAfter = 15 * time.Second
	// MinPollInterval: the spec sets no query interval; this is posagent's
	// floor for a real endpoint.
	MinPollInterval = 5 * time.Second
	// DefaultCallTimeout bounds one exchange: below SpecReverseAfter.
	DefaultCallTimeout = 10 * time.Second
	// DefaultRefundSettle: see Options.RefundSettle.
	DefaultRefundSettle = 2 * time.Minute
	// QR orders' NOTIFY_URL is string(50) (§5.1.2, §6.1.1, §6.3.1, §6.4.1,
	// §7.1.1, §8.1.1, §9.1.1); micropay's is string(100).
	maxNotifyURL = 50
	// GOODSNAME is string(15) "长度限制 1~15个字符串"; cut to 15 bytes on a
	// character boundary, which satisfies both readings (see the doc).
	maxGoodsName = 15
	// AGENTNO is string(8) in the header table, but §3.1's example carries
	// 15 digits (an agency number is a merchant-style number): 15.
	maxAgentNo = 15
)

// Options configure a Client. Zero values take the documented defaults.
type Options struct {
	// Endpoint is the platform URL every message is POSTed to (§12.1: ask
	// the operator). https is required unless Simulated is set or the host
	// is a loopback address.
	Endpoint string `yaml:"endpoint"`
	// MerchantNo (MERNO, up to 15 characters) and TerminalNo (TERMNO, up
	// to 8) are issued by the platform. Required.
	MerchantNo string `yaml:"merchant_no"`
	TerminalNo string `yaml:"terminal_no"`
	// AgentNo (AGENTNO) selects agency mode (机构模式): it is sent in every
	// header and Key must then be the agency's key, which the spec says
	// takes priority over the merchant's. Empty: merchant mode, AGENTNO not
	// sent.
	AgentNo string `yaml:"agent_no"`
	// Key is the MD5 signing key; KeyFile names a file holding it instead
	// (resolved against gateways.Env.Dir, and refused when group or others
	// may read it). Exactly one is required.
	Key     pos.Secret `yaml:"key"`
	KeyFile string     `yaml:"key_file"`
	// NotifyURL is sent as NOTIFY_URL: the daemon's notification endpoint
	// (2324, §10.8) as the platform reaches it. Required only when
	// notifications are used (the daemon's notify_listen); empty leaves
	// NOTIFY_URL out and the adapter declares no notifications. At most 50
	// characters: the QR commands' NOTIFY_URL is string(50) (100 on
	// micropay), and it is checked here, not at the first QR order.
	NotifyURL string `yaml:"notify_url"`
	// NodeID is the header's NodeID; default "openplat".
	NodeID string `yaml:"node_id"`
	// QQMicropayCommand is the CommandID of QQ Wallet micropay; default
	// 776 as documented (see the package doc for why it is configurable).
	QQMicropayCommand int `yaml:"qq_micropay_command"`
	// QQMicropayAnswer is the only CommandID accepted as its answer;
	// default 35094 (0x8916) as §3.2.1 pairs it, never 776+0x8000 (33544,
	// the quick-pay card-binding query's answer) unless set so.
	QQMicropayAnswer int `yaml:"qq_micropay_answer"`
	// AlipayQR picks the Alipay merchant-QR command: "preorder" (2308
	// 正扫下预订单, default), "static" (1026 静态码) or "dynamic" (1027 动态码).
	AlipayQR string `yaml:"alipay_qr"`
	// GoodsName is GOODSNAME when a request has no description; default
	// "posagent". Names are cut to the wire's 15 characters.
	GoodsName string `yaml:"goods_name"`
	// OrderExpiry sets TIME_END to now plus this on micropay and on QR
	// orders without their own expiry; 0 leaves it out (the platform's
	// default is 5 minutes).
	OrderExpiry time.Duration `yaml:"order_expiry"`
	// LimitCredit sends LIMIT_PAY=1 (no credit cards) on the commands whose
	// tables list LIMIT_PAY (2306, 2307, 2308, 2309, 2325, 776); default
	// unlimited. 1025, 1026, 1027 and 1031 do not take it.
	LimitCredit bool `yaml:"limit_credit"`
	// ClientIP is sent as IP (up to 18 characters) when set.
	ClientIP string `yaml:"client_ip"`
	// SignSlashes is the slash rule of signing: "escaped" (default,
	// §3.3.2.1: json_encode's output as it is), "faq" or "plain"; see
	// SlashRule and the package doc.
	SignSlashes SlashRule `yaml:"sign_slashes"`
	// ClientCertFile and ClientKeyFile are the merchant certificate and
	// its private key (PEM), presented as a TLS client certificate on
	// every connection to the endpoint: §3.1 证书要求 "调用申请退款、撤销订单
	// 接口需要商户证书". Both or neither; resolved against gateways.Env.Dir;
	// the key file must not be readable by group or others.
	ClientCertFile string `yaml:"client_cert_file"`
	ClientKeyFile  string `yaml:"client_key_file"`
	// RefundSettle is how long after its REFUND_TIME a refund that 2313
	// still reports 受理成功 (accepted) is taken as refunded; until then it
	// is processing and queried again. Default 2 minutes.
	RefundSettle time.Duration `yaml:"refund_settle"`
	// Timing overrides the follow-up rules; zero fields keep the defaults
	// (poll 5 s, pay timeout 60 s, QR timeout 5 min, reverse after 15 s).
	// Values below the spec minimums are refused unless Simulated.
	Timing TimingOptions `yaml:"timing"`
	// CallTimeout bounds one HTTP exchange; default 10 s, below the 15 s
	// of ReverseAfter, so a 撤销 timed from a timed-out pay keeps the gap.
	CallTimeout time.Duration `yaml:"call_timeout"`
	// Simulated marks an endpoint that is a simulator: it allows plain
	// http and timings faster than the spec's.
	Simulated bool `yaml:"simulated"`
}

// TimingOptions are the overridable parts of gateways.Timing.
type TimingOptions struct {
	PollInterval time.Duration `yaml:"poll_interval"`
	PayTimeout   time.Duration `yaml:"pay_timeout"`
	QRTimeout    time.Duration `yaml:"qr_timeout"`
	ReverseAfter time.Duration `yaml:"reverse_after"`
}

// DefaultTiming is the adapter's timing for a real endpoint.
func DefaultTiming() gateways.Timing {
	return gateways.Timing{
		PollInterval:    MinPollInterval,
		MinPollInterval: MinPollInterval,
		PayTimeout:      60 * time.Second,
		QRTimeout:       5 * time.Minute,
		ReverseAfter:    SpecReverseAfter,
		CallTimeout:     DefaultCallTimeout,
	}.WithDefaults()
}

// Client is the MMSP adapter.
type Client struct {
	opts   Options
	key    string
	rule   SlashRule
	timing gateways.Timing
	http   *http.Client
	log    *slog.Logger
	seq    atomic.Int64
	// now and randStr are replaced by tests for byte-exact requests.
	now     func() time.Time
	randStr func() string
	alipayQ int
}

// Interface guards.
var (
	_ gateways.Gateway    = (*Client)(nil)
	_ gateways.Micropayer = (*Client)(nil)
	_ gateways.QRCreator  = (*Client)(nil)
	_ gateways.Reverser   = (*Client)(nil)
	_ gateways.Closer     = (*Client)(nil)
	_ gateways.Refunder   = (*Client)(nil)
	_ gateways.Notifier   = (*Client)(nil)
)

func init() { gateways.RegisterOptions(Kind, New) }

// cst is the platform's time zone (UTC+8) for TIME_END and the answers'
// times; fixed, so the daemon needs no tzdata.
var cst = time.FixedZone("CST", 8*3600)

// New validates opts and builds a Client.
func New(opts Options, env gateways.Env) (*Client, error) {
	const op = "mmsp.New"
	bad := func(format string, args ...any) (*Client, error) {
		return nil, pos.Errorf(pos.Invalid, op, format, args...)
	}
	u, err := url.Parse(opts.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return bad("endpoint %q is not an http(s) URL", opts.Endpoint)
	}
	if u.Scheme == "http" && !opts.Simulated && !isLoopback(u.Hostname()) {
		return bad("endpoint %q must use https (the spec requires it); set simulated for a simulator", opts.Endpoint)
	}
	if opts.MerchantNo == "" || len(opts.MerchantNo) > 15 || !validText(opts.MerchantNo) {
		return bad("merchant_no must be 1 to 15 characters")
	}
	if opts.TerminalNo == "" || len(opts.TerminalNo) > 8 || !validText(opts.TerminalNo) {
		return bad("terminal_no must be 1 to 8 characters")
	}
	if len(opts.AgentNo) > maxAgentNo || !validText(opts.AgentNo) {
		return bad("agent_no must be at most %d characters (AGENTNO)", maxAgentNo)
	}
	key, err := loadKey(opts, env.Dir)
	if err != nil {
		return nil, err
	}
	if opts.NotifyURL != "" {
		nu, err := url.Parse(opts.NotifyURL)
		if err != nil || nu.Host == "" || (nu.Scheme != "http" && nu.Scheme != "https") || !validText(opts.NotifyURL) {
			return bad("notify_url must be an absolute http(s) URL")
		}
		if len(opts.NotifyURL) > maxNotifyURL {
			return bad("notify_url is %d characters; the QR commands' NOTIFY_URL is string(%d)", len(opts.NotifyURL), maxNotifyURL)
		}
	}
	if opts.NodeID == "" {
		opts.NodeID = DefaultNodeID
	}
	if len(opts.NodeID) > 20 || !validText(opts.NodeID) {
		return bad("node_id must be at most 20 characters")
	}
	if opts.QQMicropayCommand == 0 {
		opts.QQMicropayCommand = CmdQQMicropay
	}
	if opts.QQMicropayCommand < 1 || opts.QQMicropayCommand >= ResponseOffset {
		return bad("qq_micropay_command %d is not a request CommandID", opts.QQMicropayCommand)
	}
	if opts.QQMicropayAnswer == 0 {
		opts.QQMicropayAnswer = QQMicropayResponse
	}
	if opts.QQMicropayAnswer < ResponseOffset || opts.QQMicropayAnswer > 0xFFFF {
		return bad("qq_micropay_answer %d is not an answer CommandID", opts.QQMicropayAnswer)
	}
	if opts.RefundSettle < 0 {
		return bad("refund_settle must not be negative")
	}
	if opts.RefundSettle == 0 {
		opts.RefundSettle = DefaultRefundSettle
	}
	c := &Client{opts: opts, key: key, now: time.Now, randStr: randomString}
	switch opts.AlipayQR {
	case "", "preorder":
		c.alipayQ = CmdAlipayQR
	case "static":
		c.alipayQ = CmdAlipayStaticQR
	case "dynamic":
		c.alipayQ = CmdAlipayDynamicQR
	default:
		return bad("alipay_qr %q: want preorder, static or dynamic", opts.AlipayQR)
	}
	if opts.GoodsName == "" {
		c.opts.GoodsName = "posagent"
	}
	if !validText(c.opts.GoodsName) {
		return bad("goods_name has control characters or invalid UTF-8")
	}
	if len(c.opts.GoodsName) > maxGoodsName {
		return bad("goods_name is %d bytes; GOODSNAME is string(%d)", len(c.opts.GoodsName), maxGoodsName)
	}
	if opts.OrderExpiry < 0 {
		return bad("order_expiry must not be negative")
	}
	if len(opts.ClientIP) > 18 || (opts.ClientIP != "" && net.ParseIP(opts.ClientIP) == nil) {
		return bad("client_ip %q is not an IP address of at most 18 characters", opts.ClientIP)
	}
	c.rule = opts.SignSlashes
	if c.rule == "" {
		c.rule = SlashEscaped
	}
	if !c.rule.Valid() {
		return bad("sign_slashes %q: want faq, escaped or plain", opts.SignSlashes)
	}
	if c.timing, err = timing(opts); err != nil {
		return nil, err
	}
	if c.http, err = httpClient(opts, env); err != nil {
		return nil, err
	}
	c.log = env.Logger
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("gateway", Kind)
	if opts.ClientCertFile == "" && !opts.Simulated && !isLoopback(u.Hostname()) {
		c.log.Warn("no merchant certificate configured: §3.1 says refund and 撤销 need one (client_cert_file, client_key_file)")
	}
	return c, nil
}

// httpClient is env's client, with the merchant certificate added to its
// TLS configuration when one is configured.
func httpClient(opts Options, env gateways.Env) (*http.Client, error) {
	const op = "mmsp.New"
	hc := env.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	if (opts.ClientCertFile == "") != (opts.ClientKeyFile == "") {
		return nil, pos.Errorf(pos.Invalid, op, "client_cert_file and client_key_file go together")
	}
	if opts.ClientCertFile == "" {
		return hc, nil
	}
	resolve := func(p string) string {
		if !filepath.IsAbs(p) && env.Dir != "" {
			return filepath.Join(env.Dir, p)
		}
		return p
	}
	certPEM, err := os.ReadFile(resolve(opts.ClientCertFile))
	if err != nil {
		return nil, pos.E(pos.Invalid, op, fmt.Errorf("client_cert_file: %w", err))
	}
	keyPEM, err := keyfile.ReadSecret(resolve(opts.ClientKeyFile))
	if err != nil {
		return nil, pos.E(pos.Invalid, op, fmt.Errorf("client_key_file: %w", err))
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, pos.E(pos.Invalid, op, fmt.Errorf("merchant certificate: %w", err))
	}
	var tr *http.Transport
	switch t := hc.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		return nil, pos.Errorf(pos.Invalid, op, "a merchant certificate needs an *http.Transport, not %T", t)
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	out := *hc
	out.Transport = tr
	return &out, nil
}

func timing(opts Options) (gateways.Timing, error) {
	const op = "mmsp.New"
	t := DefaultTiming()
	o := opts.Timing
	for _, d := range []time.Duration{o.PollInterval, o.PayTimeout, o.QRTimeout, o.ReverseAfter, opts.CallTimeout} {
		if d < 0 {
			return t, pos.Errorf(pos.Invalid, op, "timings must not be negative")
		}
	}
	set := func(dst *time.Duration, v time.Duration) {
		if v > 0 {
			*dst = v
		}
	}
	set(&t.PollInterval, o.PollInterval)
	set(&t.PayTimeout, o.PayTimeout)
	set(&t.QRTimeout, o.QRTimeout)
	set(&t.ReverseAfter, o.ReverseAfter)
	set(&t.CallTimeout, opts.CallTimeout)
	if t.CallTimeout >= t.ReverseAfter && !opts.Simulated {
		return t, pos.Errorf(pos.Invalid, op, "call_timeout %v must be below timing.reverse_after %v (§10.4's gap after a pay)", t.CallTimeout, t.ReverseAfter)
	}
	if opts.Simulated {
		t.MinPollInterval = min(t.MinPollInterval, t.PollInterval)
		return t, nil
	}
	if t.PollInterval < MinPollInterval {
		return t, pos.Errorf(pos.Invalid, op, "timing.poll_interval %v is below the minimum %v", t.PollInterval, MinPollInterval)
	}
	if t.ReverseAfter < SpecReverseAfter {
		return t, pos.Errorf(pos.Invalid, op, "timing.reverse_after %v is below the spec's %v", t.ReverseAfter, SpecReverseAfter)
	}
	return t, nil
}

func loadKey(opts Options, dir string) (string, error) {
	const op = "mmsp.New"
	key, err := keyfile.InlineOrFile(opts.Key.Reveal(), opts.KeyFile, dir)
	if err != nil {
		return "", pos.E(pos.Invalid, op, err)
	}
	if !validText(key) || len(key) > 128 {
		return "", pos.Errorf(pos.Invalid, op, "the key must be printable text of at most 128 characters")
	}
	return key, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func randomString() string {
	// 14 characters: RANDSTR is string(15) in §10.3 and "at most 20" elsewhere.
	var b [7]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Kind implements gateways.Gateway.
func (c *Client) Kind() string { return Kind }

// Capabilities implements gateways.Gateway.
func (c *Client) Capabilities() gateways.Capabilities {
	return gateways.Capabilities{
		Micropay:      []pos.Wallet{pos.WeChatPay, pos.Alipay, pos.QQWallet},
		MerchantQR:    []pos.Wallet{pos.WeChatPay, pos.Alipay, pos.QQWallet, pos.UnionPay, pos.JDPay},
		Currencies:    []pos.Currency{"CNY"},
		Reverse:       true,
		Close:         true,
		Refund:        true,
		PartialRefund: true,
		Notify:        c.opts.NotifyURL != "",
	}
}

// Timing implements gateways.Gateway.
func (c *Client) Timing() gateways.Timing { return c.timing }

// responseFor is the CommandID that answers cmd: request + 0x8000 (§3.2.1),
// except the QQ micropay command, answered only by Options.QQMicropayAnswer.
func (c *Client) responseFor(cmd int) int {
	if cmd == c.opts.QQMicropayCommand {
		return c.opts.QQMicropayAnswer
	}
	return cmd + ResponseOffset
}

// call signs and sends fields as command cmd and returns the verified
// answer. Errors are pos.Unavailable (not sent) or pos.Unknown (sent, no
// trustworthy answer); a negative answer is returned as a Message with
// CommandID 32768 for the caller to map.
func (c *Client) call(ctx context.Context, op string, cmd int, fields map[string]string) (Message, error) {
	req, err := c.request(cmd, fields)
	if err != nil {
		return Message{}, pos.E(pos.Internal, op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timing.CallTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.Endpoint, bytes.NewReader(req))
	if err != nil {
		return Message{}, pos.E(pos.Internal, op, err)
	}
	hreq.Header.Set("Content-Type", "application/json; charset=utf-8")
	raw, err := gateways.Do(ctx, c.http, hreq, op)
	if err != nil {
		c.log.Warn("exchange failed", "op", op, "command", cmd, "outTradeNo", fields["MERORDERID"], "kind", pos.KindOf(err).String())
		return Message{}, err
	}
	m, err := Parse(raw, c.key, c.rule)
	if err != nil {
		c.log.Warn("untrusted answer", "op", op, "command", cmd, "outTradeNo", fields["MERORDERID"], "err", err.Error())
		return Message{}, pos.E(pos.Unknown, op, fmt.Errorf("answer not trusted: %w", err))
	}
	if m.CommandID == CmdNegative {
		c.log.Info("negative answer", "op", op, "command", cmd, "outTradeNo", fields["MERORDERID"], "retCode", m.RetCode, "errorMsg", truncateRunes(m.ErrorMsg, 60))
		return m, nil
	}
	if want := c.responseFor(cmd); m.CommandID != want {
		return Message{}, pos.Errorf(pos.Unknown, op, "answer CommandID %d does not answer %d (want %d)", m.CommandID, cmd, want)
	}
	c.log.Debug("exchange", "op", op, "command", cmd, "outTradeNo", fields["MERORDERID"], "retCode", m.RetCode, "status", truncateRunes(m.Str("STATUS"), 10))
	return m, nil
}

// request builds the signed request bytes.
func (c *Client) request(cmd int, fields map[string]string) ([]byte, error) {
	for k, v := range fields {
		if !validText(v) {
			return nil, fmt.Errorf("field %s has control characters or invalid UTF-8", k)
		}
	}
	body := EncodeBody(fields)
	h := Header{
		CommandID: cmd, SeqID: int(c.seq.Add(1)), NodeType: DefaultNodeType, NodeID: c.opts.NodeID,
		AgentNo: c.opts.AgentNo, MerNo: c.opts.MerchantNo, TermNo: c.opts.TerminalNo,
	}
	return Marshal(h, body, Sign(body, c.key, c.rule)), nil
}

// limitPayCommands are the commands whose request tables list LIMIT_PAY
// (§5.1.2, §5.2.2, §6.1.1, §6.2.2, §7.1.1, §7.2.2); 1025, 1026, 1027 and
// 1031 (§9.1.1, §6.3.1, §6.4.1, §8.1.1) do not.
func (c *Client) limitPayCommand(cmd int) bool {
	switch cmd {
	case CmdWeChatQR, CmdWeChatMicropay, CmdAlipayQR, CmdAlipayMicropay, CmdQQQR, c.opts.QQMicropayCommand:
		return true
	}
	return false
}

func (c *Client) commonPayFields(op string, cmd int, outTradeNo string, amount pos.Money, description string) (map[string]string, error) {
	if err := checkOrderNo(op, outTradeNo); err != nil {
		return nil, err
	}
	if amount.Currency != "CNY" {
		return nil, pos.Errorf(pos.Invalid, op, "MMSP takes CNY only, not %s", amount.Currency)
	}
	if amount.Minor <= 0 {
		return nil, pos.Errorf(pos.Invalid, op, "amount must be positive")
	}
	name := truncateBytes(description, maxGoodsName)
	if name == "" || !validText(name) {
		name = c.opts.GoodsName
	}
	f := map[string]string{
		"AMT":        strconv.FormatInt(amount.Minor, 10),
		"CUR":        "CNY",
		"GOODSNAME":  name,
		"MERORDERID": outTradeNo,
		"NOTIFY_URL": c.opts.NotifyURL,
		"RANDSTR":    c.randStr(),
		"IP":         c.opts.ClientIP,
	}
	if c.opts.LimitCredit && c.limitPayCommand(cmd) {
		f["LIMIT_PAY"] = "1"
	}
	if c.opts.OrderExpiry > 0 {
		f["TIME_END"] = c.now().Add(c.opts.OrderExpiry).In(cst).Format(TimeLayout)
	}
	return f, nil
}

func checkOrderNo(op, no string) error {
	if no == "" || len(no) > 20 || !validText(no) {
		return pos.Errorf(pos.Invalid, op, "out_trade_no %q must be 1 to 20 characters (MERORDERID)", no)
	}
	return nil
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// truncateBytes cuts s to at most n bytes on a character boundary.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := 0
	for i := range s {
		if i > n {
			break
		}
		cut = i
	}
	if _, size := utf8.DecodeRuneInString(s[cut:]); cut+size <= n {
		cut += size
	}
	return s[:cut]
}

// MicropayCommand is the CommandID used for a wallet's micropay.
func (c *Client) MicropayCommand(w pos.Wallet) (int, bool) {
	switch w {
	case pos.WeChatPay:
		return CmdWeChatMicropay, true
	case pos.Alipay:
		return CmdAlipayMicropay, true
	case pos.QQWallet:
		return c.opts.QQMicropayCommand, true
	}
	return 0, false
}

// QRCommand is the CommandID used for a wallet's merchant QR order.
func (c *Client) QRCommand(w pos.Wallet) (int, bool) {
	switch w {
	case pos.WeChatPay:
		return CmdWeChatQR, true
	case pos.Alipay:
		return c.alipayQ, true
	case pos.QQWallet:
		return CmdQQQR, true
	case pos.UnionPay:
		return CmdUnionPayQR, true
	case pos.JDPay:
		return CmdJDQR, true
	}
	return 0, false
}

// Micropay implements gateways.Micropayer (刷卡支付, §5.2, §6.2, §7.2).
func (c *Client) Micropay(ctx context.Context, req gateways.MicropayRequest) (gateways.Result, error) {
	const op = "mmsp.Micropay"
	if req.Code.IsZero() {
		return gateways.Result{}, pos.Errorf(pos.Invalid, op, "no payment code")
	}
	cmd, ok := c.MicropayCommand(req.Code.Wallet())
	if !ok {
		return gateways.Result{}, pos.Errorf(pos.Invalid, op, "MMSP cannot take %s payment codes", req.Code.Wallet().DisplayName())
	}
	f, err := c.commonPayFields(op, cmd, req.OutTradeNo, req.Amount, req.Description)
	if err != nil {
		return gateways.Result{}, err
	}
	if len(req.Code.Reveal()) > 32 {
		return gateways.Result{}, pos.Errorf(pos.Invalid, op, "payment code longer than 32 characters")
	}
	f["CODE"] = req.Code.Reveal()
	m, err := c.call(ctx, op, cmd, f)
	if err != nil {
		return gateways.Result{}, err
	}
	return c.payResult(OpPay, op, cmd, m, req.OutTradeNo, req.Code.Wallet(), req.Amount)
}

// CreateQR implements gateways.QRCreator (正扫下预订单).
func (c *Client) CreateQR(ctx context.Context, req gateways.QRRequest) (gateways.Result, error) {
	const op = "mmsp.CreateQR"
	cmd, ok := c.QRCommand(req.Wallet)
	if !ok {
		return gateways.Result{}, pos.Errorf(pos.Invalid, op, "MMSP cannot create %s QR orders", req.Wallet.DisplayName())
	}
	f, err := c.commonPayFields(op, cmd, req.OutTradeNo, req.Amount, req.Description)
	if err != nil {
		return gateways.Result{}, err
	}
	f["TRADETYPE"] = "1" // 正扫
	if !req.Expires.IsZero() {
		f["TIME_END"] = req.Expires.In(cst).Format(TimeLayout)
	}
	m, err := c.call(ctx, op, cmd, f)
	if err != nil {
		return gateways.Result{}, err
	}
	res, err := c.payResult(OpQRCreate, op, cmd, m, req.OutTradeNo, req.Wallet, req.Amount)
	if err != nil || res.Status != gateways.StatusUserPaying {
		return res, err
	}
	// Created: shown, not yet paid. URL is 必须; without one nothing can be
	// shown, but the order may exist: Unknown, so the flows query it.
	u := m.Str("URL")
	if u == "" {
		res.Status, res.Reason = gateways.StatusUnknown, "order created without a URL"
		return res, nil
	}
	res.PaidAt = time.Time{}
	res.CodeURL = pos.Secret(u)
	return res, nil
}

func orderFields(op string, ref gateways.OrderRef, c *Client) (map[string]string, error) {
	if err := checkOrderNo(op, ref.OutTradeNo); err != nil {
		return nil, err
	}
	// MERORDERID alone: the spec wants one of ORDERNO and MERORDERID, and
	// ours is the number journaled before the submit, known even when the
	// submit got no answer.
	return map[string]string{"MERORDERID": ref.OutTradeNo, "RANDSTR": c.randStr()}, nil
}

// Query implements gateways.Gateway (查询订单 2310, §10.3).
func (c *Client) Query(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	const op = "mmsp.Query"
	f, err := orderFields(op, ref, c)
	if err != nil {
		return gateways.Result{}, err
	}
	m, err := c.call(ctx, op, CmdQuery, f)
	if err != nil {
		return gateways.Result{}, err
	}
	return c.payResult(OpQuery, op, CmdQuery, m, ref.OutTradeNo, ref.Wallet, ref.Amount)
}

// Reverse implements gateways.Reverser (撤销订单 2311, §10.4). The spec asks
// for at least 15 s between the payment and its reverse; Timing declares it
// as ReverseAfter and the flows wait, the adapter does not.
func (c *Client) Reverse(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return c.cancel(ctx, "mmsp.Reverse", OpReverse, CmdReverse, ref)
}

// Close implements gateways.Closer (关闭订单 2314, §10.5).
func (c *Client) Close(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return c.cancel(ctx, "mmsp.Close", OpClose, CmdClose, ref)
}

func (c *Client) cancel(ctx context.Context, name string, op Operation, cmd int, ref gateways.OrderRef) (gateways.Result, error) {
	f, err := orderFields(name, ref, c)
	if err != nil {
		return gateways.Result{}, err
	}
	m, err := c.call(ctx, name, cmd, f)
	if err != nil {
		return gateways.Result{}, err
	}
	return c.cancelResult(op, name, cmd, m, ref.OutTradeNo)
}

// Refund implements gateways.Refunder (退款 2312, §10.6). Several refunds of
// one order may sum to at most its amount. An accepted refund (受理成功) is
// processing; QueryRefund says when it is final.
func (c *Client) Refund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	const op = "mmsp.Refund"
	f, err := orderFields(op, req.Order, c)
	if err != nil {
		return gateways.Result{}, err
	}
	if err := checkOrderNo(op, req.OutRefundNo); err != nil {
		return gateways.Result{}, err
	}
	if req.Amount.Currency != "CNY" || req.Amount.Minor <= 0 {
		return gateways.Result{}, pos.Errorf(pos.Invalid, op, "refund amount must be a positive CNY amount")
	}
	f["REFUND_MERORDERID"] = req.OutRefundNo
	f["AMT"] = strconv.FormatInt(req.Amount.Minor, 10)
	m, err := c.call(ctx, op, CmdRefund, f)
	if err != nil {
		return gateways.Result{}, err
	}
	return c.refundResult(OpRefund, op, CmdRefund, m, req)
}

// QueryRefund implements gateways.Refunder (退款查询订单 2313, §10.7).
func (c *Client) QueryRefund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	const op = "mmsp.QueryRefund"
	if err := checkOrderNo(op, req.OutRefundNo); err != nil {
		return gateways.Result{}, err
	}
	f := map[string]string{"REFUND_MERORDERID": req.OutRefundNo, "RANDSTR": c.randStr()}
	m, err := c.call(ctx, op, CmdRefundQuery, f)
	if err != nil {
		return gateways.Result{}, err
	}
	return c.refundResult(OpRefundQuery, op, CmdRefundQuery, m, req)
}
