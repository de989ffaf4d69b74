package allpaysim

import (
	"github.com/posagent/posagent/gateways/sim"
)

// NoAnswer is the scripted answer code for "no answer at all": the
// request is processed (as the Truth says) and the connection dropped.
const NoAnswer = sim.CodeNoAnswer

var (
	both    = []sim.Truth{sim.TruthDone, sim.TruthNotDone}
	done    = []sim.Truth{sim.TruthDone}
	notDone = []sim.Truth{sim.TruthNotDone}
)

// refusalCodes are the §6 codes that refuse a request as sent.
var refusalCodes = []string{"01", "61", "U1", "U2", "U3", "U4", "U5", "U8", "P1", "P2", "P3", "P4"}

// documented is the simulator's reading of which §6 answers each call
// can get, and what may lie behind each.
func documented(op sim.Op) []sim.DocumentedAnswer {
	var a []sim.DocumentedAnswer
	add := func(section string, truths []sim.Truth, codes ...string) {
		for _, c := range codes {
			a = append(a, sim.DocumentedAnswer{Code: c, Section: section, Truths: truths})
		}
	}
	switch op {
	case sim.OpSubmit:
		add("§5.1.1 00 with code_url", both, "00")
		// No code_url reached anyone: nobody can pay the order.
		add("§6 refusal, §5.1.1 no code_url", notDone, append(refusalCodes, "P5")...)
		add("§6", both, "04", "U9", NoAnswer)
	case sim.OpQuery:
		add("§4.3 00 paid", done, "00")
		add("§4.3 01 not paid / §6 04 processing, 61, P3 (payable until the window ends)", notDone, "01", "04", "61", "P3")
		add("§6 the inquiry refused or failed", notDone, "U1", "U2", "U3", "U4", "U5", "U8", "U9", "P1", "P2", "P4", "P5", NoAnswer)
	case sim.OpReverse:
		add("§4.8 00 cancelled", done, "00")
		add("§6 refusal", notDone, refusalCodes...)
		add("§6 U6, 04, U9, P5", both, "U6", "04", "U9", "P5", NoAnswer)
	case sim.OpRefund:
		add("§4.4 00 refunded", done, "00")
		add("§6 refusal", notDone, append(refusalCodes, "U7")...)
		add("§6 04, U9, P5", both, "04", "U9", "P5", NoAnswer)
	case sim.OpQueryRefund:
		add("§4.5 00 refunded", done, "00")
		add("§4.5 01 refund failed", notDone, "01")
	}
	return a
}

// Answers lists every answer the spec documents for op (the simulator's
// reading); method is ignored: AllPay takes merchant QR only. With the
// embedded Base's ScriptAnswer and Order it makes the Server a
// gatewaytest.Truther.
func (s *Server) Answers(op sim.Op, method string) []sim.DocumentedAnswer { return documented(op) }

// scripted answers x from a scripted answer for op on order no, if one is
// queued, after moving the ledger as its Truth says (Base.Settle: an
// inquiry's Done charges the order, NotDone abandons it, Pending holds it
// payable; a reverse's Done executes the cancellation; a refund query's
// settles a pending refund). It reports whether it answered.
func (s *Server) scripted(x *exchange, no string, op sim.Op, ref sim.RefundRef) bool {
	a, ok := s.TakeAnswer(no, op)
	if !ok {
		return false
	}
	_, _ = s.Settle(op, no, a.Truth, ref) // a truth that cannot move is logged by Settle
	switch a.Code {
	case sim.CodeHonest:
		return false // answer from the ledger, as moved
	case NoAnswer:
		x.fault = sim.NoAnswer
		return true
	}
	x.set(a.Code)
	return true
}

// scriptedRefund answers a REFD from a scripted answer: the refund is
// executed (Done), held pending (Pending: RFQY answers 04 until a later
// truth settles it) or recorded refused (NotDone: RFQY answers 01).
func (s *Server) scriptedRefund(x *exchange, o sim.Order, no string, minor int64) bool {
	a, ok := s.TakeAnswer(o.OutTradeNo, sim.OpRefund)
	if !ok {
		return false
	}
	t := a.Truth
	if t == sim.TruthAsScenario {
		t = sim.TruthNotDone
	}
	_, err := s.Settle(sim.OpRefund, o.OutTradeNo, t, sim.RefundRef{OutRefundNo: no, Amount: minor})
	if _, r, ferr := s.Ledger().FindRefund(o.OutTradeNo, no); ferr == nil {
		x.ans["transID"] = r.RefundID
	}
	switch a.Code {
	case sim.CodeHonest:
		switch {
		case err != nil:
			x.set("01", "Fail: "+err.Error())
		case t == sim.TruthDone:
			x.set("00")
		case t == sim.TruthPending:
			x.set("04")
		default:
			x.set("01")
		}
	case NoAnswer:
		x.fault = sim.NoAnswer
	default:
		x.set(a.Code)
	}
	return true
}
