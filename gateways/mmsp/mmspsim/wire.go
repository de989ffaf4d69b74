package mmspsim

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The simulator's own reading of the wire (扫码 §3.1 消息结构, §3.2.1
// 报文命令字, §3.3 安全规范), written from the spec, sharing nothing with
// the adapter.

// Commands of §3.2.1 (decimal, as sent).
const (
	cmdNegative       = 32768 // 0x8000 统一否定应答
	cmdWeChatQR       = 2306  // 0x0902 微信公众号/正扫下预订单
	cmdWeChatMicropay = 2307  // 0x0903 微信刷卡支付
	cmdAlipayQR       = 2308  // 0x0904 支付宝公众号/正扫下预订单
	cmdAlipayMicropay = 2309  // 0x0905 支付宝刷卡
	cmdQQQR           = 2325  // 0x0915 QQ正扫/钱包下预订单
	cmdQQMicropay     = 776   // 0x0308 QQ钱包反扫支付
	cmdQQMicropayAns  = 35094 // 0x8916 QQ钱包反扫支付返回
	cmdUnionPayQR     = 1025  // 0x0401 银联钱包正扫
	cmdAlipayStatic   = 1026  // 0x0402 支付宝静态码支付
	cmdAlipayDynamic  = 1027  // 0x0403 支付宝动态码支付
	cmdJDQR           = 1031  // 0x0407 京东扫码支付
	cmdQuery          = 2310  // 0x0906 查询订单
	cmdReverse        = 2311  // 0x0907 撤销订单
	cmdRefund         = 2312  // 0x0908 退款
	cmdRefundQuery    = 2313  // 0x0909 退款查询订单
	cmdClose          = 2314  // 0x090A 关闭订单
	cmdNotify         = 2324  // 0x0914 推送支付结果
	answerOffset      = 0x8000
	protocolVersion   = "1.0.0"
	timeLayout        = "2006-01-02 15:04:05" // yyyy-mm-dd hh24:mi:ss
)

// Signing rules: how '/' is written in the text that is hashed.
const (
	// SlashEscaped: §3.3.2.1 step 3, json_encode's output ("url连接需要对
	// 斜杠转定义": "/" written "\/"), as sent. The default.
	SlashEscaped = "escaped"
	// SlashFAQ: the FAQ's "参数内\是否替换成/后签名": the encoded text with
	// every backslash turned into a slash, for signing only.
	SlashFAQ = "faq"
	// SlashPlain: slashes not escaped at all.
	SlashPlain = "plain"
)

// encodeString writes s the way PHP's json_encode writes a string with
// JSON_UNESCAPED_UNICODE (§3.3.2.1: 中文不需要转码): quote, backslash and
// slash escaped, the short escapes for \b \f \n \r \t, other control
// characters (and U+2028, U+2029, which PHP still escapes) as \u00XX.
func encodeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\', '/':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x2028 || r == 0x2029 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// encodeValue writes a decoded JSON value (UseNumber) the json_encode way:
// objects with their keys as they come (only the Body's top level is
// sorted, §3.3.2.1 step 2), numbers as their literal.
func encodeValue(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case string:
		encodeString(b, x)
	case json.Number:
		b.WriteString(x.String())
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case nil:
		b.WriteString("null")
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := encodeValue(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case orderedObject:
		b.WriteByte('{')
		for i, kv := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			encodeString(b, kv.key)
			b.WriteByte(':')
			if err := encodeValue(b, kv.val); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("mmspsim: cannot encode %T", v)
	}
	return nil
}

type keyValue struct {
	key string
	val any
}

// orderedObject is a JSON object in its received order.
type orderedObject []keyValue

// decodeValue reads the next JSON value, keeping object order.
func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '[':
		var arr []any
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token()
		return arr, err
	case '{':
		var obj orderedObject
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, errors.New("object key is not a string")
			}
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			obj = append(obj, keyValue{ks, v})
		}
		_, err := dec.Token()
		return obj, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// body is a Body: its fields by name, each a string, a json.Number or
// another decoded value.
type body map[string]any

// canonical is §3.3.2.1 steps 2 and 3: the Body's fields sorted A–Z and
// json_encoded.
func (bd body) canonical() (string, error) {
	keys := make([]string, 0, len(bd))
	for k := range bd {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		encodeString(&b, k)
		b.WriteByte(':')
		if err := encodeValue(&b, bd[k]); err != nil {
			return "", err
		}
	}
	b.WriteByte('}')
	return b.String(), nil
}

