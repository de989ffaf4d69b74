package mmsp

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

func detail(cmd int, m Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "mmsp %d->%d RetCode=%d", cmd, m.CommandID, m.RetCode)
	if m.CommandID == CmdNegative {
		fmt.Fprintf(&b, " ErrorMsg=%q", truncateRunes(m.ErrorMsg, 60))
		return b.String()
	}
	for _, k := range []string{"STATUS", "ERR_CODE"} {
		if v := m.Str(k); v != "" {
			fmt.Fprintf(&b, " %s=%s", k, truncateRunes(v, 20))
		}
	}
	return b.String()
}

// negative maps the unified negative answer by its outcome table row: by
// its sub-code when ErrorMsg carries one, else by RetCode. It is unsigned
// (§3.1), so only rows that prove the request was refused unread are
// Failed, and only for calls where that means nothing moved.
func negative(op Operation, name string, cmd int, m Message) (gateways.Result, error) {
	code := negativeCode(m)
	res := gateways.Result{Status: gateways.StatusUnknown, Code: strconv.Itoa(m.RetCode), Reason: m.ErrorMsg, Detail: detail(cmd, m)}
	if sub := SubCode(m.ErrorMsg); sub != 0 {
		res.Code = strconv.Itoa(sub)
	}
	if res.Reason == "" {
		res.Reason = fmt.Sprintf("negative answer RetCode %d", m.RetCode)
	}
	row, ok := lookup(op, code)
	if !ok {
		res.Reason = "unlisted negative answer, outcome unknown: " + res.Reason
		return res, nil
	}
	if row.NotFound {
		return res, pos.E(pos.NotFound, name, fmt.Errorf("the platform has no such order: %s", res.Reason))
	}
	res.Status = row.Status
	if code == "32768 [-1008]" {
		res.Reason = "order number already used; query it: " + res.Reason
	}
	return res, nil
}

// statusFromRows is the outcome of a typed answer's Body: its STATUS row,
// checked against ERR_CODE where §11 lists the code (ERR_CODE 00 goes with
// STATUS 1, AA with 3, D4 with 2; a contradiction is not understood).
func statusFromRows(op Operation, m Message) (gateways.Status, string) {
	status := m.Str("STATUS")
	row, ok := lookup(op, "STATUS "+status)
	if !ok {
		return gateways.StatusUnknown, fmt.Sprintf("unlisted STATUS %q, outcome unknown", truncateRunes(status, 10))
	}
	if want, listed := errCodeStatus[m.Str("ERR_CODE")]; listed && want != status {
		return gateways.StatusUnknown, fmt.Sprintf("ERR_CODE %s contradicts STATUS %s", m.Str("ERR_CODE"), truncateRunes(status, 10))
	}
	return row.Status, ""
}

// errCodeStatus is the STATUS each of §11's body error codes goes with.
var errCodeStatus = map[string]string{"00": "1", "AA": "3", "D4": "2"}

// unknown builds an Unknown result for an answer that cannot be trusted or
// understood; mismatch, when set, is the Result.Mismatch alert.
func unknown(cmd int, m Message, reason, mismatch string) gateways.Result {
	return gateways.Result{Status: gateways.StatusUnknown, Code: m.Str("STATUS"), Reason: reason, Mismatch: mismatch, Detail: detail(cmd, m)}
}

// header checks what every typed answer must carry (§3.1 消息头格式):
// RetCode (应答包必须带有该字段) with a value §11 lists, and our merchant and
// terminal. ok is false with the Unknown result to return otherwise.
func (c *Client) header(op Operation, cmd int, m Message) (gateways.Result, bool) {
	if !m.Answer {
		return unknown(cmd, m, "answer without RetCode (应答包必须带有该字段)", ""), false
	}
	row, ok := lookup(op, "RetCode "+strconv.Itoa(m.RetCode))
	if !ok || !row.ReadBody {
		res := unknown(cmd, m, fmt.Sprintf("unlisted RetCode %d %s", m.RetCode, truncateRunes(m.ErrorMsg, 60)), "")
		res.Code = strconv.Itoa(m.RetCode)
		return res, false
	}
	if m.MerNo == "" || m.TermNo == "" {
		return unknown(cmd, m, "answer without MERNO or TERMNO", ""), false
	}
	if m.MerNo != c.opts.MerchantNo || m.TermNo != c.opts.TerminalNo {
		mm := fmt.Sprintf("answer for merchant %q terminal %q, not ours", truncateRunes(m.MerNo, 20), truncateRunes(m.TermNo, 20))
		return unknown(cmd, m, mm, mm), false
	}
	return gateways.Result{}, true
}

