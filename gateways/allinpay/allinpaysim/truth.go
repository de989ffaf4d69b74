package allinpaysim

import (
	"github.com/posagent/posagent/gateways/sim"
)

// kind is how this simulator reads a §1.7.2 code: what it tells about the
// order, independently of the adapter's tables.
type kind int

const (
	other      kind = iota // says nothing certain about the order
	success                // 0000
	processing             // "needs to be confirmed by sending transaction inquiry"
	refused                // the request was refused before any business logic
	declined               // the payment was refused
	ended                  // the order ended: voided, closed
)

type codeWords struct {
	words string
	kind  kind
}

// resultTable is §1.7.2 as this simulator reads it.
var resultTable = map[string]codeWords{
	"0000": {"succeed", success},
	"P000": {"Transaction is processing", processing},
	"9997": {"The transaction result is not confirmed.", processing},
	"0001": {"The request parameters are illegal", refused},
	"0002": {"Merchant ID cannot be null", refused},
	"0003": {"Merchant order number cannot be null", refused},
	"0004": {"The mobile phone number recorded by the bank cannot be null.", refused},
	"0005": {"Transaction amount cannot be null.", refused},
	"0006": {"Card number cannot be null.", refused},
	"0007": {"Order doesn't exist", other},
	"0008": {"transaction at risk", declined},
	"0009": {"Verifying signature field cannot be null.", refused},
	"0010": {"Merchant information doesn't exist.", refused},
	"0011": {"Merchant status is abnormal", refused},
	"0012": {"Failure in verifying signature", refused},
	"0013": {"Secret key information doesn't exist.", refused},
	"0014": {"Secret key has been ineffective", refused},
	"0016": {"Product information doesn't exist.", refused},
	"0017": {"Product information status is abnormal.", refused},
	"0018": {"unauthorized transaction", refused},
	"0019": {"failure in creating order", declined},
	"0022": {"the order is recurrent", other},
	"0023": {"transaction amount exceeds the limit", declined},
	"0024": {"order to be voided", other},
	"0025": {"original transaction doesn't exist.", other},
	"0026": {"The status of original transaction is abnormal", other},
	"0027": {"Transaction amount is illegal", refused},
	"0029": {"original transaction has been voided.", ended},
	"0031": {"Original transaction has initiated voiding or refunding.", other},
	"0032": {"Original transaction doesn't support voiding.", other},
	"0033": {"The last voiding is processing", processing},
	"0034": {"The last refunding is processing", processing},
	"0035": {"Transaction is not allowed during the period of time.", other},
	"0036": {"The transaction doesn't support refunding.", other},
	"0038": {"Order has been paid and is not allowed to close.", other},
	"0039": {"Order has been closed.", ended},
	"0040": {"The order is abnormal and please contact the administrator.", other},
	"0045": {"Access organization ID is wrong.", refused},
	"0046": {"The status of access organization ID is abnormal", refused},
	"0047": {"Unauthorized transaction", refused},
	"0048": {"The size of the files exceeds the limit, the maximum size is 5M", other},
	"0049": {"The organization status is abnormal", refused},
	"0051": {"The transaction is processing.", processing},
	"0055": {"Transaction amount is irrelevant to the one of original transaction", other},
	"0056": {"The order has been partially refunded.", other},
	"0058": {"The mission has been executing, and don't initiate repeatedly.", processing},
	"0074": {"The order has been paid.", other},
	"0076": {"The QR code has expired. Please ask the user to refresh it.", declined},
	"0077": {"The card type is not supported.", declined},
	"0078": {"Parameters of authorization code are wrong.", declined},
	"0079": {"The result of verifying authorized code is wrong.", declined},
	"0080": {"The Wechat Pay ID is wrong.", other},
	"0081": {"Wechat APPID doesn't exist.", other},
	"0082": {"Wechat MCHID doesn't exist.", other},
	"0083": {"Wechat APPID doesn't match MCH_ID", other},
	"0084": {"Information of channel link doesn't exist.", other},
	"0085": {"Channel terminal has signed in", other},
	"3003": {"Triggering risk management of amount limit of one order, since transaction amount exceeds the limit of one order", declined},
	"3004": {"Triggering risk management of amount limit of one day, since transaction amount exceeds the limit of one day", declined},
	"3009": {"Lower than starting limit of transaction", declined},
	"3010": {"The number of transaction in one day exceeds the limit", declined},
	"3200": {"Product lacks rate", refused},
	"3201": {"Only one T1 rate is allowed for non-acquiring or quick product", refused},
	"3203": {"The organization you belong to has not used the product.", refused},
	"3205": {"The product rate cannot be higher than 1", refused},
	"3206": {"The product rate is lower than the one of the organization you belong to", refused},
	"3207": {"the lowest amount of the product is lower than the one of the organization you belong to", refused},
	"3406": {"The systematic secret key is wrong", refused},
	"9994": {"The format of time inquiry is wrong", other},
	"9996": {"The system is busy", other},
	"9998": {"Transaction fails", declined},
	"9999": {"Unknown mistake, please contact the administrator.", other},
	"R000": {"Order to be voided", other},
}

