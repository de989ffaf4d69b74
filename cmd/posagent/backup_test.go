package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent/store/sqlite"
)

// TestBackupWhileRunning takes a backup of a running daemon's journal with
// the CLI and finds the payment in the copy.
func TestBackupWhileRunning(t *testing.T) {
	state := t.TempDir()
	a := startDemo(t, state, freePort(t))
	code, p, err := a.call("POST", "/v1/payments", `{"amount":1200,"currency":"CNY","auth_code":"134567890123456789"}`)
	if err != nil || code != 201 {
		t.Fatalf("create: %d %v %v", code, p, err)
	}
	id := p["id"].(string)
	a.waitFor(id, 20*time.Second, func(p map[string]any) bool { return p["state"] == "succeeded" })

	dest := filepath.Join(t.TempDir(), "journal-backup.db")
	out, err := exec.Command(binary(t), "backup", "--state", state, dest).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "integrity checked") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	db, err := sqlite.Open(dest, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Payment(t.Context(), id)
	if err != nil || got.State.Status() != "succeeded" {
		t.Fatalf("payment %s in the backup: %+v %v", id, got, err)
	}

	// Never over an existing file; usage errors exit 2.
	out, err = exec.Command(binary(t), "backup", "--state", state, dest).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "already exists") {
		t.Errorf("backup onto an existing file: %v\n%s", err, out)
	}
	out, err = exec.Command(binary(t), "backup", "--state", state).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("backup without a file: %v\n%s", err, out)
	}
	if _, err := os.Stat(dest); err != nil {
		t.Error(err)
	}
}
