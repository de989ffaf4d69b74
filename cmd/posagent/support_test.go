package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/hw/printer/printertest"
	"github.com/posagent/posagent/internal/chromiumtest"
	"github.com/posagent/posagent/internal/metrics"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

const supportToken = "0123456789abcdef-support-page"

// supportTill is a real journal with a day's payments (one paid, one
// charged after the till gave up, two reversals stuck in the outbox), its
// runner, outbox and spool, and the API with the support page as the
// daemon wires it.
type supportTill struct {
	db      *sqlite.DB
	outbox  *flows.Outbox
	printer *printertest.Recorder
	srv     *httptest.Server
}

func newSupportTill(t *testing.T) *supportTill {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	g, err := mmsp.New(mmsp.Options{Endpoint: "http://127.0.0.1:1/", MerchantNo: "M1", TerminalNo: "T1", AgentNo: "A1", Key: "k", Simulated: true}, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	runner, err := flows.NewRunner(flows.Options{Journal: db, Gateways: map[string]gateways.Gateway{"mmsp": g}, CodeKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := flows.NewOutbox(flows.OutboxOptions{Payments: runner, AlertAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	created := time.Now().Add(-10 * time.Minute)
	move := func(p pos.Payment, to pos.State, reason string, c store.Change) pos.Payment {
		t.Helper()
		next := p
		next.State = to
		c.Payment, c.From, c.Reason, c.At = next, p.State, reason, created
		if err := db.Append(ctx, c); err != nil {
			t.Fatalf("%s %s → %s: %v", p.ID, p.State, to, err)
		}
		return next
	}
	newPayment := func(id, otn string, minor int64) pos.Payment {
		p := pos.Payment{ID: id, OutTradeNo: otn, Gateway: "mmsp", Method: pos.Micropay, Amount: pos.Money{Minor: minor, Currency: "CNY"},
			State: pos.StateSubmitting, CreatedAt: created, UpdatedAt: created, SubmittedAt: created, CodeMasked: "134567******6789"}
		if err := db.Append(ctx, store.Change{Payment: p, Reason: "created", At: created}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	done := newPayment("pay_done", "PA00DONE", 1200)
	move(done, pos.StateSucceeded, "paid: wallet confirmed", store.Change{})
	move(newPayment("pay_late", "PA00LATE", 880), pos.StateFailed, "the customer did not confirm in time", store.Change{})
	late, err := db.Payment(ctx, "pay_late") // as journaled: a flag may change nothing else
	if err != nil {
		t.Fatal(err)
	}
	late.ChargedLate = true
	move(late, pos.StateFailed, "a verified paid notification after the till gave up", store.Change{Flag: pos.FlagChargedLate})
	for _, id := range []string{"pay_stuck", "pay_stuck2"} {
		move(newPayment(id, "PA0"+strings.ToUpper(id[4:]), 1291), pos.StateReversing, "timeout: reversing",
			store.Change{Enqueue: []store.Op{{Kind: store.OpReverse, NotBefore: time.Now().Add(time.Hour)}}})
	}
	rec := printertest.NewRecorder()
	spool, err := flows.NewSpool(flows.SpoolOptions{Journal: db, Printer: rec, Header: printertest.Header(), Customer: true, Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = spool.Run(sctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })

	extra := localapi.OutboxHandlers(ob)
	api, err := localapi.New(localapi.Options{Payments: runner, Token: pos.Secret(supportToken), Receipts: spool, Extra: extra,
		Support: supportOptions(db, ob, spool, nil)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &supportTill{db: db, outbox: ob, printer: rec, srv: srv}
}

func (s *supportTill) lastEvent(t *testing.T, id string) (pos.Event, int) {
	t.Helper()
	evs, err := s.db.Events(context.Background(), id)
	if err != nil || len(evs) == 0 {
		t.Fatalf("events of %s: %v %v", id, evs, err)
	}
	return evs[len(evs)-1], len(evs)
}

// TestSupportPageInChromium loads the support page in a real headless
// Chromium: it logs in with the token through the form, shows the day's
// payments with their history and flags and the overdue outbox items;
// resolving one from the page is journaled with who and why (read back
// from the journal and the API); a test print reaches the printer. A page
// on another origin of the same host, in the same browser holding the
// session cookie, tries to resolve the other item by fetch and by form:
// nothing changes.
func TestSupportPageInChromium(t *testing.T) {
	chromiumtest.Path(t)
	till := newSupportTill(t)
	// Last night's daily run found the bill charging an order the journal
	// does not know.
	report, _ := json.Marshal([]flows.Report{{Gateway: "mmsp", Date: "2026-12-01", Zone: "UTC+8", HasBill: true, BillLines: 3, Matched: 2,
		Issues: []flows.ReconIssue{{Kind: flows.IssueNotInJournal, OutTradeNo: "PA00GHOST", BillAmount: pos.Money{Minor: 4200, Currency: "CNY"}, Message: "in the bill, not in the journal"}}}})
	if _, err := till.db.AddReconciliation(context.Background(), store.Reconciliation{At: time.Now().Add(-time.Hour), Date: "2026-12-01", Trigger: flows.ReconcileTriggerDaily, Issues: 1, Report: report}); err != nil {
		t.Fatal(err)
	}
	b := chromiumtest.Start(t)
	b.Open(till.srv.URL + "/support")
	b.WaitEval("document.body && document.body.dataset.page", "login", 20*time.Second)
	b.MustEval(fmt.Sprintf("(function(){document.getElementById('token').value=%q; document.querySelector('form').submit(); return 'sent'})()", supportToken))
	b.WaitEval("document.body && document.body.dataset.page", "support", 20*time.Second)
	b.WaitEval("Number(document.body.dataset.loaded) > 0", "true", 20*time.Second)
	if got := b.MustEval("location.href"); strings.Contains(got, supportToken) {
		t.Fatalf("the token reached the URL: %s", got)
	}
	if got := b.MustEval("document.cookie"); strings.Contains(got, "posagent_support") {
		t.Errorf("the session cookie is readable by script: %q", got)
	}

	// The payments with their history and flags.
	for _, id := range []string{"pay_done", "pay_late", "pay_stuck", "pay_stuck2"} {
		if got := b.MustEval(fmt.Sprintf("document.getElementById('pay-%s') !== null", id)); got != "true" {
			t.Errorf("payment %s is not on the page", id)
		}
	}
	hist := b.MustEval("document.querySelector('#pay-pay_done ol.events').textContent")
	for _, want := range []string{"created", "submitting → succeeded: paid: wallet confirmed"} {
		if !strings.Contains(hist, want) {
			t.Errorf("pay_done's history on the page lacks %q: %s", want, hist)
		}
	}
	if got := b.MustEval("document.querySelector('#flagged li[data-payment=\"pay_late\"]').textContent"); !strings.Contains(got, "charged_late") {
		t.Errorf("the late charge is not flagged: %q", got)
	}
	if got := b.MustEval("document.getElementById('flag-counts').textContent"); !strings.Contains(got, "charged after the till gave up: 1") || !strings.Contains(got, "outbox items overdue: 2") {
		t.Errorf("flag counts: %q", got)
	}
	recon := b.MustEval("document.getElementById('reconciliation').textContent")
	for _, want := range []string{"Does NOT add up: acquirer day 2026-12-01", "1 mismatches", "not_in_journal", "PA00GHOST", "42.00 CNY", "in the bill, not in the journal"} {
		if !strings.Contains(recon, want) {
			t.Errorf("the last reconciliation on the page lacks %q: %s", want, recon)
		}
	}
	if got := b.MustEval("document.getElementById('outbox-summary').textContent"); got != "2 owed, 2 overdue (over 1m0s)" {
		t.Errorf("outbox summary %q", got)
	}
	if got := b.MustEval("document.getElementById('ob-op_1').textContent"); !strings.Contains(got, "OVERDUE") || !strings.Contains(got, "pay_stuck") || !strings.Contains(got, "reverse") {
		t.Errorf("outbox row op_1: %q", got)
	}

	// Another origin (another port of the same host: the same site, so
	// SameSite lets the cookie go) tries to resolve op_2 by fetch and by a
	// form; the Origin check and the missing CSRF token refuse both.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/done" {
			_, _ = io.WriteString(w, `<html><body data-done="1">done</body></html>`)
			return
		}
		target := till.srv.URL + "/support/api/outbox/op_2/resolve"
		fmt.Fprintf(w, `<html><body><form id="f" method="post" action="%s" enctype="text/plain"><input name='{"outcome":"failed","reason":"x","by":"evil","pad":"' value='"}'></form>
<script>
fetch(%q, {method: "POST", credentials: "include", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: '{"outcome":"failed","reason":"x","by":"evil"}'})
  .catch(function(){}).then(function(){ document.getElementById("f").submit(); });
</script></body></html>`, target, target)
	}))
	defer evil.Close()
	before, n := till.lastEvent(t, "pay_stuck2")
	b.Open(evil.URL + "/")
	// The form's submission lands on the support route's refusal.
	b.WaitEval("document.readyState === 'complete' && location.href.indexOf('/support/api/outbox/op_2/resolve') > 0", "true", 20*time.Second)
	if got := b.MustEval("document.body.innerText"); !strings.Contains(got, "cross-origin requests are refused") {
		t.Errorf("the cross-origin form got: %q", got)
	}
	after, m := till.lastEvent(t, "pay_stuck2")
	if m != n || after.Seq != before.Seq {
		t.Fatalf("a cross-origin page changed the journal: %+v", after)
	}
	if items, _ := till.outbox.List(context.Background()); len(items) != 2 {
		t.Fatalf("a cross-origin page changed the outbox: %+v", items)
	}

	// Back on the page: resolve op_1 with who and why.
	b.Open(till.srv.URL + "/support")
	b.WaitEval("Number(document.body.dataset.loaded) > 0", "true", 20*time.Second)
	b.MustEval(`(function(){
		var f = document.querySelector('form.resolve[data-item="op_1"]');
		f.querySelector('.outcome').value = 'reversed';
		f.querySelector('.reason').value = 'acquirer confirmed the reversal by phone';
		f.querySelector('.by').value = 'ops-ana';
		f.querySelector('button.resolve').click();
		return 'clicked';
	})()`)
	b.WaitEval("document.getElementById('status').textContent", "op_1 resolved: pay_stuck is reversed", 20*time.Second)
	b.WaitEval("document.getElementById('outbox-summary').textContent", "1 owed, 1 overdue (over 1m0s)", 20*time.Second)
	last, _ := till.lastEvent(t, "pay_stuck")
	if last.From != pos.StateReversing || last.To != pos.StateReversed || !strings.Contains(last.Reason, "acquirer confirmed the reversal by phone") || !strings.Contains(last.Detail, "ops-ana") {
		t.Errorf("the journal's last event of pay_stuck: %+v", last)
	}
	req, _ := http.NewRequest("GET", till.srv.URL+"/v1/payments/pay_stuck/events", nil)
	req.Header.Set("Authorization", "Bearer "+supportToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "resolved by hand by ops-ana") {
		t.Errorf("the API's history of pay_stuck lacks the resolution:\n%s", body)
	}

	// A reprint and a test print from the page reach the printer.
	b.MustEval("document.querySelector('#pay-pay_done button.reprint').click()")
	b.WaitEval("document.getElementById('status').textContent", "pay_done: 1 receipts queued", 20*time.Second)
	b.MustEval("document.getElementById('test-print').click()")
	b.WaitEval("document.getElementById('status').textContent", "Test print sent", 20*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	var names []string
	for time.Now().Before(deadline) {
		names = names[:0]
		for _, r := range till.printer.Printed() {
			names = append(names, r.Name)
		}
		if len(names) >= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	joined := strings.Join(names, " ")
	if !strings.Contains(joined, "pay_done-customer-reprint") || !strings.Contains(joined, "test-") {
		t.Errorf("printed %v; want the reprint and the test print", names)
	}
	// No display here: the page says so rather than pretending.
	b.MustEval("document.getElementById('test-display').click()")
	b.WaitEval("document.getElementById('status').textContent.indexOf('Test display: no customer display is configured') === 0", "true", 20*time.Second)
}

// A logged-in client (cookie and the page's CSRF token in hand) that
// POSTs from another origin, or without the CSRF token, changes nothing
// in the journal; the same request from the page's origin with the token
// resolves.
func TestSupportCrossOriginAndCSRFChangeNothing(t *testing.T) {
	till := newSupportTill(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(till.srv.URL+"/support/login", url.Values{"token": {supportToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a login POST without Origin = %d, want 403", resp.StatusCode)
	}
	post := func(path, body string, hdr map[string]string) int {
		req, _ := http.NewRequest("POST", till.srv.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/support/login", url.Values{"token": {supportToken}}.Encode(), map[string]string{"Origin": till.srv.URL, "Content-Type": "application/x-www-form-urlencoded"}); code != 200 {
		t.Fatalf("login (following to the page) = %d", code)
	}
	resp, err = c.Get(till.srv.URL + "/support")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	csrf := string(m[1])
	body := `{"outcome":"failed","reason":"confirmed with the acquirer: not charged","by":"ops"}`
	before, n := till.lastEvent(t, "pay_stuck")
	for name, hdr := range map[string]map[string]string{
		"cross-origin":  {"Origin": "http://127.0.0.1:1", "X-CSRF-Token": csrf, "Content-Type": "application/json"},
		"no CSRF token": {"Origin": till.srv.URL, "Content-Type": "application/json"},
		"wrong token":   {"Origin": till.srv.URL, "X-CSRF-Token": csrf + "x", "Content-Type": "application/json"},
	} {
		if code := post("/support/api/outbox/op_1/resolve", body, hdr); code != http.StatusForbidden {
			t.Errorf("%s resolve = %d, want 403", name, code)
		}
		if code := post("/support/api/outbox/op_1/retry", "", hdr); code != http.StatusForbidden {
			t.Errorf("%s retry = %d, want 403", name, code)
		}
	}
	after, n2 := till.lastEvent(t, "pay_stuck")
	if n2 != n || after.Seq != before.Seq {
		t.Fatalf("a refused POST changed the journal: %+v", after)
	}
	ops, err := till.db.AllOps(context.Background())
	if err != nil || len(ops) != 2 || ops[0].NotBefore.Before(time.Now().Add(30*time.Minute)) {
		t.Fatalf("a refused retry moved the outbox: %+v %v", ops, err)
	}
	if code := post("/support/api/outbox/op_1/resolve", body, map[string]string{"Origin": till.srv.URL, "X-CSRF-Token": csrf, "Content-Type": "application/json"}); code != 200 {
		t.Fatalf("the page's own resolve = %d", code)
	}
	if last, _ := till.lastEvent(t, "pay_stuck"); last.To != pos.StateFailed || !strings.Contains(last.Detail, "ops") {
		t.Errorf("resolution journaled as %+v", last)
	}
}

// /metrics says how many outbox items are overdue and what the last kept
// reconciliation found, read from the outbox and the journal.
func TestOperatorMetrics(t *testing.T) {
	till := newSupportTill(t)
	m := metrics.New(metrics.Options{Version: "t"})
	m.SetOperator(operatorStats(till.outbox, till.db))
	scrape := func() string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	if out := scrape(); !strings.Contains(out, "posagent_outbox_overdue 2\n") || strings.Contains(out, "posagent_reconcile_last_ok") {
		t.Errorf("before a reconciliation:\n%s", out)
	}
	at := time.Date(2026, 12, 2, 1, 30, 0, 0, time.UTC)
	if _, err := till.db.AddReconciliation(context.Background(), store.Reconciliation{At: at, Date: "2026-12-01", Trigger: flows.ReconcileTriggerDaily, Issues: 3, Report: []byte("[]")}); err != nil {
		t.Fatal(err)
	}
	out := scrape()
	for _, want := range []string{"posagent_reconcile_last_ok 0\n", "posagent_reconcile_last_mismatches 3\n", `posagent_reconcile_last_run_timestamp_seconds{date="2026-12-01"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestSupportPageShowsTheTour: after `demo --tour`, the support page of
// the demo on the same journal shows the tour's payments, each with as
// many events as the API lists for it; the test print and the test display
// go through (no payment is open).
func TestSupportPageShowsTheTour(t *testing.T) {
	chromiumtest.Path(t)
	state := t.TempDir()
	if out, err := exec.Command(binary(t), "demo", "--tour", "--state", state, "--listen", freePort(t)).CombinedOutput(); err != nil {
		t.Fatalf("demo --tour: %v\n%s", err, out)
	}
	a := startDemo(t, state, freePort(t))
	code, list, err := a.call("GET", "/v1/payments?limit=25", "")
	if err != nil || code != 200 {
		t.Fatalf("list: %d %v", code, err)
	}
	pays := list["payments"].([]any)
	if len(pays) < 10 {
		t.Fatalf("only %d payments after the tour", len(pays))
	}
	b := chromiumtest.Start(t)
	b.Open("http://" + a.addr + "/support")
	b.WaitEval("document.body && document.body.dataset.page", "login", 20*time.Second)
	b.MustEval(fmt.Sprintf("(function(){document.getElementById('token').value=%q; document.querySelector('form').submit(); return 'sent'})()", a.token()))
	b.WaitEval("document.body && document.body.dataset.page === 'support' && Number(document.body.dataset.loaded) > 0", "true", 20*time.Second)
	for _, x := range pays {
		id := x.(map[string]any)["id"].(string)
		code, evs, err := a.call("GET", "/v1/payments/"+id+"/events", "")
		if err != nil || code != 200 {
			t.Fatalf("events of %s: %d %v", id, code, err)
		}
		want := len(evs["events"].([]any))
		got := b.MustEval(fmt.Sprintf("(function(r){return r ? r.querySelectorAll('ol.events li').length : -1})(document.getElementById('pay-%s'))", id))
		if got != fmt.Sprint(want) {
			t.Errorf("payment %s: %s events on the page, %d in the API", id, got, want)
		}
	}
	// The demo's devices with their status: its virtual scanner and printer.
	scanners := b.MustEval("document.getElementById('devices-scanners').textContent")
	printerRow := b.MustEval("document.getElementById('devices-printer').textContent")
	if !strings.Contains(scanners, "connected") || !strings.Contains(scanners, "true") || !strings.Contains(printerRow, "ready") || !strings.Contains(printerRow, "true") {
		t.Errorf("devices on the page: scanners %q, printer %q", scanners, printerRow)
	}
	b.MustEval("document.getElementById('test-print').click()")
	b.WaitEval("document.getElementById('status').textContent", "Test print sent", 20*time.Second)
	b.MustEval("document.getElementById('test-display').click()")
	b.WaitEval("document.getElementById('status').textContent", "Test display sent", 20*time.Second)
}
