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
// SUCCESS (0, 15, 15, 30, 180, 1800... seconds) dedupe to one. Result names
// the order (OutTradeNo) and its amount; another merchant or terminal is
// Result.Mismatch with StatusUnknown.
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
	no := m.Str("MERORDERID")
	if no == "" {
		return gateways.Notification{}, pos.E(pos.Invalid, op, errors.New("notification without MERORDERID"))
	}
	platformNo := m.Str("ORDERNO")
	status := m.Str("STATUS")
	res := gateways.Result{
		Status:        gateways.StatusUnknown,
		TransactionID: platformNo,
		OutTradeNo:    no,
		Wallet:        tradeTypeWallet[m.Str("TRADETYPE")],
		Code:          status,
		Detail:        fmt.Sprintf("mmsp %d STATUS=%s", CmdNotify, truncateRunes(status, 10)),
	}
	// §10.8: AMT 必须. The flows compare it with the journaled amount.
	a, ok := amountOf(m)
	if !ok {
		return gateways.Notification{}, pos.Errorf(pos.Invalid, op, "notification without a valid AMT")
	}
	res.Amount = a
	// Signed with our key, but for another merchant or terminal (an agency
	// key signs for several): never adopted, the flows alert and query.
	if m.MerNo != c.opts.MerchantNo || m.TermNo != c.opts.TerminalNo {
		res.Mismatch = fmt.Sprintf("notification for merchant %q terminal %q, not ours", truncateRunes(m.MerNo, 20), truncateRunes(m.TermNo, 20))
		res.Reason = res.Mismatch
	} else if row, ok := lookup(OpNotify, "STATUS "+status); ok {
		// Only successes are pushed (§10.8); anything else is passed on
		// as Unknown so the flows query rather than trust it.
		res.Status = row.Status
		res.PaidAt = parseTime(m.Str("PAYTIME"))
	} else {
		res.Reason = fmt.Sprintf("notification with unlisted STATUS %q", truncateRunes(status, 10))
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
