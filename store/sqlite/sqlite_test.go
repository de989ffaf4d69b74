package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/posagent/posagent"
)

// openTest opens a fresh journal in a temporary directory and closes it
// when the test ends.
func openTest(t testing.TB) *DB {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "journal.db"), Options{})
}

func openAt(t testing.TB, path string, opts Options) *DB {
	t.Helper()
	db, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPragmasInEffect(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "j.db"), Options{BusyTimeout: 1234 * time.Millisecond})
	ctx := t.Context()
	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "1234"},
		{"foreign_keys", "1"},
		{"query_only", "0"},
	} {
		t.Run(tc.pragma, func(t *testing.T) {
			var got string
			if err := db.w.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("writer PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
			}
		})
	}
	// The readers refuse writes, so only the writer can change the journal.
	var qo string
	if err := db.r.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qo); err != nil || qo != "1" {
		t.Errorf("reader PRAGMA query_only = %q, %v; want 1", qo, err)
	}
	if _, err := db.r.ExecContext(ctx, "DELETE FROM payments"); err == nil {
		t.Error("reader pool accepted a write")
	}
}

func TestWriterUsesImmediateTransactions(t *testing.T) {
	// With _txlock=immediate, BEGIN takes the write lock at once: a second
	// connection cannot start a write until the first transaction ends.
	path := filepath.Join(t.TempDir(), "j.db")
	a := openAt(t, path, Options{})
	b := openAt(t, path, Options{BusyTimeout: 10 * time.Millisecond})
	tx, err := a.w.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// tx has not written anything yet; a deferred BEGIN would hold no lock.
	err = b.Append(t.Context(), create(samplePayment("pay_busy")))
	if !pos.Match(pos.Unavailable, err) {
		t.Fatalf("Append while another connection holds the write lock: %v, want pos.Unavailable", err)
	}
	tx.Rollback()
	if err := b.Append(t.Context(), create(samplePayment("pay_busy"))); err != nil {
		t.Fatalf("Append after the lock is released: %v", err)
	}
}

func TestOpenOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		path string
		opts Options
		kind pos.Kind
	}{
		{"empty path", "", Options{}, pos.Invalid},
		{"memory", ":memory:", Options{}, pos.Invalid},
		{"uri", "file:x.db", Options{}, pos.Invalid},
		{"negative busy timeout", filepath.Join(dir, "a.db"), Options{BusyTimeout: -time.Second}, pos.Invalid},
		{"sub-millisecond busy timeout", filepath.Join(dir, "b.db"), Options{BusyTimeout: time.Microsecond}, pos.Invalid},
		{"negative readers", filepath.Join(dir, "c.db"), Options{MaxReaders: -1}, pos.Invalid},
		{"missing directory", filepath.Join(dir, "no", "such", "d.db"), Options{}, pos.Unavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(tc.path, tc.opts)
			if err == nil {
				db.Close()
				t.Fatalf("Open succeeded, want %v", tc.kind)
			}
			if !pos.Match(tc.kind, err) {
				t.Errorf("Open: %v (kind %v), want kind %v", err, pos.KindOf(err), tc.kind)
			}
		})
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	// '?', '#' and '%' in a directory name must stay part of the file name,
	// not become DSN parameters.
	path := filepath.Join(t.TempDir(), "odd?dir#x%20y", "j.db")
	if err := mkdirAll(filepath.Dir(path)); err != nil {
		t.Fatal(err)
	}
	db := openAt(t, path, Options{})
	if err := db.Append(t.Context(), create(samplePayment("pay_1"))); err != nil {
		t.Fatal(err)
	}
	if !fileExists(path) {
		t.Errorf("journal not created at %q", path)
	}
}

