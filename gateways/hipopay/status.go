package hipopay

import "github.com/posagent/posagent/gateways"

// row is one line of an outcome table: a code the spec lists, its
// outcome, and the spec section it comes from. A code in no row is
// Unknown (TestOutcomeTablesCoverSpec reads the spec and fails when a
// listed code has no row).
type row struct {
	code    string
	status  gateways.Status
	section string
}

func lookup(table []row, code string) (row, bool) {
	for _, r := range table {
		if r.code == code {
			return r, true
		}
	}
	return row{code: code, status: gateways.StatusUnknown, section: "not in the spec: unknown"}, false
}

// paymentTable is "Payment Order Status", for Check Payment Order.
var paymentTable = []row{
	{"INIT", gateways.StatusUserPaying, "Payment Order Status: INIT payment order has been created"},
	{"PAID", gateways.StatusSucceeded, "Payment Order Status: PAID payment successful"},
	{"FAIL", gateways.StatusFailed, "Payment Order Status: FAIL payment failed"},
	{"USERPAYING", gateways.StatusUserPaying, "Payment Order Status: USERPAYING waiting for payment"},
	{"EXPIRED", gateways.StatusFailed, "Payment Order Status: EXPIRED timeout"},
}

// notificationTable is Payment Notification's status: "PAID: payment
// successful. Note: it is notified only when payment is successful." Any
// other status is not believed from a notification: the order is queried.
var notificationTable = []row{
	{"INIT", gateways.StatusUnknown, "Payment Notification: notified only when paid"},
	{"PAID", gateways.StatusSucceeded, "Payment Notification: status PAID payment successful"},
	{"FAIL", gateways.StatusUnknown, "Payment Notification: notified only when paid"},
	{"USERPAYING", gateways.StatusUnknown, "Payment Notification: notified only when paid"},
	{"EXPIRED", gateways.StatusUnknown, "Payment Notification: notified only when paid"},
}

// refundStatusTable is "Refund Status", for Refund and Check Refund. FAIL
// is read with the result code (refundCodeTable).
var refundStatusTable = []row{
	{"SUCCESS", gateways.StatusSucceeded, "Refund Status: SUCCESS refund successful"},
	{"PROCESSING", gateways.StatusUserPaying, "Refund Status: PROCESSING (ask again)"},
	{"FAIL", gateways.StatusFailed, "Refund Status: FAIL refund failed (see the Refund Code)"},
}

