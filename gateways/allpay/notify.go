package allpay

import (
	"fmt"
	"net/http"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// Acknowledgements (§4.2.3): the platform resends until it reads "OK".
const (
	AckOK   = "OK"
	AckFail = "FAIL"
)

// ParseNotification verifies a payment notification POSTed to backURL
// (§4.2.3, JSON; a form body is read too) with the merchant key and
// signType. Unverifiable, malformed, or not a PURC notification: a
// pos.Unknown error, never trusted; the payment is queried instead. Its
// outcome comes from notificationTable: only RespCode 00 is read as paid;
// any other code is Unknown, so the flows query rather than end a QR
// order the customer may still pay. Result names what the notification
// is about (OutTradeNo, Amount in orderCurrency) for the flows to compare
// with the journal; one for another merchant or in another currency than
// the merchant's is Unknown with Result.Mismatch, never adopted. The wire
// has no notification id: ID is "allpay:" + orderNum + ":" + transID +
// ":" + RespCode, the same for every resend (15 s, 15 s, 30 s, 3 min, …
// until "OK").
func (c *Client) ParseNotification(_ http.Header, body []byte) (gateways.Notification, error) {
	const op = "allpay.ParseNotification"
	f, err := c.verify(body, false)
	if err != nil {
		c.log.Warn("notification refused", "err", err.Error())
		return gateways.Notification{}, pos.E(pos.Unknown, op, err)
	}
	if f["transType"] != TransPurchase {
		return gateways.Notification{}, pos.Errorf(pos.Unknown, op, "transType %q is not a payment notification", truncateBytes(f["transType"], 10))
	}
	no := f["orderNum"]
	if no == "" || checkField("orderNum", no) != nil {
		return gateways.Notification{}, pos.Errorf(pos.Unknown, op, "notification has no valid orderNum")
	}
	code := f["RespCode"]
	v := classify(classNotification, code, true)
	res := gateways.Result{
		Status:        v.status,
		TransactionID: f["transID"],
		Wallet:        WalletOf(f["paymentSchema"]),
		Code:          code,
		OutTradeNo:    no,
		Detail:        fmt.Sprintf("allpay notification PURC RespCode=%s", truncateBytes(code, 8)),
	}
	if v.status != gateways.StatusSucceeded {
		res.Reason = fmt.Sprintf("notification with RespCode %q (%s): %s", truncateBytes(code, 8), truncateBytes(clean(f["RespMsg"]), 60), v.section)
	}
	switch amt, ok, err := c.amountOf(f, "orderAmount"); {
	case err != nil:
		return gateways.Notification{}, pos.Errorf(pos.Unknown, op, "notification orderAmount: %v", err)
	case !ok:
		res.Mismatch = "notification without orderAmount"
	default:
		res.Amount = amt
	}
	if cur := f["orderCurrency"]; cur != c.opts.Currency {
		res.Mismatch = fmt.Sprintf("notification in currency %q, the merchant's is %s", truncateBytes(cur, 4), c.opts.Currency)
	}
	if f["merID"] != c.opts.MerID {
		res.Mismatch = fmt.Sprintf("notification for merchant %q, not ours", truncateBytes(f["merID"], 20))
	}
	if res.Mismatch != "" {
		c.log.Error("notification about something else", "orderNum", no, "mismatch", res.Mismatch)
		res.Status, res.Reason = gateways.StatusUnknown, res.Mismatch
	}
	return gateways.Notification{
		ID:         fmt.Sprintf("%s:%s:%s:%s", Kind, no, f["transID"], code),
		OutTradeNo: no,
		Result:     res,
	}, nil
}

// NotificationAck is "OK" after a verified, journaled notification;
// "FAIL" otherwise, so the platform resends.
func (c *Client) NotificationAck(ok bool) (contentType string, body []byte) {
	if ok {
		return "text/plain; charset=UTF-8", []byte(AckOK)
	}
	return "text/plain; charset=UTF-8", []byte(AckFail)
}
