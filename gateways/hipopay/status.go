package hipopay

import "github.com/posagent/posagent/gateways"

// PaymentStatus maps a payment order's status (spec "Payment Order
// Status") to the normalised one:
//
//	PAID                 succeeded
//	INIT, USERPAYING     user paying (created, or waiting for the customer)
//	FAIL, EXPIRED        failed (nothing was charged)
//	anything else        unknown
func PaymentStatus(s string) gateways.Status {
	switch s {
	case "PAID":
		return gateways.StatusSucceeded
	case "INIT", "USERPAYING":
		return gateways.StatusUserPaying
	case "FAIL", "EXPIRED":
		return gateways.StatusFailed
	}
	return gateways.StatusUnknown
}

// unsureRefundCodes are refund result codes (spec "Refund Code") that come
// with status FAIL but do not say the refund was not made: the number
// already exists (0001: this may be our own earlier attempt), a platform or
// channel error, or "need retry". Reading them as failed would free the
// amount while a refund may exist, so they are unknown: query the refund.
var unsureRefundCodes = map[string]bool{
	"0000": true, // "Refund Processing" beside FAIL: contradictory
	"0001": true, // Refund xxx Already Exists
	"0099": true, // SYSYTEM_ERROR
	"0103": true, // SYSTEMERROR
	"0104": true, // BIZERR_NEED_RETRY
	"0106": true, // ERROR (channel)
	"0199": true, // wechatpay unknown error
	"0203": true, // SYSTEM_EXCEPTION
	"0205": true, // REPEATED_REFUNDMENT_REQUEST
	"0229": true, // SYSTEM_ERROR
	"0230": true, // SESSION_TIMEOUT
	"0299": true, // alipay unknown error
}

// RefundStatus maps a refund's status (spec "Refund Status") and result
// code to the normalised one:
//
//	SUCCESS              succeeded
//	PROCESSING           in progress (StatusUserPaying: ask again)
//	FAIL                 failed, unless the code is one of unsureRefundCodes: unknown
//	anything else        unknown
func RefundStatus(status, resultCode string) gateways.Status {
	switch status {
	case "SUCCESS":
		return gateways.StatusSucceeded
	case "PROCESSING":
		return gateways.StatusUserPaying
	case "FAIL":
		if unsureRefundCodes[resultCode] {
			return gateways.StatusUnknown
		}
		return gateways.StatusFailed
	}
	return gateways.StatusUnknown
}

// Error codes of answers with is_success false.
const (
	ErrPaymentNotFound      = "PAYMENT_NOT_FOUND"
	ErrRefundNotFound       = "REFUND_NOT_FOUND"
	ErrRefundAmountInvalid  = "REFUND_AMOUNT_INVALID"
	ErrIllegalSecurity      = "ILLEGAL_SECURITY_PROFILE"
	ErrCurrencyNotSupported = "CURRENCY_NOT_SUPPORT"
)

// refundRefusals are the is_success=false codes that say a refund request
// was refused as a whole, so nothing was refunded. Any other code on a
// refund is unknown.
var refundRefusals = map[string]bool{
	ErrRefundAmountInvalid: true,
	ErrIllegalSecurity:     true,
	ErrPaymentNotFound:     true,
}

// RefundRefusal maps the error code of a refund answer with is_success
// false: a documented refusal is failed, anything else unknown.
func RefundRefusal(code string) gateways.Status {
	if refundRefusals[code] {
		return gateways.StatusFailed
	}
	return gateways.StatusUnknown
}
