package hipopay

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// Kind is the adapter's registered kind.
const Kind = "hipopay"

// Interface guards.
var (
	_ gateways.Gateway  = (*Client)(nil)
	_ gateways.Refunder = (*Client)(nil)
	_ gateways.Notifier = (*Client)(nil)
)

func init() { gateways.RegisterOptions(Kind, New) }

// PlatformZone is the zone of the platform's wall-clock times (trade_time,
// finish_time, bill times). The spec names none; HipoPay is a Hong Kong
// platform, so UTC+8, fixed because a till may have no zone database.
var PlatformZone = time.FixedZone("UTC+8", 8*60*60)

// TimeLayout is the layout of the platform's times ("2018-08-13 16:33:16").
const TimeLayout = "2006-01-02 15:04:05"

// userAgent names the client; the golden requests pin it.
const userAgent = "posagent-hipopay/1"

// Client speaks HipoPay's API to one merchant account.
type Client struct {
	opts     Options
	key      *rsa.PrivateKey
	platform *rsa.PublicKey
	http     *http.Client
	log      *slog.Logger
	// now is replaced in tests for reproducible requests.
	now func() time.Time
}

// New validates opts, loads both keys and returns a client. Relative key
// paths are resolved against env.Dir.
func New(opts Options, env gateways.Env) (*Client, error) {
	const op = "hipopay.New"
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
	return &Client{opts: o, key: key, platform: pub, http: hc, log: log, now: time.Now}, nil
}

// Kind returns "hipopay".
func (c *Client) Kind() string { return Kind }

// Capabilities: no micropay and no merchant QR (orders are placed by a
// mini-program, not the till: External, so the flows adopt them when
// verified paid); queries, partial refunds, notifications and the bill. Currencies are the spec's currency table: orders come in any of
// them, and this gateway starts no payment in any.
func (c *Client) Capabilities() gateways.Capabilities {
	return gateways.Capabilities{
		Currencies:    []pos.Currency{"CNY", "GBP", "HKD", "USD", "JPY", "CAD", "AUD", "EUR", "NZD", "KRW", "THB"},
		Refund:        true,
		PartialRefund: true,
		Notify:        true,
		Bill:          true,
		External:      true,
	}
}

// Timing: queries every PollInterval; nothing is reversed or closed.
func (c *Client) Timing() gateways.Timing {
	return gateways.Timing{
		PollInterval:    c.opts.PollInterval,
		MinPollInterval: min(MinPollInterval, c.opts.PollInterval),
		CallTimeout:     c.opts.CallTimeout,
		RetryBackoff:    c.opts.RetryBackoff,
		RetryBackoffMax: c.opts.RetryBackoffMax,
	}.WithDefaults()
}

// Query checks a payment order (GET /payment). It asks by payment_no when
// the platform's number is known (OrderRef.TransactionID), else by
// out_trade_id; the answer must name the same order. An order the platform
// does not know (PAYMENT_NOT_FOUND) is a pos.NotFound error. When
// ref.Amount is set and the order's amount differs, the result is Unknown:
// it is not the payment the till expects.
func (c *Client) Query(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	const op = "hipopay.Query"
	p := Params{}
	switch {
	case ref.TransactionID != "":
		p["payment_no"] = ref.TransactionID
	case ref.OutTradeNo != "":
		p["out_trade_id"] = ref.OutTradeNo
	default:
		return gateways.Result{}, pos.Errorf(pos.Invalid, op, "payment_no or out_trade_id is required")
	}
	if err := checkIDs(p); err != nil {
		return gateways.Result{}, pos.E(pos.Invalid, op, err)
	}
	a, env, err := c.call(ctx, op, http.MethodGet, PathPayment, c.opts.Version, p)
	if err != nil {
		return gateways.Result{}, err
	}
	detail := fmt.Sprintf("hipopay GET %s is_success=%t", PathPayment, env.success)
	if !env.success {
		if env.errCode == ErrPaymentNotFound {
			return gateways.Result{}, pos.Errorf(pos.NotFound, op, "order %s not found (%s %s)", orderName(p), env.errCode, env.errMessage)
		}
		// A refused query says nothing about the order.
		return gateways.Result{Status: gateways.StatusUnknown, Code: env.errCode, Reason: reason(env), Detail: detail + " error=" + env.errCode}, nil
	}
	for k, v := range p {
		if a[k] != v {
			return mismatch(fmt.Sprintf("answer is for %s %q, not %q", k, a[k], v), detail), nil
		}
	}
	if ref.OutTradeNo != "" && a["out_trade_id"] != ref.OutTradeNo {
		return mismatch(fmt.Sprintf("answer is for out_trade_id %q, not %q", a["out_trade_id"], ref.OutTradeNo), detail), nil
	}
	res, err := paymentResult(a)
	if err != nil {
		return gateways.Result{}, pos.E(pos.Unknown, op, err)
	}
	res.Detail = detail + " status=" + res.Code
	if res.Wallet == "" {
		res.Wallet = ref.Wallet
	}
	if ref.Amount.Minor != 0 && res.Amount != ref.Amount {
		res.Reason = fmt.Sprintf("order amount %s, expected %s", res.Amount, ref.Amount)
		res.Mismatch = res.Reason
		res.Status = gateways.StatusUnknown
	}
	return res, nil
}

