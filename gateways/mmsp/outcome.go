package mmsp

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/posagent/posagent/gateways"
)

// Operation names one operation of the adapter for its outcome tables.
type Operation string

// The operations, with the commands each covers.
const (
	OpPay         Operation = "pay"          // 2307, 2309, 776 刷卡支付
	OpQRCreate    Operation = "qr_create"    // 2306, 2308, 2325, 1025, 1026, 1027, 1031 正扫下预订单
	OpQuery       Operation = "query"        // 2310 查询订单
	OpReverse     Operation = "reverse"      // 2311 撤销订单
	OpRefund      Operation = "refund"       // 2312 退款
	OpRefundQuery Operation = "refund_query" // 2313 退款查询订单
	OpClose       Operation = "close"        // 2314 关闭订单
	OpNotify      Operation = "notify"       // 2324 推送支付结果
)

// Outcome is one row of an operation's outcome table: a code the spec
// lists, what it means for the money, and where the spec says so.
//
// Code is written the way the answer carries it:
//   - "RetCode N": the header RetCode of a signed, typed answer;
//   - "STATUS N": the Body's STATUS of a typed answer;
//   - "ERR_CODE X": the Body's ERR_CODE (§11's 包体错误码列表);
//   - "32768 RetCode N": the unified negative answer without a sub-code;
//   - "32768 [-N]": the unified negative answer whose ErrorMsg starts with
//     the sub-code [-N] (it is read by its sub-code, whatever its RetCode).
type Outcome struct {
	Code string
	// Status is the outcome. For "RetCode" rows it is unused: ReadBody says
	// the Body decides.
	Status gateways.Status
	// ReadBody: the header code says "processed, read the Body".
	ReadBody bool
	// NotFound: the answer says the platform has no such order (the
	// operation returns a pos.NotFound error for the flows to weigh).
	NotFound bool
	// Section is where the spec lists the code; Says is the spec's words
	// and, where the outcome is a decision rather than the spec's word, why.
	Section string
	Says    string
}

// Negative-answer codes. The scan-code part lists RetCode 1 (成功) and 0
// (消息结构体错误) in §11 and shows 39999 (支付失败) in §3.1's example; the
// same document shows the sub-code form "[-2002] 没有该订单" (快捷 §3.1
// example), "[-3005] 交易金额不符" (常见问题), and the platform's numbered
// refusals in the 代付 §6.2 返回码 table.
const (
	RetOK             = 1     // 成功 (§11)
	RetStructure      = 0     // 消息结构体错误 (§11); also the generic negative code (快捷 §3.1 example)
	RetPayFailed      = 39999 // 支付失败 (§3.1 错误响应报文示例)
	SubParam          = -1001 // 参数错误 (代付 §6.2)
	SubMerchant       = -1002 // 不存在此商户或商户未激活 (代付 §6.2)
	SubSignature      = -1006 // 签名错误 (代付 §6.2)
	SubVersion        = -1007 // 版本号错误 (代付 §6.2)
	SubDuplicate      = -1008 // 流水号重复 (代付 §6.2)
	SubNoOrder        = -2002 // 没有该订单 (快捷 §3.1 example)
	SubAmountMismatch = -3005 // 交易金额不符 (常见问题 错误代码说明)
)

const (
	secHeader   = "扫码 §11 包头响应码列表"
	secExample  = "扫码 §3.1 成功响应报文示例"
	secNegEx    = "扫码 §3.1 错误响应报文示例(不需要签名)"
	secBody     = "扫码 §11 包体错误码列表"
	secDaifu    = "代付 §6.2 返回码 (the same platform's code list; [-N] is code N)"
	secFAQ      = "常见问题 错误代码说明"
	secQuickNeg = "快捷 §3.1 错误响应报文示例"
)

// headerRows are the typed answer's RetCode rows, common to every answer.
var headerRows = []Outcome{
	{Code: "RetCode 1", ReadBody: true, Section: secHeader, Says: "成功 处理成功: 请处理业务响应部分"},
	{Code: "RetCode 0", ReadBody: true, Section: secExample, Says: "the success example carries RetCode 0 on a signed typed answer; a real structure error comes as 32768"},
}

