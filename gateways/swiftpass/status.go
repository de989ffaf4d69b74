package swiftpass

import (
	"strings"

	"github.com/posagent/posagent/gateways"
)

// What an answer means is read in the order the spec gives (§3.2, §6.x.4):
// status (the communication label), then result_code (the business
// result), then err_code, or, for a query, trade_state, for a refund
// query refund_status_$n, for a notification pay_result. Every value the
// spec lists has a row below with its outcome and section; a value
// without a row is Unknown (never Failed, never Succeeded). The tables
// are printed whole in testdata/outcomes.golden, and outcome_test.go
// reads the spec and fails when a code it lists has no row.

// Operation names one of the spec's operations, for the outcome tables.
type Operation string

// The operations whose answers the tables read.
const (
	OpCreate       Operation = "create"       // pay.*.native.intl (§6.1)
	OpQuery        Operation = "query"        // unified.trade.query (§6.3)
	OpRefund       Operation = "refund"       // unified.trade.refund (§6.4)
	OpRefundQuery  Operation = "refundquery"  // unified.trade.refundquery (§6.5)
	OpClose        Operation = "close"        // unified.trade.close (§6.6)
	OpNotification Operation = "notification" // the payment notification (§6.2)
)

// Operations lists every operation with an outcome table.
var Operations = []Operation{OpCreate, OpQuery, OpRefund, OpRefundQuery, OpClose, OpNotification}

// Outcome is what one answer means for the till.
type Outcome string

const (
	Succeeded  Outcome = "succeeded"   // paid, closed, refunded
	UserPaying Outcome = "user_paying" // the customer has not paid yet; the refund is accepted or processing
	Failed     Outcome = "failed"      // definitively not done: for a payment, nothing was charged
	Unknown    Outcome = "unknown"     // no conclusion: query
	NotFound   Outcome = "not_found"   // the order (or refund) does not exist: a pos.NotFound error
	// Resend: unknown, and the spec asks for the same request again with
	// the same numbers (refund NOTSURE, §6.5.2): Result.Resend.
	Resend Outcome = "unknown+resend"
	// Alert: unknown, and the operator must act (refund CHANGE: the money
	// went to the merchant's account, refund offline, §6.5.2): Result.Alert.
	Alert Outcome = "unknown+alert"
)

// status is the normalised status of an outcome.
func (o Outcome) status() gateways.Status {
	switch o {
	case Succeeded:
		return gateways.StatusSucceeded
	case UserPaying:
		return gateways.StatusUserPaying
	case Failed:
		return gateways.StatusFailed
	}
	return gateways.StatusUnknown
}

// Row is one line of an operation's outcome table: the field that carries
// the code, the code as the spec writes it, what it means, and where the
// spec lists it.
type Row struct {
	Field   string // status, result_code, err_code, trade_state, refund_status, pay_result
	Code    string
	Outcome Outcome
	Section string
}

// Trade states (§6.3.3).
const (
	StateSuccess    = "SUCCESS"
	StateRefund     = "REFUND"
	StateNotPay     = "NOTPAY"
	StateClosed     = "CLOSED"
	StateRevoked    = "REVOKED"
	StateUserPaying = "USERPAYING"
	StatePayError   = "PAYERROR"
)

// tradeStates is §6.3.3's trade_state list. REFUND is a paid order with
// refunds: the payment itself succeeded. NOTPAY is a merchant QR the
// customer has not paid yet. PAYERROR ("payment failed") is Failed, but
// the order is still open: §6.6.1 asks for it to be closed "to avoid
// repeated payment", and the flows close every failed merchant-QR order
// of a wallet Capabilities.CanClose allows (WeChat Pay, Alipay); CLOSED
// and REVOKED need no close (closing them again is answered "closed").
var tradeStates = []Row{
	{"trade_state", StateSuccess, Succeeded, "§6.3.3"},
	{"trade_state", StateRefund, Succeeded, "§6.3.3"},
	{"trade_state", StateNotPay, UserPaying, "§6.3.3"},
	{"trade_state", StateUserPaying, UserPaying, "§6.3.3"},
	{"trade_state", StateClosed, Failed, "§6.3.3"},
	{"trade_state", StateRevoked, Failed, "§6.3.3"},
	{"trade_state", StatePayError, Failed, "§6.3.3, §6.6.1"},
}

