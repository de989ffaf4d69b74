package allinpay

import (
	"github.com/posagent/posagent/gateways"
)

// Return and result codes (spec §1.7). returnCode says whether the request
// was processed; only then does resultCode say what came of it.
const (
	codeOK         = "0000" // returnCode and resultCode: success
	codeProcessing = "P000" // resultCode: in progress, query later
	codeUnsettled  = "9997" // resultCode: result not confirmed, query later
)

// opClass is what kind of operation an answer belongs to: the same code
// means different things for a payment, a query and a void.
type opClass int

const (
	classPay    opClass = iota // *_MICROPAY, *_SCANCODE
	classQuery                 // TRANS_QUERY of a payment or refund
	classVoid                  // *_CANCEL
	classClose                 // CLOSE_ORDER
	classRefund                // *_RETURN
	classBill                  // DOWNLOAD_CHECK_BILL
)

// Codes whose meaning differs from "failed" for some operations. The spec
// lists every code other than 0000, P000 and 9997 under "Fail"; read
// literally that would turn "the order already exists" into "nothing was
// charged" and invite a second payment. A code is taken as a failure only
// when its text says the request was refused or the payment did not happen.
var (
	// Still processing, whatever the operation (0051 "The transaction is
	// processing", 0058 "The mission has been executing").
	processingCodes = set(codeProcessing, codeUnsettled, "0051", "0058")
	// A submit answered with these may have created or paid the order:
	// 0022 "the order is recurrent", 0074 "The order has been paid",
	// 9999 "Unknown mistake". Query it.
	payUnknownCodes = set("0022", "0074", "9999")
	// A query answered with these tells nothing about the order: the query
	// itself was refused (bad request, merchant, keys, signature, busy).
	queryRefusedCodes = set("0001", "0002", "0003", "0009", "0010", "0011",
		"0012", "0013", "0014", "0018", "0045", "0046", "0047", "0049",
		"3406", "9994", "9996", "9999")
	// "Order doesn't exist" and "original transaction doesn't exist".
	notFoundCodes = set("0007", "0025")
	// A void that finds the original not (yet) successful: 0026 "status of
	// original transaction is abnormal", 0032 "doesn't support voiding".
	// Reverse then closes the order instead.
	voidNotPaidCodes = set("0026", "0032")
)

func set(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

// verdict is the normalised reading of one answer.
type verdict struct {
	status   gateways.Status
	code     string // the code that decided: resultCode, or returnCode when that failed
	reason   string
	notFound bool // the order does not exist (query: a pos.NotFound error)
}

// classify reads returnCode, then resultCode, for an operation of class c.
func classify(c opClass, r response) verdict {
	if r.ReturnCode != codeOK {
		v := verdict{status: gateways.StatusFailed, code: r.ReturnCode, reason: msgOr(r.ReturnMsg, "request refused")}
		if c == classQuery {
			// A refused query says nothing about the order.
			v.status = gateways.StatusUnknown
		}
		return v
	}
	code, msg := r.ResultCode, r.ResultMsg
	v := verdict{code: code, reason: msg}
	switch {
	case code == "":
		// returnCode 0000 without a business result: processed, outcome
		// not stated.
		v.status = gateways.StatusUnknown
		v.reason = msgOr(msg, "no business result in the answer")
	case code == codeOK:
		v.status = gateways.StatusSucceeded
	case processingCodes[code]:
		v.status = gateways.StatusUserPaying
		v.reason = msgOr(msg, "processing")
	default:
		v.status = gateways.StatusFailed
		v.reason = msgOr(msg, "failed")
		switch c {
		case classPay:
			if payUnknownCodes[code] {
				v.status = gateways.StatusUnknown
			}
		case classQuery:
			if notFoundCodes[code] {
				v.status, v.notFound = gateways.StatusUnknown, true
			} else if queryRefusedCodes[code] {
				v.status = gateways.StatusUnknown
			}
		case classVoid:
			switch code {
			case "0029": // original transaction has been voided: done already
				v.status = gateways.StatusSucceeded
			case "0033": // the last voiding is processing
				v.status = gateways.StatusUserPaying
			}
			v.notFound = notFoundCodes[code]
		case classClose:
			if code == "0039" { // order has been closed: done already
				v.status = gateways.StatusSucceeded
			}
			v.notFound = notFoundCodes[code]
		case classRefund:
			switch code {
			case "0034": // the last refunding is processing
				v.status = gateways.StatusUserPaying
			case "0022": // our refund number is known: the refund may exist
				v.status = gateways.StatusUnknown
			}
		}
	}
	return v
}

func msgOr(msg, def string) string {
	if msg != "" {
		return msg
	}
	return def
}
