package virtual

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/posagent/posagent/hw/printer/escpos"
	"github.com/posagent/posagent/hw/printer/printertest"
)

// Previews carry the merchant's sales: owner-only whatever the umask.
func TestPreviewFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "receipts")
	v := New(dir, Options{Profile: escpos.Profile80})
	r := printertest.Receipts()[0].Receipt
	if err := v.Print(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{dir: 0o700, filepath.Join(dir, r.Name+".bin"): 0o600, v.Last(): 0o600}
	for p, m := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != m {
			t.Errorf("%s: mode %04o, want %04o", p, got, m)
		}
	}
}
