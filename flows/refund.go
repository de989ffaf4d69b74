package flows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/hw/display"
	"github.com/posagent/posagent/store"
)

// RefundJournal is what the refund runner needs from the journal (the
// SQLite journal implements it).
type RefundJournal interface {
	store.RefundJournal
	Payment(ctx context.Context, id string) (pos.Payment, error)
}

// RefundReceiptPlanner is implemented by a receipt sink that journals
// refund receipts (the Spool): its jobs are journaled with the refund's
// final state, then it is woken to print them.
type RefundReceiptPlanner interface {
	RefundReceiptJobs(r pos.Refund) []store.PrintJob
	Wake()
}

// RefundOptions configures a RefundRunner. Journal and Gateways are
// required.
type RefundOptions struct {
	Journal RefundJournal
	// Gateways by configured name, as the payment Runner has them; a
	// refund goes to its payment's gateway.
	Gateways map[string]gateways.Gateway
	// Receipts journals and prints refund receipts. Nil: none.
	Receipts RefundReceiptPlanner
	// Display shows the customer a refund that went through. Nil: none.
	Display display.Display
	Clock   Clock        // default SystemClock
	Logger  *slog.Logger // default: discard
	// Tick, when set, bounds how long the loop waits between looks at the
	// refund outbox; by default it waits for the next query due, woken by
	// every journaled change (as the Runner's Tick).
	Tick time.Duration
	// NumberPrefix is this till's prefix in every refund number, as in
	// Options.NumberPrefix. Empty: a random one for the life of the runner.
	NumberPrefix string
	// ResumeEvery is how often pending refunds that nothing carries on are
	// resumed, besides at start (default 30 s).
	ResumeEvery time.Duration
}

// RefundRunner drives refunds: it journals each one before sending it,
// sends it once, and queries every refund whose answer is lost or still
// processing until the gateway says what became of it, across restarts.
type RefundRunner struct {
	o   RefundOptions
	log *slog.Logger

	mu       sync.Mutex
	changed  chan struct{}
	inflight map[int64]bool
	held     map[int64]time.Time // ops that failed without an answer -> not before
	wake     chan struct{}
	// pending keeps answers whose journal write failed, retried until
	// journaled; meanwhile new refunds are refused.
	pending pendingWrites
	// recovered: Run's start-up resume is done (Recovered)
	recovered atomic.Bool
	calling   map[string]bool // refunds whose submit is on the wire
	tl        *timeline       // scheduling by the steady clock, per refund (timeline.go)
}

