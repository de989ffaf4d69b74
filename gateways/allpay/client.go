package allpay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	// now is replaced in tests for reproducible requests, and voidNo
	// (VoidNumber) for reproducible cancellation numbers.
	now    func() time.Time
	voidNo func(string) string
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
	c := &Client{opts: o, key: key, timing: o.timing(), http: env.HTTPClient, log: env.Logger, now: time.Now, voidNo: VoidNumber}
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
// merchant's one currency; partial refunds and notifications. Reverse
// (VOID) only with Options.VoidQR: §4.8 documents VOID for cards, so an
// unpaid QR order is otherwise polled until it ends. No micropay and no
// close (see the package doc).
func (c *Client) Capabilities() gateways.Capabilities {
	return gateways.Capabilities{
		MerchantQR:    []pos.Wallet{pos.WeChatPay, pos.Alipay},
		Currencies:    []pos.Currency{pos.Currency(c.opts.Currency)},
		Reverse:       c.opts.VoidQR,
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
// malformed body, bad signature). An answer that names another order,
// merchant or transaction is returned with mismatch set: the caller
// reports it as an Unknown result with Result.Mismatch, never adopts it.
func (c *Client) call(ctx context.Context, op string, f Fields) (ans Fields, mismatch string, err error) {
	signed, err := c.request(op, f)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timing.CallTimeout)
	defer cancel()
	u := strings.TrimSuffix(c.opts.Endpoint, "/") + PathFor(f["transType"])
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(signed.Encode()))
	if err != nil {
		return nil, "", pos.E(pos.Internal, op, err)
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	body, err := gateways.Do(ctx, c.http, hreq, op)
	if err != nil {
		c.log.Warn("exchange failed", "op", op, "orderNum", f["orderNum"], "kind", pos.KindOf(err).String())
		return nil, "", err
	}
	// §5.1.1 promises only RespCode, RespMsg and code_url in the QRCODE
	// purchase answer: its echo fields (and signType) are compared when
	// present, not required. Every other answer's table makes them M.
	minimal := f["transType"] == TransPurchase
	ans, err = c.verify(body, minimal)
	if err != nil {
		c.log.Warn("untrusted answer", "op", op, "orderNum", f["orderNum"], "err", err.Error())
		return nil, "", pos.E(pos.Unknown, op, fmt.Errorf("answer not trusted: %w", err))
	}
	if ans["RespCode"] == "" {
		return nil, "", pos.Errorf(pos.Unknown, op, "answer has no RespCode")
	}
	for _, k := range []string{"transType", "orderNum", "merID"} {
		if (ans[k] != "" || !minimal) && ans[k] != f[k] {
			mismatch = fmt.Sprintf("answer %s %q does not answer our %q", k, truncateBytes(ans[k], 64), f[k])
			c.log.Error("answer for another order", "op", op, "orderNum", f["orderNum"], "mismatch", mismatch)
			break
		}
	}
	c.log.Debug("exchange", "op", op, "orderNum", f["orderNum"], "respCode", ans["RespCode"])
	return ans, mismatch, nil
}

// mismatched is the Unknown result of an answer about something else.
func mismatched(ans Fields, mismatch string) gateways.Result {
	return gateways.Result{
		Status:   gateways.StatusUnknown,
		Code:     ans["RespCode"],
		Reason:   mismatch,
		Mismatch: mismatch,
		Detail:   fmt.Sprintf("allpay %s RespCode=%s (mismatch)", truncateBytes(ans["transType"], 8), truncateBytes(ans["RespCode"], 8)),
	}
}

// verify parses a body and checks its signature with our key and type.
// lenientType accepts a message without signType (verified with ours).
func (c *Client) verify(body []byte, lenientType bool) (Fields, error) {
	f, err := ParseFields(body)
	if err != nil {
		return nil, err
	}
	if lenientType && f["signType"] == "" {
		err = verifyAs(f, c.key, c.opts.SignType)
	} else {
		err = Verify(f, c.key, c.opts.SignType)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// result reads the common part of an answer through op's outcome table.
func (c *Client) result(cls opClass, ans Fields, w pos.Wallet, inWindow bool) (gateways.Result, verdict) {
	code := ans["RespCode"]
	v := classify(cls, code, inWindow)
	res := gateways.Result{
		Status:        v.status,
		TransactionID: ans["transID"],
		Wallet:        WalletOf(ans["paymentSchema"]),
		Code:          code,
		OutTradeNo:    ans["orderNum"],
		Detail:        fmt.Sprintf("allpay %s RespCode=%s", cls, truncateBytes(code, 8)),
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
		res.Reason = fmt.Sprintf("RespCode %q (%s) says nothing definite (%s)", truncateBytes(code, 8), msg, v.section)
	case gateways.StatusUserPaying:
		res.Reason = msg
	}
	return res, v
}

// amountOf reads an answer's amount field in orderCurrency (or ours); ok
// is false when there is none. A malformed one is an error.
func (c *Client) amountOf(ans Fields, field string) (pos.Money, bool, error) {
	s := ans[field]
	if s == "" {
		return pos.Money{}, false, nil
	}
	cur := ans["orderCurrency"]
	if cur == "" {
		cur = c.opts.Currency
	}
	m, err := ParseAmount(s, cur)
	if err != nil {
		return pos.Money{}, false, err
	}
	return m, true, nil
}

// ParseAmount reads a major-unit decimal as §4.2 writes amounts ("100 or
// 100.00"): more decimals than the currency has are accepted when they
// are zeros (JPY "100.00" is 100 yen), refused otherwise.
func ParseAmount(s, currency string) (pos.Money, error) {
	cur, err := pos.ParseCurrency(currency)
	if err != nil {
		return pos.Money{}, err
	}
	if whole, frac, ok := strings.Cut(s, "."); ok {
		exp := cur.Exponent()
		if len(frac) > exp {
			if strings.Trim(frac[exp:], "0") != "" {
				return pos.Money{}, fmt.Errorf("amount %q has more than %d decimals for %s", s, exp, cur)
			}
			frac = frac[:exp]
		}
		s = whole
		if frac != "" {
			s += "." + frac
		}
	}
	return pos.ParseMoney(s, currency)
}

// checkEchoedAmount compares an answer's amount with the order's; a
// different one (or currency) is a mismatch: the answer is not about the
// payment the till holds.
func (c *Client) checkEchoedAmount(op string, ans Fields, want pos.Money, res *gateways.Result) error {
	got, ok, err := c.amountOf(ans, "orderAmount")
	if err != nil {
		return pos.Errorf(pos.Unknown, op, "answer orderAmount: %v", err)
	}
	if !ok {
		return nil
	}
	res.Amount = got
	if want.Minor != 0 && got != want {
		res.Status = gateways.StatusUnknown
		res.Mismatch = fmt.Sprintf("answer amount %s differs from the order's %s", got, want)
		res.Reason = res.Mismatch
		res.CodeURL = ""
		c.log.Error("answer for another amount", "op", op, "orderNum", ans["orderNum"], "mismatch", res.Mismatch)
	}
	return nil
}

// CreateQR creates a merchant-presented QR order: PURC with
// tradeFrom=QRCODE (§4.2, §5.1.1, §5.2.4, §5.9.2). The answer's code_url is
// Result.CodeURL, status UserPaying. req.Expires cannot be sent (PURC has
// no expiry field); the order stays payable for Options.PayableWindow.
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
	ans, mismatch, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, err
	}
	if mismatch != "" {
		return mismatched(ans, mismatch), nil
	}
	res, v := c.result(classPurchase, ans, req.Wallet, true)
	if res.OutTradeNo == "" {
		res.OutTradeNo = req.OutTradeNo // §5.1.1 answers need not echo it
	}
	if err := c.checkEchoedAmount(op, ans, req.Amount, &res); err != nil {
		return gateways.Result{}, err
	}
	switch {
	case res.Mismatch != "":
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

// inWindow reports whether an order created at submitted may still be
// paid now: within Options.PayableWindow. An order whose creation time is
// not known is taken as still payable (never ended on a guess).
func (c *Client) inWindow(submitted time.Time) bool {
	return submitted.IsZero() || c.now().Before(submitted.Add(c.opts.PayableWindow))
}

// Query asks for a payment order (INQY, §4.3). The answer has no status
// field: RespCode is the order's state (00 paid, 04 processing, 01/61/P3
// not paid: final only after the payable window, U7 unknown order:
// pos.NotFound). An answer about another order or amount is Unknown with
// Result.Mismatch.
func (c *Client) Query(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	const op = "allpay.Query"
	f, err := c.base(op, TransInquiry, ref.OutTradeNo, ref.Wallet)
	if err != nil {
		return gateways.Result{}, err
	}
	ans, mismatch, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, err
	}
	if mismatch != "" {
		return mismatched(ans, mismatch), nil
	}
	res, v := c.result(classInquiry, ans, ref.Wallet, c.inWindow(ref.SubmittedAt))
	if v.notFound {
		return gateways.Result{}, pos.Errorf(pos.NotFound, op, "AllPay has no order %s (U7): %s", ref.OutTradeNo, truncateBytes(ans["RespMsg"], 60))
	}
	if err := c.checkEchoedAmount(op, ans, ref.Amount, &res); err != nil {
		return gateways.Result{}, err
	}
	return res, nil
}

// VoidNumber is a fresh orderNum for one cancellation attempt of order
// no: "V" + no + "-" + 8 random hex digits. §4.8 forbids reusing a
// number, so every attempt draws its own; what the earlier attempts did
// is read from the order (INQY), never inferred from a U6.
func VoidNumber(no string) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "V" + no + "-" + hex.EncodeToString(b[:])
}

// Reverse is the way out of a merchant QR the customer did not pay in
// time, or one the cashier cancelled.
//
// Without Options.VoidQR (the default) no VOID is sent: §4.8 documents the
// cancellation for card transactions only (paymentSchema "FC"). The order
// is read instead (INQY) and Reverse reports what it says: paid → Failed
// (nothing was reversed; the payment stands and needs a refund), open →
// UserPaying (ask again later: the order is polled to its end), ended
// unpaid → Succeeded (nothing is charged). Capabilities declare no Reverse
// then, so the flows poll the order rather than call this.
//
// With VoidQR (the acquirer confirmed VOID for WX/AP/APHK QR orders) a
// VOID with a fresh cancellation number is sent: 00 is Succeeded; any
// other answer (U6 included) is settled by reading the order, as above,
// except that an order read as not paid after a VOID is Succeeded
// (cancelled, or never paid). A VOID is never resent with the same number.
func (c *Client) Reverse(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	const op = "allpay.Reverse"
	if !c.opts.VoidQR {
		return c.settleByInquiry(ctx, ref, gateways.Result{Detail: "allpay VOID not sent (void_qr off)"}, false)
	}
	f, err := c.base(op, TransVoid, c.voidNo(ref.OutTradeNo), ref.Wallet)
	if err != nil {
		return gateways.Result{}, err
	}
	f["origOrderNum"] = ref.OutTradeNo
	ans, mismatch, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, err
	}
	if mismatch != "" {
		return mismatched(ans, mismatch), nil
	}
	res, v := c.result(classVoid, ans, ref.Wallet, true)
	res.OutTradeNo = ref.OutTradeNo
	switch {
	case v.notFound:
		return gateways.Result{}, pos.Errorf(pos.NotFound, op, "AllPay has no order %s to cancel (U7)", ref.OutTradeNo)
	case v.status == gateways.StatusSucceeded:
		return res, nil
	}
	// A refusal (Failed) proves the VOID did nothing; any other answer
	// (U6, 04, U9, P5, an unlisted code) may hide a cancellation.
	return c.settleByInquiry(ctx, ref, res, v.status != gateways.StatusFailed)
}

