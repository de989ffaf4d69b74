package allpay

import "github.com/posagent/posagent/gateways"

// RespCodes of §6. The spec gives one table for every interface; what a
// code means for the order depends on the operation it answers.
const (
	RespSuccess        = "00"
	RespFail           = "01"
	RespProcessing     = "04"
	RespExceedLimit    = "61"
	RespNoMerchant     = "U1"
	RespBadSignature   = "U2"
	RespTampered       = "U3"
	RespMissingParam   = "U4"
	RespInvalidParam   = "U5"
	RespRepeatOrderNum = "U6"
	RespNoOrder        = "U7"
	RespNullParam      = "U8"
	RespSystemError    = "U9"
	RespNoChannel      = "P1"
	RespNoCurrency     = "P2"
	RespNoBalance      = "P3"
	RespNotSupported   = "P4"
	RespChannelError   = "P5"
)

// opClass is the operation an answer belongs to.
type opClass int

const (
	classPurchase     opClass = iota // PURC with tradeFrom=QRCODE
	classInquiry                     // INQY
	classRefund                      // REFD
	classRefundQuery                 // RFQY
	classVoid                        // VOID
	classNotification                // the PURC notification to backURL
)

func (c opClass) String() string {
	return [...]string{"PURC", "INQY", "REFD", "RFQY", "VOID", "notification"}[c]
}

// outcome is what one RespCode says for one operation.
type outcome int

const (
	// outUnknown: says nothing definite (the zero value: an unlisted code).
	outUnknown outcome = iota
	outSucceeded
	outUserPaying // created and payable, or still processing
	outFailed
	// outFailedAfterWindow: INQY 01, 61, P3. Failed once the order's
	// payable window is over; inside it, the order may still be paid
	// (user paying). See the package doc, "Inquiry status".
	outFailedAfterWindow
	outNotFound // U7 on an operation that names an existing order: pos.NotFound
	outRepeat   // U6: our number is in use; the caller reads the order instead
)

// row is one line of an outcome table: a §6 code, its outcome for the
// operation, and the spec sections the reading comes from.
type row struct {
	code    string
	out     outcome
	section string
}

