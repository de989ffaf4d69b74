package allinpay

import (
	"slices"
	"strings"

	"github.com/posagent/posagent/gateways"
)

// Return and result codes (spec §1.7). returnCode says whether the request
// was processed; only then does resultCode say what came of it.
const (
	codeOK         = "0000" // returnCode and resultCode: success
	codeProcessing = "P000" // resultCode: in progress, query later
	codeUnsettled  = "9997" // resultCode: result not confirmed, query later
)

// operation is what an answer is the answer to: the same code means
// different things for a payment, a query and a void, so every operation
// has its own outcome table.
type operation int

const (
	opPay         operation = iota // *_MICROPAY, *_SCANCODE, PAYNOW_SCANCODE (§1.5.2.1)
	opQuery                        // TRANS_QUERY of a payment order (§1.5.2.2)
	opVoid                         // *_CANCEL (§1.5.2.4)
	opClose                        // CLOSE_ORDER (§1.5.2.5)
	opRefund                       // *_RETURN (§1.5.2.3)
	opRefundQuery                  // TRANS_QUERY of a refund's own number (undocumented; §1.5.2.2)
	opBill                         // DOWNLOAD_CHECK_BILL (§1.5.3.1)
)

var opNames = map[operation]string{
	opPay: "pay", opQuery: "query", opVoid: "void", opClose: "close",
	opRefund: "refund", opRefundQuery: "refund query", opBill: "bill",
}

func (o operation) String() string { return opNames[o] }

// outcome is what one code means for one operation. The zero value is
// outUnknown, so a code nobody wrote a row for can never read as a failure.
type outcome int

const (
	// outUnknown: the answer says nothing trustworthy about the order:
	// query (a payment), retry (a void or close), keep holding (a refund).
	outUnknown outcome = iota
	// outSucceeded: paid, voided, closed, refunded.
	outSucceeded
	// outProcessing: still in progress; ask again later.
	outProcessing
	// outFailed: definitively not done. For a payment: nothing was
	// charged (the order ended closed, voided or declined, or the request
	// was refused before it could reach a wallet). For a void or close:
	// not executed (the caller then queries the order). For a refund: not
	// executed, its amount is free again.
	outFailed
	// outNotFound: the platform has no order with the number asked about.
	outNotFound
	// outReadResult: returnCode 0000, read resultCode.
	outReadResult
)

func (o outcome) String() string {
	switch o {
	case outSucceeded:
		return "succeeded"
	case outProcessing:
		return "processing"
	case outFailed:
		return "failed"
	case outNotFound:
		return "not found"
	case outReadResult:
		return "read resultCode"
	}
	return "unknown"
}

// row is one code's reading for one operation and where the spec says so.
type row struct {
	out     outcome
	section string
	why     string // when the reading is not the code's text taken literally
}

