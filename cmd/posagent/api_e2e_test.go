package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/localapi/openapitest"
)

// The tests in this file drive the till's API of issue 10 through the real
// binary against the demo's simulator: idempotency, references, creates
// that do not wait for the gateway, lanes, the event stream, problems,
// limits, the socket and the CLI.

// request sends one API request with headers and returns status, headers
// and body.
func (a *agent) request(method, path, body string, hdr map[string]string) (int, http.Header, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(method, "http://"+a.addr+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token())
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return m
}

var scannerLine = regexp.MustCompile(`scanner\s+(/dev/pts/\d+)`)

// scanner is the demo's virtual scanner (from its "Try:" text).
func (a *agent) scanner() string {
	a.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := scannerLine.FindStringSubmatch(a.out.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.t.Fatalf("the demo did not print its scanner:\n%s", a.out)
	return ""
}

func (a *agent) scan(code string) {
	a.t.Helper()
	if err := typeIntoScanner(a.scanner(), code); err != nil {
		a.t.Fatal(err)
	}
}

func (a *agent) cli(args ...string) (string, int) {
	a.t.Helper()
	args = append(args, "--api", "http://"+a.addr, "--token-file", filepath.Join(a.state, "api.token"))
	out, err := exec.Command(binary(a.t), args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		a.t.Fatal(err)
	}
	return string(out), 0
}

// Same Idempotency-Key and body: the first answer again, one payment, one
// charge, also after a restart. Same key, another body: 409. Refunds,
// cancels and reprints take keys too.
func TestIdempotencyKeyE2E(t *testing.T) {
	state, addr := t.TempDir(), freePort(t)
	a := startDemo(t, state, addr)
	body := `{"amount":1500,"currency":"CNY","auth_code":"134567890123777777","reference":"till-1-order-77"}`
	key := map[string]string{"Idempotency-Key": "till-1-order-77-pay", "Content-Type": ""}
	c1, h1, b1 := a.request("POST", "/v1/payments?wait=30s", body, key)
	c2, h2, b2 := a.request("POST", "/v1/payments?wait=30s", body, key)
	if c1 != 201 || c2 != 201 || string(b1) != string(b2) {
		t.Fatalf("retry with the key: %d %s / %d %s", c1, b1, c2, b2)
	}
	if h1.Get("Idempotent-Replayed") != "" || h2.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed: first %q, retry %q", h1.Get("Idempotent-Replayed"), h2.Get("Idempotent-Replayed"))
	}
	p := decode(t, b1)
	if p["state"] != "succeeded" {
		t.Fatalf("payment: %v", p)
	}
	if ps := a.payments(); len(ps) != 1 {
		t.Fatalf("%d payments journaled, want 1", len(ps))
	}
	code, _, b := a.request("POST", "/v1/payments", strings.Replace(body, "1500", "1600", 1), key)
	if pb := decode(t, b); code != 409 || pb["type"] != "urn:posagent:problem:idempotency-key-reused" || pb["field"] != "Idempotency-Key" {
		t.Fatalf("same key, other body: %d %s", code, b)
	}
	id := p["id"].(string)
	rkey := map[string]string{"Idempotency-Key": "till-1-order-77-refund-1"}
	rc1, _, rb1 := a.request("POST", "/v1/payments/"+id+"/refunds", `{"amount":500}`, rkey)
	rc2, _, rb2 := a.request("POST", "/v1/payments/"+id+"/refunds", `{"amount":500}`, rkey)
	if rc1 != 201 || rc2 != 201 || string(rb1) != string(rb2) {
		t.Fatalf("refund retried with its key: %d %s / %d %s", rc1, rb1, rc2, rb2)
	}
	_, _, lb := a.request("GET", "/v1/payments/"+id+"/refunds", "", nil)
	if l := decode(t, lb); len(l["refunds"].([]any)) != 1 {
		t.Fatalf("two refunds for one key: %s", lb)
	}
	pkey := map[string]string{"Idempotency-Key": "reprint-1"}
	pc1, _, pb1 := a.request("POST", "/v1/payments/"+id+"/reprint", "", pkey)
	pc2, _, pb2 := a.request("POST", "/v1/payments/"+id+"/reprint", "", pkey)
	if pc1 != 202 || pc2 != 202 || string(pb1) != string(pb2) {
		t.Fatalf("reprint retried: %d %s / %d %s", pc1, pb1, pc2, pb2)
	}
	// A cancel's answer is kept too: the retry gets the 202 of the
	// first, not a 409 for a payment that is now final.
	_, _, wb := a.request("POST", "/v1/payments?wait=0s", `{"amount":900,"currency":"CNY"}`, nil)
	wid := decode(t, wb)["id"].(string)
	ckey := map[string]string{"Idempotency-Key": "cancel-" + wid}
	cc1, _, cb1 := a.request("POST", "/v1/payments/"+wid+"/cancel", "", ckey)
	cc2, _, cb2 := a.request("POST", "/v1/payments/"+wid+"/cancel", "", ckey)
	if cc1 != 202 || cc2 != 202 || string(cb1) != string(cb2) {
		t.Fatalf("cancel retried: %d %s / %d %s", cc1, cb1, cc2, cb2)
	}
	a.kill()

	// The keys are journaled: after a restart the retry still answers the
	// first result and charges nothing.
	b2a := startDemo(t, state, addr)
	c3, _, b3 := b2a.request("POST", "/v1/payments?wait=30s", body, key)
	if c3 != 201 || string(b3) != string(b1) {
		t.Fatalf("retry after a restart: %d %s", c3, b3)
	}
	if ps := b2a.payments(); len(ps) != 2 {
		t.Fatalf("%d payments after the restart, want the 2 created", len(ps))
	}
	b2a.kill()
	l, err := sim.OpenLedger(filepath.Join(state, "sim-mmsp", "ledger.json"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range l.Orders() {
		if o.Amount == 1500 && !o.PaidAt.IsZero() {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the simulator charged 15.00 %d times, want once", n)
	}
}

// A till that lost a create's answer finds its payment by its reference,
// through the API and `posagent lookup`.
func TestReferenceLookupE2E(t *testing.T) {
	a := startDemo(t, t.TempDir(), freePort(t))
	for i, ref := range []string{"order-A", "order-B", "order-A"} {
		code, _, b := a.request("POST", "/v1/payments?wait=30s", fmt.Sprintf(`{"amount":%d,"currency":"CNY","auth_code":"134567890123456789","reference":"%s"}`, 1000+i, ref), nil)
		if code != 201 || decode(t, b)["reference"] != ref {
			t.Fatalf("create %s: %d %s", ref, code, b)
		}
	}
	_, _, b := a.request("GET", "/v1/payments?reference=order-A", "", nil)
	ps := decode(t, b)["payments"].([]any)
	if len(ps) != 2 || ps[0].(map[string]any)["amount"].(float64) != 1002 || ps[1].(map[string]any)["amount"].(float64) != 1000 {
		t.Fatalf("lookup by reference: %s", b)
	}
	out, code := a.cli("lookup", "order-B")
	if code != 0 || !strings.Contains(out, "10.01") || !strings.Contains(out, "ref order-B") || strings.Contains(out, "order-A") {
		t.Fatalf("posagent lookup: %d\n%s", code, out)
	}
	if out, code := a.cli("lookup", "order-none"); code != 1 || !strings.Contains(out, "no payments") {
		t.Fatalf("lookup of an unknown reference: %d\n%s", code, out)
	}
}

// A create answers before the gateway does: a ..94 payment (the simulator
// never answers its submit) comes back pending with its detail, and with
// Prefer: wait=30 (or ?wait=) the answer waits for the final state.
func TestCreateAnswersBeforeTheGatewayE2E(t *testing.T) {
	a := startDemo(t, t.TempDir(), freePort(t))
	code, _, b := a.request("POST", "/v1/payments", `{"amount":1294,"currency":"CNY","auth_code":"134567890123456789"}`, nil)
	p := decode(t, b)
	if code != 201 || p["state"] != "pending" || p["detail"] != "submitting" {
		t.Fatalf("create against a silent gateway: %d %s", code, b)
	}
	code, h, b := a.request("POST", "/v1/payments", `{"amount":1294,"currency":"CNY","auth_code":"284567890123456789"}`, map[string]string{"Prefer": "wait=30"})
	if p := decode(t, b); code != 201 || p["state"] != "succeeded" || h.Get("Preference-Applied") != "wait=30" {
		t.Fatalf("create with Prefer: wait=30: %d %v %s", code, h, b)
	}
	// The first one ends too, behind the answer.
	a.waitFor(p["id"].(string), 30*time.Second, func(p map[string]any) bool { return p["state"] == "succeeded" })
}

// One payment waits for a scan per lane: a second is refused naming the
// first, unless it replaces it; the scan then goes to the new one only.
func TestOneWaitingPaymentPerLaneE2E(t *testing.T) {
	a := startDemo(t, t.TempDir(), freePort(t))
	_, _, b := a.request("POST", "/v1/payments", `{"amount":1500,"currency":"CNY"}`, nil)
	first := decode(t, b)
	if first["detail"] != "awaiting_code" {
		t.Fatalf("first: %s", b)
	}
	code, _, b := a.request("POST", "/v1/payments", `{"amount":1600,"currency":"CNY"}`, nil)
	pb := decode(t, b)
	if code != 409 || pb["type"] != "urn:posagent:problem:payment-waiting" || pb["waiting_payment"] != first["id"] {
		t.Fatalf("second waiting payment: %d %s", code, b)
	}
	code, _, b = a.request("POST", "/v1/payments", `{"amount":1600,"currency":"CNY","replace":true}`, nil)
	second := decode(t, b)
	if code != 201 || second["detail"] != "awaiting_code" {
		t.Fatalf("replacing payment: %d %s", code, b)
	}
	a.waitFor(first["id"].(string), 10*time.Second, func(p map[string]any) bool { return p["state"] == "failed" })
	a.scan("134567890123456789")
	p := a.waitFor(second["id"].(string), 30*time.Second, func(p map[string]any) bool { return p["state"] != "pending" })
	if p["state"] != "succeeded" {
		t.Fatalf("the new sale: %v", p)
	}
	if _, _, b := a.request("GET", "/v1/payments/"+first["id"].(string)+"/events", "", nil); !strings.Contains(string(b), "cancelled by cashier") {
		t.Errorf("the replaced payment's cancel is not journaled: %s", b)
	}
}

// `posagent pay` cancels its own payment on Ctrl-C (a real SIGINT), so
// the customer's scan for the next sale cannot pay the abandoned one.
func TestPayCancelsOnCtrlC(t *testing.T) {
	a := startDemo(t, t.TempDir(), freePort(t))
	cmd := exec.Command(binary(t), "pay", "--amount", "15.00", "--api", "http://"+a.addr, "--token-file", filepath.Join(a.state, "api.token"))
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "scan the customer's code now") {
		if time.Now().After(deadline) {
			t.Fatalf("pay did not wait for a scan:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitDeclined || !strings.Contains(out.String(), "Interrupted: cancelling") || !strings.Contains(out.String(), "Final: failed") {
		t.Fatalf("pay after Ctrl-C: %v\n%s", err, out)
	}
	ps := a.payments()
	if len(ps) != 1 || ps[0]["state"] != "failed" || ps[0]["reason"] != "cancelled by cashier" {
		t.Fatalf("the abandoned payment: %v", ps)
	}
	// The next sale waits alone, and gets the scan.
	_, _, b := a.request("POST", "/v1/payments", `{"amount":1600,"currency":"CNY"}`, nil)
	next := decode(t, b)
	a.scan("134567890123456789")
	if p := a.waitFor(next["id"].(string), 30*time.Second, func(p map[string]any) bool { return p["state"] != "pending" }); p["state"] != "succeeded" {
		t.Fatalf("the next sale: %v", p)
	}
}

// A payment that fails before anything was sent (the gateway is not
// there) is 201 failed with a plain reason; the Go error text goes to the
// log and the event's detail, never to the customer's receipt.
func TestUnreachableGatewayE2E(t *testing.T) {
	dead := freePort(t) // nothing listens here
	state, addr := t.TempDir(), freePort(t)
	cmd := exec.Command(binary(t), "demo", "--state", state, "--listen", addr, "--sim-url", "http://"+dead)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &agent{t: t, cmd: cmd, addr: addr, state: state, out: out, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(a.exited) }()
	t.Cleanup(a.kill)
	waitHealthy(t, addr)
	code, _, b := a.request("POST", "/v1/payments?wait=30s", `{"amount":1200,"currency":"CNY","auth_code":"134567890123456789"}`, nil)
	p := decode(t, b)
	const plain = "The payment service could not be reached. Nothing was charged."
	if code != 201 || p["state"] != "failed" || p["reason"] != plain {
		t.Fatalf("unreachable gateway: %d %s", code, b)
	}
	_, _, eb := a.request("GET", "/v1/payments/"+p["id"].(string)+"/events", "", nil)
	if !strings.Contains(string(eb), "connect") && !strings.Contains(string(eb), "refused") {
		t.Errorf("the technical cause is not in the event detail: %s", eb)
	}
	deadline := time.Now().Add(20 * time.Second)
	var txt []byte
	for time.Now().Before(deadline) {
		txt, _ = os.ReadFile(filepath.Join(state, "receipts", p["id"].(string)+"-customer.txt"))
		if len(txt) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(txt) > 0 && (strings.Contains(string(txt), "dial tcp") || strings.Contains(string(txt), "127.0.0.1")) {
		t.Errorf("the customer's receipt carries technical detail:\n%s", txt)
	}
}

func waitHealthy(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready", addr)
}

// Listing filters by state (public or detail), method, wallet, gateway,
// reference and created range, pages with a cursor; the long-poll takes
// public states.
func TestListFiltersAndPagingE2E(t *testing.T) {
	a := startDemo(t, t.TempDir(), freePort(t))
	before := time.Now().UTC()
	for i, body := range []string{
		`{"amount":1000,"currency":"CNY","auth_code":"134567890123456789"}`,
		`{"amount":1293,"currency":"CNY","auth_code":"284567890123456789"}`,
		`{"amount":1100,"currency":"CNY","auth_code":"284567890123456789"}`,
		`{"amount":2200,"currency":"CNY","method":"qr","wallet":"wechat"}`,
	} {
		if code, _, b := a.request("POST", "/v1/payments?wait=30s", body, nil); code != 201 {
			t.Fatalf("create %d: %d %s", i, code, b)
		}
	}
	ids := func(q string) []string {
		code, _, b := a.request("GET", "/v1/payments?"+q, "", nil)
		if code != 200 {
			t.Fatalf("list %s: %d %s", q, code, b)
		}
		var out []string
		for _, p := range decode(t, b)["payments"].([]any) {
			out = append(out, fmt.Sprint(p.(map[string]any)["amount"]))
		}
		return out
	}
	for q, want := range map[string]string{
		"state=failed":                  "[1293]",
		"state=succeeded&wallet=alipay": "[1100]",
		"method=qr":                     "[2200]",
		"gateway=mmsp&method=micropay":  "[1100 1293 1000]",
		"created_from=" + before.Format(time.RFC3339Nano): "[2200 1100 1293 1000]",
		"created_to=" + before.Format(time.RFC3339Nano):   "[]",
	} {
		if got := fmt.Sprint(ids(q)); got != want {
			t.Errorf("%s: %s, want %s", q, got, want)
		}
	}
	// Paging: two pages of two, then none.
	_, _, b := a.request("GET", "/v1/payments?limit=2", "", nil)
	page := decode(t, b)
	cur, _ := page["next_cursor"].(string)
	if len(page["payments"].([]any)) != 2 || cur == "" {
		t.Fatalf("first page: %s", b)
	}
	if got := fmt.Sprint(ids("limit=2&cursor=" + cur)); got != "[1293 1000]" {
		t.Errorf("second page: %s", got)
	}
	if code, _, b := a.request("GET", "/v1/payments?state=maybe", "", nil); code != 400 || decode(t, b)["field"] != "state" {
		t.Errorf("unknown state: %d %s", code, b)
	}
	// Long-poll with a public state: answers once the payment is no
	// longer pending.
	_, _, b = a.request("POST", "/v1/payments?wait=0s", `{"amount":1291,"currency":"CNY","auth_code":"134567890123456789"}`, nil)
	id := decode(t, b)["id"].(string)
	var p map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		_, _, b = a.request("GET", "/v1/payments/"+id+"?wait=30s&state=pending", "", nil)
		if p = decode(t, b); p["state"] != "pending" {
			break
		}
	}
	if p["state"] != "succeeded" {
		t.Fatalf("long-poll on state=pending: %v", p)
	}
	// The CLI lists the same.
	if out, code := a.cli("list", "--state", "failed"); code != 0 || !strings.Contains(out, "12.93") || strings.Contains(out, "10.00") {
		t.Errorf("posagent list --state failed: %d\n%s", code, out)
	}
}

// The cash drawer opens on a succeeded payment (the demo's virtual printer
// records each pulse) and on POST /v1/drawer/open.
func TestCashDrawerE2E(t *testing.T) {
	state := t.TempDir()
	a := startDemo(t, state, freePort(t))
	pulses := func() int {
		fi, err := os.Stat(filepath.Join(state, "receipts", "drawer.bin"))
		if err != nil {
			return 0
		}
		return int(fi.Size() / 5)
	}
	if code, _, b := a.request("POST", "/v1/payments?wait=30s", `{"amount":1293,"currency":"CNY","auth_code":"134567890123456789"}`, nil); code != 201 || decode(t, b)["state"] != "failed" {
		t.Fatalf("declined payment: %s", b)
	}
	if code, _, b := a.request("POST", "/v1/payments?wait=30s", `{"amount":1200,"currency":"CNY","auth_code":"134567890123456789"}`, nil); code != 201 || decode(t, b)["state"] != "succeeded" {
		t.Fatalf("payment: %s", b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pulses() < 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := pulses(); n != 1 {
		t.Fatalf("%d drawer pulses after one succeeded and one declined payment, want 1", n)
	}
	if code, _, b := a.request("POST", "/v1/drawer/open", "", nil); code != 204 {
		t.Fatalf("drawer/open: %d %s", code, b)
	}
	if n := pulses(); n != 2 {
		t.Fatalf("%d drawer pulses after drawer/open, want 2", n)
	}
	b, _ := os.ReadFile(filepath.Join(state, "receipts", "drawer.bin"))
	if string(b[:2]) != "\x1bp" {
		t.Errorf("the pulse is not ESC p: % x", b)
	}
}

// readEvents reads an SSE stream until n events arrived.
func readEvents(t *testing.T, a *agent, lastID string, n int) (ids []string, data []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+a.addr+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+a.token())
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	var id string
	for sc.Scan() && len(ids) < n {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			id = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			ids, data = append(ids, id), append(data, v)
		}
	}
	if len(ids) < n {
		t.Fatalf("stream ended after %d events, want %d: %v", len(ids), n, sc.Err())
	}
	return ids, data
}

// GET /v1/events streams every payment and refund change with ids from the
// journal; a client that reconnects with Last-Event-ID gets exactly what it
// missed, across a restart of the daemon.
func TestEventStreamE2E(t *testing.T) {
	state, addr := t.TempDir(), freePort(t)
	a := startDemo(t, state, addr)
	_, _, b := a.request("POST", "/v1/payments?wait=30s", `{"amount":2000,"currency":"CNY","auth_code":"134567890123456789"}`, nil)
	id := decode(t, b)["id"].(string)
	ids, data := readEvents(t, a, "", 2) // submitting, succeeded
	if !strings.Contains(data[0], id) || !strings.Contains(data[1], `"to":"succeeded"`) {
		t.Fatalf("events: %v", data)
	}
	last := ids[1]
	// While no one listens: a refund, and a restart of the daemon.
	if code, _, b := a.request("POST", "/v1/payments/"+id+"/refunds", `{"amount":500}`, nil); code != 201 {
		t.Fatalf("refund: %d %s", code, b)
	}
	a.kill()
	b2 := startDemo(t, state, addr)
	if code, _, b := b2.request("POST", "/v1/payments?wait=30s", `{"amount":1293,"currency":"CNY","auth_code":"134567890123456789"}`, nil); code != 201 {
		t.Fatalf("create after restart: %d %s", code, b)
	}
	ids, data = readEvents(t, b2, last, 3) // refund submitting→succeeded... then the new payment
	joined := strings.Join(data, "\n")
	if !strings.Contains(joined, `"refund_id"`) || !strings.Contains(joined, `"to":"failed"`) && !strings.Contains(data[2], "submitting") {
		t.Fatalf("resumed events: %v", data)
	}
	if strings.Contains(joined, `"to":"succeeded","state":"succeeded","reason":""`) {
		t.Errorf("an event before Last-Event-ID came again: %v", data)
	}
	for _, d := range data {
		if strings.Contains(d, `"payment_id":"`+id+`"`) {
			t.Errorf("an event already seen came again: %s", d)
		}
	}
	// The CLI prints the same stream.
	out, code := b2.cli("events", "--once", "--after", last)
	if code != 0 || !strings.Contains(out, "refund") || !strings.Contains(out, ids[0]) {
		t.Errorf("posagent events --once: %d\n%s", code, out)
	}
}

// Problems: each kind has its status and stable type, and names the field.
func TestProblemsE2E(t *testing.T) {
	a := startDemoArgs(t, t.TempDir(), freePort(t), []string{"--rate-limit", "5"})
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      map[string]string
		status                   int
		typ                      string
	}{
		{"no token", "GET", "/v1/payments", "", map[string]string{"Authorization": ""}, 401, "unauthorized"},
		{"Origin", "GET", "/v1/payments", "", map[string]string{"Origin": "http://evil.example"}, 403, "forbidden"},
		{"Referer", "GET", "/v1/payments", "", map[string]string{"Referer": "http://evil.example/"}, 403, "forbidden"},
		{"unknown payment", "GET", "/v1/payments/pay_nobody", "", nil, 404, "not-found"},
		{"unknown route", "GET", "/v1/nothing", "", nil, 404, "not-found"},
		{"wrong method", "DELETE", "/v1/payments", "", nil, 405, "method-not-allowed"},
		{"oversize", "POST", "/v1/payments", `{"amount":1,"currency":"CNY","description":"` + strings.Repeat("x", 20000) + `"}`, nil, 413, "payload-too-large"},
		{"a form", "POST", "/v1/payments", "amount=1", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported-media-type"},
		{"bad value", "POST", "/v1/payments", `{"amount":0,"currency":"CNY"}`, nil, 422, "invalid-field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			time.Sleep(250 * time.Millisecond) // stay under the 5/s limit set above
			code, h, b := a.request(tc.method, tc.path, tc.body, tc.hdr)
			pb := decode(t, b)
			if code != tc.status || pb["type"] != "urn:posagent:problem:"+tc.typ || h.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s %s", code, h.Get("Content-Type"), b)
			}
		})
	}
	// Host of another site (DNS rebinding): 403.
	conn, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /v1/payments HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n", a.token())
	reply, _ := io.ReadAll(conn)
	conn.Close()
	if !strings.HasPrefix(string(reply), "HTTP/1.1 403") {
		t.Errorf("foreign Host: %.80s", reply)
	}
	// The rate limit: a burst beyond it is 429 with Retry-After.
	limited := false
	for range 40 {
		code, h, _ := a.request("GET", "/healthz", "", nil)
		if code == 429 && h.Get("Retry-After") != "" {
			limited = true
			break
		}
	}
	if !limited {
		t.Errorf("no 429 for 40 requests at once with a limit of 5/s")
	}
}

// The demo's answers match the OpenAPI document's schemas.
func TestDemoAnswersMatchOpenAPI(t *testing.T) {
	a := startDemo(t, t.TempDir(), freePort(t))
	doc, err := openapitest.Load(localapi.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	check := func(method, path, body string, hdr map[string]string) map[string]any {
		t.Helper()
		code, h, b := a.request(method, path, body, hdr)
		u := strings.SplitN(path, "?", 2)[0]
		if err := doc.CheckAnswer(method, u, code, h.Get("Content-Type"), b); err != nil {
			t.Errorf("%v\n%s", err, b)
		}
		if strings.HasPrefix(h.Get("Content-Type"), "application/") && len(b) > 0 {
			return decode(t, b)
		}
		return nil
	}
	p := check("POST", "/v1/payments?wait=30s", `{"amount":2000,"currency":"CNY","auth_code":"134567890123456789","reference":"r-1"}`, nil)
	id := p["id"].(string)
	check("POST", "/v1/payments", `{"amount":2200,"currency":"CNY","method":"qr","wallet":"wechat"}`, nil)
	check("POST", "/v1/payments", `{"amount":0,"currency":"CNY"}`, nil)
	check("GET", "/v1/payments", "", nil)
	check("GET", "/v1/payments?reference=r-1&limit=1", "", nil)
	check("GET", "/v1/payments/"+id, "", nil)
	check("GET", "/v1/payments/"+id+"?wait=1s", "", nil)
	check("GET", "/v1/payments/"+id+"/events", "", nil)
	check("GET", "/v1/payments/"+id+"/receipts", "", nil)
	r := check("POST", "/v1/payments/"+id+"/refunds", `{"amount":300}`, nil)
	check("GET", "/v1/payments/"+id+"/refunds", "", nil)
	check("GET", "/v1/refunds/"+r["id"].(string), "", nil)
	check("GET", "/v1/refunds/"+r["id"].(string)+"/receipts", "", nil)
	check("POST", "/v1/payments/"+id+"/reprint", "", nil)
	check("POST", "/v1/payments/"+id+"/void", "", nil)
	check("POST", "/v1/payments/"+id+"/cancel", "", nil)
	check("POST", "/v1/drawer/open", "", nil)
	check("GET", "/v1/summary", "", nil)
	check("POST", "/v1/summary/print", "", nil)
	check("GET", "/v1/devices", "", nil)
	check("GET", "/v1/openapi.json", "", nil)
	check("GET", "/healthz", "", nil)
	check("GET", "/readyz", "", nil)
	check("GET", "/v1/payments/pay_nobody", "", nil)
	// The demo's gateways take no orders placed outside the till: a real
	// problem answer of the lookup, held against its documented statuses.
	check("POST", "/v1/payments/lookup", `{"out_trade_id":"MP1"}`, nil)
	check("GET", "/v1/payments", "", map[string]string{"Authorization": ""})
}

// The unix socket: mode 0660, no token needed for this process's own uid
// (the kernel says who calls); TCP still needs the token.
func TestUnixSocketE2E(t *testing.T) {
	state := shortTempDir(t)
	a := startDemo(t, state, freePort(t))
	sock := filepath.Join(state, "api.sock")
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket: %v %v", fi, err)
	}
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := c.Post("http://localhost/v1/payments?wait=30s", "application/json", strings.NewReader(`{"amount":1200,"currency":"CNY","auth_code":"134567890123456789"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || decode(t, b)["state"] != "succeeded" {
		t.Fatalf("payment over the socket: %d %s", resp.StatusCode, b)
	}
	if code, _, _ := a.request("GET", "/v1/payments", "", map[string]string{"Authorization": ""}); code != 401 {
		t.Errorf("TCP without a token: %d", code)
	}
}

// shortTempDir is a temporary directory whose path fits a unix socket.
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("/tmp", "pa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// 400 connections that send nothing, or a slow body without a token, do
// not keep the till's own payment out, even with the daemon's file limit
// at 256.
func TestIdleConnectionsDoNotStarveTheTill(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit not installed")
	}
	state, addr := t.TempDir(), freePort(t)
	cmd := exec.Command("prlimit", "--nofile=256:256", binary(t), "demo", "--state", state, "--listen", addr, "--display-listen", "none")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &agent{t: t, cmd: cmd, addr: addr, state: state, out: out, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(a.exited) }()
	t.Cleanup(a.kill)
	waitHealthy(t, addr)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 400 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			continue // refused or reset: the daemon shed it
		}
		conns = append(conns, c)
		if i%2 == 0 {
			fmt.Fprintf(c, "POST /v1/payments HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\n", addr)
		}
	}
	code, _, b := a.request("POST", "/v1/payments?wait=30s", `{"amount":1200,"currency":"CNY","auth_code":"134567890123456789"}`, nil)
	if code != 201 || decode(t, b)["state"] != "succeeded" {
		t.Fatalf("the till's payment under 400 idle connections: %d %s", code, b)
	}
	if strings.Contains(out.String(), "too many open files") {
		t.Errorf("the daemon ran out of file descriptors:\n%s", out)
	}
}

// /readyz says ready once recovery is done; /healthz is alive at once.
func TestReadyz(t *testing.T) {
	a := startDemo(t, t.TempDir(), freePort(t))
	code, _, b := a.request("GET", "/readyz", "", map[string]string{"Authorization": ""})
	if code != 200 || decode(t, b)["status"] != "ready" {
		t.Fatalf("readyz: %d %s", code, b)
	}
}

// The CLI's own commands: status, cancel, exit codes, help on stdout.
func TestCLIStatusCancelExitCodes(t *testing.T) {
	a := startDemo(t, t.TempDir(), freePort(t))
	_, _, b := a.request("POST", "/v1/payments?wait=30s", `{"amount":1200,"currency":"CNY","auth_code":"134567890123456789"}`, nil)
	ok := decode(t, b)["id"].(string)
	_, _, b = a.request("POST", "/v1/payments?wait=30s", `{"amount":1293,"currency":"CNY","auth_code":"134567890123456789"}`, nil)
	declined := decode(t, b)["id"].(string)
	_, _, b = a.request("POST", "/v1/payments?wait=0s", `{"amount":800,"currency":"CNY"}`, nil)
	waiting := decode(t, b)["id"].(string)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"status", ok}, exitSucceeded, "succeeded"},
		{[]string{"status", declined}, exitDeclined, "failed"},
		{[]string{"status", waiting}, exitPending, "awaiting_code"},
		{[]string{"status", "pay_nobody"}, exitInvalid, "no payment"},
		{[]string{"cancel", waiting}, 0, "cancelled by cashier"}, // the cancel did what it was asked
		{[]string{"cancel", ok}, exitInvalid, "conflict"},
		{[]string{"pay", "--amount", "12.92", "--code", "134567890123456789"}, exitReversed, "Final: reversed"},
		{[]string{"pay", "--amount", "abc"}, exitInvalid, "amount"},
	} {
		out, code := a.cli(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("posagent %v: exit %d, want %d with %q\n%s", tc.args, code, tc.code, tc.want, out)
		}
	}
	// Daemon unreachable: 5.
	out, err := exec.Command(binary(t), "status", ok, "--api", "http://"+freePort(t), "--token-file", filepath.Join(a.state, "api.token")).CombinedOutput()
	if ee, isExit := err.(*exec.ExitError); !isExit || ee.ExitCode() != exitUnreachable {
		t.Errorf("unreachable daemon: %v\n%s", err, out)
	}
	// Help goes to stdout and lists the exit codes.
	help := exec.Command(binary(t), "pay", "--help")
	var stdout, stderr strings.Builder
	help.Stdout, help.Stderr = &stdout, &stderr
	if err := help.Run(); err != nil || !strings.Contains(stdout.String(), "Exit codes:") || !strings.Contains(stdout.String(), "3  reversed") || stderr.Len() != 0 {
		t.Errorf("pay --help: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	top := exec.Command(binary(t), "--help")
	stdout.Reset()
	top.Stdout = &stdout
	if err := top.Run(); err != nil || !strings.Contains(stdout.String(), "lookup") {
		t.Errorf("posagent --help: %v\n%s", err, stdout.String())
	}
}

// A void of a succeeded payment through a gateway that offers no void
// (MMSP in the demo) is a full refund, and the answer says so; a void of a
// payment that is not succeeded is refused.
func TestVoidFallsBackToRefundE2E(t *testing.T) {
	a := startDemo(t, t.TempDir(), freePort(t))
	_, _, b := a.request("POST", "/v1/payments?wait=30s", `{"amount":2000,"currency":"CNY","auth_code":"134567890123456789"}`, nil)
	id := decode(t, b)["id"].(string)
	code, _, b := a.request("POST", "/v1/payments/"+id+"/void", "", map[string]string{"Idempotency-Key": "void-" + id})
	v := decode(t, b)
	r, _ := v["refund"].(map[string]any)
	if code != 201 || v["method"] != "refund" || r == nil || r["amount"].(float64) != 2000 {
		t.Fatalf("void: %d %s", code, b)
	}
	if code2, _, b2 := a.request("POST", "/v1/payments/"+id+"/void", "", map[string]string{"Idempotency-Key": "void-" + id}); code2 != 201 || string(b2) != string(b) {
		t.Errorf("void retried with its key: %d %s", code2, b2)
	}
	_, _, b = a.request("POST", "/v1/payments?wait=30s", `{"amount":1293,"currency":"CNY","auth_code":"134567890123456789"}`, nil)
	if code, _, b := a.request("POST", "/v1/payments/"+decode(t, b)["id"].(string)+"/void", "", nil); code != 409 {
		t.Errorf("void of a declined payment: %d %s", code, b)
	}
}

// TestVoidSameDayE2E (issue 10): through the real binary on the Allinpay
// simulator, a payment succeeded today is voided (*_CANCEL), not
// refunded: the answer, the refund record, its events, its receipt and
// the day's summary say "void"; a retry with the same Idempotency-Key
// answers the first answer again and voids nothing twice. A payment with
// a refund already taken is no longer voidable (a void takes the whole
// sale) and is refunded for what is left: the answer says "refund".
func TestVoidSameDayE2E(t *testing.T) {
	state := t.TempDir()
	a := startDemoArgs(t, state, freePort(t), []string{"--gateway", "allinpay"})
	pay := func(minor int) string {
		code, _, b := a.request("POST", "/v1/payments?wait=30s", fmt.Sprintf(`{"amount":%d,"currency":"HKD","auth_code":"134567890123456789"}`, minor), nil)
		p := decode(t, b)
		if code != 201 || p["state"] != "succeeded" {
			t.Fatalf("payment: %d %s", code, b)
		}
		return p["id"].(string)
	}
	final := func(id string) map[string]any {
		for range 300 {
			_, _, b := a.request("GET", "/v1/refunds/"+id, "", nil)
			if r := decode(t, b); r["state"] != "pending" {
				return r
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("refund %s still pending", id)
		return nil
	}
	id := pay(2000)
	key := map[string]string{"Idempotency-Key": "void-" + id}
	code, _, b := a.request("POST", "/v1/payments/"+id+"/void", "", key)
	v := decode(t, b)
	r, _ := v["refund"].(map[string]any)
	if code != 201 || v["method"] != "void" || r == nil || r["method"] != "void" || r["amount"].(float64) != 2000 {
		t.Fatalf("void: %d %s", code, b)
	}
	if code2, h, b2 := a.request("POST", "/v1/payments/"+id+"/void", "", key); code2 != 201 || string(b2) != string(b) || h.Get("Idempotent-Replayed") != "true" {
		t.Errorf("void retried with its key: %d %s", code2, b2)
	}
	if got := final(r["id"].(string)); got["state"] != "succeeded" || got["method"] != "void" {
		t.Fatalf("the void ended %v", got)
	}
	// Only one void record, and nothing is left to take back.
	_, _, b = a.request("GET", "/v1/payments/"+id+"/refunds", "", nil)
	if bal := decode(t, b); len(bal["refunds"].([]any)) != 1 || bal["refundable"].(float64) != 0 {
		t.Errorf("after the void (and its retry) the payment's refunds are %s", b)
	}
	if code, _, b := a.request("POST", "/v1/payments/"+id+"/void", "", nil); code != 409 {
		t.Errorf("a second void of a voided payment: %d %s", code, b)
	}
	// Events name the method.
	_, data := readEvents(t, a, "", 4) // the payment's submitting and succeeded, the void's submitting and succeeded
	joined := strings.Join(data, "\n")
	if !strings.Contains(joined, `"refund_id":"`+r["id"].(string)+`"`) || !strings.Contains(joined, `"method":"void"`) {
		t.Errorf("events: %s", joined)
	}

	// A refund first: what is left is refunded, not voided.
	id2 := pay(3000)
	if code, _, b := a.request("POST", "/v1/payments/"+id2+"/refunds", `{"amount":500}`, nil); code != 201 {
		t.Fatalf("refund: %d %s", code, b)
	}
	code, _, b = a.request("POST", "/v1/payments/"+id2+"/void", "", nil)
	v = decode(t, b)
	r2, _ := v["refund"].(map[string]any)
	if code != 201 || v["method"] != "refund" || r2 == nil || r2["method"] != "refund" || r2["amount"].(float64) != 2500 {
		t.Fatalf("void of a partly refunded payment: %d %s", code, b)
	}
	final(r2["id"].(string))

	// The receipt and the summary.
	a.waitRefundPrinted(r["id"].(string))
	_, _, b = a.request("GET", "/v1/summary", "", nil)
	if lines, _ := decode(t, b)["lines"].([]any); len(lines) != 1 ||
		lines[0].(map[string]any)["voids"].(float64) != 1 || lines[0].(map[string]any)["voided"].(float64) != 2000 ||
		lines[0].(map[string]any)["refunds"].(float64) != 2 || lines[0].(map[string]any)["refunded"].(float64) != 3000 {
		t.Errorf("summary: %s", b)
	}
	txt, err := os.ReadFile(filepath.Join(state, "receipts", r["id"].(string)+"-customer.txt"))
	if err != nil || !strings.Contains(string(txt), "VOID 撤销凭证") || !strings.Contains(string(txt), "VOIDED") {
		t.Errorf("the void's receipt:\n%s", txt)
	}
	// The acquirer's ledger: the first sale voided, the second refunded.
	_, _, b = a.request("GET", "/v1/payments/"+id, "", nil)
	otn := decode(t, b)["out_trade_no"].(string)
	_, _, b = a.request("GET", "/v1/payments/"+id2, "", nil)
	otn2 := decode(t, b)["out_trade_no"].(string)
	a.kill()
	l, err := sim.OpenLedger(filepath.Join(state, "sim-allinpay", "ledger.json"))
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := l.Get(otn); o.State != sim.Revoked || len(o.Refunds) != 0 {
		t.Errorf("the voided sale is %s with %d refunds in the ledger, want voided (%s) and none", o.State, len(o.Refunds), sim.Revoked)
	}
	if o, _ := l.Get(otn2); o.RefundedAmount() != 3000 || o.State == sim.Revoked {
		t.Errorf("the refunded sale is %s, refunded %d in the ledger, want 3000 refunded", o.State, o.RefundedAmount())
	}
}
