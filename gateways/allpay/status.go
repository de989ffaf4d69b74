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

// refusals are codes that say the request was refused as sent: nothing
// was created, paid, refunded or voided.
var refusals = map[string]bool{
	RespFail: true, RespExceedLimit: true, RespNoMerchant: true, RespBadSignature: true,
	RespTampered: true, RespMissingParam: true, RespInvalidParam: true, RespNullParam: true,
	RespNoChannel: true, RespNoCurrency: true, RespNoBalance: true, RespNotSupported: true,
}

// orderFailed are the codes an inquiry can give that describe the order
// itself as failed (01 fail; 61 and P3, reasons a payment fails). Every
// other refusal code on an inquiry refuses the inquiry, not the order.
var orderFailed = map[string]bool{RespFail: true, RespExceedLimit: true, RespNoBalance: true}

// opClass is the operation an answer belongs to.
type opClass int

const (
	classPurchase    opClass = iota // PURC with tradeFrom=QRCODE
	classInquiry                    // INQY
	classRefund                     // REFD
	classRefundQuery                // RFQY
	classVoid                       // VOID
)

// verdict is the normalised reading of one RespCode.
type verdict struct {
	status   gateways.Status
	notFound bool // U7 on an operation that names an existing order
	repeat   bool // U6: our number is already in use; the caller resolves it
}

// classify maps a RespCode for an operation (the table in the package doc).
// Anything not listed is Unknown.
func classify(c opClass, code string) verdict {
	switch c {
	case classPurchase:
		switch {
		case code == RespSuccess:
			// Created: the code is shown, not yet paid.
			return verdict{status: gateways.StatusUserPaying}
		case code == RespRepeatOrderNum:
			return verdict{status: gateways.StatusUnknown, repeat: true}
		case refusals[code], code == RespChannelError:
			// No code_url reached the till, so nobody can pay this order.
			return verdict{status: gateways.StatusFailed}
		}
	case classInquiry, classRefundQuery:
		switch {
		case code == RespSuccess:
			return verdict{status: gateways.StatusSucceeded}
		case code == RespProcessing:
			return verdict{status: gateways.StatusUserPaying}
		case code == RespNoOrder:
			return verdict{status: gateways.StatusUnknown, notFound: true}
		case orderFailed[code]:
			return verdict{status: gateways.StatusFailed}
		}
	case classRefund:
		switch {
		case code == RespSuccess:
			return verdict{status: gateways.StatusSucceeded}
		case code == RespProcessing:
			return verdict{status: gateways.StatusUserPaying}
		case code == RespRepeatOrderNum:
			return verdict{status: gateways.StatusUnknown, repeat: true}
		case refusals[code], code == RespNoOrder:
			return verdict{status: gateways.StatusFailed}
		}
	case classVoid:
		switch {
		case code == RespSuccess:
			return verdict{status: gateways.StatusSucceeded}
		case code == RespProcessing:
			return verdict{status: gateways.StatusUserPaying}
		case code == RespRepeatOrderNum:
			return verdict{status: gateways.StatusUnknown, repeat: true}
		case code == RespNoOrder:
			return verdict{status: gateways.StatusUnknown, notFound: true}
		case refusals[code]:
			return verdict{status: gateways.StatusFailed}
		}
	}
	return verdict{status: gateways.StatusUnknown}
}
