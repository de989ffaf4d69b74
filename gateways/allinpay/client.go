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
	"slices"
	"strconv"
	"strings"
	"sync"
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

	mu        sync.Mutex
	lastQuery map[string]time.Time // per number, for the 10 s rule (pace)
	bills     map[string]Bill      // downloaded bills by billDate (a day's bill is final)
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

// PayNowValidity is how long a PayNow code can be paid (§1.5.2.1:
// expireTime "(Paynow QR code is 3 minutes)", codeUrl "(Paynow Code period
// of validity is 3 minutes)").
const PayNowValidity = 3 * time.Minute

// closeWallets are the wallets whose QR orders CLOSE_ORDER closes
// (§1.5.2.5: "It is supported to close transaction by QR code payment of
// Wechat and Alipay"). UnionPay and PayNow QR orders expire by themselves
// (expireTime) and are polled until then; micropay orders are never closed.
var closeWallets = []pos.Wallet{pos.WeChatPay, pos.Alipay}

// Capabilities: micropay for WeChat Pay, Alipay and UnionPay; merchant QR
// for those, and PayNow for a Singapore (SGD) merchant; void, close of
// WeChat Pay and Alipay QR orders, partial refunds, notifications and the
// bill; one currency, the merchant's.
func (c *Client) Capabilities() gateways.Capabilities {
	qr := []pos.Wallet{pos.WeChatPay, pos.Alipay, pos.UnionPay}
	if c.opts.Currency == payNowCurrency {
		qr = append(qr, pos.PayNow)
	}
	return gateways.Capabilities{
		Micropay:      []pos.Wallet{pos.WeChatPay, pos.Alipay, pos.UnionPay},
		MerchantQR:    qr,
		Currencies:    []pos.Currency{pos.Currency(c.opts.Currency)},
		Reverse:       true,
		Close:         true,
		CloseWallets:  slices.Clone(closeWallets),
		Refund:        true,
		PartialRefund: true,
		Notify:        true,
		Bill:          true,
	}
}

// payNowCurrency: PayNow is Singapore's scheme; §1.5.2.1 gives SGD as a
// Singapore merchant's currency.
const payNowCurrency = "SGD"