// errCodeRows are §11's body error codes. They refine STATUS: an ERR_CODE
// that contradicts STATUS makes the answer Unknown.
var errCodeRows = []Outcome{
	{Code: "ERR_CODE 00", Status: gateways.StatusSucceeded, Section: secBody, Says: "交易成功"},
	{Code: "ERR_CODE AA", Status: gateways.StatusUserPaying, Section: secBody, Says: "用户支付中: 请继续发起查询订单"},
	{Code: "ERR_CODE D4", Status: gateways.StatusFailed, Section: secBody, Says: "订单已关闭"},
}

// refusedUnread are the negative answers that prove the message was
// refused by the platform's own checks before any processing: a request
// whose signature, parameters, merchant, version or amount is refused
// cannot have been passed to a wallet.
func refusedUnread(status gateways.Status) []Outcome {
	return []Outcome{
		{Code: "32768 [-1001]", Status: status, Section: secDaifu, Says: "参数错误: refused by the parameter check"},
		{Code: "32768 [-1002]", Status: status, Section: secDaifu, Says: "不存在此商户或商户未激活: refused by the merchant check"},
		{Code: "32768 [-1006]", Status: status, Section: secDaifu, Says: "签名错误: an unverified message is not processed"},
		{Code: "32768 [-1007]", Status: status, Section: secDaifu, Says: "版本号错误: refused by the version check"},
		{Code: "32768 [-3005]", Status: status, Section: secFAQ, Says: "交易金额不符: refused by the amount check (请参考返回的消息设置交易金额)"},
	}
}

// generic negatives: what they say about the money depends on the call.
func genericNegatives(status, dup, noOrder gateways.Status, notFound bool) []Outcome {
	return []Outcome{
		{Code: "32768 RetCode 39999", Status: status, Section: secNegEx, Says: "支付失败, unsigned: proves nothing about a charge"},
		{Code: "32768 RetCode 0", Status: status, Section: secHeader + "; " + secQuickNeg, Says: "消息结构体错误, but also the generic negative code under which business results come"},
		{Code: "32768 [-1008]", Status: dup, Section: secDaifu, Says: "流水号重复: the first message with this number may have been processed"},
		{Code: "32768 [-2002]", Status: noOrder, NotFound: notFound, Section: secQuickNeg, Says: "没有该订单"},
	}
}

func table(rows ...[]Outcome) []Outcome {
	var t []Outcome
	for _, r := range rows {
		t = append(t, r...)
	}
	return t
}