// words is each code's explanation, the answer's returnMsg or resultMsg.
var words = func() map[string]string {
	m := map[string]string{}
	for c, w := range resultTable {
		m[c] = w.words
	}
	return m
}()

// returnPrefix marks a scripted code given as returnCode (the request
// refused before any business logic, §1.7.1), not as resultCode.
const returnPrefix = "returnCode="

var (
	done    = []sim.Truth{sim.TruthDone}
	notDone = []sim.Truth{sim.TruthNotDone}
	either  = []sim.Truth{sim.TruthDone, sim.TruthNotDone}
)

func answers(section string, truths []sim.Truth, codes ...string) []sim.DocumentedAnswer {
	out := make([]sim.DocumentedAnswer, len(codes))
	for i, c := range codes {
		out[i] = sim.DocumentedAnswer{Code: c, Section: section, Truths: truths}
	}
	return out
}

func concat(parts ...[]sim.DocumentedAnswer) []sim.DocumentedAnswer {
	var out []sim.DocumentedAnswer
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Answers lists every answer this simulator reads the spec to document
// for op, with the spec section, and the truths that may lie behind it:
// a definitive answer only its own, an ambiguous one both. method is
// "micropay" or "qr" for sim.OpSubmit. Every call may also go unanswered
// (sim.CodeNoAnswer, either truth).
func (s *Server) Answers(op sim.Op, method string) []sim.DocumentedAnswer {
	noAnswer := answers("§1.5.2.6, §1.7.2 (no answer: query)", either, sim.CodeNoAnswer)
	ambiguous := answers("§1.7.2", either, "9996", "9999", "0040", "0024", "R000")
	switch op {
	case sim.OpSubmit:
		paid := answers("§1.5.2.1, §1.7.2", done, "0000")
		if method == "qr" {
			// A QR order is created: P000 "when order successfully by
			// customers' scanning merchants' code"; it is paid or not later.
			paid = nil
		}
		return concat(paid,
			answers("§1.5.2.1, §1.7.2 processing", either, "P000", "9997", "0051", "0058"),
			answers("§1.5.2.1, §1.7.2 fail", notDone, "9998", "0008", "0019", "0023", "3003", "3004", "3009", "3010"),
			answers("§1.7.1 returnCode: refused", notDone, returnPrefix+"0012", returnPrefix+"0001"),
			answers("§1.7.2", either, "0022", "0074"),
			ambiguous, noAnswer)
	case sim.OpQuery:
		return concat(answers("§1.5.2.2, §1.7.2", done, "0000"),
			answers("§1.5.2.2, §1.7.2 processing", either, "P000", "9997", "0051", "0058", "0033"),
			answers("§1.5.2.2, §1.7.2 fail", notDone, "9998", "0039"),
			answers("§1.5.2.2, §1.7.2", either, "0007", "0074", "0056", "0031", "0038", "0035", returnPrefix+"0012"),
			ambiguous, noAnswer)
	case sim.OpReverse:
		return concat(answers("§1.5.2.4, §1.7.2", done, "0000", "0029"),
			answers("§1.5.2.4, §1.7.2 processing", either, "0033", "P000", "9997"),
			answers("§1.5.2.4: only successful transactions", notDone, "0026", "0032", "0025", "0031"),
			ambiguous, noAnswer)
	case sim.OpVoid:
		// A *_CANCEL of a paid order of today (§1.5.2.4): voided, or
		// in progress, or refused as "not a successful same-day order".
		return concat(answers("§1.5.2.4, §1.7.2", done, "0000", "0029"),
			answers("§1.5.2.4, §1.7.2 processing", either, "0033", "P000", "9997", "0051"),
			answers("§1.5.2.4: only successful same-day transactions; §1.7.1 refused", notDone, "0026", "0032", "0031", "0035", returnPrefix+"0012", returnPrefix+"0001"),
			answers("§1.7.2", either, "0025", "0007"),
			ambiguous, noAnswer)
	case sim.OpClose:
		return concat(answers("§1.5.2.5, §1.7.2", done, "0000", "0039"),
			answers("§1.5.2.5, §1.7.2", notDone, "0038", "0007"),
			answers("§1.7.2", either, "9996", "9999", "0040", "P000"), noAnswer)
	case sim.OpRefund:
		return concat(answers("§1.5.2.3, §1.7.2", done, "0000"),
			answers("§1.5.2.3, §1.7.2 processing", either, "0034", "P000", "9997", "0051", "0058"),
			answers("§1.5.2.3, §1.7.2: refused", notDone, "0027", "0036", "0055", "0026", returnPrefix+"0012"),
			answers("§1.7.2", either, "0022", "0031", "0056", "9996", "9999", "0040"), noAnswer)
	case sim.OpQueryRefund:
		return concat(answers("§1.5.2.2 (a refund's own number), §1.7.2", done, "0000"),
			answers("§1.5.2.2, §1.7.2 processing", either, "0034", "0051", "P000"),
			answers("§1.5.2.2: takes the original's number", either, "0007", "0025"),
			answers("§1.7.2", either, "9996", "9999"), noAnswer)
	}
	return nil
}