// The outcome tables, one per operation, every §6 code listed (the test
// TestOutcomeTablesCoverSpec reads the spec and fails on a missing code).
// A code in no row is Unknown.
var (
	// PURC tradeFrom=QRCODE (§4.2, §5.1.1, §5.2.4, §5.9.2): a refusal is
	// Failed because no code_url reached the till, so no customer can pay
	// that order.
	purchaseTable = []row{
		{RespSuccess, outUserPaying, "§5.1.1 00 with code_url: created, shown, not paid yet"},
		{RespFail, outFailed, "§5.1.1 01 fail: no code_url"},
		{RespProcessing, outUnknown, "§6 04: created or not: query"},
		{RespExceedLimit, outFailed, "§6 61: refused, no code_url"},
		{RespNoMerchant, outFailed, "§6 U1: refused, no code_url"},
		{RespBadSignature, outFailed, "§6 U2: refused, no code_url"},
		{RespTampered, outFailed, "§6 U3: refused, no code_url"},
		{RespMissingParam, outFailed, "§6 U4: refused, no code_url"},
		{RespInvalidParam, outFailed, "§6 U5: refused, no code_url"},
		{RespRepeatOrderNum, outRepeat, "§4.2 orderNum not repeated; §6 U6: the number is known: query it"},
		{RespNoOrder, outUnknown, "§6 U7 on a create says nothing definite"},
		{RespNullParam, outFailed, "§6 U8: refused, no code_url"},
		{RespSystemError, outUnknown, "§6 U9 system error"},
		{RespNoChannel, outFailed, "§6 P1: refused, no code_url"},
		{RespNoCurrency, outFailed, "§6 P2: refused, no code_url"},
		{RespNoBalance, outFailed, "§6 P3: refused, no code_url"},
		{RespNotSupported, outFailed, "§6 P4: refused, no code_url"},
		{RespChannelError, outFailed, "§6 P5: the channel refused, no code_url"},
	}
	// INQY (§4.3): RespCode is the only status. 00 paid, 04 processing;
	// 01, 61 and P3 describe a payment that did not happen, final only
	// after the payable window; the other refusals refuse the inquiry.
	inquiryTable = []row{
		{RespSuccess, outSucceeded, "§4.3 00 success: paid"},
		{RespFail, outFailedAfterWindow, "§4.3 01 fail: not paid; final only after the payable window"},
		{RespProcessing, outUserPaying, "§6 04 processing"},
		{RespExceedLimit, outFailedAfterWindow, "§6 61 exceed the limit: the customer may pay otherwise within the window"},
		{RespNoMerchant, outUnknown, "§6 U1: the inquiry was refused"},
		{RespBadSignature, outUnknown, "§6 U2: the inquiry was refused"},
		{RespTampered, outUnknown, "§6 U3: the inquiry was refused"},
		{RespMissingParam, outUnknown, "§6 U4: the inquiry was refused"},
		{RespInvalidParam, outUnknown, "§6 U5: the inquiry was refused"},
		{RespRepeatOrderNum, outUnknown, "§6 U6 means nothing on an inquiry"},
		{RespNoOrder, outNotFound, "§6 U7 order is not exist"},
		{RespNullParam, outUnknown, "§6 U8: the inquiry was refused"},
		{RespSystemError, outUnknown, "§6 U9 system error"},
		{RespNoChannel, outUnknown, "§6 P1: the inquiry was refused"},
		{RespNoCurrency, outUnknown, "§6 P2: the inquiry was refused"},
		{RespNoBalance, outFailedAfterWindow, "§6 P3 balance not enough: the customer may pay otherwise within the window"},
		{RespNotSupported, outUnknown, "§6 P4: the inquiry was refused"},
		{RespChannelError, outUnknown, "§6 P5 channel error"},
	}
	// REFD (§4.4): a refusal refunds nothing; U6 is settled by RFQY.
	refundTable = []row{
		{RespSuccess, outSucceeded, "§4.4 00 success: refunded"},
		{RespFail, outFailed, "§4.4 01 fail"},
		{RespProcessing, outUserPaying, "§6 04 processing: query with RFQY"},
		{RespExceedLimit, outFailed, "§4.4 refund within the day's amount; §6 61 exceed the limit"},
		{RespNoMerchant, outFailed, "§6 U1: refused"},
		{RespBadSignature, outFailed, "§6 U2: refused"},
		{RespTampered, outFailed, "§6 U3: refused"},
		{RespMissingParam, outFailed, "§6 U4: refused"},
		{RespInvalidParam, outFailed, "§6 U5: refused"},
		{RespRepeatOrderNum, outRepeat, "§4.4 refund number not repeated; §6 U6: ask RFQY"},
		{RespNoOrder, outFailed, "§6 U7: no original order to refund"},
		{RespNullParam, outFailed, "§6 U8: refused"},
		{RespSystemError, outUnknown, "§6 U9 system error"},
		{RespNoChannel, outFailed, "§6 P1: refused"},
		{RespNoCurrency, outFailed, "§6 P2: refused"},
		{RespNoBalance, outFailed, "§6 P3 balance not enough: refused"},
		{RespNotSupported, outFailed, "§6 P4: refused"},
		{RespChannelError, outUnknown, "§6 P5: the channel's own error says nothing definite"},
	}
	// RFQY (§4.5): 00, 04 and 01 describe the refund; the rest refuse the
	// inquiry.
	refundQueryTable = []row{
		{RespSuccess, outSucceeded, "§4.5 00 success: refunded"},
		{RespFail, outFailed, "§4.5 01 fail: the refund failed"},
		{RespProcessing, outUserPaying, "§6 04 processing"},
		{RespExceedLimit, outUnknown, "§6 61 on an inquiry may limit the inquiry"},
		{RespNoMerchant, outUnknown, "§6 U1: the inquiry was refused"},
		{RespBadSignature, outUnknown, "§6 U2: the inquiry was refused"},
		{RespTampered, outUnknown, "§6 U3: the inquiry was refused"},
		{RespMissingParam, outUnknown, "§6 U4: the inquiry was refused"},
		{RespInvalidParam, outUnknown, "§6 U5: the inquiry was refused"},
		{RespRepeatOrderNum, outUnknown, "§6 U6 means nothing on an inquiry"},
		{RespNoOrder, outNotFound, "§6 U7: no such refund"},
		{RespNullParam, outUnknown, "§6 U8: the inquiry was refused"},
		{RespSystemError, outUnknown, "§6 U9 system error"},
		{RespNoChannel, outUnknown, "§6 P1: the inquiry was refused"},
		{RespNoCurrency, outUnknown, "§6 P2: the inquiry was refused"},
		{RespNoBalance, outUnknown, "§6 P3 on an inquiry says nothing definite"},
		{RespNotSupported, outUnknown, "§6 P4: the inquiry was refused"},
		{RespChannelError, outUnknown, "§6 P5 channel error"},
	}
	// VOID (§4.8, documented for cards): 00 cancelled. Anything else is
	// settled by reading the order (INQY), in Reverse; the table says
	// what the VOID answer alone proves.
	voidTable = []row{
		{RespSuccess, outSucceeded, "§4.8 00 success: cancelled"},
		{RespFail, outFailed, "§4.8 01 fail: not cancelled"},
		{RespProcessing, outUserPaying, "§6 04 processing"},
		{RespExceedLimit, outFailed, "§6 61: refused"},
		{RespNoMerchant, outFailed, "§6 U1: refused"},
		{RespBadSignature, outFailed, "§6 U2: refused"},
		{RespTampered, outFailed, "§6 U3: refused"},
		{RespMissingParam, outFailed, "§6 U4: refused"},
		{RespInvalidParam, outFailed, "§6 U5: refused (e.g. a paymentSchema other than FC)"},
		{RespRepeatOrderNum, outRepeat, "§4.8 orderNum not repeated; §6 U6: read the order"},
		{RespNoOrder, outNotFound, "§6 U7: no original order"},
		{RespNullParam, outFailed, "§6 U8: refused"},
		{RespSystemError, outUnknown, "§6 U9 system error"},
		{RespNoChannel, outFailed, "§6 P1: refused"},
		{RespNoCurrency, outFailed, "§6 P2: refused"},
		{RespNoBalance, outFailed, "§6 P3: refused"},
		{RespNotSupported, outFailed, "§6 P4 function not supported: refused"},
		{RespChannelError, outUnknown, "§6 P5 channel error"},
	}
	// The notification (§4.2.3) reports the payment's result: only 00
	// says paid; every other code is Unknown (query), so a QR order the
	// customer may still pay is never ended by a notification.
	notificationTable = []row{
		{RespSuccess, outSucceeded, "§4.2.3 00 success: paid"},
		{RespFail, outUnknown, "§4.2.3 01: query rather than end a payable order"},
		{RespProcessing, outUnknown, "§6 04"},
		{RespExceedLimit, outUnknown, "§6 61"},
		{RespNoMerchant, outUnknown, "§6 U1"},
		{RespBadSignature, outUnknown, "§6 U2"},
		{RespTampered, outUnknown, "§6 U3"},
		{RespMissingParam, outUnknown, "§6 U4"},
		{RespInvalidParam, outUnknown, "§6 U5"},
		{RespRepeatOrderNum, outUnknown, "§6 U6"},
		{RespNoOrder, outUnknown, "§6 U7"},
		{RespNullParam, outUnknown, "§6 U8"},
		{RespSystemError, outUnknown, "§6 U9"},
		{RespNoChannel, outUnknown, "§6 P1"},
		{RespNoCurrency, outUnknown, "§6 P2"},
		{RespNoBalance, outUnknown, "§6 P3"},
		{RespNotSupported, outUnknown, "§6 P4"},
		{RespChannelError, outUnknown, "§6 P5"},
	}
)