// specCodes are the codes of §1.7.2 (which share one code space with
// §1.7.1's returnCode) in the spec's own words. The coverage test checks
// this list against the spec file.
var specCodes = []struct{ code, text string }{
	{"0000", "succeed"},
	{"P000", "Transaction is processing"},
	{"9997", "The transaction result is not confirmed."},
	{"0001", "The request parameters are illegal"},
	{"0002", "Merchant ID cannot be null"},
	{"0003", "Merchant order number cannot be null"},
	{"0004", "The mobile phone number recorded by the bank cannot be null."},
	{"0005", "Transaction amount cannot be null."},
	{"0006", "Card number cannot be null."},
	{"0007", "Order doesn't exist"},
	{"0008", "transaction at risk"},
	{"0009", "Verifying signature field cannot be null."},
	{"0010", "Merchant information doesn't exist."},
	{"0011", "Merchant status is abnormal"},
	{"0012", "Failure in verifying signature"},
	{"0013", "Secret key information doesn't exist."},
	{"0014", "Secret key has been ineffective"},
	{"0016", "Product information doesn't exist."},
	{"0017", "Product information status is abnormal."},
	{"0018", "unauthorized transaction"},
	{"0019", "failure in creating order"},
	{"0022", "the order is recurrent"},
	{"0023", "transaction amount exceeds the limit"},
	{"0024", "order to be voided"},
	{"0025", "original transaction doesn't exist."},
	{"0026", "The status of original transaction is abnormal"},
	{"0027", "Transaction amount is illegal"},
	{"0029", "original transaction has been voided."},
	{"0031", "Original transaction has initiated voiding or refunding."},
	{"0032", "Original transaction doesn't support voiding."},
	{"0033", "The last voiding is processing"},
	{"0034", "The last refunding is processing"},
	{"0035", "Transaction is not allowed during the period of time."},
	{"0036", "The transaction doesn't support refunding."},
	{"0038", "Order has been paid and is not allowed to close."},
	{"0039", "Order has been closed."},
	{"0040", "The order is abnormal and please contact the administrator."},
	{"0045", "Access organization ID is wrong."},
	{"0046", "The status of access organization ID is abnormal"},
	{"0047", "Unauthorized transaction"},
	{"0048", "The size of the files exceeds the limit, the maximum size is 5M"},
	{"0049", "The organization status is abnormal"},
	{"0051", "The transaction is processing."},
	{"0055", "Transaction amount is irrelevant to the one of original transaction"},
	{"0056", "The order has been partially refunded."},
	{"0058", "The mission has been executing, and don't initiate repeatedly."},
	{"0074", "The order has been paid."},
	{"0076", "The QR code has expired. Please ask the user to refresh it."},
	{"0077", "The card type is not supported."},
	{"0078", "Parameters of authorization code are wrong."},
	{"0079", "The result of verifying authorized code is wrong."},
	{"0080", "The Wechat Pay ID is wrong."},
	{"0081", "Wechat APPID doesn't exist."},
	{"0082", "Wechat MCHID doesn't exist."},
	{"0083", "Wechat APPID doesn't match MCH_ID"},
	{"0084", "Information of channel link doesn't exist."},
	{"0085", "Channel terminal has signed in"},
	{"3003", "Triggering risk management of amount limit of one order"},
	{"3004", "Triggering risk management of amount limit of one day"},
	{"3009", "Lower than starting limit of transaction"},
	{"3010", "The number of transaction in one day exceeds the limit"},
	{"3200", "Product lacks rate"},
	{"3201", "Only one T1 rate is allowed for non-acquiring or quick product"},
	{"3203", "The organization you belong to has not used the product."},
	{"3205", "The product rate cannot be higher than 1"},
	{"3206", "The product rate is lower than the one of the organization you belong to"},
	{"3207", "the lowest amount of the product is lower than the one of the organization you belong to"},
	{"3406", "The systematic secret key is wrong"},
	{"9994", "The format of time inquiry is wrong"},
	{"9996", "The system is busy"},
	{"9998", "Transaction fails"},
	{"9999", "Unknown mistake, please contact the administrator."},
	{"R000", "Order to be voided"},
}

// Groups of codes with one reading in several tables.
var (
	// processing is the spec's "Processing" group (P000, 9997: "needs to be
	// confirmed by sending transaction inquiry") and the two codes whose
	// text says the same (0051, 0058).
	processing = []string{"P000", "9997", "0051", "0058"}
	// admission are refusals of the request itself, before any business
	// logic: a parameter missing or illegal, the merchant, the access
	// organisation, the keys or the signature. A request refused so never
	// reached a wallet or moved money.
	admission = []string{"0001", "0002", "0003", "0004", "0005", "0006", "0009", "0010",
		"0011", "0012", "0013", "0014", "0018", "0045", "0046", "0047", "0049", "3406"}
	// product are the merchant's product configuration refusals (no such
	// product, no rate): the platform cannot route the payment at all.
	product = []string{"0016", "0017", "3200", "3201", "3203", "3205", "3206", "3207"}
	// declined are the codes that say a payment was refused: risk, limits,
	// the customer's code, "failure in creating order", "Transaction
	// fails". On a query they state how the order ended.
	declined = []string{"0008", "0019", "0023", "0076", "0077", "0078", "0079",
		"3003", "3004", "3009", "3010", "9998"}
	// channel are the WeChat channel's configuration refusals: a payment
	// submit so answered cannot have reached the wallet; on a query they
	// say nothing about the order.
	channel = []string{"0080", "0081", "0082", "0083", "0084"}
	// paid are codes that say the order was paid: never a failure of it.
	paid = []string{"0074", "0038", "0056", "0031"}
)