// NewRefundRunner validates o and returns a RefundRunner. Call Run to
// follow refunds up.
func NewRefundRunner(o RefundOptions) (*RefundRunner, error) {
	switch {
	case o.Journal == nil:
		return nil, errors.New("flows: RefundOptions.Journal is required")
	case len(o.Gateways) == 0:
		return nil, errors.New("flows: RefundOptions needs at least one gateway")
	case o.Tick < 0 || o.ResumeEvery < 0:
		return nil, errors.New("flows: RefundOptions durations must not be negative")
	}
	if o.NumberPrefix == "" {
		o.NumberPrefix = NewNumberPrefix()
	}
	if err := CheckNumberPrefix(o.NumberPrefix); err != nil {
		return nil, fmt.Errorf("flows: RefundOptions.NumberPrefix: %w", err)
	}
	if o.ResumeEvery == 0 {
		o.ResumeEvery = 30 * time.Second
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &RefundRunner{o: o, log: o.Logger, changed: make(chan struct{}), inflight: map[int64]bool{}, held: map[int64]time.Time{}, wake: make(chan struct{}, 1), calling: map[string]bool{},
		tl: newTimeline(o.Clock)}, nil
}

// RefundRequest asks to refund a succeeded payment.
type RefundRequest struct {
	PaymentID string
	// Amount is in the payment's currency; zero refunds all that is left.
	Amount pos.Money
	// Reason is sent to the gateway and printed; at most MaxRefundReason
	// bytes.
	Reason string
	// Idempotency, when set, is journaled in the same write as the new
	// refund (store.RefundChange.Idempotency).
	Idempotency *store.IdempotencyKey
	// Void asks to take the whole payment back by a void of the sale
	// where its gateway offers one now (gateways.Voider.Voidable: Allinpay,
	// the same acquirer day) and nothing of it was refunded yet; else by a
	// refund of all that is left. The refund's Method says which. Amount
	// must then be zero.
	Void bool
}

// MaxRefundReason bounds a refund's reason (Allinpay takes 256 characters;
// a reason is a few words).
const MaxRefundReason = 80

// Refund validates req, journals the refund in submitting with a fresh
// out_refund_no, sends it once and journals the answer. It returns the
// refund as it stands after the answer: succeeded, failed, or pending (a
// lost answer or a refund still processing, followed up by Run). A gateway
// that cannot refund is pos.Invalid; an unknown payment pos.NotFound; a
// payment that is not succeeded, or an amount above what is left to
// refund, pos.Conflict. Nothing is journaled for a refused request.
func (rr *RefundRunner) Refund(ctx context.Context, req RefundRequest) (pos.Refund, error) {
	const op = "flows.Refund"
	if len(req.Reason) > MaxRefundReason {
		return pos.Refund{}, pos.Errorf(pos.Invalid, op, "reason is longer than %d bytes", MaxRefundReason)
	}
	if err := rr.pending.blocked(op, "refunds"); err != nil {
		return pos.Refund{}, err
	}
	p, err := rr.o.Journal.Payment(ctx, req.PaymentID)
	if err != nil {
		return pos.Refund{}, err
	}
	g, ok := rr.o.Gateways[p.Gateway]
	if !ok {
		return pos.Refund{}, pos.Errorf(pos.Invalid, op, "payment %s was taken through gateway %q, which is not configured", p.ID, p.Gateway)
	}
	caps := g.Capabilities()
	if _, ok := g.(gateways.Refunder); !ok || !caps.Refund {
		return pos.Refund{}, pos.Errorf(pos.Invalid, op, "gateway %s cannot refund", p.Gateway)
	}
	if !pos.Refundable(p) {
		return pos.Refund{}, pos.Errorf(pos.Conflict, op, "payment %s is %s; only a succeeded payment can be refunded (or one charged after the till gave up)", p.ID, p.State)
	}
	bal, err := rr.balance(ctx, p)
	if err != nil {
		return pos.Refund{}, err
	}
	amount := req.Amount
	switch {
	case amount.Minor == 0 && amount.Currency == "":
		amount = bal.Left
		if amount.Minor <= 0 {
			return pos.Refund{}, pos.Errorf(pos.Conflict, op, "payment %s has nothing left to refund (paid %s, refunded or pending %s)", p.ID, p.Amount, bal.Held)
		}
	case amount.Currency != p.Amount.Currency:
		return pos.Refund{}, pos.Errorf(pos.Invalid, op, "refund in %s of a payment in %s", amount.Currency, p.Amount.Currency)
	case amount.Minor <= 0:
		return pos.Refund{}, pos.Errorf(pos.Invalid, op, "refund amount must be positive")
	}
	if amount.Minor < p.Amount.Minor && !caps.PartialRefund {
		return pos.Refund{}, pos.Errorf(pos.Invalid, op, "gateway %s refunds only whole payments (%s)", p.Gateway, p.Amount)
	}
	id := newRefundID()
	now := rr.tl.begin(id)
	method := pos.RefundByRefund
	if req.Void {
		if req.Amount != (pos.Money{}) {
			return pos.Refund{}, pos.Errorf(pos.Invalid, op, "a void takes the whole payment back: it has no amount")
		}
		// A void cancels the whole sale: only of a payment that stands
		// succeeded, with nothing refunded or pending, on a day the
		// gateway still voids it.
		if v, ok := g.(gateways.Voider); ok && p.State == pos.StateSucceeded && bal.Held.Minor == 0 &&
			v.Voidable(refundRequest(p, pos.Refund{}).Order, now) {
			method = pos.RefundByVoid
		}
	}
	r := pos.Refund{
		ID: id, PaymentID: p.ID, OutRefundNo: newOutRefundNo(rr.o.NumberPrefix, now),
		Amount: amount, Reason: req.Reason, State: pos.RefundSubmitting,
		CreatedAt: now, UpdatedAt: now, SubmittedAt: now, Method: method,
	}
	rr.call(r.ID, true)
	defer rr.call(r.ID, false)
	if err := rr.create(ctx, &r, req.Idempotency); err != nil {
		rr.tl.end(id)
		return pos.Refund{}, err
	}
	// Journaled: from here a crash is resumed by querying.
	crashPoint(CrashRefundSubmitted)
	res, err := callWithTimeout(ctx, g, func(ctx context.Context) (gateways.Result, error) {
		return send(g, r)(crashWhenSent(ctx, CrashRefundSent), refundRequest(p, r))
	})
	crashPoint(CrashRefundAnswered)
	return rr.apply(ctx, r.ID, RefundInput{Kind: RefundSubmitted, Result: res, Err: err, OutTradeNo: p.OutTradeNo}, nil)
}

// gatewayCall is one refund operation of a gateway.
type gatewayCall func(context.Context, gateways.RefundRequest) (gateways.Result, error)

// send is the call that sends r: the gateway's refund, or its void for a
// void record (the gateway was a Voider when r was created; one that no
// longer is gets an Internal error, an unknown outcome that is queried).
func send(g gateways.Gateway, r pos.Refund) gatewayCall {
	if r.Method == pos.RefundByVoid {
		if v, ok := g.(gateways.Voider); ok {
			return v.Void
		}
		return noVoid
	}
	return g.(gateways.Refunder).Refund
}

// ask is the call that asks what became of r.
func ask(g gateways.Gateway, r pos.Refund) gatewayCall {
	if r.Method == pos.RefundByVoid {
		if v, ok := g.(gateways.Voider); ok {
			return v.QueryVoid
		}
		return noVoid
	}
	return g.(gateways.Refunder).QueryRefund
}

func noVoid(context.Context, gateways.RefundRequest) (gateways.Result, error) {
	return gateways.Result{}, pos.Errorf(pos.Internal, "flows.void", "the gateway no longer voids: the void's outcome cannot be asked")
}

func (rr *RefundRunner) call(id string, on bool) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if on {
		rr.calling[id] = true
	} else {
		delete(rr.calling, id)
	}
}

