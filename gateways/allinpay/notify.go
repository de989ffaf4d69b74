package allinpay

import (
	"fmt"
	"net/http"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// ParseNotification verifies an asynchronous notification (§1.5.2.6) with
// the platform key and reads it. Anything unverifiable, malformed or meant
// for another merchant is a pos.Unknown error: never trusted, and the
// payment is queried instead.
//
// The notification carries no returnCode; its resultCode is read as a
// query's answer would be. A notification without resultCode is Unknown:
// the spec says notifications follow success, but a status nobody stated is
// not taken as paid.
//
// The wire has no notification id. ID is derived from what identifies the
// event, outTransNo, transNo and resultCode, so a resent notification
// (the platform retries until it reads SUCCESS) has the same ID.
func (c *Client) ParseNotification(header http.Header, body []byte) (gateways.Notification, error) {
	const op = "allinpay.ParseNotification"
	r, err := c.verify(body)
	if err != nil {
		return gateways.Notification{}, pos.E(pos.Unknown, op, err)
	}
	if r.MchNo != "" && r.MchNo != c.opts.MchNo {
		return gateways.Notification{}, pos.Errorf(pos.Unknown, op, "notification for merchant %q, not ours", r.MchNo)
	}
	if r.OutTransNo == "" {
		return gateways.Notification{}, pos.Errorf(pos.Unknown, op, "notification names no outTransNo")
	}
	if r.ReturnCode == "" {
		r.ReturnCode = codeOK
	}
	res := c.result(r.TransType, r, classify(classQuery, r))
	res.Detail = "notification: " + res.Detail
	return gateways.Notification{
		ID:         fmt.Sprintf("allinpay:%s:%s:%s", r.OutTransNo, r.TransNo, r.ResultCode),
		OutTradeNo: r.OutTransNo,
		Result:     res,
	}, nil
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
