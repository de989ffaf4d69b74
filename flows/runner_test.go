package flows_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/gateways/mmsp/mmspsim"
	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/store/sqlite"
)

// These tests run the real runner against the real MMSP simulator over
// HTTP and a real SQLite journal, with the demo's fast timings.

type rig struct {
	runner   *flows.Runner
	journal  *sqlite.DB
	sim      *mmspsim.Server
	scans    chan scanner.Scan
	gateways map[string]gateways.Gateway
	cancel   context.CancelFunc
	done     chan struct{}
}

// chanScans is a ScanSource fed by the test, standing in for scanner.Hub.
type chanScans chan scanner.Scan

func (c chanScans) Next(ctx context.Context) (scanner.Scan, error) {
	select {
	case s := <-c:
		return s, nil
	case <-ctx.Done():
		return scanner.Scan{}, ctx.Err()
	}
}

// mmspOptions are the adapter's options for an mmspsim built with so at
// endpoint: its merchant, terminal, key and slash rule, Simulated, and
// timings as fast as so allows. The pairing lives with the tests: the
// simulator imports nothing of the adapter.
func mmspOptions(so mmspsim.Options, endpoint, notifyURL string) mmsp.Options {
	so = so.WithDefaults()
	return mmsp.Options{
		Endpoint: endpoint, MerchantNo: so.MerchantNo, TerminalNo: so.TerminalNo, AgentNo: so.AgentNo,
		Key: so.Key, NotifyURL: notifyURL, QQMicropayCommand: so.QQMicropayCommand,
		SignSlashes: mmsp.SlashRule(so.SignSlashes), Simulated: true,
		RefundSettle: time.Millisecond, // the simulator's 受理成功 is final at once
		Timing: mmsp.TimingOptions{
			PollInterval: max(500*time.Millisecond, so.Rules.MinQueryInterval),
			PayTimeout:   30 * time.Second,
			ReverseAfter: so.Rules.ReverseAfter,
		},
	}
}

func newRig(t testing.TB) *rig { t.Helper(); return newRigWith(t, nil) }

// newRigWith is newRig with the runner's options adjusted by tweak.
func newRigWith(t testing.TB, tweak func(*flows.Options)) *rig {
	t.Helper()
	so := mmspsim.DemoOptions()
	so.LedgerPath = filepath.Join(t.TempDir(), "ledger.json")
	simulator, err := mmspsim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(simulator)
	t.Cleanup(srv.Close)
	co := mmspOptions(so, srv.URL, "http://127.0.0.1:1/notify/mmsp")
	co.Timing = mmsp.TimingOptions{PollInterval: 200 * time.Millisecond, PayTimeout: 2 * time.Second, QRTimeout: 3 * time.Second, ReverseAfter: time.Second}
	co.CallTimeout = time.Second
	g, err := mmsp.New(co, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	scans := make(chan scanner.Scan, 4)
	opts := flows.Options{WalletRules: flows.WalletRules{}, // the simulator runs fast timings
		Journal:          db,
		Gateways:         map[string]gateways.Gateway{"mmsp": g},
		Scans:            chanScans(scans),
		CodeKey:          []byte("0123456789abcdef0123456789abcdef"),
		AwaitCodeTimeout: 5 * time.Second,
		Tick:             20 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&opts)
	}
	r, err := flows.NewRunner(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rg := &rig{runner: r, journal: db, sim: simulator, scans: scans, gateways: map[string]gateways.Gateway{"mmsp": g}, cancel: cancel, done: make(chan struct{})}
	go func() { _ = r.Run(ctx); close(rg.done) }()
	t.Cleanup(func() { cancel(); <-rg.done }) // done is closed: a second wait returns at once
	return rg
}

func money(t testing.TB, minor int64) pos.Money {
	m, err := pos.NewMoney(minor, "CNY")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func code(t testing.TB, s string) pos.AuthCode {
	c, err := pos.ParseAuthCode(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// final waits for the payment to reach a final state.
func (rg *rig) final(t *testing.T, id string) pos.Payment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		p, err := rg.runner.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.State.Final() {
			return p
		}
		if _, err := rg.runner.Wait(ctx, id, p.State); err != nil || ctx.Err() != nil {
			t.Fatalf("payment %s still %s: %v", id, p.State, err)
		}
	}
}

func (rg *rig) waitState(t *testing.T, id string, want pos.State) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		p, err := rg.runner.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.State == want {
			return
		}
		if _, err := rg.runner.Wait(ctx, id, p.State); err != nil || ctx.Err() != nil {
			t.Fatalf("payment %s never reached %s (is %s)", id, want, p.State)
		}
	}
}

