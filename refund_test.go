package pos_test

import (
	"testing"

	"github.com/posagent/posagent"
)

func TestRefundTransitionTable(t *testing.T) {
	table := pos.RefundTransitions()
	for _, s := range pos.RefundStates {
		if s.Final() && len(table[s]) != 0 {
			t.Errorf("final refund state %s has transitions %v", s, table[s])
		}
		if want := map[bool]string{true: string(s), false: "pending"}[s.Final()]; s.Status() != want {
			t.Errorf("%s.Status() = %q, want %q", s, s.Status(), want)
		}
		if s.Holds() != (s != pos.RefundFailed) {
			t.Errorf("%s.Holds() = %v", s, s.Holds())
		}
	}
	must := [][2]pos.RefundState{
		{pos.RefundSubmitting, pos.RefundSucceeded},
		{pos.RefundSubmitting, pos.RefundFailed},
		{pos.RefundSubmitting, pos.RefundProcessing},
		{pos.RefundSubmitting, pos.RefundUnknown},
		{pos.RefundUnknown, pos.RefundSucceeded},
		{pos.RefundUnknown, pos.RefundFailed},
		{pos.RefundProcessing, pos.RefundSucceeded},
		{pos.RefundUnknown, pos.RefundUnknown},
	}
	for _, tr := range must {
		if !pos.CanTransitionRefund(tr[0], tr[1]) {
			t.Errorf("%s -> %s should be allowed", tr[0], tr[1])
		}
	}
	mustNot := [][2]pos.RefundState{
		// A refund is never sent twice: nothing goes back to submitting.
		{pos.RefundUnknown, pos.RefundSubmitting},
		{pos.RefundProcessing, pos.RefundSubmitting},
		{pos.RefundSubmitting, pos.RefundSubmitting},
		{pos.RefundFailed, pos.RefundSubmitting},
		{pos.RefundSucceeded, pos.RefundFailed},
	}
	for _, tr := range mustNot {
		if pos.CanTransitionRefund(tr[0], tr[1]) {
			t.Errorf("%s -> %s must not be allowed", tr[0], tr[1])
		}
	}
	if pos.RefundState("refunding").Valid() {
		t.Error("an unknown refund state is valid")
	}
}

func TestRefundable(t *testing.T) {
	for _, tc := range []struct {
		p    pos.Payment
		want bool
	}{
		{pos.Payment{State: pos.StateSucceeded}, true},
		{pos.Payment{State: pos.StateFailed}, false},
		{pos.Payment{State: pos.StateReversed}, false},
		{pos.Payment{State: pos.StateFailed, ChargedLate: true}, true},
		{pos.Payment{State: pos.StateReversed, ChargedLate: true}, true},
		{pos.Payment{State: pos.StateUnknown, ChargedLate: true}, false},
	} {
		if got := pos.Refundable(tc.p); got != tc.want {
			t.Errorf("Refundable(%s, charged late %v) = %v", tc.p.State, tc.p.ChargedLate, got)
		}
	}
	if !pos.RefundAttention.Final() || !pos.RefundAttention.Holds() || pos.RefundAttention.Status() != "attention" {
		t.Error("a refund needing attention must be final, hold its amount and show as attention")
	}
	for _, f := range append(pos.Flags, "") {
		if !f.Valid() {
			t.Errorf("flag %q not valid", f)
		}
	}
	if pos.Flag("other").Valid() {
		t.Error("unknown flag valid")
	}
}
