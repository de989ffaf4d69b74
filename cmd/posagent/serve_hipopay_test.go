package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeHipoPay: `kind: hipopay` in serve, against `posagent simulate
// --gateway hipopay`. An order placed at the simulated mini-program is
// found with `posagent lookup` (by out_trade_id, then by payment_no: the
// same payment) and refunded in full with `posagent refund`; `posagent
// reconcile --gateway hipopay` matches the day against HipoPay's report.
func TestServeHipoPay(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	simAddr, apiAddr := freePort(t), freePort(t)
	sim := exec.Command(bin, "simulate", "--gateway", "hipopay", "--listen", simAddr, "--state", filepath.Join(dir, "sim"))
	simOut := &syncBuffer{}
	sim.Stdout, sim.Stderr = simOut, simOut
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Process.Kill(); _ = sim.Wait() })
	keys := filepath.Join(dir, "sim", "sim-hipopay", "keys")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(simOut.String(), "listening") {
		if time.Now().After(deadline) {
			t.Fatalf("simulate not ready:\n%s", simOut)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cfg := fmt.Sprintf(`
state_dir: %s
listen: %s
gateways:
  - name: hipopay
    kind: hipopay
    options:
      endpoint: http://%s
      merchant_no: HP000000000001
      merchant_key_file: %s
      platform_key_file: %s
      poll_interval: 1s
      call_timeout: 5s
      simulated: true
printer:
  kind: text
  options: {path: receipts.txt}
receipt: {merchant_name: Test Shop}
`, filepath.Join(dir, "state"), apiAddr, simAddr, filepath.Join(keys, "hipopay_merchant_key.pem"), filepath.Join(keys, "hipopay_platform_public.pem"))
	cfgFile := filepath.Join(dir, "posagent.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
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
	// The customer's mini-program places the order (unsigned, as the spec's
	// Place an Order API is called).
	form := url.Values{"merchant_no": {"HP000000000001"}, "out_trade_id": {"MPSERVE0001"}, "amount": {"12.00"}, "currency": {"HKD"},
		"product_info": {"test"}, "appid": {"wx"}, "openid": {"o"}, "client_ip": {"127.0.0.1"}}
	resp, err := http.PostForm("http://"+simAddr+"/wechatpay/mini_program/payment", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	token := filepath.Join(dir, "state", "api.token")
	run := func(args ...string) (string, int) {
		cmd := exec.Command(bin, append(args, "--api", "http://"+apiAddr, "--token-file", token)...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	out, code := run("lookup", "--out-trade-id", "MPSERVE0001")
	if code != 0 || !strings.Contains(out, "succeeded") || !strings.Contains(out, "12.00 HKD") {
		t.Fatalf("lookup: exit %d\n%s", code, out)
	}
	id := strings.Fields(out)[0]
	paymentNo := out[strings.Index(out, "payment_no ")+len("payment_no "):]
	paymentNo = strings.Fields(paymentNo)[0]
	if out2, code := run("lookup", "--payment-no", paymentNo); code != 0 || strings.Fields(out2)[0] != id {
		t.Fatalf("lookup by payment_no: exit %d\n%s\nwant %s", code, out2, id)
	}
	if out, code := run("lookup", "--out-trade-id", "MPNOSUCHORDER"); code == 0 {
		t.Errorf("lookup of an unknown order succeeded:\n%s", out)
	}
	if out, code := run("refund", id); code != 0 || !strings.Contains(out, "Final: succeeded") {
		t.Fatalf("refund: exit %d\n%s", code, out)
	}
	// The day against HipoPay's report: the adopted order and its refund
	// match (the refund by its refund_no). An order placed in the
	// mini-program that the till never saw is then reported, exit 1.
	day := acquirerDay(time.Now())
	out, code = run("reconcile", "--date", day, "--gateway", "hipopay")
	if code != 0 || !strings.Contains(out, "bill: 2 lines; matched 2; 0 issues") || !strings.Contains(out, "OK: the day adds up") ||
		!strings.Contains(out, "HKD journal: 1 charged 12.00, 1 refunds 12.00, net 0.00") {
		if acquirerDay(time.Now()) == day {
			t.Fatalf("reconcile: exit %d\n%s", code, out)
		}
	}
	form.Set("out_trade_id", "MPSERVE0002")
	resp, err = http.PostForm("http://"+simAddr+"/wechatpay/mini_program/payment", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if out, code := run("reconcile", "--date", day, "--gateway", "hipopay"); code != 1 || !strings.Contains(out, "MISMATCH not_in_journal") || !strings.Contains(out, "MPSERVE0002") {
		t.Errorf("reconcile with an order the till never saw: exit %d\n%s", code, out)
	}
}
