package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// TestSummaryOfAPrunedDayIsUnchanged: a journal with a day of business
// from long ago; `posagent summary` of that day through a daemon that keeps
// everything, then through one with the default retention, which prunes the
// day at start (and logs it): the same totals, to the character, while the
// payments themselves are gone.
func TestSummaryOfAPrunedDayIsUnchanged(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	// The day, 500 days ago at noon in the daemon's zone (UTC here).
	day := time.Now().UTC().AddDate(0, 0, -500).Truncate(24 * time.Hour).Add(12 * time.Hour)
	db, err := sqlite.Open(filepath.Join(state, "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pay := func(id string, w pos.Wallet, minor int64, final pos.State, at time.Time) pos.Payment {
		p := pos.Payment{ID: id, OutTradeNo: "OTN" + id, Gateway: "mmsp", Method: pos.Micropay,
			Amount: pos.Money{Minor: minor, Currency: "CNY"}, Wallet: w, CodeMasked: "1345********6789",
			State: pos.StateSubmitting, CreatedAt: at, UpdatedAt: at, SubmittedAt: at}
		if err := db.Append(ctx, store.Change{Payment: p, Reason: "created", At: at}); err != nil {
			t.Fatal(err)
		}
		from := p.State
		if final == pos.StateReversed {
			p.State = pos.StateReversing
			if err := db.Append(ctx, store.Change{Payment: p, From: from, Reason: "reversing", At: at}); err != nil {
				t.Fatal(err)
			}
			from = p.State
		}
		p.State, p.UpdatedAt = final, at.Add(time.Minute)
		if err := db.Append(ctx, store.Change{Payment: p, From: from, Reason: "final", At: p.UpdatedAt}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := pay("pay_old_a", pos.WeChatPay, 1200, pos.StateSucceeded, day)
	pay("pay_old_b", pos.Alipay, 550, pos.StateSucceeded, day.Add(time.Hour))
	pay("pay_old_c", pos.WeChatPay, 1293, pos.StateFailed, day.Add(2*time.Hour))
	pay("pay_old_d", pos.Alipay, 1292, pos.StateReversed, day.Add(3*time.Hour))
	r := pos.Refund{ID: "ref_old_a", PaymentID: a.ID, OutRefundNo: "RFOLDA", Amount: pos.Money{Minor: 200, Currency: "CNY"},
		State: pos.RefundSubmitting, CreatedAt: day.Add(4 * time.Hour), UpdatedAt: day.Add(4 * time.Hour)}
	if err := db.AppendRefund(ctx, store.RefundChange{Refund: r, Reason: "asked", At: r.CreatedAt}); err != nil {
		t.Fatal(err)
	}
	r.State, r.UpdatedAt = pos.RefundSucceeded, r.CreatedAt.Add(time.Minute)
	if err := db.AppendRefund(ctx, store.RefundChange{Refund: r, From: pos.RefundSubmitting, Reason: "refunded", At: r.UpdatedAt}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	cfgFile := filepath.Join(dir, "posagent.yaml")
	serve := func(retention string) (addr string, out *syncBuffer, stop func()) {
		t.Helper()
		addr = freePort(t)
		cfg := fmt.Sprintf(`state_dir: %s
listen: %s
gateways:
  - name: mmsp
    kind: mmsp
    options:
      endpoint: http://127.0.0.1:9/
      merchant_no: "001440353999853"
      terminal_no: "84970001"
      key: ea21842eea24e448b991b1cb0a0294cf
      simulated: true
printer: {kind: text, options: {path: %s}}
%s`, state, addr, filepath.Join(dir, "receipts.txt"), retention)
		if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", "--config", cfgFile)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		out = &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.Env = append(os.Environ(), "TZ=UTC")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stop = func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
		for deadline := time.Now().Add(20 * time.Second); ; {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				return addr, out, stop
			}
			if time.Now().After(deadline) {
				stop()
				t.Fatalf("serve not ready:\n%s", out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	summary := func(addr string) string {
		t.Helper()
		out, err := exec.Command(bin, "summary", "--date", day.Format(time.DateOnly), "--api", "http://"+addr,
			"--token-file", filepath.Join(state, "api.token")).CombinedOutput()
		if err != nil {
			t.Fatalf("posagent summary: %v\n%s", err, out)
		}
		return string(out)
	}

	addr, out, stop := serve("journal: {retention: 36500d}\n")
	before := summary(addr)
	stop()
	if strings.Contains(out.String(), "journal pruned") {
		t.Fatalf("a daemon keeping 100 years pruned:\n%s", out)
	}
	for _, want := range []string{"net CNY 15.50", "failed: 1, reversed: 1"} {
		if !strings.Contains(before, want) {
			t.Fatalf("the day's summary before pruning lacks %q:\n%s", want, before)
		}
	}

	addr, out, stop = serve("")
	defer stop()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "journal pruned"); {
		if time.Now().After(deadline) {
			t.Fatalf("the default retention pruned nothing at start:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "payments=4") || !strings.Contains(out.String(), "refunds=1") {
		t.Errorf("the prune's log line does not say what it pruned:\n%s", out)
	}
	if after := summary(addr); after != before {
		t.Errorf("the summary of a pruned day changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	c := &apiClient{base: "http://" + addr, token: strings.TrimSpace(readFile(t, filepath.Join(state, "api.token"))), http: http.DefaultClient}
	if err := c.do(ctx, http.MethodGet, "/v1/payments/"+a.ID, nil, nil); err == nil || !strings.Contains(err.Error(), "404") && !strings.Contains(strings.ToLower(err.Error()), "not found") {
		t.Errorf("the pruned payment still answers: %v", err)
	}
}
