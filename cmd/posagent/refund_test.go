package main

import (
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent/gateways/sim"
)

// TestRefundCommand: against the demo, a payment of 20.00 is refunded
// 5.00 and then the rest with `posagent refund`, which follows each to the
// end and exits 0; a third refund and the refund of a declined payment
// exit 1 with the API's reason. Each refund prints its receipts as PNGs,
// and the simulator's ledger holds exactly the two refunds.
func TestRefundCommand(t *testing.T) {
	state := t.TempDir()
	a := startDemo(t, state, freePort(t))
	code, p, err := a.call("POST", "/v1/payments?wait=30s", `{"amount":2000,"currency":"CNY","auth_code":"134567890123456789"}`)
	if err != nil || code != 201 || p["state"] != "succeeded" {
		t.Fatalf("pay: %d %v %v", code, p, err)
	}
	id, otn := p["id"].(string), p["out_trade_no"].(string)
	refund := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(binary(t), append([]string{"refund"}, append(args, "--api", "http://"+a.addr, "--token-file", filepath.Join(state, "api.token"))...)...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	refID := regexp.MustCompile(`ref_[0-9a-f]{16}`)

	out, status := refund(id, "--amount", "5.00", "--reason", "one item returned")
	if status != 0 || !strings.Contains(out, "Final: succeeded") || !strings.Contains(out, "5.00 CNY") {
		t.Fatalf("refund 5.00: exit %d\n%s", status, out)
	}
	first := refID.FindString(out)
	out, status = refund(id) // all that is left
	if status != 0 || !strings.Contains(out, "15.00 CNY") || !strings.Contains(out, "Final: succeeded") {
		t.Fatalf("refund of the rest: exit %d\n%s", status, out)
	}
	second := refID.FindString(out)

	out, status = refund(id, "--amount", "0.01")
	if status != 1 || !strings.Contains(out, "nothing left to refund") && !strings.Contains(out, "exceeds what is left") {
		t.Errorf("refund beyond the payment: exit %d\n%s", status, out)
	}
	code, d, err := a.call("POST", "/v1/payments?wait=30s", `{"amount":1293,"currency":"CNY","auth_code":"284567890123456789"}`)
	if err != nil || code != 201 || d["state"] != "failed" {
		t.Fatalf("declined payment: %d %v %v", code, d, err)
	}
	out, status = refund(d["id"].(string))
	if status != 1 || !strings.Contains(out, "only a succeeded payment can be refunded") {
		t.Errorf("refund of a declined payment: exit %d\n%s", status, out)
	}
	out, status = refund()
	if status != 2 || !strings.Contains(out, "a payment ID is required") {
		t.Errorf("refund without a payment: exit %d\n%s", status, out)
	}

	// The API lists both, and nothing is left.
	code, list, err := a.call("GET", "/v1/payments/"+id+"/refunds", "")
	if err != nil || code != 200 || list["refunded"] != float64(2000) || list["refundable"] != float64(0) || len(list["refunds"].([]any)) != 2 {
		t.Errorf("refund list: %d %v %v", code, list, err)
	}
	// Each refund's two copies print as PNG previews.
	for _, ref := range []string{first, second} {
		if ref == "" {
			t.Fatalf("no refund id in the output")
		}
		a.waitRefundPrinted(ref)
		for _, c := range []string{"customer", "merchant"} {
			f, err := os.Open(filepath.Join(state, "receipts", ref+"-"+c+".png"))
			if err != nil {
				t.Errorf("refund receipt: %v", err)
				continue
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil || img.Bounds().Dx() < 384 {
				t.Errorf("%s-%s.png is not a receipt-wide PNG: %v", ref, c, err)
			}
		}
	}
	a.kill()
	l, err := sim.OpenLedger(filepath.Join(state, "sim-mmsp", "ledger.json"))
	if err != nil {
		t.Fatal(err)
	}
	o, _ := l.Get(otn)
	if len(o.Refunds) != 2 || o.RefundedAmount() != 2000 {
		t.Fatalf("the simulator refunded %+v, want exactly two refunds of 2000 in all", o.Refunds)
	}
}

// waitRefundPrinted waits until the API says a refund's receipts are
// printed.
func (a *agent) waitRefundPrinted(id string) {
	a.t.Helper()
	for range 100 {
		code, m, err := a.call("GET", "/v1/refunds/"+id+"/receipts", "")
		if err == nil && code == 200 {
			jobs, _ := m["jobs"].([]any)
			done := len(jobs) > 0
			for _, j := range jobs {
				done = done && j.(map[string]any)["state"] == "printed"
			}
			if done {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.t.Fatalf("refund %s: receipts not printed", id)
}
