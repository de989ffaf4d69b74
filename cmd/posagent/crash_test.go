package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// The crash harness: it kills the demo at every crash point (flows.CrashPoints)
// with the magic amounts that reach it, restarts it on the same state
// directory, and checks that nothing was lost or charged twice, comparing
// the journal with the simulator's ledger (the acquirer's truth). Some
// cases also cancel the payment while its submit is in flight, or crash a
// second time during the recovery. A second test, the crash campaign
// (crash_campaign_test.go), SIGKILLs the demo again and again during
// bursts of payments and refunds.
//
// By default a quick matrix runs (each point with the amounts that take a
// different path through it; about 35 s with go test's default -parallel on
// two cores). Environment:
//
//	POSAGENT_CRASHTEST_FULL=1    every point with every magic amount, and
//	                             with a cancel during the 94 and 95 submits
//
// and the campaign's (crash_campaign_test.go). scripts/crashtest.sh runs
// both verbosely, sized by --points.

// crashCase is one crash: the POSAGENT_CRASHPOINT value and the amount.
type crashCase struct {
	spec   string // "name" or "name:N"
	amount int64  // minor units; the last two digits choose the scenario
	// cancel: the cashier cancels while the submit is in flight (only a
	// 94 or 95 submit, held until the call gives up after 2 s, leaves time).
	cancel bool
	// then: after the crash, restart with this crash point armed, and
	// restart once more without.
	then string
	// refund, when not zero, makes it a refund case: the payment succeeds,
	// then refund minor units of it are refunded (amount: in full).
	refund int64
}

func (c crashCase) point() string { name, _, _ := strings.Cut(c.spec, ":"); return name }

func (c crashCase) name() string {
	n := fmt.Sprintf("%s/%04d", strings.ReplaceAll(c.spec, ":", "#"), c.amount)
	if c.refund != 0 {
		n += fmt.Sprintf("-refund%04d", c.refund)
	}
	if c.cancel {
		n += "-cancelled"
	}
	if c.then != "" {
		n += "-then-" + strings.ReplaceAll(c.then, ":", "#")
	}
	return n
}

// magicEndings are the README's magic amounts: 00 paid at once, 91 paid on
// the 2nd query, 92 paying until reversed, 93 declined, 94 no answer but
// paid, 95 no answer and never paid.
var magicEndings = []int64{0, 91, 92, 93, 94, 95}

// expectedFinal is what a payment of that amount must end as after a crash
// at point (spec), whether or not the crash happened:
//
//   - a crash before the micropay is sent (micropay.submitted): the acquirer
//     never saw the order, so it stays unknown until the pay timeout and is
//     reversed, whatever the amount (the reverse leaves a tombstone);
//   - a payment the cashier cancelled while its submit was in flight is
//     reversed, whatever the acquirer did with it ("cancel is durable");
//   - anywhere later the acquirer already decided and the restart only
//     finds out, so the amount's own outcome holds: 00, 91, 94 succeeded,
//     93 failed, 92 and 95 reversed. (91 is paid on its 2nd query, which the
//     restarted daemon makes about 2 s after the crash, well inside the
//     demo's 6 s pay timeout.)
func expectedFinal(point string, amount int64, cancelled bool) pos.State {
	if point == flows.CrashMicropaySubmitted || cancelled {
		return pos.StateReversed
	}
	switch amount % 100 {
	case 92, 95:
		return pos.StateReversed
	case 93:
		return pos.StateFailed
	}
	return pos.StateSucceeded
}

