package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// The durability tests run a child process (this test binary again, told by
// helperEnv what to do) that journals and is killed with SIGKILL: no deferred
// Close, no checkpoint, nothing flushed on the way out. The parent then opens
// the journal and checks that what Append acknowledged is there. This proves
// nothing is held back in the process; it does not simulate power loss (the
// kernel's page cache survives a SIGKILL), which synchronous=FULL is for.
const (
	helperEnv     = "POSAGENT_SQLITE_HELPER" // "once" or "stream"
	helperPathEnv = "POSAGENT_SQLITE_HELPER_PATH"
)

// TestHelperProcess is not a test: it is the child process body.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("child process for the durability tests")
	}
	db, err := Open(os.Getenv(helperPathEnv), Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	switch mode {
	case "once":
		// Move pay_1 on and die the instant Append returns.
		p := mustPayment(t, db, "pay_1")
		c := move(p, pos.StateUserPaying, t0.Add(time.Second))
		c.Detail = "written by the child"
		c.Enqueue = []store.Op{{Kind: store.OpQuery, NotBefore: t0.Add(3 * time.Second)}}
		if err := db.Append(ctx, c); err != nil {
			fmt.Fprintln(os.Stderr, "append:", err)
			os.Exit(2)
		}
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	case "stream":
		// Create payments as fast as possible, acknowledging each on
		// stdout once Append returns; the parent kills us mid-stream.
		for i := 0; ; i++ {
			c := create(samplePayment(fmt.Sprintf("pay_%d", i)))
			c.Enqueue = []store.Op{{Kind: store.OpQuery}}
			if err := db.Append(ctx, c); err != nil {
				fmt.Fprintln(os.Stderr, "append:", err)
				os.Exit(2)
			}
			fmt.Fprintln(os.Stdout, i) // os.Stdout is unbuffered
		}
	}
	select {} // SIGKILL is asynchronous only in theory; never return normally
}

// helper starts the child in mode on the journal at path.
func helper(t *testing.T, mode, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPathEnv+"="+path)
	cmd.Stderr = os.Stderr
	return cmd
}

func wantSIGKILL(t *testing.T, err error) {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v, want death by SIGKILL", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want death by SIGKILL", ee)
	}
}

func TestDurableAcrossSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "j.db")
	db := openAt(t, path, Options{})
	mustAppend(t, db, create(samplePayment("pay_1")))
	db.Close()

	wantSIGKILL(t, helper(t, "once", path).Run())

	// The change sits in the WAL, uncheckpointed; opening must recover it.
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Logf("no WAL left behind (%v); the test still checks the data", err)
	}
	db = openAt(t, path, Options{})
	got := snap(t, db, "pay_1")
	if got.Payment.State != pos.StateUserPaying {
		t.Errorf("state after the child's kill = %s, want %s", got.Payment.State, pos.StateUserPaying)
	}
	if n := len(got.Events); n != 2 || got.Events[1].Detail != "written by the child" {
		t.Errorf("events = %+v, want the child's event second", got.Events)
	}
	if len(got.Ops) != 1 || !got.Ops[0].NotBefore.Equal(t0.Add(3*time.Second)) {
		t.Errorf("ops = %+v, want the child's query", got.Ops)
	}
}

func TestDurableAcrossSIGKILLMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "j.db")
	cmd := helper(t, "stream", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill after a number of acknowledged appends, while the child is busy
	// with the next one.
	const acks = 25
	lines := bufio.NewScanner(stdout)
	last := -1
	for last < acks-1 && lines.Scan() {
		n, err := strconv.Atoi(lines.Text())
		if err != nil || n != last+1 {
			t.Fatalf("child said %q after %d", lines.Text(), last)
		}
		last = n
	}
	cmd.Process.Signal(syscall.SIGKILL)
	for lines.Scan() { // acknowledgements already in the pipe count too
		if n, err := strconv.Atoi(lines.Text()); err == nil {
			last = n
		}
	}
	wantSIGKILL(t, cmd.Wait())
	if last < acks-1 {
		t.Fatalf("child acknowledged only %d appends", last+1)
	}

	db := openAt(t, path, Options{})
	for i := 0; i <= last; i++ {
		id := fmt.Sprintf("pay_%d", i)
		if s := snap(t, db, id); s.Payment.ID != id || len(s.Events) != 1 || len(s.Ops) != 1 {
			t.Errorf("acknowledged %s is not whole after the kill: %+v", id, s)
		}
	}
	// The append in flight at the kill is all there or not at all.
	all, err := db.Recent(t.Context(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if s := snap(t, db, p.ID); len(s.Events) != 1 || len(s.Ops) != 1 {
			t.Errorf("%s is partly journaled: %d events, %d ops", p.ID, len(s.Events), len(s.Ops))
		}
	}
	if n := len(all); n != last+1 && n != last+2 {
		t.Errorf("%d payments after %d acknowledged appends", n, last+1)
	}
}
