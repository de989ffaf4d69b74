package faultmatrix_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/flows/truthtest"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/gatewaytest"
	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/store/sqlite"
)

var writeMatrix = flag.Bool("write-matrix", false, "rewrite the fault matrix in RELIABILITY.md with the table this run produced")

// fault is a column of the matrix.
type fault struct {
	name string
	// sim is the simulator's fault aimed at the call, when it is one.
	sim sim.Fault
	// notification faults exist on the call that pays, and on a refund
	// where the gateway notifies refunds (notifiesRefunds).
	notification bool
}

var (
	fNoAnswer  = fault{name: "no answer", sim: sim.NoAnswer}
	fRefused   = fault{name: "refused"}
	f5xx       = fault{name: "HTTP 5xx", sim: sim.HTTP5xx}
	fMalformed = fault{name: "malformed", sim: sim.Malformed}
	fBadSig    = fault{name: "bad signature", sim: sim.BadSignature}
	fNoSig     = fault{name: "missing signature", sim: sim.MissingSignature}
	fRedirect  = fault{name: "redirect", sim: sim.Redirect}
	fDupNote   = fault{name: "duplicate notification", sim: sim.NotifyDuplicate, notification: true}
	fEarlyNote = fault{name: "notification first", sim: sim.NotifyBeforeResponse, notification: true}
	fDiskFull  = fault{name: "disk full"}
	fClockBack = fault{name: "clock back"}
)

var faults = []fault{fNoAnswer, fRefused, f5xx, fMalformed, fBadSig, fNoSig, fRedirect, fDupNote, fEarlyNote, fDiskFull, fClockBack}

// call is a row of the matrix (per gateway).
type call string

const (
	cPay         call = "pay"
	cQuery       call = "query"
	cReverse     call = "reverse/close"
	cRefund      call = "refund"
	cRefundQuery call = "refund query"
)

var calls = []call{cPay, cQuery, cReverse, cRefund, cRefundQuery}

// clockStep is how far the clock is stepped back, right after the call
// answers. Work the runner had scheduled before the step comes due that
// much later (scheduling follows the wall clock; a step is logged, not
// compensated), so the step is kept short here.
const clockStep = 2 * time.Second

// bound is how long a cell's payment (and refund) may take to end.
const bound = 30 * time.Second

// notApplicable says why a cell has no call to fault, or "" when it has.
func notApplicable(gw string, caps gateways.Capabilities, c call, f fault) string {
	external := caps.External
	switch {
	case external && c == cPay && !f.notification:
		return "na-external"
	case external && c == cReverse:
		return "na-external-reverse"
	case f.notification && c != cPay && !(c == cRefund && notifiesRefunds[gw]) && !(c == cReverse && notifiesCancels[gw]):
		return "na-notify"
	case f == fNoSig && external:
		return "na-unsigned"
	case c == cReverse && reverseOp(caps) == "":
		return "na-reverse"
	case (c == cRefund || c == cRefundQuery) && !caps.Refund:
		return "na-refund"
	}
	return ""
}

// notifiesRefunds are the gateways whose spec notifies a refund and whose
// simulator sends that notification: Allinpay (§1.5.2.3's refund carries a
// mandatory notifyUrl, §1.5.2.6 is posted for it with its *_RETURN
// transType). Swiftpass says it sends none ("There is no notification for
// refund transaction"); the other specs describe payment notifications
// only.
var notifiesRefunds = map[string]bool{"allinpay": true}

// notifiesCancels are the gateways whose spec notifies the void or close
// the reverse/close row makes, and whose simulator sends it: Allinpay
// (§1.5.2.4 and §1.5.2.5 carry a mandatory notifyUrl; its simulator
// notifies an executed one, TestVoidAndCloseNotification). Its reverse of
// a micropay the customer is still paying is a void the platform refuses
// (0026: "only successful transactions are acceptable to be voided"), and
// a refused void is not notified; so these two cells have the customer
// confirm while the cashier gives up (the order pays on the reverse's
// second query), and the adapter's reverse voids the now paid order:
// that executed void is notified, with the cell's fault.
var notifiesCancels = map[string]bool{"allinpay": true}

