package sim

import "sync"

// Truth is what happens to the money behind a scripted answer. A simulator
// that can only say what really happened cannot test a till: real acquirers
// answer "system busy" and charge anyway, or answer "error" to a refund and
// execute it. A scripted Answer therefore names the answer's words and,
// separately, what the ledger does.
type Truth string

const (
	// TruthAsScenario: the ledger moves as the order's scenario says (the
	// zero value).
	TruthAsScenario Truth = ""
	// TruthDone: the operation takes effect whatever the answer said: a pay
	// or QR order is charged (now, or by the next query for a QR order), a
	// reverse or close is executed, a refund is executed.
	TruthDone Truth = "done"
	// TruthNotDone: the operation does not take effect: the order stays
	// unpaid (and can no longer be paid: the customer walked away), the
	// reverse or close is not executed, the refund is not executed.
	TruthNotDone Truth = "not_done"
	// TruthPending: the operation is accepted but has not taken effect
	// yet: an order stays payable and unpaid (queries no longer advance
	// it), a refund is held as pending (Base.Settle). What settles it is
	// the simulator's own reading of the spec (e.g. a refund executed when
	// sent again), a later scripted truth, a reverse or close, or nothing.
	// The truth check also uses it to reach a call (a query, a refund
	// query) with the outcome still open.
	TruthPending Truth = "pending"
)

// The scripted answer codes every simulator understands besides its
// spec's own (its DocumentedAnswers).
const (
	// CodeHonest (the empty Code) answers from the ledger as usual, after
	// the ledger has moved as the Truth says.
	CodeHonest = ""
	// CodeNoAnswer gives no answer within the client's timeout (the call
	// is held, then the connection dropped), after the ledger has moved as
	// the Truth says: the one answer every spec allows on every call.
	CodeNoAnswer = "(no answer)"
)

// Answer scripts one call: which documented answer to give (Code, in the
// spec's own words, one of the simulator's DocumentedAnswers for the
// operation, or CodeHonest, or CodeNoAnswer) and what the ledger does
// (Truth).
type Answer struct {
	Code  string
	Truth Truth
}

// DocumentedAnswer is one answer a spec documents for an operation, as a
// simulator can give it: the code in the spec's words, the spec section
// that lists it, and which truths may lie behind it. A definitive answer
// ("SUCCESS", "CLOSED") allows only the truth it states; an ambiguous one
// ("system busy", "processing", an unlisted code) allows both, and the
// contract suite's truth check runs each.
type DocumentedAnswer struct {
	Code    string
	Section string
	Truths  []Truth
}

// Answers is a per-order queue of scripted answers for each operation. The
// wire simulator takes the next one (TakeAnswer) when it handles that
// operation for that order; with none queued it answers from the ledger as
// usual. It is safe for concurrent use; the zero value is ready.
type Answers struct {
	mu sync.Mutex
	q  map[answerKey][]Answer
}

type answerKey struct {
	outTradeNo string
	op         Op
}

// Script queues answers for the next calls of op on the order outTradeNo
// (for refund operations: the original order's number).
func (a *Answers) Script(outTradeNo string, op Op, answers ...Answer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.q == nil {
		a.q = map[answerKey][]Answer{}
	}
	k := answerKey{outTradeNo, op}
	a.q[k] = append(a.q[k], answers...)
}

// Take removes and returns the next answer scripted for op on the order.
func (a *Answers) Take(outTradeNo string, op Op) (Answer, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := answerKey{outTradeNo, op}
	q := a.q[k]
	if len(q) == 0 {
		return Answer{}, false
	}
	if len(q) == 1 {
		delete(a.q, k)
	} else {
		a.q[k] = q[1:]
	}
	return q[0], true
}

// Pending reports how many scripted answers are still queued for op on the
// order, so a test can tell an answer was really given.
func (a *Answers) Pending(outTradeNo string, op Op) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.q[answerKey{outTradeNo, op}])
}
