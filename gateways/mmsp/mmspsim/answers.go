package mmspsim

import (
	"github.com/posagent/posagent/gateways/sim"
)

// The answer codes the simulator can be scripted to give, in the spec's
// words. Typed answers are signed and carry STATUS (and ERR_CODE where
// the tables or §11 name one); "32768 …" is the unified negative answer,
// unsigned (§3.1 错误响应报文示例(不需要签名)).
const (
	CodeStatus1       = "STATUS 1"
	CodeStatus2       = "STATUS 2"
	CodeStatus3       = "STATUS 3 AA"
	CodeNegPayFailed  = "32768 RetCode 39999 支付失败"
	CodeNegStructure  = "32768 RetCode 0 消息结构体错误"
	CodeNegParam      = "32768 [-1001] 参数错误"
	CodeNegMerchant   = "32768 [-1002] 不存在此商户或商户未激活"
	CodeNegSignature  = "32768 [-1006] 签名错误"
	CodeNegVersion    = "32768 [-1007] 版本号错误"
	CodeNegDuplicate  = "32768 [-1008] 流水号重复"
	CodeNegNoOrder    = "32768 [-2002] 没有该订单"
	CodeNegAmountDiff = "32768 [-3005] 交易金额不符"
)

// negatives are the negative answers' RetCode and ErrorMsg. The sub-code
// forms come under RetCode 0, as the document's own example does (快捷
// §3.1: RetCode 0, "[-2002] 没有该订单").
var negatives = map[string]struct {
	ret int
	msg string
}{
	CodeNegPayFailed:  {39999, "支付失败"},
	CodeNegStructure:  {0, "消息结构体错误"},
	CodeNegParam:      {0, "[-1001] 参数错误"},
	CodeNegMerchant:   {0, "[-1002] 不存在此商户或商户未激活"},
	CodeNegSignature:  {0, "[-1006] 签名错误"},
	CodeNegVersion:    {0, "[-1007] 版本号错误"},
	CodeNegDuplicate:  {0, "[-1008] 流水号重复"},
	CodeNegNoOrder:    {0, "[-2002] 没有该订单"},
	CodeNegAmountDiff: {0, "[-3005] 交易金额不符"},
}

var (
	both    = []sim.Truth{sim.TruthDone, sim.TruthNotDone}
	done    = []sim.Truth{sim.TruthDone}
	notDone = []sim.Truth{sim.TruthNotDone}
)

const (
	secNeg    = "扫码 §3.1 错误响应报文示例 (unsigned)"
	secStruct = "扫码 §11 包头响应码 0; 快捷 §3.1 example (RetCode 0 is also the generic negative code)"
	secDaifu  = "代付 §6.2 返回码"
	secQuick  = "快捷 §3.1 错误响应报文示例"
	secFAQ    = "常见问题 错误代码说明"
)

// refusals: the platform's own checks, which refuse a message before it
// is processed: nothing reaches a wallet, nothing is executed.
func refusals() []sim.DocumentedAnswer {
	return []sim.DocumentedAnswer{
		{Code: CodeNegParam, Section: secDaifu, Truths: notDone},
		{Code: CodeNegMerchant, Section: secDaifu, Truths: notDone},
		{Code: CodeNegSignature, Section: secDaifu, Truths: notDone},
		{Code: CodeNegVersion, Section: secDaifu, Truths: notDone},
		{Code: CodeNegAmountDiff, Section: secFAQ, Truths: notDone},
	}
}

// unsure: unsigned negative answers that say nothing certain about what
// happened to the money.
func unsure(codes ...string) []sim.DocumentedAnswer {
	sec := map[string]string{CodeNegPayFailed: secNeg, CodeNegStructure: secStruct, CodeNegDuplicate: secDaifu, CodeNegNoOrder: secQuick}
	var out []sim.DocumentedAnswer
	for _, c := range codes {
		out = append(out, sim.DocumentedAnswer{Code: c, Section: sec[c], Truths: both})
	}
	return out
}

