// Package systemd speaks the two systemd protocols a Type=notify service
// needs, with the standard library only: sd_notify(3) messages over the
// datagram socket named by $NOTIFY_SOCKET (READY=1, STATUS=, WATCHDOG=1,
// STOPPING=1), and the watchdog's interval from $WATCHDOG_USEC. Outside
// systemd (no $NOTIFY_SOCKET) every call is a no-op, so the daemon runs the
// same way from a shell.
package systemd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Notifier sends sd_notify messages. The zero value and a nil *Notifier
// send nothing.
type Notifier struct {
	addr *net.UnixAddr
}

// FromEnv returns the Notifier for $NOTIFY_SOCKET, or nil when the process
// was not started by systemd with Type=notify. An abstract socket is
// written "@name" in the variable.
func FromEnv() *Notifier {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil
	}
	if strings.HasPrefix(name, "@") {
		name = "\x00" + name[1:]
	}
	return &Notifier{addr: &net.UnixAddr{Name: name, Net: "unixgram"}}
}

// Send sends one message made of the given "KEY=value" assignments, one per
// line, as sd_notify does. Values must not contain newlines; they are
// replaced by spaces.
func (n *Notifier) Send(assignments ...string) error {
	if n == nil || n.addr == nil {
		return nil
	}
	for i, a := range assignments {
		assignments[i] = strings.ReplaceAll(a, "\n", " ")
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("systemd notify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(assignments, "\n"))); err != nil {
		return fmt.Errorf("systemd notify: %w", err)
	}
	return nil
}

// WatchdogInterval returns systemd's watchdog timeout ($WATCHDOG_USEC) when
// it is meant for this process ($WATCHDOG_PID, when set, is our pid), and
// false when there is no watchdog.
func WatchdogInterval() (time.Duration, bool) {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0, false
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0, false
	}
	return time.Duration(usec) * time.Microsecond, true
}

// Check reports whether the service is making progress and, if so, a
// one-line status for systemctl status ("2 payments pending, 1 outbox
// operation"). It must return when ctx ends.
type Check func(ctx context.Context) (status string, err error)

// Watchdog pings systemd's watchdog every half timeout, but only after check
// succeeded within that half: a daemon whose loop or journal is wedged
// stops pinging, and systemd restarts it (WatchdogSec= in the unit). Each
// ping carries the status. It returns when ctx ends.
func Watchdog(ctx context.Context, n *Notifier, timeout time.Duration, check Check, log *slog.Logger) {
	if n == nil || timeout <= 0 {
		return
	}
	every := timeout / 2
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		cctx, cancel := context.WithTimeout(ctx, every)
		status, err := check(cctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				// Once per episode: the log must not fill while systemd
				// decides.
				log.Error("watchdog check failed; not pinging systemd", "err", err)
			}
			failing = true
		default:
			if failing {
				log.Warn("watchdog check passes again")
			}
			failing = false
			if err := n.Send("WATCHDOG=1", "STATUS="+status); err != nil && !errors.Is(err, context.Canceled) {
				log.Warn("watchdog ping failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