func TestRunnerMagicAmounts(t *testing.T) {
	rg := newRig(t)
	cases := []struct {
		minor int64
		code  string
		want  pos.State
	}{
		{1200, "134567890123456789", pos.StateSucceeded},
		{1291, "284567890123456789", pos.StateSucceeded},
		{1292, "134567890123456780", pos.StateReversed},
		{1293, "284567890123456780", pos.StateFailed},
		{1294, "134567890123456781", pos.StateSucceeded},
		{1295, "284567890123456781", pos.StateReversed},
	}
	for _, c := range cases {
		t.Run(money(t, c.minor).String(), func(t *testing.T) {
			t.Parallel()
			p, err := rg.runner.Start(context.Background(), flows.StartRequest{Amount: money(t, c.minor), Method: pos.Micropay, Code: code(t, c.code)})
			if err != nil {
				t.Fatal(err)
			}
			if p.CodeMasked == c.code || p.CodeHash == "" || p.Wallet == "" {
				t.Fatalf("journaled code fields: %q %q %q", p.CodeMasked, p.CodeHash, p.Wallet)
			}
			got := rg.final(t, p.ID)
			if got.State != c.want {
				t.Fatalf("final state %s (%s), want %s", got.State, got.Reason, c.want)
			}
			// The acquirer's ledger agrees with the journal.
			o, ok := rg.sim.Ledger().Get(p.OutTradeNo)
			if !ok {
				t.Fatalf("simulator has no order %s", p.OutTradeNo)
			}
			wantLedger := map[pos.State]string{pos.StateSucceeded: "SUCCESS", pos.StateReversed: "REVOKED", pos.StateFailed: "PAYERROR"}[c.want]
			if string(o.State) != wantLedger {
				t.Fatalf("ledger says %s, journal says %s", o.State, got.State)
			}
			evs, err := rg.runner.Events(context.Background(), p.ID)
			if err != nil || len(evs) < 2 || evs[0].To != pos.StateSubmitting {
				t.Fatalf("events: %v %v", evs, err)
			}
		})
	}
}

func TestRunnerCancel(t *testing.T) {
	rg := newRig(t)
	ctx := context.Background()

	// A payment the customer is confirming: cancel reverses it.
	p, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 1292), Method: pos.Micropay, Code: code(t, "134567890123456789")})
	if err != nil || p.State != pos.StateUserPaying {
		t.Fatalf("start: %v %v", p.State, err)
	}
	if _, err := rg.runner.Cancel(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if got := rg.final(t, p.ID); got.State != pos.StateReversed || got.Reason != "cancelled by cashier" {
		t.Fatalf("cancelled payment ended %s (%s)", got.State, got.Reason)
	}

	// A payment waiting for a code: cancel fails it, nothing was sent.
	w, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 500), Method: pos.Micropay})
	if err != nil || w.State != pos.StateAwaitingCode {
		t.Fatalf("start awaiting: %v %v", w.State, err)
	}
	if got, err := rg.runner.Cancel(ctx, w.ID); err != nil || got.State != pos.StateFailed {
		t.Fatalf("cancel awaiting: %v %v", got.State, err)
	}
	if _, ok := rg.sim.Ledger().Get(w.OutTradeNo); ok {
		t.Fatal("a payment cancelled before its scan reached the acquirer")
	}

	// A succeeded payment cannot be cancelled.
	s, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 100), Method: pos.Micropay, Code: code(t, "134567890123456781")})
	if err != nil || s.State != pos.StateSucceeded {
		t.Fatalf("start: %v %v", s.State, err)
	}
	if _, err := rg.runner.Cancel(ctx, s.ID); !pos.Match(pos.Conflict, err) {
		t.Fatalf("cancel of a succeeded payment: %v, want conflict", err)
	}
}

func TestRunnerScanFlow(t *testing.T) {
	rg := newRig(t)
	ctx := context.Background()
	p, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 800), Method: pos.Micropay})
	if err != nil {
		t.Fatal(err)
	}
	// A product barcode is refused and the payment keeps waiting.
	rg.scans <- scanner.Scan{Data: "6901234567892", Source: "test"}
	// Then a real payment code is taken.
	rg.scans <- scanner.Scan{Data: "134567890123456789", Source: "test"}
	got := rg.final(t, p.ID)
	if got.State != pos.StateSucceeded || got.Wallet != pos.WeChatPay || got.CodeMasked != "13************6789" {
		t.Fatalf("scanned payment: %+v", got)
	}
}

