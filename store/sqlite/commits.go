package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"modernc.org/sqlite"
)

// Commits counts the write transactions committed through this DB since
// Open, as SQLite's commit hook on the writer connection reports them:
// durable ones (synchronous=FULL: fsync'd before they returned) and lazy
// ones (see MarkPrinted). Tests count a payment's commits with it; the
// benchmarks report fsyncs per payment from it.
type Commits struct {
	Durable, Lazy int64
}

// Commits returns the commits counted so far.
func (db *DB) Commits() Commits {
	return Commits{Durable: db.durableCommits.Load(), Lazy: db.lazyCommits.Load()}
}

// Prepares reports how many statements were prepared and how many ran
// unprepared since Open (for tests: every statement is prepared once per
// connection, and one first met inside a transaction runs unprepared that
// once).
func (db *DB) Prepares() (prepared, unprepared int64) {
	return db.ws.prepares.Load() + db.rs.prepares.Load(), db.ws.misses.Load() + db.rs.misses.Load()
}

// countCommits registers the commit hook on the one writer connection. The
// connection is kept for the life of the DB (no idle or lifetime limit); if
// database/sql ever replaced it, the new one would not be counted, which
// is why lazyWrite discards it only when it cannot restore durability.
func (db *DB) countCommits() error {
	conn, err := db.w.Conn(context.Background())
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		h, ok := dc.(sqlite.HookRegisterer)
		if !ok {
			return fmt.Errorf("driver connection %T has no commit hook", dc)
		}
		h.RegisterCommitHook(func() int32 {
			if db.lazy.Load() {
				db.lazyCommits.Add(1)
			} else {
				db.durableCommits.Add(1)
			}
			return 0 // 0: let the commit go ahead
		})
		return nil
	})
}

// lazyWrite runs fn in a write transaction committed with
// synchronous=NORMAL: in WAL mode the commit is written to the WAL (so it
// survives the process being killed, the OS has it) but not fsync'd; the
// next durable commit's fsync, or a checkpoint, makes it durable too,
// since one fsync of the WAL covers every frame before it. A power cut
// before then can lose it, and only it: the transaction is still atomic.
// This is for bookkeeping whose loss repeats harmless work (a receipt
// printed again), never for a state change an external action depends on.
func (db *DB) lazyWrite(ctx context.Context, fn func(q prepared) error) (err error) {
	db.ws.prepareWanted(ctx)
	conn, err := db.w.Conn(ctx) // the one writer connection, held until done
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return err
	}
	db.lazy.Store(true)
	defer func() {
		db.lazy.Store(false)
		// Every other write relies on synchronous=FULL: when it cannot be
		// restored the connection is discarded, and database/sql opens a
		// new one from the DSN, which sets FULL again.
		if _, e := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); e != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("restoring synchronous=FULL: %w", e))
		}
	}()
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE, from the DSN
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(prepared{c: db.ws, tx: tx}); err != nil {
		return err
	}
	return tx.Commit()
}
