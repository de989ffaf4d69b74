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
// sign_type and key, and names an out_trade_no; anything else is a
// pos.Unknown error and the payment is queried instead. One that names
// another mch_id, or lacks a field §6.2.1 requires with a payment
// (out_trade_no, total_fee, mch_id), is a Result.Mismatch: Unknown.
//
// status 0, result_code 0 and pay_result 0 is a payment: Succeeded, with
// OutTradeNo and Amount (total_fee in fee_type) as the notification
// says, for the flows to compare with the journaled order before they
// adopt it: "It's required to verify out_trade_no and total_fee in
// notification received according to the order number and amount of
// order of their own business system" (§6.2.1). Any other pay_result is
// passed on as Unknown, never Failed: the flows query rather than end a
// payment on a push.
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
	v := classify(OpNotification, r)
	e := expect{outTradeNo: no, notification: true}
	if r["result_code"] == "0" {
		v = verdict{outcome: Unknown, code: r["pay_result"],
			reason: msgOr(r["pay_info"], "notification with pay_result "+quoteShort(r["pay_result"]))}
		if r["pay_result"] == "0" {
			v = verdict{outcome: Succeeded, code: "0"}
			e.needOrder, e.needAmount = true, true
		}
	}
	res := c.result("notification", r, v, e)
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
