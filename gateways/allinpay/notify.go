package allinpay

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// ParseNotification verifies an asynchronous notification (§1.5.2.6) with
// the platform key and reads it by its transType. Anything unverifiable or
// malformed is a pos.Unknown error: never trusted, and the payment is
// queried instead.
//
// Every request that carries notifyUrl may be notified: payments
// (*_MICROPAY, *_SCANCODE), refunds (*_RETURN), voids (*_CANCEL) and closes
// (CLOSE_ORDER, all of which carry a mandatory notifyUrl):
//
//   - a payment's: Result as a query's answer would be (resultCode read by
//     the query table), OutTradeNo, Amount (transAmount and currency) and
//     TransactionID filled; no resultCode is Unknown, not paid;
//   - a refund's: Result.OutRefundNo is its outTransNo, RefundAmount its
//     transAmount, RefundID its transNo, Status by the refund query table;
//     OutTradeNo is oriOutTransNo when the platform sends one (the table
//     has none);
//   - a void's or close's: OutTradeNo is the order it was about (the
//     number actNo gave it names the order, or the platform echoes the
//     original), and Status is Unknown: it is acknowledged, and the order
//     is read by query rather than from the notification; a void's
//     outTransNo that actNo did not make is also OutRefundNo (the void of
//     a sale is numbered by its refund record, gateways.Voider);
//   - any other transType: Unknown, for the order it names.
//
// One for another merchant is not refused (the platform would resend it
// forever): it comes back with Result.Mismatch set and Status Unknown.
//
// The wire has no notification id. ID is derived from what identifies the
// event, transType, outTransNo, transNo and resultCode, so a resent
// notification (the platform retries until it reads SUCCESS) has the same ID.
func (c *Client) ParseNotification(header http.Header, body []byte) (gateways.Notification, error) {
	const op = "allinpay.ParseNotification"
	r, fields, err := c.verifyFields(body)
	if err != nil {
		return gateways.Notification{}, pos.E(pos.Unknown, op, err)
	}
	if r.OutTransNo == "" {
		return gateways.Notification{}, pos.Errorf(pos.Unknown, op, "notification names no outTransNo")
	}
	if r.ReturnCode == "" {
		// Notifications have no returnCode (§1.5.2.6): the resultCode is
		// the whole answer.
		r.ReturnCode = codeOK
	}
	n := gateways.Notification{
		ID:         fmt.Sprintf("allinpay:%s:%s:%s:%s", r.TransType, r.OutTransNo, r.TransNo, r.ResultCode),
		OutTradeNo: r.OutTransNo,
	}
	tt := r.TransType
	switch {
	case strings.HasSuffix(tt, "_MICROPAY"), strings.HasSuffix(tt, "_SCANCODE"):
		res := c.result(tt, r, classify(opQuery, r))
		if res.Wallet == "" {
			res.Wallet = walletOf(tt)
		}
		res.OutTradeNo = r.OutTransNo
		n.Result = res
	case strings.HasSuffix(tt, "_RETURN"):
		res := c.result(tt, r, classify(opRefundQuery, r))
		res.RefundID, res.TransactionID = res.TransactionID, ""
		res.RefundAmount, res.Amount = res.Amount, pos.Money{}
		res.OutRefundNo = r.OutTransNo
		res.OutTradeNo = fields["oriOutTransNo"]
		n.OutTradeNo = res.OutTradeNo
		n.Result = res
	case strings.HasSuffix(tt, "_CANCEL"), tt == "CLOSE_ORDER":
		orig := fields["oriOutTransNo"]
		var own string
		if orig == "" {
			if o, ok := originalOf(r.OutTransNo); ok {
				orig = o
			} else {
				// The platform echoed the original, or (the void of a
				// sale, gateways.Voider) named the void by the number
				// the till gave it: its refund record's.
				orig, own = r.OutTransNo, r.OutTransNo
			}
		}
		res := c.result(tt, r, verdict{status: gateways.StatusUnknown, code: r.ResultCode, reason: "void or close notification: the order is read by query"})
		res.TransactionID, res.Amount = "", pos.Money{}
		res.OutTradeNo = orig
		if strings.HasSuffix(tt, "_CANCEL") {
			res.OutRefundNo = own
		}
		n.OutTradeNo = orig
		n.Result = res
	default:
		res := c.result(tt, r, verdict{status: gateways.StatusUnknown, code: r.ResultCode, reason: fmt.Sprintf("notification of transType %q: the order is read by query", tt)})
		res.OutTradeNo = r.OutTransNo
		n.Result = res
	}
	if r.MchNo != "" && r.MchNo != c.opts.MchNo {
		why := fmt.Sprintf("notification for merchant %q, not %q", r.MchNo, c.opts.MchNo)
		c.log.Error("allinpayMismatch", "op", op, "mismatch", why)
		n.Result.Mismatch, n.Result.Status = why, gateways.StatusUnknown
		n.Result.Reason = "not ours: " + why
	}
	n.Result.Detail = "notification: " + n.Result.Detail
	return n, nil
}

// NotificationAck is the answer the platform waits for: "SUCCESS" once the
// notification is verified and journaled (§1.5.2.6); anything else makes
// it resend, and "FAIL" says so plainly.
func (c *Client) NotificationAck(ok bool) (contentType string, body []byte) {
	if ok {
		return "text/plain; charset=UTF-8", []byte("SUCCESS")
	}
	return "text/plain; charset=UTF-8", []byte("FAIL")
}
