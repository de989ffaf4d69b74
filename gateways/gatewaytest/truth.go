package gatewaytest

import "github.com/posagent/posagent/gateways/sim"

// Truther is implemented by the Controller of a simulator that can give, on
// any call, any answer its spec documents for that call, and move the
// truth (its ledger) independently of what it answered. The truth check
// (flows/truthtest) drives a real flows.Runner against the gateway, scripts
// one documented answer on one call with each truth it allows, lets the
// simulator answer honestly from then on, and checks the till's final state
// against the ledger:
//
//	succeeded ⇔ charged and kept; failed ⇒ never charged;
//	reversed ⇒ not charged now; refund succeeded ⇔ executed;
//	refund failed ⇒ not executed.
//
// The answer lists are the simulator's own reading of the spec (its
// documented-answer tables, with sections), never the adapter's. For a
// gateway whose orders are placed outside the till the Controller is also
// a Seeder, and the check follows seeded orders (method "external"; op
// sim.OpNotify lists the notification's answers, sim.CodeNoAnswer one
// that never arrives).
type Truther interface {
	// Answers lists every answer the spec documents for op (sim.OpSubmit
	// covers micropay and QR creation; the simulator lists what applies to
	// method "micropay" or "qr").
	Answers(op sim.Op, method string) []sim.DocumentedAnswer
	// ScriptAnswer makes the next call of op on the order outTradeNo (for
	// refund operations, the original order) answer with a.Code, and makes
	// the ledger do what a.Truth says.
	ScriptAnswer(outTradeNo string, op sim.Op, a sim.Answer)
	// Order returns the simulator's ledger entry: the truth.
	Order(outTradeNo string) (sim.Order, bool)
}