// Refund states (§6.5.2 refund_status_$n).
const (
	RefundSuccess    = "SUCCESS"
	RefundFail       = "FAIL"
	RefundProcessing = "PROCESSING"
	RefundNotSure    = "NOTSURE"
	RefundChange     = "CHANGE"
)

// refundStates is §6.5.2's refund_status_$n list. NOTSURE: "call the
// Submit Refund API again with the original refund number". CHANGE: the
// customer's card cannot take it, the money went to the merchant's cash
// account and "must be processed offline": the platform counts it as
// refunded, so it is never Failed (that would free the amount for a
// second refund); it stays held, with an alert.
var refundStates = []Row{
	{"refund_status", RefundSuccess, Succeeded, "§6.5.2"},
	{"refund_status", RefundFail, Failed, "§6.5.2"},
	{"refund_status", RefundProcessing, UserPaying, "§6.5.2"},
	{"refund_status", RefundNotSure, Resend, "§6.5.2, §6.4.2 out_refund_no"},
	{"refund_status", RefundChange, Alert, "§6.5.2"},
}

// meaning is what an err_code says whatever the operation; each
// operation's policy below turns it into an outcome.
type meaning int

const (
	// mRefused: the request was refused before it was processed
	// (malformed, parameters, signature, the merchant may not do this).
	mRefused meaning = iota + 1
	// mSystem: the platform or a channel could not tell what happened
	// (system, network, timeout, busy, unknown).
	mSystem
	mOrderNotFound
	mRefundNotFound
	// mOrderExists: the out_trade_no was used already.
	mOrderExists
	// mOrderPaid: the order is paid already.
	mOrderPaid
	// mOrderClosed: the order is closed or reversed already.
	mOrderClosed
	// mRefundRefused: a refund refused for a reason that proves it was not
	// made: amount, order state, balance, refund period.
	mRefundRefused
	// mRefundExists: the out_refund_no is known already.
	mRefundExists
	// mDeclined: the payer's wallet, bank or card declined.
	mDeclined
	// mPaying: the customer is still paying.
	mPaying
	// mCloseFailed: a close that was not done ("Failed to close order").
	mCloseFailed
	// mUnclear: listed, but the spec does not say what it means for the
	// order or refund.
	mUnclear
)

var meaningName = map[meaning]string{
	mRefused: "refused before processing", mSystem: "system or channel error", mOrderNotFound: "order not found",
	mRefundNotFound: "refund not found", mOrderExists: "order number used", mOrderPaid: "order paid",
	mOrderClosed: "order closed", mRefundRefused: "refund refused", mRefundExists: "refund number used",
	mDeclined: "declined by the payer's side", mPaying: "customer paying", mCloseFailed: "close not done", mUnclear: "unclear",
}

// codeRow is one err_code the spec lists, with its section.
type codeRow struct {
	code    string
	section string
	m       meaning
}