// mismatch is the Unknown result of an answer about another order.
func mismatch(what, detail string) gateways.Result {
	return gateways.Result{Status: gateways.StatusUnknown, Reason: what, Mismatch: what, Detail: detail + " (mismatch)"}
}

// paymentResult reads a payment order from verified parameters: an answer's
// response members or a notification.
func paymentResult(a Params) (gateways.Result, error) {
	st := a["status"]
	if st == "" {
		return gateways.Result{}, errors.New("malformed answer: no status")
	}
	if a["payment_no"] == "" {
		return gateways.Result{}, errors.New("malformed answer: no payment_no")
	}
	amt, err := pos.ParseMoney(a["amount"], a["currency"])
	if err != nil {
		return gateways.Result{}, fmt.Errorf("malformed answer: amount %q %q: %w", a["amount"], a["currency"], err)
	}
	res := gateways.Result{
		Status:        PaymentStatus(st),
		TransactionID: a["payment_no"],
		Wallet:        walletOf(a["trade_type"]),
		Amount:        amt,
		Code:          st,
		OutTradeNo:    a["out_trade_id"],
	}
	if res.Status == gateways.StatusSucceeded {
		if t, err := time.ParseInLocation(TimeLayout, a["finish_time"], PlatformZone); err == nil {
			res.PaidAt = t
		}
	} else {
		res.Reason = "payment order " + st
		if d := statusText[st]; d != "" {
			res.Reason += ": " + d
		}
	}
	return res, nil
}

// statusText is the spec's description of each payment order status.
var statusText = map[string]string{
	"INIT":       "payment order has been created",
	"FAIL":       "payment failed",
	"USERPAYING": "waiting for payment",
	"EXPIRED":    "timeout",
}

// walletOf reads a wallet from trade_type. Only the mini-program type is
// certain (WeChat mini-programs); "APP" and others may be either wallet.
func walletOf(tradeType string) pos.Wallet {
	if strings.HasPrefix(tradeType, "MINIPROGRA") {
		return pos.WeChatPay
	}
	return ""
}