// refundCodeTable is "Refund Code": what a FAIL with each result code
// says. Failed where the code says the refund was refused as asked;
// Unknown where it does not say nothing was refunded (the number already
// exists, system and channel errors, retry, a double request): reading
// those as failed would free the amount while a refund may exist.
var refundCodeTable = []row{
	{"0000", gateways.StatusUnknown, "Refund Code 0000 Refund Processing beside FAIL: contradictory"},
	{"0001", gateways.StatusUnknown, "Refund Code 0001 Refund Already Exists: perhaps our earlier attempt"},
	{"0002", gateways.StatusFailed, "Refund Code 0002 payment Not Found"},
	{"0003", gateways.StatusFailed, "Refund Code 0003 Refund currency error"},
	{"0004", gateways.StatusFailed, "Refund Code 0004 Payment not paid yet"},
	{"0005", gateways.StatusFailed, "Refund Code 0005 Payment not credited yet"},
	{"0006", gateways.StatusFailed, "Refund Code 0006 Payment full refunded"},
	{"0007", gateways.StatusFailed, "Refund Code 0007 settle_forex rate"},
	{"0008", gateways.StatusFailed, "Refund Code 0008 Payment refundable not enough"},
	{"0009", gateways.StatusFailed, "Refund Code 0009 refund amount must more than zero"},
	{"0010", gateways.StatusFailed, "Refund Code 0010 merchant has not HKD balance"},
	{"0011", gateways.StatusFailed, "Refund Code 0011 Settled Balance not enough (the spec's example)"},
	{"0012", gateways.StatusFailed, "Refund Code 0012 Unsettled Balance not enough"},
	{"0013", gateways.StatusFailed, "Refund Code 0013 Refund Invalid"},
	{"0099", gateways.StatusUnknown, "Refund Code 0099 SYSYTEM_ERROR"},
	{"0101", gateways.StatusFailed, "Refund Code 0101 NOTENOUGH merchant balance"},
	{"0102", gateways.StatusFailed, "Refund Code 0102 USER_ACCOUNT_ABNORMAL"},
	{"0103", gateways.StatusUnknown, "Refund Code 0103 SYSTEMERROR"},
	{"0104", gateways.StatusUnknown, "Refund Code 0104 BIZERR_NEED_RETRY"},
	{"0105", gateways.StatusFailed, "Refund Code 0105 TRADE_OVERDUE"},
	{"0106", gateways.StatusUnknown, "Refund Code 0106 ERROR channel error"},
	{"0107", gateways.StatusFailed, "Refund Code 0107 INVALID_REQ_TOO_MUCH"},
	{"0108", gateways.StatusFailed, "Refund Code 0108 INVALID_TRANSACTIONID"},
	{"0109", gateways.StatusFailed, "Refund Code 0109 PARAM_ERROR"},
	{"0110", gateways.StatusFailed, "Refund Code 0110 APPID_NOT_EXIST"},
	{"0111", gateways.StatusFailed, "Refund Code 0111 MCHID_NOT_EXIST"},
	{"0112", gateways.StatusFailed, "Refund Code 0112 ORDERNOTEXIST"},
	{"0113", gateways.StatusFailed, "Refund Code 0113 REQUIRE_POST_METHOD"},
	{"0114", gateways.StatusFailed, "Refund Code 0114 SIGNERROR"},
	{"0115", gateways.StatusFailed, "Refund Code 0115 XML_FORMAT_ERROR"},
	{"0116", gateways.StatusFailed, "Refund Code 0116 FREQUENCY_LIMITED"},
	{"0117", gateways.StatusFailed, "Refund Code 0117 NOAUTH"},
	{"0118", gateways.StatusFailed, "Refund Code 0118 CERT_ERROR"},
	{"0119", gateways.StatusUnknown, "Refund Code 0119 REFUND_FEE_MISMATCH: a refund with this number and another amount exists"},
	{"0120", gateways.StatusFailed, "Refund Code 0120 INVALID_REQUEST"},
	{"0121", gateways.StatusFailed, "Refund Code 0121 ORDER_NOT_READY"},
	{"0199", gateways.StatusUnknown, "Refund Code 0199 wechatpay unknown error"},
	{"0201", gateways.StatusFailed, "Refund Code 0201 MERCHANT_BALANCE_NOT_ENOUGH"},
	{"0202", gateways.StatusFailed, "Refund Code 0202 REFUNDMENT_VALID_DATE_EXCEED"},
	{"0203", gateways.StatusUnknown, "Refund Code 0203 SYSTEM_EXCEPTION"},
	{"0204", gateways.StatusFailed, "Refund Code 0204 ILLEGAL_ARGUMENT"},
	{"0205", gateways.StatusUnknown, "Refund Code 0205 REPEATED_REFUNDMENT_REQUEST"},
	{"0206", gateways.StatusFailed, "Refund Code 0206 RETURN_AMOUNT_EXCEED"},
	{"0207", gateways.StatusFailed, "Refund Code 0207 CURRENCY_NOT_SAME"},
	{"0208", gateways.StatusFailed, "Refund Code 0208 PURCHASE_TRADE_NOT_EXIST"},
	{"0209", gateways.StatusFailed, "Refund Code 0209 TRADE_NOT_EXIST"},
	{"0210", gateways.StatusFailed, "Refund Code 0210 TRADE_STATUS_ERROR"},
	{"0211", gateways.StatusFailed, "Refund Code 0211 REFUND_AMT_RESTRICTION"},
	{"0212", gateways.StatusFailed, "Refund Code 0212 BUYER_NOT_EXIST"},
	{"0213", gateways.StatusUnknown, "Refund Code 0213 REFUND_CHARGE_ERROR: says nothing definite"},
	{"0214", gateways.StatusFailed, "Refund Code 0214 INVALID_PARAMETER"},
	{"0215", gateways.StatusFailed, "Refund Code 0215 REASON_TRADE_BEEN_FREEZEN"},
	{"0216", gateways.StatusFailed, "Refund Code 0216 REQUEST_AMOUNT_EXCEED"},
	{"0217", gateways.StatusFailed, "Refund Code 0217 ILLEGAL_SIGN"},
	{"0218", gateways.StatusFailed, "Refund Code 0218 ILLEGAL_SERVICE"},
	{"0219", gateways.StatusFailed, "Refund Code 0219 ILLEGAL_PARTNER"},
	{"0220", gateways.StatusFailed, "Refund Code 0220 ILLEGAL_SIGN_TYPE"},
	{"0221", gateways.StatusFailed, "Refund Code 0221 ILLEGAL_PARTNER_EXTERFACE"},
	{"0222", gateways.StatusFailed, "Refund Code 0222 ILLEGAL_DYN_MD5_KEY"},
	{"0223", gateways.StatusFailed, "Refund Code 0223 ILLEGAL_ENCRYPT"},
	{"0224", gateways.StatusFailed, "Refund Code 0224 ILLEGAL_USER"},
	{"0225", gateways.StatusFailed, "Refund Code 0225 ILLEGAL_EXTERFACE"},
	{"0226", gateways.StatusFailed, "Refund Code 0226 ILLEGAL_AGENT"},
	{"0227", gateways.StatusFailed, "Refund Code 0227 HAS_NO_PRIVILEGE"},
	{"0228", gateways.StatusFailed, "Refund Code 0228 INVALID_CHARACTER_SET"},
	{"0229", gateways.StatusUnknown, "Refund Code 0229 SYSTEM_ERROR"},
	{"0230", gateways.StatusUnknown, "Refund Code 0230 SESSION_TIMEOUT"},
	{"0231", gateways.StatusFailed, "Refund Code 0231 ILLEGAL_TARGET_SERVICE"},
	{"0232", gateways.StatusFailed, "Refund Code 0232 ILLEGAL_ACCESS_SWITCH_SYSTEM"},
	{"0233", gateways.StatusFailed, "Refund Code 0233 EXTERFACE_IS_CLOSED"},
	{"0299", gateways.StatusUnknown, "Refund Code 0299 alipay unknown error"},
}

