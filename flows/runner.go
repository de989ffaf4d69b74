package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/hw/display"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/store"
)

// ScanSource hands out scans one at a time (scanner.Hub implements it).
type ScanSource interface {
	Next(ctx context.Context) (scanner.Scan, error)
}

// ReceiptSink is told about every payment that reaches a final state, to
// print its receipts. It must not block for long; errors are its own.
type ReceiptSink interface {
	PaymentFinal(ctx context.Context, p pos.Payment)
}

// Options configures a Runner. Journal and at least one gateway are
// required; everything else has a default.
type Options struct {
	Journal store.Journal
	// Gateways by configured name; DefaultGateway is used when a request
	// names none (default: the only one, when there is only one).
	Gateways       map[string]gateways.Gateway
	DefaultGateway string
	// Scans feeds payments that wait for a code. Nil: only codes given in
	// the request are accepted.
	Scans ScanSource
	// Display shows the customer what is happening. Nil: no display.
	Display display.Display
	// Receipts prints final payments. Nil: no receipts.
	Receipts ReceiptSink
	// CodeKey keys the hash journaled instead of the payment code. Required,
	// at least 16 bytes, stable for the life of the journal.
	CodeKey []byte
	// Clock is the wall clock, and when it is a SteadyClock also the
	// steady one the runner schedules by (default SystemClock).
	Clock  Clock
	Logger *slog.Logger // default: discard
	// AwaitCodeTimeout is how long a payment waits for a scan (default 90 s).
	AwaitCodeTimeout time.Duration
	// Tick, when set, bounds how long the loop waits between looks at the
	// outbox. By default it waits for what falls due next (an operation's
	// not-before, an awaiting payment's deadline, the periodic resume),
	// woken early by every journaled change; with a Clock that is not a
	// TimerClock it looks every 200 ms.
	Tick time.Duration
	// Route chooses the gateway for a request that names none, by method
	// and wallet (the wallet is "" for a micropay whose code is still to
	// be scanned); "" falls back to DefaultGateway. Nil: the default.
	Route func(pos.Method, pos.Wallet) string
	// Lanes names the lanes besides the default one (""). A request for
	// another lane is refused.
	Lanes []string
	// LaneOf says which lane a scanner (by its configured name) belongs
	// to. Nil: every scanner is the default lane's.
	LaneOf func(source string) string
	// WalletRules adds the wallets' own timing rules to each gateway's
	// (WeChat reverse after 15 s, QQ Wallet after 5 minutes, Alipay cancel
	// within 24 hours). Nil means DefaultWalletRules; the demo and tests
	// pass an empty table, as they run fast simulator timings.
	WalletRules WalletRules
	// NumberPrefix is this till's prefix in every order number
	// (CheckNumberPrefix), so two tills of one merchant never draw the
	// same one. Empty: a random prefix for the life of the Runner; the
	// daemon keeps one per install in its state directory.
	NumberPrefix string
	// ResumeEvery is how often pending payments that nothing carries on
	// (no outbox row, no call in flight, e.g. after a journal write
	// failed) are resumed, besides at start (default 30 s).
	ResumeEvery time.Duration
}

// Runner drives payments: it journals each decision, then acts on it.
type Runner struct {
	opts Options
	log  *slog.Logger
	tl   *timeline // scheduling by the steady clock (timeline.go)

	mu       sync.Mutex
	changed  chan struct{}     // closed and replaced on every journaled change
	inflight map[int64]bool    // outbox ops being executed
	awaiting map[string]func() // payments waiting for a scan -> wake
	wake     chan struct{}
	beats    heartbeat // one beat per loop iteration, for Alive
	notes    notificationsSeen
	decideMu sync.Mutex // held by apply from reading a payment to journaling its change

	routed    map[string]bool          // awaiting payment -> its gateway was chosen by routing, not named
	recovered atomic.Bool              // every pending payment resumed (Recovered)
	laneMu    sync.Mutex               // held by begin from checking a lane to journaling the new payment
	bg        sync.WaitGroup           // submits Create left running
	since     map[string]time.Time     // awaiting payment -> when it began waiting in this process
	refusals  map[string][]ScanRefusal // awaiting payment -> scans it refused
	// pending keeps decisions whose journal write failed (disk full),
	// retried until journaled; meanwhile new payments are refused.
	pending pendingWrites
	// calling names payments whose submit is on the wire in this process,
	// which a periodic resume must leave alone.
	calling map[string]bool
	heldOps map[int64]time.Time // ops whose retry could not be journaled -> not before
}

