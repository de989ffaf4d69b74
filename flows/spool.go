package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/store"
)

// ReceiptPlanner is implemented by a ReceiptSink that journals receipts: the
// Runner asks it for a payment's print jobs when the payment becomes final
// and journals them in the same write as the final state (store.Change
// Prints), so a crash between the state and the printout loses nothing.
type ReceiptPlanner interface {
	ReceiptJobs(p pos.Payment) []store.PrintJob
}

// SpoolJournal is what a Spool needs from the journal (the SQLite journal
// implements it).
type SpoolJournal interface {
	store.PrintQueue
	Payment(ctx context.Context, id string) (pos.Payment, error)
	PaymentsBetween(ctx context.Context, from, to time.Time) ([]pos.Payment, error)
}

// SpoolOptions configures a Spool. Journal and Printer are required.
type SpoolOptions struct {
	Journal SpoolJournal
	Printer printer.Printer
	// Header is printed on every receipt.
	Header printer.Header
	// Customer and Merchant select the copies of a successful payment; a
	// failed payment gets the customer copy and a reversed one the void
	// voucher when either is set. Neither: no receipts but reprints.
	Customer, Merchant bool
	// Location is the till's time zone, in which receipts print times
	// (the journal keeps UTC). Default time.Local.
	Location *time.Location
	Clock    Clock        // default SystemClock
	Logger   *slog.Logger // default: discard
	// Tick is how often pending jobs and the printer's status are checked
	// while any job is pending (default 1s). A printer that comes back
	// (paper loaded, cover closed) prints within a Tick. An empty queue
	// waits to be woken (Run).
	Tick time.Duration
	// Backoff is the wait after a first failed attempt, doubled per attempt
	// up to MaxBackoff (defaults 2s and 1 min). A printer that reports
	// itself ready again makes every pending job due at once.
	Backoff, MaxBackoff time.Duration
	// StatusTimeout bounds a status query made for the API (default 3s).
	StatusTimeout time.Duration
}

// Spool is the print spool: the ReceiptSink that journals a final
// payment's receipts as print jobs, and the loop that prints pending jobs
// in order. Before printing it asks the printer for its status; a printer
// that is not ready (paper out, cover open, offline) keeps the jobs
// pending, with their attempts and last error, until it is. Jobs pending
// when the process starts are printed first, so a crash loses none.
//
// Receipts are rendered from the journal when they print, never stored as
// bytes: a reprint, or a job left from before a printer change, prints for
// the printer configured now.
type Spool struct {
	o    SpoolOptions
	log  *slog.Logger
	wake chan struct{}

	mu    sync.Mutex
	ready bool // the printer was ready at the last check
}

var (
	_ ReceiptSink    = (*Spool)(nil)
	_ ReceiptPlanner = (*Spool)(nil)
)