// errCodes are the codes of §8's tables (the first column), with the
// few §8.1 lists twice under different messages once. 400 and 500 are
// §8.1's protocol errors (status, unsigned); they have rows here too in
// case they come as an err_code. §8.4's UnionPay response codes are
// listed as the spec prints them, with its damage repaired: "EO" is E0,
// "A.7" is A7, and code 13 ("Invalid transaction amount") lost its
// number in extraction.
var errCodes = []codeRow{
	// §8.1 Swiftpass
	{"Auth code invalid", "§8.1", mRefused},
	{"400", "§8.1", mRefused},
	{"INVALID_FEE", "§8.1", mRefundRefused},
	{"INVALID_REFUND_FEE", "§8.1", mRefundRefused},
	{"REFUND_FEE_LIMIT", "§8.1", mRefundRefused},
	{"REFUND_FEE_INVALID", "§8.1", mRefundRefused},
	{"Validation parameter failed", "§8.1", mRefused},
	{"ORDER_FEE_INVALID", "§8.1", mRefundRefused},
	{"ORDER_DATE_INVALID", "§8.1", mRefused},
	{"transaction_id out_trade_no is required", "§8.1", mRefused},
	{"buyer_logon_id buyer_id is required", "§8.1", mRefused},
	{"transaction_id out_trade_no out_refund_no refund_id is required", "§8.1", mRefused},
	{"out_refund_no refund_id is required", "§8.1", mRefused},
	{"Refundid and refundpwd is required", "§8.1", mRefused},
	{"thi_mch_id is required", "§8.1", mRefused},
	{"Refund exists", "§8.1", mRefundExists},
	{"Order exists", "§8.1", mOrderExists},
	{"Refund not exists", "§8.1", mRefundNotFound},
	{"Order not exists", "§8.1", mOrderNotFound},
	{"500", "§8.1", mSystem},
	{"SYSTEMERROR", "§8.1, §8.2", mSystem},
	{"Internal error", "§8.1", mSystem},
	{"Internel error", "§8.1 (as printed)", mSystem},
	{"Order reverse", "§8.1", mOrderClosed},
	{"Order paid", "§8.1", mOrderPaid},
	{"Amount limit", "§8.1", mDeclined},
	{"BALANCE_NOT_ENOUGH", "§8.1", mDeclined},
	{"USERPAYING", "§8.1", mPaying},
	{"Refund status error", "§8.1", mUnclear},
	{"REFUND_ERROR", "§8.1", mUnclear},
	{"Order date limit", "§8.1", mOrderClosed},
	{"Order status error", "§8.1", mUnclear},
	{"Reverse fail", "§8.1", mUnclear},
	{"Order close fail", "§8.1", mCloseFailed},
	{"Refund limit", "§8.1", mRefused},
	{"ORDER ERROR", "§8.1", mUnclear},
	{"refund frequency high", "§8.1", mUnclear},
	{"REQUEST CHANGE ERROR", "§8.1", mRefused},
	{"Order trade type error", "§8.1", mRefused},
	// §8.2 WeChat
	{"NOAUTH", "§8.2", mRefused},
	{"NOTENOUGH", "§8.2", mDeclined},
	{"ORDERPAID", "§8.2", mOrderPaid},
	{"ORDERCLOSED", "§8.2", mOrderClosed},
	{"APPID_NOT_EXIST", "§8.2", mRefused},
	{"MCHID_NOT_EXIST", "§8.2", mRefused},
	{"APPID_MCHID_NOT_MATCH", "§8.2", mRefused},
	{"LACK_PARAMS", "§8.2", mRefused},
	{"OUT_TRADE_NO_USED", "§8.2", mOrderExists},
	{"SIGNERROR", "§8.2", mRefused},
	{"REQUIRE_POST_METHOD", "§8.2", mRefused},
	{"POST_DATA_EMPTY", "§8.2", mRefused},
	{"NOT_UTF8", "§8.2", mRefused},
	// §8.3 Alipay
	{"ACCESS_FORBIDDEN", "§8.3", mRefused},
	{"AGREEMENT_NOT_EXIST", "§8.3", mRefused},
	{"ALIN10023", "§8.3", mPaying},
	{"ALIN10070", "§8.3", mRefused},
	{"ALIN10129", "§8.3", mRefused},
	{"ALIN42282", "§8.3", mOrderExists},
	{"ALIN43877", "§8.3", mDeclined},
	{"ALIN43911", "§8.3", mDeclined},
	{"BEYOND_PAY_RESTRICTION", "§8.3", mDeclined},
	{"BUYER_BALANCE_NOT_ENOUGH", "§8.3", mDeclined},
	{"BUYER_BANKCARD_BALANCE_NOT_ENOUGH", "§8.3", mDeclined},
	{"BUYER_ENABLE_STATUS_FORBID", "§8.3", mDeclined},
	{"BUYER_NOT_EXIST", "§8.3", mDeclined},
	{"BUYER_NOT_MAINLAND_CERT", "§8.3", mDeclined},
	{"BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR", "§8.3", mDeclined},
	{"BUYER_PAYMENT_AMOUNT_MONTH_LIMIT_ERROR", "§8.3", mDeclined},
	{"CONTACT_NO_MANDATORY", "§8.3", mRefused},
	{"CONTEXT_INCONSISTENT", "§8.3", mOrderExists},
	{"CURRENCY_NOT_SAME", "§8.3", mRefundRefused},
	{"CURRENCY_NOT_SUPPORT", "§8.3", mRefused},
	{"DATA_NOT_EXIST", "§8.3", mRefused},
	{"DISCORDANT_REPEAT_REQUEST", "§8.3", mRefundExists},
	{"DUPLICATE_PAY_CURRENCY_NOT_EQUAL", "§8.3", mOrderExists},
	{"DUPLICATE_REQUEST", "§8.3", mUnclear},
	{"EXCHANGE_AMOUNT_OR_CURRENCY_ERROR", "§8.3", mRefused},
	{"EXIST_FORBIDDEN_WORD", "§8.3", mRefused},
	{"HAS_NO_PRIVILEGE", "§8.3", mRefused},
	{"ILLEGAL_ACCESS_SWITCH_SYSTEM", "§8.3", mRefused},
	{"ILLEGAL_ARGUMENT", "§8.3", mRefused},
	{"ILLEGAL_CLIENT_IP", "§8.3", mRefused},
	{"ILLEGAL_EXTERFACE", "§8.3", mRefused},
	{"ILLEGAL_PARTNER", "§8.3", mRefused},
	{"ILLEGAL_PARTNER_EXTERFACE", "§8.3", mRefused},
	{"ILLEGAL_SECURITY_PROFILE", "§8.3", mRefused},
	{"ILLEGAL_SIGN", "§8.3", mRefused},
	{"ILLEGAL_SIGN_TYPE", "§8.3", mRefused},
	{"INVALID_PARAMETER", "§8.3", mRefused},
	{"INVALID_RECEIVE_ACCOUNT", "§8.3", mRefused},
	{"INVALID_ROUNDED_AMOUNT", "§8.3", mRefundRefused},
	{"LBS_GEOGRAPHIC_INFORMATION_INVALID", "§8.3", mRefused},
	{"MCC_TYPE_ILLEGAL", "§8.3", mRefused},
	{"MOBILE_PAYMENT_SWITCH_OFF", "§8.3", mDeclined},
	{"MORE_THAN_ALLOW_REFUND_FOREX_FEE", "§8.3", mRefundRefused},
	{"NOT_CERTIFIED_USER", "§8.3", mDeclined},
	{"NOT_PRIVATE_ACCOUNT_USER", "§8.3", mDeclined},
	{"NOT_SUPPORT_PAYMENT_INST", "§8.3", mDeclined},
	{"PARAM_ILLEGAL", "§8.3", mRefused},
	{"PAYER_ENABLE_STATUS_FORBID", "§8.3", mDeclined},
	{"PAYMENT_FAIL", "§8.3", mDeclined},
	{"PAYMENT_REQUEST_HAS_RISK", "§8.3", mDeclined},
	{"PRODUCT_AMOUNT_LIMIT_ERROR", "§8.3", mDeclined},
	{"PULL_MOBILE_CASHIER_FAIL", "§8.3", mUnclear},
	{"PURCHASE_TRADE_NOT_EXIST", "§8.3", mRefundRefused},
	{"QRCODE_HAS_BEEN_EXIST", "§8.3", mOrderExists},
	{"REASON_TRADE_REFUND_FEE_ERR", "§8.3", mRefundRefused},
	{"REFUND_CHARGE_ERROR", "§8.3", mRefundRefused},
	{"REFUND_REQUEST_HAS_RISK", "§8.3", mRefundRefused},
	{"REFUNDMENT_VALID_DATE_EXCEED", "§8.3", mRefundRefused},
	{"REGISTRATION_NO_MANDATORY", "§8.3", mRefused},
	{"REPEATED_REFUNDMENT_REQUEST", "§8.3", mRefundExists},
	{"REQUEST_AMOUNT_EXCEED", "§8.3", mRefundRefused},
	{"RESTRICTED_MERCHANT_INDUSTRY", "§8.3", mDeclined},
	{"RETURN_AMOUNT_ERROR", "§8.3", mRefundRefused},
	{"RETURN_AMOUNT_EXCEED", "§8.3", mRefundRefused},
	{"SECONDARY_MERCHANT_ID_BLANK", "§8.3", mRefused},
	{"SECONDARY_MERCHANT_ID_INVALID", "§8.3", mRefused},
	{"SECONDARY_MERCHANT_STATUS_ERROR", "§8.3", mRefused},
	{"SELLER_BALANCE_NOT_ENOUGH", "§8.3", mRefundRefused},
	{"SELLER_NOT_EXIST", "§8.3", mRefused},
	{"SOUNDWAVE_PARSER_FAIL", "§8.3", mRefused},
	{"SYSTEM_ERROR", "§8.3", mSystem},
	{"TARGET_SYSTEM_ERROR", "§8.3", mRefused},
	{"TOTAL_FEE_EXCEED", "§8.3", mDeclined},
	{"TRADE_BUYER_NOT_MATCH", "§8.3", mDeclined},
	{"TRADE_CANCEL_TIME_OUT", "§8.3", mUnclear},
	{"TRADE_HAS_CLOSE", "§8.3", mOrderClosed},
	{"TRADE_HAS_FINISHED", "§8.3", mRefundRefused},
	{"TRADE_HAS_SUCCESS", "§8.3", mOrderPaid},
	{"TRADE_NOT_EXIST", "§8.3", mOrderNotFound},
	{"TRADE_SETTLE_ERROR", "§8.3", mUnclear},
	{"TRADE_STATUS_ERROR", "§8.3", mRefundRefused},
	{"UNKNOW", "§8.3", mSystem},
	{"UNKNOW_ERROR", "§8.3", mSystem},
	{"The amount or currency of the foreign exchange purchased is wrong", "§8.3", mRefused},
	{"The system is a little busy, try again later, or you can pay on the computer", "§8.3", mSystem},
	// §8.4 UnionPay response codes
	{"00", "§8.4", mUnclear}, // "approved" under a result_code that is not 0
	{"01", "§8.4", mDeclined},
	{"03", "§8.4", mDeclined},
	{"04", "§8.4", mDeclined},
	{"05", "§8.4", mDeclined},
	{"12", "§8.4", mDeclined},
	{"13", "§8.4 (number lost in extraction)", mDeclined},
	{"14", "§8.4", mDeclined},
	{"15", "§8.4", mDeclined},
	{"21", "§8.4", mDeclined},
	{"22", "§8.4", mDeclined},
	{"25", "§8.4", mUnclear},
	{"30", "§8.4", mRefused},
	{"34", "§8.4", mDeclined},
	{"40", "§8.4", mDeclined},
	{"41", "§8.4", mDeclined},
	{"43", "§8.4", mDeclined},
	{"45", "§8.4", mDeclined},
	{"51", "§8.4", mDeclined},
	{"54", "§8.4", mDeclined},
	{"57", "§8.4", mDeclined},
	{"58", "§8.4", mDeclined},
	{"59", "§8.4", mDeclined},
	{"61", "§8.4", mDeclined},
	{"62", "§8.4", mDeclined},
	{"64", "§8.4", mUnclear},
	{"65", "§8.4", mDeclined},
	{"68", "§8.4", mSystem},
	{"90", "§8.4", mSystem},
	{"91", "§8.4", mSystem},
	{"92", "§8.4", mSystem},
	{"94", "§8.4", mUnclear},
	{"96", "§8.4", mSystem},
	{"97", "§8.4", mRefused},
	{"98", "§8.4", mSystem},
	{"A2", "§8.4", mUnclear},
	{"A3", "§8.4", mDeclined},
	{"A4", "§8.4", mUnclear},
	{"A5", "§8.4", mUnclear},
	{"A6", "§8.4", mUnclear},
	{"A7", "§8.4 (printed A.7)", mUnclear},
	{"E0", "§8.4 (printed EO)", mRefused},
	{"E1", "§8.4", mRefused},
	{"E2", "§8.4", mRefused},
	{"E3", "§8.4", mSystem},
	{"PG", "§8.4", mSystem}, // "Unknown message result: PENDING"
}