// NewRunner validates opts and returns a Runner. Call Run to start it.
func NewRunner(opts Options) (*Runner, error) {
	if opts.Journal == nil {
		return nil, errors.New("flows: Options.Journal is required")
	}
	if len(opts.Gateways) == 0 {
		return nil, errors.New("flows: at least one gateway is required")
	}
	if opts.DefaultGateway == "" && len(opts.Gateways) == 1 {
		for name := range opts.Gateways {
			opts.DefaultGateway = name
		}
	}
	if _, ok := opts.Gateways[opts.DefaultGateway]; !ok && opts.DefaultGateway != "" {
		return nil, fmt.Errorf("flows: default gateway %q is not configured", opts.DefaultGateway)
	}
	if len(opts.CodeKey) < 16 {
		return nil, errors.New("flows: Options.CodeKey must be at least 16 bytes")
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AwaitCodeTimeout == 0 {
		opts.AwaitCodeTimeout = 90 * time.Second
	}
	if opts.Tick < 0 {
		return nil, errors.New("flows: Options.Tick is negative")
	}
	if opts.WalletRules == nil {
		opts.WalletRules = DefaultWalletRules()
	}
	if opts.NumberPrefix == "" {
		opts.NumberPrefix = NewNumberPrefix()
	}
	if err := CheckNumberPrefix(opts.NumberPrefix); err != nil {
		return nil, fmt.Errorf("flows: Options.NumberPrefix: %w", err)
	}
	if opts.ResumeEvery == 0 {
		opts.ResumeEvery = 30 * time.Second
	}
	return &Runner{
		calling:  map[string]bool{},
		opts:     opts,
		log:      opts.Logger,
		tl:       newTimeline(opts.Clock),
		changed:  make(chan struct{}),
		inflight: map[int64]bool{},
		awaiting: map[string]func(){},
		wake:     make(chan struct{}, 1),
		since:    map[string]time.Time{},
		refusals: map[string][]ScanRefusal{},
		routed:   map[string]bool{},
	}, nil
}

// StartRequest asks for a new payment.
type StartRequest struct {
	Amount  pos.Money
	Method  pos.Method
	Gateway string // "" for the default
	// Code is the customer's payment code (micropay). Zero: wait for the
	// next accepted scan.
	Code pos.AuthCode
	// Wallet is required for a merchant QR payment.
	Wallet      pos.Wallet
	Description string
	// Reference is the till's own order id (optional; stored and
	// searchable, at most 64 bytes).
	Reference string
	// Lane is the till whose scanners and display take the payment; ""
	// is the default lane. One payment per lane waits for a scan.
	Lane string
	// Replace cancels the payment waiting for a scan in the lane, if
	// any, instead of refusing this one (see WaitingError).
	Replace bool
	// Idempotency, when set, is journaled in the same write as the new
	// payment (store.Change.Idempotency).
	Idempotency *store.IdempotencyKey
}

func (r *Runner) gateway(name string) (string, gateways.Gateway, error) {
	if name == "" {
		name = r.opts.DefaultGateway
	}
	g, ok := r.opts.Gateways[name]
	if !ok {
		return "", nil, pos.Errorf(pos.Invalid, "flows.Start", "unknown gateway %q", name)
	}
	return name, g, nil
}

// Start validates req, journals the payment, and for a micropay with a code
// (or a merchant QR) submits it before returning. It returns the payment as
// it stands after the submit's answer (or awaiting a code). Invalid requests
// are refused before anything is journaled. Create is the same without
// waiting for the gateway.
func (r *Runner) Start(ctx context.Context, req StartRequest) (pos.Payment, error) {
	p, submit, err := r.begin(ctx, req)
	if err != nil || submit == nil {
		return p, err
	}
	return submit(ctx)
}

func (r *Runner) stampCode(p *pos.Payment, code pos.AuthCode) {
	p.Wallet = code.Wallet()
	p.CodeMasked = code.Masked()
	p.CodeHash = codeHash(r.opts.CodeKey, code.Reveal())
}

// create journals a new payment, drawing a new out_trade_no on the rare
// collision.
func (r *Runner) create(ctx context.Context, p *pos.Payment, reason string) error {
	return r.createWith(ctx, p, reason, nil)
}

// createWith is create with an Idempotency-Key journaled in the same write.
//
// A payment created Submitting is marked on the wire (call) before its
// write, so a resume running meanwhile (the start's, in a Run started a
// moment before) never takes it for one a restart interrupted; the submit
// that follows clears the mark once its answer is journaled.
func (r *Runner) createWith(ctx context.Context, p *pos.Payment, reason string, key *store.IdempotencyKey) error {
	var err error
	for range 3 {
		submitting := p.State == pos.StateSubmitting
		if submitting {
			r.call(p.ID, true)
		}
		err = r.opts.Journal.Append(ctx, store.Change{Payment: *p, Reason: reason, At: p.CreatedAt, Idempotency: key})
		if err != nil && submitting {
			r.call(p.ID, false)
		}
		if err == nil {
			r.notify()
			r.log.Info("payment created", "payment", p.ID, "outTradeNo", p.OutTradeNo, "state", p.State, "amount", p.Amount.String(), "wallet", p.Wallet, "code", p.CodeMasked)
			return nil
		}
		if !pos.Match(pos.Conflict, err) || errors.Is(err, store.ErrKeyUsed) {
			break
		}
		p.OutTradeNo = newOutTradeNo(r.opts.NumberPrefix, r.opts.Clock.Now())
		r.tl.end(p.ID)
		p.ID = newPaymentID()
		r.tl.begin(p.ID)
	}
	r.tl.end(p.ID)
	return fmt.Errorf("flows: journaling new payment: %w", err)
}

// submitMicropay sends the code. The payment is already journaled in
// Submitting, so a crash from here on is resumed by querying.
func (r *Runner) submitMicropay(ctx context.Context, g gateways.Gateway, p pos.Payment, code pos.AuthCode) (pos.Payment, error) {
	crashPoint("micropay.submitted")
	r.call(p.ID, true)
	defer r.call(p.ID, false)
	r.show(ctx, display.Screen{Kind: display.Processing, PaymentID: p.ID, Amount: p.Amount, Wallet: p.Wallet, State: p.State, Message: "Processing…"})
	mp := g.(gateways.Micropayer)
	res, err := callWithTimeout(ctx, g, func(ctx context.Context) (gateways.Result, error) {
		return mp.Micropay(ctx, gateways.MicropayRequest{OutTradeNo: p.OutTradeNo, Amount: p.Amount, Code: code, Description: p.Description})
	})
	crashPoint(CrashMicropayAnswered)
	return r.apply(ctx, p.ID, Input{Kind: Submitted, Result: res, Err: err}, nil)
}

// callWithTimeout bounds one gateway call by the gateway's CallTimeout. The
// call is detached from the caller's cancellation (an HTTP client going away
// must not turn a sent payment into an abandoned one) but not from its
// values.
func callWithTimeout(ctx context.Context, g gateways.Gateway, f func(context.Context) (gateways.Result, error)) (gateways.Result, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timing(g).CallTimeout)
	defer cancel()
	return f(ctx)
}

