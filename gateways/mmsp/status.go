package mmsp

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// Negative answers (CommandID 32768). The scan-code spec lists RetCode 1
// (成功) and 0 (消息结构体错误) only; its example carries 39999 (支付失败) and
// the quick-pay example puts a sub-code in ErrorMsg ("[-2002] 没有该订单").
// The codes below are the ones the document shows anywhere; any other is
// mapped to StatusUnknown.
const (
	RetOK             = 1     // 成功
	RetStructure      = 0     // 消息结构体错误: the message was refused unread
	RetSignature      = 1006  // 签名错误 (the 代付 table's code; the simulator uses it)
	RetDuplicate      = 1008  // 流水号重复 (the 代付 table's code; never a refusal: the first may be paid)
	RetPayFailed      = 39999 // 支付失败 (§3.1 example)
	SubNoOrder        = -2002 // [-2002] 没有该订单
	SubAmountMismatch = -3005 // [-3005] 交易金额不符 (FAQ)
)

var subCodeRE = regexp.MustCompile(`^\s*\[(-?\d+)\]`)

// SubCode extracts the "[-2002]" code at the start of a negative answer's
// ErrorMsg; 0 when there is none.
func SubCode(errorMsg string) int {
	m := subCodeRE.FindStringSubmatch(errorMsg)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

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

// negative maps the unified negative answer. Only refusals that mean "the
// request was not processed" become StatusFailed, and only for submits and
// refunds, where Failed means nothing moved; a query, reverse or close that
// is refused stays Unknown so the flows try again.
func negative(op string, cmd int, m Message, submit bool) (gateways.Result, error) {
	res := gateways.Result{Status: gateways.StatusUnknown, Code: strconv.Itoa(m.RetCode), Reason: m.ErrorMsg, Detail: detail(cmd, m)}
	if res.Reason == "" {
		res.Reason = fmt.Sprintf("negative answer RetCode %d", m.RetCode)
	}
	sub := SubCode(m.ErrorMsg)
	if sub != 0 {
		res.Code = strconv.Itoa(sub)
	}
	switch {
	case sub == SubNoOrder && !submit:
		return res, pos.E(pos.NotFound, op, fmt.Errorf("the platform has no such order: %s", res.Reason))
	case m.RetCode == RetDuplicate || sub == -RetDuplicate:
		res.Reason = "order number already used; query it: " + res.Reason
	case submit && (m.RetCode == RetStructure || m.RetCode == RetSignature || m.RetCode == RetPayFailed || sub == SubAmountMismatch):
		res.Status = gateways.StatusFailed
	}
	return res, nil
}

// checkRet handles a typed answer's RetCode: 1 is success as §11 says; 0 is
// accepted too, because the scan-code section's own success example carries
// it on a signed answer with the matching CommandID (a real structure error
// comes as the negative answer). Anything else is not understood.
func checkRet(op string, cmd int, m Message) (gateways.Result, bool) {
	if m.RetCode == RetOK || m.RetCode == RetStructure {
		return gateways.Result{}, true
	}
	return gateways.Result{Status: gateways.StatusUnknown, Code: strconv.Itoa(m.RetCode), Reason: "unexpected RetCode " + strconv.Itoa(m.RetCode) + " " + m.ErrorMsg, Detail: detail(cmd, m)}, false
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

// payResult maps the answer to a payment submit or query: RetCode, then
// STATUS (1 paid, 2 failed, 3 paying), then ERR_CODE. An answer whose AMT
// contradicts the order is not trusted.
func (c *Client) payResult(op string, cmd int, m Message, w pos.Wallet, amount pos.Money) (gateways.Result, error) {
	submit := cmd != CmdQuery
	if m.CommandID == CmdNegative {
		return negative(op, cmd, m, submit)
	}
	if res, ok := checkRet(op, cmd, m); !ok {
		return res, nil
	}
	res := gateways.Result{
		TransactionID: m.Str("ORDERNO"),
		Wallet:        w,
		Code:          m.Str("ERR_CODE"),
		Detail:        detail(cmd, m),
	}
	if tw, ok := tradeTypeWallet[m.Str("TRADETYPE")]; ok && cmd == CmdQuery {
		res.Wallet = tw
	}
	if got, ok := amountOf(m); ok {
		if amount.Minor != 0 && got.Minor != amount.Minor {
			return gateways.Result{}, pos.Errorf(pos.Unknown, op, "answer amount %d fen differs from the order's %d", got.Minor, amount.Minor)
		}
		res.Amount = got
	}
	status := m.Str("STATUS")
	if res.Code == "" {
		res.Code = status
	}
	msg := m.Str("ERR_CODE_MSG")
	switch status {
	case "1":
		res.Status = gateways.StatusSucceeded
		res.PaidAt = parseTime(m.Str("PAYTIME"))
		if res.PaidAt.IsZero() {
			res.PaidAt = parseTime(m.Str("TRADETIME"))
		}
	case "2":
		res.Status = gateways.StatusFailed
		res.Reason = msg
		if res.Reason == "" {
			res.Reason = "refused by the platform (STATUS=2"
			if code := m.Str("ERR_CODE"); code != "" {
				res.Reason += " ERR_CODE=" + code
			}
			res.Reason += ")"
		}
	case "3":
		res.Status = gateways.StatusUserPaying
		res.Reason = msg
	default:
		res.Status = gateways.StatusUnknown
		res.Reason = fmt.Sprintf("unrecognised STATUS %q", truncateRunes(status, 10))
	}
	return res, nil
}

// doneResult maps the answer to reverse, close, refund and refund query:
// STATUS 1 done (撤单成功, 关闭订单成功, 受理成功), 2 refused with a reason.
// A refund the platform has accepted (受理成功) is reported Succeeded: the
// spec has no later refund state to wait for.
func (c *Client) doneResult(op string, cmd int, m Message, outRefundNo string) (gateways.Result, error) {
	if m.CommandID == CmdNegative {
		return negative(op, cmd, m, cmd == CmdRefund)
	}
	if res, ok := checkRet(op, cmd, m); !ok {
		return res, nil
	}
	if outRefundNo != "" {
		if got := m.Str("REFUND_MERORDERID"); got != "" && got != outRefundNo {
			return gateways.Result{}, pos.Errorf(pos.Unknown, op, "answer is for refund %q, not %q", got, outRefundNo)
		}
	}
	res := gateways.Result{
		TransactionID: m.Str("ORDERNO"),
		RefundID:      m.Str("REFUND_ORDERNO"),
		Code:          m.Str("ERR_CODE"),
		Detail:        detail(cmd, m),
	}
	if a, ok := amountOf(m); ok {
		res.Amount = a
	}
	status := m.Str("STATUS")
	if res.Code == "" {
		res.Code = status
	}
	switch status {
	case "1":
		res.Status = gateways.StatusSucceeded
	case "2":
		res.Status = gateways.StatusFailed
		res.Reason = m.Str("ERR_CODE_MSG")
		if res.Reason == "" {
			res.Reason = "refused by the platform (STATUS=2)"
		}
	default:
		res.Status = gateways.StatusUnknown
		res.Reason = fmt.Sprintf("unrecognised STATUS %q", truncateRunes(status, 10))
	}
	return res, nil
}
