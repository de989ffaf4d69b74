package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestRoutingE2E: config rules choose the gateway by method and wallet,
// for a code in the request and for one scanned later; a request no
// gateway can serve is refused before anything is journaled.
func TestRoutingE2E(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	simAddr, apiAddr := freePort(t), freePort(t)
	sim := exec.Command(bin, "simulate", "--gateway", "mmsp", "--listen", simAddr, "--state", filepath.Join(dir, "sim"))
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Process.Kill(); _ = sim.Wait() })
	scannerPTY, scannerTTY, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { scannerPTY.Close(); scannerTTY.Close() })
	if err := os.WriteFile(filepath.Join(dir, "mmsp.key"), []byte("ea21842eea24e448b991b1cb0a0294cf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := func(name string) string {
		return fmt.Sprintf(`  - name: %s
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
`, name, simAddr)
	}
	cfg := fmt.Sprintf("state_dir: %s\nlisten: %s\ngateways:\n%s%s    default: true\n", filepath.Join(dir, "state"), apiAddr, gw("ali"), gw("main")) +
		fmt.Sprintf(`routes:
  - {method: micropay, wallet: alipay, gateway: ali}
  - {method: qr, gateway: ali}
scanners:
  - name: counter
    kind: serial
    options: {path: %s, suffix: lf, baud: 9600}
`, scannerTTY.Name())
	cfgFile := filepath.Join(dir, "posagent.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command(bin, "serve", "--config", cfgFile)
	out := &syncBuffer{}
	srv.Stdout, srv.Stderr = out, out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
		if t.Failed() {
			t.Logf("serve output:\n%s", out)
		}
	})
	waitHealthy(t, apiAddr)
	a := &agent{t: t, addr: apiAddr, state: filepath.Join(dir, "state"), out: out}
	create := func(body string) (int, map[string]any) {
		code, _, b := a.request("POST", "/v1/payments?wait=30s", body, nil)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return code, m
	}
	if code, p := create(`{"amount":1200,"currency":"CNY","auth_code":"284567890123456789"}`); code != 201 || p["gateway"] != "ali" {
		t.Errorf("alipay code: %d %v, want gateway ali", code, p)
	}
	if code, p := create(`{"amount":1200,"currency":"CNY","auth_code":"134567890123456789"}`); code != 201 || p["gateway"] != "main" {
		t.Errorf("wechat code: %d %v, want the default gateway", code, p)
	}
	if code, p := create(`{"amount":1200,"currency":"CNY","method":"qr","wallet":"wechat"}`); code != 201 || p["gateway"] != "ali" {
		t.Errorf("merchant QR: %d %v, want gateway ali", code, p)
	}
	// A scanned Alipay code is routed when it is scanned.
	_, _, b := a.request("POST", "/v1/payments", `{"amount":1800,"currency":"CNY"}`, nil)
	var waiting map[string]any
	_ = json.Unmarshal(b, &waiting)
	if _, err := scannerPTY.Write([]byte("284567890123456789\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var p map[string]any
	for time.Now().Before(deadline) {
		_, _, b := a.request("GET", "/v1/payments/"+waiting["id"].(string)+"?wait=5s", "", nil)
		_ = json.Unmarshal(b, &p)
		if p["state"] != "pending" {
			break
		}
	}
	if p["state"] != "succeeded" || p["gateway"] != "ali" {
		t.Errorf("scanned alipay code: %v, want succeeded through ali", p)
	}
	// Nothing serves USD: refused before it is journaled.
	before := len(listAll(t, a))
	if code, p := create(`{"amount":1200,"currency":"USD","auth_code":"134567890123456789"}`); code != 422 || p["field"] != "currency" {
		t.Errorf("a currency no gateway takes: %d %v", code, p)
	}
	if after := len(listAll(t, a)); after != before {
		t.Errorf("the refused request was journaled: %d -> %d payments", before, after)
	}
}

func listAll(t *testing.T, a *agent) []any {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+a.addr+"/v1/payments?limit=200", nil)
	req.Header.Set("Authorization", "Bearer "+a.token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	ps, _ := m["payments"].([]any)
	return ps
}

// TestUnixSocketPeerAllowListE2E: the socket takes its configured group and
// mode, and the kernel's peer credentials decide who is served: a uid in
// allow_uids is, another uid of the same group (so it can open the socket)
// is refused. Needs root, to run curl as other users.
func TestUnixSocketPeerAllowListE2E(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to connect as other users")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("needs curl")
	}
	bin := binary(t)
	dir := shortTempDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	simAddr, apiAddr := freePort(t), freePort(t)
	sim := exec.Command(bin, "simulate", "--gateway", "mmsp", "--listen", simAddr, "--state", filepath.Join(dir, "sim"))
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Process.Kill(); _ = sim.Wait() })
	if err := os.WriteFile(filepath.Join(dir, "mmsp.key"), []byte("ea21842eea24e448b991b1cb0a0294cf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "api.sock")
	cfg := fmt.Sprintf(`state_dir: %s
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
api:
  socket: %s
  socket_mode: "0660"
  socket_group: "65534"
  allow_uids: [65534]
`, filepath.Join(dir, "state"), apiAddr, simAddr, sock)
	cfgFile := filepath.Join(dir, "posagent.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command(bin, "serve", "--config", cfgFile)
	out := &syncBuffer{}
	srv.Stdout, srv.Stderr = out, out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
		if t.Failed() {
			t.Logf("serve output:\n%s", out)
		}
	})
	waitHealthy(t, apiAddr)
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o660 || st.Gid != 65534 {
		t.Fatalf("socket mode %v group %d, want 0660 group 65534", fi.Mode().Perm(), st.Gid)
	}
	as := func(uid uint32) string {
		cmd := exec.Command("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", sock, "http://localhost/v1/payments")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: 65534}}
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("curl as %d: %v %s", uid, err, b)
		}
		return string(b)
	}
	if got := as(65534); got != "200" {
		t.Errorf("allowed uid: HTTP %s, want 200", got)
	}
	if got := as(65533); got != "401" {
		t.Errorf("uid not in the allow-list: HTTP %s, want 401", got)
	}
}