func timing(g gateways.Gateway) gateways.Timing { return g.Timing().WithDefaults() }

// policy is what Decide knows about gateway g.
func (r *Runner) policy(g gateways.Gateway) Policy {
	return Policy{Timing: timing(g), Caps: g.Capabilities(), Wallets: r.opts.WalletRules}
}

// call marks a submit on the wire (or not) in this process.
func (r *Runner) call(id string, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if on {
		r.calling[id] = true
	} else {
		delete(r.calling, id)
	}
}

func (r *Runner) inCall(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calling[id]
}

// apply runs Decide on the journaled payment and journals the decision,
// retrying on a compare-and-set conflict (another actor changed the payment
// meanwhile: decide again on what is now true). op is the outbox operation
// the input answers, completed in the same write.
func (r *Runner) apply(ctx context.Context, id string, in Input, op *store.Op) (pos.Payment, error) {
	ctx = context.WithoutCancel(ctx) // a decision, once made, is journaled
	// One decision at a time, from reading the payment to journaling the
	// outcome: the journal's compare-and-set sees only the state, so a
	// self-transition (a cancel recorded while the submit is in flight)
	// journaled between another decision's read and its write would be
	// silently overwritten by it, and the cancelled sale kept.
	from, p, err := r.applyOnce(ctx, id, in, op)
	if isWriteFailure(err) && (in.Kind == Submitted || in.Kind == Queried || in.Kind == ReverseAnswered) {
		// The gateway has answered and the answer cannot be journaled
		// (disk full, I/O error). Losing it could strand a charged
		// payment: keep it and retry the write until it is journaled;
		// meanwhile new payments are refused. The caller sees the
		// payment as journaled (pending), as after a crash.
		var opID int64
		if op != nil {
			opID = op.ID
		}
		r.log.Error("journal write failed after the gateway answered; the answer is kept and the write retried", "payment", id, "input", in.Kind, "err", err)
		r.pending.add(r.tl.now(""), id, opID, err, func(ctx context.Context) error {
			from, p, err := r.applyOnce(ctx, id, in, op)
			if err == nil && from != "" {
				r.log.Info("journal write succeeded after retrying", "payment", id, "input", in.Kind, "state", p.State)
				r.afterChange(ctx, from, p)
			}
			return err
		})
		r.poke() // the loop retries it
		return p, nil
	}
	if err != nil || from == "" {
		return p, err
	}
	crashPoint(journaledPoint[in.Kind])
	r.afterChange(ctx, from, p)
	return p, nil
}

// applyOnce is apply's decision and write, under the decision lock.
func (r *Runner) applyOnce(ctx context.Context, id string, in Input, op *store.Op) (pos.State, pos.Payment, error) {
	r.decideMu.Lock()
	defer r.decideMu.Unlock()
	return r.decideAndJournal(ctx, id, in, op)
}

