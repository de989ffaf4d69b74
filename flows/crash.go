package flows

import (
	"context"
	"fmt"
	"net/http/httptrace"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/posagent/posagent/store"
)

// Crash points let the crash tests kill the daemon at an exact step, to
// prove that a power cut anywhere loses nothing and charges nothing twice.
//
// Setting the environment variable POSAGENT_CRASHPOINT to a point's name
// makes the process SIGKILL itself the first time it reaches that point;
// "name:N" kills it at the Nth time (N ≥ 1) the process reaches it (counted
// over every payment in the process). SIGKILL gives no chance to clean up,
// like a power cut: no deferred function runs, nothing is flushed that was
// not already synced. Just before dying the process writes one line,
// "posagent: crash point NAME reached: SIGKILL", to its standard error, so
// a test can tell the crash it asked for from any other death.
//
// The variable is read once, when the process starts; a crash point that
// is not armed costs one string comparison. It cannot fire by accident in
// production: only an exact, known name (see CrashPoints) arms it, anything
// else (an empty value, a typo, a bad count) is ignored; posagent never sets
// the variable itself, and the packaged systemd unit starts the daemon with
// its own environment, not a login shell's.
//
// Every point sits at a step where a crash changes what has to happen next.
// The table CrashPoints lists them in the order a payment meets them, with
// what the restarted daemon must then do; cmd/posagent's crash_test.go
// (the crash harness, run verbosely and with more rounds by
// scripts/crashtest.sh) iterates the table, crashes the demo at each point
// with each magic amount that reaches it (a refund point: while refunding a
// payment in full or in part), restarts it on the same state directory and
// checks the journal against the simulator's ledger:
//
//   - every journaled payment ends final;
//   - succeeded in the journal ⇔ SUCCESS (or REFUND) in the ledger;
//     reversed ⇒ REVOKED or CLOSED there (or a tombstone: the reverse of an
//     order the acquirer never received); failed ⇒ never SUCCESS;
//   - the ledger holds no order the journal does not know, at the amount
//     the journal says (out_trade_no is one per payment, so one order per
//     payment);
//   - each magic amount ends as it must after that crash (see the harness's
//     table: a crash before the acquirer saw the order ends reversed, a
//     decline always fails, a payment the acquirer took always succeeds
//     unless it was still unconfirmed at the pay timeout, then it is
//     reversed);
//   - every receipt a final payment owes is printed after the restart;
//   - a refund succeeded in the journal ⇔ the ledger executed it (once:
//     one record per out_refund_no); failed ⇒ the ledger did not; a refund
//     not final holds its amount and is one the ledger did not execute or
//     still holds; the payment's refundable balance in the API is its
//     amount less what the journal's refunds hold, and the ledger never
//     refunds more than the journal holds;
//   - a payment whose cancel was accepted while it was pending never ends
//     succeeded (some cases cancel during the submit; some crash a second
//     time during the recovery).
//
// The harness also asserts that each point in the table is reached by at
// least one scenario, so a point that stops being reachable is noticed. The
// crash campaign (crash_campaign_test.go, sized by scripts/crashtest.sh
// --points) SIGKILLs chains of demos again and again, at random points and
// moments, during bursts of micropays, merchant QR orders, scanned codes,
// refunds and cancels (seeded; a failing chain prints its replay), and
// checks the same invariants.
const crashEnv = "POSAGENT_CRASHPOINT"

// The crash points' names.
const (
	// CrashMicropaySubmitted: the payment is journaled in submitting (with
	// its out_trade_no), the micropay request is not yet sent. Restart:
	// query (never resend); the acquirer never heard of the order, so it
	// stays unknown until the pay timeout and is reversed (the reverse
	// leaves a tombstone that refuses a late submit).
	CrashMicropaySubmitted = "micropay.submitted"
	// CrashMicropayAnswered: the acquirer answered the micropay (or the
	// call gave up), the answer is not journaled. Restart: query; the
	// acquirer's state decides (paid: succeeded, declined: failed, still
	// paying: poll on, then reverse at the pay timeout).
	CrashMicropayAnswered = "micropay.answered"
	// CrashMicropayJournaled: the submit's answer (micropay, or a merchant
	// QR's creation) is journaled, with the outbox rows and receipts it
	// owes; nothing acted on yet (display, waiters, the spool). Restart:
	// the outbox carries on; a final state's receipts print.
	CrashMicropayJournaled = "micropay.journaled"
	// CrashQueryAnswered: an outbox query was answered, the answer is not
	// journaled. Restart: query again (a query changes nothing at the
	// acquirer but its count).
	CrashQueryAnswered = "outbox.query.answered"
	// CrashQueryJournaled: a query's answer (or a notification, applied as
	// one) is journaled, not yet acted on. Restart: the outbox carries on.
	CrashQueryJournaled = "outbox.query.journaled"
	// CrashReverseAnswered: the acquirer answered a reverse (or a merchant
	// QR order's close), the answer is not journaled: the order may be
	// reversed while the journal says reversing. Restart: reverse again
	// (reversing a reversed order is accepted).
	CrashReverseAnswered = "outbox.reverse.answered"
	// CrashReverseJournaled: the reverse's answer is journaled (reversed,
	// or a follow-up query owed). Restart: the outbox carries on.
	CrashReverseJournaled = "outbox.reverse.journaled"
	// CrashSpoolPrinted: the printer took a receipt, its job is not yet
	// marked printed. Restart: that receipt prints again (a duplicate beats
	// a lost receipt).
	CrashSpoolPrinted = "spool.printed"

	// The refund path's points, in the order a refund meets them.

	// CrashRefundSubmitted: the refund is journaled in submitting (with
	// its out_refund_no, holding its amount), the refund request is not
	// yet sent. Restart: query, never send it again. The gateway never
	// heard of it, and "no such refund" proves nothing (the request could
	// still arrive), so it stays unknown, holding its amount, queried with
	// backoff until a query or the bill settles it: never freed by a
	// timer, never refunded twice.
	CrashRefundSubmitted = "refund.submitted"
	// CrashRefundSent: the refund request reached the gateway, which acted
	// on it and is answering (the answer's first byte arrived), the answer
	// is not read. Restart: query; the gateway's record decides.
	CrashRefundSent = "refund.sent"
	// CrashRefundAnswered: the gateway answered the refund (or the same
	// refund sent again), the answer is not journaled. Restart: query.
	CrashRefundAnswered = "refund.answered"
	// CrashRefundFinal: a refund answer (submit, query or resend) was
	// decided final (succeeded, failed, attention), the decision is not
	// journaled: the journal still says submitting, processing or unknown,
	// with its query owed. Restart: query again; the same final answer.
	CrashRefundFinal = "refund.final"
)