func (rr *RefundRunner) inCall(id string) bool {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.calling[id]
}

// create journals a new refund; the journal checks, in the same write, that
// it fits. A clash of out_refund_no (4 random digits a second) draws a new
// one.
func (rr *RefundRunner) create(ctx context.Context, r *pos.Refund, key *store.IdempotencyKey) error {
	if key != nil && key.CreatedAt.IsZero() {
		k := *key
		k.CreatedAt = r.CreatedAt
		key = &k
	}
	var err error
	for range 3 {
		reason := "refund requested: " + r.Amount.String()
		if r.Method == pos.RefundByVoid {
			reason = "void of the sale requested: " + r.Amount.String()
		}
		err = rr.o.Journal.AppendRefund(ctx, store.RefundChange{Refund: *r, Reason: reason, At: r.CreatedAt, Idempotency: key})
		if err == nil {
			rr.notify()
			rr.log.Info("refund created", "refund", r.ID, "payment", r.PaymentID, "outRefundNo", r.OutRefundNo, "amount", r.Amount.String(), "method", r.Method.OrRefund())
			return nil
		}
		if !errors.Is(err, store.ErrNumberUsed) {
			return err
		}
		r.OutRefundNo = newOutRefundNo(rr.o.NumberPrefix, rr.o.Clock.Now())
	}
	return err
}

func refundRequest(p pos.Payment, r pos.Refund) gateways.RefundRequest {
	return gateways.RefundRequest{
		Order:       gateways.OrderRef{OutTradeNo: p.OutTradeNo, TransactionID: p.TransactionID, Wallet: p.Wallet, Method: p.Method, Amount: p.Amount, SubmittedAt: p.SubmittedAt},
		OutRefundNo: r.OutRefundNo,
		Amount:      r.Amount,
		Reason:      r.Reason,
	}
}