// decideAndJournal is apply's read, Decide and write. It returns the state
// the payment was in and the payment now; from is empty when nothing was
// journaled (a retry, a stale answer, no decision).
func (r *Runner) decideAndJournal(ctx context.Context, id string, in Input, op *store.Op) (from pos.State, _ pos.Payment, _ error) {
	for attempt := 0; ; attempt++ {
		p, err := r.opts.Journal.Payment(ctx, id)
		if err != nil {
			return "", pos.Payment{}, err
		}
		g, ok := r.opts.Gateways[p.Gateway]
		if !ok {
			return "", p, pos.Errorf(pos.Internal, "flows.apply", "payment %s names gateway %q, which is not configured", p.ID, p.Gateway)
		}
		if op != nil && !r.opOutstanding(ctx, p.ID, op.ID) {
			// Another decision (a cancel, a notification) completed this
			// operation while it ran: its answer is stale.
			return "", p, nil
		}
		now := r.tl.now(p.ID)
		d := Decide(p, in, now, r.policy(g))
		if d.Retry {
			if op != nil {
				if err := r.opts.Journal.RetryOp(ctx, op.ID, d.RetryAt, d.LastError); err != nil {
					// Not journaled: the op stays due in the journal, so
					// hold it here until its retry time rather than
					// re-sending it at every tick.
					r.holdOp(op.ID, d.RetryAt)
					return "", p, err
				}
				r.log.Warn("gateway operation will be retried", "payment", p.ID, "op", op.Kind, "attempts", op.Attempts+1, "at", d.RetryAt, "err", d.LastError)
			}
			return "", p, nil
		}
		if d.To == "" {
			// Nothing to change (a stale answer); finish the op if any.
			if op != nil {
				_ = r.opts.Journal.RetryOp(ctx, op.ID, now.Add(timing(g).PollInterval), "no decision for state "+string(p.State))
			}
			return "", p, nil
		}
		c := store.Change{Payment: d.Payment, From: p.State, Reason: d.Reason, Detail: detail(in), At: now, Enqueue: d.Enqueue, Flag: d.Flag}
		if op != nil {
			c.Done = append(c.Done, op.ID)
		}
		if rp, ok := r.opts.Receipts.(ReceiptPlanner); ok && d.To.Final() && !p.State.Final() {
			// The receipts are owed from the moment the state is final:
			// journal them with it (printing follows, in the spool).
			c.Prints = rp.ReceiptJobs(d.Payment)
		}
		if d.To.Final() || (d.To == pos.StateReversing && len(d.Enqueue) > 0) || len(d.Enqueue) > 0 {
			// A final state owes nothing; entering (or re-entering)
			// reversing replaces whatever was owed; any other decision
			// that owes an operation replaces the outstanding ones of the
			// same kind, so one query at a time follows a payment (a
			// notification applied as a query must not start a second
			// polling chain beside the first).
			ops, err := r.opts.Journal.Ops(ctx, p.ID)
			if err != nil {
				return "", p, err
			}
			dropAll := d.To.Final() || d.To == pos.StateReversing
			for _, o := range ops {
				if op != nil && o.ID == op.ID {
					continue
				}
				if dropAll || enqueues(d.Enqueue, o.Kind) {
					c.Done = append(c.Done, o.ID)
				}
			}
		}
		err = r.opts.Journal.Append(ctx, c)
		if pos.Match(pos.Conflict, err) && attempt < 5 {
			continue
		}
		if err != nil {
			return "", p, &writeError{fmt.Errorf("flows: journaling %s -> %s: %w", p.State, d.To, err)}
		}
		if d.Flag != "" {
			r.logFlag(d, p)
		}
		return p.State, d.Payment, nil
	}
}

func enqueues(ops []store.Op, kind store.OpKind) bool {
	for _, o := range ops {
		if o.Kind == kind {
			return true
		}
	}
	return false
}

// logFlag writes the ERROR line a flagged decision owes: the operator (and
// later the metrics) must see every mismatch, alert and late charge.
func (r *Runner) logFlag(d Decision, was pos.Payment) {
	msg := map[pos.Flag]string{
		pos.FlagMismatch:    "answer does not match the journal",
		pos.FlagAlert:       "gateway alert: the operator must act",
		pos.FlagChargedLate: "charged after the till gave up",
	}[d.Flag]
	r.log.Error(msg, "payment", was.ID, "outTradeNo", was.OutTradeNo, "amount", was.Amount.String(), "state", d.Payment.State, "flag", d.Flag, "note", d.Note)
}

// holdOp keeps op id from running again before until, when its retry
// could not be journaled.
func (r *Runner) holdOp(id int64, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.heldOps == nil {
		r.heldOps = map[int64]time.Time{}
	}
	r.heldOps[id] = until
}

