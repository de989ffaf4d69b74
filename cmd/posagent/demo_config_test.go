package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDemoConfigPassesCheckAndDoctor: the demo's config is a real file
// (configs/demo.yaml, embedded and printed by `demo --print-config`);
// `config check` and `doctor` pass on exactly it, and explain each of ten
// ways of breaking it, plus what only doctor can see (the gateway gone, a
// key it refuses).
func TestDemoConfigPassesCheckAndDoctor(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	run := func(args ...string) (string, int) {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	printed, err := exec.Command(bin, "demo", "--print-config").Output()
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(printed, file) {
		t.Fatalf("demo --print-config is not configs/demo.yaml")
	}
	demo := string(file)
	path := filepath.Join(dir, "demo.yaml")
	write := func(text string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	write(demo, 0o600)
	if out, code := run("config", "check", path); code != 0 || !strings.Contains(out, "is valid: 3 gateway(s)") {
		t.Fatalf("config check on the demo's config: exit %d\n%s", code, out)
	}

	// The simulators the demo starts, where the config says (the MMSP one
	// by default, the others with --gateway swiftpass or allpay).
	for _, kind := range []string{"swiftpass", "allpay"} {
		defer ownSimulator(t, bin, kind, endpointOf(t, demo, kind), dir)()
	}
	simAddr := endpointOf(t, demo, "mmsp")
	stop := ownSimulator(t, bin, "mmsp", simAddr, dir)
	defer stop()
	out, code := run("doctor", "--config", path)
	if code != 0 || !strings.Contains(out, "no problems found") || strings.Count(out, `answered "not found": signature and merchant accepted`) != 3 {
		t.Fatalf("doctor on the demo's config: exit %d\n%s", code, out)
	}

	// What only doctor can see: a key the gateway refuses...
	write(strings.Replace(demo, "key: ea21842eea24e448b991b1cb0a0294cf", "key: 00000000000000000000000000000000", 1), 0o600)
	if out, code := run("doctor", "--config", path); code != 1 || !strings.Contains(out, "PROBLEM  gateway mmsp: signed query") || !strings.Contains(out, "fix: the signature was refused") {
		t.Errorf("doctor with a refused key: exit %d\n%s", code, out)
	}
	// ...and the gateway gone.
	stop()
	write(demo, 0o600)
	if out, code := run("doctor", "--config", path); code != 1 || !strings.Contains(out, "PROBLEM  gateway mmsp: TCP "+simAddr) || !strings.Contains(out, "fix: check the network route") {
		t.Errorf("doctor with the gateway gone: exit %d\n%s", code, out)
	}

	breaks := []struct {
		name string
		edit func(string) string
		mode os.FileMode
		want []string
	}{
		{"empty file", func(string) string { return "" }, 0o600, []string{"the file is empty"}},
		{"unknown top-level setting", func(s string) string { return strings.Replace(s, "\nlisten:", "\nlistn:", 1) }, 0o600,
			[]string{`unknown setting "listn"`}},
		{"unknown gateway option", func(s string) string { return strings.Replace(s, "      simulated: true", "      simulatd: true", 1) }, 0o600,
			[]string{"gateways[0] (mmsp)", `unknown setting "simulatd"`}},
		{"bad duration", func(s string) string { return strings.Replace(s, "call_timeout: 2s", "call_timeout: 2 seconds", 1) }, 0o600,
			[]string{`"2 seconds" is not a duration`}},
		{"listen beyond loopback", func(s string) string { return strings.Replace(s, "listen: 127.0.0.1:8417", "listen: 0.0.0.0:8417", 1) }, 0o600,
			[]string{"listen", "not a loopback address"}},
		{"an inline key in a file others can read", func(s string) string { return s }, 0o644,
			[]string{"inline secret", "chmod 600"}},
		{"timings that contradict", func(s string) string {
			return strings.Replace(s, "poll_interval: 1s, pay_timeout: 6s", "poll_interval: 8s, pay_timeout: 6s", 1)
		}, 0o600, []string{"poll_interval 8s is not shorter than pay_timeout 6s"}},
		{"retention shorter than refunds need", func(s string) string { return s + "journal: {retention: 30d}\n" }, 0o600,
			[]string{"journal.retention: 30d is shorter than the 366d"}},
		{"await_code_timeout too short", func(s string) string {
			return strings.Replace(s, "await_code_timeout: 30s", "await_code_timeout: 1s", 1)
		}, 0o600, []string{"payments.await_code_timeout", "minimum 5s"}},
		{"unknown printer kind", func(s string) string { return strings.Replace(s, "kind: virtual", "kind: laser", 1) }, 0o600,
			[]string{"printer.kind", `"laser"`}},
		{"unknown display kind", func(s string) string { return strings.Replace(s, "kind: both", "kind: hologram", 1) }, 0o600,
			[]string{"display", `"hologram"`}},
		{"MMSP merchant number over MERNO's 15", func(s string) string {
			return strings.Replace(s, `merchant_no: "001440353999853"`, `merchant_no: "0014403539998531234"`, 1)
		}, 0o600, []string{"gateways[0] (mmsp)", "merchant_no"}},
	}
	for _, b := range breaks {
		t.Run(b.name, func(t *testing.T) {
			write(b.edit(demo), b.mode)
			out, code := run("config", "check", path)
			if code != 2 {
				t.Fatalf("config check: exit %d, want 2\n%s", code, out)
			}
			for _, w := range b.want {
				if !strings.Contains(out, w) {
					t.Errorf("config check's answer lacks %q:\n%s", w, out)
				}
			}
			for _, goTalk := range []string{"mmsp.New", "mmsp.Options", "time.Duration", "unmarshal", "struct"} {
				if strings.Contains(out, goTalk) {
					t.Errorf("config check speaks Go (%q): %s", goTalk, out)
				}
			}
			dout, dcode := run("doctor", "--config", path)
			if dcode != 1 || !strings.Contains(dout, "PROBLEM") || !strings.Contains(dout, "fix: ") || !strings.Contains(dout, b.want[len(b.want)-1]) {
				t.Errorf("doctor: exit %d, want 1 with the problem and its fix\n%s", dcode, dout)
			}
		})
	}
}

// endpointOf is the host:port of gateway kind's endpoint in a config's
// text (the first endpoint after its "kind: KIND").
func endpointOf(t *testing.T, cfg, kind string) string {
	t.Helper()
	_, rest, ok := strings.Cut(cfg, "kind: "+kind+"\n")
	if ok {
		_, rest, ok = strings.Cut(rest, "endpoint: http://")
	}
	if !ok {
		t.Fatalf("the demo config has no http endpoint for %s", kind)
	}
	addr, _, _ := strings.Cut(rest, "/")
	addr, _, _ = strings.Cut(addr, "\n")
	return strings.TrimSpace(addr)
}

// ownSimulator starts `posagent simulate --gateway kind` on addr and waits
// until it says it listens there: a demo run by another test may hold the
// port for a moment (the demo prefers its config's ports), so it tries
// again for a minute. It returns the stop function.
func ownSimulator(t *testing.T, bin, kind, addr, dir string) func() {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		sim := exec.Command(bin, "simulate", "--gateway", kind, "--listen", addr, "--state", filepath.Join(dir, "sim-"+kind))
		sim.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		out := &syncBuffer{}
		sim.Stdout, sim.Stderr = out, out
		if err := sim.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = sim.Wait(); close(exited) }()
		for {
			if strings.Contains(out.String(), "simulator listening at http://"+addr) {
				var once sync.Once
				return func() { once.Do(func() { _ = sim.Process.Kill(); <-exited }) }
			}
			select {
			case <-exited:
			case <-time.After(20 * time.Millisecond):
				continue
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %s simulator cannot listen on the demo config's %s: %s", kind, addr, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
