package allpaysim

// The simulator's own reading of the AllPay V5 wire (allpay-v5.txt),
// written from the spec and not from gateways/allpay: form parsing, the
// §3 signature, the §4 request tables and §6 codes. Where the adapter
// reads the spec differently, the contract tests say so.

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// fields is one message: parameter names and raw values.
type fields map[string]string

// §4.1: one path per interface; the transType each serves.
var pathType = map[string]string{
	"/api/unifiedorder": "PURC",
	"/api/orderquery":   "INQY",
	"/api/refund":       "REFD",
	"/api/refundquery":  "RFQY",
	"/api/canc":         "VOID",
}

// §6 RespCodes and their descriptions, as the spec's table prints them.
var respMsg = map[string]string{
	"00": "Success", "01": "Fail", "04": "Processing", "61": "Exceed the limit",
	"U1": "Merchant ID is not exsit", "U2": "Signature is not correct", "U3": "Message is tampered",
	"U4": "Missing parameter", "U5": "Invalid parameter", "U6": "Repeat order number",
	"U7": "Order is not exist", "U8": "Parameter is null", "U9": "System error",
	"P1": "Channel is not setted", "P2": "Currency is not setted", "P3": "Balance is not enough",
	"P4": "Function is not supported", "P5": `Channel returns "Error"`,
}

// §3: every parameter but signature, sorted by name (ASCII), joined
// key=value&..., the key appended with no separator, hashed with signType.
func signText(f fields) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + f[k]
	}
	return strings.Join(parts, "&")
}

func digest(text, key, signType string) (string, bool) {
	switch signType {
	case "MD5":
		h := md5.Sum([]byte(text + key))
		return hex.EncodeToString(h[:]), true
	case "SHA256":
		h := sha256.Sum256([]byte(text + key))
		return hex.EncodeToString(h[:]), true
	}
	return "", false
}

// sign sets f's signature (lower-case hex; §3 names no case).
func sign(f fields, key string) {
	s, _ := digest(signText(f), key, f["signType"])
	f["signature"] = s
}

// signatureOK checks a request's signature, in either hex case.
func signatureOK(f fields, key, signType string) bool {
	if f["signType"] != signType {
		return false
	}
	want, ok := digest(signText(f), key, signType)
	return ok && strings.EqualFold(want, f["signature"])
}

// parseForm reads an application/x-www-form-urlencoded request body; a
// parameter given twice is refused.
func parseForm(body string) (fields, error) {
	v, err := url.ParseQuery(body)
	if err != nil {
		return nil, err
	}
	f := fields{}
	for k, vs := range v {
		if len(vs) != 1 {
			return nil, fmt.Errorf("parameter %s given %d times", k, len(vs))
		}
		f[k] = vs[0]
	}
	return f, nil
}

// jsonBody is an answer or notification: a flat JSON object of strings.
func jsonBody(f fields) []byte {
	b, _ := json.Marshal(map[string]string(f)) // strings only
	return b
}

// spec is one request table of §4: its M parameters and every
// parameter's String(n).
type spec struct {
	required []string
	max      map[string]int
}

var common = []string{"version", "charSet", "transType", "orderNum", "merID", "acqID", "paymentSchema", "transTime", "signType", "signature"}

// lengths of §4's tables (signature String(32) holds a 64-digit SHA256;
// signType String(3) in some tables holds "SHA256": both read as what
// they must hold).
var lengths = map[string]int{
	"version": 12, "charSet": 6, "transType": 4, "orderNum": 60, "origOrderNum": 60, "orderAmount": 12,
	"returnAmount": 12, "orderCurrency": 3, "frontURL": 400, "backURL": 400, "merID": 15, "acqID": 11,
	"paymentSchema": 10, "goodsInfo": 60, "detailInfo": 400, "transTime": 14, "merReserve": 1024,
	"signType": 10, "signature": 64, "tradeFrom": 10,
}

var tables = map[string]spec{
	"PURC": {required: append(append([]string{}, common...), "orderAmount", "orderCurrency", "frontURL", "backURL", "goodsInfo", "detailInfo", "tradeFrom")},
	"INQY": {required: common},
	"REFD": {required: append(append([]string{}, common...), "origOrderNum", "returnAmount", "orderCurrency")},
	"RFQY": {required: common},
	"VOID": {required: append(append([]string{}, common...), "origOrderNum")},
}

// checkTable returns the §6 code and message of a request that breaks
// its table: U8 a parameter present but empty, U4 a missing one, U5 one
// too long, a transTime that is not yyyyMMddHHmmss, a version or charSet
// other than the fixed values.
func checkTable(tt string, f fields) (string, string) {
	t := tables[tt]
	for _, k := range t.required {
		v, ok := f[k]
		switch {
		case !ok:
			return "U4", "Missing parameter " + k
		case v == "":
			return "U8", "Parameter is null: " + k
		}
	}
	for k, v := range f {
		if n, ok := lengths[k]; ok && len(v) > n {
			return "U5", fmt.Sprintf("Invalid parameter %s: longer than String(%d)", k, n)
		}
	}
	if f["version"] != "VER000000005" || f["charSet"] != "UTF-8" {
		return "U5", "Invalid parameter version or charSet"
	}
	if _, err := time.Parse("20060102150405", f["transTime"]); err != nil {
		return "U5", "Invalid parameter transTime"
	}
	if tt == "PURC" && f["tradeFrom"] != "QRCODE" {
		return "P4", "Function is not supported: tradeFrom " + f["tradeFrom"]
	}
	return "", ""
}

// beijing is the platform's clock (§4.8: "23:00 Beijing time").
var beijing = time.FixedZone("Beijing", 8*3600)

func gwTime(t time.Time) string { return t.In(beijing).Format("20060102150405") }