// NewSpool validates o and returns a Spool. Call Run to print.
func NewSpool(o SpoolOptions) (*Spool, error) {
	switch {
	case o.Journal == nil:
		return nil, errors.New("flows: SpoolOptions.Journal is required")
	case o.Printer == nil:
		return nil, errors.New("flows: SpoolOptions.Printer is required")
	case o.Tick < 0 || o.Backoff < 0 || o.MaxBackoff < 0 || o.StatusTimeout < 0:
		return nil, errors.New("flows: SpoolOptions durations must not be negative")
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Tick == 0 {
		o.Tick = time.Second
	}
	if o.Backoff == 0 {
		o.Backoff = 2 * time.Second
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = time.Minute
	}
	o.MaxBackoff = max(o.MaxBackoff, o.Backoff)
	if o.StatusTimeout == 0 {
		o.StatusTimeout = 3 * time.Second
	}
	return &Spool{o: o, log: o.Logger, wake: make(chan struct{}, 1)}, nil
}

// ReceiptJobs returns the print jobs a final payment owes: both copies (as
// configured) of a success, the customer's copy of a failure (proof that
// nothing was charged), the void voucher of a reversal. A payment that
// failed before anything was sent (cancelled or unscanned while waiting
// for a code) owes no paper: there is nothing to prove.
func (s *Spool) ReceiptJobs(p pos.Payment) []store.PrintJob {
	if p.State == pos.StateFailed && p.SubmittedAt.IsZero() {
		return nil
	}
	var out []store.PrintJob
	for _, k := range receiptKinds(p.State, s.o.Customer, s.o.Merchant) {
		out = append(out, store.PrintJob{PaymentID: p.ID, Kind: k})
	}
	return out
}

// PaymentFinal wakes the spool: the payment's jobs were journaled with its
// final state.
func (s *Spool) PaymentFinal(ctx context.Context, p pos.Payment) { s.Wake() }

// Wake makes Run look at the queue now rather than at its next Tick.
func (s *Spool) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Reprint enqueues fresh copies of a final payment's receipts and returns
// the jobs. kinds chooses the receipts (store.ReceiptCustomer, ...); none
// means the ones the payment got when it became final, or its customer
// receipt when copies are off. An unknown payment is pos.NotFound, one not
// yet final pos.Conflict, a kind the payment has no receipt of pos.Invalid.
func (s *Spool) Reprint(ctx context.Context, paymentID string, kinds ...string) ([]store.PrintJob, error) {
	const op = "flows.Reprint"
	p, err := s.o.Journal.Payment(ctx, paymentID)
	if err != nil {
		return nil, err
	}
	if !p.State.Final() {
		return nil, pos.Errorf(pos.Conflict, op, "payment %s is %s; its receipts print when it is final", p.ID, p.State)
	}
	allowed := receiptKinds(p.State, true, true)
	if len(kinds) == 0 {
		kinds = receiptKinds(p.State, s.o.Customer, s.o.Merchant)
		if len(kinds) == 0 {
			kinds = allowed[len(allowed)-1:] // the customer's receipt
		}
	}
	jobs := make([]store.PrintJob, 0, len(kinds))
	for _, k := range kinds {
		if !slices.Contains(allowed, k) {
			return nil, pos.Errorf(pos.Invalid, op, "payment %s is %s: it has no %q receipt (it has %v)", p.ID, p.State, k, allowed)
		}
		jobs = append(jobs, store.PrintJob{PaymentID: p.ID, Kind: k, Reprint: true})
	}
	out, err := s.o.Journal.EnqueuePrints(ctx, s.o.Clock.Now(), jobs)
	if err != nil {
		return nil, err
	}
	s.log.Info("reprint queued", "payment", p.ID, "jobs", len(out))
	s.Wake()
	return out, nil
}

// receiptKinds lists the receipts a payment in state st gets with the given
// copies, in printing order (the merchant's copy first, so the customer's
// is torn off last and handed over).
func receiptKinds(st pos.State, customer, merchant bool) []string {
	var out []string
	switch st {
	case pos.StateSucceeded:
		if merchant {
			out = append(out, store.ReceiptMerchant)
		}
		if customer {
			out = append(out, store.ReceiptCustomer)
		}
	case pos.StateFailed:
		if customer || merchant {
			out = append(out, store.ReceiptCustomer)
		}
	case pos.StateReversed:
		if customer || merchant {
			out = append(out, store.ReceiptVoid)
		}
	}
	return out
}

// Render returns the receipt a job prints, from the journal as it is now.
func (s *Spool) Render(ctx context.Context, j store.PrintJob) (printer.Receipt, error) {
	const op = "flows.Render"
	if j.PaymentID == "" && j.Kind == store.ReceiptTest {
		return printer.TestReceipt(s.o.Header, j.CreatedAt.In(s.o.Location)), nil
	}
	if j.PaymentID == "" {
		return s.renderSummary(ctx, j)
	}
	if j.RefundID != "" {
		return s.renderRefund(ctx, j)
	}
	p, err := s.o.Journal.Payment(ctx, j.PaymentID)
	if err != nil {
		return printer.Receipt{}, err
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.In(s.o.Location), p.UpdatedAt.In(s.o.Location)
	r, err := renderReceipt(j.Kind, p, s.o.Header)
	if err != nil {
		return printer.Receipt{}, pos.E(pos.Invalid, op, err)
	}
	if j.Reprint {
		r = markReprint(r, j.ID, j.CreatedAt.In(s.o.Location))
	}
	return r, nil
}

// renderReceipt is the receipt template for a kind.
func renderReceipt(kind string, p pos.Payment, h printer.Header) (printer.Receipt, error) {
	switch kind {
	case store.ReceiptCustomer:
		return printer.PaymentReceipt(p, h, printer.CustomerCopy), nil
	case store.ReceiptMerchant:
		return printer.PaymentReceipt(p, h, printer.MerchantCopy), nil
	case store.ReceiptVoid:
		return printer.ReversalReceipt(p, h), nil
	}
	return printer.Receipt{}, fmt.Errorf("unknown receipt kind %q", kind)
}

// markReprint says on the paper that this is a reprint, after the shop's
// header (the first rule), and names it apart from the original so its
// preview does not overwrite the original's.
func markReprint(r printer.Receipt, jobID int64, at time.Time) printer.Receipt {
	mark := printer.Text{Text: "REPRINT 重印 " + at.Format("2006-01-02 15:04"), Style: printer.Style{Align: printer.Center, Bold: true}}
	i := slices.IndexFunc(r.Blocks, func(b printer.Block) bool { _, ok := b.(printer.Rule); return ok })
	blocks := slices.Clone(r.Blocks)
	r.Blocks = slices.Insert(blocks, i+1, printer.Block(mark))
	r.Name = fmt.Sprintf("%s-reprint%d", r.Name, jobID)
	return r
}

// Run prints pending jobs until ctx ends: at start (what a previous run
// left), when woken, and every Tick while any are pending. With none
// pending it waits to be woken (every path that journals a receipt wakes
// it), looking again at least every spoolIdleCheck; with a Clock that is
// not a TimerClock (tests) it looks every Tick, as before.
func (s *Spool) Run(ctx context.Context) error {
	_, idleWait := s.o.Clock.(TimerClock)
	for {
		wait := s.o.Tick
		if !s.round(ctx) && idleWait {
			wait = spoolIdleCheck
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-s.wake:
			t.Stop()
		}
	}
}

// spoolIdleCheck is how often an empty queue is looked at without a
// wake-up: a safety net, not the way receipts reach the printer.
const spoolIdleCheck = time.Minute

// round prints what is due. The printer's status is asked first: when it
// is not ready every due job records the reason and waits; when it has just
// become ready every pending job is due. Jobs print in the order they were
// queued; a printer failure stops the round, so a later receipt never
// overtakes an earlier one. It reports whether any job was pending (or
// the queue could not be read).
func (s *Spool) round(ctx context.Context) bool {
	jobs, err := s.o.Journal.PendingPrints(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("reading print queue failed", "err", err)
		}
		return true
	}
	if len(jobs) == 0 {
		return false
	}
	now := s.o.Clock.Now()
	st, err := s.o.Printer.Status(ctx)
	ready := err == nil && st.Ready()
	cause := ""
	switch {
	case err != nil:
		cause = "printer status: " + errMessage(err)
	case !ready:
		cause = (&printer.NotReadyError{Status: st}).Error()
	}
	s.mu.Lock()
	wasReady := s.ready
	s.ready = ready
	s.mu.Unlock()
	if !ready {
		if wasReady {
			s.log.Warn("printer not ready; receipts are kept until it is", "pending", len(jobs), "cause", cause)
		}
		for _, j := range jobs {
			if due(j, now) {
				s.retry(ctx, j, now, cause)
			}
		}
		return true
	}
	if !wasReady {
		s.log.Info("printer ready", "pending", len(jobs))
	}
	left := false // jobs not due yet
	for _, j := range jobs {
		if ctx.Err() != nil {
			return true
		}
		if wasReady && !due(j, now) {
			left = true
			continue
		}
		if !s.print(ctx, j, now) {
			return true
		}
	}
	return left
}

func due(j store.PrintJob, now time.Time) bool { return !now.Before(j.NotBefore) }

// print renders and prints one job and journals the outcome. It reports
// whether the round may go on to the next job.
func (s *Spool) print(ctx context.Context, j store.PrintJob, now time.Time) bool {
	r, err := s.Render(ctx, j)
	if err != nil {
		// This job cannot be rendered (a bug, or a kind from a newer
		// version); the ones after it still can.
		s.log.Error("receipt cannot be rendered", "job", j.ID, "payment", j.PaymentID, "kind", j.Kind, "err", err)
		s.retry(ctx, j, now, errMessage(err))
		return ctx.Err() == nil
	}
	if err := s.o.Printer.Print(ctx, r); err != nil {
		// The status said ready, so this is a transport failure or a
		// printer that changed its mind: back off; the next status check
		// decides whether the printer is (still) ready.
		msg := errMessage(err)
		s.log.Warn("receipt not printed; kept for retry", "job", j.ID, "payment", j.PaymentID, "receipt", r.Name, "attempts", j.Attempts+1, "err", msg)
		s.retry(ctx, j, now, msg)
		return false
	}
	// Printed. If the process dies before this is journaled the receipt
	// prints again at start: a duplicate is better than a lost receipt.
	crashPoint(CrashSpoolPrinted)
	if err := s.o.Journal.MarkPrinted(context.WithoutCancel(ctx), j.ID, s.o.Clock.Now()); err != nil {
		s.log.Error("journaling a printed receipt failed; it may print again", "job", j.ID, "err", err)
		return false
	}
	s.log.Info("receipt printed", "job", j.ID, "payment", j.PaymentID, "receipt", r.Name)
	return true
}

func (s *Spool) retry(ctx context.Context, j store.PrintJob, now time.Time, cause string) {
	d := s.o.Backoff
	for i := 0; i < j.Attempts && d < s.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.o.MaxBackoff)
	if err := s.o.Journal.RetryPrint(context.WithoutCancel(ctx), j.ID, now.Add(d), cause); err != nil {
		s.log.Error("journaling a print attempt failed", "job", j.ID, "err", err)
	}
}