func appliedVersions(t *testing.T, db *DB) []migration {
	t.Helper()
	ms, err := appliedMigrations(t.Context(), db.w)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestMigrations(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var want []migration
	for _, m := range ms {
		want = append(want, migration{version: m.version, name: m.name})
	}
	cmpMigration := cmp.AllowUnexported(migration{})

	path := filepath.Join(t.TempDir(), "j.db")
	t.Run("fresh database is at the latest version", func(t *testing.T) {
		db := openAt(t, path, Options{})
		if diff := cmp.Diff(want, appliedVersions(t, db), cmpMigration); diff != "" {
			t.Errorf("applied migrations (-want +got):\n%s", diff)
		}
		if got := SchemaVersion(); got != len(ms) {
			t.Errorf("SchemaVersion() = %d, want %d", got, len(ms))
		}
		if err := db.Append(t.Context(), create(samplePayment("pay_kept"))); err != nil {
			t.Fatal(err)
		}
		db.Close()
	})
	t.Run("reopening does not re-apply", func(t *testing.T) {
		db := openAt(t, path, Options{})
		if diff := cmp.Diff(want, appliedVersions(t, db), cmpMigration); diff != "" {
			t.Errorf("applied migrations after reopen (-want +got):\n%s", diff)
		}
		if _, err := db.Payment(t.Context(), "pay_kept"); err != nil {
			t.Errorf("data lost on reopen: %v", err)
		}
		db.Close()
	})
	t.Run("a newer schema is refused", func(t *testing.T) {
		db := openAt(t, path, Options{})
		future := len(ms) + 1
		if _, err := db.w.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)`,
			future, "999_from_the_future"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db2, err := Open(path, Options{})
		if err == nil {
			db2.Close()
			t.Fatal("Open of a journal with a newer schema succeeded")
		}
		if !strings.Contains(err.Error(), "newer version") || !strings.Contains(err.Error(), "999_from_the_future") {
			t.Errorf("error does not explain itself: %v", err)
		}
	})
	t.Run("a diverged schema is refused", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "j.db")
		db := openAt(t, p, Options{})
		if _, err := db.w.Exec(`UPDATE schema_migrations SET name = '001_something_else' WHERE version = 1`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if db2, err := Open(p, Options{}); err == nil {
			db2.Close()
			t.Fatal("Open of a journal with a diverged schema succeeded")
		} else if !strings.Contains(err.Error(), "diverged") {
			t.Errorf("error does not explain itself: %v", err)
		}
	})
}

func TestParseMigrations(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("SELECT 1;")}
	for _, tc := range []struct {
		name    string
		files   fstest.MapFS
		wantErr string
	}{
		{"ok", fstest.MapFS{"m/001_a.sql": sql, "m/002_b.sql": sql, "m/README": sql}, ""},
		{"gap", fstest.MapFS{"m/001_a.sql": sql, "m/003_c.sql": sql}, "want 2"},
		{"duplicate", fstest.MapFS{"m/001_a.sql": sql, "m/001_b.sql": sql}, "want 2"},
		{"bad name", fstest.MapFS{"m/1_a.sql": sql}, "NNN_name.sql"},
		{"empty", fstest.MapFS{"m/README": sql}, "no migrations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseMigrations(tc.files, "m")
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	// Several rounds of several openers on a fresh file: the race on the
	// switch to WAL mode showed about once in ten single rounds of four.
	const rounds, openers = 8, 8
	for round := range rounds {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("j%d.db", round))
		errs := make(chan error, openers)
		dbs := make(chan *DB, openers)
		for range openers {
			go func() {
				db, err := Open(path, Options{})
				errs <- err
				dbs <- db
			}()
		}
		for range openers {
			if err := <-errs; err != nil {
				t.Errorf("round %d: concurrent Open: %v", round, err)
			}
			if db := <-dbs; db != nil {
				defer db.Close()
			}
		}
		db := openAt(t, path, Options{})
		if got, want := len(appliedVersions(t, db)), SchemaVersion(); got != want {
			t.Errorf("round %d: %d migrations recorded, want %d", round, got, want)
		}
	}
}

// The journal holds masked codes, amounts and open QR payloads: it and its
// WAL and shared-memory files are the owner's alone whatever the umask,
// and an older journal left readable is narrowed.
func TestJournalFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	db := openAt(t, path, Options{})
	ctx := context.Background()
	if _, err := db.Pending(ctx); err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm", path + ".open-lock"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Error(err)
				continue
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("%s has mode %04o, want 0600", filepath.Base(p), m)
			}
		}
	}
	check()
	db.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	db2 := openAt(t, path, Options{})
	defer db2.Close()
	check()
}
