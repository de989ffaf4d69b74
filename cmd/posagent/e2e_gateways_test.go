package main

import (
	"os/exec"
	"strings"
	"testing"
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
			cmd := exec.Command(binary(t), "demo", "--tour", "--gateway", kind, "--state", t.TempDir(), "--listen", freePort(t))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("demo --tour --gateway %s failed: %v\n%s", kind, err, out)
			}
			if !strings.Contains(string(out), "All scenarios ended as expected.") {
				t.Fatalf("tour output lacks the success line:\n%s", out)
			}
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