// opHeldUntil reports whether op id must not run now, and until when
// (zero: until its answer's write is retried, which wakes the loop).
func (r *Runner) opHeldUntil(id int64, now time.Time) (time.Time, bool) {
	if r.pending.holds(id) {
		return time.Time{}, true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	until, ok := r.heldOps[id]
	if ok && !now.Before(until) {
		delete(r.heldOps, id)
		return time.Time{}, false
	}
	return until, ok
}

func (r *Runner) opOutstanding(ctx context.Context, paymentID string, id int64) bool {
	ops, err := r.opts.Journal.Ops(ctx, paymentID)
	if err != nil {
		return true // let the journal's own check decide
	}
	for _, o := range ops {
		if o.ID == id {
			return true
		}
	}
	return false
}

func detail(in Input) string {
	if in.Err != nil {
		return in.Kind.String() + ": error: " + errMessage(in.Err)
	}
	if in.Result.Detail != "" {
		return in.Kind.String() + ": " + in.Result.Detail
	}
	if in.Kind == Submitted || in.Kind == Queried || in.Kind == ReverseAnswered {
		return in.Kind.String() + ": " + in.Result.Status.String()
	}
	return in.Kind.String()
}

// afterChange tells the world: waiters, the display, the printer, the log.
func (r *Runner) afterChange(ctx context.Context, from pos.State, p pos.Payment) {
	r.notify()
	if p.State != from {
		r.log.Info("payment state", "payment", p.ID, "from", from, "to", p.State, "reason", p.Reason)
	}
	if p.State != pos.StateAwaitingCode {
		r.removeAwaiting(p.ID)
	}
	if p.State.Final() {
		r.tl.end(p.ID)
		r.mu.Lock()
		delete(r.refusals, p.ID)
		r.mu.Unlock()
	}
	switch {
	case p.State.Final():
		r.show(ctx, display.Screen{Kind: display.Result, PaymentID: p.ID, Amount: p.Amount, Wallet: p.Wallet, State: p.State, Message: resultMessage(p)})
		if r.opts.Receipts != nil {
			r.opts.Receipts.PaymentFinal(context.WithoutCancel(ctx), p)
		}
	case p.Method == pos.MerchantQR && p.CancelRequested && p.State != from:
		// Cancelled, and not final yet (closing it, or watching one the
		// gateway cannot close until it expires): the QR must not stay
		// up for the customer to pay.
		r.showWithdrawn(ctx, p)
	case p.State == from:
		// A poll that changed nothing: the screen already says it.
	case p.State == pos.StateUserPaying && p.Method == pos.MerchantQR:
		r.show(ctx, display.Screen{Kind: display.ShowQR, PaymentID: p.ID, Amount: p.Amount, Wallet: p.Wallet, State: p.State, QR: p.CodeURL, Expires: p.Deadline, Message: "Scan to pay with " + p.Wallet.DisplayName()})
	case p.State == pos.StateUserPaying:
		r.show(ctx, display.Screen{Kind: display.Processing, PaymentID: p.ID, Amount: p.Amount, Wallet: p.Wallet, State: p.State, Expires: p.Deadline, Message: "Please confirm the payment on your phone"})
	}
}

// showWithdrawn takes a cancelled merchant QR off the customer display
// while the order is still open at the gateway.
func (r *Runner) showWithdrawn(ctx context.Context, p pos.Payment) {
	r.show(ctx, display.Screen{Kind: display.Withdrawn, PaymentID: p.ID, Amount: p.Amount, Wallet: p.Wallet, State: p.State,
		Message: "Cancelled by the cashier; the order stays open at the gateway until it ends: please do not pay it"})
}

func resultMessage(p pos.Payment) string {
	switch p.State {
	case pos.StateSucceeded:
		return "Payment successful. Thank you!"
	case pos.StateReversed:
		return "Payment cancelled; any charge has been reversed"
	}
	return "Payment failed: " + p.Reason
}

func (r *Runner) show(ctx context.Context, s display.Screen) {
	if r.opts.Display == nil {
		return
	}
	if err := r.opts.Display.Show(ctx, s); err != nil {
		r.log.Warn("display failed", "err", err)
	}
}

// notify wakes everyone waiting for a change.
func (r *Runner) notify() {
	r.mu.Lock()
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Get returns a payment.
func (r *Runner) Get(ctx context.Context, id string) (pos.Payment, error) {
	return r.opts.Journal.Payment(ctx, id)
}

// Events returns a payment's journaled history.
func (r *Runner) Events(ctx context.Context, id string) ([]pos.Event, error) {
	if _, err := r.opts.Journal.Payment(ctx, id); err != nil {
		return nil, err
	}
	return r.opts.Journal.Events(ctx, id)
}

// Recent lists the newest payments.
func (r *Runner) Recent(ctx context.Context, limit int) ([]pos.Payment, error) {
	return r.opts.Journal.Recent(ctx, limit)
}

// Wait returns the payment once its state differs from seen or it is final,
// or when ctx ends (then with the current state and no error).
func (r *Runner) Wait(ctx context.Context, id string, seen pos.State) (pos.Payment, error) {
	for {
		r.mu.Lock()
		ch := r.changed
		r.mu.Unlock()
		p, err := r.opts.Journal.Payment(ctx, id)
		if err != nil || p.State != seen || p.State.Final() {
			return p, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return r.opts.Journal.Payment(context.WithoutCancel(ctx), id)
		}
	}
}

// Cancel asks to stop a payment. A payment still waiting for a code fails
// at once; one that was sent is reversed (or its QR order closed). A final
// payment cannot be cancelled: a succeeded one needs a refund.
func (r *Runner) Cancel(ctx context.Context, id string) (pos.Payment, error) {
	p, err := r.opts.Journal.Payment(ctx, id)
	if err != nil {
		return p, err
	}
	if p.State.Final() {
		return p, pos.Errorf(pos.Conflict, "flows.Cancel", "payment %s is already %s", id, p.State)
	}
	if p.State == pos.StateReversing {
		return p, nil
	}
	before := p.State
	p, err = r.apply(ctx, id, Input{Kind: CancelRequested}, nil)
	if err == nil && p.Method == pos.MerchantQR && p.CancelRequested && !p.State.Final() && p.State == before {
		// A QR order the gateway cannot close stays in its state while it
		// is watched to its expiry, so afterChange sees no change: take
		// the QR off the display here, as soon as the till cancels.
		r.showWithdrawn(ctx, p)
	}
	return p, err
}

// Run resumes every pending payment, then executes outbox operations as they
// fall due and feeds scans to waiting payments, until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.resume(ctx); err != nil {
		return err
	}
	r.recovered.Store(true)
	var wg sync.WaitGroup
	if r.opts.Scans != nil {
		wg.Go(func() { r.scanLoop(ctx) })
	}
	lastResume := r.tl.now("")
	for {
		r.pending.retryDue(ctx, r.tl.now(""))
		next := r.runDue(ctx, &wg)
		if now := r.tl.now(""); now.Sub(lastResume) >= r.opts.ResumeEvery {
			// Payments that nothing carries on (a write failed before
			// their next operation was journaled) are picked up here,
			// not only at the next start.
			lastResume = now
			if err := r.resumeIdle(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("resuming pending payments failed", "err", err)
			}
		}
		r.beats.beat()
		// Wait for what falls due next, not for a tick: every journaled
		// change, a finished operation and the watchdog wake the loop.
		now := r.tl.now("")
		next.at(lastResume.Add(r.opts.ResumeEvery), now)
		if t, ok := r.pending.nextRetry(); ok {
			next.at(t, now)
		}
		if waitDue(ctx, r.opts.Clock, next, r.opts.Tick, r.wake) {
			wg.Wait()
			r.bg.Wait()
			return nil
		}
	}
}

