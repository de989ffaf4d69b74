package hipopaysim

import (
	"strings"

	"github.com/posagent/posagent/gateways/sim"
)

// The calls of the HipoPay API that gateways/sim has no name for. Scripted
// answers on them are keyed like the others (Base.ScriptAnswer): the
// exchange rate by its currency, the bill by its start_date (yyyyMMdd). A
// notification (sim.OpNotify) is keyed by its order's out_trade_id.
const (
	OpForex sim.Op = "forex" // Check Exchange Rate
	OpBill  sim.Op = "bill"  // Export Reconciliation Report
)

// Scripted answer codes, in the spec's words: a payment order status
// ("PAID"), a refund status ("SUCCESS", "PROCESSING"), a refund status FAIL
// with its Refund Code ("FAIL/0011"), or an Error Code of the call
// ("PAYMENT_NOT_FOUND"), answered is_success false.
const failPrefix = "FAIL/"

var (
	done    = []sim.Truth{sim.TruthDone}
	notDone = []sim.Truth{sim.TruthNotDone}
	either  = []sim.Truth{sim.TruthDone, sim.TruthNotDone}
)

// refundCode is one line of the spec's "Refund Code" table as the
// simulator reads it: open says the code does not tell whether money
// moved (a processing, repeated, system or channel error, "retry"), so a
// FAIL with it may lie over a refund that was executed.
type refundCode struct {
	code, message string
	open          bool
}

// refundCodes is the spec's Refund Code table, in its order.
var refundCodes = []refundCode{
	{"0000", "Refund Processing", true},
	{"0001", "Refund Already Exists", true},
	{"0002", "payment Not Found", false},
	{"0003", "Refund currency error", false},
	{"0004", "Payment not paid yet", false},
	{"0005", "Payment not credited yet", false},
	{"0006", "Payment full refunded", false},
	{"0007", "payment settle_forex rate is -0.1", false},
	{"0008", "Payment refundable not enough", false},
	{"0009", "refund amount must more than zero", false},
	{"0010", "merchant has not HKD balance", false},
	{"0011", "Settled Balance not enough", false},
	{"0012", "Unsettled Balance not enough", false},
	{"0013", "Refund Invalid", false},
	{"0099", "SYSYTEM_ERROR", true},
	{"0101", "NOTENOUGH", false},
	{"0102", "USER_ACCOUNT_ABNORMAL", false},
	{"0103", "SYSTEMERROR", true},
	{"0104", "BIZERR_NEED_RETRY", true},
	{"0105", "TRADE_OVERDUE", false},
	{"0106", "ERROR", true},
	{"0107", "INVALID_REQ_TOO_MUCH", false},
	{"0108", "INVALID_TRANSACTIONID", false},
	{"0109", "PARAM_ERROR", false},
	{"0110", "APPID_NOT_EXIST", false},
	{"0111", "MCHID_NOT_EXIST", false},
	{"0112", "ORDERNOTEXIST", false},
	{"0113", "REQUIRE_POST_METHOD", false},
	{"0114", "SIGNERROR", false},
	{"0115", "XML_FORMAT_ERROR", false},
	{"0116", "FREQUENCY_LIMITED", false},
	{"0117", "NOAUTH", false},
	{"0118", "CERT_ERROR", false},
	{"0119", "REFUND_FEE_MISMATCH", true}, // "double request different amount": a refund of that number exists
	{"0120", "INVALID_REQUEST", false},
	{"0121", "ORDER_NOT_READY", false},
	{"0199", "SYSYTEM_ERROR", true},
	{"0201", "MERCHANT_BALANCE_NOT_ENOUGH", false},
	{"0202", "REFUNDMENT_VALID_DATE_EXCEED", false},
	{"0203", "SYSTEM_EXCEPTION", true},
	{"0204", "ILLEGAL_ARGUMENT", false},
	{"0205", "REPEATED_REFUNDMENT_REQUEST", true},
	{"0206", "RETURN_AMOUNT_EXCEED", false},
	{"0207", "CURRENCY_NOT_SAME", false},
	{"0208", "PURCHASE_TRADE_NOT_EXIST", false},
	{"0209", "TRADE_NOT_EXIST", false},
	{"0210", "TRADE_STATUS_ERROR", false},
	{"0211", "REFUND_AMT_RESTRICTION", false},
	{"0212", "BUYER_NOT_EXIST", false},
	{"0213", "REFUND_CHARGE_ERROR", true},
	{"0214", "INVALID_PARAMETER", false},
	{"0215", "REASON_TRADE_BEEN_FREEZEN", false},
	{"0216", "REQUEST_AMOUNT_EXCEED", false},
	{"0217", "ILLEGAL_SIGN", false},
	{"0218", "ILLEGAL_SERVICE", false},
	{"0219", "ILLEGAL_PARTNER", false},
	{"0220", "ILLEGAL_SIGN_TYPE", false},
	{"0221", "ILLEGAL_PARTNER_EXTERFACE", false},
	{"0222", "ILLEGAL_DYN_MD5_KEY", false},
	{"0223", "ILLEGAL_ENCRYPT", false},
	{"0224", "ILLEGAL_USER", false},
	{"0225", "ILLEGAL_EXTERFACE", false},
	{"0226", "ILLEGAL_AGENT", false},
	{"0227", "HAS_NO_PRIVILEGE", false},
	{"0228", "INVALID_CHARACTER_SET", false},
	{"0229", "SYSTEM_ERROR", true},
	{"0230", "SESSION_TIMEOUT", true},
	{"0231", "ILLEGAL_TARGET_SERVICE", false},
	{"0232", "ILLEGAL_ACCESS_SWITCH_SYSTEM", false},
	{"0233", "EXTERFACE_IS_CLOSED", false},
	{"0299", "alipay unknown error", true},
}

