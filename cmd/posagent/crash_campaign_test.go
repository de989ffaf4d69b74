package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/store/sqlite"
)

// The crash campaign (TestCrashRandomKill): chains of SIGKILLs on one state
// directory each. Every step of a chain starts the demo (half the time with
// a random crash point armed, at its 1st or 2nd hit), fires a burst of
// operations at it — micropays and merchant QR orders through the API,
// micropays scanned on the demo's pseudo-terminal scanner, refunds in full
// and in part of payments that succeeded earlier (or of one paid for it
// first), a cashier's cancel — and kills it: at the armed point when the
// burst reaches it within 8 s, else at a random moment. Each step is one kill point. After its last kill a chain restarts
// once more, lets everything settle and checks the journal against the
// simulator's ledger (checkCrashInvariants: payments and refunds), each
// magic amount's allowed outcomes, and that no accepted cancel ended a
// sale (but a merchant QR paid before its close, which ends succeeded
// with an alert to refund it). The test then logs a summary: kills per point, operations issued,
// how payments and refunds ended, and the chains that disagreed.
//
// Environment:
//
//	POSAGENT_CRASHTEST_POINTS=N   kill points in all (default 70: with the
//	                              matrix's cases, about 100 in CI)
//	POSAGENT_CRASHTEST_CHAIN=K    kills per chain (default 10)
//	POSAGENT_CRASHTEST_SEED=S     the seed (default: the time); chain i uses
//	                              S+i, and a failing chain prints the seed
//	                              and size that replay it as chain 0
//	POSAGENT_CRASHTEST_PARALLEL=P chains run at once (default 8)
//	POSAGENT_CRASHTEST_SUMMARY=F  also write the summary to file F
//
// scripts/crashtest.sh --points N [--seed S] sets them.

// The operations a burst is made of.
const (
	opMicropayAPI     = "micropay via API"
	opQRAPI           = "merchant QR via API"
	opMicropayScanner = "micropay via pty scanner"
	opRefund          = "refund via API"
	opCancel          = "cancel via API"
)

// randomOutcomes is what each magic amount's micropay may end as when the
// kills land anywhere: before the submit is sent it is reversed (the
// acquirer never saw it), after it its own outcome holds; 91 may also be
// reversed when its second query falls after the pay timeout.
var randomOutcomes = map[int64][]pos.State{
	0:  {pos.StateSucceeded, pos.StateReversed},
	91: {pos.StateSucceeded, pos.StateReversed},
	92: {pos.StateReversed},
	93: {pos.StateFailed, pos.StateReversed},
	94: {pos.StateSucceeded, pos.StateReversed},
	95: {pos.StateReversed},
}

// campaignStats adds up what the chains did, for the summary.
type campaignStats struct {
	mu       sync.Mutex
	kills    map[string]int // by how the process died
	ops      map[string]int // operations issued, by kind
	refused  map[string]int // ... of which the API refused
	payments map[string]int // "method state"
	refunds  map[string]int // by final (or settled) state
	cancels  int            // cancels accepted while pending
	qrPaid   int            // ... of merchant QR orders paid before their close
	failed   []string       // chains that disagreed, with their replay
	chains   int
}

func (s *campaignStats) add(m map[string]int, k string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m[k] += n
}