// notes explain the n/a cells, in the table's footnotes.
var notes = []struct{ key, text string }{
	{"na-external", "HipoPay takes no payment at the till: the customer pays in the HipoPay mini-program and the till adopts the paid order, by its notification (these columns) or when the cashier looks it up (the query row)."},
	{"na-external-reverse", "A HipoPay order is placed and paid in the mini-program; the till has no call to reverse or close it."},
	{"na-notify", "Notifications carry a payment's result, posted after the call that pays, or (Allinpay, whose refunds, voids and closes carry a notifyUrl) a refund's or an executed void's or close's, posted after it; the simulators send none for this call."},
	{"na-unsigned", "HipoPay signs its answers only when the merchant asks for it (require_signed_answers); by default an unsigned answer over TLS is trusted, so a missing signature is its ordinary answer (a wrong one is refused: the bad signature column)."},
	{"na-reverse", "AllPay has no close, and the flows never void a merchant-QR order: one the cashier cancels is taken off the customer display and polled until its payable window ends (it ends failed, or succeeded with the refund alert if the customer paid anyway)."},
	{"na-refund", "The gateway takes no refunds."},
}

// method is how the matrix pays at a gateway: micropay where it has one,
// else a merchant QR of its first wallet.
func method(gw gateways.Gateway) (pos.Method, pos.Wallet) {
	caps := gw.Capabilities()
	if _, ok := gw.(gateways.Micropayer); ok && len(caps.Micropay) > 0 {
		return pos.Micropay, caps.Micropay[0]
	}
	return pos.MerchantQR, caps.MerchantQR[0]
}

// reverseOp is the call that ends a payment the cashier gives up on.
func reverseOp(caps gateways.Capabilities) sim.Op {
	if len(caps.Micropay) > 0 {
		if caps.Reverse {
			return sim.OpReverse
		}
		return ""
	}
	if len(caps.MerchantQR) == 0 {
		return ""
	}
	// The flows never reverse a merchant-QR order (a VOID is for paid
	// ones): cancelled, it is closed where the gateway closes it, else
	// polled until it can no longer be paid.
	if caps.CanClose(caps.MerchantQR[0]) {
		return sim.OpClose
	}
	return ""
}

// result is one cell's outcome.
type result struct {
	text string // the final state, or n/a
	ran  bool
}

// TestFaultMatrix runs every cell, checks each against the ledger, and
// holds the table against RELIABILITY.md (or rewrites it, -write-matrix).
func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault matrix runs a till per cell")
	}
	_, canMount := tmpfsAllowed()
	var mu sync.Mutex
	table := map[string]result{}
	var keys []string
	sem := make(chan struct{}, 24)
	diskSem := make(chan struct{}, 4) // each full disk is a 16 MB tmpfs in memory
	// The cells run in goroutines of their own, not as t.Parallel
	// subtests: -test.parallel (GOMAXPROCS, 2 on the machine CI runs on)
	// would let only two run at a time, and a cell spends its time
	// waiting for timeouts, not on the CPU.
	//
	// The disk-full cells run after the others, four at a time: with
	// every cell at once on a loaded machine, a cell's answer, kept while
	// its disk was full, now and then was still not journaled 30 s after
	// the space came back (seen about once in three full runs, never with
	// the disk-full cells alone; not understood yet, see RELIABILITY.md).
	t.Run("cells", func(t *testing.T) {
		for _, diskPhase := range []bool{false, true} {
			var wg sync.WaitGroup
			for _, gw := range gatewayNames {
				caps := capsOf(t, gw)
				for _, c := range calls {
					for _, f := range faults {
						if (f == fDiskFull) != diskPhase {
							continue
						}
						key := cellKey(gw, c, f)
						keys = append(keys, key)
						if na := notApplicable(gw, caps, c, f); na != "" {
							table[key] = result{text: na}
							continue
						}
						if f == fDiskFull && !canMount {
							table[key] = result{text: "not run"}
							continue
						}
						wg.Add(1)
						go func() {
							defer wg.Done()
							sem <- struct{}{}
							defer func() { <-sem }()
							if f == fDiskFull {
								diskSem <- struct{}{}
								defer func() { <-diskSem }()
							}
							t.Run(key, func(t *testing.T) {
								text := runCell(t, gw, c, f)
								mu.Lock()
								table[key] = result{text: text, ran: true}
								mu.Unlock()
							})
						}()
					}
				}
			}
			wg.Wait()
		}
	})
	if t.Failed() {
		return
	}
	for _, key := range keys {
		if table[key].text == "" {
			t.Skipf("cell %s did not run (-run filtered it out): the table is written and compared only when every cell ran", key)
		}
	}
	got := renderTable(table)
	path := filepath.Join("..", "..", "RELIABILITY.md")
	if *writeMatrix {
		if !canMount {
			t.Fatal("-write-matrix needs every cell: the disk-full cells need root to mount a tmpfs")
		}
		if err := replaceBetweenMarkers(path, got); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote the fault matrix to %s", path)
		return
	}
	if !canMount {
		t.Skip("the disk-full cells need root to mount a tmpfs (CI runs as root); the table is compared only when every cell ran")
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	published, err := betweenMarkers(doc)
	if err != nil {
		t.Fatal(err)
	}
	if published == got {
		return
	}
	moved, shape := compareTables(published, got)
	if shape != "" {
		t.Errorf("RELIABILITY.md's fault matrix is not the one this run produced (%s); run\n\tgo test ./flows/faultmatrix -run TestFaultMatrix -args -write-matrix\nand commit it.\n--- published\n%s\n--- produced\n%s", shape, published, got)
		return
	}
	// Every cell of this run agreed with the ledger (a cell that did not
	// failed above), so a cell that ended in another state than the
	// published one is a second correct outcome, not a regression: where
	// a fault races a timeout (no answer to a query, say), how many calls
	// fit before the payment's deadline depends on the machine's load,
	// and with it whether the order ends failed or reversed. Say so, do
	// not fail: the published table is one idle run's.
	for _, m := range moved {
		t.Logf("cell %s ended %s in this run (published: %s); both agree with the ledger", m.cell, m.got, m.published)
	}
}

