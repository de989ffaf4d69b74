package allpay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// Kind is the registered adapter kind.
const Kind = "allpay"

// Interface guards. No Micropayer: the spec has no customer-presented
// mode. No Closer: VOID also takes back a paid order (see the package doc).
var (
	_ gateways.Gateway   = (*Client)(nil)
	_ gateways.QRCreator = (*Client)(nil)
	_ gateways.Reverser  = (*Client)(nil)
	_ gateways.Refunder  = (*Client)(nil)
	_ gateways.Notifier  = (*Client)(nil)
)

func init() { gateways.RegisterOptions(Kind, New) }

// Client speaks the AllPay V5 API for one merchant.
type Client struct {
	opts   Options
	key    string
	timing gateways.Timing
	http   *http.Client
	log    *slog.Logger
	// now is replaced in tests for reproducible requests.
	now func() time.Time
}

// New validates opts, loads the key and returns a Client. A relative
// key_file is resolved against env.Dir.
func New(opts Options, env gateways.Env) (*Client, error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	key, err := loadKey(o, env.Dir)
	if err != nil {
		return nil, err
	}
	c := &Client{opts: o, key: key, timing: o.timing(), http: env.HTTPClient, log: env.Logger, now: time.Now}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("gateway", Kind)
	return c, nil
}

// Kind returns "allpay".
func (c *Client) Kind() string { return Kind }

// Capabilities: merchant QR for WeChat Pay and Alipay (AP or APHK), in the
// merchant's one currency; reverse (VOID), partial refunds and
// notifications. No micropay and no close (see the package doc).
func (c *Client) Capabilities() gateways.Capabilities {
	return gateways.Capabilities{
		MerchantQR:    []pos.Wallet{pos.WeChatPay, pos.Alipay},
		Currencies:    []pos.Currency{pos.Currency(c.opts.Currency)},
		Reverse:       true,
		Refund:        true,
		PartialRefund: true,
		Notify:        true,
	}
}

// Timing: queries every PollInterval (5 s floor against the real
// platform); a merchant QR is cancelled after QRTimeout.
func (c *Client) Timing() gateways.Timing { return c.timing }

// Schema is the paymentSchema of a wallet's QR orders.
func (c *Client) Schema(w pos.Wallet) (string, bool) {
	switch w {
	case pos.WeChatPay:
		return SchemaWeChat, true
	case pos.Alipay:
		return c.opts.AlipaySchema, true
	}
	return "", false
}

// WalletOf reads a paymentSchema back; "" for one posagent does not use.
func WalletOf(schema string) pos.Wallet {
	switch schema {
	case SchemaWeChat:
		return pos.WeChatPay
	case SchemaAlipay, SchemaAlipayHK:
		return pos.Alipay
	}
	return ""
}

// base is the fields every request carries.
func (c *Client) base(op, transType, orderNum string, w pos.Wallet) (Fields, error) {
	schema, ok := c.Schema(w)
	if !ok {
		return nil, pos.Errorf(pos.Invalid, op, "field paymentSchema: AllPay has no QR channel for wallet %q", w)
	}
	return Fields{
		"version":       Version,
		"charSet":       CharSet,
		"transType":     transType,
		"orderNum":      orderNum,
		"merID":         c.opts.MerID,
		"acqID":         c.opts.AcqID,
		"paymentSchema": schema,
		"transTime":     FormatTime(c.now()),
		"signType":      c.opts.SignType,
	}, nil
}

func (c *Client) checkAmount(op, field string, m pos.Money) error {
	if m.Currency != pos.Currency(c.opts.Currency) {
		return pos.Errorf(pos.Invalid, op, "field orderCurrency: the merchant's currency is %s, not %s", c.opts.Currency, m.Currency)
	}
	if m.Minor <= 0 || m.Minor > pos.MaxMinor {
		return pos.Errorf(pos.Invalid, op, "field %s: amount %d is not positive or too large", field, m.Minor)
	}
	return nil
}

// Request returns the signed fields of a request, after the field rules.
func (c *Client) request(op string, f Fields) (Fields, error) {
	if err := CheckRequest(f); err != nil {
		return nil, pos.E(pos.Invalid, op, err)
	}
	sig, err := Sign(f, c.key)
	if err != nil {
		return nil, pos.E(pos.Internal, op, err)
	}
	s := maps.Clone(f)
	s[SignatureField] = sig
	return s, nil
}

