package flows

import "time"

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
