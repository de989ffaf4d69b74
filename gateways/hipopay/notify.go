package hipopay

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// MaxNotificationBytes bounds a notification body.
const MaxNotificationBytes = 64 << 10

// ParseNotification verifies a payment notification (spec "Payment
// Notification" and the signature verification method) and reads it. The
// body is read as a form ("the returned contents corresponding to form of
// the POST request") or, when it is a JSON object, as AnswerParams reads
// answers; the signed text is its parameters sorted, "," and the Timestamp
// header, checked against the Signature header with the platform key.
// Anything unverifiable, malformed, or meant for another merchant is a
// pos.Unknown error: never trusted, and the payment is queried instead.
//
// The Timestamp of a notification is not checked for age: the platform
// resends for about 50 minutes, and a resend may carry the first
// timestamp; a replayed verified notification only repeats the truth, and
// the ID dedupes it.
//
// The spec notifies only on success (status PAID); only PAID is believed
// (Succeeded), any other status is Unknown and the order is queried.
// The wire has no notification id: ID is payment_no and status, the same
// for every resend.
func (c *Client) ParseNotification(header http.Header, body []byte) (gateways.Notification, error) {
	const op = "hipopay.ParseNotification"
	p, err := notificationParams(body)
	if err != nil {
		return gateways.Notification{}, pos.E(pos.Unknown, op, fmt.Errorf("malformed notification: %w", err))
	}
	ts := header.Get(HeaderTimestamp)
	if err := Verify(c.platform, p.SigningString(ts), header.Get(HeaderSignature)); err != nil {
		return gateways.Notification{}, pos.E(pos.Unknown, op, fmt.Errorf("notification not trusted: %w", err))
	}
	if m := header.Get(HeaderMerchantNO); m != "" && m != c.opts.MerchantNO {
		return gateways.Notification{}, pos.Errorf(pos.Unknown, op, "notification for merchant %q, not ours", m)
	}
	if p["out_trade_id"] == "" {
		return gateways.Notification{}, pos.Errorf(pos.Unknown, op, "notification names no out_trade_id")
	}
	res, err := paymentResult(p)
	if err != nil {
		return gateways.Notification{}, pos.E(pos.Unknown, op, err)
	}
	res.Detail = "hipopay notification status=" + res.Code
	if res.Status = NotificationStatus(p["status"]); res.Status != gateways.StatusSucceeded {
		// "it is notified only when payment is successful": any other
		// status is not believed from a notification (review H5); the
		// order is queried instead.
		res.Status = gateways.StatusUnknown
		res.Reason = "notification with status " + p["status"] + ": only PAID is believed; query the order"
	}
	return gateways.Notification{
		ID:         "hipopay:" + p["payment_no"] + ":" + p["status"],
		OutTradeNo: p["out_trade_id"],
		Result:     res,
	}, nil
}

func notificationParams(body []byte) (Params, error) {
	switch {
	case len(body) == 0:
		return nil, errors.New("empty body")
	case len(body) > MaxNotificationBytes:
		return nil, fmt.Errorf("body larger than %d bytes", MaxNotificationBytes)
	case firstByte(body) == '{':
		return AnswerParams(body)
	}
	return FormParams(body)
}

// NotificationAck is the answer the platform waits for: "success" ("If
// the successful response ('success') is not received, HipoPay will send
// the request for another 10 times"); anything else makes it resend, and
// "fail" says so plainly.
func (c *Client) NotificationAck(ok bool) (contentType string, body []byte) {
	if ok {
		return "text/plain; charset=UTF-8", []byte("success")
	}
	return "text/plain; charset=UTF-8", []byte("fail")
}
