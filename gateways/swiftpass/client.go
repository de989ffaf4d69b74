package swiftpass

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// Kind is the adapter's registered kind.
const Kind = "swiftpass"

// Interface guards. There is no Micropayer or Reverser: this spec has
// merchant-presented QR codes only, and close is its way out.
var (
	_ gateways.Gateway   = (*Client)(nil)
	_ gateways.QRCreator = (*Client)(nil)
	_ gateways.Closer    = (*Client)(nil)
	_ gateways.Refunder  = (*Client)(nil)
	_ gateways.Notifier  = (*Client)(nil)
)

func init() { gateways.RegisterOptions(Kind, New) }

// platformZone is the platform's clock: time_start, time_expire and
// time_end are "GMT+8 Beijing Time" (§6.1.3). Fixed, so a till without a
// time zone database works.
var platformZone = time.FixedZone("UTC+8", 8*60*60)

// TimeLayout is yyyyMMddHHmmss.
const TimeLayout = "20060102150405"

// Client speaks the Swiftpass QR API for one merchant.
type Client struct {
	opts   Options
	signer Signer
	timing gateways.Timing
	http   *http.Client
	log    *slog.Logger
	// now and nonce are replaced by tests for byte-exact requests.
	now   func() time.Time
	nonce func() string
}

// New validates opts, loads the keys and builds a Client.
func New(opts Options, env gateways.Env) (*Client, error) {
	o := opts.withDefaults(env.Dir)
	if err := o.validate(); err != nil {
		return nil, err
	}
	s, err := o.signer()
	if err != nil {
		return nil, err
	}
	c := &Client{opts: o, signer: s, timing: o.timing(), http: env.HTTPClient, log: env.Logger, now: time.Now, nonce: randomNonce}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("gateway", Kind)
	return c, nil
}

// Kind implements gateways.Gateway.
func (c *Client) Kind() string { return Kind }

// Capabilities implements gateways.Gateway: merchant QR for WeChat Pay,
// Alipay and UnionPay (UPI) in the merchant's one currency; no micropay.
// Close is for WeChat Pay and Alipay orders only: "Close order only
// applicable for Wechat Pay and Alipay, but not for UPI QR payment"
// (§6.6.1), so a UPI order is polled until time_expire, which is always
// sent.
func (c *Client) Capabilities() gateways.Capabilities {
	return gateways.Capabilities{
		MerchantQR:    []pos.Wallet{pos.WeChatPay, pos.Alipay, pos.UnionPay},
		Currencies:    []pos.Currency{pos.Currency(c.opts.Currency)},
		Close:         true,
		CloseWallets:  []pos.Wallet{pos.WeChatPay, pos.Alipay},
		Refund:        true,
		PartialRefund: true,
		Notify:        true,
	}
}

// Timing implements gateways.Gateway.
func (c *Client) Timing() gateways.Timing { return c.timing }

// qrService is the service that creates a QR order for a wallet.
var qrService = map[pos.Wallet]string{
	pos.WeChatPay: ServiceWeChatQR,
	pos.Alipay:    ServiceAlipayQR,
	pos.UnionPay:  ServiceUPIQR,
}

// walletOf reads trade_type (a service name) back to the wallet.
func walletOf(tradeType string) pos.Wallet {
	for w, s := range qrService {
		if s == tradeType {
			return w
		}
	}
	switch {
	case strings.HasPrefix(tradeType, "pay.weixin."):
		return pos.WeChatPay
	case strings.HasPrefix(tradeType, "pay.alipay."):
		return pos.Alipay
	case strings.HasPrefix(tradeType, "pay.upi."), strings.HasPrefix(tradeType, "pay.unionpay."):
		return pos.UnionPay
	}
	return ""
}

// base is the fields every request carries.
func (c *Client) base(service string) Fields {
	return Fields{
		"service":      service,
		"version":      Version,
		"charset":      Charset,
		"sign_type":    string(c.signer.Type()),
		"mch_id":       c.opts.MchID,
		"groupno":      c.opts.GroupNo,
		"sign_agentno": c.opts.SignAgentNo,
		"nonce_str":    c.nonce(),
	}
}