// poke wakes the loop without telling waiters of a change.
func (r *Runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Runner) resume(ctx context.Context) error { return r.resumeWhere(ctx, false) }

// resumeIdle is the periodic resume: as at start, but it leaves alone a
// payment whose submit is on the wire in this process, or was sent less
// than a call timeout ago, or whose answer waits to be journaled.
//
// The start-up resume applies the same rule to a payment begun in this
// process (it has a frame in the timeline): Start may run before or while
// Run starts (the API serves before recovery is done), and such a payment
// is no leftover from a crash, whether its submit is on the wire, its
// answer waits to be journaled, or it was sent a moment ago. Resumed as
// one, a payment in submitting goes unknown ("restarted during submit")
// and the gateway's answer, arriving to a payment no longer submitting,
// is dropped: a merchant QR order created with its code is never shown.
func (r *Runner) resumeIdle(ctx context.Context) error { return r.resumeWhere(ctx, true) }

func (r *Runner) resumeWhere(ctx context.Context, running bool) error {
	pending, err := r.opts.Journal.Pending(ctx)
	if err != nil {
		return fmt.Errorf("flows: listing pending payments: %w", err)
	}
	for _, p := range pending {
		if r.inCall(p.ID) {
			// Its submit is on the wire in this process: not interrupted
			// by a restart, whichever resume this is.
			continue
		}
		if running || r.tl.began(p.ID) {
			if p.State == pos.StateAwaitingCode || r.pending.has(p.ID) {
				continue
			}
			if g, ok := r.opts.Gateways[p.Gateway]; ok && p.State == pos.StateSubmitting && r.tl.now(p.ID).Sub(p.SubmittedAt) < 2*timing(g).CallTimeout {
				continue
			}
		}
		r.log.Info("resuming payment", "payment", p.ID, "state", p.State)
		if p.State == pos.StateAwaitingCode {
			r.addAwaiting(p.ID)
			continue
		}
		ops, err := r.opts.Journal.Ops(ctx, p.ID)
		if err != nil {
			return err
		}
		if p.State != pos.StateSubmitting && len(ops) > 0 {
			continue // its outbox row carries it on
		}
		if _, err := r.apply(ctx, p.ID, Input{Kind: Resumed}, nil); err != nil {
			if running {
				r.log.Error("resuming payment failed", "payment", p.ID, "err", err)
				continue
			}
			return fmt.Errorf("flows: resuming %s: %w", p.ID, err)
		}
	}
	return nil
}