// quickCrashCases crash at each point with the amounts that take different
// paths through it. The full matrix (POSAGENT_CRASHTEST_FULL) adds every
// other amount.
var quickCrashCases = []crashCase{
	{spec: flows.CrashMicropaySubmitted, amount: 1294},
	{spec: flows.CrashMicropayAnswered, amount: 1200},
	{spec: flows.CrashMicropayAnswered, amount: 1291},
	{spec: flows.CrashMicropayAnswered, amount: 1293},
	{spec: flows.CrashMicropayAnswered, amount: 1294},
	{spec: flows.CrashMicropayAnswered, amount: 1295},
	{spec: flows.CrashMicropayAnswered, amount: 1294, cancel: true},
	{spec: flows.CrashMicropayJournaled, amount: 1200},
	{spec: flows.CrashMicropayJournaled, amount: 1291},
	{spec: flows.CrashMicropayJournaled, amount: 1295},
	{spec: flows.CrashQueryAnswered, amount: 1291},
	{spec: flows.CrashQueryAnswered + ":2", amount: 1291}, // the query that finds it paid
	{spec: flows.CrashQueryAnswered, amount: 1294},
	{spec: flows.CrashQueryJournaled + ":2", amount: 1291},
	{spec: flows.CrashQueryJournaled, amount: 1292},
	{spec: flows.CrashReverseAnswered, amount: 1292},
	{spec: flows.CrashReverseJournaled, amount: 1295},
	{spec: flows.CrashSpoolPrinted, amount: 1200},
	{spec: flows.CrashSpoolPrinted, amount: 1293},
	{spec: flows.CrashSpoolPrinted + ":2", amount: 1291}, // the second copy of a success
	// Crashes during the recovery from a crash.
	{spec: flows.CrashMicropaySubmitted, amount: 1200, then: flows.CrashReverseAnswered},
	{spec: flows.CrashMicropayAnswered, amount: 1291, then: flows.CrashQueryAnswered + ":2"},
	{spec: flows.CrashMicropayAnswered, amount: 1294, cancel: true, then: flows.CrashReverseJournaled},
	// The refund path: each point, in full and in part.
	{spec: flows.CrashRefundSubmitted, amount: 1200, refund: 1200},
	{spec: flows.CrashRefundSent, amount: 1200, refund: 1200},
	{spec: flows.CrashRefundSent, amount: 1200, refund: 500},
	{spec: flows.CrashRefundAnswered, amount: 1200, refund: 1200},
	{spec: flows.CrashRefundFinal, amount: 1200, refund: 700},
	{spec: flows.CrashRefundAnswered, amount: 1200, refund: 500, then: flows.CrashRefundFinal},
}

func crashCases() []crashCase {
	if os.Getenv("POSAGENT_CRASHTEST_FULL") == "" {
		return quickCrashCases
	}
	var out []crashCase
	for _, p := range flows.CrashPoints {
		if isRefundPoint(p.Name) {
			out = append(out, crashCase{spec: p.Name, amount: 1200, refund: 1200}, crashCase{spec: p.Name, amount: 1200, refund: 300})
			continue
		}
		for _, e := range magicEndings {
			out = append(out, crashCase{spec: p.Name, amount: 1200 + e})
		}
		if p.Name != flows.CrashMicropaySubmitted { // it dies before a cancel can come
			out = append(out, crashCase{spec: p.Name, amount: 1294, cancel: true}, crashCase{spec: p.Name, amount: 1295, cancel: true})
		}
	}
	for _, spec := range []string{flows.CrashQueryAnswered + ":2", flows.CrashQueryJournaled + ":2", flows.CrashSpoolPrinted + ":2"} {
		for _, e := range magicEndings {
			out = append(out, crashCase{spec: spec, amount: 1200 + e})
		}
	}
	// A refund crashed during the recovery from a refund crash.
	for _, first := range []string{flows.CrashRefundSent, flows.CrashRefundAnswered, flows.CrashRefundFinal} {
		out = append(out, crashCase{spec: first, amount: 1200, refund: 800, then: flows.CrashRefundFinal})
	}
	return out
}