// table is the outcome of every spec code for one operation and one field
// (returnCode or resultCode). Codes without an explicit reading are
// Unknown rows, written into the table so that the table is complete and
// the coverage test can tell an omission from a decision.
type table struct {
	name string
	rows map[string]row
}

func (t table) lookup(code string) row {
	if r, ok := t.rows[code]; ok {
		return r
	}
	return row{out: outUnknown, section: "§1.7", why: "not a code the spec lists: Unknown"}
}

// build makes a complete table: the explicit readings, every other spec
// code Unknown.
func build(name, section string, groups ...reading) table {
	t := table{name: name, rows: map[string]row{}}
	for _, g := range groups {
		for _, c := range g.codes {
			if _, dup := t.rows[c]; dup {
				panic("allinpay: code " + c + " twice in table " + name)
			}
			t.rows[c] = row{out: g.out, section: g.section, why: g.why}
		}
	}
	for _, c := range specCodes {
		if _, ok := t.rows[c.code]; !ok {
			t.rows[c.code] = row{out: outUnknown, section: section,
				why: "says nothing certain about the order for this operation"}
		}
	}
	return t
}

type reading struct {
	codes   []string
	out     outcome
	section string
	why     string
}

func codes(groups ...[]string) []string { return slices.Concat(groups...) }

// returnCode tables (§1.7.1: "0000 succeed, judge the transaction result by
// resultCode; others all fail"). "All fail" is read as "the request was not
// processed": only the admission refusals prove that nothing reached a
// wallet; §1.7.2's other codes share the code space and say nothing on
// their own, so they are Unknown.
var (
	returnPay = build("pay returnCode", "§1.7.1",
		reading{[]string{codeOK}, outReadResult, "§1.7.1", "0000: judge by resultCode"},
		reading{codes(admission, product), outFailed, "§1.7.1, §1.7.2", "the request was refused before it could reach a wallet"},
	)
	returnQuery = build("query returnCode", "§1.7.1",
		reading{[]string{codeOK}, outReadResult, "§1.7.1", "0000: judge by resultCode"},
		reading{[]string{"0007", "0025"}, outNotFound, "§1.7.2", "no such order"},
	)
	// A refund's own number is not what TRANS_QUERY takes (oriOutTransNo
	// is "original transaction number of merchant", §1.5.2.2): not found
	// there proves nothing, so it is Unknown like every other refusal.
	returnRefundQuery = build("refund query returnCode", "§1.7.1",
		reading{[]string{codeOK}, outReadResult, "§1.7.1", "0000: judge by resultCode"},
	)
	// A void, close or refund refused at admission was not executed.
	returnAct = build("void/close/refund returnCode", "§1.7.1",
		reading{[]string{codeOK}, outReadResult, "§1.7.1", "0000: judge by resultCode"},
		reading{codes(admission), outFailed, "§1.7.1, §1.7.2", "the request was refused before it was processed: not executed"},
	)
	returnBill = build("bill returnCode", "§1.7.1",
		reading{[]string{codeOK}, outReadResult, "§1.7.1", "0000: judge by resultCode"},
	)
)

