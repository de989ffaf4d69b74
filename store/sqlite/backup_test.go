package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/posagent/posagent"
)

// A backup taken while payments are being journaled is a whole, checked
// journal that opens like the original; it never overwrites anything.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openAt(t, filepath.Join(dir, "journal.db"), Options{})
	for i := range 20 {
		mustAppend(t, db, create(samplePayment(fmt.Sprintf("pay_before_%02d", i))))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.Append(ctx, create(samplePayment(fmt.Sprintf("pay_during_%04d", i)))); err != nil {
				t.Error(err)
				return
			}
		}
	})
	dest := filepath.Join(dir, "backup.db")
	err := Backup(ctx, filepath.Join(dir, "journal.db"), dest)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("backup mode %04o, want 0600", m)
	}
	copyDB := openAt(t, dest, Options{})
	for i := range 20 {
		id := fmt.Sprintf("pay_before_%02d", i)
		if p := mustPayment(t, copyDB, id); p.State != pos.StateAwaitingCode && p.ID != id {
			t.Errorf("%s in the backup: %+v", id, p)
		}
	}
	if err := Backup(ctx, filepath.Join(dir, "journal.db"), dest); pos.KindOf(err) != pos.Conflict {
		t.Errorf("backup onto an existing file: err = %v, want a Conflict", err)
	}
	if err := Backup(ctx, filepath.Join(dir, "nope.db"), filepath.Join(dir, "b2.db")); pos.KindOf(err) != pos.NotFound {
		t.Errorf("backup of a missing journal: err = %v, want NotFound", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b2.db")); !os.IsNotExist(err) {
		t.Errorf("a failed backup left its file behind: %v", err)
	}
	// With the daemon stopped (no connection, WAL checkpointed away).
	db.Close()
	if err := Backup(ctx, filepath.Join(dir, "journal.db"), filepath.Join(dir, "b3.db")); err != nil {
		t.Fatalf("backup of a closed journal: %v", err)
	}
	mustPayment(t, openAt(t, filepath.Join(dir, "b3.db"), Options{}), "pay_before_00")
}