// sign is §3.3.2.1 steps 4 and 5 under a slash rule: MD5 of the encoded
// Body, "&key=" and the key, in upper-case hex.
func sign(canonical, key, rule string) string {
	text := canonical
	switch rule {
	case SlashFAQ:
		text = strings.ReplaceAll(text, `\`, `/`)
	case SlashPlain:
		text = strings.ReplaceAll(text, `\/`, `/`)
	}
	sum := md5.Sum([]byte(text + "&key=" + key))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// str is a Body field as text: a string, or a number's literal.
func (bd body) str(name string) string {
	switch v := bd[name].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// message is one decoded message (§3.1 消息头格式 and Body).
type message struct {
	CommandID, SeqID, NodeType int
	NodeID, Version            string
	AgentNo, MerNo, TermNo     string
	Body                       body
	Canonical                  string
	Sign                       string
	HasBody                    bool
}

// headerInt reads an integer header field sent as a number or a numeric
// string (the spec's own examples do both).
func headerInt(v any) (int, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.Atoi(x.String())
		return n, err == nil
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

// decode reads a message without verifying it.
func decode(raw []byte) (message, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return message{}, fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return message{}, errors.New("trailing data")
	}
	obj, ok := v.(orderedObject)
	if !ok {
		return message{}, errors.New("not a JSON object")
	}
	var m message
	var haveCmd bool
	for _, kv := range obj {
		s, _ := kv.val.(string)
		switch kv.key {
		case "CommandID":
			m.CommandID, haveCmd = headerInt(kv.val)
		case "SeqID":
			m.SeqID, _ = headerInt(kv.val)
		case "NodeType":
			m.NodeType, _ = headerInt(kv.val)
		case "NodeID":
			m.NodeID = s
		case "Version":
			m.Version = s
		case "AGENTNO":
			m.AgentNo = s
		case "MERNO":
			m.MerNo = s
		case "TERMNO":
			m.TermNo = s
		case "Sign":
			m.Sign = s
		case "Body":
			o, ok := kv.val.(orderedObject)
			if !ok {
				continue
			}
			m.HasBody = true
			m.Body = body{}
			for _, f := range o {
				m.Body[f.key] = f.val
			}
		}
	}
	if !haveCmd {
		return message{}, errors.New("no CommandID")
	}
	if m.HasBody {
		if m.Canonical, err = m.Body.canonical(); err != nil {
			return message{}, err
		}
	}
	return m, nil
}

// errSignature: the Sign does not match the Body.
var errSignature = errors.New("mmspsim: signature does not match")

// verify checks a message's Sign under key and rule (case-insensitive hex).
func (m message) verify(key, rule string) error {
	if !m.HasBody {
		return errors.New("mmspsim: no Body object")
	}
	if !strings.EqualFold(m.Sign, sign(m.Canonical, key, rule)) {
		return errSignature
	}
	return nil
}

// header is what the simulator writes in an answer's header.
type header struct {
	CommandID, SeqID, NodeType int
	NodeID                     string
	AgentNo, MerNo, TermNo     string
	RetCode                    int
	ErrorMsg                   string
	Answer                     bool // RetCode and ErrorMsg present
}

// encodeMessage writes a whole message in §3.1's field order. canonical is
// the encoded Body ("" for the negative answer's empty Body).
func encodeMessage(h header, canonical, sig string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"CommandID":%d,"SeqID":%d,"NodeType":%d,"NodeID":`, h.CommandID, h.SeqID, h.NodeType)
	encodeString(&b, h.NodeID)
	b.WriteString(`,"Version":"` + protocolVersion + `"`)
	if h.Answer {
		fmt.Fprintf(&b, `,"RetCode":%d,"ErrorMsg":`, h.RetCode)
		encodeString(&b, h.ErrorMsg)
	}
	if h.AgentNo != "" {
		b.WriteString(`,"AGENTNO":`)
		encodeString(&b, h.AgentNo)
	}
	b.WriteString(`,"MERNO":`)
	encodeString(&b, h.MerNo)
	b.WriteString(`,"TERMNO":`)
	encodeString(&b, h.TermNo)
	b.WriteString(`,"Body":`)
	if canonical == "" {
		b.WriteString(`""`)
	} else {
		b.WriteString(canonical)
	}
	b.WriteString(`,"Sign":`)
	encodeString(&b, sig)
	b.WriteByte('}')
	return []byte(b.String())
}

// stringBody builds a Body of string fields, leaving out empty ones.
func stringBody(f map[string]string) body {
	bd := body{}
	for k, v := range f {
		if v != "" {
			bd[k] = v
		}
	}
	return bd
}
