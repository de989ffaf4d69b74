package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestDoctor runs `posagent doctor` against a simulator process and a
// scanner on a real pseudo-terminal: all is well, then each fault shows as
// one PROBLEM line with its fix, and the exit status is 1.
func TestDoctor(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	simAddr := freePort(t)
	sim := exec.Command(bin, "simulate", "--gateway", "mmsp", "--listen", simAddr, "--state", filepath.Join(dir, "sim"))
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	stopSim := func() { _ = sim.Process.Kill(); _ = sim.Wait() }
	defer stopSim()
	waitListening(t, simAddr)

	ptm, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	defer tty.Close()
	key := filepath.Join(dir, "mmsp.key")
	writeKey := func(k string) {
		if err := os.WriteFile(key, []byte(k+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeKey("ea21842eea24e448b991b1cb0a0294cf")
	cfg := filepath.Join(dir, "posagent.yaml")
	writeCfg := func(scannerPath string) {
		text := fmt.Sprintf(`state_dir: %s/state
gateways:
  - name: mmsp
    kind: mmsp
    options:
      endpoint: http://%s/
      merchant_no: "001440353999853"
      terminal_no: "84970001"
      key_file: mmsp.key
      simulated: true
      timing: {poll_interval: 1s, pay_timeout: 6s, reverse_after: 1s}
      call_timeout: 2s
scanners:
  - name: counter
    kind: serial
    options: {path: %s, baud: 9600}
`, dir, simAddr, scannerPath)
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg(tty.Name())
	doctor := func() (string, int) {
		out, err := exec.Command(bin, "doctor", "--config", cfg).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}

	out, code := doctor()
	if code != 0 || !strings.Contains(out, "no problems found") || !strings.Contains(out, `answered "not found": signature and merchant accepted`) ||
		!strings.Contains(out, tty.Name()+" present and permitted") || !strings.Contains(out, "clock within") {
		t.Fatalf("healthy till: exit %d\n%s", code, out)
	}

	// A journal that is not a database.
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state", "journal.db"), []byte(strings.Repeat("not sqlite ", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	// The wrong key, and a scanner that is not plugged in.
	writeKey("00000000000000000000000000000000")
	writeCfg("/dev/ttyACM-not-there")
	out, code = doctor()
	if code != 1 {
		t.Fatalf("broken till: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"PROBLEM  scanners[0] (counter): /dev/ttyACM-not-there is not there", "fix: plug the device in",
		"PROBLEM  gateway mmsp: signed query", "fix: the signature was refused",
		"PROBLEM  journal", "fails PRAGMA integrity_check", "restore the latest `posagent backup`",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}

	// The gateway gone.
	stopSim()
	writeKey("ea21842eea24e448b991b1cb0a0294cf")
	out, code = doctor()
	if code != 1 || !strings.Contains(out, "PROBLEM  gateway mmsp: TCP "+simAddr) || !strings.Contains(out, "fix: check the network route") {
		t.Errorf("gateway down: exit %d\n%s", code, out)
	}
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := (&netDialer{}).dial(addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listening on %s", addr)
}

type netDialer struct{}

func (netDialer) dial(addr string) (interface{ Close() error }, error) {
	return net.DialTimeout("tcp", addr, time.Second)
}
