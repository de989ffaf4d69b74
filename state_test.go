package pos_test

import (
	"testing"

	"github.com/posagent/posagent"
)

func TestFinalStatesAndStatus(t *testing.T) {
	final := map[pos.State]bool{pos.StateSucceeded: true, pos.StateFailed: true, pos.StateReversed: true}
	for _, s := range pos.States {
		if s.Final() != final[s] {
			t.Errorf("%s.Final() = %v", s, s.Final())
		}
		want := "pending"
		if final[s] {
			want = string(s)
		}
		if s.Status() != want {
			t.Errorf("%s.Status() = %q, want %q", s, s.Status(), want)
		}
	}
}

func TestTransitionTable(t *testing.T) {
	table := pos.Transitions()
	for _, s := range pos.States {
		if s.Final() {
			if len(table[s]) != 0 {
				t.Errorf("final state %s has transitions %v", s, table[s])
			}
			for _, to := range pos.States {
				if pos.CanTransition(s, to) {
					t.Errorf("final state %s may move to %s", s, to)
				}
			}
		}
	}
	must := [][2]pos.State{
		{pos.StateAwaitingCode, pos.StateSubmitting},
		{pos.StateAwaitingCode, pos.StateFailed},
		{pos.StateSubmitting, pos.StateSucceeded},
		{pos.StateSubmitting, pos.StateUnknown},
		{pos.StateUserPaying, pos.StateReversing},
		{pos.StateUnknown, pos.StateReversing},
		{pos.StateReversing, pos.StateReversed},
	}
	for _, tr := range must {
		if !pos.CanTransition(tr[0], tr[1]) {
			t.Errorf("%s -> %s should be allowed", tr[0], tr[1])
		}
	}
	mustNot := [][2]pos.State{
		// Nothing was sent while awaiting a code, so it cannot be reversed.
		{pos.StateAwaitingCode, pos.StateReversed},
		{pos.StateAwaitingCode, pos.StateSucceeded},
		// A reverse is always journaled (Reversing) before it is sent.
		{pos.StateUserPaying, pos.StateReversed},
		{pos.StateUnknown, pos.StateReversed},
		{pos.StateSubmitting, pos.StateReversed},
		// Once reversing, the only way back to waiting is a new payment.
		{pos.StateReversing, pos.StateUserPaying},
		{pos.StateReversing, pos.StateSubmitting},
	}
	for _, tr := range mustNot {
		if pos.CanTransition(tr[0], tr[1]) {
			t.Errorf("%s -> %s should be refused", tr[0], tr[1])
		}
	}
	for from, tos := range table {
		if !from.Valid() {
			t.Errorf("table has unknown state %q", from)
		}
		for _, to := range tos {
			if !to.Valid() {
				t.Errorf("table has unknown state %q", to)
			}
		}
	}
}

func TestErrorKinds(t *testing.T) {
	inner := pos.Errorf(pos.Unknown, "mmsp.Micropay", "timeout")
	outer := pos.E(pos.Other, "flows.Start", inner)
	if pos.KindOf(outer) != pos.Unknown {
		t.Fatalf("KindOf = %v, want unknown", pos.KindOf(outer))
	}
	if !pos.Unknown.Retryable() || pos.Invalid.Retryable() || pos.Declined.Retryable() {
		t.Fatal("retryable kinds wrong")
	}
	if outer.Message() != "timeout" {
		t.Fatalf("Message = %q", outer.Message())
	}
}
