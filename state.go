package pos

// State is where a payment is in its life. The local API shows final states
// as they are and every other state as pending (see Status).
type State string

const (
	// StateAwaitingCode: the till asked for a micropay without a code; the next
	// accepted scan is used. Nothing has been sent.
	StateAwaitingCode State = "awaiting_code"
	// StateSubmitting: the submit is journaled and may be on the wire. Its outcome
	// is unknown until the answer is journaled; after a crash it is queried,
	// never sent again.
	StateSubmitting State = "submitting"
	// StateUserPaying: the gateway answered that the customer is confirming
	// (password, limit check) or, for merchant QR, the code is shown and not
	// yet paid. We poll.
	StateUserPaying State = "user_paying"
	// StateUnknown: the submit or a query got no trustworthy answer. We query, and
	// reverse if the answer does not come in time.
	StateUnknown State = "unknown"
	// StateReversing: a reverse (or close) is journaled in the outbox and retried
	// until the gateway confirms it.
	StateReversing State = "reversing"

	// StateSucceeded is final: the customer paid.
	StateSucceeded State = "succeeded"
	// StateFailed is final: nothing was charged.
	StateFailed State = "failed"
	// StateReversed is final: the customer was or may have been charged, and the
	// gateway confirmed the reverse (or close).
	StateReversed State = "reversed"
)

// States lists every state, for validation and docs.
var States = []State{StateAwaitingCode, StateSubmitting, StateUserPaying, StateUnknown, StateReversing, StateSucceeded, StateFailed, StateReversed}

// Final reports whether s can never change again.
func (s State) Final() bool { return s == StateSucceeded || s == StateFailed || s == StateReversed }

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// Status is what the local API shows: the state itself when final, else
// "pending".
func (s State) Status() string {
	if s.Final() {
		return string(s)
	}
	return "pending"
}

// transitions is the single table of allowed state changes. Anything absent
// is a bug and is refused by CanTransition (and therefore by the journal).
// Self-transitions record an event without a state change (a poll that
// still says "user paying").
var transitions = map[State][]State{
	StateAwaitingCode: {StateSubmitting, StateFailed},
	// Submitting -> Submitting records a cashier cancel while the submit is
	// in flight, so the cancel survives a crash.
	StateSubmitting: {StateSubmitting, StateSucceeded, StateUserPaying, StateFailed, StateUnknown, StateReversing},
	StateUserPaying: {StateUserPaying, StateSucceeded, StateFailed, StateUnknown, StateReversing},
	StateUnknown:    {StateUnknown, StateSucceeded, StateUserPaying, StateFailed, StateReversing},
	// A reverse the gateway refuses because the payment completed and is
	// past its reversal window ends Succeeded (and is flagged for refund);
	// one that finds the order closed with nothing charged ends Failed.
	StateReversing: {StateReversing, StateReversed, StateSucceeded, StateFailed},
}

// CanTransition reports whether from -> to is allowed.
func CanTransition(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Transitions returns a copy of the table, for docs and tests.
func Transitions() map[State][]State {
	m := make(map[State][]State, len(transitions))
	for k, v := range transitions {
		m[k] = append([]State(nil), v...)
	}
	return m
}