// CreateQR creates a merchant-presented QR order (§6.1) and returns its
// code_url for the till to show, with StatusUserPaying. time_start is now
// and time_expire is req.Expires, or now plus QRTimeout, both in the
// platform's time: the spec says they take effect only together, and a
// UPI code without time_expire never expires.
//
// A create refused (status or result_code not 0) gave no code_url, so no
// QR was shown and nobody can pay the order: Failed, except for the
// err_codes that speak of an existing order with our number (status.go).
func (c *Client) CreateQR(ctx context.Context, req gateways.QRRequest) (gateways.Result, error) {
	const op = "swiftpass.CreateQR"
	service, ok := qrService[req.Wallet]
	if !ok {
		return gateways.Result{}, pos.Errorf(pos.Invalid, op, "wallet %q has no merchant QR here (WeChat Pay, Alipay, UnionPay)", req.Wallet)
	}
	if err := c.checkMoney(op, "total_fee", req.Amount); err != nil {
		return gateways.Result{}, err
	}
	now := c.now()
	expires := req.Expires
	if expires.IsZero() {
		expires = now.Add(c.opts.QRTimeout)
	}
	if !expires.After(now) {
		return gateways.Result{}, pos.Errorf(pos.Invalid, op, "field time_expire: the order's expiry %s is not in the future", expires.Format(time.RFC3339))
	}
	body := strings.TrimSpace(req.Description)
	if body == "" {
		body = c.opts.Body
	}
	f := c.base(service)
	f["out_trade_no"] = req.OutTradeNo
	f["device_info"] = c.opts.DeviceInfo
	f["body"] = truncate(body, 128)
	f["total_fee"] = strconv.FormatInt(req.Amount.Minor, 10)
	f["mch_create_ip"] = c.opts.CreateIP
	f["notify_url"] = c.opts.NotifyURL
	f["time_start"] = now.In(platformZone).Format(TimeLayout)
	f["time_expire"] = expires.In(platformZone).Format(TimeLayout)
	if c.opts.LimitCredit {
		f["limit_credit_pay"] = "1"
	}
	r, err := c.call(ctx, op, f)
	var pe *protocolError
	if errors.As(err, &pe) {
		// §6.1.4: code_url only "when status and result_code both are
		// 0"; the unsigned protocol error proves nothing else, but no QR
		// exists to pay.
		return gateways.Result{
			Status: gateways.StatusFailed, Wallet: req.Wallet, Code: pe.status,
			Reason:     "the platform refused the order: " + msgOr(pe.message, "status "+pe.status),
			OutTradeNo: req.OutTradeNo,
			Detail:     fmt.Sprintf("swiftpass %s status=%s (protocol error, no code_url)", service, truncate(pe.status, 8)),
		}, nil
	}
	if err != nil {
		return gateways.Result{}, err
	}
	v := classify(OpCreate, r)
	res := c.result(service, r, v, expect{outTradeNo: req.OutTradeNo})
	res.Wallet = req.Wallet
	if res.Mismatch != "" {
		return res, nil
	}
	res.OutTradeNo = req.OutTradeNo // §6.1.4's answer does not carry it
	res.CodeURL = pos.Secret(r["code_url"])
	if v.status() == gateways.StatusUserPaying && res.CodeURL == "" {
		// Created, but nothing to show: the customer cannot pay it. The
		// flows query and close it.
		res.Status, res.Reason = gateways.StatusUnknown, "order created without a code_url"
	}
	return res, nil
}

