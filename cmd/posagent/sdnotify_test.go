package main

import (
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSystemdNotify runs the real daemon as systemd would with Type=notify
// and WatchdogSec=: READY=1 with a STATUS once the journal is open and
// recovery has started, WATCHDOG=1 pings with the status, STOPPING=1 on
// SIGTERM. (That pings stop while the loop is wedged is proved in
// flows.TestAliveFollowsTheLoop and systemd.TestWatchdogPingsOnlyWhileTheCheckPasses.)
func TestSystemdNotify(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	a := startDemo(t, filepath.Join(dir, "state"), freePort(t),
		"NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=400000")

	var got []string
	read := func(want string) {
		t.Helper()
		buf := make([]byte, 4096)
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			_ = conn.SetReadDeadline(deadline)
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			msg := string(buf[:n])
			got = append(got, msg)
			if strings.Contains(msg, want) {
				return
			}
		}
		t.Fatalf("no %q from the daemon; got %q", want, got)
	}
	read("READY=1")
	if !strings.Contains(got[len(got)-1], "STATUS=0 payment(s) pending, 0 outbox operation(s)") {
		t.Errorf("READY message %q lacks the status line", got[len(got)-1])
	}
	for range 3 {
		read("WATCHDOG=1\nSTATUS=")
	}
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	read("STOPPING=1")
	select {
	case <-a.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the daemon did not exit after SIGTERM")
	}
}
