package flows

import (
	"context"
	"time"
)

// Clock is the runner's source of time, injected so tests control it.
type Clock interface {
	Now() time.Time
}

// SteadyClock is a Clock that can also read a clock that setting the time
// does not move. The runner schedules by it when its Clock has one (see
// timeline): a query or reverse due in 5 s is due 5 s from now whatever
// the wall clock does meanwhile.
type SteadyClock interface {
	Clock
	// Steady is the time elapsed since a fixed origin on a clock that
	// wall-clock steps do not move (it may be slewed, as CLOCK_MONOTONIC
	// is by NTP, but never jumps).
	Steady() time.Duration
}

// SystemClock is the wall clock, with Go's monotonic clock as its steady
// reading.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// processStart is the origin of SystemClock.Steady. It must keep its
// monotonic reading: never Round(0) or serialise it.
var processStart = time.Now()

// Steady is the monotonic time since the process started: time.Since
// subtracts the monotonic readings of both times.
func (SystemClock) Steady() time.Duration { return time.Since(processStart) }

// TimerClock is a Clock that can also wait. The runners wait on it for
// the next item due (an outbox operation, a payment's deadline, a write to
// retry) instead of waking at a fixed tick: a test's fake clock that
// implements it drives their idle waiting by fake time. A Clock that does
// not is waited on by the wall clock, checked at least every Tick (200 ms
// unless set), as the runners did before.
type TimerClock interface {
	Clock
	// NewTimer returns a timer that fires once, after d.
	NewTimer(d time.Duration) Timer
}

// Timer is a TimerClock's one-shot timer.
type Timer interface {
	C() <-chan time.Time
	// Stop stops the timer; it reports whether it had not fired yet.
	Stop() bool
}

// NewTimer returns a time.Timer (which runs on the monotonic clock).
func (SystemClock) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

type sysTimer struct{ t *time.Timer }

func (t sysTimer) C() <-chan time.Time { return t.t.C }
func (t sysTimer) Stop() bool          { return t.t.Stop() }

// legacyTick is how often a loop whose Clock cannot wait checks its work.
const legacyTick = 200 * time.Millisecond

// dueSoonest collects how soon something falls due. It holds a duration,
// not a time: each payment's times are in its own frame (timeline.go).
type dueSoonest struct {
	d  time.Duration
	ok bool
}

// in notes something due in d.
func (x *dueSoonest) in(d time.Duration) {
	if !x.ok || d < x.d {
		x.d, x.ok = d, true
	}
}

// at notes something due at t, read against now (t's frame).
func (x *dueSoonest) at(t, now time.Time) { x.in(t.Sub(now)) }

// waitDue waits until next is due, a wake-up or the end of ctx, and
// reports whether ctx ended. bound (when positive) caps the wait:
// Options.Tick. A Clock that cannot wait is waited on by the wall clock, at
// most bound or legacyTick at a time. Nothing due (next not set) waits for
// a wake-up only, within bound.
func waitDue(ctx context.Context, clk Clock, next dueSoonest, bound time.Duration, wake <-chan struct{}) bool {
	tc, timers := clk.(TimerClock)
	if !timers && bound <= 0 {
		bound = legacyTick
	}
	d := time.Duration(-1) // no timer
	if next.ok {
		d = max(next.d, 0)
	}
	if bound > 0 && (d < 0 || d > bound) {
		d = bound
	}
	var fire <-chan time.Time
	if d >= 0 {
		var t Timer
		if timers {
			t = tc.NewTimer(d)
		} else {
			t = SystemClock{}.NewTimer(d)
		}
		defer t.Stop()
		fire = t.C()
	}
	select {
	case <-ctx.Done():
		return true
	case <-fire:
	case <-wake:
	}
	return false
}