// Query asks for a payment order's state (§6.3) by our out_trade_no, which
// is journaled before the order is created and so known even after a lost
// answer. An order the platform does not know is a pos.NotFound error.
// A paid answer must name our order and its total_fee (§6.3.3 lists
// both as returned with SUCCESS); when ref.Amount is set, total_fee and
// fee_type must equal it (§6.2.1), or the result is a Mismatch.
func (c *Client) Query(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	const op = "swiftpass.Query"
	f := c.base(ServiceQuery)
	f["out_trade_no"] = ref.OutTradeNo
	r, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, unknownIfProtocol(op, err)
	}
	v := classify(OpQuery, r)
	if v.notFound() {
		return gateways.Result{}, pos.Errorf(pos.NotFound, op, "order %s not found (%s %s)", ref.OutTradeNo, v.code, v.reason)
	}
	e := expect{outTradeNo: ref.OutTradeNo, amount: ref.Amount}
	if v.status() == gateways.StatusSucceeded {
		e.needOrder, e.needAmount = true, true
	}
	res := c.result(ServiceQuery, r, v, e)
	if res.Wallet == "" {
		res.Wallet = ref.Wallet
	}
	return res, nil
}

// Close closes an unpaid order (§6.6) so it can no longer be paid.
// result_code 0 (or an "already closed" code) is Succeeded. A refusal is
// Failed with the platform's reason, and, as §6.6.4 asks ("the recall
// function should be used"), the flows then query the order. The
// platform refuses closes within 5 minutes of the order (Timing.
// CloseAfter) and of UPI orders (Capabilities.CloseWallets); the adapter
// sends what it is asked to.
func (c *Client) Close(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	const op = "swiftpass.Close"
	f := c.base(ServiceClose)
	f["out_trade_no"] = ref.OutTradeNo
	r, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, unknownIfProtocol(op, err)
	}
	v := classify(OpClose, r)
	if v.notFound() {
		return gateways.Result{}, pos.Errorf(pos.NotFound, op, "order %s not found (%s %s)", ref.OutTradeNo, v.code, v.reason)
	}
	res := c.result(ServiceClose, r, v, expect{outTradeNo: ref.OutTradeNo})
	res.TransactionID = ""
	if res.OutTradeNo == "" && res.Mismatch == "" {
		res.OutTradeNo = ref.OutTradeNo // §6.6.4's answer does not carry it
	}
	return res, nil
}

// Refund refunds part or all of a paid order (§6.4) under our
// out_refund_no. result_code 0 is the refund accepted (UserPaying): it is
// final only from the refund query's refund_status_$n. The refund runner
// sends it again with the same numbers only when the spec asks (NOTSURE,
// Result.Resend), which the spec makes safe ("the recall function should
// be used with same refund number to avoid duplication of refunds").
// A single refund above the original is refused here without sending.
func (c *Client) Refund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	const op = "swiftpass.Refund"
	if err := c.checkMoney(op, "refund_fee", req.Amount); err != nil {
		return gateways.Result{}, err
	}
	if err := c.checkMoney(op, "total_fee", req.Order.Amount); err != nil {
		return gateways.Result{}, err
	}
	if req.Amount.Minor > req.Order.Amount.Minor {
		return gateways.Result{Status: gateways.StatusFailed, Code: "REFUND_FEE_INVALID",
			Reason:     fmt.Sprintf("refund %s is above the original %s", req.Amount, req.Order.Amount),
			OutTradeNo: req.Order.OutTradeNo, OutRefundNo: req.OutRefundNo,
			Detail: "swiftpass " + ServiceRefund + " refused before sending: above the original"}, nil
	}
	f := c.base(ServiceRefund)
	f["out_trade_no"] = req.Order.OutTradeNo
	f["out_refund_no"] = req.OutRefundNo
	f["total_fee"] = strconv.FormatInt(req.Order.Amount.Minor, 10)
	f["refund_fee"] = strconv.FormatInt(req.Amount.Minor, 10)
	f["op_user_id"] = c.opts.OpUserID
	r, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, unknownIfProtocol(op, err)
	}
	v := classify(OpRefund, r)
	if v.notFound() {
		return gateways.Result{}, pos.Errorf(pos.NotFound, op, "order %s not found (%s %s)", req.Order.OutTradeNo, v.code, v.reason)
	}
	e := expect{outTradeNo: req.Order.OutTradeNo, outRefundNo: req.OutRefundNo, refundAmount: req.Amount}
	if r["result_code"] == "0" {
		// §6.4.3: returned "when status and result_code both are 0".
		e.needOrder, e.needRefund = true, true
	}
	res := c.result(ServiceRefund, r, v, e)
	res.TransactionID = ""
	res.RefundID = r["refund_id"]
	return res, nil
}

