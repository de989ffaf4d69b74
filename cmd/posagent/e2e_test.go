package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/posagent/posagent/hw/printer/virtual"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/store/sqlite"
)

// The tests in this file build the real binary and drive it as a user and
// a till would: through its command line and its local API, killing it
// with SIGKILL where a crash is the point.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short mode")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "posagent-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "posagent")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freePort returns a loopback address free now, for a daemon to listen on
// (and to listen on again after a restart). It is drawn from below the
// kernel's ephemeral range: a port the kernel hands out for ":0" is free
// for anyone's next ":0" too (a demo's simulator or display takes one when
// its default port is busy), so between this check and the daemon's bind,
// or across a SIGKILL and restart, another demo could take it.
func freePort(t *testing.T) string {
	t.Helper()
	lo := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				lo = n
			}
		}
	}
	const base = 20000 // above the demo's fixed ports (8417, 8418, 18419)
	for range 200 {
		if lo <= base+1000 {
			break
		}
		addr := fmt.Sprintf("127.0.0.1:%d", base+rand.IntN(lo-base))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// agent is one running posagent process.
type agent struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	state  string
	out    *syncBuffer
	exited chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDemo runs `posagent demo` on state and waits until its API answers.
func startDemo(t *testing.T, state, addr string, env ...string) *agent {
	t.Helper()
	return startDemoArgs(t, state, addr, nil, env...)
}

// startDemoArgs is startDemo with more demo flags.
func startDemoArgs(t *testing.T, state, addr string, args []string, env ...string) *agent {
	t.Helper()
	// The tests' simulated customer scans a merchant QR at once (the
	// demo's default gives a person 10 s); args may say otherwise.
	cmd := exec.Command(binary(t), append([]string{"demo", "--state", state, "--listen", addr, "--log-level", "debug", "--qr-paid-after", "200ms"}, args...)...)
	// Should the test binary itself die, take the daemon with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(os.Environ(), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &agent{t: t, cmd: cmd, addr: addr, state: state, out: out, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(a.exited) }()
	t.Cleanup(func() {
		a.kill()
		if t.Failed() {
			t.Logf("posagent output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return a
			}
		}
		select {
		case <-a.exited:
			t.Fatalf("posagent exited before it was ready:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("posagent not ready after 30s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (a *agent) kill() {
	if a.cmd.Process != nil {
		_ = a.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-a.exited
}

func (a *agent) token() string {
	b, err := os.ReadFile(filepath.Join(a.state, "api.token"))
	if err != nil {
		a.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// call sends one API request and decodes the JSON answer into a map.
func (a *agent) call(method, path, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, "http://"+a.addr+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("answer is not JSON: %s", b)
	}
	return resp.StatusCode, m, nil
}

// waitFor polls a payment until cond holds.
func (a *agent) waitFor(id string, d time.Duration, cond func(p map[string]any) bool) map[string]any {
	a.t.Helper()
	deadline := time.Now().Add(d)
	var last map[string]any
	for time.Now().Before(deadline) {
		code, p, err := a.call("GET", "/v1/payments/"+id+"?wait=1s", "")
		if err == nil && code == 200 {
			last = p
			if cond(p) {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.t.Fatalf("payment %s: condition not met within %v; last %v", id, d, last)
	return nil
}

func (a *agent) payments() []map[string]any {
	a.t.Helper()
	code, m, err := a.call("GET", "/v1/payments?limit=200", "")
	if err != nil || code != 200 {
		a.t.Fatalf("listing payments: %d %v", code, err)
	}
	var out []map[string]any
	for _, p := range m["payments"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

func TestDemoTour(t *testing.T) {
	state := t.TempDir()
	cmd := exec.Command(binary(t), "demo", "--tour", "--state", state, "--listen", freePort(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo --tour failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "All scenarios ended as expected.") {
		t.Fatalf("tour output lacks the success line:\n%s", out)
	}
	// The simulator's signed notifications reach the daemon's notification
	// endpoint and are verified and applied (or acknowledged as already final).
	if !strings.Contains(string(out), "notification applied") {
		t.Errorf("no notification was applied during the tour")
	}
	// The tour walks the till API too: idempotent retry, lookup by
	// reference, the replaced waiting payment, the event stream.
	for _, step := range []string{"a create retried with its Idempotency-Key", "found by the till's reference", "the waiting payment replaced (cancelled)", "the event stream has them"} {
		if !strings.Contains(string(out), step) {
			t.Errorf("tour lacks the till API step %q", step)
		}
	}
	for _, c := range append(tourCases, tourQRCases...) {
		if !strings.Contains(string(out), c.name) {
			t.Errorf("tour table lacks %q", c.name)
		}
	}
	// A refund, a failed payment and a summary are printed, and their
	// previews draw Chinese from a CJK font where the system has one (CI
	// installs fonts-noto-cjk).
	for _, step := range []string{"refund 5.00 of it", "a failed payment's receipt says Not charged 未扣款", "the summary prints refunds and the net", "previews draw Chinese"} {
		if !strings.Contains(string(out), step) {
			t.Errorf("tour lacks the receipt step %q", step)
		}
	}
	if _, err := virtual.FindCJKFont(); err == nil && !strings.Contains(string(out), "previews draw Chinese with ") {
		t.Errorf("a CJK font is installed, yet the tour's previews do not draw Chinese with it")
	}
	checkReceiptPreviews(t, state)
	// MMSP offers no bill: the tour's reconciliation lists the day.
	checkTourReconciled(t, string(out), state, "mmsp", false)
}

// checkReceiptPreviews checks, from the demo's journal, that every final
// payment has its receipts printed on the virtual printer: NAME.png beside
// NAME.bin under STATE/receipts, the PNG a real PNG image. Nothing is left
// in the print queue.
func checkReceiptPreviews(t *testing.T, state string) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(state, "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ps, err := db.Recent(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if pending, err := db.PendingPrints(t.Context()); err != nil || len(pending) != 0 {
		t.Errorf("receipts left unprinted: %v %v", pending, err)
	}
	finals := 0
	for _, p := range ps {
		if !p.State.Final() || p.SubmittedAt.IsZero() {
			// A payment cancelled before its code was scanned was never
			// sent and owes no receipt (the tour's replaced waiting
			// payments).
			continue
		}
		finals++
		jobs, err := db.PrintJobs(t.Context(), p.ID)
		if err != nil || len(jobs) == 0 {
			t.Errorf("payment %s (%s) has no print jobs: %v", p.ID, p.State, err)
			continue
		}
		for _, j := range jobs {
			name := p.ID + "-" + strings.TrimPrefix(j.Kind, "payment-")
			base := filepath.Join(state, "receipts", name)
			if fi, err := os.Stat(base + ".bin"); err != nil || fi.Size() == 0 {
				t.Errorf("%s: no ESC/POS bytes: %v", name, err)
			}
			f, err := os.Open(base + ".png")
			if err != nil {
				t.Errorf("%s: no PNG preview: %v", name, err)
				continue
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil || img.Bounds().Dx() < 384 {
				t.Errorf("%s.png is not a receipt-wide PNG image: %v", name, err)
			}
		}
	}
	if finals < len(tourCases)-1 {
		t.Errorf("the journal has %d final payments, want one per accepted tour case (%d)", finals, len(tourCases)-1)
	}
}

// TestReprintAndPrinterStatus: GET /v1/devices reports the printer and its
// queue, and `posagent reprint` prints a payment's receipt again, marked
// as a reprint, beside the original.
func TestReprintAndPrinterStatus(t *testing.T) {
	state := t.TempDir()
	a := startDemo(t, state, freePort(t))
	code, p, err := a.call("POST", "/v1/payments?wait=30s", `{"amount":1200,"currency":"CNY","auth_code":"134567890123456789"}`)
	if err != nil || code != 201 || p["state"] != "succeeded" {
		t.Fatalf("create: %d %v %v", code, p, err)
	}
	id := p["id"].(string)

	code, d, err := a.call("GET", "/v1/devices", "")
	if err != nil || code != 200 {
		t.Fatalf("devices: %d %v", code, err)
	}
	pr, ok := d["printer"].(map[string]any)
	if !ok || pr["online"] != true || pr["ready"] != true || pr["paper_out"] != false || pr["cover_open"] != false {
		t.Fatalf("devices lacks a ready printer: %v", d)
	}
	for _, k := range []string{"paper_near_end", "error", "pending_jobs"} {
		if _, ok := pr[k]; !ok {
			t.Errorf("printer status lacks %q: %v", k, pr)
		}
	}

	cmd := exec.Command(binary(t), "reprint", id, "--kind", "payment-customer",
		"--api", "http://"+a.addr, "--token-file", filepath.Join(state, "api.token"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "printed #") {
		t.Fatalf("reprint: %v\n%s", err, out)
	}
	m, _ := filepath.Glob(filepath.Join(state, "receipts", id+"-customer-reprint*.png"))
	if len(m) != 1 {
		t.Fatalf("reprint preview: %v", m)
	}
	txt, err := os.ReadFile(strings.TrimSuffix(m[0], ".png") + ".txt")
	if err != nil || !strings.Contains(string(txt), "REPRINT") {
		t.Errorf("the reprint does not say it is one: %v\n%s", err, txt)
	}

	// Unknown payments are refused with the API's reason; exit 1.
	cmd = exec.Command(binary(t), "reprint", "pay_nobody", "--api", "http://"+a.addr, "--token-file", filepath.Join(state, "api.token"))
	out, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "no payment pay_nobody") {
		t.Errorf("reprint of an unknown payment: %v\n%s", err, out)
	}
}

func TestBadInputJournalsNothing(t *testing.T) {
	a := startDemo(t, t.TempDir(), freePort(t))
	// Unreadable requests are 400, readable but unacceptable ones 422;
	// both name the field at fault, and neither journals anything.
	bad := []struct {
		body   string
		status int
		field  string
		want   string
	}{
		{`{"amount":1200,"currency":"CNY","auth_code":"134567890123456789","extra":1}`, 400, "extra", "unknown field"},
		{`{"amount":1200,"amount":1500,"currency":"CNY","auth_code":"134567890123456789"}`, 400, "amount", "twice"},
		{`{"amount":1200,"AMOUNT":1500,"currency":"CNY","auth_code":"134567890123456789"}`, 400, "AMOUNT", "differ only in case"},
		{`{"AMOUNT":1500,"currency":"CNY","auth_code":"134567890123456789"}`, 400, "AMOUNT", "spelled"},
		{`{"amount":-1200,"currency":"CNY","auth_code":"134567890123456789"}`, 422, "amount", "positive"},
		{`{"amount":12.91,"currency":"CNY","auth_code":"134567890123456789"}`, 422, "amount", "minor units"},
		{`{"amount":1200,"currency":"ZZZ","auth_code":"134567890123456789"}`, 422, "currency", "unsupported currency"},
		{`{"amount":1200,"currency":"CNY","auth_code":"6901234567892"}`, 422, "auth_code", "EAN-13"},
		{`{"amount":1200,"currency":"CNY","auth_code":"99999999999999999999"}`, 422, "auth_code", "unrecognised"},
	}
	for _, b := range bad {
		code, m, err := a.call("POST", "/v1/payments", b.body)
		if err != nil {
			t.Fatal(err)
		}
		msg := fmt.Sprint(m["detail"])
		if code != b.status || m["field"] != b.field || !strings.Contains(msg, b.want) || !strings.HasPrefix(fmt.Sprint(m["type"]), "urn:posagent:problem:") {
			t.Errorf("%s: got %d %v, want %d about %q mentioning %q", b.body, code, m, b.status, b.field, b.want)
		}
	}
	// Without the token: 401, whatever the body.
	req, _ := http.NewRequest("POST", "http://"+a.addr+"/v1/payments", strings.NewReader(`{"amount":1200,"currency":"CNY"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if ps := a.payments(); len(ps) != 0 {
		t.Fatalf("refused requests were journaled: %v", ps)
	}
}

// TestKillWhilePollingThenReverse: a ..92 payment is user-paying; the agent
// is SIGKILLed while it polls and started again on the same state; the
// payment must end reversed, and the simulator's ledger must agree.
func TestKillWhilePollingThenReverse(t *testing.T) {
	state, addr := t.TempDir(), freePort(t)
	a := startDemo(t, state, addr)
	code, p, err := a.call("POST", "/v1/payments", `{"amount":1292,"currency":"CNY","auth_code":"134567890123456789"}`)
	if err != nil || code != 201 {
		t.Fatalf("create: %d %v %v", code, p, err)
	}
	id := p["id"].(string)
	otn := p["out_trade_no"].(string)
	a.waitFor(id, 10*time.Second, func(p map[string]any) bool { return p["detail"] == "user_paying" })
	a.kill()

	b := startDemo(t, state, addr)
	p = b.waitFor(id, 30*time.Second, func(p map[string]any) bool { return p["state"] != "pending" })
	if p["state"] != "reversed" {
		t.Fatalf("after restart the payment ended %v, want reversed: %v", p["state"], p)
	}
	b.kill()
	checkLedger(t, state, otn, "REVOKED")
}

// TestKillRightAfterSubmitJournaled: the agent dies (SIGKILL) after the
// submit is journaled and before it is sent. On restart it must not pay
// again; the payment ends reversed and the ledger holds the reversal.
func TestKillRightAfterSubmitJournaled(t *testing.T) {
	state, addr := t.TempDir(), freePort(t)
	a := startDemo(t, state, addr, "POSAGENT_CRASHPOINT=micropay.submitted")
	_, _, err := a.call("POST", "/v1/payments", `{"amount":1292,"currency":"CNY","auth_code":"134567890123456789"}`)
	if err == nil {
		t.Fatal("the request was answered; the crash point did not fire")
	}
	select {
	case <-a.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("posagent did not die at the crash point")
	}
	b := startDemo(t, state, addr)
	ps := b.payments()
	if len(ps) != 1 {
		t.Fatalf("want the one journaled payment, got %v", ps)
	}
	id, otn := ps[0]["id"].(string), ps[0]["out_trade_no"].(string)
	p := b.waitFor(id, 30*time.Second, func(p map[string]any) bool { return p["state"] != "pending" })
	if p["state"] != "reversed" {
		t.Fatalf("after restart the payment ended %v, want reversed: %v", p["state"], p)
	}
	b.kill()
	checkLedger(t, state, otn, "REVOKED")
}

// checkLedger reads the demo simulator's ledger (the acquirer's side of the
// story) and checks the order's state there.
func checkLedger(t *testing.T, state, outTradeNo, want string) {
	t.Helper()
	l, err := sim.OpenLedger(filepath.Join(state, "sim-mmsp", "ledger.json"))
	if err != nil {
		t.Fatal(err)
	}
	o, ok := l.Get(outTradeNo)
	if !ok {
		t.Fatalf("the simulator's ledger has no order %s", outTradeNo)
	}
	if string(o.State) != want {
		t.Fatalf("the simulator's ledger says %s is %s, want %s", outTradeNo, o.State, want)
	}
}