type movedCell struct{ cell, published, got string }

// compareTables compares a published and a produced table cell by cell.
// shape is non-empty when they differ in more than end states: rows,
// columns, footnotes, or a cell that ran in one and is n/a (or not run)
// in the other. moved lists the cells that ran in both and ended in
// different states.
func compareTables(published, got string) (moved []movedCell, shape string) {
	pl, gl := strings.Split(published, "\n"), strings.Split(got, "\n")
	if len(pl) != len(gl) {
		return nil, fmt.Sprintf("%d lines published, %d produced", len(pl), len(gl))
	}
	endState := func(s string) bool {
		return !strings.HasPrefix(s, "n/a") && s != "not run"
	}
	var header []string
	for i := range pl {
		if pl[i] == gl[i] {
			if i == 0 {
				header = strings.Split(pl[i], "|")
			}
			continue
		}
		pc, gc := strings.Split(pl[i], "|"), strings.Split(gl[i], "|")
		if i < 2 || len(pc) != len(gc) || len(pc) < 4 || !strings.HasPrefix(pl[i], "| ") {
			return nil, fmt.Sprintf("line %d differs: %q, produced %q", i+1, pl[i], gl[i])
		}
		for j := range pc {
			p, g := strings.TrimSpace(pc[j]), strings.TrimSpace(gc[j])
			if p == g {
				continue
			}
			if j < 3 || !endState(p) || !endState(g) {
				return nil, fmt.Sprintf("line %d differs: %q, produced %q", i+1, pl[i], gl[i])
			}
			col := fmt.Sprint(j)
			if j < len(header) {
				col = strings.TrimSpace(header[j])
			}
			moved = append(moved, movedCell{cell: strings.TrimSpace(pc[1]) + "/" + strings.TrimSpace(pc[2]) + "/" + col, published: p, got: g})
		}
	}
	return moved, ""
}

func cellKey(gw string, c call, f fault) string {
	return gw + "/" + strings.NewReplacer(" ", "_", "/", "-").Replace(string(c)) + "/" + strings.ReplaceAll(f.name, " ", "_")
}

var capsCache sync.Map

// capsOf is a gateway's capabilities, from a pair built once.
func capsOf(t *testing.T, gw string) gateways.Capabilities {
	if c, ok := capsCache.Load(gw); ok {
		return c.(gateways.Capabilities)
	}
	p := newPairs[gw](t, "http://127.0.0.1:9/notify/gw", http.DefaultClient) // nobody listens
	caps := p.gw.Capabilities()
	capsCache.Store(gw, caps)
	return caps
}

// cell is one run: the till, the pair, and the fault's aim.
type cell struct {
	t       *testing.T
	gw      string
	c       call
	f       fault
	p       pair
	op      sim.Op // the call faulted
	refuser *refuser
	clock   *steppedClock
	disk    *disk
	runner  *flows.Runner
	refunds *flows.RefundRunner
	db      *sqlite.DB

	mu    sync.Mutex
	aimed bool   // the fault was aimed at its call
	done  bool   // the faulted call answered
	held  bool   // the refund query row's refund was left unanswered
	no    string // the order the faulted call was about
	// refundNo is the refund query row's refund, whose number a fault is
	// also aimed at.
	refundNo string
	notes    atomic.Int64
	// refundNotes counts the refund notifications (the notifier read
	// them as naming a refund) the till acknowledged; in the
	// reverse/close row, the void's or close's (read as the cell's order
	// with no result of its own, Unknown).
	refundNotes atomic.Int64
	// earlyNote is set when a reverse answered after its void's
	// notification was acknowledged (the notification-first cell).
	earlyNote atomic.Bool
	record    []string
}