// orderNamed checks the answer's MERORDERID: present (必须) and ours.
func orderNamed(cmd int, m Message, ours string) (gateways.Result, bool) {
	got := m.Str("MERORDERID")
	if got == "" {
		return unknown(cmd, m, "answer without MERORDERID", ""), false
	}
	if got != ours {
		mm := fmt.Sprintf("answer for order %q, not %q", truncateRunes(got, 24), ours)
		res := unknown(cmd, m, mm, mm)
		res.OutTradeNo = got
		return res, false
	}
	return gateways.Result{}, true
}

// tradeTypeWallet is TRADETYPE of query answers and notifications.
var tradeTypeWallet = map[string]pos.Wallet{"1": pos.WeChatPay, "2": pos.Alipay, "3": pos.QQWallet}

func parseTime(s string) time.Time {
	t, err := time.ParseInLocation(TimeLayout, s, cst)
	if err != nil {
		return time.Time{}
	}
	return t
}

// amountOf reads AMT (fen, string or number) as CNY; ok is false when it is
// absent or not a positive integer.
func amountOf(m Message) (pos.Money, bool) {
	s := m.Str("AMT")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > pos.MaxMinor {
		return pos.Money{}, false
	}
	return pos.Money{Minor: n, Currency: "CNY"}, true
}

// payResult maps the answer to a payment submit, QR create or query: the
// unified negative answer by its table; else the header, the order named,
// the amount (required on 2310), then STATUS by the operation's table.
func (c *Client) payResult(op Operation, name string, cmd int, m Message, ourNo string, w pos.Wallet, amount pos.Money) (gateways.Result, error) {
	if m.CommandID == CmdNegative {
		return negative(op, name, cmd, m)
	}
	if res, ok := c.header(op, cmd, m); !ok {
		return res, nil
	}
	if res, ok := orderNamed(cmd, m, ourNo); !ok {
		return res, nil
	}
	res := gateways.Result{
		TransactionID: m.Str("ORDERNO"),
		OutTradeNo:    m.Str("MERORDERID"),
		Wallet:        w,
		Code:          m.Str("ERR_CODE"),
		Detail:        detail(cmd, m),
	}
	if tw, ok := tradeTypeWallet[m.Str("TRADETYPE")]; ok && op == OpQuery {
		res.Wallet = tw
	}
	got, haveAmt := amountOf(m)
	switch {
	case haveAmt:
		res.Amount = got
		if amount.Minor != 0 && got.Minor != amount.Minor {
			mm := fmt.Sprintf("answer amount %d fen differs from the order's %d", got.Minor, amount.Minor)
			res.Status, res.Reason, res.Mismatch = gateways.StatusUnknown, mm, mm
			return res, nil
		}
	case m.Str("AMT") != "" || op == OpQuery:
		// §10.3.2: AMT 必须. Without it the answer cannot be checked
		// against the order.
		res.Status, res.Reason = gateways.StatusUnknown, "query answer without a valid AMT"
		return res, nil
	}
	status := m.Str("STATUS")
	if res.Code == "" {
		res.Code = status
	}
	var why string
	res.Status, why = statusFromRows(op, m)
	msg := m.Str("ERR_CODE_MSG")
	switch res.Status {
	case gateways.StatusUnknown:
		res.Reason = why
	case gateways.StatusSucceeded:
		res.PaidAt = parseTime(m.Str("PAYTIME"))
		if res.PaidAt.IsZero() {
			res.PaidAt = parseTime(m.Str("TRADETIME"))
		}
	case gateways.StatusFailed:
		res.Reason = msg
		if res.Reason == "" {
			res.Reason = "refused by the platform (STATUS=2"
			if code := m.Str("ERR_CODE"); code != "" {
				res.Reason += " ERR_CODE=" + truncateRunes(code, 20)
			}
			res.Reason += ")"
		}
	case gateways.StatusUserPaying:
		res.Reason = msg
	}
	return res, nil
}