// QueryRefund asks for one refund's state (§6.5) by the order and our
// out_refund_no, and reads the entry with that number from the answer's
// refund_count list (§6.5.2 refund_status_$n).
func (c *Client) QueryRefund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	const op = "swiftpass.QueryRefund"
	f := c.base(ServiceRefundQuery)
	f["out_trade_no"] = req.Order.OutTradeNo
	f["out_refund_no"] = req.OutRefundNo
	r, err := c.call(ctx, op, f)
	if err != nil {
		return gateways.Result{}, unknownIfProtocol(op, err)
	}
	v := classify(OpRefundQuery, r)
	if v.notFound() {
		return gateways.Result{}, pos.Errorf(pos.NotFound, op, "refund %s not found (%s %s)", req.OutRefundNo, v.code, v.reason)
	}
	e := expect{outTradeNo: req.Order.OutTradeNo, outRefundNo: req.OutRefundNo, refundAmount: req.Amount}
	if r["result_code"] != "0" {
		return c.result(ServiceRefundQuery, r, v, e), nil
	}
	e.needOrder = true
	n, err := strconv.Atoi(r["refund_count"])
	if err != nil || n < 0 || n > maxFields {
		return gateways.Result{}, pos.Errorf(pos.Unknown, op, "refund_count %q is not a count", truncate(r["refund_count"], 16))
	}
	for i := range n {
		idx := strconv.Itoa(i)
		if r["out_refund_no_"+idx] != req.OutRefundNo {
			continue
		}
		st := r["refund_status_"+idx]
		out, listed := lookupRow(refundStates, st)
		rv := verdict{outcome: out, code: st}
		switch out {
		case Failed:
			rv.reason = "the refund failed"
		case UserPaying:
			rv.reason = "the refund is processing"
		case Resend:
			rv.reason = "the platform is not sure: the refund is sent again with the same out_refund_no (§6.5.2 NOTSURE)"
		case Alert:
			rv.reason = "the customer's card cannot take the refund; it went to the merchant's account: refund offline (§6.5.2 CHANGE)"
		}
		if !listed {
			rv.reason = "refund_status " + quoteShort(st) + " is not in the spec"
		}
		// The entry's own fields are the refund's; the answer's
		// transaction_id and fee_type are the order's.
		entry := Fields{}
		for k, val := range r {
			entry[k] = val
		}
		entry["out_refund_no"] = r["out_refund_no_"+idx]
		entry["refund_fee"] = r["refund_fee_"+idx]
		e.needRefund = true
		res := c.result(ServiceRefundQuery, entry, rv, e)
		res.RefundID = r["refund_id_"+idx]
		res.Detail += " refund_status=" + truncate(st, 16)
		return res, nil
	}
	return gateways.Result{}, pos.Errorf(pos.NotFound, op, "refund %s is not among the order's %d refunds", req.OutRefundNo, n)
}

func (c *Client) checkMoney(op, field string, m pos.Money) error {
	if string(m.Currency) != c.opts.Currency {
		return pos.Errorf(pos.Invalid, op, "field %s: amount in %q; this merchant takes %s only", field, m.Currency, c.opts.Currency)
	}
	if m.Minor <= 0 {
		return pos.Errorf(pos.Invalid, op, "field %s: amount must be positive", field)
	}
	return nil
}

