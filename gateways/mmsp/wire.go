package mmsp

import (
	"bytes"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Command IDs of the 扫码接口规范 (§3.2.1). Every answer is the request +
// 0x8000, except the QQ micropay pair (see QQMicropayResponse) and the
// unified negative answer.
const (
	CmdNegative         = 0x8000 // 32768 统一否定应答 (unsigned)
	CmdWeChatQR         = 0x0902 // 2306 微信公众号/正扫下预订单
	CmdWeChatMicropay   = 0x0903 // 2307 微信刷卡支付
	CmdAlipayQR         = 0x0904 // 2308 支付宝公众号/正扫下预订单
	CmdAlipayMicropay   = 0x0905 // 2309 支付宝刷卡
	CmdQQQR             = 0x0915 // 2325 QQ正扫/钱包下预订单
	CmdQQMicropay       = 0x0308 // 776 QQ钱包反扫支付 (as documented; configurable)
	CmdUnionPayQR       = 0x0401 // 1025 银联钱包正扫
	CmdAlipayStaticQR   = 0x0402 // 1026 支付宝静态码支付
	CmdAlipayDynamicQR  = 0x0403 // 1027 支付宝动态码支付
	CmdJDQR             = 0x0407 // 1031 京东扫码支付
	CmdQuery            = 0x0906 // 2310 查询订单
	CmdReverse          = 0x0907 // 2311 撤销订单
	CmdRefund           = 0x0908 // 2312 退款
	CmdRefundQuery      = 0x0909 // 2313 退款查询订单
	CmdClose            = 0x090A // 2314 关闭订单
	CmdNotify           = 0x0914 // 2324 推送支付结果
	ResponseOffset      = 0x8000
	QQMicropayResponse  = 0x8916 // 35094: the table's answer to 776, not 776+0x8000
	Version             = "1.0.0"
	DefaultNodeType     = 3
	DefaultNodeID       = "openplat"
	TimeLayout          = "2006-01-02 15:04:05" // TIME_END, TRADETIME, PAYTIME
	maxBodyFieldsLength = 64 << 10
)

// ResponseFor is the CommandID that answers cmd. For the QQ micropay
// command 776 the spec's table pairs it with 35094 (0x8916), not 33544.
func ResponseFor(cmd int) int {
	if cmd == CmdQQMicropay {
		return QQMicropayResponse
	}
	return cmd + ResponseOffset
}

// SlashRule is how '/' and '\' are treated in the string that is signed.
// The spec is contradictory (see the package doc); all three readings are
// available so an operator can match the production platform without a
// code change.
type SlashRule string

const (
	// SlashEscaped (the default) signs json_encode's output as it is, as
	// §3.3.2.1 says ("将排序后的数组进行json_encode … url连接需要对斜杠转定义";
	// the backslashes of its example were lost in extraction): "/" is
	// signed as "\/", the bytes that are sent.
	SlashEscaped SlashRule = "escaped"
	// SlashFAQ reads the FAQ's damaged line "参数内\是否替换成/后签名"
	// literally: every '\' of the encoded text becomes '/' for signing
	// only, so "http://a/b" is signed as "http:////a//b".
	SlashFAQ SlashRule = "faq"
	// SlashPlain signs with '/' unescaped: "http://a/b".
	SlashPlain SlashRule = "plain"
)

// Valid reports whether r is a known rule.
func (r SlashRule) Valid() bool { return r == SlashFAQ || r == SlashEscaped || r == SlashPlain }

// EncodeBody is the canonical text of a request Body built from string
// fields: keys sorted A–Z by byte, every value a JSON string (numeric
// fields are quoted, as the FAQ insists), encoded as PHP's
// json_encode(..., JSON_UNESCAPED_UNICODE): Chinese as UTF-8, '/' as '\/'.
// Empty values are left out (the spec sends optional fields absent, and a
// "" would be signed differently by clients that drop it).
func EncodeBody(fields map[string]string) []byte {
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if v != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		phpString(&b, k)
		b.WriteByte(':')
		phpString(&b, fields[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// CanonicalBody re-encodes a received Body object the way the sender must
// have encoded it for signing: top-level keys sorted A–Z, strings in the
// PHP style of EncodeBody, numbers, booleans and null exactly as received
// (a number stays unquoted: quoting changes the signature), nested values
// in their received order.
func CanonicalBody(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %w", err)
	}
	if fields == nil {
		return nil, errors.New("body is not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the body")
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		phpString(&b, k)
		b.WriteByte(':')
		vd := json.NewDecoder(bytes.NewReader(fields[k]))
		vd.UseNumber()
		if err := phpValue(&b, vd); err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// phpValue re-encodes the next JSON value from dec.
func phpValue(b *bytes.Buffer, dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		closer := json.Delim('}')
		if v == '[' {
			closer = ']'
		}
		b.WriteByte(byte(v))
		for i := 0; dec.More(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if v == '{' {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				ks, ok := k.(string)
				if !ok {
					return errors.New("object key is not a string")
				}
				phpString(b, ks)
				b.WriteByte(':')
			}
			if err := phpValue(b, dec); err != nil {
				return err
			}
		}
		end, err := dec.Token()
		if err != nil {
			return err
		}
		if end != closer {
			return errors.New("unbalanced JSON")
		}
		b.WriteByte(byte(closer))
	case string:
		phpString(b, v)
	case json.Number:
		b.WriteString(v.String())
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case nil:
		b.WriteString("null")
	}
	return nil
}

// phpString writes s as PHP's json_encode does with JSON_UNESCAPED_UNICODE
// and no other flag: '"', '\' and '/' escaped with a backslash, \b \f \n \r
// \t, other control characters and U+2028/U+2029 as \u00xx / \u20xx
// (lower-case hex), everything else as UTF-8. Invalid UTF-8 becomes
// U+FFFD (PHP would refuse it; callers validate requests before this).
func phpString(b *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '/':
			b.WriteString(`\/`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			b.WriteString(`\u`)
			b.WriteByte(hexDigits[r>>12&0xf])
			b.WriteByte(hexDigits[r>>8&0xf])
			b.WriteByte(hexDigits[r>>4&0xf])
			b.WriteByte(hexDigits[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// SigningText is the exact text hashed for a canonical Body under rule,
// without the key: the canonical JSON after the slash rule.
func SigningText(canonical []byte, rule SlashRule) string {
	s := string(canonical)
	switch rule {
	case SlashEscaped:
		return s
	case SlashPlain:
		return strings.ReplaceAll(s, `\/`, `/`)
	}
	return strings.ReplaceAll(s, `\`, `/`)
}

// Sign is §3.3.1: upper-case hex MD5 of SigningText + "&key=" + key.
func Sign(canonical []byte, key string, rule SlashRule) string {
	sum := md5.Sum([]byte(SigningText(canonical, rule) + "&key=" + key))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Header is the message header (§3.1 消息头格式) of a request or answer.
type Header struct {
	CommandID int
	SeqID     int
	NodeType  int
	NodeID    string
	AgentNo   string // AGENTNO: agency mode only; left out when empty
	MerNo     string // MERNO
	TermNo    string // TERMNO
	// RetCode and ErrorMsg are set on answers only.
	RetCode  int
	ErrorMsg string
	Answer   bool
}

// Marshal builds the whole message: the header fields in the spec's order,
// the canonical Body as it was signed, and Sign.
func Marshal(h Header, canonical []byte, sign string) []byte {
	var b bytes.Buffer
	str := func(s string) { phpString(&b, s) }
	b.WriteString(`{"CommandID":`)
	b.WriteString(strconv.Itoa(h.CommandID))
	b.WriteString(`,"SeqID":`)
	b.WriteString(strconv.Itoa(h.SeqID))
	b.WriteString(`,"NodeType":`)
	b.WriteString(strconv.Itoa(h.NodeType))
	b.WriteString(`,"NodeID":`)
	str(h.NodeID)
	b.WriteString(`,"Version":"` + Version + `"`)
	if h.Answer {
		b.WriteString(`,"RetCode":`)
		b.WriteString(strconv.Itoa(h.RetCode))
		b.WriteString(`,"ErrorMsg":`)
		str(h.ErrorMsg)
	}
	if h.AgentNo != "" {
		b.WriteString(`,"AGENTNO":`)
		str(h.AgentNo)
	}
	b.WriteString(`,"MERNO":`)
	str(h.MerNo)
	b.WriteString(`,"TERMNO":`)
	str(h.TermNo)
	b.WriteString(`,"Body":`)
	if canonical == nil {
		b.WriteString(`""`)
	} else {
		b.Write(canonical)
	}
	b.WriteString(`,"Sign":`)
	str(sign)
	b.WriteByte('}')
	return b.Bytes()
}

// flexInt reads an integer sent as a JSON number or a numeric string (the
// spec's own examples do both: "SeqID":1 and "SeqID":"1").
type flexInt struct {
	V   int
	Set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("not an integer: %.20q", string(b))
	}
	f.V, f.Set = v, true
	return nil
}

// wireEnvelope is the lenient decoding of any MMSP message.
type wireEnvelope struct {
	CommandID flexInt         `json:"CommandID"`
	SeqID     flexInt         `json:"SeqID"`
	NodeType  flexInt         `json:"NodeType"`
	NodeID    json.RawMessage `json:"NodeID"`
	Version   json.RawMessage `json:"Version"`
	RetCode   flexInt         `json:"RetCode"`
	ErrorMsg  *string         `json:"ErrorMsg"`
	ErrMsg    *string         `json:"ErrMsg"` // the quick-pay examples spell it so
	AgentNo   *string         `json:"AGENTNO"`
	MerNo     *string         `json:"MERNO"`
	TermNo    *string         `json:"TERMNO"`
	Body      json.RawMessage `json:"Body"`
	Sign      *string         `json:"Sign"`
}

// Message is a decoded MMSP message whose Body signature has been checked
// (or that is the unified negative answer, which the spec leaves unsigned).
type Message struct {
	Header
	// Fields is the Body, values as raw JSON; empty for a negative answer.
	Fields map[string]json.RawMessage
	// Canonical is the Body as it was signed.
	Canonical []byte
	Sign      string
}

// Str returns a Body field as a string: a JSON string's value, or a
// number's literal. Absent or null fields are "".
func (m Message) Str(name string) string { return fieldString(m.Fields[name]) }

func fieldString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// ErrBadSignature is wrapped by Parse when a message's Sign does not match
// its Body under the key.
var ErrBadSignature = errors.New("mmsp: signature does not match")

// Parse decodes a message and verifies its signature with key and rule.
// The unified negative answer (CommandID 32768) is returned unverified, as
// the spec sends it without a signature; every other message must carry a
// JSON-object Body and a matching Sign.
func Parse(raw []byte, key string, rule SlashRule) (Message, error) {
	var e wireEnvelope
	if len(raw) > maxBodyFieldsLength {
		return Message{}, errors.New("mmsp: message too large")
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return Message{}, fmt.Errorf("mmsp: malformed message: %w", err)
	}
	if !e.CommandID.Set {
		return Message{}, errors.New("mmsp: message has no CommandID")
	}
	m := Message{Header: Header{
		CommandID: e.CommandID.V, SeqID: e.SeqID.V, NodeType: e.NodeType.V,
		NodeID: fieldString(e.NodeID), RetCode: e.RetCode.V, Answer: e.RetCode.Set,
		AgentNo: deref(e.AgentNo), MerNo: deref(e.MerNo), TermNo: deref(e.TermNo),
	}}
	m.ErrorMsg = deref(e.ErrorMsg)
	if m.ErrorMsg == "" {
		m.ErrorMsg = deref(e.ErrMsg)
	}
	if m.CommandID == CmdNegative {
		if !e.RetCode.Set {
			return Message{}, errors.New("mmsp: negative answer without RetCode")
		}
		return m, nil
	}
	m.Sign = deref(e.Sign)
	if len(e.Body) == 0 || e.Body[0] != '{' {
		return Message{}, errors.New("mmsp: message has no Body object")
	}
	canonical, err := CanonicalBody(e.Body)
	if err != nil {
		return Message{}, fmt.Errorf("mmsp: malformed Body: %w", err)
	}
	want := Sign(canonical, key, rule)
	if subtle.ConstantTimeCompare([]byte(strings.ToUpper(m.Sign)), []byte(want)) != 1 {
		return Message{}, ErrBadSignature
	}
	if err := json.Unmarshal(e.Body, &m.Fields); err != nil {
		return Message{}, fmt.Errorf("mmsp: malformed Body: %w", err)
	}
	m.Canonical = canonical
	return m, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// validText reports whether s is valid UTF-8 without control characters,
// the only text posagent puts in a Body.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
