package flows_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/gateways/mmsp/mmspsim"
	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"

	"net/http/httptest"
)

// These tests put the journal on a small tmpfs and fill it right after a
// gateway call returns, before its answer is journaled: the customer has
// been charged (or refunded) and the till cannot write it down. The
// runner must keep the answer, refuse new payments (or refunds) with
// pos.Unavailable meanwhile, and once space is back end every payment and
// refund agreeing with the simulator's ledger (reliability review §7d).

// mountSmallFS mounts a 16 MB tmpfs for the test, or skips when this
// process may not mount one (it needs root: CI runs the suite as root).
func mountSmallFS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: filling a small filesystem needs root to mount a tmpfs (CI runs the suite as root)")
	}
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("skipped: mounting a tmpfs is not permitted here (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	return mnt
}

// disk fills and frees the small filesystem.
type disk struct {
	dir  string
	mu   sync.Mutex
	full bool
	// probe is a second handle on the journal: after filling, it writes
	// throwaway rows until a write fails, so the next write of the runner
	// cannot land in WAL space SQLite reuses after a checkpoint either.
	probe *sqlite.DB
	n     int
}

// fill writes a file until the filesystem refuses another byte, then
// lets the probe write until the journal refuses too; repeated until
// neither gets anything more in, since a failed SQLite write can give
// back the space it had taken.
func (d *disk) fill(t *testing.T) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(d.dir, "filler"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	for round := 0; round < 50; round++ {
		wrote := 0
		for _, size := range []int{1 << 16, 512, 1} {
			buf := make([]byte, size)
			for {
				n, err := f.Write(buf)
				wrote += n
				if err != nil {
					break
				}
			}
		}
		probed := 0
		if d.probe != nil {
			for probed < 10000 {
				d.n++
				now := time.Now()
				p := pos.Payment{ID: fmt.Sprintf("pay_probe_%d", d.n), Gateway: "probe", Method: pos.Micropay,
					Amount: pos.Money{Minor: 1, Currency: "CNY"}, State: pos.StateFailed, CreatedAt: now, UpdatedAt: now}
				if err := d.probe.Append(context.Background(), store.Change{Payment: p, Reason: "probe", At: now}); err != nil {
					break
				}
				probed++
			}
		}
		if os.Getenv("DISKFULL_DEBUG") != "" {
			t.Logf("fill round %d: %d bytes, %d probe writes", round, wrote, probed)
		}
		if round > 0 && wrote == 0 && probed == 0 {
			break
		}
	}
	d.full = true
}

func (d *disk) free(t *testing.T) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.Remove(filepath.Join(d.dir, "filler")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	d.full = false
}

// fillingGateway fills the disk once, right after the named call returns
// its answer (and before the runner can journal it).
type fillingGateway struct {
	gateways.Gateway
	t    *testing.T
	disk *disk
	on   string
	once sync.Once
	hit  chan struct{}
}

func (g *fillingGateway) after(op string) {
	if op == g.on {
		g.once.Do(func() { g.disk.fill(g.t); close(g.hit) })
	}
}

func (g *fillingGateway) Query(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	res, err := g.Gateway.Query(ctx, ref)
	g.after("query")
	return res, err
}

func (g *fillingGateway) Micropay(ctx context.Context, req gateways.MicropayRequest) (gateways.Result, error) {
	res, err := g.Gateway.(gateways.Micropayer).Micropay(ctx, req)
	g.after("micropay")
	return res, err
}

func (g *fillingGateway) Reverse(ctx context.Context, ref gateways.OrderRef) (gateways.Result, error) {
	res, err := g.Gateway.(gateways.Reverser).Reverse(ctx, ref)
	g.after("reverse")
	return res, err
}

func (g *fillingGateway) Refund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	res, err := g.Gateway.(gateways.Refunder).Refund(ctx, req)
	g.after("refund")
	return res, err
}

func (g *fillingGateway) QueryRefund(ctx context.Context, req gateways.RefundRequest) (gateways.Result, error) {
	res, err := g.Gateway.(gateways.Refunder).QueryRefund(ctx, req)
	g.after("query_refund")
	return res, err
}

type fullRig struct {
	runner  *flows.Runner
	refunds *flows.RefundRunner
	sim     *mmspsim.Server
	disk    *disk
	gw      *fillingGateway
}