// resultCode tables (§1.7.2), one per operation.
var (
	// A payment submit (§1.5.2.1). Failed only where no money can have
	// moved: refused at admission or routing, or declined.
	resultPay = build("pay resultCode", "§1.7.2",
		reading{[]string{codeOK}, outSucceeded, "§1.7.2", "transact successfully"},
		reading{processing, outProcessing, "§1.7.2", "needs transaction inquiry"},
		reading{codes(admission, product, channel), outFailed, "§1.7.2", "refused before it could reach a wallet"},
		reading{codes(declined, []string{"0027", "0035"}), outFailed, "§1.7.2", "declined: the payment was refused"},
		// 0022 "recurrent", 0074 "paid", 9999, 9996, 0040, 0024, R000 and
		// everything else: Unknown (query; the query's amount decides
		// whether the order is ours).
	)
	// A query of a payment order (§1.5.2.2). Failed only for codes that
	// state how the order ended: closed, voided, declined.
	resultQuery = build("query resultCode", "§1.7.2",
		reading{[]string{codeOK}, outSucceeded, "§1.7.2", "transact successfully"},
		reading{codes(processing, []string{"0033", "0034"}), outProcessing, "§1.7.2", "in progress"},
		reading{[]string{"0007", "0025"}, outNotFound, "§1.7.2", "no such order"},
		reading{codes(declined, []string{"0029", "0039"}), outFailed, "§1.7.2", "the order ended: declined, voided (0029) or closed (0039)"},
		// 0074, 0038, 0056, 0031 (paid), 0024/R000 (to be voided), 0040,
		// 9996, 9999, 0035, refusals of the query itself: Unknown.
	)
	// A void (§1.5.2.4: "only successful transactions are acceptable to
	// be voided", same day only). Failed is "not voided"; the caller
	// queries the order before concluding anything about the money.
	resultVoid = build("void resultCode", "§1.7.2",
		reading{[]string{codeOK, "0029"}, outSucceeded, "§1.7.2, §1.5.2.4", "voided (0029: already voided)"},
		reading{codes(processing, []string{"0033", "0024", "R000"}), outProcessing, "§1.7.2", "the void is in progress (0033; 0024/R000 order to be voided)"},
		reading{[]string{"0007", "0025"}, outNotFound, "§1.7.2", "no such order"},
		reading{codes(admission, []string{"0026", "0032", "0031", "0036", "0038", "0039", "0056", "0074", "0035"}), outFailed, "§1.5.2.4, §1.7.2",
			"not voided: the order is not a successful same-day order (0026, 0032, 0039), has a refund (0031, 0056) or the void was refused; query it"},
	)
	// A close (§1.5.2.5: WeChat Pay and Alipay QR orders). Failed is "not
	// closed"; the caller queries.
	resultClose = build("close resultCode", "§1.7.2",
		reading{[]string{codeOK, "0039", "0029"}, outSucceeded, "§1.7.2, §1.5.2.5", "closed (0039: already closed; 0029: voided, cannot be paid either)"},
		reading{processing, outProcessing, "§1.7.2", "in progress"},
		reading{[]string{"0007", "0025"}, outNotFound, "§1.7.2", "no such order"},
		reading{codes(admission, paid, []string{"0026", "0032", "0035"}), outFailed, "§1.5.2.5, §1.7.2",
			"not closed: the order is paid (0038, 0074, 0056, 0031) or the close was refused; query it"},
	)
	// A refund (§1.5.2.3). Failed only where the refund cannot have been
	// executed; 9999, 9996, 0040 and every other code keep its amount held.
	resultRefund = build("refund resultCode", "§1.7.2",
		reading{[]string{codeOK}, outSucceeded, "§1.7.2, §1.5.2.3", "refunded"},
		reading{codes(processing, []string{"0034"}), outProcessing, "§1.7.2", "the refund is in progress"},
		reading{codes(admission, product, []string{"0007", "0025", "0026", "0027", "0029", "0036", "0039", "0055", "0008", "0023", "9998"}), outFailed,
			"§1.5.2.3, §1.7.2", "refused: the original cannot be refunded (not found, not paid, voided, closed, no refunds) or the amount is refused"},
		// 0022 (our refund number is known), 0031, 0056, 0033, 0040,
		// 9996, 9999: Unknown, the amount stays held.
	)
	// A refund looked up by its own number.
	resultRefundQuery = build("refund query resultCode", "§1.7.2",
		reading{[]string{codeOK}, outSucceeded, "§1.7.2", "the refund transaction succeeded"},
		reading{codes(processing, []string{"0033", "0034"}), outProcessing, "§1.7.2", "the refund is in progress"},
		reading{[]string{"9998"}, outFailed, "§1.7.2", "the refund transaction failed"},
		// 0007/0025 on the refund's own number: Unknown (the spec's query
		// takes the original's number); settled by the original and the bill.
	)
	resultBill = build("bill resultCode", "§1.7.2",
		reading{[]string{codeOK}, outSucceeded, "§1.7.2, §1.5.3.1", "the bill"},
		reading{codes(processing, []string{"9996"}), outProcessing, "§1.7.2", "try again later"},
		reading{[]string{"0007", "0025"}, outNotFound, "§1.7.2", "no bill"},
	)
)