func (c *cell) logf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record = append(c.record, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
}

// runCell plays one cell and returns its final state; failures go to t.
func runCell(t *testing.T, gw string, c call, f fault) string {
	ce := &cell{t: t, gw: gw, c: c, f: f, refuser: &refuser{}, clock: &steppedClock{}}
	ctx := context.Background()

	// The notification endpoint the simulator posts to: the daemon's own
	// handler in front of the runner, bound once the runner exists.
	var notify atomic.Pointer[http.Handler]
	nts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ce.notes.Add(1)
		if h := notify.Load(); h != nil {
			if ce.c != cRefund && ce.c != cReverse {
				(*h).ServeHTTP(w, r)
				return
			}
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			rec := httptest.NewRecorder()
			(*h).ServeHTTP(rec, r)
			n, err := ce.p.notifier.ParseNotification(r.Header, body)
			_, ack := ce.p.notifier.NotificationAck(true)
			own := n.Result.OutRefundNo != ""
			if ce.c == cReverse {
				own = n.Result.Status == gateways.StatusUnknown && n.OutTradeNo != "" && n.OutTradeNo == ce.order()
			}
			if err == nil && own && rec.Code/100 == 2 && bytes.Equal(rec.Body.Bytes(), ack) {
				ce.refundNotes.Add(1)
			}
			ce.logf("notification %v (refund %q): HTTP %d %q", err, n.Result.OutRefundNo, rec.Code, rec.Body.Bytes())
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		http.Error(w, "not ready", http.StatusServiceUnavailable)
	}))
	t.Cleanup(nts.Close)

	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	ce.refuser.base = tr
	ce.p = newPairs[gw](t, nts.URL+"/notify/gw", &http.Client{Transport: ce.refuser})
	caps := ce.p.gw.Capabilities()
	ce.op = map[call]sim.Op{cPay: sim.OpSubmit, cQuery: sim.OpQuery, cReverse: reverseOp(caps), cRefund: sim.OpRefund, cRefundQuery: sim.OpQueryRefund}[c]

	dir := t.TempDir()
	if f == fDiskFull {
		d, err := mountSmallFS(t)
		if err != nil {
			t.Fatal(err)
		}
		ce.disk = d
		dir = d.dir
	}
	db, err := sqlite.Open(filepath.Join(dir, "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ce.db = db
	if ce.disk != nil {
		probe, err := sqlite.Open(filepath.Join(dir, "journal.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = probe.Close() })
		ce.disk.probe = probe
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	gws := map[string]gateways.Gateway{"gw": truthtest.Observe(ce.p.gw, truthtest.Hooks{Before: ce.before, After: ce.after})}
	ce.runner, err = flows.NewRunner(flows.Options{Journal: db, Gateways: gws, CodeKey: key, Clock: ce.clock,
		Tick: 20 * time.Millisecond, WalletRules: flows.WalletRules{}, ResumeEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ce.refunds, err = flows.NewRefundRunner(flows.RefundOptions{Journal: db, Gateways: gws, Clock: ce.clock,
		Tick: 20 * time.Millisecond, ResumeEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Only the notification columns deliver notifications: elsewhere a
	// notification could end the payment before the faulted call is
	// made, and every outcome must be reached by the till's own calls.
	if f.notification {
		h := localapi.NotifyHandler(ce.runner, map[string]gateways.Notifier{"gw": ce.p.notifier}, nil)
		notify.Store(&h)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = ce.runner.Run(rctx) }()
	go func() { defer wg.Done(); _ = ce.refunds.Run(rctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	text := ce.play(ctx)
	t.Logf("final: %s", text)
	if t.Failed() || testing.Verbose() {
		t.Logf("calls:\n%s", strings.Join(ce.record, "\n"))
	}
	return text
}

// behaviour is what the simulator is told about the cell's order, given
// before its first call: the scenario the row needs, and a simulator
// fault aimed at the row's call.
func (ce *cell) behaviour() sim.Behaviour {
	b := sim.Behaviour{}
	switch ce.c {
	case cQuery:
		b.PayingQueries = 1 // the customer confirms after the first query
	case cReverse:
		b.Scenario = sim.PayingUntilReversed
		if ce.f.notification {
			// notifiesCancels: paid on the reverse's second query, so
			// the reverse voids it (its first query may be the runner's).
			b.Scenario, b.PayingQueries = "", 2
		}
	}
	if ce.f.sim != sim.FaultNone && (ce.c == cPay || ce.c == cQuery || ce.c == cReverse) {
		b.Fault, b.FaultOn, b.Times = ce.f.sim, []sim.Op{ce.op}, 1
	}
	if ce.f.notification {
		b.FaultOn, b.Times = nil, 0 // on whichever call pays the order, every time
		if ce.c == cReverse {
			// On every void: the refused ones owe nothing, the one
			// executed is notified with the fault.
			b.FaultOn = []sim.Op{ce.op}
		}
	}
	return b
}

// before aims the fault at the first call of the row's operation (and
// sets up the row's order on the call that creates it).
func (ce *cell) before(no string, op sim.Op) {
	ce.logf("→ %s %s", op, no)
	if op == sim.OpSubmit && ce.p.seed == nil {
		ce.p.script(no, ce.behaviour())
	}
	ce.mu.Lock()
	first := op == ce.op && !ce.aimed
	if first {
		ce.aimed = true
		ce.no = no
	}
	ce.mu.Unlock()
	// A refund query needs a refund left unanswered: the refund is
	// executed, its answer lost.
	if ce.c == cRefundQuery && op == sim.OpRefund && !ce.refundHeld() {
		ce.p.script(no, sim.Behaviour{Fault: sim.NoAnswer, FaultOn: []sim.Op{sim.OpRefund}, Times: 1})
	}
	if !first {
		return
	}
	switch {
	case ce.f == fRefused:
		ce.refuser.arm()
	case ce.f.sim != sim.FaultNone && (ce.c == cRefund || ce.c == cRefundQuery):
		ce.p.script(no, sim.Behaviour{Fault: ce.f.sim, FaultOn: []sim.Op{op}, Times: 1})
	}
}

// refundHeld reports whether the refund query row's refund was already
// left unanswered, and marks it so.
func (ce *cell) refundHeld() bool {
	ce.mu.Lock()
	defer ce.mu.Unlock()
	was := ce.held
	ce.held = true
	return was
}

// after applies the faults that strike once the call answered: a full
// disk before the answer is journaled, a clock stepped back.
func (ce *cell) after(no string, op sim.Op, res gateways.Result, err error) {
	ce.logf("← %s %s: status=%s code=%q err=%v", op, no, res.Status, res.Code, err)
	ce.mu.Lock()
	first := op == ce.op && ce.aimed && !ce.done
	if first {
		ce.done = true
	}
	ce.mu.Unlock()
	if ce.c == cReverse && op == ce.op && res.Status == gateways.StatusSucceeded && err == nil && ce.refundNotes.Load() > 0 {
		ce.earlyNote.Store(true)
	}
	if !first {
		return
	}
	switch ce.f {
	case fRefused:
		ce.refuser.disarm()
	case fDiskFull:
		ce.disk.fill(ce.t)
		go func() {
			time.Sleep(500 * time.Millisecond)
			ce.disk.free(ce.t)
		}()
	case fClockBack:
		ce.clock.step(-clockStep)
	}
}

// play drives the row's flow to its end and checks it.
func (ce *cell) play(ctx context.Context) string {
	t := ce.t
	amount := pos.Money{Minor: 100, Currency: ce.p.currency}
	var p pos.Payment
	var err error
	if ce.p.seed != nil {
		p, err = ce.external(ctx, amount)
	} else {
		m, w := method(ce.p.gw)
		req := flows.StartRequest{Amount: amount, Method: m, Gateway: "gw", Description: "fault matrix"}
		if m == pos.Micropay {
			code, cerr := pos.ParseAuthCode(gatewaytest.DefaultCodes[w])
			if cerr != nil {
				t.Fatal(cerr)
			}
			req.Code = code
		} else {
			req.Wallet = w
		}
		p, err = ce.runner.Start(ctx, req)
		if err != nil && p.ID == "" {
			t.Fatalf("Start: %v", err)
		}
		if ce.c == cReverse {
			// The cashier gives up: the till must reverse or close.
			if _, err := ce.runner.Cancel(ctx, p.ID); err != nil {
				ce.logf("Cancel: %v", err)
			}
		}
		p = ce.finalPayment(ctx, p.ID)
	}
	if t.Failed() {
		return ""
	}
	if ce.c != cRefund && ce.c != cRefundQuery {
		ce.checkAimed()
		ce.checkPayment(p)
		return string(p.State)
	}
	if p.State != pos.StateSucceeded {
		t.Fatalf("setup: the payment to refund ended %s, not succeeded", p.State)
	}
	r, err := ce.refunds.Refund(ctx, flows.RefundRequest{PaymentID: p.ID, Reason: "fault matrix"})
	if err != nil && r.ID == "" {
		t.Fatalf("Refund: %v", err)
	}
	r = ce.finalRefund(ctx, r.ID)
	if t.Failed() {
		return ""
	}
	ce.checkAimed()
	o, found := ce.p.order(p.OutTradeNo)
	var held pos.Money
	if r.State != pos.RefundSucceeded && r.State != pos.RefundFailed {
		bal, err := ce.refunds.PaymentRefunds(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		held = bal.Held
	}
	if bad := truthtest.RefundVerdict(r, o, held); bad != "" {
		t.Errorf("the till says %s.\nledger: %s", bad, truthtest.DescribeOrder(o, found))
	}
	if p, err = ce.runner.Get(ctx, p.ID); err == nil {
		ce.checkPayment(p)
	}
	return string(r.State)
}

// external places a HipoPay order in the simulated mini-program and has
// the till adopt it: by its notification (the pay row), or by the
// cashier's lookup, repeated while it fails (the other rows).
func (ce *cell) external(ctx context.Context, amount pos.Money) (pos.Payment, error) {
	t := ce.t
	no := gatewaytest.NewOutTradeNo()
	b := sim.Behaviour{}
	if ce.f.sim != sim.FaultNone && ce.c == cQuery {
		b.Fault, b.FaultOn, b.Times = ce.f.sim, []sim.Op{sim.OpQuery}, 1
	}
	if ce.f.notification {
		b.Fault, b.FaultOn = ce.f.sim, []sim.Op{sim.OpSubmit}
	}
	if err := ce.p.seed(no, amount, b); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(bound)
	for {
		var p pos.Payment
		var err error
		if ce.c == cPay {
			// Adopted from its notification, or not yet.
			p, err = ce.db.PaymentByOutTradeNo(ctx, no)
		} else {
			p, err = ce.runner.Lookup(ctx, flows.LookupRequest{Gateway: "gw", OutTradeNo: no})
		}
		if err == nil && p.State.Final() {
			return p, nil
		}
		ce.logf("adopting %s: %v", no, err)
		if time.Now().After(deadline) {
			t.Fatalf("order %s not adopted after %s: %v\n%s", no, bound, err, strings.Join(ce.record, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkAimed fails a cell whose fault never struck: it checked nothing.
func (ce *cell) checkAimed() {
	ce.mu.Lock()
	aimed, done := ce.aimed, ce.done
	ce.mu.Unlock()
	if ce.f.notification {
		// The notification may come after the answer the till ended the
		// payment on: wait for it (both, for a duplicate).
		want := int64(1)
		if ce.f == fDupNote {
			want = 2
		}
		count, what := &ce.notes, "notifications reached the till"
		if ce.c == cReverse {
			count, what = &ce.refundNotes, "void or close notifications were acknowledged"
		}
		if ce.c == cRefund {
			// The payment's own notification does not count: only the
			// refund's, acknowledged.
			count, what = &ce.refundNotes, "refund notifications were acknowledged"
		}
		deadline := time.Now().Add(5 * time.Second)
		for count.Load() < want && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := count.Load(); n < want {
			ce.t.Errorf("%d %s, not %d: the cell checked nothing", n, what, want)
		}
		if ce.c == cReverse && ce.f == fEarlyNote && !ce.earlyNote.Load() {
			ce.t.Error("no reverse answered after its void's notification was acknowledged: the cell checked nothing")
		}
		if ce.c == cRefund {
			if !aimed || !done {
				ce.t.Errorf("the till never made the %s call this cell faults: the cell checked nothing", ce.op)
			} else if ce.p.behaviour(ce.no).Fault != sim.FaultNone {
				ce.t.Errorf("the simulator never served the %s fault aimed at the %s call: the cell checked nothing", ce.f.sim, ce.op)
			}
		}
		return
	}
	if !aimed || !done {
		ce.t.Errorf("the till never made the %s call this cell faults: the cell checked nothing", ce.op)
	}
	if ce.f == fRefused && !ce.refuser.refused.Load() {
		ce.t.Error("no connection was refused: the cell checked nothing")
	}
	if ce.f.sim != sim.FaultNone && aimed {
		if ce.p.behaviour(ce.no).Fault != sim.FaultNone {
			ce.t.Errorf("the simulator never served the %s fault aimed at the %s call: the cell checked nothing", ce.f.sim, ce.op)
		}
	}
}

func (ce *cell) checkPayment(p pos.Payment) {
	o, found := ce.p.order(p.OutTradeNo)
	if bad := truthtest.PaymentVerdict(p, o, found); bad != "" {
		ce.t.Errorf("the till says %s.\nledger: %s", bad, truthtest.DescribeOrder(o, found))
	}
}

func (ce *cell) finalPayment(ctx context.Context, id string) pos.Payment {
	deadline := time.Now().Add(bound)
	for {
		p, err := ce.runner.Get(ctx, id)
		if err != nil {
			ce.t.Fatalf("Get payment: %v", err)
		}
		if p.State.Final() {
			return p
		}
		if time.Now().After(deadline) {
			var hist []string
			evs, _ := ce.runner.Events(ctx, id)
			for _, ev := range evs {
				hist = append(hist, fmt.Sprintf("  %s %s → %s: %s [%s]", ev.At.Format("15:04:05.000"), ev.From, ev.To, ev.Reason, ev.Detail))
			}
			ce.t.Fatalf("payment still %s after %s:\n%s", p.State, bound, strings.Join(hist, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (ce *cell) finalRefund(ctx context.Context, id string) pos.Refund {
	deadline := time.Now().Add(bound)
	for {
		r, err := ce.refunds.GetRefund(ctx, id)
		if err != nil {
			ce.t.Fatalf("Get refund: %v", err)
		}
		if r.State.Final() {
			return r
		}
		if time.Now().After(deadline) {
			var hist []string
			evs, _ := ce.db.RefundEvents(ctx, id)
			for _, ev := range evs {
				hist = append(hist, fmt.Sprintf("  %s %s → %s: %s [%s]", ev.At.Format("15:04:05.000"), ev.From, ev.To, ev.Reason, ev.Detail))
			}
			ce.t.Fatalf("refund still %s after %s:\n%s", r.State, bound, strings.Join(hist, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// refuser is the adapter's HTTP transport: armed, it sends the next
// request to a loopback port nobody listens on (refusedAddr), so the
// connection is refused by the kernel before a byte of the request
// leaves.
type refuser struct {
	base    http.RoundTripper
	armed   atomic.Bool
	refused atomic.Bool
}

func (r *refuser) arm()    { r.armed.Store(true) }
func (r *refuser) disarm() { r.armed.Store(false) }

func (r *refuser) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.armed.CompareAndSwap(true, false) {
		req = req.Clone(req.Context())
		req.URL.Host = refusedAddr
		req.Host = refusedAddr
		r.refused.Store(true)
	}
	return r.base.RoundTrip(req)
}

// refusedAddr is a privileged port below the ephemeral range: no server
// of these tests is ever given it (a port just listened on and closed
// can be handed to the next httptest server of a cell running beside).
const refusedAddr = "127.0.0.1:1"

// steppedClock is the wall clock, stepped back by step.
type steppedClock struct{ off atomic.Int64 }

func (c *steppedClock) Now() time.Time       { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *steppedClock) step(d time.Duration) { c.off.Add(int64(d)) }

// renderTable is the matrix as Markdown: a row per gateway and call, a
// column per fault, each cell the final state the till reached (and the
// ledger agreed with), n/a cells pointing at their note.
func renderTable(table map[string]result) string {
	var b strings.Builder
	b.WriteString("| gateway | call |")
	for _, f := range faults {
		b.WriteString(" " + f.name + " |")
	}
	b.WriteString("\n|---|---|")
	for range faults {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	used := map[string]int{}
	var order []string
	for _, gw := range gatewayNames {
		for _, c := range calls {
			fmt.Fprintf(&b, "| %s | %s |", gw, c)
			for _, f := range faults {
				r := table[cellKey(gw, c, f)]
				text := r.text
				if strings.HasPrefix(text, "na-") {
					if used[text] == 0 {
						order = append(order, text)
						used[text] = len(order)
					}
					text = fmt.Sprintf("n/a[^%d]", used[text])
				}
				b.WriteString(" " + text + " |")
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
	for i, key := range order {
		for _, n := range notes {
			if n.key == key {
				fmt.Fprintf(&b, "[^%d]: %s\n", i+1, n.text)
			}
		}
	}
	return b.String()
}

const (
	beginMarker = "<!-- fault-matrix:begin (generated by TestFaultMatrix -args -write-matrix; do not edit) -->"
	endMarker   = "<!-- fault-matrix:end -->"
)

func betweenMarkers(doc []byte) (string, error) {
	_, rest, ok := bytes.Cut(doc, []byte(beginMarker+"\n"))
	if !ok {
		return "", fmt.Errorf("RELIABILITY.md has no line %q", beginMarker)
	}
	table, _, ok := bytes.Cut(rest, []byte(endMarker))
	if !ok {
		return "", fmt.Errorf("RELIABILITY.md has no line %q", endMarker)
	}
	return string(table), nil
}

func replaceBetweenMarkers(path, table string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := spliceBetweenMarkers(doc, table)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}

// spliceBetweenMarkers returns doc with the text between the markers
// replaced by table. It builds a new buffer: head and tail are slices of
// doc, and appending to head would write over the tail before it is
// copied whenever the new table is longer than the old one (which is how
// RELIABILITY.md once lost the section after the table).
func spliceBetweenMarkers(doc []byte, table string) ([]byte, error) {
	head, rest, ok := bytes.Cut(doc, []byte(beginMarker+"\n"))
	if !ok {
		return nil, fmt.Errorf("no line %q", beginMarker)
	}
	_, tail, ok := bytes.Cut(rest, []byte(endMarker))
	if !ok {
		return nil, fmt.Errorf("no line %q", endMarker)
	}
	out := make([]byte, 0, len(head)+len(beginMarker)+1+len(table)+len(endMarker)+len(tail))
	out = append(out, head...)
	out = append(out, beginMarker+"\n"...)
	out = append(out, table...)
	out = append(out, endMarker...)
	return append(out, tail...), nil
}

// TestSpliceKeepsWhatFollowsTheTable: rewriting the table, longer or
// shorter than the one in the file, keeps the text on both sides of the
// markers byte for byte.
func TestSpliceKeepsWhatFollowsTheTable(t *testing.T) {
	const before, after = "# Reliability\n\nintro\n", "\n\n## Fuzzing\n\nwhat follows the table\n"
	for _, c := range []struct{ old, table string }{
		{"| a |\n", "| a much longer table than the one before |\n| row |\n"},
		{"| a much longer table than the one before |\n| row |\n", "| a |\n"},
	} {
		doc := []byte(before + beginMarker + "\n" + c.old + endMarker + after)
		got, err := spliceBetweenMarkers(doc, c.table)
		if err != nil {
			t.Fatal(err)
		}
		if want := before + beginMarker + "\n" + c.table + endMarker + after; string(got) != want {
			t.Errorf("spliced:\n%s\nwant:\n%s", got, want)
		}
	}
	if _, err := spliceBetweenMarkers([]byte("no markers"), "x"); err == nil {
		t.Error("a document without the markers was accepted")
	}
}

// TestCompareTables: an end state that moved is reported, not a shape
// change; a cell that became n/a, a new row, or a changed footnote is.
func TestCompareTables(t *testing.T) {
	const head = "| gateway | call | no answer | refused |\n|---|---|---|---|\n"
	base := head + "| mmsp | query | succeeded | n/a[^1] |\n\n[^1]: why\n"
	moved, shape := compareTables(base, strings.Replace(base, "| succeeded |", "| reversed |", 1))
	if shape != "" || len(moved) != 1 || moved[0] != (movedCell{"mmsp/query/no answer", "succeeded", "reversed"}) {
		t.Errorf("moved end state: %+v %q", moved, shape)
	}
	for name, got := range map[string]string{
		"ran, now n/a":   strings.Replace(base, "| succeeded |", "| n/a[^1] |", 1),
		"n/a, now ran":   strings.Replace(base, "| n/a[^1] |", "| failed |", 1),
		"footnote":       strings.Replace(base, "why", "another reason", 1),
		"row added":      base + "| mmsp | refund | succeeded | failed |\n",
		"gateway column": strings.Replace(base, "| mmsp |", "| swiftpass |", 1),
	} {
		if _, shape := compareTables(base, got); shape == "" {
			t.Errorf("%s: not reported as a change of the table's shape", name)
		}
	}
}

// order is the order the faulted call was about, once it was made.
func (ce *cell) order() string {
	ce.mu.Lock()
	defer ce.mu.Unlock()
	return ce.no
}