func TestRunnerAwaitTimeout(t *testing.T) {
	rg := newRig(t)
	p, err := rg.runner.Start(context.Background(), flows.StartRequest{Amount: money(t, 800), Method: pos.Micropay})
	if err != nil {
		t.Fatal(err)
	}
	got := rg.final(t, p.ID)
	if got.State != pos.StateFailed {
		t.Fatalf("unscanned payment ended %s", got.State)
	}
}

func TestRunnerMerchantQR(t *testing.T) {
	rg := newRig(t)
	ctx := context.Background()
	p, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 1200), Method: pos.MerchantQR, Wallet: pos.WeChatPay})
	if err != nil {
		t.Fatal(err)
	}
	if p.State != pos.StateUserPaying || p.CodeURL == "" {
		t.Fatalf("QR payment: %s %q", p.State, p.CodeURL)
	}
	if got := rg.final(t, p.ID); got.State != pos.StateSucceeded {
		t.Fatalf("QR payment ended %s (%s)", got.State, got.Reason)
	}
	// Nobody scans a ..92 QR: it is closed at the QR timeout.
	q, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 1292), Method: pos.MerchantQR, Wallet: pos.Alipay})
	if err != nil {
		t.Fatal(err)
	}
	if got := rg.final(t, q.ID); got.State != pos.StateReversed {
		t.Fatalf("unpaid QR ended %s (%s)", got.State, got.Reason)
	}
	if o, _ := rg.sim.Ledger().Get(q.OutTradeNo); o.State != "CLOSED" {
		t.Fatalf("ledger: %s, want CLOSED", o.State)
	}
}

func TestStartRefusesBeforeJournaling(t *testing.T) {
	rg := newRig(t)
	ctx := context.Background()
	_, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 100), Method: pos.Micropay, Code: code(t, "134567890123456789"), Gateway: "nope"})
	if !pos.Match(pos.Invalid, err) {
		t.Fatalf("unknown gateway: %v", err)
	}
	hkd, _ := pos.NewMoney(100, "HKD")
	if _, err := rg.runner.Start(ctx, flows.StartRequest{Amount: hkd, Method: pos.Micropay, Code: code(t, "134567890123456789")}); !pos.Match(pos.Invalid, err) {
		t.Fatalf("currency the gateway does not take: %v", err)
	}
	if ps, _ := rg.journal.Recent(ctx, 10); len(ps) != 0 {
		t.Fatalf("refused requests were journaled: %v", ps)
	}
}

// TestReverseRetriedAcrossRestart: the reverse of a timed-out payment gets
// a 5xx; the runner is stopped with the reverse still owed, and a new runner
// on the same journal finishes it.
func TestReverseRetriedAcrossRestart(t *testing.T) {
	rg := newRig(t)
	ctx := context.Background()
	rg.sim.Script().SetAmount(1392, sim.Behaviour{Scenario: sim.PayingUntilReversed, Fault: sim.HTTP5xx, FaultOn: []sim.Op{sim.OpReverse}, Times: 1})
	p, err := rg.runner.Start(ctx, flows.StartRequest{Amount: money(t, 1392), Method: pos.Micropay, Code: code(t, "134567890123456789")})
	if err != nil {
		t.Fatal(err)
	}
	rg.waitState(t, p.ID, pos.StateReversing)
	// Wait for the failed attempt to be journaled in the outbox.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ops, err := rg.journal.Ops(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ops) == 1 && ops[0].Kind == "reverse" && ops[0].Attempts == 1 && ops[0].LastError != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed reverse attempt journaled: %+v", ops)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rg.cancel()
	<-rg.done

	// A new runner over the same journal and gateway.
	r2, err := flows.NewRunner(flows.Options{WalletRules: flows.WalletRules{}, // the simulator runs fast timings
		Journal: rg.journal, Gateways: rg.gateways, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = r2.Run(ctx2); close(done) }()
	defer func() { cancel(); <-done }()
	rg.runner = r2
	if got := rg.final(t, p.ID); got.State != pos.StateReversed {
		t.Fatalf("after restart: %s (%s)", got.State, got.Reason)
	}
	if ops, _ := rg.journal.Ops(ctx, p.ID); len(ops) != 0 {
		t.Fatalf("outbox not emptied: %+v", ops)
	}
}
