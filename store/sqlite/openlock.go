package sqlite

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// openLock serialises the first minutes of a journal's life between every
// opener, in this process or another: switching a new database to WAL mode
// takes a lock on which SQLite does not call the busy handler, so two
// openers racing on a fresh file got SQLITE_BUSY at once whatever
// busy_timeout said (TestConcurrentOpenMigratesOnce, about 1 run in 10 on a
// loaded machine). An flock on a file beside the journal is held from the
// writer's first statement until the migrations are committed, and is
// released by the kernel if the process dies.
//
// The lock file is not the database itself: closing any descriptor of the
// database file would drop the POSIX locks SQLite holds on it in this
// process.
type openLock struct{ f *os.File }

func lockForOpen(journal string) (*openLock, error) {
	f, err := os.OpenFile(journal+".open-lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal open lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("journal open lock %s: %w", f.Name(), err)
	}
	return &openLock{f: f}, nil
}

// release drops the lock; the file stays for the next opener.
func (l *openLock) release() {
	_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	_ = l.f.Close()
}

// ownerOnly makes the journal and its WAL and shared-memory files readable
// by their owner alone, whatever the umask: SQLite creates the -wal and
// -shm files with the database file's permissions, so the database is
// created 0600 before SQLite sees it, and an older journal (or one copied
// in by hand) is narrowed to 0600. It holds masked codes, amounts and the
// open QR payloads.
func ownerOnly(journal string) error {
	f, err := os.OpenFile(journal, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("journal %s: %w", journal, err)
	}
	f.Close()
	for _, p := range []string{journal, journal + "-wal", journal + "-shm"} {
		fi, err := os.Stat(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("journal %s: %w", p, err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("journal %s is readable by others and could not be narrowed: %w", p, err)
			}
		}
	}
	return nil
}