// policy is one operation's reading of the meanings. Every meaning has
// an entry for every operation (outcome_test.go checks it).
var policy = map[Operation]map[meaning]Outcome{
	// A create refused under status 0: no code_url was given (§6.1.4:
	// it is returned only "when status and result_code both are 0"), so
	// no QR was shown and nobody can pay the order: Failed. Except the
	// codes that speak of an existing order with our number (used, paid,
	// closed, being paid): that order may be paid, so Unknown and the
	// flows query it.
	OpCreate: {
		mCloseFailed: Failed,
		mRefused:     Failed, mSystem: Failed, mOrderNotFound: Failed, mRefundNotFound: Failed,
		mOrderExists: Unknown, mOrderPaid: Unknown, mOrderClosed: Unknown, mPaying: Unknown,
		mRefundRefused: Failed, mRefundExists: Failed, mDeclined: Failed, mUnclear: Failed,
	},
	// A refused query says nothing about the order, except that it does
	// not exist.
	OpQuery: {
		mCloseFailed: Unknown,
		mRefused:     Unknown, mSystem: Unknown, mOrderNotFound: NotFound, mRefundNotFound: Unknown,
		mOrderExists: Unknown, mOrderPaid: Unknown, mOrderClosed: Unknown, mPaying: Unknown,
		mRefundRefused: Unknown, mRefundExists: Unknown, mDeclined: Unknown, mUnclear: Unknown,
	},
	// §6.6.4: result_code 0 "indicates the order was cancelled
	// successfully and cannot be paid for again. FAIL refers to
	// exceptions ... The recall function should be used to determine
	// whether the order has been canceled": a refused close is Failed
	// (not closed), and the flows query. Closed or reversed already is
	// done; system errors and codes whose meaning is unclear are Unknown
	// (the flows query too).
	OpClose: {
		mCloseFailed: Failed,
		mRefused:     Failed, mSystem: Unknown, mOrderNotFound: NotFound, mRefundNotFound: Unknown,
		mOrderExists: Failed, mOrderPaid: Failed, mOrderClosed: Succeeded, mPaying: Failed,
		mRefundRefused: Failed, mRefundExists: Failed, mDeclined: Failed, mUnclear: Unknown,
	},
	// A refund is Failed only when the answer proves it was not made
	// (refused before processing, or a refusal §8 states: amount, state,
	// balance, period, a closed order). A refund taken as failed frees
	// its amount for another one, so everything else is Unknown and the
	// refund is queried.
	OpRefund: {
		mCloseFailed: Unknown,
		mRefused:     Failed, mSystem: Unknown, mOrderNotFound: NotFound, mRefundNotFound: Unknown,
		mOrderExists: Unknown, mOrderPaid: Unknown, mOrderClosed: Failed, mPaying: Unknown,
		mRefundRefused: Failed, mRefundExists: Unknown, mDeclined: Unknown, mUnclear: Unknown,
	},
	// A refused refund query says nothing about the refund, except that
	// it (or its order) does not exist.
	OpRefundQuery: {
		mCloseFailed: Unknown,
		mRefused:     Unknown, mSystem: Unknown, mOrderNotFound: NotFound, mRefundNotFound: NotFound,
		mOrderExists: Unknown, mOrderPaid: Unknown, mOrderClosed: Unknown, mPaying: Unknown,
		mRefundRefused: Unknown, mRefundExists: Unknown, mDeclined: Unknown, mUnclear: Unknown,
	},
	// A notification that is not a payment is passed on as Unknown: the
	// flows query rather than end a payment on a push.
	OpNotification: {
		mCloseFailed: Unknown,
		mRefused:     Unknown, mSystem: Unknown, mOrderNotFound: Unknown, mRefundNotFound: Unknown,
		mOrderExists: Unknown, mOrderPaid: Unknown, mOrderClosed: Unknown, mPaying: Unknown,
		mRefundRefused: Unknown, mRefundExists: Unknown, mDeclined: Unknown, mUnclear: Unknown,
	},
}