// TestCrashPoints crashes the demo at every crash point and checks the
// invariants after a restart. Every point must be reached by at least one
// case; a case whose scenario does not reach its point still checks the
// invariants and is reported as not exercised.
func TestCrashPoints(t *testing.T) {
	binary(t)
	cases := crashCases()
	var (
		mu      sync.Mutex
		reached = map[string]bool{}
		ran     int
	)
	t.Run("cases", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name(), func(t *testing.T) {
				t.Parallel()
				fired := runCrashCase(t, c)
				mu.Lock()
				defer mu.Unlock()
				ran++
				reached[c.point()] = reached[c.point()] || fired
			})
		}
	})
	if ran < len(cases) {
		return // filtered by -run: the coverage below needs every case
	}
	for _, p := range flows.CrashPoints {
		if !reached[p.Name] {
			t.Errorf("crash point %s (%s) was reached by no scenario", p.Name, p.Where)
		}
	}
}

// runCrashCase runs one case and reports whether the crash point fired.
func runCrashCase(t *testing.T, c crashCase) bool {
	if c.refund != 0 {
		return runRefundCrashCase(t, c)
	}
	state, addr := t.TempDir(), freePort(t)
	a := startDemo(t, state, addr, "POSAGENT_CRASHPOINT="+c.spec)
	fired := payUntilCrash(t, a, c)
	if !fired {
		t.Logf("not exercised: %s is not reached in %s", c.spec, c.name())
		a.kill()
	}
	if c.then != "" && fired {
		// Crash again, at a point the restart reaches.
		b := startMayCrash(t, state, addr, "POSAGENT_CRASHPOINT="+c.then)
		if !waitCrash(t, b, c.then, nil) {
			t.Errorf("the restart did not reach crash point %s", c.then)
		}
		b.kill()
	}

	b := startDemo(t, state, addr)
	finals := settle(t, b)
	if len(finals) != 1 {
		t.Fatalf("want the one payment in the journal, got %d: %v", len(finals), finals)
	}
	want := expectedFinal(c.point(), c.amount, c.cancel)
	for _, p := range finals {
		if p.State != want {
			t.Errorf("payment of %d ended %s (%s), want %s", c.amount, p.State, p.Reason, want)
		}
	}
	return fired
}

// payUntilCrash makes the case's payment (cancelling it while it is
// submitted if the case says so) and reports whether the process died at
// the crash point.
func payUntilCrash(t *testing.T, a *agent, c crashCase) bool {
	t.Helper()
	posted := make(chan postAnswer, 1)
	body := fmt.Sprintf(`{"amount":%d,"currency":"CNY","auth_code":"134567890123456789"}`, c.amount)
	go func() {
		code, p, err := a.call("POST", "/v1/payments", body)
		posted <- postAnswer{code, p, err}
	}()
	if c.cancel {
		cancelWhileSubmitting(t, a)
	}
	return waitCrash(t, a, c.spec, posted)
}