// call signs and POSTs f to its interface and returns the verified answer.
// Errors: pos.Invalid (refused before sending), pos.Unavailable (not
// sent), pos.Unknown (sent, no trustworthy answer: transport failure,
// malformed body, bad signature, or an answer to another request).
func (c *Client) call(ctx context.Context, op string, f Fields) (Fields, error) {
	signed, err := c.request(op, f)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timing.CallTimeout)
	defer cancel()
	u := strings.TrimSuffix(c.opts.Endpoint, "/") + PathFor(f["transType"])
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(signed.Encode()))
	if err != nil {
		return nil, pos.E(pos.Internal, op, err)
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	body, err := gateways.Do(ctx, c.http, hreq, op)
	if err != nil {
		c.log.Warn("exchange failed", "op", op, "orderNum", f["orderNum"], "kind", pos.KindOf(err).String())
		return nil, err
	}
	ans, err := c.verify(body)
	if err != nil {
		c.log.Warn("untrusted answer", "op", op, "orderNum", f["orderNum"], "err", err.Error())
		return nil, pos.E(pos.Unknown, op, fmt.Errorf("answer not trusted: %w", err))
	}
	for _, k := range []string{"transType", "orderNum", "merID"} {
		if ans[k] != f[k] {
			return nil, pos.Errorf(pos.Unknown, op, "answer %s %q does not answer our %q", k, truncateBytes(ans[k], 64), f[k])
		}
	}
	if ans["RespCode"] == "" {
		return nil, pos.Errorf(pos.Unknown, op, "answer has no RespCode")
	}
	c.log.Debug("exchange", "op", op, "orderNum", f["orderNum"], "respCode", ans["RespCode"])
	return ans, nil
}

// verify parses a body and checks its signature with our key and type.
func (c *Client) verify(body []byte) (Fields, error) {
	f, err := ParseFields(body)
	if err != nil {
		return nil, err
	}
	if err := Verify(f, c.key, c.opts.SignType); err != nil {
		return nil, err
	}
	return f, nil
}

// result reads the common part of an answer.
func (c *Client) result(cls opClass, ans Fields, w pos.Wallet) (gateways.Result, verdict) {
	code := ans["RespCode"]
	v := classify(cls, code)
	res := gateways.Result{
		Status:        v.status,
		TransactionID: ans["transID"],
		Wallet:        WalletOf(ans["paymentSchema"]),
		Code:          code,
		Detail:        fmt.Sprintf("allpay %s RespCode=%s", ans["transType"], truncateBytes(code, 8)),
	}
	if res.Wallet == "" {
		res.Wallet = w
	}
	msg := truncateBytes(clean(ans["RespMsg"]), 120)
	switch v.status {
	case gateways.StatusFailed:
		res.Reason = msg
		if res.Reason == "" {
			res.Reason = "refused by AllPay (RespCode " + truncateBytes(code, 8) + ")"
		}
	case gateways.StatusUnknown:
		res.Reason = fmt.Sprintf("RespCode %q (%s) says nothing definite", truncateBytes(code, 8), msg)
	case gateways.StatusUserPaying:
		res.Reason = msg
	}
	return res, v
}

// amountOf reads an answer's orderAmount in orderCurrency (or ours); ok is
// false when there is none. A malformed one is an error.
func (c *Client) amountOf(ans Fields, field string) (pos.Money, bool, error) {
	s := ans[field]
	if s == "" {
		return pos.Money{}, false, nil
	}
	cur := ans["orderCurrency"]
	if cur == "" {
		cur = c.opts.Currency
	}
	m, err := pos.ParseMoney(s, cur)
	if err != nil {
		return pos.Money{}, false, err
	}
	return m, true, nil
}

// checkEchoedAmount refuses an answer whose amount contradicts the order.
func (c *Client) checkEchoedAmount(op string, ans Fields, want pos.Money, res *gateways.Result) error {
	got, ok, err := c.amountOf(ans, "orderAmount")
	if err != nil {
		return pos.Errorf(pos.Unknown, op, "answer orderAmount: %v", err)
	}
	if !ok {
		return nil
	}
	if want.Minor != 0 && got != want {
		return pos.Errorf(pos.Unknown, op, "answer amount %s differs from the order's %s", got, want)
	}
	res.Amount = got
	return nil
}

// CreateQR creates a merchant-presented QR order: PURC with
// tradeFrom=QRCODE (§4.2, §5.1.1, §5.2.4, §5.9.2). The answer's code_url is
// Result.CodeURL, status UserPaying. req.Expires cannot be sent (PURC has
// no expiry field); the agent cancels the order at Timing.QRTimeout.
func (c *Client) CreateQR(ctx context.Context, req gateways.QRRequest) (gateways.Result, error) {
	const op = "allpay.CreateQR"
	f, err := c.base(op, TransPurchase, req.OutTradeNo, req.Wallet)
	if err != nil {
		return gateways.Result{}, err
	}
	if err := c.checkAmount(op, "orderAmount", req.Amount); err != nil {
		return gateways.Result{}, err
	}
	goods := truncateBytes(strings.TrimSpace(clean(req.Description)), 60)
	if goods == "" {
		goods = truncateBytes(clean(c.opts.GoodsInfo), 60)
	}
	f["orderAmount"] = req.Amount.Decimal()
	f["orderCurrency"] = string(req.Amount.Currency)
	f["frontURL"] = c.opts.FrontURL
	f["backURL"] = c.opts.BackURL
	f["goodsInfo"] = goods
	f["detailInfo"] = DetailInfo([]Goods{{Name: goods, Quantity: "1"}})
	f["tradeFrom"] = TradeFromQR
	ans, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, err
	}
	res, v := c.result(classPurchase, ans, req.Wallet)
	if err := c.checkEchoedAmount(op, ans, req.Amount, &res); err != nil {
		return gateways.Result{}, err
	}
	switch {
	case v.status == gateways.StatusUserPaying:
		u := ans["code_url"]
		if u == "" {
			res.Status = gateways.StatusUnknown
			res.Reason = "order created without code_url"
			return res, nil
		}
		res.CodeURL = pos.Secret(u)
		res.Reason = ""
	case v.repeat:
		res.Reason = "orderNum already in use at AllPay; query it: " + res.Reason
	}
	return res, nil
}