// money reads an amount field and its currency (fee_type; absent, the
// merchant's, in whose minor units §6.1.3 says every amount is). ok is
// false when the field is absent or not a positive amount.
func (c *Client) money(minor, currency string) (pos.Money, bool) {
	if currency == "" {
		currency = c.opts.Currency
	}
	n, err := strconv.ParseInt(minor, 10, 64)
	if err != nil || n <= 0 {
		return pos.Money{}, false
	}
	m, err := pos.NewMoney(n, currency)
	if err != nil {
		return pos.Money{}, false
	}
	return m, true
}

// protocolError is the platform's unsigned protocol error: a status other
// than 0 (§3.2), with its message.
type protocolError struct{ status, message string }

func (e *protocolError) Error() string {
	return fmt.Sprintf("protocol error: status %s: %s", quoteShort(e.status), quoteShort(e.message))
}

// unknownIfProtocol turns a protocol error into a pos.Unknown error: for
// every operation but a create, an unsigned refusal proves nothing.
func unknownIfProtocol(op string, err error) error {
	var pe *protocolError
	if errors.As(err, &pe) {
		return pos.E(pos.Unknown, op, err)
	}
	return err
}

// call validates, signs and sends one request and returns the verified
// answer. Errors: pos.Invalid (a field breaks the spec's rules; nothing
// sent), pos.Unavailable (not sent), pos.Unknown (sent, and no trustworthy
// answer: transport failure, malformed or unverifiable answer), or a
// *protocolError (status other than 0), which each operation reads.
func (c *Client) call(ctx context.Context, op string, f Fields) (Fields, error) {
	if err := ValidateRequest(f); err != nil {
		return nil, pos.E(pos.Invalid, op, err)
	}
	sig, err := c.signer.Sign(f)
	if err != nil {
		return nil, pos.E(pos.Internal, op, fmt.Errorf("signing: %w", err))
	}
	f[SignField] = sig
	ctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.Endpoint, bytes.NewReader(f.Marshal()))
	if err != nil {
		return nil, pos.E(pos.Internal, op, err)
	}
	hr.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	raw, err := gateways.Do(ctx, c.http, hr, op)
	if err != nil {
		return nil, err
	}
	r, err := c.verify(raw)
	var pe *protocolError
	if errors.As(err, &pe) {
		c.log.Info("swiftpassProtocolError", "op", op, "service", f["service"], "outTradeNo", f["out_trade_no"],
			"status", truncate(pe.status, 8), "message", truncate(pe.message, 64))
		return nil, err
	}
	if err != nil {
		return nil, pos.E(pos.Unknown, op, err)
	}
	c.log.Debug("swiftpassCall", "op", op, "service", f["service"], "outTradeNo", f["out_trade_no"],
		"resultCode", r["result_code"], "tradeState", r["trade_state"], "errCode", r["err_code"])
	return r, nil
}

// verify parses an answer or notification and checks, in this order, that
// it is well formed, that status is 0 (any other status is the platform's
// unsigned protocol error, §4: "the failed result will not be signed": a
// *protocolError), and that its signature verifies with our algorithm and
// key. Whose it is (mch_id, out_trade_no) is checked by result.
func (c *Client) verify(raw []byte) (Fields, error) {
	r, err := ParseXML(raw)
	if err != nil {
		return nil, fmt.Errorf("malformed answer: %w", err)
	}
	if st := r["status"]; st != "0" {
		return nil, &protocolError{status: st, message: r["message"]}
	}
	if err := c.signer.Verify(r); err != nil {
		return nil, fmt.Errorf("answer not trusted: %w", err)
	}
	return r, nil
}

// expect is what an answer must be about: the order (and refund) asked
// about, and, when known, the amounts. need* say which fields the spec's
// table makes required in this answer (a missing one is a mismatch).
type expect struct {
	outTradeNo   string
	outRefundNo  string
	amount       pos.Money // the order's amount; zero when the caller did not say
	refundAmount pos.Money // this refund's amount; zero when not known
	needOrder    bool      // out_trade_no required
	needAmount   bool      // total_fee required
	needRefund   bool      // out_refund_no and refund_fee required
	notification bool      // no order asked about: fill, do not compare numbers
}