// CrashPoint describes one crash point for the crash harness and readers.
type CrashPoint struct {
	Name string
	// Where is the step at which the process dies.
	Where string
}

// CrashPoints lists every crash point, in the order a payment meets them,
// then the refund path's in the order a refund meets them.
var CrashPoints = []CrashPoint{
	{CrashMicropaySubmitted, "micropay journaled in submitting, before it is sent"},
	{CrashMicropayAnswered, "micropay answered by the gateway, before the answer is journaled"},
	{CrashMicropayJournaled, "submit's answer journaled, before display, waiters and receipts act on it"},
	{CrashQueryAnswered, "outbox query answered, before the answer is journaled"},
	{CrashQueryJournaled, "query's answer journaled, before anything acts on it"},
	{CrashReverseAnswered, "reverse (or close) answered, before the answer is journaled"},
	{CrashReverseJournaled, "reverse's answer journaled, before anything acts on it"},
	{CrashSpoolPrinted, "receipt taken by the printer, before it is marked printed"},
	{CrashRefundSubmitted, "refund journaled in submitting, before it is sent"},
	{CrashRefundSent, "refund request taken by the gateway, its answer arriving, before it is read"},
	{CrashRefundAnswered, "refund answered by the gateway, before the answer is journaled"},
	{CrashRefundFinal, "refund decided final, before it is journaled final"},
}

// journaledPoint names the crash point right after the answer to an
// input of that kind is journaled; answeredPoint the one right after an
// outbox operation of that kind is answered. Kinds without a point map to
// "", which never fires.
var (
	journaledPoint = map[InputKind]string{
		Submitted:       CrashMicropayJournaled,
		Queried:         CrashQueryJournaled,
		ReverseAnswered: CrashReverseJournaled,
	}
	answeredPoint = map[store.OpKind]string{
		store.OpQuery:   CrashQueryAnswered,
		store.OpReverse: CrashReverseAnswered,
		store.OpClose:   CrashReverseAnswered,
	}
)

// armedCrash is the crash point named in the environment at start, if any.
var armedCrash = parseCrashSpec(os.Getenv(crashEnv))

type crashSpec struct {
	name string // "" when nothing is armed
	nth  int64  // fire at this hit (≥ 1)
	hits atomic.Int64
}

// parseCrashSpec reads "name" or "name:N". Anything but a known name and a
// positive count arms nothing.
func parseCrashSpec(v string) *crashSpec {
	s := &crashSpec{}
	name, count, hasCount := strings.Cut(v, ":")
	n := int64(1)
	if hasCount {
		var err error
		n, err = strconv.ParseInt(count, 10, 64)
		if err != nil || n < 1 {
			return s
		}
	}
	for _, p := range CrashPoints {
		if p.Name == name {
			s.name, s.nth = name, n
		}
	}
	return s
}

// crashPoint kills the process with SIGKILL when POSAGENT_CRASHPOINT armed
// this point and this is the hit it named. Unarmed, it costs a comparison.
func crashPoint(name string) {
	s := armedCrash
	if s.name == "" || s.name != name || s.hits.Add(1) != s.nth {
		return
	}
	// The process is about to vanish; there is no logger to hand. The line
	// tells the crash tests which death this was.
	fmt.Fprintf(os.Stderr, "posagent: crash point %s reached: SIGKILL\n", name)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // never continue past a crash point
}

// crashWhenSent returns ctx with a hook that reaches crash point name once
// the gateway has taken an HTTP request made with it and its answer starts
// to arrive (the first byte), before the answer is read: the gateway acted
// on the request, the process dies not knowing what it did. (The trace's
// WroteRequest comes too early for this: net/http calls it before it
// flushes its buffer, so a small request killed there never leaves the
// process.) Unless that point is armed, ctx is returned as it is, so an
// unarmed call carries no trace; the hook is composed with any the
// transport adds (gateways.Do's own).
func crashWhenSent(ctx context.Context, name string) context.Context {
	if armedCrash.name != name {
		return ctx
	}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotFirstResponseByte: func() { crashPoint(name) },
	})
}