// Query asks for a payment order (INQY, §4.3). The answer has no status
// field: RespCode is the order's state (00 paid, 04 processing, 01 failed
// or cancelled, U7 unknown order: pos.NotFound).
func (c *Client) Query(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	const op = "allpay.Query"
	f, err := c.base(op, TransInquiry, ref.OutTradeNo, ref.Wallet)
	if err != nil {
		return gateways.Result{}, err
	}
	ans, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, err
	}
	res, v := c.result(classInquiry, ans, ref.Wallet)
	if v.notFound {
		return gateways.Result{}, pos.Errorf(pos.NotFound, op, "AllPay has no order %s (U7): %s", ref.OutTradeNo, truncateBytes(ans["RespMsg"], 60))
	}
	if err := c.checkEchoedAmount(op, ans, ref.Amount, &res); err != nil {
		return gateways.Result{}, err
	}
	return res, nil
}

// VoidNumber is the orderNum of the cancellation of order no: one per
// order, so a repeated VOID is recognised (U6) rather than sent twice.
func VoidNumber(no string) string { return "V" + no }

// Reverse cancels an order whether or not it was paid (VOID, §4.8): the
// way out of a merchant QR the customer did not pay in time, or one the
// cashier cancelled. A paid order of the same day is voided (the money
// goes back); AllPay refuses orders of earlier days, and then the flows
// find it paid and it needs a refund. A VOID answered U6 (our cancellation
// number is known) was received before: the original is queried, and a
// failed or cancelled original is Succeeded.
func (c *Client) Reverse(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	const op = "allpay.Reverse"
	f, err := c.base(op, TransVoid, VoidNumber(ref.OutTradeNo), ref.Wallet)
	if err != nil {
		return gateways.Result{}, err
	}
	f["origOrderNum"] = ref.OutTradeNo
	ans, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, err
	}
	res, v := c.result(classVoid, ans, ref.Wallet)
	switch {
	case v.notFound:
		return gateways.Result{}, pos.Errorf(pos.NotFound, op, "AllPay has no order %s to cancel (U7)", ref.OutTradeNo)
	case v.repeat:
		q, err := c.Query(ctx, ref)
		if err != nil {
			return gateways.Result{}, err
		}
		if q.Status == gateways.StatusFailed {
			q.Status, q.Reason = gateways.StatusSucceeded, ""
			q.Detail = res.Detail + "; " + q.Detail
			return q, nil
		}
		res.Reason = "cancellation " + f["orderNum"] + " already sent, and the order still reads " + q.Status.String()
	}
	return res, nil
}

// Refund refunds part or all of a paid order (REFD, §4.4). OutRefundNo is
// the refund's orderNum; a retried refund is answered U6 and resolved by
// RFQY, so it is never refunded twice.
func (c *Client) Refund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	const op = "allpay.Refund"
	f, err := c.base(op, TransRefund, req.OutRefundNo, req.Order.Wallet)
	if err != nil {
		return gateways.Result{}, err
	}
	if err := c.checkAmount(op, "returnAmount", req.Amount); err != nil {
		return gateways.Result{}, err
	}
	f["origOrderNum"] = req.Order.OutTradeNo
	f["returnAmount"] = req.Amount.Decimal()
	f["orderCurrency"] = string(req.Amount.Currency)
	ans, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, err
	}
	res, v := c.result(classRefund, ans, req.Order.Wallet)
	if v.repeat {
		q, err := c.QueryRefund(ctx, req)
		if errors.Is(err, errNoRefund) || pos.Match(pos.NotFound, err) {
			res.Reason = "refund number in use, but RFQY does not know it"
			return res, nil
		}
		return q, err
	}
	res.RefundID = ans["transID"]
	res.TransactionID = ""
	if res.Status == gateways.StatusSucceeded {
		res.Amount = req.Amount
	}
	return res, nil
}

var errNoRefund = errors.New("no such refund")

// QueryRefund asks for a refund by its number (RFQY, §4.5); an unknown
// refund is pos.NotFound.
func (c *Client) QueryRefund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	const op = "allpay.QueryRefund"
	f, err := c.base(op, TransRefundQuery, req.OutRefundNo, req.Order.Wallet)
	if err != nil {
		return gateways.Result{}, err
	}
	ans, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, err
	}
	res, v := c.result(classRefundQuery, ans, req.Order.Wallet)
	if v.notFound {
		return gateways.Result{}, pos.E(pos.NotFound, op, fmt.Errorf("refund %s: %w (U7)", req.OutRefundNo, errNoRefund))
	}
	res.RefundID = ans["transID"]
	res.TransactionID = ""
	return res, nil
}