// Refund refunds part or all of a paid order (POST /payment_refund) with
// req.OutRefundNo as out_refund_id, so a retry is recognised rather than
// refunded twice. refund_amount is always sent: leaving it out refunds the
// whole order, which a retry after a partial refund must never mean. The
// spec requires payment_no; when Order.TransactionID is empty the order is
// first looked up by out_trade_id (a query, safe to repeat). A refund above
// the original is answered Failed without sending.
func (c *Client) Refund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	const op = "hipopay.Refund"
	if err := checkRefund(req); err != nil {
		return gateways.Result{}, pos.E(pos.Invalid, op, err)
	}
	if req.Order.Amount.Minor > 0 && req.Amount.Minor > req.Order.Amount.Minor {
		return gateways.Result{Status: gateways.StatusFailed, Code: ErrRefundAmountInvalid,
			Reason: fmt.Sprintf("refund %s is above the original %s", req.Amount, req.Order.Amount),
			Detail: "hipopay refund refused before sending: above the original"}, nil
	}
	paymentNo := req.Order.TransactionID
	if paymentNo == "" {
		ref := req.Order
		ref.Amount = pos.Money{}
		q, err := c.Query(ctx, ref)
		switch {
		case pos.Match(pos.NotFound, err):
			return gateways.Result{Status: gateways.StatusFailed, Code: ErrPaymentNotFound,
				Reason: "payment " + req.Order.OutTradeNo + " not found", Detail: "hipopay refund not sent: order not found"}, nil
		case err != nil:
			// The refund itself was never sent: safe to retry as it is.
			return gateways.Result{}, pos.E(pos.Unavailable, op, fmt.Errorf("looking up payment_no (refund not sent): %w", err))
		case q.TransactionID == "":
			return gateways.Result{}, pos.Errorf(pos.Unavailable, op, "looking up payment_no (refund not sent): %s", q.Detail)
		}
		paymentNo = q.TransactionID
	}
	p := Params{"payment_no": paymentNo, "out_refund_id": req.OutRefundNo, "refund_amount": req.Amount.Decimal()}
	if err := checkIDs(p); err != nil {
		return gateways.Result{}, pos.E(pos.Invalid, op, err)
	}
	a, env, err := c.call(ctx, op, http.MethodPost, PathRefund, c.opts.Version, p)
	if err != nil {
		return gateways.Result{}, err
	}
	detail := fmt.Sprintf("hipopay POST %s is_success=%t", PathRefund, env.success)
	if !env.success {
		return gateways.Result{Status: RefundRefusal(env.errCode), Code: env.errCode, Reason: reason(env), Detail: detail + " error=" + env.errCode}, nil
	}
	return c.refundResult(op, a, req, paymentNo, detail)
}

// QueryRefund checks a refund (GET /payment_refund) by out_refund_id. A
// refund the platform does not know (REFUND_NOT_FOUND) is pos.NotFound.
func (c *Client) QueryRefund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	const op = "hipopay.QueryRefund"
	p := Params{"out_refund_id": req.OutRefundNo}
	if err := checkIDs(p); err != nil || req.OutRefundNo == "" {
		return gateways.Result{}, pos.Errorf(pos.Invalid, op, "out_refund_id %q: %v", req.OutRefundNo, err)
	}
	a, env, err := c.call(ctx, op, http.MethodGet, PathRefund, c.opts.Version, p)
	if err != nil {
		return gateways.Result{}, err
	}
	detail := fmt.Sprintf("hipopay GET %s is_success=%t", PathRefund, env.success)
	if !env.success {
		if env.errCode == ErrRefundNotFound {
			return gateways.Result{}, pos.Errorf(pos.NotFound, op, "refund %s not found (%s %s)", req.OutRefundNo, env.errCode, env.errMessage)
		}
		return gateways.Result{Status: gateways.StatusUnknown, Code: env.errCode, Reason: reason(env), Detail: detail + " error=" + env.errCode}, nil
	}
	return c.refundResult(op, a, req, req.Order.TransactionID, detail)
}

