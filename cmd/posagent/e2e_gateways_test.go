package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoTourEveryGateway runs the tour against each simulated gateway
// other than the default (TestDemoTour covers MMSP): the micropay flow must
// end as the magic amounts promise on every acquirer that takes codes.
func TestDemoTourEveryGateway(t *testing.T) {
	for kind := range simulatedKinds {
		if kind == "mmsp" {
			continue
		}
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			state := t.TempDir()
			cmd := exec.Command(binary(t), "demo", "--tour", "--gateway", kind, "--state", state, "--listen", freePort(t))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("demo --tour --gateway %s failed: %v\n%s", kind, err, out)
			}
			if !strings.Contains(string(out), "All scenarios ended as expected.") {
				t.Fatalf("tour output lacks the success line:\n%s", out)
			}
			// The simulator's signed notifications reach the daemon's notification
			// endpoint and are verified and applied (or acknowledged as already final).
			if !strings.Contains(string(out), "notification applied") {
				t.Errorf("no notification was applied during the tour")
			}
			if kind == "hipopay" {
				// Orders are placed in the mini-program, not at the till:
				// the tour looks one up, refunds it in part and in full,
				// reprints it and finds it in the summary.
				for _, step := range []string{"order of 20.00 placed in the mini-program", "entered the journal from its PAID notification",
					"looked up by out_trade_id", "looked up by payment_no", "refund 5.00 of it", "refund all that is left (15.00)",
					"reprinted", "counted in the day's summary"} {
					if !strings.Contains(string(out), step) {
						t.Errorf("the hipopay tour lacks %q:\n%s", step, out)
					}
				}
			}
			// The tour ends with the day reconciled: against the
			// simulator's bill where the gateway offers one.
			checkTourReconciled(t, string(out), state, kind, kind == "allinpay" || kind == "hipopay")
		})
	}
}

// TestDevicesShowsDaemonScanners: `posagent devices` shows the running
// daemon's configured scanners with their state, and its printer.
func TestDevicesShowsDaemonScanners(t *testing.T) {
	state := t.TempDir()
	a := startDemo(t, state, freePort(t))
	out, err := exec.Command(binary(t), "devices", "--api", "http://"+a.addr, "--token-file", state+"/api.token").CombinedOutput()
	if err != nil {
		t.Fatalf("devices: %v\n%s", err, out)
	}
	for _, want := range []string{"KIND", "virtual", "/dev/pts/", "yes", "printer: ready"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("devices output lacks %q:\n%s", want, out)
		}
	}
}

// TestSummary: the end-of-day summary totals the day's payments and prints
// as a receipt preview.
func TestSummary(t *testing.T) {
	state := t.TempDir()
	a := startDemo(t, state, freePort(t))
	for _, body := range []string{
		`{"amount":1200,"currency":"CNY","auth_code":"134567890123456789"}`,
		`{"amount":800,"currency":"CNY","auth_code":"134567890123456781"}`,
		`{"amount":1293,"currency":"CNY","auth_code":"284567890123456789"}`,
	} {
		if code, p, err := a.call("POST", "/v1/payments", body); err != nil || code != 201 {
			t.Fatalf("create: %d %v %v", code, p, err)
		}
	}
	out, err := exec.Command(binary(t), "summary", "--print", "--api", "http://"+a.addr, "--token-file", state+"/api.token").CombinedOutput()
	if err != nil {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	for _, want := range []string{"wechat", "2", "20.00", "failed: 1, reversed: 0", "queued for printing"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("summary output lacks %q:\n%s", want, out)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, _ := filepath.Glob(filepath.Join(state, "receipts", "summary-*.png"))
		if len(m) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no summary preview printed: %v", m)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOneDaemonPerStateDirectory: a second daemon on the same state is
// refused, naming the first; after the first is SIGKILLed, the state is
// free again (the kernel drops the lock with the process).
func TestOneDaemonPerStateDirectory(t *testing.T) {
	state := t.TempDir()
	a := startDemo(t, state, freePort(t))
	out, err := exec.Command(binary(t), "demo", "--state", state, "--listen", freePort(t)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by process") {
		t.Fatalf("a second daemon on the same state: %v\n%s", err, out)
	}
	a.kill()
	startDemo(t, state, freePort(t))
}
