// Package sqlite is the SQLite journal: store.Journal, store.PrintQueue and
// the store's other interfaces (refunds, idempotency keys, the outbox admin,
// kept reconciliations, retention's Pruner) on a single database file,
// using modernc.org/sqlite (pure Go, registered as driver "sqlite").
//
// Durability: the database runs in WAL mode with synchronous=FULL, so a
// committed Append has been fsync'd before it returns. The one exception is
// MarkPrinted, committed lazily (commits.go): losing a "printed" mark to a
// power cut only prints the receipt again, and the next durable commit
// makes it durable. Every write goes
// through one connection and starts with BEGIN IMMEDIATE, which takes the
// write lock up front; two writers (goroutines, or a second process on the
// same file) queue on busy_timeout instead of failing halfway through a
// transaction. Reads use a separate pool of query-only connections, which
// WAL lets run while a write is in progress.
//
// Encoding: times are INTEGER Unix nanoseconds (an instant; they come back
// in UTC) and the zero time.Time is NULL, so every time round-trips exactly,
// including "not yet". Money is minor units plus an ISO 4217 currency.
//
// The schema lives in migrations/NNN_name.sql, embedded in the binary and
// applied in order at Open, one transaction each.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"

	_ "modernc.org/sqlite" // registers driver "sqlite"
)

var _ store.Journal = (*DB)(nil)

// Options configures Open. The zero value is valid and means every default.
type Options struct {
	// BusyTimeout is how long a write waits for a lock held by another
	// connection or process before it fails with a pos.Unavailable error.
	// SQLite counts it in whole milliseconds. Default 5s.
	BusyTimeout time.Duration
	// MaxReaders bounds the pool of read-only connections used by the
	// query methods. Default 4.
	MaxReaders int
	// Logger receives notices about schema migrations; errors are returned,
	// not logged. Default: discard.
	Logger *slog.Logger
}

// Defaults applied by Open to zero fields of Options.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultMaxReaders  = 4
)

func (o Options) withDefaults() (Options, error) {
	const op = "sqlite.Open"
	if o.BusyTimeout < 0 {
		return o, pos.Errorf(pos.Invalid, op, "BusyTimeout %v is negative", o.BusyTimeout)
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.BusyTimeout < time.Millisecond {
		return o, pos.Errorf(pos.Invalid, op, "BusyTimeout %v is below SQLite's resolution of 1ms", o.BusyTimeout)
	}
	if o.MaxReaders < 0 {
		return o, pos.Errorf(pos.Invalid, op, "MaxReaders %d is negative", o.MaxReaders)
	}
	if o.MaxReaders == 0 {
		o.MaxReaders = DefaultMaxReaders
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// DB is an open journal. It is safe for concurrent use.
type DB struct {
	path string
	w    *sql.DB // the one writer connection
	r    *sql.DB // query-only readers
	log  *slog.Logger
	busy time.Duration // Options.BusyTimeout

	ws *stmtCache // the writer's statements, run through begin or wq
	rs *stmtCache // the readers' statements, run through rq
	wq prepared   // writes outside a transaction
	rq prepared   // reads

	// lazy is set while a commit runs with synchronous=NORMAL (lazyWrite);
	// the commit hook counts commits by it.
	lazy           atomic.Bool
	durableCommits atomic.Int64
	lazyCommits    atomic.Int64
}

// Open opens (creating if needed) the journal at path and brings its schema
// up to date. It refuses a database whose schema is newer than this binary
// knows, and one whose applied migrations differ from the embedded ones.
func Open(path string, opts Options) (*DB, error) {
	const op = "sqlite.Open"
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		// A journal that is not a plain file would not survive the process,
		// and the read pool could not see the writer's database.
		return nil, pos.Errorf(pos.Invalid, op, "journal path %q must be a file name", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, pos.E(pos.Invalid, op, err)
	}
	ms, err := loadMigrations()
	if err != nil {
		return nil, pos.E(pos.Internal, op, err)
	}

	lock, err := lockForOpen(abs)
	if err != nil {
		return nil, pos.E(pos.Unavailable, op, err)
	}
	defer lock.release()
	if err := ownerOnly(abs); err != nil {
		return nil, pos.E(pos.Unavailable, op, err)
	}

	busy := strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)
	w, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {
			"busy_timeout(" + busy + ")",
			"journal_mode(WAL)",
			"synchronous(FULL)",
			"foreign_keys(on)",
		},
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return nil, pos.E(pos.Internal, op, err)
	}
	// One writer: writes from this process queue in database/sql rather than
	// contending for SQLite's lock; the connection is kept open for the
	// life of the DB so its pragmas stay in effect.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	db := &DB{path: abs, w: w, log: opts.Logger, busy: opts.BusyTimeout}
	if err := db.migrate(context.Background(), ms); err != nil {
		w.Close()
		return nil, err
	}

	// Readers are opened after migrating, so the file exists and is in WAL
	// mode already; query_only makes an accidental write through them fail.
	r, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {
			"busy_timeout(" + busy + ")",
			"foreign_keys(on)",
			"query_only(1)",
		},
	}))
	if err != nil {
		w.Close()
		return nil, pos.E(pos.Internal, op, err)
	}
	r.SetMaxOpenConns(opts.MaxReaders)
	r.SetMaxIdleConns(opts.MaxReaders)
	if err := r.Ping(); err != nil {
		w.Close()
		r.Close()
		return nil, classify(op, err)
	}
	db.r = r
	db.ws, db.rs = newStmtCache(w), newStmtCache(r)
	db.wq, db.rq = prepared{c: db.ws}, prepared{c: db.rs}
	if err := db.countCommits(); err != nil {
		db.Close()
		return nil, pos.E(pos.Internal, op, err)
	}
	return db, nil
}

