package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways/sim"
)

// TestVoidCrashE2E (issue 10): a void of a sale is journaled before the
// gateway is called, so a daemon killed with the void journaled but not
// sent, or sent but not answered, finishes it after a restart by asking,
// never by a timer: the record is queried (Allinpay reads the original
// order), a void never sent is sent then (still paid today: the same
// void again), one that went through is found voided. Either way the
// record ends succeeded and the simulator's ledger has the sale voided,
// once.
func TestVoidCrashE2E(t *testing.T) {
	for _, point := range []string{flows.CrashRefundSubmitted, flows.CrashRefundSent} {
		t.Run(point, func(t *testing.T) {
			state, addr := t.TempDir(), freePort(t)
			args := []string{"--gateway", "allinpay"}
			a := startDemoArgs(t, state, addr, args, "POSAGENT_CRASHPOINT="+point)
			code, p, err := a.call("POST", "/v1/payments?wait=30s", `{"amount":2000,"currency":"HKD","auth_code":"134567890123456789"}`)
			if err != nil || code != 201 || p["state"] != "succeeded" {
				t.Fatalf("the payment to void: %d %v %v", code, p, err)
			}
			id, otn := p["id"].(string), p["out_trade_no"].(string)
			posted := make(chan postAnswer, 1)
			go func() {
				code, r, err := a.call("POST", "/v1/payments/"+id+"/void", "")
				posted <- postAnswer{code, r, err}
			}()
			if !waitCrashUntil(t, a, point, posted, func(*agent) bool { return false }) {
				t.Fatalf("crash point %s not reached", point)
			}

			b := startDemoArgs(t, state, addr, args)
			deadline := time.Now().Add(45 * time.Second)
			var v map[string]any
			for {
				rs, ok := refundsOf(b, id)
				if ok && len(rs) == 1 && rs[0]["state"] != "pending" {
					v = rs[0]
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the void is not settled 45 s after the restart: %v", rs)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if v["state"] != "succeeded" || v["method"] != "void" {
				t.Errorf("after the crash at %s the void ended %v", point, v)
			}
			b.kill()
			l, err := sim.OpenLedger(filepath.Join(state, "sim-allinpay", "ledger.json"))
			if err != nil {
				t.Fatal(err)
			}
			if o, _ := l.Get(otn); o.State != sim.Revoked || len(o.Refunds) != 0 {
				t.Errorf("the ledger has the sale %s with %d refunds, want voided and none", o.State, len(o.Refunds))
			}
		})
	}
}