func join(lists ...[]sim.DocumentedAnswer) []sim.DocumentedAnswer {
	var out []sim.DocumentedAnswer
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// Answers implements gatewaytest.Truther: every answer the spec documents
// for op, with the truths that may lie behind it. This is the simulator's
// own reading (see the package doc), not the adapter's.
func (s *Server) Answers(op sim.Op, method string) []sim.DocumentedAnswer {
	qr := method == "qr"
	switch op {
	case sim.OpSubmit:
		if qr {
			// §5.1.3 …: 1 下订单成功 (the customer may pay or walk away), 2
			// 失败. A QR order is paid only by opening its URL (§5.1.3
			// URL: 在app扫码打开这个地址): a create that issued none cannot
			// be paid, whatever went wrong.
			return join([]sim.DocumentedAnswer{
				{Code: CodeStatus1, Section: "扫码 §5.1.3 §6.1.2 §7.1.2 §9.1.2 §8.1.2", Truths: both},
				{Code: CodeStatus2, Section: "扫码 §5.1.3 §6.1.2 §7.1.2 §9.1.2 §8.1.2", Truths: notDone},
				{Code: CodeNegPayFailed, Section: secNeg, Truths: notDone},
				{Code: CodeNegStructure, Section: secStruct, Truths: notDone},
			}, refusals(), unsure(CodeNegDuplicate))
		}
		// §5.2.3 §6.2.3 §7.2.3: 1 成功, 2 失败, 3 支付中 (查询订单状态).
		return join([]sim.DocumentedAnswer{
			{Code: CodeStatus1, Section: "扫码 §5.2.3 §6.2.3 §7.2.3", Truths: done},
			{Code: CodeStatus2, Section: "扫码 §5.2.3 §6.2.3 §7.2.3", Truths: notDone},
			{Code: CodeStatus3, Section: "扫码 §5.2.3 §6.2.3 §7.2.3, §11 AA", Truths: both},
		}, refusals(), unsure(CodeNegPayFailed, CodeNegStructure, CodeNegDuplicate))
	case sim.OpQuery:
		// §10.3.2: 1 成功, 2 失败, 3 支付中. A failed QR order stays payable
		// until TIME_END (§5.1.2 不传默认5分钟订单失效): STATUS 2 then paid.
		failed := notDone
		if qr {
			failed = both
		}
		return join([]sim.DocumentedAnswer{
			{Code: CodeStatus1, Section: "扫码 §10.3.2", Truths: done},
			{Code: CodeStatus2, Section: "扫码 §10.3.2, §5.1.2 TIME_END", Truths: failed},
			{Code: CodeStatus3, Section: "扫码 §10.3.2, §11 AA", Truths: both},
		}, unsure(CodeNegNoOrder, CodeNegPayFailed, CodeNegStructure))
	case sim.OpReverse, sim.OpClose:
		sec := map[sim.Op]string{sim.OpReverse: "扫码 §10.4.2", sim.OpClose: "扫码 §10.5.2"}[op]
		return join([]sim.DocumentedAnswer{
			{Code: CodeStatus1, Section: sec, Truths: done},
			{Code: CodeStatus2, Section: sec, Truths: notDone},
		}, unsure(CodeNegNoOrder, CodeNegPayFailed, CodeNegStructure))
	case sim.OpRefund:
		// §10.6.2: 1 受理成功 (accepted: 2313 may still say 退款失败), 2 退款失败.
		return join([]sim.DocumentedAnswer{
			{Code: CodeStatus1, Section: "扫码 §10.6.2", Truths: both},
			{Code: CodeStatus2, Section: "扫码 §10.6.2", Truths: notDone},
		}, refusals(), unsure(CodeNegPayFailed, CodeNegStructure, CodeNegDuplicate, CodeNegNoOrder))
	case sim.OpQueryRefund:
		// §10.7.2: 1 受理成功, 2 退款失败.
		return join([]sim.DocumentedAnswer{
			{Code: CodeStatus1, Section: "扫码 §10.7.2", Truths: both},
			{Code: CodeStatus2, Section: "扫码 §10.7.2", Truths: notDone},
		}, unsure(CodeNegNoOrder, CodeNegPayFailed, CodeNegStructure))
	}
	return nil
}