// cancelResult maps the answer to 撤销 (2311) and 关闭 (2314): STATUS 1 done,
// 2 refused with a reason.
func (c *Client) cancelResult(op Operation, name string, cmd int, m Message, ourNo string) (gateways.Result, error) {
	if m.CommandID == CmdNegative {
		return negative(op, name, cmd, m)
	}
	if res, ok := c.header(op, cmd, m); !ok {
		return res, nil
	}
	if res, ok := orderNamed(cmd, m, ourNo); !ok {
		return res, nil
	}
	res := gateways.Result{
		TransactionID: m.Str("ORDERNO"),
		OutTradeNo:    m.Str("MERORDERID"),
		Code:          m.Str("ERR_CODE"),
		Detail:        detail(cmd, m),
	}
	if a, ok := amountOf(m); ok {
		res.Amount = a
	}
	if res.Code == "" {
		res.Code = m.Str("STATUS")
	}
	var why string
	res.Status, why = statusFromRows(op, m)
	switch res.Status {
	case gateways.StatusUnknown:
		res.Reason = why
	case gateways.StatusFailed:
		res.Reason = m.Str("ERR_CODE_MSG")
		if res.Reason == "" {
			res.Reason = "refused by the platform (STATUS=2)"
		}
	}
	return res, nil
}

// refundResult maps the answer to 退款 (2312) and 退款查询 (2313). STATUS 1
// is 受理成功 (accepted) in both: Processing, except that a 2313 answer whose
// REFUND_TIME is older than Options.RefundSettle is taken as final.
func (c *Client) refundResult(op Operation, name string, cmd int, m Message, req gateways.RefundRequest) (gateways.Result, error) {
	if m.CommandID == CmdNegative {
		return negative(op, name, cmd, m)
	}
	if res, ok := c.header(op, cmd, m); !ok {
		return res, nil
	}
	got := m.Str("REFUND_MERORDERID")
	if got == "" {
		return unknown(cmd, m, "answer without REFUND_MERORDERID", ""), nil
	}
	res := gateways.Result{
		RefundID:    m.Str("REFUND_ORDERNO"),
		OutRefundNo: got,
		Code:        m.Str("ERR_CODE"),
		Detail:      detail(cmd, m),
	}
	if got != req.OutRefundNo {
		mm := fmt.Sprintf("answer for refund %q, not %q", truncateRunes(got, 24), req.OutRefundNo)
		res.Status, res.Reason, res.Mismatch = gateways.StatusUnknown, mm, mm
		return res, nil
	}
	if a, ok := amountOf(m); ok {
		res.RefundAmount = a
		if req.Amount.Minor != 0 && a.Minor != req.Amount.Minor {
			mm := fmt.Sprintf("answer refund amount %d fen differs from the refund's %d", a.Minor, req.Amount.Minor)
			res.Status, res.Reason, res.Mismatch = gateways.StatusUnknown, mm, mm
			return res, nil
		}
	}
	if res.Code == "" {
		res.Code = m.Str("STATUS")
	}
	var why string
	res.Status, why = statusFromRows(op, m)
	switch res.Status {
	case gateways.StatusUnknown:
		res.Reason = why
	case gateways.StatusFailed:
		res.Reason = m.Str("ERR_CODE_MSG")
		if res.Reason == "" {
			res.Reason = "refund refused by the platform (STATUS=2)"
		}
	case gateways.StatusUserPaying:
		res.Reason = "受理成功: accepted by the platform, not yet final"
		if op == OpRefundQuery {
			at := parseTime(m.Str("REFUND_TIME"))
			if !at.IsZero() && !c.now().Before(at.Add(c.opts.RefundSettle)) {
				res.Status, res.Reason = gateways.StatusSucceeded, ""
			}
		}
	}
	return res, nil
}
