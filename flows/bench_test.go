package flows_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
)

// BenchmarkDecide measures the pure state machine: a poll that still says
// "user paying".
func BenchmarkDecide(b *testing.B) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	p := pos.Payment{ID: "pay_1", Method: pos.Micropay, State: pos.StateUserPaying, SubmittedAt: t0, Deadline: t0.Add(time.Minute)}
	in := flows.Input{Kind: flows.Queried, Result: gateways.Result{Status: gateways.StatusUserPaying}}
	timing := gateways.Timing{PollInterval: 5 * time.Second}
	for b.Loop() {
		_ = flows.Decide(p, in, t0.Add(10*time.Second), flows.Policy{Timing: timing})
	}
}

// BenchmarkMicropay measures a whole successful micropay through the
// runner: two fsync'd journal writes and one signed HTTP round trip to the
// MMSP simulator on loopback. It is the agent's own overhead per payment.
func BenchmarkMicropay(b *testing.B) {
	rg := newRig(b)
	ctx := context.Background()
	amount := money(b, 1200)
	n := 0
	for b.Loop() {
		n++
		c := code(b, fmt.Sprintf("13%016d", n))
		p, err := rg.runner.Start(ctx, flows.StartRequest{Amount: amount, Method: pos.Micropay, Code: c})
		if err != nil || p.State != pos.StateSucceeded {
			b.Fatalf("payment %d: %v %v", n, p.State, err)
		}
	}
}
