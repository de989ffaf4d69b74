package swiftpass

import (
	"strings"

	"github.com/posagent/posagent/gateways"
)

// What an answer means is read in the order the spec gives (§3.2, §6.x.4):
// status (the communication label), then result_code (the business
// result), then, for a query, trade_state. The same err_code means
// different things to different operations, so each has its own reading.

// opClass is the kind of operation an answer belongs to.
type opClass int

const (
	classCreate opClass = iota // pay.*.native.intl
	classQuery                 // unified.trade.query
	classClose                 // unified.trade.close
	classRefund                // unified.trade.refund
	classRefundQuery
)

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

// TradeStatus maps a query's trade_state to the normalised status. REFUND
// is a paid order with refunds: the payment itself succeeded. NOTPAY is a
// merchant QR the customer has not paid yet: for the till that is still
// "the customer is paying". Anything not in §6.3.3 is Unknown.
func TradeStatus(state string) gateways.Status {
	switch state {
	case StateSuccess, StateRefund:
		return gateways.StatusSucceeded
	case StateNotPay, StateUserPaying:
		return gateways.StatusUserPaying
	case StateClosed, StateRevoked, StatePayError:
		return gateways.StatusFailed
	}
	return gateways.StatusUnknown
}

// Refund states (§6.5.2 refund_status_$n).
const (
	RefundSuccess    = "SUCCESS"
	RefundFail       = "FAIL"
	RefundProcessing = "PROCESSING"
	RefundNotSure    = "NOTSURE"
	RefundChange     = "CHANGE"
)

// RefundStatus maps refund_status_$n. NOTSURE asks the merchant to send
// the refund again with the same number: Unknown, so the refund runner
// asks again rather than concludes. CHANGE (the customer's card is gone;
// the money went to the merchant's account and must be refunded offline)
// did not reach the customer: Failed, with that as the reason.
func RefundStatus(state string) gateways.Status {
	switch state {
	case RefundSuccess:
		return gateways.StatusSucceeded
	case RefundProcessing:
		return gateways.StatusUserPaying
	case RefundFail, RefundChange:
		return gateways.StatusFailed
	}
	return gateways.StatusUnknown
}

// normCode compares error codes the way the spec writes them: the same
// code appears as "Order not exists", "ORDERNOTEXIST" and "TRADE_NOT_EXIST"
// across §8's tables, so case, spaces and underscores are ignored.
func normCode(code string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(code) {
		if c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func codeSet(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[normCode(c)] = true
	}
	return m
}

var (
	// The order does not exist (§8.1 "Order not exists", Alipay's
	// TRADE_NOT_EXIST, WeChat's ORDERNOTEXIST).
	notFoundCodes = codeSet("Order not exists", "Order do not exist", "ORDERNOTEXIST", "TRADE_NOT_EXIST")
	// The refund does not exist (§8.1 "Refund not exists").
	refundNotFoundCodes = codeSet("Refund not exists", "REFUNDNOTEXIST")
	// The platform could not tell what happened: system and channel
	// errors, "unknown".
	systemCodes = codeSet("SYSTEMERROR", "SYSERR", "500", "Internal error", "Internel error",
		"SYSTEM_ERROR", "UNKNOW", "UNKNOW_ERROR", "UNKNOWN", "BANKERROR", "PG")
	// A create answered "Order exists" is a resend of ours: it may have
	// created the order the first time.
	orderExistsCodes = codeSet("Order exists", "ORDERPAID", "OUT_TRADE_NO_USED", "TRADE_HAS_SUCCESS")
	// Closing an order that is already closed or revoked: done.
	alreadyClosedCodes = codeSet("ORDERCLOSED", "TRADE_HAS_CLOSE", "ORDERREVERSED")
	// A refund refused for a reason §8 states: amount, order state,
	// balance, period. Only these are Failed; any other refusal of a
	// refund is Unknown and the refund is queried, because a refund taken
	// as failed frees its amount for another one.
	refundRefusedCodes = codeSet("INVALID_FEE", "INVALID_REFUND_FEE", "REFUND_FEE_LIMIT", "REFUND_FEE_INVALID",
		"ORDER_FEE_INVALID", "REQUEST_AMOUNT_EXCEED", "RETURN_AMOUNT_EXCEED", "REASON_TRADE_REFUND_FEE_ERR",
		"MORE_THAN_ALLOW_REFUND_FOREX_FEE", "TRADE_STATUS_ERROR", "TRADE_HAS_CLOSE", "TRADE_HAS_FINISHED",
		"REFUNDMENT_VALID_DATE_EXCEED", "SELLER_BALANCE_NOT_ENOUGH", "NOTENOUGH", "REFUND_CHARGE_ERROR",
		"REFUND_REQUEST_HAS_RISK", "PURCHASE_TRADE_NOT_EXIST", "INVALID_ROUNDED_AMOUNT", "REFUNDNOTALLOWED")
	// A refund whose number is known already may exist.
	refundExistsCodes = codeSet("Refund exists", "REPEATED_REFUNDMENT_REQUEST")
)

// verdict is the normalised reading of one verified answer.
type verdict struct {
	status   gateways.Status
	code     string // trade_state, refund state or err_code: what decided
	reason   string
	notFound bool // the order (or refund) does not exist: a pos.NotFound error
}

// classify reads a verified answer whose status is "0" (the caller has
// turned any other status into a pos.Unknown error).
func classify(c opClass, f Fields) verdict {
	if f["result_code"] != "0" {
		code := f["err_code"]
		v := verdict{status: gateways.StatusFailed, code: code, reason: msgOr(f["err_msg"], "refused")}
		n := normCode(code)
		switch {
		case f["result_code"] == "":
			v.status, v.reason = gateways.StatusUnknown, msgOr(f["err_msg"], "answer has no result_code")
		case systemCodes[n] || n == "":
			v.status = gateways.StatusUnknown
		case c == classCreate && orderExistsCodes[n]:
			v.status = gateways.StatusUnknown
		case c == classClose && alreadyClosedCodes[n]:
			v.status = gateways.StatusSucceeded
		case notFoundCodes[n] && c != classCreate,
			refundNotFoundCodes[n] && c == classRefundQuery:
			v.status, v.notFound = gateways.StatusUnknown, true
		case c == classQuery || c == classRefundQuery:
			// A refused query says nothing about the order.
			v.status = gateways.StatusUnknown
		case c == classRefund && refundExistsCodes[n]:
			v.status = gateways.StatusUnknown
		case c == classRefund && !refundRefusedCodes[n]:
			v.status = gateways.StatusUnknown
		}
		return v
	}
	switch c {
	case classCreate:
		// The order exists and its code is to be shown: the customer has
		// not paid yet.
		return verdict{status: gateways.StatusUserPaying, code: "0", reason: "waiting for the customer to scan"}
	case classQuery:
		st := f["trade_state"]
		v := verdict{status: TradeStatus(st), code: st}
		switch v.status {
		case gateways.StatusFailed:
			v.reason = msgOr(f["trade_state_desc"], stateReason[st])
		case gateways.StatusUserPaying:
			v.reason = stateReason[st]
		case gateways.StatusUnknown:
			v.reason = "trade_state " + quoteShort(st) + " is not in the spec"
		}
		return v
	}
	// Close and refund: result_code 0 is done (§6.6.4 "SUCCESS indicates
	// the order was cancelled successfully"; §6.4.1 "the result of the
	// operation will be synchronously returned"). Refund query answers are
	// read per refund by the client.
	return verdict{status: gateways.StatusSucceeded, code: "0"}
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