// Outcomes is every operation's outcome table. A code that is not in an
// operation's table is StatusUnknown: never Failed, never Succeeded.
var Outcomes = map[Operation][]Outcome{
	OpPay: table(headerRows, []Outcome{
		{Code: "STATUS 1", Status: gateways.StatusSucceeded, Section: "扫码 §5.2.3 §6.2.3 §7.2.3", Says: "订单状态 1：成功"},
		{Code: "STATUS 2", Status: gateways.StatusFailed, Section: "扫码 §5.2.3 §6.2.3 §7.2.3", Says: "2失败 (signed: the order ended unpaid)"},
		{Code: "STATUS 3", Status: gateways.StatusUserPaying, Section: "扫码 §5.2.3 §6.2.3 §7.2.3", Says: "3支付中: 需要商户自己调用查询接口查询订单状态"},
	}, errCodeRows, refusedUnread(gateways.StatusFailed),
		genericNegatives(gateways.StatusUnknown, gateways.StatusUnknown, gateways.StatusUnknown, false)),
	OpQRCreate: table(headerRows, []Outcome{
		{Code: "STATUS 1", Status: gateways.StatusUserPaying, Section: "扫码 §5.1.3 §6.1.2 §6.3.2 §6.4.2 §7.1.2 §8.1.2 §9.1.2", Says: "下订单状态 1成功: the order is created and payable at URL"},
		{Code: "STATUS 2", Status: gateways.StatusFailed, Section: "扫码 §5.1.3 §6.1.2 §6.3.2 §6.4.2 §7.1.2 §8.1.2 §9.1.2", Says: "2失败: no order, no URL"},
	}, errCodeRows, refusedUnread(gateways.StatusFailed),
		// A refused create issued no URL (§5.1.3: URL is the only way to
		// pay it), so nobody can pay: Failed. A duplicate number may name
		// an order whose URL is shown elsewhere: Unknown.
		genericNegatives(gateways.StatusFailed, gateways.StatusUnknown, gateways.StatusFailed, false)),
	OpQuery: table(headerRows, []Outcome{
		{Code: "STATUS 1", Status: gateways.StatusSucceeded, Section: "扫码 §10.3.2", Says: "订单状态 1：成功"},
		{Code: "STATUS 2", Status: gateways.StatusFailed, Section: "扫码 §10.3.2", Says: "2失败 (a QR order stays payable until TIME_END: the flows close it)"},
		{Code: "STATUS 3", Status: gateways.StatusUserPaying, Section: "扫码 §10.3.2", Says: "3支付中"},
	}, errCodeRows, refusedUnread(gateways.StatusUnknown),
		genericNegatives(gateways.StatusUnknown, gateways.StatusUnknown, gateways.StatusUnknown, true)),
	OpReverse: table(headerRows, []Outcome{
		{Code: "STATUS 1", Status: gateways.StatusSucceeded, Section: "扫码 §10.4.2", Says: "1、撤单成功"},
		{Code: "STATUS 2", Status: gateways.StatusFailed, Section: "扫码 §10.4.2", Says: "2撤单失败 (the flows query the order)"},
	}, errCodeRows, refusedUnread(gateways.StatusUnknown),
		genericNegatives(gateways.StatusUnknown, gateways.StatusUnknown, gateways.StatusUnknown, true)),
	OpClose: table(headerRows, []Outcome{
		{Code: "STATUS 1", Status: gateways.StatusSucceeded, Section: "扫码 §10.5.2", Says: "1、关闭订单成功"},
		{Code: "STATUS 2", Status: gateways.StatusFailed, Section: "扫码 §10.5.2", Says: "2关闭订单失败 (the flows query the order)"},
	}, errCodeRows, refusedUnread(gateways.StatusUnknown),
		genericNegatives(gateways.StatusUnknown, gateways.StatusUnknown, gateways.StatusUnknown, true)),
	OpRefund: table(headerRows, []Outcome{
		{Code: "STATUS 1", Status: gateways.StatusUserPaying, Section: "扫码 §10.6.2", Says: "1、受理成功: accepted, not refunded; 2313 says when it is final"},
		{Code: "STATUS 2", Status: gateways.StatusFailed, Section: "扫码 §10.6.2", Says: "2退款失败"},
	}, errCodeRows, refusedUnread(gateways.StatusFailed),
		genericNegatives(gateways.StatusUnknown, gateways.StatusUnknown, gateways.StatusUnknown, false)),
	OpRefundQuery: table(headerRows, []Outcome{
		{Code: "STATUS 1", Status: gateways.StatusUserPaying, Section: "扫码 §10.7.2", Says: "1、受理成功: still only accepted; Succeeded once Options.RefundSettle has passed since REFUND_TIME without 退款失败 (decision: the spec has no later state)"},
		{Code: "STATUS 2", Status: gateways.StatusFailed, Section: "扫码 §10.7.2", Says: "2退款失败"},
	}, errCodeRows, refusedUnread(gateways.StatusUnknown),
		genericNegatives(gateways.StatusUnknown, gateways.StatusUnknown, gateways.StatusUnknown, true)),
	OpNotify: {
		{Code: "STATUS 1", Status: gateways.StatusSucceeded, Section: "扫码 §10.8", Says: "支付状态:1,支付成功,支付成功才会推送交易结果"},
	},
}

// lookup finds code in op's table.
func lookup(op Operation, code string) (Outcome, bool) {
	for _, o := range Outcomes[op] {
		if o.Code == code {
			return o, true
		}
	}
	return Outcome{}, false
}

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

// negativeCode is the table code of a unified negative answer: by its
// sub-code when ErrorMsg has one, else by its RetCode.
func negativeCode(m Message) string {
	if sub := SubCode(m.ErrorMsg); sub != 0 {
		return fmt.Sprintf("32768 [%d]", sub)
	}
	return fmt.Sprintf("32768 RetCode %d", m.RetCode)
}
