package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeDailyReconciliation runs the daemon from a config with
// reconcile.daily_at at midnight, so the day's run is owed as soon as it
// starts: the acquirer's last closed day is reconciled and kept, shown in
// /metrics; a restart later that day keeps the same result and does not
// run the day again.
func TestServeDailyReconciliation(t *testing.T) {
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
	if err := os.WriteFile(filepath.Join(dir, "mmsp.key"), []byte("ea21842eea24e448b991b1cb0a0294cf\n"), 0o600); err != nil {
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
      simulated: true
reconcile:
  daily_at: "00:00"
`, filepath.Join(dir, "state"), apiAddr, simAddr)
	cfgFile := filepath.Join(dir, "posagent.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// The day owed: the acquirer's (UTC+8) day before the one in which
	// today's 00:00 local falls.
	now := time.Now()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.Local)
	want := midnight.In(time.FixedZone("UTC+8", 8*3600)).AddDate(0, 0, -1).Format(time.DateOnly)

	runs := regexp.MustCompile(`posagent_reconcile_last_run_timestamp_seconds\{date="([0-9-]+)"\} (\S+)`)
	serveOnce := func() (date, at string, out *syncBuffer) {
		t.Helper()
		srv := exec.Command(bin, "serve", "--config", cfgFile)
		out = &syncBuffer{}
		srv.Stdout, srv.Stderr = out, out
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			tok, err := os.ReadFile(filepath.Join(dir, "state", "api.token"))
			if err == nil {
				req, _ := http.NewRequest("GET", "http://"+apiAddr+"/metrics", nil)
				req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
				if resp, err := http.DefaultClient.Do(req); err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if m := runs.FindStringSubmatch(string(b)); m != nil {
						if !strings.Contains(string(b), "posagent_reconcile_last_ok 1\n") || !strings.Contains(string(b), "posagent_reconcile_last_mismatches 0\n") {
							t.Errorf("the kept run does not add up:\n%s", b)
						}
						return m[1], m[2], out
					}
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("no reconciliation in /metrics:\n%s\nsimulate:\n%s", out, simOut)
		return
	}
	date, at, out := serveOnce()
	if date != want {
		t.Errorf("reconciled %s, want the acquirer's last closed day %s", date, want)
	}
	if !strings.Contains(out.String(), "daily reconciliation: the day adds up") {
		t.Errorf("the run was not logged:\n%s", out)
	}
	date2, at2, out2 := serveOnce()
	if date2 != date || at2 != at {
		t.Errorf("after a restart the last run is %s at %s, want the kept %s at %s", date2, at2, date, at)
	}
	if strings.Contains(out2.String(), "daily reconciliation: the day") {
		t.Errorf("the restarted daemon ran the kept day again:\n%s", out2)
	}
}