// runDue starts every due outbox operation not already running, and fails
// awaiting payments whose time is up. It returns how soon something falls
// due next, as far as it can see (ResumeEvery ahead).
func (r *Runner) runDue(ctx context.Context, wg *sync.WaitGroup) dueSoonest {
	var next dueSoonest
	// Due in some payment's frame by the horizon; each is then checked
	// against its own payment's frame (timeline.go). One read gives what
	// is due now and what falls due before the next periodic resume, which
	// the loop comes round for anyway.
	ops, err := r.opts.Journal.DueOps(ctx, r.tl.horizon().Add(r.opts.ResumeEvery))
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("reading outbox failed", "err", err)
		}
		next.in(time.Second)
		return next
	}
	for _, op := range ops {
		now := r.tl.now(op.PaymentID)
		if op.NotBefore.After(now) {
			next.at(op.NotBefore, now)
			continue
		}
		if until, held := r.opHeldUntil(op.ID, now); held {
			if !until.IsZero() {
				next.at(until, now)
			}
			continue // a held answer's write retry wakes the loop
		}
		r.mu.Lock()
		busy := r.inflight[op.ID]
		r.inflight[op.ID] = true
		r.mu.Unlock()
		if busy {
			continue // its end wakes the loop
		}
		wg.Go(func() {
			defer r.poke() // look again: the op may still be due
			defer func() { r.mu.Lock(); delete(r.inflight, op.ID); r.mu.Unlock() }()
			if err := r.execute(ctx, op); err != nil && ctx.Err() == nil {
				r.log.Error("outbox operation failed", "payment", op.PaymentID, "op", op.Kind, "err", err)
				// Still due in the journal: not again at once.
				r.holdOp(op.ID, r.tl.now(op.PaymentID).Add(time.Second))
			}
		})
	}
	for _, id := range r.awaitingIDs() {
		p, err := r.opts.Journal.Payment(ctx, id)
		if err != nil || p.State != pos.StateAwaitingCode {
			continue
		}
		now := r.tl.now(id)
		if now.Before(p.Deadline) {
			next.at(p.Deadline, now)
			continue
		}
		if _, err := r.apply(ctx, id, Input{Kind: CodeTimeout}, nil); err != nil {
			r.log.Error("expiring awaiting payment failed", "payment", id, "err", err)
			next.in(time.Second)
		}
	}
	return next
}

// execute performs one outbox operation and journals its outcome.
func (r *Runner) execute(ctx context.Context, op store.Op) error {
	// The outbox was read before this op was marked in flight: the run
	// that just finished it (journaled before it left inflight) may have
	// completed it since. Sending it again would be a second query right
	// after the first, under the gateway's minimum interval.
	if !r.opOutstanding(ctx, op.PaymentID, op.ID) {
		return nil
	}
	p, err := r.opts.Journal.Payment(ctx, op.PaymentID)
	if err != nil {
		return err
	}
	g, ok := r.opts.Gateways[p.Gateway]
	if !ok {
		return pos.Errorf(pos.Internal, "flows.execute", "gateway %q not configured", p.Gateway)
	}
	ref := gateways.OrderRef{OutTradeNo: p.OutTradeNo, TransactionID: p.TransactionID, Wallet: p.Wallet, Method: p.Method, Amount: p.Amount, SubmittedAt: p.SubmittedAt}
	var in Input
	switch op.Kind {
	case store.OpQuery:
		res, err := callWithTimeout(ctx, g, func(ctx context.Context) (gateways.Result, error) { return g.Query(ctx, ref) })
		in = Input{Kind: Queried, Result: res, Err: err, Attempts: op.Attempts}
	case store.OpReverse, store.OpClose:
		res, err := callWithTimeout(ctx, g, func(ctx context.Context) (gateways.Result, error) {
			if op.Kind == store.OpClose {
				if c, ok := g.(gateways.Closer); ok {
					return c.Close(ctx, ref)
				}
			}
			if rv, ok := g.(gateways.Reverser); ok {
				return rv.Reverse(ctx, ref)
			}
			if c, ok := g.(gateways.Closer); ok {
				return c.Close(ctx, ref)
			}
			return gateways.Result{}, pos.Errorf(pos.Internal, "flows.execute", "gateway %s can neither reverse nor close", p.Gateway)
		})
		in = Input{Kind: ReverseAnswered, Result: res, Err: err, Attempts: op.Attempts}
	default:
		return pos.Errorf(pos.Internal, "flows.execute", "unknown outbox operation %q", op.Kind)
	}
	crashPoint(answeredPoint[op.Kind])
	_, err = r.apply(ctx, p.ID, in, &op)
	return err
}

