package flows

import (
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/printer/textprinter"
	"github.com/posagent/posagent/hw/printer/virtual"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// The spool tests run against the real SQLite journal and a printer whose
// status the test scripts, the way an ESC/POS printer behaves: Print
// checks the status first and refuses with a NotReadyError.

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type scriptedPrinter struct {
	mu      sync.Mutex
	st      printer.Status
	failErr error // Print fails with it although the status is ready
	printed []printer.Receipt
}

func (p *scriptedPrinter) set(st printer.Status) { p.mu.Lock(); p.st = st; p.mu.Unlock() }

func (p *scriptedPrinter) Status(ctx context.Context) (printer.Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st, nil
}

func (p *scriptedPrinter) Print(ctx context.Context, r printer.Receipt) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.st.Ready() {
		return pos.E(pos.Unavailable, "fake.Print", &printer.NotReadyError{Status: p.st})
	}
	if p.failErr != nil {
		return p.failErr
	}
	p.printed = append(p.printed, r)
	return nil
}

// names lists the receipts printed so far.
func (p *scriptedPrinter) names() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, r := range p.printed {
		out = append(out, r.Name)
	}
	return out
}

var (
	online   = printer.Status{Online: true}
	paperOut = printer.Status{Online: true, PaperOut: true}
)

var spoolT0 = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func openJournal(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newTestSpool(t *testing.T, db SpoolJournal, p printer.Printer, clk Clock) *Spool {
	t.Helper()
	s, err := NewSpool(SpoolOptions{Journal: db, Printer: p, Customer: true, Merchant: true, Clock: clk, Location: time.UTC,
		Header: printer.Header{Merchant: "Test Shop"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// finalPayment journals a payment and its final state with the receipts
// the spool plans for it, as Runner.apply does.
func finalPayment(t *testing.T, db *sqlite.DB, s *Spool, id string, final pos.State) pos.Payment {
	t.Helper()
	ctx := context.Background()
	p := pos.Payment{
		ID: id, OutTradeNo: "OTN" + id, Gateway: "mmsp", Method: pos.Micropay,
		Amount: pos.Money{Minor: 1200, Currency: "CNY"}, Wallet: pos.WeChatPay, CodeMasked: "1345********6789",
		State: pos.StateSubmitting, CreatedAt: spoolT0, UpdatedAt: spoolT0, SubmittedAt: spoolT0,
	}
	if err := db.Append(ctx, store.Change{Payment: p, Reason: "created", At: spoolT0}); err != nil {
		t.Fatal(err)
	}
	if final == pos.StateReversed {
		p.State = pos.StateReversing
		if err := db.Append(ctx, store.Change{Payment: p, From: pos.StateSubmitting, Reason: "reversing", At: spoolT0}); err != nil {
			t.Fatal(err)
		}
	}
	from := p.State
	p.State, p.UpdatedAt = final, spoolT0.Add(time.Second)
	c := store.Change{Payment: p, From: from, Reason: "final", At: p.UpdatedAt, Prints: s.ReceiptJobs(p)}
	if err := db.Append(ctx, c); err != nil {
		t.Fatal(err)
	}
	return p
}

func pending(t *testing.T, db *sqlite.DB) []store.PrintJob {
	t.Helper()
	jobs, err := db.PendingPrints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// TestSpoolKeepsReceiptsUntilThePrinterIsBack is the paragraph: a
// receipt that cannot print because of paper or cover is kept (journaled)
// and printed when the printer is back.
func TestSpoolKeepsReceiptsUntilThePrinterIsBack(t *testing.T) {
	ctx := context.Background()
	db := openJournal(t, filepath.Join(t.TempDir(), "j.db"))
	clk := &fakeClock{now: spoolT0}
	pr := &scriptedPrinter{st: paperOut}
	s := newTestSpool(t, db, pr, clk)
	finalPayment(t, db, s, "pay_1", pos.StateSucceeded)

	s.round(ctx)
	if got := pr.names(); len(got) != 0 {
		t.Fatalf("printed with the paper out: %v", got)
	}
	jobs := pending(t, db)
	if len(jobs) != 2 {
		t.Fatalf("pending jobs = %v, want both copies kept", jobs)
	}
	for _, j := range jobs {
		if j.Attempts != 1 || j.LastError != "printer not ready: paper out" {
			t.Errorf("job %d: attempts %d, last error %q; want the attempt recorded", j.ID, j.Attempts, j.LastError)
		}
	}
	st := s.Status(ctx)
	want := PrinterStatus{Status: paperOut, Ready: false, PendingJobs: 2, LastError: "printer not ready: paper out"}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("Status (-want +got):\n%s", diff)
	}

	// Paper loaded: the next round prints both, merchant copy first, even
	// though their backoff has not expired.
	pr.set(online)
	s.round(ctx)
	if diff := cmp.Diff([]string{"pay_1-merchant", "pay_1-customer"}, pr.names()); diff != "" {
		t.Errorf("printed (-want +got):\n%s", diff)
	}
	if jobs := pending(t, db); len(jobs) != 0 {
		t.Errorf("still pending after printing: %v", jobs)
	}
	if st := s.Status(ctx); !st.Ready || st.PendingJobs != 0 {
		t.Errorf("Status after printing = %+v", st)
	}
}

// TestSpoolPrintsWhatWasPendingAtStart: the process dies with receipts
// pending; a new spool on the reopened journal prints them.
func TestSpoolPrintsWhatWasPendingAtStart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	db, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{now: spoolT0}
	pr := &scriptedPrinter{st: printer.Status{Online: true, CoverOpen: true}}
	s := newTestSpool(t, db, pr, clk)
	finalPayment(t, db, s, "pay_failed", pos.StateFailed)
	finalPayment(t, db, s, "pay_void", pos.StateReversed)
	s.round(ctx)
	db.Close()

	db = openJournal(t, path)
	pr2 := &scriptedPrinter{st: online}
	s2 := newTestSpool(t, db, pr2, clk)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- s2.Run(runCtx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(pr2.names()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"pay_failed-customer", "pay_void-void"}, pr2.names()); diff != "" {
		t.Errorf("printed after restart (-want +got):\n%s", diff)
	}
	if jobs := pending(t, db); len(jobs) != 0 {
		t.Errorf("still pending: %v", jobs)
	}
}

// TestSpoolBacksOffOnPrintFailure: a printer that says it is ready but
// fails to print is retried after the backoff, not at every tick.
func TestSpoolBacksOffOnPrintFailure(t *testing.T) {
	ctx := context.Background()
	db := openJournal(t, filepath.Join(t.TempDir(), "j.db"))
	clk := &fakeClock{now: spoolT0}
	pr := &scriptedPrinter{st: online, failErr: pos.E(pos.Unavailable, "fake.Print", errors.New("broken pipe"))}
	s := newTestSpool(t, db, pr, clk)
	s.o.Customer, s.o.Merchant = true, false
	finalPayment(t, db, s, "pay_1", pos.StateSucceeded)

	s.round(ctx) // attempt 1 fails: due again after Backoff (2s)
	pr.mu.Lock()
	pr.failErr = nil
	pr.mu.Unlock()
	clk.Add(time.Second)
	s.round(ctx)
	if got := pr.names(); len(got) != 0 {
		t.Fatalf("retried before the backoff: %v", got)
	}
	if j := pending(t, db); len(j) != 1 || j[0].Attempts != 1 || j[0].LastError != "broken pipe" {
		t.Fatalf("pending = %+v", j)
	}
	clk.Add(time.Second)
	s.round(ctx)
	if diff := cmp.Diff([]string{"pay_1-customer"}, pr.names()); diff != "" {
		t.Errorf("printed (-want +got):\n%s", diff)
	}
}

func TestReprint(t *testing.T) {
	ctx := context.Background()
	db := openJournal(t, filepath.Join(t.TempDir(), "j.db"))
	clk := &fakeClock{now: spoolT0}
	pr := &scriptedPrinter{st: online}
	s := newTestSpool(t, db, pr, clk)
	finalPayment(t, db, s, "pay_1", pos.StateSucceeded)
	s.round(ctx)

	pend := pos.Payment{ID: "pay_pending", OutTradeNo: "OTNp", Gateway: "mmsp", Method: pos.Micropay,
		Amount: pos.Money{Minor: 100, Currency: "CNY"}, State: pos.StateUserPaying, CreatedAt: spoolT0}
	if err := db.Append(ctx, store.Change{Payment: pend, Reason: "created", At: spoolT0}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id    string
		kinds []string
		want  pos.Kind
	}{
		{"pay_nobody", nil, pos.NotFound},
		{"pay_pending", nil, pos.Conflict},
		{"pay_1", []string{store.ReceiptVoid}, pos.Invalid},
	} {
		if _, err := s.Reprint(ctx, tc.id, tc.kinds...); !pos.Match(tc.want, err) {
			t.Errorf("Reprint(%s, %v) = %v, want %v", tc.id, tc.kinds, err, tc.want)
		}
	}

	clk.Add(time.Hour)
	jobs, err := s.Reprint(ctx, "pay_1", store.ReceiptCustomer)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.PrintJob{{ID: 3, PaymentID: "pay_1", Kind: store.ReceiptCustomer, Reprint: true, CreatedAt: clk.Now()}}
	if diff := cmp.Diff(want, jobs); diff != "" {
		t.Fatalf("Reprint jobs (-want +got):\n%s", diff)
	}
	s.round(ctx)
	got := pr.names()
	if diff := cmp.Diff([]string{"pay_1-merchant", "pay_1-customer", "pay_1-customer-reprint3"}, got); diff != "" {
		t.Fatalf("printed (-want +got):\n%s", diff)
	}
	text := textprinter.Render(pr.printed[2], 48)
	if !strings.Contains(text, "REPRINT 重印 2026-03-14 13:00") || !strings.Contains(text, "CUSTOMER COPY") {
		t.Errorf("the reprint does not say so:\n%s", text)
	}
	// Without kinds: what the payment got at first, both copies.
	if jobs, err := s.Reprint(ctx, "pay_1"); err != nil || len(jobs) != 2 {
		t.Errorf("Reprint(pay_1) = %v, %v; want both copies", jobs, err)
	}
}

// TestSpoolOnTheVirtualPrinter prints through the real virtual printer:
// every receipt is a PNG preview beside the ESC/POS bytes.
func TestSpoolOnTheVirtualPrinter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openJournal(t, filepath.Join(dir, "j.db"))
	vp := virtual.New(filepath.Join(dir, "receipts"), virtual.Options{})
	s := newTestSpool(t, db, vp, &fakeClock{now: spoolT0})
	finalPayment(t, db, s, "pay_ok", pos.StateSucceeded)
	finalPayment(t, db, s, "pay_void", pos.StateReversed)
	s.round(ctx)
	for _, name := range []string{"pay_ok-merchant", "pay_ok-customer", "pay_void-void"} {
		b, err := os.ReadFile(filepath.Join(dir, "receipts", name+".bin"))
		if err != nil || len(b) == 0 {
			t.Errorf("%s.bin: %v (%d bytes)", name, err, len(b))
		}
		f, err := os.Open(filepath.Join(dir, "receipts", name+".png"))
		if err != nil {
			t.Errorf("%s.png: %v", name, err)
			continue
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s.png does not decode: %v", name, err)
		} else if img.Bounds().Dx() < 576 {
			t.Errorf("%s.png is %d dots wide, narrower than 80 mm paper (576)", name, img.Bounds().Dx())
		}
	}
	if j := pending(t, db); len(j) != 0 {
		t.Errorf("pending after printing on the virtual printer: %v", j)
	}
}

// TestNoReceiptForAPaymentNeverSent: a payment cancelled (or never
// scanned) while waiting for its code moved nothing and prints nothing.
func TestNoReceiptForAPaymentNeverSent(t *testing.T) {
	db := openJournal(t, filepath.Join(t.TempDir(), "j.db"))
	s := newTestSpool(t, db, &scriptedPrinter{st: online}, &fakeClock{now: spoolT0})
	p := pos.Payment{ID: "pay_x", State: pos.StateFailed, Amount: pos.Money{Minor: 100, Currency: "CNY"}}
	if jobs := s.ReceiptJobs(p); len(jobs) != 0 {
		t.Fatalf("an unsent failed payment owes %v", jobs)
	}
	p.SubmittedAt = spoolT0
	if jobs := s.ReceiptJobs(p); len(jobs) != 1 || jobs[0].Kind != store.ReceiptCustomer {
		t.Fatalf("a declined payment owes %v, want the customer copy", jobs)
	}
}

// A test print is journaled in the print queue and printed by the spool
// like any receipt (after the printer is back), saying plainly that it is
// no receipt; it survives a reopen of the journal.
func TestPrintTest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	db := openJournal(t, path)
	clk := &fakeClock{now: spoolT0}
	pr := &scriptedPrinter{st: printer.Status{Online: true, PaperOut: true}}
	s := newTestSpool(t, db, pr, clk)
	job, err := s.PrintTest(ctx)
	if err != nil || job.Kind != store.ReceiptTest || job.PaymentID != "" {
		t.Fatalf("PrintTest = %+v, %v", job, err)
	}
	s.round(ctx)
	if len(pr.names()) != 0 {
		t.Fatalf("printed while out of paper: %v", pr.names())
	}
	pending, err := db.PendingPrints(ctx)
	if err != nil || len(pending) != 1 || pending[0].Kind != store.ReceiptTest {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	pr.set(online)
	clk.Add(time.Minute)
	s.round(ctx)
	if got := pr.names(); len(got) != 1 || !strings.HasPrefix(got[0], "test-") {
		t.Fatalf("printed %v, want the test print", got)
	}
	text := textprinter.Render(pr.printed[0], 48)
	if !strings.Contains(text, "TEST PRINT") || !strings.Contains(text, "Not a receipt") {
		t.Errorf("the test print does not say what it is:\n%s", text)
	}
	if pending, _ := db.PendingPrints(ctx); len(pending) != 0 {
		t.Errorf("the test print is still pending: %+v", pending)
	}
}
