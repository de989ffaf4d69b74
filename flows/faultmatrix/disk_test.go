package faultmatrix_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// The disk-full cells put the journal on a 16 MB tmpfs and fill it right
// after the call answers, before the runner journals the answer, then
// free it half a second later (as flows' own disk-full tests do, for
// MMSP, step by step).

var tmpfsCheck struct {
	once sync.Once
	ok   bool
	why  string
}

// tmpfsAllowed reports whether this process may mount a tmpfs (root, and
// a kernel that lets it), trying once.
func tmpfsAllowed() (string, bool) {
	tmpfsCheck.once.Do(func() {
		if os.Geteuid() != 0 {
			tmpfsCheck.why = "not root"
			return
		}
		dir, err := os.MkdirTemp("", "faultmatrix-mnt-")
		if err != nil {
			tmpfsCheck.why = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
			tmpfsCheck.why = fmt.Sprintf("%v: %s", err, strings.TrimSpace(string(out)))
			return
		}
		_ = exec.Command("umount", "-l", dir).Run()
		tmpfsCheck.ok = true
	})
	return tmpfsCheck.why, tmpfsCheck.ok
}

// disk fills and frees a small filesystem.
type disk struct {
	dir string
	mu  sync.Mutex
	// probe is a second handle on the journal: after the filler, it
	// writes throwaway rows until a write fails, so the runner's next
	// write cannot land in WAL space SQLite reuses either.
	probe *sqlite.DB
	n     int
}

const fillBudget = 2 * time.Second

func mountSmallFS(t *testing.T) (*disk, error) {
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		return nil, err
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", mnt).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mounting a tmpfs: %v: %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	return &disk{dir: mnt}, nil
}

// fill writes until neither the filler file nor the journal takes another
// byte (a failed SQLite write can give back the space it had taken), for
// at most fillBudget: it runs in the call's path, before the runner sees
// the answer, and with many cells at once a journal that keeps finding
// room would otherwise hold the payment for longer than the cell's bound.
func (d *disk) fill(t *testing.T) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(d.dir, "filler"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	deadline := time.Now().Add(fillBudget)
	for round := 0; round < 50 && time.Now().Before(deadline); round++ {
		wrote := 0
		for _, size := range []int{1 << 16, 512, 1} {
			buf := make([]byte, size)
			for {
				n, err := f.Write(buf)
				wrote += n
				if err != nil {
					break
				}
			}
		}
		probed := 0
		for d.probe != nil && probed < 10000 && time.Now().Before(deadline) {
			d.n++
			now := time.Now()
			p := pos.Payment{ID: fmt.Sprintf("pay_probe_%d", d.n), Gateway: "probe", Method: pos.Micropay,
				Amount: pos.Money{Minor: 1, Currency: "CNY"}, State: pos.StateFailed, CreatedAt: now, UpdatedAt: now}
			if err := d.probe.Append(context.Background(), store.Change{Payment: p, Reason: "probe", At: now}); err != nil {
				break
			}
			probed++
		}
		if round > 0 && wrote == 0 && probed == 0 {
			break
		}
	}
	// The probe is done: closed, it holds nothing (a commit that failed
	// for want of space can leave its transaction, and the journal's
	// write lock, open until the connection goes).
	if d.probe != nil {
		_ = d.probe.Close()
		d.probe = nil
	}
}

func (d *disk) free(t *testing.T) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.Remove(filepath.Join(d.dir, "filler")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Error(err)
	}
}