func (r *Runner) addAwaiting(id string) {
	r.mu.Lock()
	r.awaiting[id] = nil
	r.since[id] = r.opts.Clock.Now()
	r.mu.Unlock()
	r.notify()
}

func (r *Runner) removeAwaiting(id string) {
	r.mu.Lock()
	delete(r.awaiting, id)
	delete(r.since, id)
	delete(r.routed, id)
	r.mu.Unlock()
}

// awaitingIDs lists payments waiting for a code, oldest ID order is not
// meaningful, so callers that need the oldest check CreatedAt.
func (r *Runner) awaitingIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.awaiting))
	for id := range r.awaiting {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// oldestAwaiting returns the payment that the next scan belongs to: the
// oldest one waiting for a code.
func (r *Runner) oldestAwaiting(ctx context.Context) (pos.Payment, bool) {
	var best pos.Payment
	found := false
	for _, id := range r.awaitingIDs() {
		p, err := r.opts.Journal.Payment(ctx, id)
		if err != nil || p.State != pos.StateAwaitingCode {
			r.removeAwaiting(id)
			continue
		}
		if !found || p.CreatedAt.Before(best.CreatedAt) {
			best, found = p, true
		}
	}
	return best, found
}

// scanLoop reads scans only while a payment waits for one, so a scan with
// no payment to go to stays in the scanner hub, which holds it briefly and
// then discards it.
func (r *Runner) scanLoop(ctx context.Context) {
	for ctx.Err() == nil {
		r.mu.Lock()
		ch := r.changed
		r.mu.Unlock()
		if _, ok := r.oldestAwaiting(ctx); !ok {
			select {
			case <-ch:
			case <-ctx.Done():
			}
			continue
		}
		// Read with a short horizon so a payment cancelled meanwhile does
		// not keep the loop reading scans for nobody.
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		scan, err := r.opts.Scans.Next(sctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
				r.log.Warn("scanner read failed", "err", err)
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		r.onScan(ctx, scan)
	}
}

// onScan gives a scan to the payment waiting in the scanner's lane (one at
// most; never an older one). A scan that is not a payment code leaves the
// payment waiting and tells the customer (display) and the cashier
// (ScanRefusals) why.
func (r *Runner) onScan(ctx context.Context, scan scanner.Scan) {
	lane := r.laneOf(scan.Source)
	p, ok := r.waitingIn(ctx, lane)
	if !ok {
		r.log.Info("scan discarded: no payment waits for it in its lane", "scan", scan, "lane", lane)
		return
	}
	if r.heldTooLong(p, scan.At) {
		r.log.Info("scan discarded: it was held from before the waiting payment", "payment", p.ID, "scan", scan)
		return
	}
	code, err := pos.ParseAuthCode(scan.Data)
	if err != nil {
		r.log.Info("scan rejected", "payment", p.ID, "scan", scan, "reason", errMessage(err))
		r.refuseScan(p.ID, errMessage(err))
		r.show(ctx, display.Screen{Kind: display.Rejected, PaymentID: p.ID, Amount: p.Amount, State: p.State, Message: errMessage(err) + " — please scan again"})
		return
	}
	p, g := r.routeScanned(p, code.Wallet())
	if !g.Capabilities().Supports(pos.Micropay, code.Wallet()) {
		msg := fmt.Sprintf("%s is not accepted here", code.Wallet().DisplayName())
		r.log.Info("scan rejected", "payment", p.ID, "scan", scan, "reason", msg)
		r.refuseScan(p.ID, msg)
		r.show(ctx, display.Screen{Kind: display.Rejected, PaymentID: p.ID, Amount: p.Amount, Wallet: code.Wallet(), State: p.State, Outcome: display.OutcomeWalletNotAccepted, Message: msg + " — please use another wallet"})
		return
	}
	next := p
	r.stampCode(&next, code)
	now := r.tl.now(p.ID)
	next.State = pos.StateSubmitting
	next.SubmittedAt = now
	next.UpdatedAt = now
	next.Deadline = now.Add(r.policy(g).payTimeout(next.Wallet))
	err = r.opts.Journal.Append(ctx, store.Change{Payment: next, From: pos.StateAwaitingCode, Reason: "code scanned: " + code.Wallet().DisplayName(), Detail: "scan from " + scan.Source, At: now})
	if err != nil {
		r.log.Error("journaling scanned code failed", "payment", p.ID, "err", err)
		return
	}
	r.afterChange(ctx, pos.StateAwaitingCode, next)
	if _, err := r.submitMicropay(ctx, g, next, code); err != nil {
		r.log.Error("submitting scanned payment failed", "payment", p.ID, "err", err)
	}
}