func newFullRig(t *testing.T, fillOn string) *fullRig {
	t.Helper()
	mnt := mountSmallFS(t)
	so := mmspsim.DemoOptions()
	so.LedgerPath = filepath.Join(t.TempDir(), "ledger.json") // the acquirer's disk is not ours
	simulator, err := mmspsim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(simulator)
	t.Cleanup(srv.Close)
	co := mmspOptions(so, srv.URL, "http://127.0.0.1:1/notify/mmsp")
	co.Timing = mmsp.TimingOptions{PollInterval: 200 * time.Millisecond, PayTimeout: 2 * time.Second, QRTimeout: 3 * time.Second, ReverseAfter: time.Second}
	co.CallTimeout = time.Second
	inner, err := mmsp.New(co, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(mnt, "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	probe, err := sqlite.Open(filepath.Join(mnt, "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { probe.Close() })
	d := &disk{dir: mnt, probe: probe}
	g := &fillingGateway{Gateway: inner, t: t, disk: d, on: fillOn, hit: make(chan struct{})}
	gws := map[string]gateways.Gateway{"mmsp": g}
	r, err := flows.NewRunner(flows.Options{Journal: db, Gateways: gws, CodeKey: []byte("0123456789abcdef0123456789abcdef"),
		Tick: 20 * time.Millisecond, WalletRules: flows.WalletRules{}, ResumeEvery: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := flows.NewRefundRunner(flows.RefundOptions{Journal: db, Gateways: gws, Tick: 20 * time.Millisecond, ResumeEvery: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = r.Run(ctx) })
	wg.Go(func() { _ = rr.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return &fullRig{runner: r, refunds: rr, sim: simulator, disk: d, gw: g}
}

// waitRefused waits until new work is refused because answers wait to be
// journaled (not merely because the disk is full: that refusal sends
// nothing either, but proves nothing about the answer being kept). It
// reports false when that never happens: SQLite now and then still finds
// room in its WAL for the answer's write on a full tmpfs, and then there
// is nothing to keep; the caller runs the step again.
func waitRefused(t *testing.T, try func() error) bool {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := try()
		if pos.Match(pos.Unavailable, err) && strings.Contains(err.Error(), "are refused until") {
			return true
		}
		if err == nil {
			t.Log("new work was accepted: the disk had room after all; running the step again")
			return false
		}
		if time.Now().After(deadline) {
			t.Logf("the answer's write found room on the full disk (last refusal: %v); running the step again", err)
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exercised runs step until its answer's journal write really failed (at
// most 5 times), each time checking the end against the ledger.
func exercised(t *testing.T, step func(t *testing.T) bool) {
	t.Helper()
	for range 5 {
		if step(t) {
			return
		}
	}
	t.Fatal("the disk never filled before the answer was journaled: the kept-answer path was not tested")
}

func (fr *fullRig) newPayment(minor int64) error {
	_, err := fr.runner.Start(context.Background(), flows.StartRequest{Amount: pos.Money{Minor: minor, Currency: "CNY"}, Method: pos.Micropay, Code: mustCode("134567890123456789")})
	return err
}

func mustCode(s string) pos.AuthCode {
	c, err := pos.ParseAuthCode(s)
	if err != nil {
		panic(err)
	}
	return c
}

func (fr *fullRig) final(t *testing.T, id string) pos.Payment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		p, err := fr.runner.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.State.Final() {
			return p
		}
		if _, err := fr.runner.Wait(ctx, id, p.State); err != nil || ctx.Err() != nil {
			t.Fatalf("payment %s still %s: %v", id, p.State, err)
		}
	}
}

func (fr *fullRig) ledgerState(t *testing.T, outTradeNo string) sim.OrderState {
	t.Helper()
	o, ok := fr.sim.Ledger().Get(outTradeNo)
	if !ok {
		t.Fatalf("order %s is not in the simulator's ledger", outTradeNo)
	}
	return o.State
}

// TestDiskFullDuringEachPaymentStep: the disk fills after the submit's,
// a query's or a reverse's answer; each payment still ends as the ledger
// says, once space is freed.
func TestDiskFullDuringEachPaymentStep(t *testing.T) {
	for _, tc := range []struct {
		step   string
		minor  int64 // the simulator's magic amounts
		want   pos.State
		ledger sim.OrderState
	}{
		{"micropay", 1200, pos.StateSucceeded, "SUCCESS"}, // paid at once
		{"micropay", 1294, pos.StateSucceeded, "SUCCESS"}, // no answer, but paid
		{"query", 1291, pos.StateSucceeded, "SUCCESS"},    // paid on the 2nd query
		{"reverse", 1292, pos.StateReversed, "REVOKED"},   // never confirmed: reversed
		{"query", 1292, pos.StateReversed, "REVOKED"},     // a poll's answer lost, then reversed
		{"micropay", 1293, pos.StateFailed, "PAYERROR"},   // declined
	} {
		t.Run(tc.step+"/"+pos.Money{Minor: tc.minor, Currency: "CNY"}.String(), func(t *testing.T) {
			exercised(t, func(t *testing.T) bool {
				fr := newFullRig(t, tc.step)
				p, err := fr.runner.Start(context.Background(), flows.StartRequest{Amount: pos.Money{Minor: tc.minor, Currency: "CNY"}, Method: pos.Micropay, Code: mustCode("134567890123456789")})
				if err != nil {
					t.Fatalf("start: %v", err)
				}
				select {
				case <-fr.gw.hit:
				case <-time.After(15 * time.Second):
					t.Fatalf("the %s call never came", tc.step)
				}
				kept := waitRefused(t, func() error { return fr.newPayment(100) })
				fr.disk.free(t)
				got := fr.final(t, p.ID)
				if got.State != tc.want {
					t.Fatalf("payment ended %s (%s), want %s", got.State, got.Reason, tc.want)
				}
				if l := fr.ledgerState(t, got.OutTradeNo); l != tc.ledger {
					t.Fatalf("ledger says %s, journal %s", l, got.State)
				}
				// Space is back: new payments are taken again.
				waitAccepted(t, func() error { return fr.newPayment(1200) })
				return kept
			})
		})
	}
	t.Run("creation", func(t *testing.T) {
		fr := newFullRig(t, "none")
		fr.disk.fill(t)
		before := len(fr.sim.Ledger().Orders())
		err := fr.newPayment(1200)
		if !pos.Match(pos.Unavailable, err) {
			t.Fatalf("a payment that cannot be journaled: %v, want Unavailable", err)
		}
		if after := len(fr.sim.Ledger().Orders()); after != before {
			t.Fatalf("a payment that was never journaled reached the acquirer (%d orders, was %d)", after, before)
		}
		fr.disk.free(t)
		waitAccepted(t, func() error { return fr.newPayment(1200) })
	})
}

func waitAccepted(t *testing.T, try func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := try()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("new work still refused after space came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDiskFullDuringEachRefundStep: the disk fills after the refund's or a
// refund query's answer; the refund still ends as the ledger says.
func TestDiskFullDuringEachRefundStep(t *testing.T) {
	for _, step := range []string{"refund", "query_refund"} {
		t.Run(step, func(t *testing.T) {
			exercised(t, func(t *testing.T) bool {
				fr := newFullRig(t, step)
				ctx := context.Background()
				p, err := fr.runner.Start(ctx, flows.StartRequest{Amount: pos.Money{Minor: 1200, Currency: "CNY"}, Method: pos.Micropay, Code: mustCode("134567890123456789")})
				if err != nil {
					t.Fatal(err)
				}
				p = fr.final(t, p.ID)
				if step == "query_refund" {
					// The refund's own answer is lost: it is queried.
					fr.sim.Script().SetOrder(p.OutTradeNo, sim.Behaviour{Fault: sim.NoAnswer, FaultOn: []sim.Op{sim.OpRefund}, Times: 1})
				}
				r, err := fr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Amount: pos.Money{Minor: 500, Currency: "CNY"}})
				if err != nil {
					t.Fatalf("refund: %v", err)
				}
				select {
				case <-fr.gw.hit:
				case <-time.After(15 * time.Second):
					t.Fatalf("the %s call never came", step)
				}
				kept := waitRefused(t, func() error {
					_, err := fr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Amount: pos.Money{Minor: 1, Currency: "CNY"}})
					return err
				})
				fr.disk.free(t)
				got := finalRefund(t, fr.refunds, r.ID)
				o, ok := fr.sim.Ledger().Get(p.OutTradeNo)
				if !ok {
					t.Fatal("order missing from the ledger")
				}
				refunded := false
				for _, lr := range o.Refunds {
					if lr.OutRefundNo == got.OutRefundNo && lr.Amount == 500 {
						refunded = true
					}
				}
				if (got.State == pos.RefundSucceeded) != refunded || got.State == pos.RefundFailed && refunded {
					t.Fatalf("refund ended %s (%s); ledger refunds %+v", got.State, got.Outcome, o.Refunds)
				}
				if !refunded {
					t.Fatalf("the refund reached the acquirer but the till says %s", got.State)
				}
				return kept
			})
		})
	}
	t.Run("creation", func(t *testing.T) {
		fr := newFullRig(t, "none")
		ctx := context.Background()
		p, err := fr.runner.Start(ctx, flows.StartRequest{Amount: pos.Money{Minor: 1200, Currency: "CNY"}, Method: pos.Micropay, Code: mustCode("134567890123456789")})
		if err != nil {
			t.Fatal(err)
		}
		p = fr.final(t, p.ID)
		fr.disk.fill(t)
		if _, err := fr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID}); !pos.Match(pos.Unavailable, err) {
			t.Fatalf("a refund that cannot be journaled: %v, want Unavailable", err)
		}
		if o, _ := fr.sim.Ledger().Get(p.OutTradeNo); len(o.Refunds) != 0 {
			t.Fatalf("a refund never journaled reached the acquirer: %+v", o.Refunds)
		}
		fr.disk.free(t)
		if r, err := fr.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID}); err != nil || finalRefund(t, fr.refunds, r.ID).State != pos.RefundSucceeded {
			t.Fatalf("refund after space came back: %+v %v", r, err)
		}
	})
}
