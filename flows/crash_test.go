package flows

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/posagent/posagent/gateways"
)

func TestParseCrashSpec(t *testing.T) {
	tests := []struct {
		v    string
		name string
		nth  int64
	}{
		{"", "", 0},
		{"micropay.submitted", "micropay.submitted", 1},
		{"spool.printed:3", "spool.printed", 3},
		// Anything else arms nothing: a crash point never fires by accident.
		{"spool.printed:0", "", 0},
		{"spool.printed:-1", "", 0},
		{"spool.printed:", "", 0},
		{"spool.printed:x", "", 0},
		{"spool.Printed", "", 0},
		{" spool.printed", "", 0},
		{"nowhere", "", 0},
		{"nowhere:1", "", 0},
	}
	for _, tt := range tests {
		s := parseCrashSpec(tt.v)
		if s.name != tt.name || s.nth != tt.nth {
			t.Errorf("parseCrashSpec(%q) = %q #%d, want %q #%d", tt.v, s.name, s.nth, tt.name, tt.nth)
		}
	}
}

// TestCrashPointTable: names are unique, and every point the runner fires
// through a lookup table is in CrashPoints (the harness iterates it).
func TestCrashPointTable(t *testing.T) {
	known := map[string]bool{}
	for _, p := range CrashPoints {
		if known[p.Name] || p.Name == "" || p.Where == "" {
			t.Errorf("bad or duplicate crash point %+v", p)
		}
		known[p.Name] = true
	}
	for k, v := range journaledPoint {
		if !known[v] {
			t.Errorf("journaledPoint[%v] = %q is not in CrashPoints", k, v)
		}
	}
	for k, v := range answeredPoint {
		if !known[v] {
			t.Errorf("answeredPoint[%v] = %q is not in CrashPoints", k, v)
		}
	}
}

// TestCrashPointKills runs this test binary again with a crash point armed
// for its 2nd hit: the child survives the first hit and a hit of another
// point, and dies by SIGKILL at the second, saying so on stderr.
func TestCrashPointKills(t *testing.T) {
	if os.Getenv("POSAGENT_CRASHPOINT_CHILD") == "1" {
		crashPoint(CrashSpoolPrinted)
		os.Stdout.WriteString("survived the first hit\n")
		crashPoint(CrashMicropaySubmitted)
		crashPoint(CrashSpoolPrinted)
		os.Stdout.WriteString("survived the second hit\n")
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashPointKills$")
	cmd.Env = append(os.Environ(), "POSAGENT_CRASHPOINT_CHILD=1", crashEnv+"="+CrashSpoolPrinted+":2")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the child was not killed: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("the child ended %v, want killed by SIGKILL", err)
	}
	if out := stdout.String(); !strings.Contains(out, "survived the first hit") || strings.Contains(out, "second") {
		t.Errorf("the child did not die at the second hit:\n%s", out)
	}
	if !strings.Contains(stderr.String(), "posagent: crash point spool.printed reached: SIGKILL") {
		t.Errorf("the child did not say which crash point killed it:\n%s", stderr.String())
	}
}

// TestCrashWhenSentKills: with refund.sent armed, a request made through
// gateways.Do with crashWhenSent's context reaches the server whole, the
// server answers, and the child dies before it reads the answer; unarmed,
// the context is the caller's own.
func TestCrashWhenSentKills(t *testing.T) {
	if url := os.Getenv("POSAGENT_CRASHPOINT_CHILD_URL"); url != "" {
		req, _ := http.NewRequest("POST", url, strings.NewReader("the refund"))
		ctx := crashWhenSent(context.Background(), CrashRefundSent)
		b, err := gateways.Do(ctx, http.DefaultClient, req, "refund")
		os.Stdout.WriteString("answer read: " + string(b) + " " + errMessage(err) + "\n")
		os.Exit(0)
	}
	if ctx := context.Background(); crashWhenSent(ctx, CrashRefundSent) != ctx {
		t.Error("crashWhenSent wrapped the context of an unarmed point")
	}
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		w.Write([]byte("refunded"))
	}))
	defer srv.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWhenSentKills$")
	cmd.Env = append(os.Environ(), "POSAGENT_CRASHPOINT_CHILD_URL="+srv.URL, crashEnv+"="+CrashRefundSent)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the child was not killed: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("the child ended %v, want killed by SIGKILL", err)
	}
	if strings.Contains(stdout.String(), "answer read") {
		t.Errorf("the child read the answer before dying:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "posagent: crash point refund.sent reached: SIGKILL") {
		t.Errorf("the child did not say which crash point killed it:\n%s", stderr.String())
	}
	// The server answered before the kill, so it has the request.
	select {
	case b := <-got:
		if b != "the refund" {
			t.Errorf("the server got %q, want the whole request", b)
		}
	case <-time.After(30 * time.Second):
		t.Error("the child died, but the server never had its request")
	}
}
