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
// reading); method is ignored: AllPay takes merchant QR only.
func (s *Server) Answers(op sim.Op, method string) []sim.DocumentedAnswer { return documented(op) }

// ScriptAnswer makes the next call of op on the order outTradeNo (for
// refunds, the original order) answer a.Code, with the ledger doing what
// a.Truth says.
func (s *Server) ScriptAnswer(outTradeNo string, op sim.Op, a sim.Answer) {
	s.answers.Script(outTradeNo, op, a)
}

// Order returns the ledger's entry for an order: the truth.
func (s *Server) Order(outTradeNo string) (sim.Order, bool) { return s.ledger.Get(outTradeNo) }

// scripted answers x from a scripted answer for op on order no, if one is
// queued, after moving the ledger as its Truth says. It reports whether it
// answered.
func (s *Server) scripted(x *exchange, no string, op sim.Op) bool {
	a, ok := s.answers.Take(no, op)
	if !ok {
		return false
	}
	s.applyTruth(no, op, a.Truth)
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

// applyTruth moves the ledger as a scripted answer's truth says: an
// inquiry's Done charges the order (the customer paid), NotDone abandons
// it (the customer walked away; it can no longer be paid); a reverse's
// Done executes the cancellation. A submit's truth is applied in purchase
// (the order's scenario), a refund's in scriptedRefund.
func (s *Server) applyTruth(no string, op sim.Op, t sim.Truth) {
	switch {
	case op == sim.OpQuery && t == sim.TruthDone:
		_, _ = s.ledger.Charge(no)
	case op == sim.OpQuery && t == sim.TruthNotDone:
		_, _ = s.ledger.Abandon(no)
	case op == sim.OpQuery && t == sim.TruthPending:
		_, _ = s.ledger.Hold(no)
	case op == sim.OpReverse && t == sim.TruthDone:
		_, _ = s.ledger.ExecuteReverse(no)
	}
}

// scriptedRefund answers a REFD from a scripted answer: the refund is
// executed (Done), held pending (Pending: RFQY answers 04 until a later
// truth settles it) or refused (NotDone: RFQY answers 01).
func (s *Server) scriptedRefund(x *exchange, o sim.Order, no string, minor int64) bool {
	a, ok := s.answers.Take(o.OutTradeNo, sim.OpRefund)
	if !ok {
		return false
	}
	var r sim.Refund
	var err error
	switch a.Truth {
	case sim.TruthDone:
		_, r, err = s.ledger.Refund(o.OutTradeNo, no, minor)
	case sim.TruthPending:
		_, r, err = s.ledger.AcceptRefund(o.OutTradeNo, no, minor)
	default:
		_, r, err = s.ledger.RecordRefusedRefund(o.OutTradeNo, no, minor)
	}
	if err == nil {
		x.ans["transID"] = r.RefundID
	}
	switch a.Code {
	case sim.CodeHonest:
		switch {
		case err != nil:
			x.set("01", "Fail: "+err.Error())
		case a.Truth == sim.TruthDone:
			x.set("00")
		case a.Truth == sim.TruthPending:
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

func (s *Server) refused(no string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	orig, ok := s.refusedRefund[no]
	return orig, ok
}