// apply decides on the journaled refund and journals the decision,
// retrying on a compare-and-set conflict. op is the outbox query the input
// answers, completed in the same write.
func (rr *RefundRunner) apply(ctx context.Context, id string, in RefundInput, op *store.RefundOp) (pos.Refund, error) {
	ctx = context.WithoutCancel(ctx)
	r, err := rr.applyOnce(ctx, id, in, op)
	if isWriteFailure(err) && in.Kind != RefundResumed {
		// The gateway answered and the answer cannot be journaled: keep
		// it and retry the write; meanwhile new refunds are refused.
		var opID int64
		if op != nil {
			opID = op.ID
		}
		rr.log.Error("journal write failed after the gateway answered a refund; the answer is kept and the write retried", "refund", id, "input", in.Kind, "err", err)
		rr.pending.add(rr.tl.now(""), id, opID, err, func(ctx context.Context) error {
			r, err := rr.applyOnce(ctx, id, in, op)
			if err == nil {
				rr.log.Info("refund journal write succeeded after retrying", "refund", id, "state", r.State)
			}
			return err
		})
		rr.poke() // the loop retries it
		return r, nil
	}
	return r, err
}

// applyOnce is apply's decision and write.
func (rr *RefundRunner) applyOnce(ctx context.Context, id string, in RefundInput, op *store.RefundOp) (pos.Refund, error) {
	for attempt := 0; ; attempt++ {
		r, err := rr.o.Journal.Refund(ctx, id)
		if err != nil {
			return pos.Refund{}, err
		}
		p, err := rr.o.Journal.Payment(ctx, r.PaymentID)
		if err != nil {
			return r, err
		}
		g, ok := rr.o.Gateways[p.Gateway]
		if !ok {
			return r, pos.Errorf(pos.Internal, "flows.applyRefund", "refund %s: gateway %q is not configured", r.ID, p.Gateway)
		}
		ops, err := rr.o.Journal.RefundOps(ctx, r.ID)
		if err != nil {
			return r, err
		}
		if op != nil && !containsOp(ops, op.ID) {
			return r, nil // another decision completed it: the answer is stale
		}
		now := rr.tl.now(r.ID)
		in.OutTradeNo = p.OutTradeNo
		d := DecideRefund(r, in, now, refundTiming(g.Timing()))
		if d.Flag != "" {
			rr.logFlag(d, r, p)
		}
		if d.To == "" {
			return r, nil
		}
		c := store.RefundChange{Refund: d.Refund, From: r.State, Reason: d.Reason, Detail: refundDetail(in), At: now, Flag: d.Flag}
		// Whatever was owed is answered or replaced by this decision.
		for _, o := range ops {
			c.Done = append(c.Done, o.ID)
		}
		if !d.QueryAt.IsZero() {
			c.Enqueue = []store.RefundOp{{Kind: store.RefundOpQuery, NotBefore: d.QueryAt}}
		}
		if !d.ResendAt.IsZero() {
			c.Enqueue = append(c.Enqueue, store.RefundOp{Kind: store.RefundOpResend, NotBefore: d.ResendAt})
		}
		if d.To.Final() && rr.o.Receipts != nil {
			c.Prints = rr.o.Receipts.RefundReceiptJobs(d.Refund)
		}
		if d.To.Final() && !r.State.Final() {
			crashPoint(CrashRefundFinal)
		}
		err = rr.o.Journal.AppendRefund(ctx, c)
		if pos.Match(pos.Conflict, err) && attempt < 5 {
			continue
		}
		if err != nil {
			return r, &writeError{fmt.Errorf("flows: journaling refund %s %s -> %s: %w", r.ID, r.State, d.To, err)}
		}
		rr.notify()
		if d.To.Final() {
			rr.tl.end(r.ID)
		}
		if d.To != r.State {
			rr.log.Info("refund state", "refund", r.ID, "payment", r.PaymentID, "from", r.State, "to", d.To, "reason", d.Reason)
		}
		if d.To.Final() && rr.o.Receipts != nil {
			rr.o.Receipts.Wake()
		}
		if d.To == pos.RefundSucceeded && r.State != d.To && rr.o.Display != nil {
			if err := rr.o.Display.Show(ctx, display.Screen{Kind: display.Refunded, PaymentID: r.PaymentID, Amount: d.Refund.Amount}); err != nil {
				rr.log.Warn("display failed", "err", err)
			}
		}
		return d.Refund, nil
	}
}

