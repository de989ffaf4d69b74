package main

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMetricsAfterTheTour runs the tour, restarts the demo on the same
// journal, and scrapes /metrics: behind the token, and with every
// payment's gateway, wallet, method and state counted as the API lists
// them.
func TestMetricsAfterTheTour(t *testing.T) {
	state := t.TempDir()
	out, err := exec.Command(binary(t), "demo", "--tour", "--state", state, "--listen", freePort(t)).CombinedOutput()
	if err != nil {
		t.Fatalf("demo --tour: %v\n%s", err, out)
	}
	a := startDemo(t, state, freePort(t))

	resp, err := http.Get("http://" + a.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d, want 401", resp.StatusCode)
	}
	// One more payment in this run, so the gateway histograms have a call.
	code, p, err := a.call("POST", "/v1/payments?wait=20", `{"amount":1200,"currency":"CNY","auth_code":"134567890123456789"}`)
	if err != nil || code/100 != 2 || p["state"] != "succeeded" {
		t.Fatalf("payment: %d %v %v", code, p, err)
	}
	req, _ := http.NewRequest("GET", "http://"+a.addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+a.token())
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d\n%s", resp.StatusCode, body)
	}
	text := string(body)

	// Count what the API lists, page by page.
	want := map[string]int{}
	total := 0
	cursor := ""
	for {
		path := "/v1/payments?limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		code, page, err := a.call("GET", path, "")
		if err != nil || code != 200 {
			t.Fatalf("list: %d %v", code, err)
		}
		for _, x := range page["payments"].([]any) {
			p := x.(map[string]any)
			if p["state"] == "pending" {
				t.Fatalf("payment %v is still pending after the tour", p["id"])
			}
			key := fmt.Sprintf(`posagent_payments{gateway="%s",method="%s",state="%s",wallet="%s"}`, p["gateway"], p["method"], p["state"], str(p["wallet"]))
			want[key]++
			total++
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if total < 10 {
		t.Fatalf("only %d payments listed after the tour", total)
	}
	got := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^(posagent_payments\{[^}]*\}) (\d+)$`).FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(m[2])
		got[m[1]] = n
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s = %d, want %d (as the API lists them)", k, got[k], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("metrics have %d payment series, the API %d:\n%v\n%v", len(got), len(want), got, want)
	}
	for _, w := range []string{
		"posagent_outbox_depth 0",
		"posagent_outbox_overdue 0",
		"posagent_operator_scrape_ok 1",
		"posagent_journal_scrape_ok 1",
		"posagent_payments_charged_after_gave_up 0",
		`posagent_gateway_call_duration_seconds_count{gateway="mmsp",op="Micropay",outcome="ok"}`,
		`posagent_device_up{kind="printer",name="receipt"} 1`,
		"posagent_build_info{",
		"posagent_journal_bytes",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("metrics lack %q", w)
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
