package flows

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/posagent/posagent"
)

// writeError marks a journal write that failed after its decision was made
// (disk full, an I/O error): the decision is kept in memory and the write
// retried, rather than lost.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// isWriteFailure reports whether err, met while journaling a decision, is
// worth retrying: the write failed, or the reads around it did (a journal
// on a full or failing disk fails both ways). Not a conflict (another
// decision came first, decided again at once), an invalid change (a bug)
// or a missing row.
func isWriteFailure(err error) bool {
	if err == nil {
		return false
	}
	var we *writeError
	if errors.As(err, &we) {
		err = we.err
	}
	switch pos.KindOf(err) {
	case pos.Conflict, pos.Invalid, pos.NotFound:
		return false
	}
	return true
}

// pendingWrites holds decisions whose journal write failed after the
// gateway was called, so an answer (a charge, a refund) is never lost to a
// full disk: each is retried with backoff until it is journaled, and while
// any waits, new payments (or refunds) are refused with pos.Unavailable.
// The outbox operation an answer belongs to is held too, so it is not run
// again meanwhile.
type pendingWrites struct {
	mu    sync.Mutex
	items []*pendingWrite
	held  map[int64]bool // outbox op IDs whose answer waits here
	err   error          // the last write failure
	since time.Time
}

type pendingWrite struct {
	key      string // payment or refund ID
	opID     int64  // the outbox op the answer completes; 0 for none
	retry    func(ctx context.Context) error
	attempts int
	next     time.Time
}

// add keeps a failed write for retrying.
func (pw *pendingWrites) add(now time.Time, key string, opID int64, err error, retry func(ctx context.Context) error) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if len(pw.items) == 0 {
		pw.since = now
	}
	pw.err = err
	pw.items = append(pw.items, &pendingWrite{key: key, opID: opID, retry: retry, next: now.Add(pendingBackoff(0))})
	if opID != 0 {
		if pw.held == nil {
			pw.held = map[int64]bool{}
		}
		pw.held[opID] = true
	}
}

// pendingBackoff is the wait before the attempt-th retry of a write:
// 100 ms doubling to 5 s. The disk is local: retrying often is cheap.
func pendingBackoff(attempt int) time.Duration {
	d := 100 * time.Millisecond
	for range attempt {
		if d >= 5*time.Second {
			break
		}
		d *= 2
	}
	return min(d, 5*time.Second)
}

// nextRetry is when the next write is due to be retried.
func (pw *pendingWrites) nextRetry() (time.Time, bool) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	var next time.Time
	for i, it := range pw.items {
		if i == 0 || it.next.Before(next) {
			next = it.next
		}
	}
	return next, len(pw.items) > 0
}

// holds reports whether op id's answer is waiting here.
func (pw *pendingWrites) holds(id int64) bool {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	return pw.held[id]
}

// has reports whether a write for key waits here.
func (pw *pendingWrites) has(key string) bool {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	for _, it := range pw.items {
		if it.key == key {
			return true
		}
	}
	return false
}

// blocked returns the error new work is refused with while writes wait.
func (pw *pendingWrites) blocked(op, what string) error {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if len(pw.items) == 0 {
		return nil
	}
	return pos.Errorf(pos.Unavailable, op, "the journal cannot be written (%v): new %s are refused until the %d answer(s) already received are journaled", pw.err, what, len(pw.items))
}

// retryDue retries every write that is due, in the order they failed. A
// retry that fails with a write failure again waits longer; any other
// outcome (journaled, or no longer needed) drops it.
func (pw *pendingWrites) retryDue(ctx context.Context, now time.Time) {
	pw.mu.Lock()
	var due []*pendingWrite
	for _, it := range pw.items {
		if !now.Before(it.next) {
			due = append(due, it)
		}
	}
	pw.mu.Unlock()
	for _, it := range due {
		err := it.retry(ctx)
		pw.mu.Lock()
		if isWriteFailure(err) {
			it.attempts++
			it.next = now.Add(pendingBackoff(it.attempts))
			pw.err = err
			pw.mu.Unlock()
			continue
		}
		for i, x := range pw.items {
			if x == it {
				pw.items = append(pw.items[:i], pw.items[i+1:]...)
				break
			}
		}
		if it.opID != 0 {
			delete(pw.held, it.opID)
		}
		pw.mu.Unlock()
	}
}
