package flows

import (
	"sync"
	"time"
)

// timeline schedules a running process by its steady clock while the
// journal keeps wall-clock times.
//
// The journal's times (not_before, deadlines, answered_at) are wall times,
// so a restart, which has no monotonic reading from before, reads them
// against the wall clock as it is then. Within a run, the wall clock may be
// stepped (NTP correcting a dead RTC, an operator's date command); compared
// with a stepped clock, a query due in 5 s would fire an hour late or at
// once, and a pay timeout would reverse too early or too late.
//
// So each payment (in the refund runner, each refund) is decided and
// scheduled in its own frame: the wall clock as it read when the payment
// began in this process (or when the runner started, for a payment
// journaled before), advanced by the steady clock since. Every time journaled for the payment during the run is in
// that frame, which is the wall clock unless a step happened during the
// payment's life, and then differs from it by that step only: its times
// stay consistent with each other, and only its receipts may show the time
// as it was before the step. The frame is dropped when the payment is
// final. Without a steady reading (a Clock that is not a SteadyClock),
// every frame is the wall clock.
type timeline struct {
	clock  Clock
	steady SteadyClock // nil: no steady reading; nothing is compensated
	w0     time.Time   // the wall clock at start, without its monotonic reading
	s0     time.Duration

	mu     sync.Mutex
	frames map[string]time.Duration // payment ID → step when it began here
}

func newTimeline(c Clock) *timeline {
	t := &timeline{clock: c, frames: map[string]time.Duration{}}
	if s, ok := c.(SteadyClock); ok {
		t.steady = s
		// Round(0): the wall reading alone. A time.Time from time.Now()
		// carries a monotonic reading too, and Sub between two such times
		// would use it, hiding the very step we measure.
		t.w0, t.s0 = c.Now().Round(0), s.Steady()
	}
	return t
}

// read returns the wall clock and how far it has been stepped since the
// runner started: wall time elapsed minus steady time elapsed.
func (t *timeline) read() (wall time.Time, step time.Duration) {
	wall = t.clock.Now()
	if t.steady == nil {
		return wall, 0
	}
	s := t.steady.Steady()
	wall = wall.Round(0)
	return wall, wall.Sub(t.w0) - (s - t.s0)
}

// begin starts payment id's frame (a payment created in this process) and
// returns the time to stamp it with: the wall clock.
func (t *timeline) begin(id string) time.Time {
	wall, step := t.read()
	t.mu.Lock()
	t.frames[id] = step
	t.mu.Unlock()
	return wall
}

// began reports whether payment id began in this process and is not final
// yet (it has a frame of its own). The start-up resume leaves such a
// payment to what this process is doing with it: it is no leftover from
// before the restart, whatever state the journal shows it in.
func (t *timeline) began(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.frames[id]
	return ok
}

// end drops a final payment's frame.
func (t *timeline) end(id string) {
	t.mu.Lock()
	delete(t.frames, id)
	t.mu.Unlock()
}

// now is the time to decide and schedule payment id by (see timeline);
// "" (or a payment from before this run) is the runner's start frame.
func (t *timeline) now(id string) time.Time {
	wall, step := t.read()
	if t.steady == nil {
		return wall
	}
	t.mu.Lock()
	at := t.frames[id]
	t.mu.Unlock()
	return wall.Add(at - step)
}

// horizon is the latest now over every frame: an outbox operation due in
// any frame is due by it (each is then checked against its own frame).
func (t *timeline) horizon() time.Time {
	wall, step := t.read()
	if t.steady == nil {
		return wall
	}
	var latest time.Duration // the start frame's
	t.mu.Lock()
	for _, at := range t.frames {
		latest = max(latest, at)
	}
	t.mu.Unlock()
	return wall.Add(latest - step)
}
