package systemd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// listen opens a datagram socket standing in for systemd's and points
// $NOTIFY_SOCKET at it.
func listen(t *testing.T, abstract bool) (*net.UnixConn, *Notifier) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "notify.sock")
	env := name
	if abstract {
		name = "\x00posagent-test-" + filepath.Base(t.TempDir())
		env = "@" + name[1:]
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", env)
	n := FromEnv()
	if n == nil {
		t.Fatal("FromEnv returned nil with NOTIFY_SOCKET set")
	}
	return conn, n
}

// next reads one message, or "" when none comes within d.
func next(t *testing.T, conn *net.UnixConn, d time.Duration) string {
	t.Helper()
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(d))
	n, err := conn.Read(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return ""
		}
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestSendReachesTheSocket(t *testing.T) {
	for _, abstract := range []bool{false, true} {
		conn, n := listen(t, abstract)
		if err := n.Send("READY=1", "STATUS=journal open\nrecovery started"); err != nil {
			t.Fatal(err)
		}
		if got, want := next(t, conn, 5*time.Second), "READY=1\nSTATUS=journal open recovery started"; got != want {
			t.Errorf("abstract=%v: got %q, want %q", abstract, got, want)
		}
	}
}

func TestNoSocketNoMessages(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := FromEnv()
	if n != nil {
		t.Fatalf("FromEnv = %v without NOTIFY_SOCKET", n)
	}
	if err := n.Send("READY=1"); err != nil {
		t.Errorf("Send on a nil Notifier: %v", err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	for _, c := range []struct {
		usec, pid string
		want      time.Duration
		ok        bool
	}{
		{"", "", 0, false},
		{"30000000", "", 30 * time.Second, true},
		{"30000000", "1", 0, false}, // meant for another process
		{"junk", "", 0, false},
		{"-5", "", 0, false},
	} {
		t.Setenv("WATCHDOG_USEC", c.usec)
		t.Setenv("WATCHDOG_PID", c.pid)
		got, ok := WatchdogInterval()
		if got != c.want || ok != c.ok {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: got %v %v, want %v %v", c.usec, c.pid, got, ok, c.want, c.ok)
		}
	}
}

// The watchdog pings while the check passes, stops while it hangs or
// fails, and pings again when it recovers.
func TestWatchdogPingsOnlyWhileTheCheckPasses(t *testing.T) {
	conn, n := listen(t, false)
	var stuck atomic.Bool
	check := func(ctx context.Context) (string, error) {
		if stuck.Load() {
			<-ctx.Done() // a loop that never comes round
			return "", ctx.Err()
		}
		return "0 payments pending", nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Watchdog(ctx, n, 200*time.Millisecond, check, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	defer func() { cancel(); <-done }()

	for i := range 3 {
		if got := next(t, conn, 5*time.Second); got != "WATCHDOG=1\nSTATUS=0 payments pending" {
			t.Fatalf("ping %d = %q", i, got)
		}
	}
	stuck.Store(true)
	// At most one ping may already be on its way.
	deadline := time.Now().Add(5 * time.Second)
	quiet := false
	for time.Now().Before(deadline) {
		if next(t, conn, 600*time.Millisecond) == "" {
			quiet = true
			break
		}
	}
	if !quiet {
		t.Fatal("the watchdog kept pinging while the check was stuck")
	}
	stuck.Store(false)
	if got := next(t, conn, 5*time.Second); !strings.HasPrefix(got, "WATCHDOG=1") {
		t.Fatalf("after recovery got %q, want a ping", got)
	}
}