// successRows are the outcome of result_code 0 (and, for a protocol
// error, of status), per operation: what the answer is read by next.
var successRows = map[Operation][]Row{
	// §6.1.4: code_url is returned when status and result_code are 0.
	// A status other than 0 is the unsigned protocol error (§3.2, §4 "the
	// failed result will not be signed"): nothing was processed and no
	// code_url exists, so a create refused so is Failed (see S8 in doc.go).
	OpCreate: {
		{"status", "0", UserPaying, "§6.1.4 (read result_code)"},
		{"status", "other", Failed, "§6.1.4, §3.2, §8.1 400/500"},
		{"result_code", "0", UserPaying, "§6.1.4 (code_url shown; none: unknown)"},
	},
	OpQuery: {
		{"status", "0", Unknown, "§6.3.3 (read result_code)"},
		{"status", "other", Unknown, "§6.3.3, §3.2"},
		{"result_code", "0", Unknown, "§6.3.3 (read trade_state)"},
	},
	// §6.4.1 says the result "will be synchronously returned", and also
	// that the money takes 1 to 3 working days: result_code 0 is the
	// refund accepted, and only refund_status_$n (§6.5.2) is final.
	OpRefund: {
		{"status", "0", Unknown, "§6.4.3 (read result_code)"},
		{"status", "other", Unknown, "§6.4.3, §3.2"},
		{"result_code", "0", UserPaying, "§6.4.1, §6.4.3 (accepted; query refund_status)"},
	},
	OpRefundQuery: {
		{"status", "0", Unknown, "§6.5.2 (read result_code)"},
		{"status", "other", Unknown, "§6.5.2, §3.2"},
		{"result_code", "0", Unknown, "§6.5.2 (read refund_status_$n of our out_refund_no)"},
	},
	OpClose: {
		{"status", "0", Unknown, "§6.6.4 (read result_code)"},
		{"status", "other", Unknown, "§6.6.4, §3.2"},
		{"result_code", "0", Succeeded, "§6.6.4"},
	},
	OpNotification: {
		{"status", "0", Unknown, "§6.2.1 (read result_code)"},
		{"status", "other", Unknown, "§6.2.1, §3.2"},
		{"result_code", "0", Unknown, "§6.2.1 (read pay_result)"},
		{"pay_result", "0", Succeeded, "§6.2.1"},
		{"pay_result", "other", Unknown, "§6.2.1 (\"Others: fail\" is not a reason to fail a payment on a push: query)"},
	},
}

