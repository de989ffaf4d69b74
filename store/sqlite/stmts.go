package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// stmtCache keeps every statement the journal runs prepared, keyed by its
// SQL text, so a query is compiled once per connection rather than on
// every call: neither database/sql nor the driver caches statements, and
// compiling was the largest single cost of a journal write (a sixth of the
// daemon's CPU under load, the 2026-12-01 performance review).
//
// A statement is prepared on db, and database/sql re-prepares it on each
// further connection of the pool the first time it runs there, then keeps
// it. The writer pool has one connection, which a transaction holds: a
// statement first met inside a transaction cannot be prepared on db then
// (it would wait for the connection the transaction holds), so it runs
// unprepared that once and is prepared before the next write begins
// (prepareWanted).
type stmtCache struct {
	db *sql.DB

	mu   sync.Mutex
	m    map[string]*sql.Stmt
	want map[string]bool // met inside a transaction, not prepared yet

	prepares atomic.Int64 // statements prepared (for tests)
	misses   atomic.Int64 // statements run unprepared (for tests)
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, want: map[string]bool{}}
}

// get returns query's statement, preparing it when mayPrepare (not inside
// a transaction on a pool whose only connection the transaction holds). A
// failed prepare returns nil: the caller runs the query unprepared, which
// reports the same error the prepare met.
func (c *stmtCache) get(ctx context.Context, query string, mayPrepare bool) *sql.Stmt {
	c.mu.Lock()
	s := c.m[query]
	if s == nil && !mayPrepare {
		c.want[query] = true
	}
	c.mu.Unlock()
	if s != nil {
		return s
	}
	if !mayPrepare {
		c.misses.Add(1)
		return nil
	}
	return c.prepare(ctx, query)
}

// prepare prepares query without holding the lock: preparing waits for a
// connection, and a transaction holding one may need the lock meanwhile.
func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	s, err := c.db.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		c.misses.Add(1)
		return nil
	}
	c.prepares.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.want, query)
	if prev := c.m[query]; prev != nil {
		s.Close() // prepared meanwhile by another caller
		return prev
	}
	c.m[query] = s
	return s
}

// prepareWanted prepares the statements met inside transactions since the
// last call. Writes call it before they begin.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	if len(c.want) == 0 {
		c.mu.Unlock()
		return
	}
	qs := make([]string, 0, len(c.want))
	for q := range c.want {
		qs = append(qs, q)
	}
	c.mu.Unlock()
	for _, q := range qs {
		c.prepare(ctx, q)
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		s.Close()
		delete(c.m, q)
	}
}

// prepared runs queries through a stmtCache, inside tx when it is set. It
// is a querier and has ExecContext, so every journal method takes it where
// it took a *sql.DB or *sql.Tx.
type prepared struct {
	c  *stmtCache
	tx *sql.Tx
}

func (p prepared) stmt(ctx context.Context, query string) *sql.Stmt {
	s := p.c.get(ctx, query, p.tx == nil)
	if s != nil && p.tx != nil {
		// The transaction's connection has it prepared already (one
		// writer connection) or prepares it now and keeps it.
		s = p.tx.StmtContext(ctx, s)
	}
	return s
}

func (p prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	if p.tx != nil {
		return p.tx.QueryContext(ctx, query, args...)
	}
	return p.c.db.QueryContext(ctx, query, args...)
}

func (p prepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := p.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	if p.tx != nil {
		return p.tx.QueryRowContext(ctx, query, args...)
	}
	return p.c.db.QueryRowContext(ctx, query, args...)
}

func (p prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := p.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	if p.tx != nil {
		return p.tx.ExecContext(ctx, query, args...)
	}
	return p.c.db.ExecContext(ctx, query, args...)
}

// begin starts a write transaction (BEGIN IMMEDIATE, from the DSN) and
// returns it with the prepared statements to run in it.
func (db *DB) begin(ctx context.Context) (*sql.Tx, prepared, error) {
	db.ws.prepareWanted(ctx)
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, prepared{}, err
	}
	return tx, prepared{c: db.ws, tx: tx}, nil
}