// startMayCrash is startDemo for a restart that may reach its crash point
// while resuming, before its API answers: it returns once the API answers
// or the process has exited.
func startMayCrash(t *testing.T, state, addr string, env ...string) *agent {
	t.Helper()
	cmd := exec.Command(binary(t), "demo", "--state", state, "--listen", addr, "--log-level", "debug", "--qr-paid-after", "200ms")
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
			t.Logf("posagent output (crashing run):\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-a.exited:
			return a
		default:
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return a
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("posagent neither ready nor dead after 30 s:\n%s", out.String())
	return nil
}

type postAnswer struct {
	code int
	p    map[string]any
	err  error
}

// waitCrash waits until a dies at crash point spec (true), or until every
// payment it knows is final with its receipts printed, after which no
// point can fire any more (false). posted, when not nil, delivers the
// answer to the payment's creation: an error there is the crash, a refusal
// fails the test.
func waitCrash(t *testing.T, a *agent, spec string, posted <-chan postAnswer) bool {
	t.Helper()
	return waitCrashUntil(t, a, spec, posted, allFinalAndPrinted)
}

// waitCrashUntil is waitCrash with done saying when nothing is left that
// could reach the point.
func waitCrashUntil(t *testing.T, a *agent, spec string, posted <-chan postAnswer, done func(*agent) bool) bool {
	t.Helper()
	deadline := time.After(45 * time.Second)
	for {
		select {
		case <-a.exited:
			name, _, _ := strings.Cut(spec, ":")
			if !strings.Contains(a.out.String(), "posagent: crash point "+name+" reached") {
				t.Fatalf("posagent died, but not at crash point %s:\n%s", spec, a.out.String())
			}
			return true
		case r := <-posted:
			if r.err == nil && r.code != 201 {
				t.Fatalf("create: %d %v", r.code, r.p)
			}
			continue
		case <-deadline:
			t.Fatalf("posagent neither reached crash point %s nor finished its payments", spec)
		case <-time.After(100 * time.Millisecond):
		}
		if done(a) {
			return false
		}
	}
}

// cancelWhileSubmitting waits for the one payment to be journaled in
// submitting, cancels it, and returns its ID.
func cancelWhileSubmitting(t *testing.T, a *agent) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		code, m, err := a.call("GET", "/v1/payments", "")
		if ps, _ := m["payments"].([]any); err == nil && code == 200 && len(ps) == 1 {
			p := ps[0].(map[string]any)
			if p["detail"] != "submitting" {
				t.Fatalf("the payment is %v before the cancel; the submit must still be in flight", p["detail"])
			}
			id := p["id"].(string)
			code, m, err := a.call("POST", "/v1/payments/"+id+"/cancel", "")
			if err != nil || code >= 300 {
				t.Fatalf("cancel: %d %v %v", code, m, err)
			}
			return id
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the payment was not journaled within 10 s")
	return ""
}

// allFinalAndPrinted reports whether a knows at least one payment, all
// final, and its print queue is empty; any error is "not yet".
func allFinalAndPrinted(a *agent) bool {
	code, m, err := a.call("GET", "/v1/payments", "")
	ps, _ := m["payments"].([]any)
	if err != nil || code != 200 || len(ps) == 0 {
		return false
	}
	for _, p := range ps {
		if p.(map[string]any)["state"] == "pending" {
			return false
		}
	}
	return printQueueEmpty(a)
}

func printQueueEmpty(a *agent) bool {
	code, d, err := a.call("GET", "/v1/devices", "")
	if err != nil || code != 200 {
		return false
	}
	pr, _ := d["printer"].(map[string]any)
	n, ok := pr["pending_jobs"].(float64)
	return ok && n == 0
}

// settle waits until every payment the restarted daemon b knows is final
// and every receipt printed, stops b, checks the invariants on its state
// directory and returns the journal's payments.
func settle(t *testing.T, b *agent) []pos.Payment {
	t.Helper()
	waitSettled(t, b)
	b.kill()
	return checkCrashInvariants(t, b.state)
}

// waitSettled waits until every payment the running daemon b knows is
// final, every refund settled (waitRefundsSettled) and every receipt
// printed.
func waitSettled(t *testing.T, b *agent) {
	t.Helper()
	for _, p := range b.payments() {
		b.waitFor(p["id"].(string), 45*time.Second, func(p map[string]any) bool { return p["state"] != "pending" })
	}
	waitRefundsSettled(t, b)
	deadline := time.Now().Add(20 * time.Second)
	for !printQueueEmpty(b) {
		if time.Now().After(deadline) {
			t.Fatal("receipts still waiting to print 20 s after every payment was final")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkCrashInvariants reads the journal and the simulator's ledger of a
// stopped demo and checks that nothing was lost or charged twice:
//
//  1. every journaled payment is final, with no outbox operation left;
//  2. succeeded ⇔ the ledger's order is SUCCESS (or REFUND); reversed ⇒
//     the order is REVOKED or CLOSED, or absent; failed ⇒ never SUCCESS;
//  3. every order in the ledger belongs to a journaled payment, at its
//     amount (no charge the journal does not know, and since out_trade_no
//     is one per payment, no second order for a payment);
//  4. every receipt a final payment owes is printed, and its file is there;
//  5. its refunds agree with the ledger (checkRefundInvariants).
func checkCrashInvariants(t *testing.T, state string) []pos.Payment {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(filepath.Join(state, "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ledger, err := sim.OpenLedger(filepath.Join(state, "sim-mmsp", "ledger.json"))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := db.Recent(ctx, 10000)
	if err != nil {
		t.Fatal(err)
	}
	byOTN := map[string]pos.Payment{}
	for _, p := range ps {
		byOTN[p.OutTradeNo] = p
		ops, err := db.Ops(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !p.State.Final() || len(ops) > 0 {
			t.Errorf("%s (%d) is %s with %d outbox operations left; want final with none", p.ID, p.Amount.Minor, p.State, len(ops))
		}
		o, found := ledger.Get(p.OutTradeNo)
		paid := found && !o.Tombstone && (o.State == sim.Success || o.State == sim.Refunded)
		switch p.State {
		case pos.StateSucceeded:
			if !paid {
				t.Errorf("%s (%d) succeeded in the journal, but the ledger has %v (found %v): a sale nobody paid for", p.ID, p.Amount.Minor, o.State, found)
			}
		case pos.StateReversed:
			if found && o.State != sim.Revoked && o.State != sim.Closed {
				t.Errorf("%s (%d) reversed in the journal, but the ledger's order is %s", p.ID, p.Amount.Minor, o.State)
			}
		case pos.StateFailed:
			if paid {
				t.Errorf("%s (%d) failed in the journal, but the ledger's order is %s: the customer paid for nothing", p.ID, p.Amount.Minor, o.State)
			}
		}
		checkReceiptsPrinted(t, db, state, p)
		checkRefundInvariants(t, db, p, o, found)
	}
	for _, o := range ledger.Orders() {
		p, ok := byOTN[o.OutTradeNo]
		switch {
		case !ok:
			t.Errorf("the ledger has order %s (%s, %d) that no journaled payment knows", o.OutTradeNo, o.State, o.Amount)
		case !o.Tombstone && o.Amount != p.Amount.Minor:
			t.Errorf("the ledger's order %s is for %d, the journal's payment for %d", o.OutTradeNo, o.Amount, p.Amount.Minor)
		}
	}
	if pending, err := db.PendingPrints(ctx); err != nil || len(pending) > 0 {
		t.Errorf("receipts left unprinted: %v %v", pending, err)
	}
	return ps
}

// checkReceiptsPrinted: a final payment that was sent owes its receipt
// (the customer's copy of a success or a failure, the void voucher of a
// reversal); every job is printed and its ESC/POS file is in the receipts
// directory.
func checkReceiptsPrinted(t *testing.T, db *sqlite.DB, state string, p pos.Payment) {
	t.Helper()
	if !p.State.Final() {
		return
	}
	jobs, err := db.PrintJobs(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	owed := store.ReceiptCustomer
	if p.State == pos.StateReversed {
		owed = store.ReceiptVoid
	}
	if !p.SubmittedAt.IsZero() && !slices.ContainsFunc(jobs, func(j store.PrintJob) bool { return j.Kind == owed }) {
		t.Errorf("%s (%s) has no %s receipt: %v", p.ID, p.State, owed, jobs)
	}
	for _, j := range jobs {
		name := p.ID + "-" + strings.TrimPrefix(j.Kind, "payment-")
		if !j.Printed() {
			t.Errorf("%s: receipt %s not printed (%d attempts, %s)", p.ID, j.Kind, j.Attempts, j.LastError)
		} else if fi, err := os.Stat(filepath.Join(state, "receipts", name+".bin")); err != nil || fi.Size() == 0 {
			t.Errorf("%s: printed, but no %s.bin: %v", p.ID, name, err)
		}
	}
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}