// Timing: queries at PollInterval (never under 10 s against the real
// platform); reverse and close allowed at once (the spec sets no minimum).
// A Singapore merchant offers PayNow, whose code is valid 3 minutes: the
// one QR timeout is capped at that, so the till never shows a dead code.
func (c *Client) Timing() gateways.Timing {
	qr := c.opts.QRTimeout
	if c.opts.Currency == payNowCurrency {
		qr = min(qr, PayNowValidity)
	}
	return gateways.Timing{
		PollInterval:    c.opts.PollInterval,
		MinPollInterval: min(MinPollInterval, c.opts.PollInterval),
		PayTimeout:      c.opts.PayTimeout,
		QRTimeout:       qr,
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
	return c.pay(ctx, op, w, req.Amount)
}

// CreateQR creates a merchant-presented QR order (*_SCANCODE) and returns
// its codeUrl. expireTime is the minutes until req.Expires, rounded up, or
// QRTimeout's when Expires is zero; a PayNow order's never more than 3.
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
	if req.Wallet == pos.PayNow && c.opts.Currency != payNowCurrency {
		return gateways.Result{}, pos.Errorf(pos.Invalid, op, "PayNow is Singapore's: this merchant's currency is %s, not %s", c.opts.Currency, payNowCurrency)
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
	if req.Wallet == pos.PayNow {
		ttl = min(ttl, PayNowValidity)
	}
	w.ExpireTime = strconv.FormatInt(int64((ttl+time.Minute-1)/time.Minute), 10)
	res, err := c.pay(ctx, op, w, req.Amount)
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
	}
	// limitPay "is only for Wechat Pay and Alipay" (§1.5.2.1).
	if strings.HasPrefix(tt, "WXPAY_") || strings.HasPrefix(tt, "ALIPAY_") {
		w.LimitPay = c.opts.LimitPay
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
func (c *Client) pay(ctx context.Context, op string, w payRequest, amount pos.Money) (gateways.Result, error) {
	r, err := c.call(ctx, op, c.opts.Endpoint, w, w.RequestNo)
	if err != nil {
		return gateways.Result{}, err
	}
	res := c.result(w.TransType, r, classify(opPay, r))
	if res.Wallet == "" {
		res.Wallet = walletOf(w.TransType)
	}
	res.OutTradeNo = orDefault(r.OutTransNo, w.OutTransNo)
	c.check(op, &res, r, expect{orders: []string{w.OutTransNo}, amount: amount})
	return res, nil
}

// Query asks for a payment order's state (TRANS_QUERY). An order the
// platform does not know is a pos.NotFound error: right after a lost
// submit it may be a request still in flight, so it is not a failure. The
// answer's transAmount and currency (mandatory, §1.5.2.2) must be the
// order's: another amount is another order (a colliding number), Unknown
// with Mismatch set, never adopted.
func (c *Client) Query(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	return c.query(ctx, "allinpay.Query", ref)
}

func (c *Client) query(ctx context.Context, op string, ref gateways.OrderRef) (gateways.Result, error) {
	r, err := c.transQuery(ctx, op, ref.OutTradeNo)
	if err != nil {
		return gateways.Result{}, err
	}
	v := classify(opQuery, r)
	if v.notFound {
		return gateways.Result{}, pos.Errorf(pos.NotFound, op, "order %s not found (%s %s)", ref.OutTradeNo, v.code, v.reason)
	}
	res := c.result("TRANS_QUERY", r, v)
	if res.Wallet == "" {
		res.Wallet = ref.Wallet
	}
	res.OutTradeNo = orDefault(r.OutTransNo, ref.OutTradeNo)
	c.check(op, &res, r, expect{orders: []string{ref.OutTradeNo}, amount: ref.Amount})
	return res, nil
}

// transQuery sends TRANS_QUERY for the number no (the spec's
// oriOutTransNo) at least MinPollInterval after the previous query of no
// from this client (§1.5.2.2: "the interval between each query should not
// be less than 10 seconds"): a query asked sooner waits, or is an Unknown
// error when the caller's deadline comes first.
func (c *Client) transQuery(ctx context.Context, op, no string) (response, error) {
	if err := c.pace(ctx, op, no); err != nil {
		return response{}, err
	}
	req := queryRequest{
		RequestNo:     c.requestNo(),
		Version:       Version,
		AccessCode:    c.opts.AccessCode,
		TransType:     "TRANS_QUERY",
		SignType:      SignType,
		MchNo:         c.opts.MchNo,
		OriOutTransNo: no,
	}
	r, err := c.call(ctx, op, c.opts.Endpoint, req, req.RequestNo)
	// Timed from the end of the exchange: the platform stamped the query
	// somewhere before it, so the next one is never early at its end.
	c.mu.Lock()
	if c.lastQuery == nil || len(c.lastQuery) > 4096 {
		c.lastQuery = map[string]time.Time{}
	}
	c.lastQuery[no] = c.now()
	c.mu.Unlock()
	return r, err
}

// Reverse takes back a payment whatever its state, which OATS has no one
// command for. A void (*_CANCEL) reverses a paid order of the same day
// (§1.5.2.4: "only successful transactions are acceptable to be voided").
// Nothing in the spec cancels a micropay still waiting for the customer,
// and CLOSE_ORDER is offered for WeChat Pay and Alipay QR orders only
// (§1.5.2.5), so when the void finds the order not voidable Reverse asks
// the order itself:
//
//   - ended without a charge (closed, voided, declined): Succeeded, nothing
//     is charged;
//   - still processing: UserPaying, and the caller retries the reverse;
//   - paid meanwhile: voided again, once;
//   - paid on an earlier day: Failed (a void is same-day only; refund it);
//   - unknown to both void and query: pos.NotFound.
//
// A WeChat Pay or Alipay QR order that is not voidable is closed instead.
func (c *Client) Reverse(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	const op = "allinpay.Reverse"
	if !ref.SubmittedAt.IsZero() && !sameDay(ref.SubmittedAt, c.now()) {
		if c.closeable(ref) {
			return c.close(ctx, op, ref)
		}
		return c.settle(ctx, op, ref, verdict{code: "0032", reason: "a void is same-day only (§1.5.2.4)"}, false)
	}
	res, v, err := c.void(ctx, op, ref)
	if err != nil || res.Mismatch != "" {
		return res, err
	}
	if v.status != gateways.StatusFailed && !v.notFound {
		return res, nil
	}
	if c.closeable(ref) {
		cres, err := c.close(ctx, op, ref)
		if err != nil {
			return cres, err
		}
		if v.notFound && cres.Status == gateways.StatusUnknown && cres.Code != "" && resultClose.lookup(cres.Code).out == outNotFound {
			return gateways.Result{}, pos.Errorf(pos.NotFound, op, "order %s not found by void (%s) or close (%s)", ref.OutTradeNo, v.code, cres.Code)
		}
		cres.Detail = res.Detail + "; " + cres.Detail
		return cres, nil
	}
	return c.settle(ctx, op, ref, v, true)
}

// closeable reports whether ref is an order CLOSE_ORDER may close.
func (c *Client) closeable(ref gateways.OrderRef) bool {
	return ref.Method == pos.MerchantQR && slices.Contains(closeWallets, ref.Wallet)
}

// void sends one *_CANCEL of ref. The answer's outTransNo may be the
// void's own number or the original's (§1.5.2.4 calls it "Merchant
// transaction number"); anything else is a Mismatch.
func (c *Client) void(ctx context.Context, op string, ref gateways.OrderRef) (gateways.Result, verdict, error) {
	return c.voidAs(ctx, op, ref, c.actNo("V", ref.OutTradeNo))
}

// voidAs is void with the void's own outTransNo no.
func (c *Client) voidAs(ctx context.Context, op string, ref gateways.OrderRef, no string) (gateways.Result, verdict, error) {
	tt, err := transType(op, ref.Wallet, "CANCEL")
	if err != nil {
		return gateways.Result{}, verdict{}, err
	}
	req := cancelRequest{
		RequestNo:     c.requestNo(),
		Version:       Version,
		AccessCode:    c.opts.AccessCode,
		TransType:     tt,
		SignType:      SignType,
		MchNo:         c.opts.MchNo,
		OutTransNo:    no,
		OriOutTransNo: ref.OutTradeNo,
		NotifyURL:     c.opts.NotifyURL,
	}
	r, err := c.call(ctx, op, c.opts.Endpoint, req, req.RequestNo)
	if err != nil {
		return gateways.Result{}, verdict{}, err
	}
	v := classify(opVoid, r)
	res := c.result(tt, r, v)
	res.TransactionID = "" // the void's own number, not the payment's
	res.OutTradeNo = ref.OutTradeNo
	c.check(op, &res, r, expect{orders: []string{req.OutTransNo, ref.OutTradeNo}})
	return res, v, nil
}

var _ gateways.Voider = (*Client)(nil)

// Voidable reports whether a paid order may be voided at now: every
// wallet has a *_CANCEL (appendix 1.8.2), and a void is for "the
// transaction of the same day" (§1.5.2.4), the platform's day (UTC+8).
// The order's submission is taken as its day: when it was submitted the
// same day as now, it was paid that day too.
func (c *Client) Voidable(ref gateways.OrderRef, now time.Time) bool {
	if _, ok := walletPrefix(ref.Wallet); !ok || ref.SubmittedAt.IsZero() {
		return false
	}
	return sameDay(ref.SubmittedAt, now)
}

// Void voids a paid order of today in full (*_CANCEL, §1.5.2.4), with
// req.OutRefundNo as the void's outTransNo. The answer reads as the void
// table says: voided (0000, 0029 already voided), in progress (0033,
// 0024, R000, the processing codes), not voided (refused at admission, or
// the order is not a successful same-day order: 0026, 0032, 0031, ...),
// and everything else, "not found" included, Unknown: QueryVoid settles it.
func (c *Client) Void(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	const op = "allinpay.Void"
	res, _, err := c.voidAs(ctx, op, req.Order, req.OutRefundNo)
	if err != nil {
		return res, err
	}
	res.OutRefundNo = req.OutRefundNo
	res.Amount = pos.Money{}
	return res, nil
}

// QueryVoid settles a void from the original order (TRANS_QUERY takes the
// original's number, §1.5.2.2): voided (0029) is Succeeded; in progress
// is UserPaying; still paid means the void has not been executed: on the
// same day it is sent again (Resend: a repeated void is answered 0029,
// and a void can only take money back), from the next day on no void can
// be (§1.5.2.4: "Failure will always be presented if voiding the
// transaction of other time"), so it is Failed and the payment is to be
// refunded. Anything else (not found, an order that reads closed or
// declined, no answer) is Unknown and asked again.
func (c *Client) QueryVoid(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	const op = "allinpay.QueryVoid"
	q, err := c.query(ctx, op, req.Order)
	if pos.Match(pos.NotFound, err) {
		return gateways.Result{Status: gateways.StatusUnknown, OutTradeNo: req.Order.OutTradeNo, Reason: "the voided order is not found: asked again",
			Detail: "allinpay " + op + ": TRANS_QUERY not found"}, nil
	}
	if err != nil || q.Mismatch != "" {
		return q, err
	}
	out := gateways.Result{OutTradeNo: req.Order.OutTradeNo, Code: q.Code,
		Detail: fmt.Sprintf("allinpay %s: TRANS_QUERY of the original %s: %s", op, q.Code, q.Status)}
	switch {
	case q.Status == gateways.StatusFailed && q.Code == "0029":
		out.Status = gateways.StatusSucceeded
	case q.Status == gateways.StatusUserPaying:
		out.Status, out.Reason = gateways.StatusUserPaying, "the void is in progress: "+q.Reason
	case q.Status == gateways.StatusSucceeded && sameDay(orNow(req.Order.SubmittedAt, c.now()), c.now()):
		out.Status, out.Resend = gateways.StatusUnknown, true
		out.Reason = "the order is still paid: the void is sent again"
	case q.Status == gateways.StatusSucceeded:
		out.Status, out.Reason = gateways.StatusFailed, "not voided, and a void is same-day only (§1.5.2.4): refund it"
	default:
		out.Status = gateways.StatusUnknown
		out.Reason = "the order reads " + q.Status.String() + " (" + q.Reason + "), which says nothing of the void"
	}
	return out, nil
}

// settle decides a reverse the void could not do, from the order's own
// state (see Reverse). voided tells whether a void was sent, so a paid
// order is voided again only once.
func (c *Client) settle(ctx context.Context, op string, ref gateways.OrderRef, v verdict, voided bool) (gateways.Result, error) {
	q, err := c.query(ctx, op, ref)
	if pos.Match(pos.NotFound, err) {
		if v.notFound || !voided {
			return gateways.Result{}, pos.Errorf(pos.NotFound, op, "order %s not found by void (%s) or query", ref.OutTradeNo, v.code)
		}
		return gateways.Result{Status: gateways.StatusUnknown, Code: v.code, Reason: "the void refused the order (" + v.reason + ") and the query does not find it",
			Detail: "allinpay " + op + ": void " + v.code + ", query not found"}, nil
	}
	if err != nil {
		return gateways.Result{}, err
	}
	if q.Mismatch != "" {
		return q, nil
	}
	out := gateways.Result{OutTradeNo: ref.OutTradeNo, Wallet: q.Wallet, Amount: q.Amount, Code: q.Code,
		Detail: fmt.Sprintf("allinpay %s: void %s (%s), then TRANS_QUERY %s: %s", op, v.code, v.reason, q.Code, q.Status)}
	switch q.Status {
	case gateways.StatusFailed:
		out.Status = gateways.StatusSucceeded
		out.Reason = "not charged: " + q.Reason
		return out, nil
	case gateways.StatusUserPaying:
		out.Status = gateways.StatusUserPaying
		out.Reason = "the customer has not finished paying and the spec offers no cancel of it: the reverse is retried"
		return out, nil
	case gateways.StatusSucceeded:
		if voided && sameDay(orNow(ref.SubmittedAt, c.now()), c.now()) {
			// Paid between the void and the query: void it now.
			res, _, err := c.void(ctx, op, ref)
			return res, err
		}
		out.Status = gateways.StatusFailed
		out.Code = v.code
		out.Reason = "paid, and a void is same-day only (§1.5.2.4): refund it"
		return out, nil
	}
	out.Status = gateways.StatusUnknown
	out.Reason = "order state not known: " + q.Reason
	return out, nil
}

// Close closes an unpaid WeChat Pay or Alipay QR order (CLOSE_ORDER). An
// order already closed is Succeeded; a paid one is Failed (0038). The spec
// offers no close of a micropay or of a UnionPay or PayNow order: for
// those Close sends nothing and reads the order instead, Succeeded once it
// ended unpaid (expired, closed, declined), UserPaying while it can still
// be paid (the caller asks again), Failed when it was paid.
func (c *Client) Close(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	const op = "allinpay.Close"
	if !c.closeable(ref) {
		return c.awaitEnd(ctx, op, ref)
	}
	return c.close(ctx, op, ref)
}

// awaitEnd is Close of an order the spec offers no close for.
func (c *Client) awaitEnd(ctx context.Context, op string, ref gateways.OrderRef) (gateways.Result, error) {
	q, err := c.query(ctx, op, ref)
	if err != nil || q.Mismatch != "" {
		return q, err
	}
	out := gateways.Result{OutTradeNo: ref.OutTradeNo, Wallet: q.Wallet, Amount: q.Amount, Code: q.Code,
		Detail: fmt.Sprintf("allinpay %s: no CLOSE_ORDER for %s %s orders (§1.5.2.5); TRANS_QUERY %s: %s", op, ref.Wallet, ref.Method, q.Code, q.Status)}
	switch q.Status {
	case gateways.StatusFailed:
		out.Status, out.Reason = gateways.StatusSucceeded, "ended unpaid: "+q.Reason
	case gateways.StatusSucceeded:
		out.Status, out.Reason = gateways.StatusFailed, "the order is paid"
	case gateways.StatusUserPaying:
		out.Status, out.Reason = gateways.StatusUserPaying, "still payable until it expires; the spec offers no close of it"
	default:
		out.Status, out.Reason = gateways.StatusUnknown, q.Reason
	}
	return out, nil
}

func (c *Client) close(ctx context.Context, op string, ref gateways.OrderRef) (gateways.Result, error) {
	req := cancelRequest{
		RequestNo:     c.requestNo(),
		Version:       Version,
		AccessCode:    c.opts.AccessCode,
		TransType:     "CLOSE_ORDER",
		SignType:      SignType,
		MchNo:         c.opts.MchNo,
		OutTransNo:    c.actNo("C", ref.OutTradeNo),
		OriOutTransNo: ref.OutTradeNo,
		NotifyURL:     c.opts.NotifyURL,
	}
	r, err := c.call(ctx, op, c.opts.Endpoint, req, req.RequestNo)
	if err != nil {
		return gateways.Result{}, err
	}
	v := classify(opClose, r)
	res := c.result(req.TransType, r, v)
	res.TransactionID = ""
	res.OutTradeNo = ref.OutTradeNo
	c.check(op, &res, r, expect{orders: []string{req.OutTransNo, ref.OutTradeNo}})
	return res, nil
}

// Refund refunds part or all of a paid order (*_RETURN), with
// req.OutRefundNo as the refund's outTransNo so a retry is recognised
// (0022: Unknown) rather than paid twice. The platform enforces that
// refunds never sum above the original; a single refund above it is
// refused here, before sending.
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
		// Certain to be refused (§1.5.2.3: "cannot exceed the total amount
		// of original transaction"), so not sent. No platform code: none
		// was received.
		return gateways.Result{Status: gateways.StatusFailed,
			Reason: fmt.Sprintf("refund %s is above the original %s (refused before sending)", req.Amount, req.Order.Amount),
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
	r, err := c.call(ctx, op, c.opts.Endpoint, w, w.RequestNo)
	if err != nil {
		return gateways.Result{}, err
	}
	v := classify(opRefund, r)
	res := c.refundResult(op, tt, r, v, req)
	if v.code == "0022" && res.Mismatch == "" {
		// "The order is recurrent": this refund number is known, so the
		// request is a retry. What became of the first is read, never
		// assumed; anything the read cannot settle stays Unknown.
		q, err := c.QueryRefund(ctx, req)
		if err == nil && q.Status != gateways.StatusUnknown {
			q.Detail = res.Detail + "; " + q.Detail
			return q, nil
		}
	}
	return res, nil
}

// refundResult fills a refund's result from an answer about it.
func (c *Client) refundResult(op, sent string, r response, v verdict, req gateways.RefundRequest) gateways.Result {
	res := c.result(sent, r, v)
	res.RefundID, res.TransactionID = res.TransactionID, ""
	res.Amount = pos.Money{}
	res.OutTradeNo = req.Order.OutTradeNo
	res.OutRefundNo = req.OutRefundNo
	// The refund answer's transAmount is "the amount applied for
	// refunding" (§1.5.2.3); its currency is the merchant's.
	if m, ok := c.amountOf(r.TransAmount, orDefault(r.Currency, c.opts.Currency)); ok {
		res.RefundAmount = m
	}
	c.check(op, &res, r, expect{orders: []string{req.OutRefundNo, req.Order.OutTradeNo}, refund: req.Amount})
	return res
}

// QueryRefund asks for a refund's state. The spec has no refund query:
// TRANS_QUERY takes "oriOutTransNo: original transaction number of
// merchant" (§1.5.2.2). A refund is a transaction with its own number, so
// it is asked about that number first; an answer there decides (0034 and
// the other processing codes: processing). "Not found" there proves
// nothing, so the refund is settled, never by a timer, by:
//
//   - the original order: one that is unknown, closed, voided or declined
//     cannot have been refunded (Failed);
//   - the bill (DOWNLOAD_CHECK_BILL, from the day after): a line with the
//     refund's number proves it executed (Succeeded);
//   - else Unknown, and the refund keeps holding its amount.
func (c *Client) QueryRefund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	const op = "allinpay.QueryRefund"
	r, err := c.transQuery(ctx, op, req.OutRefundNo)
	if err != nil {
		return gateways.Result{}, err
	}
	v := classify(opRefundQuery, r)
	res := c.refundResult(op, "TRANS_QUERY", r, v, req)
	if res.Mismatch != "" || (v.code != "0007" && v.code != "0025") {
		return res, nil
	}
	// Not found by its own number: ask the original.
	o, err := c.query(ctx, op, req.Order)
	switch {
	case pos.Match(pos.NotFound, err):
		res.Status, res.Reason = gateways.StatusFailed, "neither the refund nor its original order exists: nothing was refunded"
		return res, nil
	case err != nil:
		res.Status, res.Reason = gateways.StatusUnknown, "refund not found by its own number; the original could not be read: "+errMessage(err)
		return res, nil
	case o.Mismatch != "":
		res.Status, res.Mismatch = gateways.StatusUnknown, o.Mismatch
		return res, nil
	case o.Status == gateways.StatusFailed:
		res.Status, res.Code = gateways.StatusFailed, o.Code
		res.Reason = "the original order ended unpaid (" + o.Reason + "): nothing was refunded"
		return res, nil
	}
	if line, ok := c.refundInBills(ctx, req); ok {
		res.Code, res.Reason = "", ""
		res.Detail += "; found in the bill of " + line.Date.Format("2006-01-02")
		res.RefundAmount = pos.Money{Minor: abs(line.Amount.Minor), Currency: line.Amount.Currency}
		res.Status = gateways.StatusSucceeded
		if res.RefundAmount != req.Amount {
			res.Status = gateways.StatusUnknown
			res.Mismatch = fmt.Sprintf("the bill lists refund %s for %s, not %s", req.OutRefundNo, res.RefundAmount, req.Amount)
		}
		return res, nil
	}
	res.Status = gateways.StatusUnknown
	res.Reason = "refund " + req.OutRefundNo + " not found by its own number and not in a bill yet; the original is " + o.Status.String() + ": the bill settles it"
	return res, nil
}

// expect is what an answer must be about.
type expect struct {
	orders []string  // the numbers its outTransNo may name
	amount pos.Money // the order's amount, when known
	refund pos.Money // the refund's amount, when the answer is about one
}

// check compares an answer with what was asked and sets Mismatch (and
// Status Unknown) when it names another merchant, another order or
// another amount: a signed answer about something else is never adopted.
func (c *Client) check(op string, res *gateways.Result, r response, e expect) {
	var why string
	switch {
	case r.MchNo != "" && r.MchNo != c.opts.MchNo:
		why = fmt.Sprintf("answer for merchant %q, not %q", r.MchNo, c.opts.MchNo)
	case r.OutTransNo != "" && !slices.Contains(e.orders, r.OutTransNo):
		why = fmt.Sprintf("answer for order %q, not %q", r.OutTransNo, strings.Join(e.orders, `" or "`))
	case r.TransAmount != "" && (e.amount.Minor > 0 || e.refund.Minor > 0):
		want := e.amount
		if e.refund.Minor > 0 {
			want = e.refund
		}
		cur := orDefault(r.Currency, c.opts.Currency)
		got, ok := c.amountOf(r.TransAmount, cur)
		if !ok || got != want {
			why = fmt.Sprintf("answer for %s %s, not %s", r.TransAmount, cur, want)
		}
	}
	if why == "" {
		return
	}
	c.log.Error("allinpayMismatch", "op", op, "mismatch", why)
	res.Mismatch = why
	res.Status = gateways.StatusUnknown
	res.Reason = "not the answer about this order: " + why
}

// amountOf reads transAmount (integer minor units, §1.5.1.2 "cent") in cur.
func (c *Client) amountOf(s, cur string) (pos.Money, bool) {
	if s == "" || !isDigits(s) {
		return pos.Money{}, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return pos.Money{}, false
	}
	m, err := pos.NewMoney(n, cur)
	if err != nil {
		return pos.Money{}, false
	}
	return m, true
}

// pace holds the spec's minimum interval between two queries of one
// number (see transQuery).
func (c *Client) pace(ctx context.Context, op, no string) error {
	gap := c.Timing().MinPollInterval
	c.mu.Lock()
	wait := time.Duration(0)
	if last, ok := c.lastQuery[no]; ok {
		wait = last.Add(gap).Sub(c.now())
	}
	c.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait+time.Second {
		return pos.Errorf(pos.Unavailable, op, "a query of %s %s after the previous one would break the spec's %s minimum (§1.5.2.2); not sent", no, gap-wait, gap)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return pos.E(pos.Unavailable, op, ctx.Err())
	case <-t.C:
	}
	return nil
}

func orDefault(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func errMessage(err error) string {
	var e *pos.Error
	if errors.As(err, &e) {
		return e.Message()
	}
	return err.Error()
}

// call validates, signs and sends one request and returns the verified
// answer. Errors: pos.Invalid (a field breaks the spec's rules; nothing
// sent), pos.Unavailable (not sent), pos.Unknown (sent, and no
// trustworthy answer: transport failure, malformed or unsigned answer, or
// one that is not the answer to this request).
func (c *Client) call(ctx context.Context, op, endpoint string, req any, requestNo string) (response, error) {
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
	return c.answer(op, raw, requestNo)
}

// answer verifies raw as the answer to requestNo. What the answer is about
// (merchant, order, amount) is checked by the operation (check).
func (c *Client) answer(op string, raw []byte, requestNo string) (response, error) {
	r, err := c.verify(raw)
	if err != nil {
		return response{}, pos.E(pos.Unknown, op, err)
	}
	if r.RequestNo != requestNo {
		return response{}, pos.Errorf(pos.Unknown, op, "answer is for request %q, not %q", r.RequestNo, requestNo)
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
	r, _, err := c.verifyFields(raw)
	return r, err
}

// verifyFields is verify that also returns every received field.
func (c *Client) verifyFields(raw []byte) (response, Fields, error) {
	f, err := ParseFields(raw)
	if err != nil {
		return response{}, nil, fmt.Errorf("malformed answer: %w", err)
	}
	if err := Verify(c.platform, f); err != nil {
		return response{}, nil, fmt.Errorf("answer not trusted: %w", err)
	}
	var r response
	if err := fromFields(f, &r); err != nil {
		return response{}, nil, fmt.Errorf("malformed answer: %w", err)
	}
	if r.RequestNo == "" {
		return response{}, nil, errors.New("malformed answer: no requestNo")
	}
	return r, f, nil
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
	if r.TransAmount != "" {
		if m, ok := c.amountOf(r.TransAmount, orDefault(r.Currency, c.opts.Currency)); ok {
			res.Amount = m
		}
	}
	if r.PayTime != "" {
		// §1.5.2.1 gives yyyyMMddHHmmss (AS 14); §1.5.2.2's AS20 leaves
		// room for yyyy-MM-dd HH:mm:ss, the bill's format. Both are read.
		t, err := time.ParseInLocation("20060102150405", r.PayTime, platformZone)
		if err != nil {
			t, err = time.ParseInLocation("2006-01-02 15:04:05", r.PayTime, platformZone)
		}
		if err == nil {
			res.PaidAt = t
		} else {
			c.log.Warn("allinpayPayTime", "payTime", r.PayTime, "err", "neither yyyyMMddHHmmss nor yyyy-MM-dd HH:mm:ss")
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

// actNo numbers a void (prefix "V") or close ("C") of the order orig,
// which the spec makes carry an outTransNo of its own. A fresh one per
// attempt: a repeated void is recognised by the platform as "already
// voided" (0029), not by number. The number is prefix + orig + 6 random
// digits, so a notification about the void or close names its order
// (originalOf); an orig too long for that (over 25 characters) gets
// prefix + time + 12 digits instead.
func (c *Client) actNo(prefix, orig string) string {
	if len(orig)+1+actDigits <= 32 {
		return prefix + orig + c.random(actDigits)
	}
	return prefix + c.now().In(platformZone).Format("20060102150405") + c.random(12)
}

const actDigits = 6

// originalOf reads the order number back out of a void or close number
// made by actNo; ok is false for any other number.
func originalOf(no string) (orig string, ok bool) {
	if len(no) < 2+actDigits || (no[0] != 'V' && no[0] != 'C') || !isDigits(no[len(no)-actDigits:]) {
		return "", false
	}
	return no[1 : len(no)-actDigits], true
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