// tables are the outcome tables by operation.
var tables = map[opClass][]row{
	classPurchase:     purchaseTable,
	classInquiry:      inquiryTable,
	classRefund:       refundTable,
	classRefundQuery:  refundQueryTable,
	classVoid:         voidTable,
	classNotification: notificationTable,
}

// lookup returns the row of code for operation c; an unlisted code is
// Unknown.
func lookup(c opClass, code string) row {
	for _, r := range tables[c] {
		if r.code == code {
			return r
		}
	}
	return row{code: code, out: outUnknown, section: "not in §6: unknown"}
}

// verdict is the normalised reading of one RespCode.
type verdict struct {
	status   gateways.Status
	notFound bool // U7 on an operation that names an existing order
	repeat   bool // U6: our number is already in use; the caller resolves it
	section  string
}

// classify maps a RespCode for an operation through its table.
// inWindow says whether the order may still be paid (INQY 01, 61, P3 are
// then not final).
func classify(c opClass, code string, inWindow bool) verdict {
	r := lookup(c, code)
	v := verdict{section: r.section}
	switch r.out {
	case outSucceeded:
		v.status = gateways.StatusSucceeded
	case outUserPaying:
		v.status = gateways.StatusUserPaying
	case outFailed:
		v.status = gateways.StatusFailed
	case outFailedAfterWindow:
		v.status = gateways.StatusFailed
		if inWindow {
			v.status = gateways.StatusUserPaying
		}
	case outNotFound:
		v.status, v.notFound = gateways.StatusUnknown, true
	case outRepeat:
		v.status, v.repeat = gateways.StatusUnknown, true
	default:
		v.status = gateways.StatusUnknown
	}
	return v
}