var codeIndex = func() map[string]codeRow {
	m := make(map[string]codeRow, len(errCodes))
	for _, r := range errCodes {
		// The spec lists some codes in two spellings (SYSTEMERROR and
		// SYSTEM_ERROR, Order paid and ORDERPAID); they must agree.
		if prev, dup := m[normCode(r.code)]; dup {
			if prev.m != r.m {
				panic("swiftpass: err_code " + r.code + " has two meanings")
			}
			continue
		}
		m[normCode(r.code)] = r
	}
	return m
}()

// OutcomeTable is op's whole table: status and result_code first, then
// trade_state, refund_status or pay_result where op has them, then every
// err_code of §8 with what it means for op.
func OutcomeTable(op Operation) []Row {
	rows := append([]Row(nil), successRows[op]...)
	switch op {
	case OpQuery:
		rows = append(rows, tradeStates...)
	case OpRefundQuery:
		rows = append(rows, refundStates...)
	}
	for _, c := range errCodes {
		rows = append(rows, Row{"err_code", c.code, policy[op][c.m], c.section + " (" + meaningName[c.m] + ")"})
	}
	return rows
}

// lookupCode returns op's outcome of an err_code, and whether the spec
// lists it; unlisted codes are Unknown.
func lookupCode(op Operation, code string) (Outcome, bool) {
	r, ok := codeIndex[normCode(code)]
	if !ok {
		return Unknown, false
	}
	return policy[op][r.m], true
}

