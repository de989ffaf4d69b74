package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestServeWithConfigAndPay runs the product as an integrator would: a
// simulator as its own process (`posagent simulate`), the daemon from a
// YAML config (`posagent serve`), and payments from the CLI (`posagent
// pay`), whose exit code says whether the payment succeeded.
func TestServeWithConfigAndPay(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	simAddr, apiAddr := freePort(t), freePort(t)

	sim := exec.Command(bin, "simulate", "--gateway", "mmsp", "--listen", simAddr, "--state", filepath.Join(dir, "sim"))
	simOut := &syncBuffer{}
	sim.Stdout, sim.Stderr = simOut, simOut
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Process.Kill(); _ = sim.Wait() })

	// A serial scanner on a real pseudo-terminal: the daemon opens the
	// slave with go.bug.st/serial; the test types into the master.
	scannerPTY, scannerTTY, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { scannerPTY.Close(); scannerTTY.Close() })

	keyFile := filepath.Join(dir, "mmsp.key")
	if err := os.WriteFile(keyFile, []byte("ea21842eea24e448b991b1cb0a0294cf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`
state_dir: %s
listen: %s
gateways:
  - name: mmsp
    kind: mmsp
    options:
      endpoint: http://%s/
      merchant_no: "001440353999853"
      terminal_no: "84970001"
      key_file: mmsp.key
      notify_url: http://127.0.0.1:1/notify/mmsp
      simulated: true
      timing: {poll_interval: 500ms, pay_timeout: 3s, reverse_after: 1s}
      call_timeout: 2s
printer:
  kind: text
  options: {path: receipts.txt}
receipt: {merchant_name: Test Shop}
scanners:
  - name: counter
    kind: serial
    options: {path: %s, suffix: lf, baud: 9600}
`, filepath.Join(dir, "state"), apiAddr, simAddr, scannerTTY.Name())
	cfgFile := filepath.Join(dir, "posagent.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// A key file others can read is refused, with the reason.
	out, err := exec.Command(bin, "serve", "--config", cfgFile, "--check").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "mmsp.key") {
		t.Fatalf("serve accepted a world-readable key file: %v\n%s", err, out)
	}
	if err := os.Chmod(keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "serve", "--config", cfgFile, "--check").CombinedOutput(); err != nil {
		t.Fatalf("serve --check: %v\n%s", err, out)
	}

	srv := exec.Command(bin, "serve", "--config", cfgFile)
	srvOut := &syncBuffer{}
	srv.Stdout, srv.Stderr = srvOut, srvOut
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
		if t.Failed() {
			t.Logf("serve output:\n%s\nsimulate output:\n%s", srvOut, simOut)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + apiAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready:\n%s", srvOut)
		}
		time.Sleep(50 * time.Millisecond)
	}

	token := filepath.Join(dir, "state", "api.token")
	pay := func(amount, code string) (string, int) {
		cmd := exec.Command(bin, "pay", "--amount", amount, "--code", code, "--api", "http://"+apiAddr, "--token-file", token)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	if out, code := pay("12.00", "134567890123456789"); code != 0 || !strings.Contains(out, "Final: succeeded") {
		t.Fatalf("pay 12.00: exit %d\n%s", code, out)
	}
	if out, code := pay("12.93", "284567890123456789"); code != 1 || !strings.Contains(out, "Final: failed") {
		t.Fatalf("pay 12.93: exit %d\n%s", code, out)
	}
	// Reversed has its own exit code (3), apart from declined (1).
	if out, code := pay("12.92", "134567890123456780"); code != 3 || !strings.Contains(out, "reversing") || !strings.Contains(out, "Final: reversed") {
		t.Fatalf("pay 12.92 should show progress through reversing to reversed: exit %d\n%s", code, out)
	}
	// Without a code, the payment waits for the scanner.
	payOut := make(chan string, 1)
	go func() {
		out, _ := exec.Command(bin, "pay", "--amount", "18.00", "--api", "http://"+apiAddr, "--token-file", token).CombinedOutput()
		payOut <- string(out)
	}()
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(srvOut.String(), "awaiting_code") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := scannerPTY.Write([]byte("6901234567892\n")); err != nil { // a product barcode first
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := scannerPTY.Write([]byte("134567890123456782\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-payOut:
		// pay shows the cashier the refused product barcode.
		if !strings.Contains(out, "awaiting_code") || !strings.Contains(out, "scan refused: ") || !strings.Contains(out, "EAN-13") || !strings.Contains(out, "Final: succeeded") {
			t.Fatalf("pay with a scanned code:\n%s", out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the scanned payment did not finish")
	}
	if !strings.Contains(srvOut.String(), "EAN-13") {
		t.Errorf("the refused product barcode was not logged with its reason")
	}
	for _, code := range []string{"134567890123456789", "284567890123456789", "134567890123456782"} {
		if strings.Contains(srvOut.String(), code) {
			t.Errorf("the daemon logged a full payment code %s", code)
		}
	}

	if out, code := pay("12.345", "134567890123456789"); code != 2 || !strings.Contains(out, "decimals") {
		t.Fatalf("pay with too many decimals: exit %d\n%s", code, out)
	}
	receipts, err := os.ReadFile(filepath.Join(dir, "receipts.txt"))
	if err != nil || !strings.Contains(string(receipts), "Test Shop") || strings.Contains(string(receipts), "134567890123456789") {
		t.Fatalf("receipts file (must name the shop and never hold a full code): %v\n%s", err, receipts)
	}
}