// Error codes of answers with is_success false (each API's Error Code
// table).
const (
	ErrPaymentNotFound      = "PAYMENT_NOT_FOUND"
	ErrRefundNotFound       = "REFUND_NOT_FOUND"
	ErrRefundAmountInvalid  = "REFUND_AMOUNT_INVALID"
	ErrIllegalSecurity      = "ILLEGAL_SECURITY_PROFILE"
	ErrCurrencyNotSupported = "CURRENCY_NOT_SUPPORT"
	ErrForexCurrency        = "FOREX_MERCHANT_NOT_SUPPORT_THIS_CURRENCY"
)

// refundRefusalTable is the Refund API's Error Code table (is_success
// false): each refuses the request as a whole, so nothing was refunded.
// PAYMENT_NOT_FOUND (Check Payment Order's table) refuses a refund of an
// order the platform does not know. Any other code on a refund is Unknown.
var refundRefusalTable = []row{
	{ErrRefundAmountInvalid, gateways.StatusFailed, "Refund Error Code: REFUND_AMOUNT_INVALID"},
	{ErrIllegalSecurity, gateways.StatusFailed, "Refund Error Code: ILLEGAL_SECURITY_PROFILE"},
	{ErrPaymentNotFound, gateways.StatusFailed, "Check Payment Order Error Code: PAYMENT_NOT_FOUND, no order to refund"},
	{ErrRefundNotFound, gateways.StatusUnknown, "Check Refund Error Code on a refund says nothing definite"},
	{ErrCurrencyNotSupported, gateways.StatusFailed, "Check Exchange Rate Error Code: CURRENCY_NOT_SUPPORT, refused"},
	{ErrForexCurrency, gateways.StatusFailed, "Place an Order Error Code: currency not supported, refused"},
}

// PaymentStatus maps a payment order's status through paymentTable:
// PAID succeeded; INIT, USERPAYING user paying; FAIL, EXPIRED failed
// (nothing was charged); anything else unknown.
func PaymentStatus(s string) gateways.Status {
	r, _ := lookup(paymentTable, s)
	return r.status
}

// NotificationStatus maps a notification's status through
// notificationTable: only PAID is believed.
func NotificationStatus(s string) gateways.Status {
	r, _ := lookup(notificationTable, s)
	return r.status
}

// RefundStatus maps a refund's status and result code: SUCCESS
// succeeded; PROCESSING in progress (StatusUserPaying: ask again); FAIL
// as refundCodeTable says for its result code (a FAIL without a listed
// code is failed: the status says so); anything else unknown.
func RefundStatus(status, resultCode string) gateways.Status {
	r, ok := lookup(refundStatusTable, status)
	if !ok || r.status != gateways.StatusFailed || resultCode == "" {
		return r.status
	}
	if c, ok := lookup(refundCodeTable, resultCode); ok {
		return c.status
	}
	return gateways.StatusFailed
}

// RefundRefusal maps the error code of a refund answer with is_success
// false through refundRefusalTable: a documented refusal is failed,
// anything else unknown.
func RefundRefusal(code string) gateways.Status {
	r, _ := lookup(refundRefusalTable, code)
	return r.status
}