// logFlag writes the ERROR line a flagged refund decision owes.
func (rr *RefundRunner) logFlag(d RefundDecision, r pos.Refund, p pos.Payment) {
	msg := "answer does not match the journal"
	if d.Flag == pos.FlagAlert {
		msg = "gateway alert: the operator must act"
	}
	rr.log.Error(msg, "refund", r.ID, "outRefundNo", r.OutRefundNo, "payment", p.ID, "outTradeNo", p.OutTradeNo, "amount", r.Amount.String(), "flag", d.Flag, "note", d.Note)
}

func containsOp(ops []store.RefundOp, id int64) bool {
	for _, o := range ops {
		if o.ID == id {
			return true
		}
	}
	return false
}

func refundDetail(in RefundInput) string {
	if in.Err != nil {
		return in.Kind.String() + ": error: " + errMessage(in.Err)
	}
	if in.Result.Detail != "" {
		return in.Kind.String() + ": " + in.Result.Detail
	}
	if in.Kind == RefundResumed {
		return in.Kind.String()
	}
	return in.Kind.String() + ": " + in.Result.Status.String()
}

// Run resumes every pending refund, then makes refund queries as they fall
// due, until ctx ends.
func (rr *RefundRunner) Run(ctx context.Context) error {
	if err := rr.resume(ctx); err != nil {
		return err
	}
	rr.recovered.Store(true)
	var wg sync.WaitGroup
	lastResume := rr.tl.now("")
	for {
		rr.pending.retryDue(ctx, rr.tl.now(""))
		next := rr.runDue(ctx, &wg)
		if now := rr.tl.now(""); now.Sub(lastResume) >= rr.o.ResumeEvery {
			lastResume = now
			if err := rr.resumeWhere(ctx, true); err != nil && ctx.Err() == nil {
				rr.log.Error("resuming pending refunds failed", "err", err)
			}
		}
		now := rr.tl.now("")
		next.at(lastResume.Add(rr.o.ResumeEvery), now)
		if t, ok := rr.pending.nextRetry(); ok {
			next.at(t, now)
		}
		if waitDue(ctx, rr.o.Clock, next, rr.o.Tick, rr.wake) {
			wg.Wait()
			return nil
		}
	}
}

// poke wakes the loop.
func (rr *RefundRunner) poke() {
	select {
	case rr.wake <- struct{}{}:
	default:
	}
}

// Recovered reports whether Run has resumed every refund the journal held
// pending when it started.
func (rr *RefundRunner) Recovered() bool { return rr.recovered.Load() }

// resume gives every pending refund without a query owed one: a refund
// caught in submitting is queried, never sent again.
func (rr *RefundRunner) resume(ctx context.Context) error { return rr.resumeWhere(ctx, false) }

