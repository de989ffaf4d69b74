package sqlite

import (
	"context"
	"errors"

	"github.com/posagent/posagent"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// classify wraps err as a pos.Error whose kind says what the caller can do.
// This is where SQLite's result codes are translated; nothing above this
// package sees a driver error type.
//
//   - BUSY/LOCKED (another writer held the lock past busy_timeout), a
//     cancelled context, an interrupted statement, a full disk or a file that
//     cannot be opened: Unavailable. The transaction was rolled back, so
//     retrying is safe.
//   - a UNIQUE or PRIMARY KEY violation: Conflict (the row exists).
//   - any other constraint (CHECK, NOT NULL, FOREIGN KEY, a trigger's
//     RAISE): Invalid.
//   - everything else, I/O errors and corruption included: Internal. An
//     I/O error during commit does not say reliably whether the write
//     reached the disk, so it is not offered as retryable.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *pos.Error
	if errors.As(err, &pe) {
		return err // classified already, where it was raised
	}
	return pos.E(kindOf(err), op, err)
}

func kindOf(err error) pos.Kind {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return pos.Unavailable
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return pos.Internal
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return pos.Conflict
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
		return pos.Unavailable
	case sqlite3.SQLITE_CONSTRAINT:
		return pos.Invalid
	}
	return pos.Internal
}