// dsn builds a "file:" URI the driver and SQLite both understand: the path
// is escaped (a '?' or '#' in a directory name stays part of the name) and
// the driver's own parameters follow.
func dsn(abs string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// Close closes both pools. An Append already in its transaction completes;
// calls made after Close fail. The last connection to close checkpoints the
// WAL into the database file.
func (db *DB) Close() error {
	var errR error
	if db.ws != nil {
		db.ws.close()
		db.rs.close()
	}
	if db.r != nil {
		errR = db.r.Close()
	}
	errW := db.w.Close()
	if errW != nil {
		return pos.E(pos.Internal, "sqlite.Close", errW)
	}
	if errR != nil {
		return pos.E(pos.Internal, "sqlite.Close", errR)
	}
	return nil
}

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded schema step; version is its NNN prefix.
type migration struct {
	version int
	name    string // file name without ".sql"
	sql     string
}

// loadMigrations reads the embedded migrations and checks they are numbered
// 1, 2, 3... with no gap or duplicate, so "version N" means one thing.
func loadMigrations() ([]migration, error) {
	return parseMigrations(migrationFS, "migrations")
}

func parseMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir) // sorted by name
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".sql")
		if !ok {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 3 {
			return nil, fmt.Errorf("migration %s: name must be NNN_name.sql", e.Name())
		}
		if want := len(ms) + 1; v != want {
			return nil, fmt.Errorf("migration %s: version %d, want %d (versions are 1, 2, 3... without gaps)", e.Name(), v, want)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	return ms, nil
}

// SchemaVersion is the newest schema version this code knows.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate applies every migration the database lacks, each in its own
// immediate transaction together with its schema_migrations row, so a crash
// leaves the database at a whole version. Two processes opening the same
// file at once serialise on the write lock, and the second sees the first's
// work when it re-reads the version inside its transaction.
func (db *DB) migrate(ctx context.Context, ms []migration) error {
	const op = "sqlite.Open"
	// In an immediate transaction: as a plain statement it starts as a read
	// and upgrades to a write, which SQLite refuses at once (SQLITE_BUSY,
	// no busy wait) when another process migrated in between. The BEGIN
	// itself can meet SQLITE_BUSY without a busy wait while another
	// process is switching a new file to WAL, so it is retried for as long
	// as busy_timeout would have waited.
	tx, err := db.w.BeginTx(ctx, nil)
	for wait := time.Now().Add(db.busy); err != nil && pos.KindOf(classify(op, err)) == pos.Unavailable && time.Now().Before(wait) && ctx.Err() == nil; {
		time.Sleep(10 * time.Millisecond)
		tx, err = db.w.BeginTx(ctx, nil)
	}
	if err != nil {
		return classify(op, err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		tx.Rollback()
		return classify(op, err)
	}
	if err := tx.Commit(); err != nil {
		return classify(op, err)
	}
	for {
		done, err := db.migrateOne(ctx, ms)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next missing migration, reporting done when there
// is none.
func (db *DB) migrateOne(ctx context.Context, ms []migration) (done bool, err error) {
	const op = "sqlite.Open"
	// A migration that rebuilds a table other rows reference runs with
	// foreign keys off (SQLite's documented way to rebuild a table; the
	// pragma is a no-op inside a transaction), on the one writer
	// connection, and checks them before it commits. Which migration needs
	// it is only known after reading the version, so the pragma is set for
	// every step and restored after it.
	fkOff := false
	for _, m := range ms {
		if strings.HasPrefix(m.sql, foreignKeysOffMarker) {
			fkOff = true
		}
	}
	if fkOff {
		if _, err := db.w.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return false, classify(op, err)
		}
		defer func() {
			if _, e := db.w.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); e != nil && err == nil {
				done, err = false, classify(op, e)
			}
		}()
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false, classify(op, err)
	}
	defer tx.Rollback()

	applied, err := appliedMigrations(ctx, tx)
	if err != nil {
		return false, classify(op, err)
	}
	if len(applied) > len(ms) {
		last := applied[len(applied)-1]
		return false, pos.Errorf(pos.Internal, op,
			"journal %s has schema version %d (%s) but this posagent knows only up to %d: refusing to open a journal written by a newer version",
			db.path, last.version, last.name, len(ms))
	}
	for i, a := range applied {
		if a.version != ms[i].version || a.name != ms[i].name {
			return false, pos.Errorf(pos.Internal, op,
				"journal %s has migration %d %q where this posagent has %q: the schema has diverged",
				db.path, a.version, a.name, ms[i].name)
		}
	}
	if len(applied) == len(ms) {
		return true, nil
	}

	m := ms[len(applied)]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, classify(op, fmt.Errorf("migration %s: %w", m.name, err))
	}
	if strings.HasPrefix(m.sql, foreignKeysOffMarker) {
		if err := checkForeignKeys(ctx, tx); err != nil {
			return false, pos.E(pos.Internal, op, fmt.Errorf("migration %s: %w", m.name, err))
		}
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, time.Now().UnixNano()); err != nil {
		return false, classify(op, err)
	}
	if err := tx.Commit(); err != nil {
		return false, classify(op, err)
	}
	db.log.Info("journal migrated", "path", db.path, "version", m.version, "migration", m.name)
	return false, nil
}

// foreignKeysOffMarker opens a migration that must run with foreign keys
// off (it rebuilds a referenced table).
const foreignKeysOffMarker = "-- posagent:foreign_keys_off"

// checkForeignKeys fails when any row references a missing row: what the
// foreign keys would have refused, checked once at the end of a migration
// that ran without them.
func checkForeignKeys(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("foreign key check: a row of %s (rowid %d) references a missing row of %s", table, rowid.Int64, parent)
	}
	return rows.Err()
}

func appliedMigrations(ctx context.Context, q querier) ([]migration, error) {
	rows, err := q.QueryContext(ctx, `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []migration
	for rows.Next() {
		var m migration
		if err := rows.Scan(&m.version, &m.name); err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// querier is what *sql.DB and *sql.Tx share for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
