package swiftpasssim

import "github.com/posagent/posagent/gateways/sim"

// The truths behind an answer, as this simulator reads the spec.
var (
	done    = []sim.Truth{sim.TruthDone}
	notDone = []sim.Truth{sim.TruthNotDone}
	either  = []sim.Truth{sim.TruthDone, sim.TruthNotDone}
	// pending: the answer leaves the operation open and the simulator
	// settles it itself (NOTSURE: executed when sent again; CHANGE: held
	// for the offline refund), or the order stays payable (PAYERROR).
	pending = []sim.Truth{sim.TruthPending}
	payErr  = []sim.Truth{sim.TruthDone, sim.TruthNotDone, sim.TruthPending}
)

// documented is, per operation, every answer the spec documents for it,
// in its words, with its section and the truths that may lie behind it.
// A refused create gave no code_url (§6.1.4: returned only "when status
// and result_code both are 0"), so nobody can pay it: only TruthNotDone,
// except "Order exists", which speaks of an order with that number that
// may be paid. Unclear answers (system errors, no answer) allow both.
var documented = map[sim.Op][]sim.DocumentedAnswer{
	sim.OpSubmit: {
		{Code: "result_code=0", Section: "§6.1.4", Truths: either},
		{Code: "status=400 Signature error", Section: "§3.2, §8.1", Truths: notDone},
		{Code: "status=500 SYSTEMERROR", Section: "§3.2, §8.1", Truths: notDone},
		{Code: "err_code=SYSTEMERROR", Section: "§8.1, §8.2", Truths: notDone},
		{Code: "err_code=Internal error", Section: "§8.1", Truths: notDone},
		{Code: "err_code=INVALID_FEE", Section: "§8.1", Truths: notDone},
		{Code: "err_code=Order exists", Section: "§8.1", Truths: either},
		{Code: sim.CodeNoAnswer, Section: "§7 note 9", Truths: either},
	},
	sim.OpQuery: {
		{Code: "trade_state=SUCCESS", Section: "§6.3.3", Truths: done},
		{Code: "trade_state=NOTPAY", Section: "§6.3.3", Truths: either},
		{Code: "trade_state=USERPAYING", Section: "§6.3.3", Truths: either},
		{Code: "trade_state=CLOSED", Section: "§6.3.3", Truths: notDone},
		{Code: "trade_state=REVOKED", Section: "§6.3.3", Truths: notDone},
		// PAYERROR's order is still open (§6.6.1 asks to close it "to
		// avoid repeated payment"): the customer may pay it again.
		{Code: "trade_state=PAYERROR", Section: "§6.3.3, §6.6.1", Truths: payErr},
		{Code: "err_code=Order not exists", Section: "§8.1", Truths: notDone},
		{Code: "err_code=SYSTEMERROR", Section: "§8.1, §8.2", Truths: either},
		{Code: "status=500 SYSTEMERROR", Section: "§3.2, §8.1", Truths: either},
		{Code: sim.CodeNoAnswer, Section: "§7 note 9", Truths: either},
	},
	sim.OpClose: {
		{Code: "result_code=0", Section: "§6.6.4", Truths: done},
		{Code: "err_code=ORDERCLOSED", Section: "§8.2", Truths: done},
		{Code: "err_code=ORDERPAID", Section: "§8.2", Truths: notDone},
		{Code: "err_code=Order close fail", Section: "§8.1, §6.6.4", Truths: notDone},
		{Code: "err_code=SYSTEMERROR", Section: "§8.1, §8.2", Truths: either},
		{Code: "status=500 SYSTEMERROR", Section: "§3.2, §8.1", Truths: either},
		{Code: sim.CodeNoAnswer, Section: "§7 note 9", Truths: either},
	},
	sim.OpRefund: {
		// §6.4.1: accepted; the money moves within 1 to 3 working days,
		// and §6.5.2 may still say FAIL.
		{Code: "result_code=0", Section: "§6.4.1, §6.4.3", Truths: either},
		{Code: "err_code=REFUND_FEE_INVALID", Section: "§8.1", Truths: notDone},
		{Code: "err_code=TRADE_STATUS_ERROR", Section: "§8.3", Truths: notDone},
		{Code: "err_code=Refund exists", Section: "§8.1", Truths: either},
		{Code: "err_code=SYSTEMERROR", Section: "§8.1, §8.2", Truths: either},
		{Code: "status=500 SYSTEMERROR", Section: "§3.2, §8.1", Truths: either},
		{Code: sim.CodeNoAnswer, Section: "§7 note 9", Truths: either},
	},
	sim.OpQueryRefund: {
		{Code: "refund_status=SUCCESS", Section: "§6.5.2", Truths: done},
		{Code: "refund_status=FAIL", Section: "§6.5.2", Truths: notDone},
		{Code: "refund_status=PROCESSING", Section: "§6.5.2", Truths: either},
		// NOTSURE: executed when sent again with the same out_refund_no.
		{Code: "refund_status=NOTSURE", Section: "§6.5.2", Truths: pending},
		// CHANGE: moved to the merchant's cash account, refunded offline;
		// the amount stays held.
		{Code: "refund_status=CHANGE", Section: "§6.5.2", Truths: pending},
		{Code: "err_code=Refund not exists", Section: "§8.1", Truths: notDone},
		{Code: "err_code=SYSTEMERROR", Section: "§8.1, §8.2", Truths: either},
		{Code: "status=500 SYSTEMERROR", Section: "§3.2, §8.1", Truths: either},
		{Code: sim.CodeNoAnswer, Section: "§7 note 9", Truths: either},
	},
}

// Answers implements gatewaytest.Truther: every answer the spec documents
// for op. This spec has merchant QR only (method "qr"); there is no
// reverse.
func (s *Server) Answers(op sim.Op, method string) []sim.DocumentedAnswer {
	if op == sim.OpSubmit && method != "qr" {
		return nil
	}
	return append([]sim.DocumentedAnswer(nil), documented[op]...)
}
