package allinpay

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// Kind is the adapter's registered kind.
const Kind = "allinpay"

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

// The platform's clock: payTime is "time of the system" (§1.5.2.1), and the
// platform runs in Hong Kong (tradeInformation dates say GMT+8). A fixed
// zone, because a till may have no time zone database.
var platformZone = time.FixedZone("UTC+8", 8*60*60)

// Client speaks OATS to one merchant account.
type Client struct {
	opts     Options
	key      *rsa.PrivateKey
	platform *rsa.PublicKey
	http     *http.Client
	log      *slog.Logger
	// now and random are replaced in tests for reproducible requests.
	now    func() time.Time
	random func(digits int) string
}

// New validates opts, loads both keys and returns a client. Relative key
// paths are resolved against env.Dir.
func New(opts Options, env gateways.Env) (*Client, error) {
	const op = "allinpay.New"
	o := opts.withDefaults(env.Dir)
	if err := o.validate(); err != nil {
		return nil, err
	}
	key, err := LoadPrivateKey(o.MerchantKeyFile)
	if err != nil {
		return nil, pos.E(pos.Invalid, op, fmt.Errorf("merchant_key_file: %w", err))
	}
	pub, err := LoadPublicKey(o.PlatformKeyFile)
	if err != nil {
		return nil, pos.E(pos.Invalid, op, fmt.Errorf("platform_key_file: %w", err))
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := env.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{opts: o, key: key, platform: pub, http: hc, log: log, now: time.Now, random: randomDigits}, nil
}

// Kind returns "allinpay".
func (c *Client) Kind() string { return Kind }

// Capabilities: micropay for WeChat Pay, Alipay and UnionPay; merchant QR
// for those and PayNow; void, close, partial refunds, notifications and
// the bill; one currency, the merchant's.
func (c *Client) Capabilities() gateways.Capabilities {
	return gateways.Capabilities{
		Micropay:      []pos.Wallet{pos.WeChatPay, pos.Alipay, pos.UnionPay},
		MerchantQR:    []pos.Wallet{pos.WeChatPay, pos.Alipay, pos.UnionPay, pos.PayNow},
		Currencies:    []pos.Currency{pos.Currency(c.opts.Currency)},
		Reverse:       true,
		Close:         true,
		Refund:        true,
		PartialRefund: true,
		Notify:        true,
		Bill:          true,
	}
}

// Timing: queries at PollInterval (never under 10 s against the real
// platform); reverse and close allowed at once (the spec sets no minimum).
func (c *Client) Timing() gateways.Timing {
	return gateways.Timing{
		PollInterval:    c.opts.PollInterval,
		MinPollInterval: min(MinPollInterval, c.opts.PollInterval),
		PayTimeout:      c.opts.PayTimeout,
		QRTimeout:       c.opts.QRTimeout,
		CallTimeout:     c.opts.CallTimeout,
		RetryBackoff:    c.opts.RetryBackoff,
		RetryBackoffMax: c.opts.RetryBackoffMax,
	}.WithDefaults()
}

// walletPrefix is the transType prefix of a wallet (appendix 1.8.2).
func walletPrefix(w pos.Wallet) (string, bool) {
	switch w {
	case pos.WeChatPay:
		return "WXPAY", true
	case pos.Alipay:
		return "ALIPAY", true
	case pos.UnionPay:
		return "UNIONPAY", true
	case pos.PayNow:
		return "PAYNOW", true
	}
	return "", false
}

// walletOf reads the wallet back from a transType, "" when it names none.
func walletOf(transType string) pos.Wallet {
	p, _, _ := strings.Cut(transType, "_")
	switch p {
	case "WXPAY":
		return pos.WeChatPay
	case "ALIPAY":
		return pos.Alipay
	case "UNIONPAY":
		return pos.UnionPay
	case "PAYNOW":
		return pos.PayNow
	}
	return ""
}

// transType builds a command name, or an Invalid error for a wallet the
// spec has no such command for.
func transType(op string, w pos.Wallet, suffix string) (string, error) {
	p, ok := walletPrefix(w)
	if !ok || (w == pos.PayNow && suffix == "MICROPAY") {
		return "", pos.Errorf(pos.Invalid, op, "allinpay has no %s command for wallet %q", suffix, w)
	}
	return p + "_" + suffix, nil
}

// Micropay charges a customer-presented code (*_MICROPAY).
func (c *Client) Micropay(ctx context.Context, req gateways.MicropayRequest) (gateways.Result, error) {
	return c.MicropayWithTips(ctx, req, pos.Money{})
}

// MicropayWithTips is Micropay with a tip: req.Amount includes tips (the
// spec's transAmount does), and tips is sent as tipsAmount.
func (c *Client) MicropayWithTips(ctx context.Context, req gateways.MicropayRequest, tips pos.Money) (gateways.Result, error) {
	const op = "allinpay.Micropay"
	if req.Code.IsZero() {
		return gateways.Result{}, pos.Errorf(pos.Invalid, op, "no payment code")
	}
	tt, err := transType(op, req.Code.Wallet(), "MICROPAY")
	if err != nil {
		return gateways.Result{}, err
	}
	w, err := c.payRequest(op, tt, req.OutTradeNo, req.Amount, tips)
	if err != nil {
		return gateways.Result{}, err
	}
	w.AuthCode = req.Code.Reveal()
	return c.pay(ctx, op, w)
}

// CreateQR creates a merchant-presented QR order (*_SCANCODE) and returns
// its codeUrl. expireTime is the minutes until req.Expires, rounded up, or
// QRTimeout's when Expires is zero.
func (c *Client) CreateQR(ctx context.Context, req gateways.QRRequest) (gateways.Result, error) {
	return c.CreateQRWithTips(ctx, req, pos.Money{})
}

// CreateQRWithTips is CreateQR with a tip included in req.Amount.
func (c *Client) CreateQRWithTips(ctx context.Context, req gateways.QRRequest, tips pos.Money) (gateways.Result, error) {
	const op = "allinpay.CreateQR"
	tt, err := transType(op, req.Wallet, "SCANCODE")
	if err != nil {
		return gateways.Result{}, err
	}
	w, err := c.payRequest(op, tt, req.OutTradeNo, req.Amount, tips)
	if err != nil {
		return gateways.Result{}, err
	}
	ttl := c.opts.QRTimeout
	if !req.Expires.IsZero() {
		ttl = req.Expires.Sub(c.now())
	}
	if ttl <= 0 {
		return gateways.Result{}, pos.Errorf(pos.Invalid, op, "the order's expiry is in the past")
	}
	w.ExpireTime = strconv.FormatInt(int64((ttl+time.Minute-1)/time.Minute), 10)
	res, err := c.pay(ctx, op, w)
	if err == nil && res.Status == gateways.StatusUserPaying && res.CodeURL == "" {
		// An order without its code cannot be shown; the customer cannot
		// pay it, but it exists: the caller closes it.
		res.Status = gateways.StatusUnknown
		res.Reason = "order created without a codeUrl"
	}
	return res, err
}

func (c *Client) payRequest(op, tt, outTradeNo string, amount, tips pos.Money) (payRequest, error) {
	if err := c.checkMoney(op, amount); err != nil {
		return payRequest{}, err
	}
	w := payRequest{
		RequestNo:   c.requestNo(),
		Version:     Version,
		AccessCode:  c.opts.AccessCode,
		TransType:   tt,
		SignType:    SignType,
		MchNo:       c.opts.MchNo,
		OutTransNo:  outTradeNo,
		TransAmount: strconv.FormatInt(amount.Minor, 10),
		Currency:    c.opts.Currency,
		NotifyURL:   c.opts.NotifyURL,
		StoreID:     c.opts.StoreID,
		TerminalID:  c.opts.TerminalID,
		LimitPay:    c.opts.LimitPay,
	}
	if tips.Minor != 0 {
		if tips.Currency != amount.Currency || tips.Minor < 0 || tips.Minor > amount.Minor {
			return payRequest{}, pos.Errorf(pos.Invalid, op, "tips %s must be in %s and not above the amount %s", tips, amount.Currency, amount)
		}
		w.TipsAmount = strconv.FormatInt(tips.Minor, 10)
	}
	return w, nil
}

func (c *Client) checkMoney(op string, m pos.Money) error {
	if string(m.Currency) != c.opts.Currency {
		return pos.Errorf(pos.Invalid, op, "amount in %q; this merchant takes %s only", m.Currency, c.opts.Currency)
	}
	if m.Minor <= 0 {
		return pos.Errorf(pos.Invalid, op, "amount must be positive")
	}
	return nil
}

// pay sends a payment request and reads the answer.
func (c *Client) pay(ctx context.Context, op string, w payRequest) (gateways.Result, error) {
	r, err := c.call(ctx, op, c.opts.Endpoint, w, w.RequestNo, w.OutTransNo)
	if err != nil {
		return gateways.Result{}, err
	}
	v := classify(classPay, r)
	res := c.result(w.TransType, r, v)
	if res.Wallet == "" {
		res.Wallet = walletOf(w.TransType)
	}
	return res, nil
}

// Query asks for a payment order's state (TRANS_QUERY). An order the
// platform does not know is a pos.NotFound error: right after a lost
// submit it may be a request still in flight, so it is not a failure.
func (c *Client) Query(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return c.query(ctx, "allinpay.Query", ref.OutTradeNo, ref.Wallet)
}

func (c *Client) query(ctx context.Context, op, outTransNo string, w pos.Wallet) (gateways.Result, error) {
	req := queryRequest{
		RequestNo:     c.requestNo(),
		Version:       Version,
		AccessCode:    c.opts.AccessCode,
		TransType:     "TRANS_QUERY",
		SignType:      SignType,
		MchNo:         c.opts.MchNo,
		OriOutTransNo: outTransNo,
	}
	// The query answer has no outTransNo of its own to check.
	r, err := c.call(ctx, op, c.opts.Endpoint, req, req.RequestNo, "")
	if err != nil {
		return gateways.Result{}, err
	}
	v := classify(classQuery, r)
	if v.notFound {
		return gateways.Result{}, pos.Errorf(pos.NotFound, op, "order %s not found (%s %s)", outTransNo, v.code, v.reason)
	}
	res := c.result(req.TransType, r, v)
	if res.Wallet == "" {
		res.Wallet = w
	}
	return res, nil
}

// Reverse takes back a payment whatever its state, which OATS has no one
// command for. A void (*_CANCEL) reverses a paid order of the same day
// (§1.5.2.4: "only successful transactions"); an order that is not paid is
// closed (CLOSE_ORDER) instead. So Reverse voids, and when the void finds
// the order not (yet) paid, or the order is from an earlier day (a void
// would fail), it closes. A paid order of an earlier day can only be
// refunded: the close is refused with 0038 and Reverse reports Failed.
func (c *Client) Reverse(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	const op = "allinpay.Reverse"
	if !ref.SubmittedAt.IsZero() && !sameDay(ref.SubmittedAt, c.now()) {
		return c.close(ctx, op, ref)
	}
	tt, err := transType(op, ref.Wallet, "CANCEL")
	if err != nil {
		return gateways.Result{}, err
	}
	req := cancelRequest{
		RequestNo:     c.requestNo(),
		Version:       Version,
		AccessCode:    c.opts.AccessCode,
		TransType:     tt,
		SignType:      SignType,
		MchNo:         c.opts.MchNo,
		OutTransNo:    c.newOrderNo("V"),
		OriOutTransNo: ref.OutTradeNo,
		NotifyURL:     c.opts.NotifyURL,
	}
	r, err := c.call(ctx, op, c.opts.Endpoint, req, req.RequestNo, req.OutTransNo)
	if err != nil {
		return gateways.Result{}, err
	}
	v := classify(classVoid, r)
	if v.status == gateways.StatusFailed && (voidNotPaidCodes[v.code] || v.notFound) {
		res, err := c.close(ctx, op, ref)
		if err != nil {
			return res, err
		}
		if v.notFound && res.Status == gateways.StatusFailed && notFoundCodes[res.Code] {
			// Neither void nor close finds the order: it never arrived.
			// OATS keeps no record of a cancel for an unknown order, so a
			// submit still in flight could land later: this is NotFound,
			// not Succeeded, and the caller decides (query, retry).
			return gateways.Result{}, pos.Errorf(pos.NotFound, op, "order %s not found by void (%s) or close (%s)", ref.OutTradeNo, v.code, res.Code)
		}
		res.Detail = c.result(tt, r, v).Detail + "; " + res.Detail
		return res, nil
	}
	res := c.result(tt, r, v)
	res.TransactionID = "" // the void's own number, not the payment's
	return res, nil
}

// Close closes an unpaid order (CLOSE_ORDER). An order already closed is
// Succeeded; a paid one is Failed with code 0038.
func (c *Client) Close(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return c.close(ctx, "allinpay.Close", ref)
}

func (c *Client) close(ctx context.Context, op string, ref gateways.OrderRef) (gateways.Result, error) {
	req := cancelRequest{
		RequestNo:     c.requestNo(),
		Version:       Version,
		AccessCode:    c.opts.AccessCode,
		TransType:     "CLOSE_ORDER",
		SignType:      SignType,
		MchNo:         c.opts.MchNo,
		OutTransNo:    c.newOrderNo("C"),
		OriOutTransNo: ref.OutTradeNo,
		NotifyURL:     c.opts.NotifyURL,
	}
	r, err := c.call(ctx, op, c.opts.Endpoint, req, req.RequestNo, req.OutTransNo)
	if err != nil {
		return gateways.Result{}, err
	}
	res := c.result(req.TransType, r, classify(classClose, r))
	res.TransactionID = ""
	return res, nil
}

// Refund refunds part or all of a paid order (*_RETURN), with
// req.OutRefundNo as the refund's outTransNo so a retry is recognised
// (0022) rather than paid twice. The platform enforces that refunds never
// sum above the original; a single refund above it is refused here.
func (c *Client) Refund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	const op = "allinpay.Refund"
	tt, err := transType(op, req.Order.Wallet, "RETURN")
	if err != nil {
		return gateways.Result{}, err
	}
	if err := c.checkMoney(op, req.Amount); err != nil {
		return gateways.Result{}, err
	}
	if req.Order.Amount.Minor > 0 && req.Amount.Minor > req.Order.Amount.Minor {
		// Certain to be refused (§1.5.2.3), so not sent: the same answer
		// the platform would give, without the round trip.
		return gateways.Result{Status: gateways.StatusFailed, Code: "0027",
			Reason: fmt.Sprintf("refund %s is above the original %s", req.Amount, req.Order.Amount),
			Detail: "allinpay " + tt + " refused before sending: above the original"}, nil
	}
	w := refundRequest{
		RequestNo:     c.requestNo(),
		Version:       Version,
		AccessCode:    c.opts.AccessCode,
		TransType:     tt,
		SignType:      SignType,
		MchNo:         c.opts.MchNo,
		OutTransNo:    req.OutRefundNo,
		OriOutTransNo: req.Order.OutTradeNo,
		TransAmount:   strconv.FormatInt(req.Amount.Minor, 10),
		Currency:      c.opts.Currency,
		RefundReason:  truncate(req.Reason, 256),
		NotifyURL:     c.opts.NotifyURL,
	}
	r, err := c.call(ctx, op, c.opts.Endpoint, w, w.RequestNo, w.OutTransNo)
	if err != nil {
		return gateways.Result{}, err
	}
	res := c.result(tt, r, classify(classRefund, r))
	res.RefundID, res.TransactionID = res.TransactionID, ""
	return res, nil
}