func lookupRow(rows []Row, code string) (Outcome, bool) {
	for _, r := range rows {
		if r.Code == code {
			return r.Outcome, true
		}
	}
	return Unknown, false
}

// TradeStatus maps a query's trade_state to the normalised status; a
// state §6.3.3 does not list is Unknown.
func TradeStatus(state string) gateways.Status {
	o, _ := lookupRow(tradeStates, state)
	return o.status()
}

// RefundStatus maps refund_status_$n to the normalised status; NOTSURE
// and CHANGE are Unknown (with Resend and Alert on the Result), and a
// state §6.5.2 does not list is Unknown.
func RefundStatus(state string) gateways.Status {
	o, _ := lookupRow(refundStates, state)
	return o.status()
}

// normCode compares error codes the way the spec writes them: the same
// code appears as "Order not exists" and "ORDER_NOT_EXISTS" styles
// across §8's tables, so case, spaces and punctuation are ignored.
func normCode(code string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(code) {
		if c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// verdict is the normalised reading of one verified answer.
type verdict struct {
	outcome Outcome
	code    string // trade_state, refund state or err_code: what decided
	reason  string
}

func (v verdict) status() gateways.Status { return v.outcome.status() }
func (v verdict) notFound() bool          { return v.outcome == NotFound }

// classify reads a verified answer whose status is "0" (the caller has
// handled any other status).
func classify(op Operation, f Fields) verdict {
	switch rc := f["result_code"]; {
	case rc == "":
		return verdict{outcome: Unknown, reason: msgOr(f["err_msg"], "answer has no result_code")}
	case rc != "0":
		code := f["err_code"]
		out, listed := lookupCode(op, code)
		v := verdict{outcome: out, code: code, reason: msgOr(f["err_msg"], "refused")}
		if !listed {
			v.reason = "err_code " + quoteShort(code) + " is not in the spec: " + v.reason
		}
		return v
	}
	switch op {
	case OpCreate:
		return verdict{outcome: UserPaying, code: "0", reason: "waiting for the customer to scan"}
	case OpQuery:
		st := f["trade_state"]
		out, listed := lookupRow(tradeStates, st)
		v := verdict{outcome: out, code: st}
		switch {
		case !listed:
			v.reason = "trade_state " + quoteShort(st) + " is not in the spec"
		case out == Failed:
			v.reason = msgOr(f["trade_state_desc"], stateReason[st])
		case out == UserPaying:
			v.reason = stateReason[st]
		}
		return v
	case OpRefund:
		return verdict{outcome: UserPaying, code: "0", reason: "the refund is accepted; its result comes from the refund query"}
	case OpClose:
		return verdict{outcome: Succeeded, code: "0"}
	}
	// Refund query and notification answers are read further by their
	// callers (refund_status_$n, pay_result).
	return verdict{outcome: Unknown, code: "0"}
}

var stateReason = map[string]string{
	StateNotPay:     "the customer has not paid yet",
	StateUserPaying: "the customer is paying",
	StateClosed:     "the order was closed",
	StateRevoked:    "the order was revoked",
	StatePayError:   "the payment failed",
}

func msgOr(msg, def string) string {
	if msg != "" {
		return truncate(msg, 128)
	}
	return def
}

func quoteShort(s string) string { return "\"" + truncate(s, 32) + "\"" }
