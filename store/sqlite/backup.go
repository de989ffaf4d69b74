package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/posagent/posagent"
)

// Backup writes a consistent copy of the journal at journal to dest while
// the daemon may be running: SQLite's VACUUM INTO reads one snapshot of the
// WAL database, so every payment in the copy is whole, and the writer is
// never blocked. dest must not exist (a backup never overwrites anything);
// it is created 0600 in place and removed again if the copy fails. The copy
// is checked with PRAGMA integrity_check before Backup returns.
func Backup(ctx context.Context, journal, dest string) error {
	const op = "sqlite.Backup"
	src, err := filepath.Abs(journal)
	if err != nil {
		return pos.E(pos.Invalid, op, err)
	}
	if _, err := os.Stat(src); err != nil {
		return pos.E(pos.NotFound, op, fmt.Errorf("no journal at %s: %w", src, err))
	}
	out, err := filepath.Abs(dest)
	if err != nil {
		return pos.E(pos.Invalid, op, err)
	}
	// Created empty and exclusive: VACUUM INTO accepts an empty file, and
	// so the copy is born owner-only whatever the umask.
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return pos.Errorf(pos.Conflict, op, "%s already exists: a backup never overwrites a file", out)
	}
	if err != nil {
		return pos.E(pos.Unavailable, op, err)
	}
	f.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(out)
		}
	}()

	db, err := sql.Open("sqlite", dsn(src, url.Values{
		"mode":    {"ro"},
		"_pragma": {"busy_timeout(5000)"},
	}))
	if err != nil {
		return pos.E(pos.Internal, op, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, out); err != nil {
		return classify(op, fmt.Errorf("copying %s: %w", src, err))
	}
	if err := CheckIntegrity(ctx, out); err != nil {
		return pos.E(pos.Internal, op, fmt.Errorf("the copy %s failed its check: %w", out, err))
	}
	ok = true
	return nil
}

// CheckIntegrity runs PRAGMA integrity_check on the journal (or a backup)
// at path through a read-only connection; a running daemon is not
// disturbed.
func CheckIntegrity(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", dsn(path, url.Values{"mode": {"ro"}}))
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return errors.New(res)
	}
	return nil
}
