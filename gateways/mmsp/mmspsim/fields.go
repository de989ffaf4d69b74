package mmspsim

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// field is one row of a request table: the name, string(max), and whether
// it is 必须. Lengths count characters ("长度限制 1~15个字符串").
type field struct {
	name     string
	max      int
	required bool
	digits   bool
}

// The request tables of the scan-code part, read from the spec.
var (
	// §5.2.2 微信刷卡, §6.2.2 支付宝刷卡, §7.2.2 QQ刷卡.
	micropayFields = []field{
		{"AMT", 20, true, true}, {"CUR", 4, true, false}, {"GOODSNAME", 15, true, false},
		{"NOTIFY_URL", 100, true, false}, {"MERORDERID", 20, true, false}, {"RANDSTR", 20, true, false},
		{"CODE", 32, true, true}, {"TIME_END", 30, false, false}, {"IP", 18, false, false},
		{"ISTO", 1, false, true}, {"LIMIT_PAY", 32, false, true},
	}
	// §5.1.2 微信正扫, §6.1.1 支付宝正扫, §7.1.1 QQ正扫 (TRADETYPE 1 only:
	// OPENID, ALIPAY_USER_ID and the like are for 公众号/服务窗).
	qrFields = []field{
		{"TRADETYPE", 1, true, true}, {"AMT", 20, true, true}, {"MERORDERID", 20, true, false},
		{"RANDSTR", 20, true, false}, {"GOODSNAME", 15, true, false}, {"NOTIFY_URL", 50, true, false},
		{"TIME_END", 30, false, false}, {"CUR", 4, false, false}, {"IP", 18, false, false},
		{"JUMP_URL", 32, false, false}, {"IS_RAW", 1, false, true}, {"ISTO", 1, false, true},
		{"LIMIT_PAY", 32, false, true},
	}
	// §6.3.1 支付宝静态码, §6.4.1 支付宝动态码, §8.1.1 京东, §9.1.1 银联: no
	// LIMIT_PAY, no ISTO.
	plainQRFields = []field{
		{"TRADETYPE", 1, true, true}, {"AMT", 20, true, true}, {"MERORDERID", 20, true, false},
		{"RANDSTR", 20, true, false}, {"GOODSNAME", 15, true, false}, {"NOTIFY_URL", 50, true, false},
		{"TIME_END", 30, false, false}, {"CUR", 4, false, false}, {"IP", 18, false, false},
	}
	// §10.3.1 查询, §10.4.1 撤销, §10.5.1 关闭: ORDERNO or MERORDERID.
	orderRefFields = []field{
		{"ORDERNO", 20, false, false}, {"MERORDERID", 20, false, false}, {"RANDSTR", 15, true, false},
	}
	// §10.6.1 退款.
	refundFields = []field{
		{"ORDERNO", 20, false, false}, {"MERORDERID", 20, false, false}, {"RANDSTR", 15, true, false},
		{"REFUND_MERORDERID", 20, true, false}, {"AMT", 20, true, true},
	}
	// §10.7.1 退款查询: REFUND_ORDERNO or REFUND_MERORDERID.
	refundQueryFields = []field{
		{"REFUND_ORDERNO", 20, false, false}, {"REFUND_MERORDERID", 20, false, false}, {"RANDSTR", 15, true, false},
	}
)

// checkFields applies a request table to a Body: every value a string
// (the tables type them string(n); the FAQ warns that a number quoted or
// not signs differently), no field the table does not list, the required
// ones present, lengths in characters. It returns the refusal's ErrorMsg
// ("[-1001] 参数错误 …") or "".
func checkFields(bd body, table []field) string {
	known := map[string]field{}
	for _, f := range table {
		known[f.name] = f
	}
	for name, v := range bd {
		if _, ok := v.(string); !ok {
			return "[-1001] 参数错误 " + name + " 必须为字符串"
		}
		if _, ok := known[name]; !ok {
			return "[-1001] 参数错误 不支持的字段 " + name
		}
	}
	for _, f := range table {
		v := bd.str(f.name)
		switch {
		case v == "" && f.required:
			return "[-1001] 参数错误 缺少 " + f.name
		case utf8.RuneCountInString(v) > f.max:
			return fmt.Sprintf("[-1001] 参数错误 %s 超过%d位", f.name, f.max)
		case v != "" && f.digits && strings.Trim(v, "0123456789") != "":
			return "[-1001] 参数错误 " + f.name + " 必须为数字"
		}
	}
	return ""
}

// checkPay adds the rules the tables state in words: CUR CNY (默认人民币，
// 上送CNY), TIME_END yyyy-mm-dd hh24:mi:ss, TRADETYPE 1 (正扫) on QR
// orders, LIMIT_PAY 1 or 2, GOODSNAME at least one character.
func checkPay(bd body, qr bool) string {
	if cur := bd.str("CUR"); cur != "" && cur != "CNY" {
		return "[-1001] 参数错误 CUR 仅支持CNY"
	}
	if te := bd.str("TIME_END"); te != "" {
		if _, err := time.Parse(timeLayout, te); err != nil {
			return "[-1001] 参数错误 TIME_END 格式应为 yyyy-mm-dd hh24:mi:ss"
		}
	}
	if qr && bd.str("TRADETYPE") != "1" {
		return "[-1001] 参数错误 TRADETYPE 仅支持1(正扫)"
	}
	if lp := bd.str("LIMIT_PAY"); lp != "" && lp != "1" && lp != "2" {
		return "[-1001] 参数错误 LIMIT_PAY"
	}
	if strings.TrimSpace(bd.str("GOODSNAME")) == "" {
		return "[-1001] 参数错误 GOODSNAME 长度限制 1~15个字符串"
	}
	return ""
}