// refundResult reads a refund from a verified answer and checks that it is
// the refund asked about.
func (c *Client) refundResult(op string, a Params, req gateways.RefundRequest, paymentNo, detail string) (gateways.Result, error) {
	if a["out_refund_id"] != req.OutRefundNo {
		return gateways.Result{}, pos.Errorf(pos.Unknown, op, "answer is for refund %q, not %q", a["out_refund_id"], req.OutRefundNo)
	}
	if paymentNo != "" && a["payment_no"] != "" && a["payment_no"] != paymentNo {
		return gateways.Result{}, pos.Errorf(pos.Unknown, op, "answer is for payment %q, not %q", a["payment_no"], paymentNo)
	}
	st := a["status"]
	if st == "" {
		return gateways.Result{}, pos.Errorf(pos.Unknown, op, "malformed answer: no status")
	}
	res := gateways.Result{
		Status:        RefundStatus(st, a["result_code"]),
		TransactionID: a["payment_no"],
		RefundID:      a["refund_no"],
		Code:          st,
		Detail:        fmt.Sprintf("%s status=%s result_code=%s", detail, st, a["result_code"]),
	}
	if a["result_code"] != "" {
		res.Code = st + "/" + a["result_code"]
	}
	cur := req.Amount.Currency
	if cur == "" {
		cur = req.Order.Amount.Currency
	}
	res.OutRefundNo = a["out_refund_id"]
	res.OutTradeNo = req.Order.OutTradeNo
	if cur != "" && a["refund_amount"] != "" {
		m, err := pos.ParseMoney(a["refund_amount"], string(cur))
		if err != nil {
			return gateways.Result{}, pos.Errorf(pos.Unknown, op, "malformed answer: refund_amount %q: %v", a["refund_amount"], err)
		}
		res.Amount = m
		res.RefundAmount = m
		// The spec refunds the whole order when refund_amount is not
		// taken: a refund of another amount than asked is not ours to
		// adopt (review H4).
		if req.Amount.Minor != 0 && m != req.Amount {
			res.Status = gateways.StatusUnknown
			res.Mismatch = fmt.Sprintf("answer refund_amount %s differs from the %s asked", m, req.Amount)
			c.log.Error("refund answer for another amount", "outRefundId", req.OutRefundNo, "mismatch", res.Mismatch)
		}
	} else if res.Status == gateways.StatusSucceeded {
		return gateways.Result{}, pos.Errorf(pos.Unknown, op, "malformed answer: a successful refund without refund_amount")
	}
	if res.Status == gateways.StatusSucceeded && res.RefundID == "" {
		return gateways.Result{}, pos.Errorf(pos.Unknown, op, "malformed answer: a successful refund without refund_no")
	}
	if res.Mismatch != "" {
		res.Reason = res.Mismatch
	} else if res.Status != gateways.StatusSucceeded {
		res.Reason = a["fail_message"]
		if res.Reason == "" {
			res.Reason = "refund " + st
			if a["result_code"] != "" {
				res.Reason += " (result_code " + a["result_code"] + ")"
			}
		}
	}
	return res, nil
}

func checkRefund(req gateways.RefundRequest) error {
	if req.OutRefundNo == "" {
		return errors.New("out_refund_id (OutRefundNo) is required")
	}
	if req.Amount.Minor <= 0 || !req.Amount.Currency.Valid() {
		return fmt.Errorf("refund amount %v must be positive in a known currency", req.Amount)
	}
	if req.Order.Amount.Currency != "" && req.Order.Amount.Currency != req.Amount.Currency {
		return fmt.Errorf("refund in %s of an order in %s", req.Amount.Currency, req.Order.Amount.Currency)
	}
	if req.Order.TransactionID == "" && req.Order.OutTradeNo == "" {
		return errors.New("payment_no or out_trade_id of the order is required")
	}
	return nil
}

// checkIDs refuses identifiers the two readings of the signing rule
// would sign differently. The spec signs "URL key pair format": read raw
// (as the callback vector is) or URL-encoded (as the vendor SDKs sign
// requests), the two agree only on letters, digits, '.', '_' and '-'. An
// identifier with any other character, or longer than 64, is refused
// before anything is sent (review H3).
func checkIDs(p Params) error {
	for k, v := range p {
		if v == "" || len(v) > 64 {
			return fmt.Errorf("%s %q must be 1 to 64 characters", k, v)
		}
		for i := 0; i < len(v); i++ {
			if !idChar(v[i]) {
				return fmt.Errorf("%s %q: only letters, digits, '.', '_' and '-' can be signed the same way raw and URL-encoded", k, v)
			}
		}
	}
	return nil
}

func idChar(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '.' || b == '_' || b == '-'
}

func orderName(p Params) string {
	if v := p["payment_no"]; v != "" {
		return "payment_no " + v
	}
	return "out_trade_id " + p["out_trade_id"]
}

func reason(e envelope) string {
	switch {
	case e.errMessage != "":
		return e.errCode + ": " + e.errMessage
	case e.errCode != "":
		return e.errCode
	}
	return "is_success false without an error code"
}

// call signs and sends one request and returns the verified answer.
// Errors: pos.Internal (signing failed), pos.Unavailable (not sent),
// pos.Unknown (sent, and no trustworthy answer).
func (c *Client) call(ctx context.Context, op, method, path, version string, p Params) (Params, envelope, error) {
	raw, hdr, err := c.send(ctx, op, method, path, version, p)
	if err != nil {
		return nil, envelope{}, err
	}
	a, err := c.verifyAnswer(raw, hdr)
	if err != nil {
		return nil, envelope{}, pos.E(pos.Unknown, op, err)
	}
	env, err := readEnvelope(a)
	if err != nil {
		return nil, envelope{}, pos.E(pos.Unknown, op, fmt.Errorf("malformed answer: %w", err))
	}
	c.log.Debug("hipopayCall", "op", op, "path", path, "isSuccess", env.success, "error", env.errCode)
	return a, env, nil
}