// settleByInquiry ends a reverse from what INQY says of the order.
// voided says a VOID was sent and not refused, so an order read 01 (not
// paid) counts as cancelled even inside the payable window.
func (c *Client) settleByInquiry(ctx context.Context, ref gateways.OrderRef, void gateways.Result, voided bool) (gateways.Result, error) {
	q, err := c.Query(ctx, ref)
	if err != nil {
		return gateways.Result{}, err
	}
	if void.Detail != "" {
		q.Detail = void.Detail + "; " + q.Detail
	}
	switch q.Status {
	case gateways.StatusSucceeded:
		// Paid: the cancellation is not in effect. Failed makes the flows
		// query, find it paid, and keep it (refund it if the sale is void).
		q.Status = gateways.StatusFailed
		q.Reason = "the order is paid; it was not cancelled"
	case gateways.StatusFailed:
		q.Status, q.Reason = gateways.StatusSucceeded, "the order ended unpaid"
	case gateways.StatusUserPaying:
		if voided && q.Code == RespFail {
			// 01 after our VOID: cancelled (the window does not apply).
			q.Status, q.Reason = gateways.StatusSucceeded, "cancelled"
			break
		}
		q.Reason = "the order is still open; asking again later"
	}
	return q, nil
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
	ans, mismatch, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, err
	}
	if mismatch != "" {
		return mismatched(ans, mismatch), nil
	}
	res, v := c.result(classRefund, ans, req.Order.Wallet, true)
	if v.repeat {
		q, err := c.QueryRefund(ctx, req)
		if errors.Is(err, errNoRefund) || pos.Match(pos.NotFound, err) {
			res.Reason = "refund number in use, but RFQY does not know it"
			return res, nil
		}
		return q, err
	}
	c.refundAbout(&res, ans, req)
	if a, ok, err := c.amountOf(ans, "returnAmount"); err == nil && ok {
		res.RefundAmount = a
		if a != req.Amount {
			res.Status = gateways.StatusUnknown
			res.Mismatch = fmt.Sprintf("answer refund amount %s differs from the %s asked", a, req.Amount)
			res.Reason = res.Mismatch
		}
	}
	return res, nil
}

// refundAbout fills what a refund answer names: the refund's number (its
// orderNum) and the original order.
func (c *Client) refundAbout(res *gateways.Result, ans Fields, req gateways.RefundRequest) {
	res.RefundID = ans["transID"]
	res.TransactionID = ""
	res.OutRefundNo = ans["orderNum"]
	res.OutTradeNo = ans["origOrderNum"]
	if res.OutTradeNo == "" {
		res.OutTradeNo = req.Order.OutTradeNo
	}
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
	ans, mismatch, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, err
	}
	if mismatch != "" {
		return mismatched(ans, mismatch), nil
	}
	res, v := c.result(classRefundQuery, ans, req.Order.Wallet, true)
	if v.notFound {
		return gateways.Result{}, pos.E(pos.NotFound, op, fmt.Errorf("refund %s: %w (U7)", req.OutRefundNo, errNoRefund))
	}
	c.refundAbout(&res, ans, req)
	return res, nil
}