// PrinterStatus is the printer's health and the queue, for the local API
// and `posagent devices`.
type PrinterStatus struct {
	printer.Status
	// Ready is Status.Ready(): a receipt would print now.
	Ready bool `json:"ready"`
	// PendingJobs counts receipts waiting to print.
	PendingJobs int `json:"pending_jobs"`
	// LastError is why the last attempt did not print, if it did not.
	LastError string `json:"last_error,omitempty"`
}

// Status asks the printer for its status now (bounded by StatusTimeout)
// and counts the pending jobs. A printer that does not answer is reported
// offline, with the reason in Detail.
func (s *Spool) Status(ctx context.Context) PrinterStatus {
	ctx, cancel := context.WithTimeout(ctx, s.o.StatusTimeout)
	defer cancel()
	st, err := s.o.Printer.Status(ctx)
	if err != nil {
		st = printer.Status{Detail: "no status: " + errMessage(err)}
	}
	out := PrinterStatus{Status: st, Ready: err == nil && st.Ready()}
	if jobs, err := s.o.Journal.PendingPrints(ctx); err == nil {
		out.PendingJobs = len(jobs)
		for _, j := range jobs {
			if j.LastError != "" {
				out.LastError = j.LastError
				break
			}
		}
	}
	return out
}

// Jobs returns a payment's print jobs, printed or pending.
func (s *Spool) Jobs(ctx context.Context, paymentID string) ([]store.PrintJob, error) {
	if _, err := s.o.Journal.Payment(ctx, paymentID); err != nil {
		return nil, err
	}
	return s.o.Journal.PrintJobs(ctx, paymentID)
}