var tables = map[operation][2]table{
	opPay:         {returnPay, resultPay},
	opQuery:       {returnQuery, resultQuery},
	opVoid:        {returnAct, resultVoid},
	opClose:       {returnAct, resultClose},
	opRefund:      {returnAct, resultRefund},
	opRefundQuery: {returnRefundQuery, resultRefundQuery},
	opBill:        {returnBill, resultBill},
}

// verdict is the normalised reading of one answer.
type verdict struct {
	status   gateways.Status
	out      outcome
	code     string // the code that decided: resultCode, or returnCode when that did
	reason   string
	section  string
	notFound bool // the platform has no such order
}

// classify reads returnCode, then resultCode, for operation op. A missing
// returnCode (mandatory in every response table) or an unlisted one is
// Unknown; so is a missing resultCode after 0000.
func classify(op operation, r response) verdict {
	tt := tables[op]
	if r.ReturnCode == "" {
		return verdict{status: gateways.StatusUnknown, out: outUnknown, reason: "no returnCode in the answer", section: "§1.7.1"}
	}
	rr := tt[0].lookup(r.ReturnCode)
	if rr.out != outReadResult {
		return verdictOf(rr, r.ReturnCode, msgOr(r.ReturnMsg, "request refused"))
	}
	if r.ResultCode == "" {
		return verdict{status: gateways.StatusUnknown, out: outUnknown, reason: msgOr(r.ResultMsg, "no business result in the answer"), section: "§1.7.2"}
	}
	return verdictOf(tt[1].lookup(r.ResultCode), r.ResultCode, r.ResultMsg)
}

func verdictOf(rw row, code, msg string) verdict {
	v := verdict{out: rw.out, code: code, reason: msg, section: rw.section}
	switch rw.out {
	case outSucceeded:
		v.status = gateways.StatusSucceeded
	case outProcessing:
		v.status = gateways.StatusUserPaying
		v.reason = msgOr(msg, "processing")
	case outFailed:
		v.status = gateways.StatusFailed
		v.reason = msgOr(msg, "failed")
	case outNotFound:
		v.status, v.notFound = gateways.StatusUnknown, true
		v.reason = msgOr(msg, "not found")
	default:
		v.status = gateways.StatusUnknown
		v.reason = msgOr(msg, "outcome not stated")
	}
	return v
}

func msgOr(msg, def string) string {
	if msg != "" {
		return msg
	}
	return def
}

// summary renders the tables as the package doc lists them: per table,
// the codes of every outcome but Unknown (every other code is Unknown).
// A test keeps doc.go's copy equal to it.
func summary() []string {
	order := []struct {
		op  operation
		idx int
	}{{opPay, 0}, {opPay, 1}, {opQuery, 0}, {opQuery, 1}, {opVoid, 1}, {opClose, 1}, {opVoid, 0},
		{opRefund, 1}, {opRefundQuery, 0}, {opRefundQuery, 1}, {opBill, 1}}
	var out []string
	for _, o := range order {
		t := tables[o.op][o.idx]
		var parts []string
		for _, oc := range []outcome{outReadResult, outSucceeded, outProcessing, outFailed, outNotFound} {
			var cs []string
			for _, c := range specCodes {
				if t.rows[c.code].out == oc {
					cs = append(cs, c.code)
				}
			}
			if len(cs) > 0 {
				slices.Sort(cs)
				parts = append(parts, oc.String()+": "+strings.Join(cs, " "))
			}
		}
		name := t.name
		if o.op == opVoid && o.idx == 0 {
			name = "void/close/refund returnCode"
		}
		out = append(out, name+" — "+strings.Join(parts, "; ")+"; any other: unknown")
	}
	return out
}
