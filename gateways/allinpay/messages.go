package allinpay

import (
	"fmt"
	"reflect"
	"strings"
)

// The wire messages, one struct per table in spec §1.5.2 and §1.5.3. Tags
// read `allinpay:"<field>,<class>..<max bytes>[,M]"`: the field name as the
// spec spells it, its data type (§1.5.1.2) and whether it is mandatory.
// Where two tables give one field different types (mchNo is AN 20 in the
// payment request and AS30 elsewhere) each struct follows its own table.

// Version is the only interface version the spec describes.
const Version = "V1.0"

// payRequest is §1.5.2.1, "Interface for Three Payment Methods": micropay
// (*_MICROPAY with authCode) and merchant QR (*_SCANCODE).
type payRequest struct {
	RequestNo   string `allinpay:"requestNo,AN..32,M"`
	Version     string `allinpay:"version,ANS..6,M"`
	AccessCode  string `allinpay:"accessCode,AN..20,M"`
	TransType   string `allinpay:"transType,AN..20,M"`
	SignType    string `allinpay:"signType,AN..8,M"`
	MchNo       string `allinpay:"mchNo,AN..20,M"`
	OutTransNo  string `allinpay:"outTransNo,AN..32,M"`
	TransAmount string `allinpay:"transAmount,N..12,M"`
	TipsAmount  string `allinpay:"tipsAmount,N..12"`
	Currency    string `allinpay:"currency,AN..10,M"`
	// notifyUrl's length is damaged in the table ("ANSx2"); the refund,
	// void and close tables give 256.
	NotifyURL string `allinpay:"notifyUrl,ANS..256,M"`
	StoreID   string `allinpay:"storeId,AN..20"`
	// terminalId is not in the table but is in the signing example
	// (§1.4.2) with a 20-digit value.
	TerminalID string `allinpay:"terminalId,AN..20"`
	LimitPay   string `allinpay:"limitPay,AN..20"`
	// authCode's length is damaged ("ANSx1"); 128 is the longest payment
	// code field among the wallets' own APIs.
	AuthCode   string `allinpay:"authCode,ANS..128"`
	ExpireTime string `allinpay:"expireTime,N..10"`
}

// queryRequest is §1.5.2.2, TRANS_QUERY.
type queryRequest struct {
	RequestNo     string `allinpay:"requestNo,AN..32,M"`
	Version       string `allinpay:"version,ANS..6,M"`
	AccessCode    string `allinpay:"accessCode,AN..20,M"`
	TransType     string `allinpay:"transType,AN..20,M"`
	SignType      string `allinpay:"signType,AN..8,M"`
	MchNo         string `allinpay:"mchNo,AS..30,M"`
	OriOutTransNo string `allinpay:"oriOutTransNo,AS..32,M"`
}

// refundRequest is §1.5.2.3, *_RETURN.
type refundRequest struct {
	RequestNo     string `allinpay:"requestNo,AN..32,M"`
	Version       string `allinpay:"version,ANS..6,M"`
	AccessCode    string `allinpay:"accessCode,AN..20,M"`
	TransType     string `allinpay:"transType,AN..20,M"`
	SignType      string `allinpay:"signType,AN..8,M"`
	MchNo         string `allinpay:"mchNo,AS..30,M"`
	OutTransNo    string `allinpay:"outTransNo,AS..32,M"`
	OriOutTransNo string `allinpay:"oriOutTransNo,AS..32,M"`
	TransAmount   string `allinpay:"transAmount,N..12,M"`
	Currency      string `allinpay:"currency,AN..10,M"`
	// refundReson is spelled so in the spec, and so on the wire.
	RefundReason string `allinpay:"refundReson,AS..256"`
	NotifyURL    string `allinpay:"notifyUrl,AS..256,M"`
}

// cancelRequest is §1.5.2.4 (void, *_CANCEL) and §1.5.2.5 (CLOSE_ORDER):
// the two tables list the same fields.
type cancelRequest struct {
	RequestNo     string `allinpay:"requestNo,AN..32,M"`
	Version       string `allinpay:"version,ANS..6,M"`
	AccessCode    string `allinpay:"accessCode,AN..20,M"`
	TransType     string `allinpay:"transType,AN..20,M"`
	SignType      string `allinpay:"signType,AN..8,M"`
	MchNo         string `allinpay:"mchNo,AS..30,M"`
	OutTransNo    string `allinpay:"outTransNo,AS..32,M"`
	OriOutTransNo string `allinpay:"oriOutTransNo,AS..32,M"`
	NotifyURL     string `allinpay:"notifyUrl,AS..256,M"`
}

// billRequest is §1.5.3.1, DOWNLOAD_CHECK_BILL. The table has no mchNo:
// the bill is the access organisation's.
type billRequest struct {
	RequestNo  string `allinpay:"requestNo,AN..32,M"`
	Version    string `allinpay:"version,ANS..6,M"`
	AccessCode string `allinpay:"accessCode,AN..20,M"`
	TransType  string `allinpay:"transType,AN..20,M"`
	SignType   string `allinpay:"signType,AN..8,M"`
	BillDate   string `allinpay:"billDate,N..8,M"`
}

// response is the union of every response table and the notification
// (§1.5.2.6). Received fields are not checked against the tables' types:
// the signature is what makes an answer trustworthy, and a refusal may
// leave out fields the tables mark mandatory yet must still be read. The
// client checks what it relies on (signature, requestNo echoed, codes).
type response struct {
	RequestNo   string `allinpay:"requestNo"`
	TransType   string `allinpay:"transType"`
	MchNo       string `allinpay:"mchNo"`
	OutTransNo  string `allinpay:"outTransNo"`
	ReturnCode  string `allinpay:"returnCode"`
	ReturnMsg   string `allinpay:"returnMsg"`
	ResultCode  string `allinpay:"resultCode"`
	ResultMsg   string `allinpay:"resultMsg"`
	CodeURL     string `allinpay:"codeUrl"`
	TransNo     string `allinpay:"transNo"`
	PayTime     string `allinpay:"payTime"`
	BankTradeNo string `allinpay:"bankTradeNo"`
	TransAmount string `allinpay:"transAmount"`
	Currency    string `allinpay:"currency"`
	BillData    string `allinpay:"billData"`
}

// requestType maps each command to its request table.
func requestType(transType string) (reflect.Type, bool) {
	switch {
	case strings.HasSuffix(transType, "_MICROPAY"), strings.HasSuffix(transType, "_SCANCODE"):
		return reflect.TypeFor[payRequest](), true
	case transType == "TRANS_QUERY":
		return reflect.TypeFor[queryRequest](), true
	case strings.HasSuffix(transType, "_RETURN"):
		return reflect.TypeFor[refundRequest](), true
	case strings.HasSuffix(transType, "_CANCEL"), transType == "CLOSE_ORDER":
		return reflect.TypeFor[cancelRequest](), true
	case transType == "DOWNLOAD_CHECK_BILL":
		return reflect.TypeFor[billRequest](), true
	}
	return nil, false
}

// ValidateRequest checks received request fields against the table of
// their transType, the way the platform would: mandatory fields present,
// types and lengths respected. Fields the table does not list are allowed
// (the spec's own signing example carries some). The simulator uses it.
func ValidateRequest(f Fields) error {
	t, ok := requestType(f["transType"])
	if !ok {
		return fmt.Errorf("field transType: unknown command %q", f["transType"])
	}
	for _, s := range specsOf(t) {
		if err := s.rule.check(f[s.name]); err != nil {
			return fmt.Errorf("field %s (%s..%d): %w", s.name, s.rule.class, s.rule.max, err)
		}
	}
	return nil
}
