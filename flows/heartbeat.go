package flows

import (
	"context"
	"sync"
)

// heartbeat lets a supervisor (the systemd watchdog) ask whether the
// runner's loop is still going round: the loop beats once per iteration,
// after it has read the outbox from the journal, and a supervisor waits for
// the next beat. A loop wedged in a journal call or a deadlock stops
// beating, so the supervisor stops vouching for the process.
type heartbeat struct {
	mu   sync.Mutex
	next chan struct{} // closed by the next beat
}

func (h *heartbeat) wait() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.next == nil {
		h.next = make(chan struct{})
	}
	return h.next
}

func (h *heartbeat) beat() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.next != nil {
		close(h.next)
		h.next = nil
	}
}

// Alive wakes the runner's loop and waits, at most until ctx ends, for it
// to complete one more iteration (which reads the journal's outbox). It
// returns ctx's error when the loop did not come round in time.
func (r *Runner) Alive(ctx context.Context) error {
	beat := r.beats.wait()
	select {
	case r.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
	select {
	case <-beat:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