// QueryRefund asks for a refund's state. OATS has no refund query: a
// refund is a transaction with its own outTransNo, so TRANS_QUERY is asked
// about that.
func (c *Client) QueryRefund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	res, err := c.query(ctx, "allinpay.QueryRefund", req.OutRefundNo, req.Order.Wallet)
	if err != nil {
		return res, err
	}
	res.RefundID, res.TransactionID = res.TransactionID, ""
	return res, nil
}

// call validates, signs and sends one request and returns the verified
// answer. Errors: pos.Invalid (a field breaks the spec's rules; nothing
// sent), pos.Unavailable (not sent), pos.Unknown (sent, and no
// trustworthy answer: transport failure, malformed or unsigned answer, or
// one that is not the answer to this request).
func (c *Client) call(ctx context.Context, op, endpoint string, req any, requestNo, outTransNo string) (response, error) {
	body, err := c.encode(req)
	if err != nil {
		return response{}, pos.E(pos.Invalid, op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		return response{}, pos.E(pos.Internal, op, err)
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	raw, err := gateways.Do(ctx, c.http, hr, op)
	if err != nil {
		return response{}, err
	}
	return c.answer(op, raw, requestNo, outTransNo)
}

// answer verifies raw as the answer to requestNo (and outTransNo, when the
// answer names one).
func (c *Client) answer(op string, raw []byte, requestNo, outTransNo string) (response, error) {
	r, err := c.verify(raw)
	if err != nil {
		return response{}, pos.E(pos.Unknown, op, err)
	}
	if r.RequestNo != requestNo {
		return response{}, pos.Errorf(pos.Unknown, op, "answer is for request %q, not %q", r.RequestNo, requestNo)
	}
	if outTransNo != "" && r.OutTransNo != "" && r.OutTransNo != outTransNo {
		return response{}, pos.Errorf(pos.Unknown, op, "answer is for order %q, not %q", r.OutTransNo, outTransNo)
	}
	c.log.Debug("allinpayCall", "op", op, "requestNo", requestNo, "returnCode", r.ReturnCode, "resultCode", r.ResultCode)
	return r, nil
}

// encode validates and signs a request and returns the HTTP body.
func (c *Client) encode(req any) (string, error) {
	f, err := toFields(req)
	if err != nil {
		return "", err
	}
	sig, err := Sign(c.key, f)
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	f[SignatureField] = sig
	return f.Encode(), nil
}

// verify parses an answer or notification body and checks its signature
// with the platform key.
func (c *Client) verify(raw []byte) (response, error) {
	f, err := ParseFields(raw)
	if err != nil {
		return response{}, fmt.Errorf("malformed answer: %w", err)
	}
	if err := Verify(c.platform, f); err != nil {
		return response{}, fmt.Errorf("answer not trusted: %w", err)
	}
	var r response
	if err := fromFields(f, &r); err != nil {
		return response{}, fmt.Errorf("malformed answer: %w", err)
	}
	if r.RequestNo == "" {
		return response{}, errors.New("malformed answer: no requestNo")
	}
	return r, nil
}

// result turns a verified answer into the normalised result.
func (c *Client) result(sent string, r response, v verdict) gateways.Result {
	res := gateways.Result{
		Status:        v.status,
		TransactionID: r.TransNo,
		Wallet:        walletOf(r.TransType),
		Code:          v.code,
		CodeURL:       pos.Secret(r.CodeURL),
	}
	if v.status != gateways.StatusSucceeded {
		res.Reason = v.reason
	}
	if r.TransAmount != "" && r.Currency != "" {
		if n, err := strconv.ParseInt(r.TransAmount, 10, 64); err == nil && n > 0 {
			if m, err := pos.NewMoney(n, r.Currency); err == nil {
				res.Amount = m
			}
		}
	}
	if r.PayTime != "" {
		if t, err := time.ParseInLocation("20060102150405", r.PayTime, platformZone); err == nil {
			res.PaidAt = t
		}
	}
	res.Detail = fmt.Sprintf("allinpay %s returnCode=%s resultCode=%s status=%s", sent, r.ReturnCode, r.ResultCode, v.status)
	return res
}

// requestNo is unique per request (§1.5.1.4): the platform's date and
// time, then 16 random digits; 30 characters, within ANx32.
func (c *Client) requestNo() string {
	return c.now().In(platformZone).Format("20060102150405") + c.random(16)
}

// newOrderNo numbers a void or close, which the spec makes carry an
// outTransNo of its own. A fresh one per attempt: a repeated void is
// recognised by the platform as "already voided" (0029), not by number.
func (c *Client) newOrderNo(prefix string) string {
	return prefix + c.now().In(platformZone).Format("20060102150405") + c.random(12)
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.In(platformZone).Date()
	by, bm, bd := b.In(platformZone).Date()
	return ay == by && am == bm && ad == bd
}

func randomDigits(n int) string {
	b := make([]byte, n)
	ten := big.NewInt(10)
	for i := range b {
		d, err := rand.Int(rand.Reader, ten)
		if err != nil {
			panic(err) // crypto/rand does not fail on Linux
		}
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