func refundMessage(code string) string {
	for _, c := range refundCodes {
		if c.code == code {
			return c.message
		}
	}
	return "Refund failed"
}

// refundAnswers are the answers a refund or a refund check can carry
// ("Refund Status", "Refund Code"), with the truths that may lie behind
// each. PROCESSING says only that the refund is being processed: it may
// end either way (nothing in the spec settles it but a later check, so
// the simulator settles it at once and answers PROCESSING).
func refundAnswers() []sim.DocumentedAnswer {
	a := []sim.DocumentedAnswer{
		{Code: "SUCCESS", Section: "Refund Status: SUCCESS refund successful", Truths: done},
		{Code: "PROCESSING", Section: "Refund Status: PROCESSING", Truths: either},
	}
	for _, c := range refundCodes {
		t := notDone
		if c.open {
			t = either
		}
		a = append(a, sim.DocumentedAnswer{Code: failPrefix + c.code, Section: "Refund Status FAIL, Refund Code " + c.code + " " + c.message, Truths: t})
	}
	return a
}

// documented is the simulator's reading of which answers each call can
// get, and what may lie behind each. A refused request (an Error Code,
// is_success false) on a refund did nothing; on a check it says nothing
// about the order or refund checked.
func documented(op sim.Op) []sim.DocumentedAnswer {
	noAnswer := sim.DocumentedAnswer{Code: sim.CodeNoAnswer, Section: "any call may go unanswered", Truths: either}
	switch op {
	case sim.OpQuery:
		return []sim.DocumentedAnswer{
			{Code: "PAID", Section: "Payment Order Status: PAID payment successful", Truths: done},
			{Code: "INIT", Section: "Payment Order Status: INIT payment order has been created", Truths: either},
			{Code: "USERPAYING", Section: "Payment Order Status: USERPAYING waiting for payment", Truths: either},
			{Code: "FAIL", Section: "Payment Order Status: FAIL payment failed", Truths: notDone},
			{Code: "EXPIRED", Section: "Payment Order Status: EXPIRED timeout", Truths: notDone},
			{Code: errPaymentNotFound, Section: "Check Payment Order Error Code: PAYMENT_NOT_FOUND", Truths: either},
			{Code: errIllegalSecurity, Section: "Check Payment Order Error Code: ILLEGAL_SECURITY_PROFILE", Truths: either},
			noAnswer,
		}
	case sim.OpRefund:
		return append(refundAnswers(),
			sim.DocumentedAnswer{Code: errRefundAmountInvalid, Section: "Refund Error Code: REFUND_AMOUNT_INVALID", Truths: notDone},
			sim.DocumentedAnswer{Code: errIllegalSecurity, Section: "Refund Error Code: ILLEGAL_SECURITY_PROFILE", Truths: notDone},
			noAnswer)
	case sim.OpQueryRefund:
		return append(refundAnswers(),
			sim.DocumentedAnswer{Code: errRefundNotFound, Section: "Check Refund Error Code: REFUND_NOT_FOUND", Truths: either},
			sim.DocumentedAnswer{Code: errIllegalSecurity, Section: "Check Refund Error Code: ILLEGAL_SECURITY_PROFILE", Truths: either},
			noAnswer)
	case sim.OpNotify:
		// "It is notified only when payment is successful"; a notification
		// may also never arrive.
		return []sim.DocumentedAnswer{
			{Code: "PAID", Section: "Payment Notification: status PAID", Truths: done},
			{Code: sim.CodeNoAnswer, Section: "Payment Notification: not received", Truths: either},
		}
	case OpForex:
		return []sim.DocumentedAnswer{
			{Code: errCurrencyNotSupported, Section: "Check Exchange Rate Error Code: CURRENCY_NOT_SUPPORT"},
			{Code: errIllegalSecurity, Section: "Check Exchange Rate Error Code: ILLEGAL_SECURITY_PROFILE"},
			{Code: sim.CodeNoAnswer, Section: "any call may go unanswered"},
		}
	case OpBill:
		return []sim.DocumentedAnswer{{Code: sim.CodeNoAnswer, Section: "any call may go unanswered"}}
	}
	return nil
}

