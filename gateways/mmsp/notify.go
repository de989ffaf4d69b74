package mmsp

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// AckOK is the acknowledgement §10.8 asks for ("打印一个SUCCESS").
const (
	AckOK   = "SUCCESS"
	AckFail = "FAIL"
)

// ParseNotification implements gateways.Notifier for 推送支付结果 (2324,
// §10.8): the signature over Body is verified with the same rules as any
// answer, the merchant must be ours, and the ID is the platform's order
// number with the status, so the resends the platform makes until it sees
// SUCCESS (0, 15, 15, 30, 180, 1800... seconds) dedupe to one.
func (c *Client) ParseNotification(_ http.Header, body []byte) (gateways.Notification, error) {
	const op = "mmsp.ParseNotification"
	m, err := Parse(body, c.key, c.rule)
	if err != nil {
		c.log.Warn("notification refused", "err", err.Error())
		return gateways.Notification{}, pos.E(pos.Invalid, op, err)
	}
	if m.CommandID != CmdNotify {
		return gateways.Notification{}, pos.Errorf(pos.Invalid, op, "CommandID %d is not a payment notification", m.CommandID)
	}
	if m.MerNo != "" && m.MerNo != c.opts.MerchantNo {
		return gateways.Notification{}, pos.Errorf(pos.Invalid, op, "notification for merchant %q", m.MerNo)
	}
	no := m.Str("MERORDERID")
	if no == "" {
		return gateways.Notification{}, pos.E(pos.Invalid, op, errors.New("notification without MERORDERID"))
	}
	platformNo := m.Str("ORDERNO")
	status := m.Str("STATUS")
	res := gateways.Result{
		Status:        gateways.StatusUnknown,
		TransactionID: platformNo,
		Wallet:        tradeTypeWallet[m.Str("TRADETYPE")],
		Code:          status,
		Detail:        fmt.Sprintf("mmsp %d STATUS=%s", CmdNotify, truncateRunes(status, 10)),
	}
	if m.Str("AMT") != "" {
		a, ok := amountOf(m)
		if !ok {
			return gateways.Notification{}, pos.Errorf(pos.Invalid, op, "notification AMT is not an amount")
		}
		res.Amount = a
	}
	// Only successes are pushed (§10.8); anything else is passed on as
	// Unknown so the flows query rather than trust it.
	if status == "1" {
		res.Status = gateways.StatusSucceeded
		res.PaidAt = parseTime(m.Str("PAYTIME"))
	} else {
		res.Reason = fmt.Sprintf("notification with STATUS %q", truncateRunes(status, 10))
	}
	id := platformNo
	if id == "" {
		id = "merorder:" + no
	}
	return gateways.Notification{ID: Kind + ":" + id + ":" + status, OutTradeNo: no, Result: res}, nil
}

// NotificationAck implements gateways.Notifier.
func (c *Client) NotificationAck(ok bool) (string, []byte) {
	if ok {
		return "text/plain; charset=utf-8", []byte(AckOK)
	}
	return "text/plain; charset=utf-8", []byte(AckFail)
}