// send signs p and sends it: in the query string of a GET, as the form
// body of a POST ("query string of the GET request and form of the POST
// request"). It returns the body and headers of a 2xx answer.
func (c *Client) send(ctx context.Context, op, method, path, version string, p Params) ([]byte, http.Header, error) {
	ts := Timestamp(c.now())
	sig, err := Sign(c.key, p.SigningString(ts))
	if err != nil {
		return nil, nil, pos.E(pos.Internal, op, fmt.Errorf("signing: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
	defer cancel()
	u := c.opts.Endpoint + path
	var body io.Reader
	if method == http.MethodGet {
		u += "?" + p.Encode()
	} else {
		body = strings.NewReader(p.Encode())
	}
	hr, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, pos.E(pos.Internal, op, err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", formType+"; charset=UTF-8")
	}
	accept := jsonType
	if path == PathBill {
		accept = "text/plain, " + jsonType // the report, or a refusal
	}
	hr.Header.Set("Accept", accept)
	hr.Header.Set("User-Agent", userAgent)
	// Set directly, not through Header.Set, so the names go out spelled as
	// the spec spells them ("MerchantNO", not "Merchantno"); HTTP names are
	// case-insensitive, but a server that is not should still see the
	// documented spelling.
	hr.Header[HeaderMerchantNO] = []string{c.opts.MerchantNO}
	hr.Header[HeaderVersion] = []string{version}
	hr.Header[HeaderTimestamp] = []string{ts}
	hr.Header[HeaderSignature] = []string{sig}

	rec := &headerRecorder{next: c.http.Transport}
	hc := *c.http
	hc.Transport = rec
	// A signed call is never redirected: a 3xx is an answer nobody signed.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	raw, err := gateways.Do(ctx, &hc, hr, op)
	if err != nil {
		return nil, nil, err
	}
	return raw, rec.header, nil
}

// headerRecorder keeps the headers of the answer, which gateways.Do does
// not return.
type headerRecorder struct {
	next   http.RoundTripper
	header http.Header
}

func (r *headerRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	next := r.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if resp != nil {
		r.header = resp.Header
	}
	return resp, err
}

// verifyAnswer reads a JSON answer. The spec signs requests and
// notifications, not answers: an answer over TLS from the configured host
// is trusted as it is, unless Options.RequireSignedAnswers. A Signature
// header, when there is one, is checked with the platform key over the
// parameters and Timestamp, and the Timestamp must be within MaxClockSkew
// of now (an old signed answer replayed is not trusted).
func (c *Client) verifyAnswer(raw []byte, h http.Header) (Params, error) {
	a, err := AnswerParams(raw)
	if err != nil {
		return nil, fmt.Errorf("malformed answer: %w", err)
	}
	if err := c.checkAnswerSignature(h, func(ts string) string { return a.SigningString(ts) }); err != nil {
		return nil, err
	}
	if m := h.Get(HeaderMerchantNO); m != "" && m != c.opts.MerchantNO {
		return nil, fmt.Errorf("answer for merchant %q, not ours", m)
	}
	return a, nil
}

// checkAnswerSignature applies the answer trust rule above to an answer
// or the bill, whose signed text text builds from the Timestamp header.
func (c *Client) checkAnswerSignature(h http.Header, text func(ts string) string) error {
	sig := h.Get(HeaderSignature)
	if sig == "" && !c.opts.RequireSignedAnswers {
		return nil
	}
	ts := h.Get(HeaderTimestamp)
	if err := Verify(c.platform, text(ts), sig); err != nil {
		return fmt.Errorf("answer not trusted: %w", err)
	}
	if err := c.fresh(ts); err != nil {
		return fmt.Errorf("answer not trusted: %w", err)
	}
	return nil
}

func (c *Client) fresh(ts string) error {
	t, err := ParseTimestamp(ts)
	if err != nil {
		return err
	}
	if d := c.now().Sub(t); d > c.opts.MaxClockSkew || d < -c.opts.MaxClockSkew {
		return fmt.Errorf("Timestamp %s is %s from the till's clock (more than %s)", ts, d.Round(time.Second), c.opts.MaxClockSkew)
	}
	return nil
}