// Answers lists every answer the spec documents for op (the simulator's
// reading); method is ignored: every order is a mini-program's. With the
// embedded Base's ScriptAnswer and Order it makes the Server a
// gatewaytest.Truther.
func (s *Server) Answers(op sim.Op, method string) []sim.DocumentedAnswer { return documented(op) }

// scripted takes the answer scripted for this call of op on the order no,
// moves the ledger as its truth says (Base.Settle) and gives it: it
// reports whether x now holds the answer (or the fault). sim.CodeHonest
// moves the truth and leaves the caller to answer from the ledger. A
// status code is written by give, which gets the order as it now stands.
func (s *Server) scripted(x *exchange, no string, op sim.Op, ref sim.RefundRef, give func(code string, o sim.Order)) bool {
	a, ok := s.TakeAnswer(no, op)
	if !ok {
		return false
	}
	o, _ := s.Settle(op, no, a.Truth, ref) // a truth that cannot move is logged by Settle
	switch {
	case a.Code == sim.CodeHonest:
		return false
	case a.Code == sim.CodeNoAnswer:
		x.fault = sim.NoAnswer
	case isErrorCode(a.Code):
		x.refuse(a.Code, errorMessage[a.Code])
	default:
		give(a.Code, o)
	}
	return true
}

// isErrorCode tells an Error Code (answered is_success false) from a
// status.
func isErrorCode(code string) bool { _, ok := errorMessage[code]; return ok }

// errorMessage is each Error Code table's meaning.
var errorMessage = map[string]string{
	errPaymentNotFound:      "Order not found",
	errRefundNotFound:       "Refund order not found",
	errRefundAmountInvalid:  "Refund amount is invalid.",
	errIllegalSecurity:      "This encryption method is not supported.",
	errCurrencyNotSupported: "This currency is not supported.",
}

// refundWords sets a refund answer's status, result code and message for
// a scripted code ("SUCCESS", "PROCESSING", "FAIL/0011").
func refundWords(resp map[string]any, code string) {
	delete(resp, "fail_message")
	switch {
	case code == "SUCCESS":
		resp["status"], resp["result_code"] = "SUCCESS", "0000"
	case code == "PROCESSING":
		resp["status"], resp["result_code"] = "PROCESSING", "0000"
	case strings.HasPrefix(code, failPrefix):
		c := strings.TrimPrefix(code, failPrefix)
		resp["status"], resp["result_code"], resp["fail_message"] = "FAIL", c, refundMessage(c)
	default:
		resp["status"] = code // an answer outside the spec, as scripted
	}
}