// resumeWhere resumes pending refunds; running (the periodic resume)
// leaves alone a refund whose submit is on the wire in this process, was
// sent less than two call timeouts ago, or whose answer waits to be
// journaled. So does the start-up resume for a refund begun in this
// process (Refund called before or while Run starts): it is no leftover
// from a crash, and resuming it would drop the gateway's answer.
func (rr *RefundRunner) resumeWhere(ctx context.Context, running bool) error {
	pending, err := rr.o.Journal.PendingRefunds(ctx)
	if err != nil {
		return fmt.Errorf("flows: listing pending refunds: %w", err)
	}
	for _, r := range pending {
		// A refund on the wire in this process was not interrupted by a
		// restart, whichever resume this is (the start's can run while the
		// first refunds are made); nor is one begun in this process whose
		// answer waits to be journaled or that was sent a moment ago.
		if rr.inCall(r.ID) || (running || rr.tl.began(r.ID)) && (rr.pending.has(r.ID) || (r.State == pos.RefundSubmitting && rr.tl.now(r.ID).Sub(r.SubmittedAt) < 2*time.Minute)) {
			continue
		}
		ops, err := rr.o.Journal.RefundOps(ctx, r.ID)
		if err != nil {
			return err
		}
		if r.State != pos.RefundSubmitting && len(ops) > 0 {
			continue // its outbox row carries it on
		}
		rr.log.Info("resuming refund", "refund", r.ID, "state", r.State)
		if _, err := rr.apply(ctx, r.ID, RefundInput{Kind: RefundResumed}, nil); err != nil {
			if running {
				rr.log.Error("resuming refund failed", "refund", r.ID, "err", err)
				continue
			}
			return fmt.Errorf("flows: resuming refund %s: %w", r.ID, err)
		}
	}
	return nil
}

func (rr *RefundRunner) runDue(ctx context.Context, wg *sync.WaitGroup) dueSoonest {
	var next dueSoonest
	// What is due now and what falls due before the next periodic resume,
	// in some refund's frame; each is then checked against its own.
	ops, err := rr.o.Journal.DueRefundOps(ctx, rr.tl.horizon().Add(rr.o.ResumeEvery))
	if err != nil {
		if ctx.Err() == nil {
			rr.log.Error("reading refund outbox failed", "err", err)
		}
		next.in(time.Second)
		return next
	}
	for _, op := range ops {
		now := rr.tl.now(op.RefundID)
		if op.NotBefore.After(now) {
			next.at(op.NotBefore, now)
			continue
		}
		if rr.pending.holds(op.ID) {
			continue // its write retry wakes the loop
		}
		rr.mu.Lock()
		busy, until := rr.inflight[op.ID], rr.held[op.ID]
		if !busy && !until.IsZero() && now.Before(until) {
			rr.mu.Unlock()
			next.at(until, now)
			continue
		}
		delete(rr.held, op.ID)
		rr.inflight[op.ID] = true
		rr.mu.Unlock()
		if busy {
			continue // its end wakes the loop
		}
		wg.Go(func() {
			defer rr.poke() // look again: the op may still be due
			defer func() { rr.mu.Lock(); delete(rr.inflight, op.ID); rr.mu.Unlock() }()
			if err := rr.query(ctx, op); err != nil && ctx.Err() == nil {
				rr.log.Error("refund query failed", "refund", op.RefundID, "err", err)
				// Still due in the journal: not again at once.
				rr.mu.Lock()
				rr.held[op.ID] = rr.tl.now(op.RefundID).Add(time.Second)
				rr.mu.Unlock()
			}
		})
	}
	return next
}

// query asks the gateway about a refund (or, for a resend op, sends the
// same refund again) and journals the answer.
func (rr *RefundRunner) query(ctx context.Context, op store.RefundOp) error {
	r, err := rr.o.Journal.Refund(ctx, op.RefundID)
	if err != nil {
		return err
	}
	p, err := rr.o.Journal.Payment(ctx, r.PaymentID)
	if err != nil {
		return err
	}
	g, ok := rr.o.Gateways[p.Gateway]
	if !ok {
		return pos.Errorf(pos.Internal, "flows.queryRefund", "gateway %q not configured", p.Gateway)
	}
	if _, ok := g.(gateways.Refunder); !ok {
		return pos.Errorf(pos.Internal, "flows.queryRefund", "gateway %s cannot refund", p.Gateway)
	}
	kind := RefundQueried
	res, err := callWithTimeout(ctx, g, func(ctx context.Context) (gateways.Result, error) {
		if op.Kind == store.RefundOpResend {
			kind = RefundResent
			rr.log.Info("sending the refund again, as the gateway asked", "refund", r.ID, "outRefundNo", r.OutRefundNo, "method", r.Method.OrRefund())
			return send(g, r)(crashWhenSent(ctx, CrashRefundSent), refundRequest(p, r))
		}
		return ask(g, r)(ctx, refundRequest(p, r))
	})
	if kind == RefundResent {
		crashPoint(CrashRefundAnswered)
	}
	_, err = rr.apply(ctx, r.ID, RefundInput{Kind: kind, Result: res, Err: err, OutTradeNo: p.OutTradeNo}, &op)
	return err
}

