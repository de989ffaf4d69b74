package swiftpass

import (
	"fmt"
	"net/http"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// The acknowledgements of §6.2.2: the pure string "success" stops the
// platform's resends (0/15/15/30/180/1800/... s, §5); anything else, here
// "fail", makes it resend.
const (
	AckOK   = "success"
	AckFail = "fail"
)

// ParseNotification implements gateways.Notifier for the payment
// notification (§6.2): XML POSTed to notify_url, signed like an answer.
// It is trusted only when it parses, has status 0, verifies with our
// sign_type and key, and names our mch_id and an out_trade_no; anything
// else is a pos.Unknown error and the payment is queried instead.
//
// status 0, result_code 0 and pay_result 0 is a payment: Succeeded, with
// total_fee and fee_type as the amount (the flows compare it with the
// order's, as §6.2.1 asks). Any other pay_result is passed on as Unknown,
// never Failed: the flows query rather than end a payment on a push.
//
// The wire has no notification id. ID is "swiftpass:" + transaction_id (or
// out_trade_no) + ":" + pay_result, the same for every resend.
func (c *Client) ParseNotification(_ http.Header, body []byte) (gateways.Notification, error) {
	const op = "swiftpass.ParseNotification"
	r, err := c.verify(body)
	if err != nil {
		return gateways.Notification{}, pos.E(pos.Unknown, op, err)
	}
	no := r["out_trade_no"]
	if no == "" {
		return gateways.Notification{}, pos.E(pos.Unknown, op, errNoOrder)
	}
	if err := (rule{"out_trade_no", 32, ident, true}).check(no); err != nil {
		return gateways.Notification{}, pos.Errorf(pos.Unknown, op, "out_trade_no %w", err)
	}
	v := verdict{status: gateways.StatusUnknown, code: r["pay_result"]}
	switch {
	case r["result_code"] != "0":
		v.code, v.reason = r["err_code"], msgOr(r["err_msg"], "notification with result_code "+quoteShort(r["result_code"]))
	case r["pay_result"] == "0":
		v.status = gateways.StatusSucceeded
	default:
		v.reason = msgOr(r["pay_info"], "notification with pay_result "+quoteShort(r["pay_result"]))
	}
	res := c.result("notification", r, v)
	if res.Wallet == "" {
		res.Wallet = walletOf(r["service"])
	}
	id := r["transaction_id"]
	if id == "" {
		id = "out:" + no
	}
	return gateways.Notification{
		ID:         fmt.Sprintf("%s:%s:%s", Kind, truncate(id, 64), truncate(r["pay_result"], 8)),
		OutTradeNo: no,
		Result:     res,
	}, nil
}

// NotificationAck implements gateways.Notifier.
func (c *Client) NotificationAck(ok bool) (contentType string, body []byte) {
	if ok {
		return "text/plain; charset=UTF-8", []byte(AckOK)
	}
	return "text/plain; charset=UTF-8", []byte(AckFail)
}