// result turns a verified answer into the normalised result: the
// outcome, and what the answer says it is about (OutTradeNo, Amount,
// OutRefundNo, RefundAmount) for the flows to check against the journal.
// An answer about another merchant or order, or without a field the
// spec's table requires in it, is a Mismatch: Status Unknown, never
// adopted (§6.2.1: "the status of order ... will only be allowed to
// update after the verification is consistent").
func (c *Client) result(service string, r Fields, v verdict, e expect) gateways.Result {
	res := gateways.Result{
		Status:        v.status(),
		TransactionID: r["transaction_id"],
		Wallet:        walletOf(r["trade_type"]),
		Code:          v.code,
		OutTradeNo:    r["out_trade_no"],
		OutRefundNo:   r["out_refund_no"],
		Resend:        v.outcome == Resend,
	}
	if v.outcome == Alert {
		res.Alert = v.reason
	}
	if v.status() != gateways.StatusSucceeded {
		res.Reason = v.reason
	}
	res.Detail = fmt.Sprintf("swiftpass %s status=%s result_code=%s", service, truncate(r["status"], 8), truncate(r["result_code"], 8))
	if st := r["trade_state"]; st != "" {
		res.Detail += " trade_state=" + truncate(st, 16)
	}
	if ec := r["err_code"]; ec != "" {
		res.Detail += " err_code=" + truncate(ec, 32)
	}
	amount, hasAmount := c.money(r["total_fee"], r["fee_type"])
	res.Amount = amount
	refundAmount, hasRefund := c.money(r["refund_fee"], r["fee_type"])
	res.RefundAmount = refundAmount
	if t, err := time.ParseInLocation(TimeLayout, r["time_end"], platformZone); err == nil && v.status() == gateways.StatusSucceeded {
		res.PaidAt = t
	}
	var bad string
	switch m := r["mch_id"]; {
	case m == "":
		bad = "the answer names no mch_id"
	case m != c.opts.MchID:
		bad = "the answer is for merchant " + quoteShort(m) + ", not ours"
	case r["out_trade_no"] == "" && e.needOrder:
		bad = "the answer names no out_trade_no"
	case r["out_trade_no"] != "" && !e.notification && r["out_trade_no"] != e.outTradeNo:
		bad = "the answer is for order " + quoteShort(r["out_trade_no"]) + ", not " + quoteShort(e.outTradeNo)
	case e.needAmount && !hasAmount:
		bad = "the answer has no total_fee"
	case hasAmount && e.amount.Currency != "" && amount != e.amount:
		bad = "the answer's total_fee is " + amount.String() + ", not the order's " + e.amount.String()
	case e.needRefund && r["out_refund_no"] == "":
		bad = "the answer names no out_refund_no"
	case r["out_refund_no"] != "" && r["out_refund_no"] != e.outRefundNo:
		bad = "the answer is for refund " + quoteShort(r["out_refund_no"]) + ", not " + quoteShort(e.outRefundNo)
	case e.needRefund && !hasRefund:
		bad = "the answer has no refund_fee"
	case hasRefund && e.refundAmount.Currency != "" && refundAmount != e.refundAmount:
		bad = "the answer's refund_fee is " + refundAmount.String() + ", not the refund's " + e.refundAmount.String()
	}
	if bad != "" {
		res.Status, res.Mismatch, res.Resend, res.Alert = gateways.StatusUnknown, bad, false, ""
		res.Reason = "not adopted: " + bad
		c.log.Error("swiftpassMismatch", "service", service, "outTradeNo", e.outTradeNo, "mismatch", bad)
	}
	return res
}

// randomNonce is nonce_str: 32 hex digits, the field's maximum.
func randomNonce() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}

var errNoOrder = errors.New("notification names no out_trade_no")