func (rr *RefundRunner) notify() {
	rr.mu.Lock()
	close(rr.changed)
	rr.changed = make(chan struct{})
	rr.mu.Unlock()
	select {
	case rr.wake <- struct{}{}:
	default:
	}
}

// GetRefund returns a refund.
func (rr *RefundRunner) GetRefund(ctx context.Context, id string) (pos.Refund, error) {
	return rr.o.Journal.Refund(ctx, id)
}

// WaitRefund returns the refund once its state differs from seen or it is
// final, or when ctx ends (then as it stands, without an error).
func (rr *RefundRunner) WaitRefund(ctx context.Context, id string, seen pos.RefundState) (pos.Refund, error) {
	for {
		rr.mu.Lock()
		ch := rr.changed
		rr.mu.Unlock()
		r, err := rr.o.Journal.Refund(ctx, id)
		if err != nil || r.State != seen || r.State.Final() {
			return r, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return rr.o.Journal.Refund(context.WithoutCancel(ctx), id)
		}
	}
}

// RefundJobs returns a refund's receipts, printed or pending; an unknown
// refund is pos.NotFound.
func (rr *RefundRunner) RefundJobs(ctx context.Context, id string) ([]store.PrintJob, error) {
	if _, err := rr.o.Journal.Refund(ctx, id); err != nil {
		return nil, err
	}
	return rr.o.Journal.RefundPrintJobs(ctx, id)
}

// RefundBalance is a payment's refunds and what is left to refund of it.
type RefundBalance struct {
	Payment pos.Payment
	Refunds []pos.Refund // oldest first
	// Refunded sums the succeeded refunds; Pending those not final;
	// Attention those needing the operator (Swiftpass CHANGE), which keep
	// holding their amount; Held is all three; Left what may still be
	// refunded (zero unless pos.Refundable: succeeded, or charged late).
	Refunded, Pending, Attention, Held, Left pos.Money
}

// PaymentRefunds returns a payment's refunds and balance; an unknown
// payment is pos.NotFound.
func (rr *RefundRunner) PaymentRefunds(ctx context.Context, paymentID string) (RefundBalance, error) {
	p, err := rr.o.Journal.Payment(ctx, paymentID)
	if err != nil {
		return RefundBalance{}, err
	}
	return rr.balance(ctx, p)
}

func (rr *RefundRunner) balance(ctx context.Context, p pos.Payment) (RefundBalance, error) {
	rs, err := rr.o.Journal.RefundsOf(ctx, p.ID)
	if err != nil {
		return RefundBalance{}, err
	}
	cur := p.Amount.Currency
	b := RefundBalance{Payment: p, Refunds: rs, Refunded: pos.Money{Currency: cur}, Pending: pos.Money{Currency: cur}, Held: pos.Money{Currency: cur}, Left: pos.Money{Currency: cur}}
	b.Attention = pos.Money{Currency: cur}
	for _, r := range rs {
		switch {
		case r.State == pos.RefundSucceeded:
			b.Refunded.Minor += r.Amount.Minor
		case r.State == pos.RefundAttention:
			b.Attention.Minor += r.Amount.Minor
		case !r.State.Final():
			b.Pending.Minor += r.Amount.Minor
		}
	}
	b.Held.Minor = b.Refunded.Minor + b.Pending.Minor + b.Attention.Minor
	if pos.Refundable(p) {
		b.Left.Minor = max(0, p.Amount.Minor-b.Held.Minor)
	}
	return b, nil
}

// newRefundID returns "ref_" and 16 random hex digits.
func newRefundID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "ref_" + hex.EncodeToString(b[:])
}