func TestCrashRandomKill(t *testing.T) {
	binary(t)
	points := envInt(t, "POSAGENT_CRASHTEST_POINTS", 70)
	perChain := min(envInt(t, "POSAGENT_CRASHTEST_CHAIN", 10), points)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("POSAGENT_CRASHTEST_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("POSAGENT_CRASHTEST_SEED: %v", err)
		}
		seed = n
	}
	st := &campaignStats{kills: map[string]int{}, ops: map[string]int{}, refused: map[string]int{}, payments: map[string]int{}, refunds: map[string]int{}}
	t.Logf("crash campaign: seed %d, %d kill points, chains of %d", seed, points, perChain)
	// Chains run side by side, parallel of them at a time, whatever go
	// test's -parallel: a demo mostly waits (for a timeout, a poll, the
	// kill), so more run at once than there are cores.
	parallel := envInt(t, "POSAGENT_CRASHTEST_PARALLEL", 8)
	t.Run("chains", func(t *testing.T) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, parallel)
		defer wg.Wait()
		for i, left := 0, points; left > 0; i, left = i+1, left-perChain {
			kills := min(perChain, left)
			cs := seed + uint64(i)
			sem <- struct{}{}
			wg.Add(1)
			go t.Run(fmt.Sprintf("chain%d", i), func(t *testing.T) {
				defer func() { <-sem; wg.Done() }()
				// Deferred, not a Cleanup: it must be counted before the
				// parent stops waiting (Cleanups run after wg.Done).
				defer func() {
					st.mu.Lock()
					defer st.mu.Unlock()
					st.chains++
					if t.Failed() {
						st.failed = append(st.failed, fmt.Sprintf("chain%d: scripts/crashtest.sh --seed %d --points %d --chain %d", i, cs, kills, kills))
					}
				}()
				runChain(t, rand.New(rand.NewPCG(cs, cs^0x9e3779b97f4a7c15)), kills, st)
			})
		}
	})
	summary := st.summary(seed, points, perChain)
	t.Log("\n" + summary)
	if f := os.Getenv("POSAGENT_CRASHTEST_SUMMARY"); f != "" {
		if err := os.WriteFile(f, []byte(summary), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// runChain kills the demo kills times on one state directory, then
// settles it and checks the invariants.
func runChain(t *testing.T, rng *rand.Rand, kills int, st *campaignStats) {
	state, addr := t.TempDir(), freePort(t)
	var (
		mu        sync.Mutex
		cancelled = map[string]bool{} // cancels the daemon accepted while pending
	)
	for step := range kills {
		spec := ""
		if rng.IntN(2) == 0 {
			p := flows.CrashPoints[rng.IntN(len(flows.CrashPoints))]
			spec = fmt.Sprintf("%s:%d", p.Name, 1+rng.IntN(2))
		}
		// The kill lands among the submits (the first 300 ms), among their
		// answers and first polls (a 94 or 95 submit gives up after 2 s), or
		// anywhere up to the reverses (the pay timeout is 6 s).
		window := []time.Duration{300 * time.Millisecond, 2500 * time.Millisecond, 8 * time.Second}[rng.IntN(3)]
		delay := time.Duration(rng.Int64N(int64(window)))
		if spec != "" {
			// An armed point gets the burst's whole course to be reached
			// (a refund is final only from its query, a second later).
			delay = 8 * time.Second
		}
		plan := planBurst(rng)
		if name, _, _ := strings.Cut(spec, ":"); isRefundPoint(name) && !slices.ContainsFunc(plan, func(o burstOp) bool { return o.kind == opRefund }) {
			// A refund point is reached only by a refund.
			plan = append(plan, burstOp{kind: opRefund, after: time.Duration(rng.Int64N(int64(300 * time.Millisecond)))})
		}
		t.Logf("step %d: crash point %q, kill after %v unless it fires, burst %v", step, spec, delay, plan)

		var env []string
		if spec != "" {
			env = append(env, "POSAGENT_CRASHPOINT="+spec)
		}
		a := startMayCrash(t, state, addr, env...)
		name, _, _ := strings.Cut(spec, ":")
		select {
		case <-a.exited:
			// The restart itself reached the point while resuming.
			checkDiedAt(t, a, name)
			st.add(st.kills, name+" (while resuming)", 1)
			continue
		default:
		}
		scanner := demoScanner(a)

		var wg sync.WaitGroup
		for _, op := range plan {
			wg.Go(func() {
				time.Sleep(op.after)
				kind, refused := runOp(a, op, scanner, &mu, cancelled)
				st.add(st.ops, kind, 1)
				if refused {
					st.add(st.refused, kind, 1)
				}
			})
		}
		select {
		case <-a.exited:
		case <-time.After(delay):
		}
		select {
		case <-a.exited:
			checkDiedAt(t, a, name)
			st.add(st.kills, name, 1)
		default:
			a.kill()
			if name == "" {
				st.add(st.kills, "SIGKILL at a random moment", 1)
			} else {
				st.add(st.kills, "SIGKILL at a random moment ("+name+" armed, not reached)", 1)
			}
		}
		wg.Wait()
	}

	// The last restart: a payment left waiting for its code gets one from
	// the scanner, then everything settles.
	b := startDemo(t, state, addr)
	for _, p := range b.payments() {
		if p["detail"] == "awaiting_code" {
			if err := typeIntoScanner(b.scanner(), "134567890123456789"); err != nil {
				t.Fatal(err)
			}
			b.waitFor(p["id"].(string), 30*time.Second, func(p map[string]any) bool { return p["detail"] != "awaiting_code" })
		}
	}
	finals := settle(t, b)

	db, err := sqlite.Open(filepath.Join(state, "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, p := range finals {
		st.add(st.payments, string(p.Method)+" "+string(p.State), 1)
		end := p.Amount.Minor % 100
		switch {
		case p.SubmittedAt.IsZero():
			// Waiting for its code when it was cancelled, replaced or timed
			// out: never sent, so it can only have failed.
			if p.State != pos.StateFailed {
				t.Errorf("%s (%d) was never sent, but ended %s (%s)", p.ID, p.Amount.Minor, p.State, p.Reason)
			}
		case p.Method == pos.Micropay:
			if want, ok := randomOutcomes[end]; ok && !slices.Contains(want, p.State) {
				t.Errorf("%s (%d) ended %s (%s), want one of %v", p.ID, p.Amount.Minor, p.State, p.Reason, want)
			}
		case end == 92 || end == 93:
			// A merchant QR nobody pays, or one declined, is never a sale.
			if p.State == pos.StateSucceeded {
				t.Errorf("merchant QR %s (%d) ended succeeded", p.ID, p.Amount.Minor)
			}
		}
		// Cancel is durable: a micropay whose cancel was accepted is never
		// kept as a sale. A merchant QR the customer paid before its close
		// reached the gateway is a sale (the money moved; the ledger check
		// above holds it to that), but only with the alert that tells the
		// operator to refund it.
		if cancelled[p.ID] && p.State == pos.StateSucceeded {
			if p.Method != pos.MerchantQR || p.Alert == "" {
				t.Errorf("%s (%s %d) was cancelled, but ended succeeded (%s) with no alert %q", p.ID, p.Method, p.Amount.Minor, p.Reason, p.Alert)
			}
			st.mu.Lock()
			st.qrPaid++
			st.mu.Unlock()
		}
		rs, err := db.RefundsOf(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			k := string(r.State)
			if r.State == pos.RefundUnknown {
				k += " (never reached the gateway: held, queried)"
			}
			st.add(st.refunds, k, 1)
		}
	}
	st.mu.Lock()
	st.cancels += len(cancelled)
	st.mu.Unlock()
	t.Logf("%d payments journaled, %d cancels accepted", len(finals), len(cancelled))
}

// checkDiedAt fails unless a died at crash point name.
func checkDiedAt(t *testing.T, a *agent, name string) {
	t.Helper()
	if name == "" || !strings.Contains(a.out.String(), "posagent: crash point "+name+" reached") {
		t.Fatalf("posagent died, but not at crash point %q:\n%s", name, a.out.String())
	}
}

// burstOp is one operation of a burst, started after a delay.
type burstOp struct {
	kind   string
	after  time.Duration
	amount int64 // payments: minor units; refunds: 0 for all that is left, else a part (‰ of the payment)
}

func (o burstOp) String() string {
	return fmt.Sprintf("%s %d after %v", o.kind, o.amount, o.after.Round(time.Millisecond))
}

// planBurst draws two to five operations: micropays with any magic
// amount, merchant QR orders paid at once or declined (a QR nobody pays
// takes its 20 s expiry), at most one scanned micropay (one lane, one
// waiting payment), refunds, and now and then a cancel.
func planBurst(rng *rand.Rand) []burstOp {
	var plan []burstOp
	scanned := false
	for range 2 + rng.IntN(4) {
		op := burstOp{after: time.Duration(rng.Int64N(int64(300 * time.Millisecond)))}
		switch r := rng.IntN(100); {
		case r < 35:
			op.kind, op.amount = opMicropayAPI, 1200+magicEndings[rng.IntN(len(magicEndings))]
		case r < 55:
			op.kind, op.amount = opQRAPI, 2200+[]int64{0, 0, 0, 93, 92}[rng.IntN(5)]
		case r < 70 && !scanned:
			scanned = true
			op.kind, op.amount = opMicropayScanner, 1300+magicEndings[rng.IntN(len(magicEndings))]
		case r < 92:
			op.kind = opRefund
			if rng.IntN(2) == 0 {
				op.amount = 1 + rng.Int64N(600) // a part, in ‰ of the payment
			}
		default:
			op.kind = opCancel
			op.after = time.Duration(rng.Int64N(int64(2 * time.Second)))
		}
		plan = append(plan, op)
	}
	return plan
}

// runOp runs one operation against a; the process may die under it, which
// is not an error. It reports the kind and whether the API refused it.
func runOp(a *agent, op burstOp, scanner string, mu *sync.Mutex, cancelled map[string]bool) (string, bool) {
	refused := func(code int, err error) bool { return err == nil && code >= 400 }
	switch op.kind {
	case opMicropayAPI:
		code, _, err := a.call("POST", "/v1/payments", fmt.Sprintf(`{"amount":%d,"currency":"CNY","auth_code":"134567890123456789"}`, op.amount))
		return op.kind, refused(code, err)
	case opQRAPI:
		code, _, err := a.call("POST", "/v1/payments", fmt.Sprintf(`{"amount":%d,"currency":"CNY","method":"qr","wallet":"wechat"}`, op.amount))
		return op.kind, refused(code, err)
	case opMicropayScanner:
		code, p, err := a.call("POST", "/v1/payments", fmt.Sprintf(`{"amount":%d,"currency":"CNY","replace":true}`, op.amount))
		if err != nil || code != 201 || p["detail"] != "awaiting_code" || scanner == "" {
			return op.kind, refused(code, err)
		}
		_ = typeIntoScanner(scanner, "284567890123456789")
		return op.kind, false
	case opRefund:
		succeeded := succeededPayments(a)
		if len(succeeded) == 0 {
			// Nothing to refund yet: take a payment to refund first.
			code, p, err := a.call("POST", "/v1/payments?wait=10s", `{"amount":1200,"currency":"CNY","auth_code":"134567890123456789"}`)
			if err != nil || code != 201 || p["state"] != "succeeded" {
				return op.kind + " (its payment did not succeed first)", false
			}
			succeeded = append(succeeded, p)
		}
		p := succeeded[int(op.after)%len(succeeded)]
		body := `{"reason":"crash campaign"}`
		if op.amount > 0 {
			body = fmt.Sprintf(`{"amount":%d,"reason":"crash campaign"}`, max(1, int64(p["amount"].(float64))*op.amount/1000))
		}
		code, _, err := a.call("POST", "/v1/payments/"+p["id"].(string)+"/refunds", body)
		return op.kind, refused(code, err)
	case opCancel:
		code, m, err := a.call("GET", "/v1/payments?state=pending", "")
		ps, _ := m["payments"].([]any)
		if err != nil || code != 200 || len(ps) == 0 {
			return op.kind + " (nothing pending)", false
		}
		id := ps[int(op.after)%len(ps)].(map[string]any)["id"].(string)
		// Accepted means recorded while the payment was still pending; a
		// cancel that lost the race to the final state says so.
		code, p, err := a.call("POST", "/v1/payments/"+id+"/cancel", "")
		if err == nil && code == http.StatusAccepted && p["state"] == "pending" {
			mu.Lock()
			cancelled[id] = true
			mu.Unlock()
		}
		return op.kind, refused(code, err)
	}
	panic("unknown operation " + op.kind)
}

// demoScanner is the demo's pseudo-terminal scanner, from its help text;
// "" if it is not printed within 5 s.
func demoScanner(a *agent) string {
	for range 100 {
		if m := scannerLine.FindStringSubmatch(a.out.String()); m != nil {
			return m[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ""
}

// succeededPayments lists a's succeeded payments; none on any error.
func succeededPayments(a *agent) []map[string]any {
	code, m, err := a.call("GET", "/v1/payments?state=succeeded", "")
	if err != nil || code != 200 {
		return nil
	}
	var out []map[string]any
	for _, p := range m["payments"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

// summary is the campaign's report.
func (s *campaignStats) summary(seed uint64, points, perChain int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "crash campaign: seed %d, %d kill points in %d chains of up to %d\n", seed, points, s.chains, perChain)
	table := func(title string, m map[string]int, note map[string]int) {
		fmt.Fprintf(&b, "%s:\n", title)
		keys := make([]string, 0, len(m))
		total := 0
		for k, n := range m {
			keys = append(keys, k)
			total += n
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %-72s %5d", k, m[k])
			if note != nil && note[k] > 0 {
				fmt.Fprintf(&b, "  (%d refused by the API)", note[k])
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  %-72s %5d\n", "total", total)
	}
	table("kills, by where the process died", s.kills, nil)
	table("operations issued", s.ops, s.refused)
	table("payments, by method and final state", s.payments, nil)
	table("refunds, by final state", s.refunds, nil)
	fmt.Fprintf(&b, "cancels accepted while pending: %d; none ended a sale but %d merchant QR orders the customer paid before the close, each with its alert to refund\n", s.cancels, s.qrPaid)
	if len(s.failed) == 0 {
		fmt.Fprintf(&b, "disagreements with the ledger or the expected outcomes: none (%d chains checked)\n", s.chains)
	} else {
		fmt.Fprintf(&b, "chains that disagreed (%d of %d; details above):\n", len(s.failed), s.chains)
		sort.Strings(s.failed)
		for _, f := range s.failed {
			fmt.Fprintf(&b, "  %s\n", f)
		}
	}
	return b.String()
}
