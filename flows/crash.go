package flows

import (
	"os"
	"syscall"
)

// crashPoint kills the process with SIGKILL when the environment variable
// POSAGENT_CRASHPOINT names this point. It exists for the crash tests, which
// must kill the daemon at an exact step (right after the submit is
// journaled, before it is sent); SIGKILL gives no chance to clean up, like
// a power cut. Unset, it costs one environment lookup.
func crashPoint(name string) {
	if v, ok := os.LookupEnv("POSAGENT_CRASHPOINT"); ok && v == name {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // never continue past a crash point
	}
}
