package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goodConfig is a config serve accepts: one MMSP gateway on a simulator, a
// serial scanner, a text printer and a web display.
func goodConfig(dir string) string {
	return fmt.Sprintf(`state_dir: %s/state
listen: 127.0.0.1:8417
log_format: json
gateways:
  - name: mmsp
    kind: mmsp
    options:
      endpoint: http://127.0.0.1:9001/
      merchant_no: "001440353999853"
      terminal_no: "84970001"
      key_file: mmsp.key
      simulated: true
      timing: {poll_interval: 1s, pay_timeout: 6s, reverse_after: 1s}
      call_timeout: 2s
scanners:
  - name: counter
    kind: serial
    options: {path: /dev/ttyACM7, baud: 9600}
printer:
  kind: text
  options: {path: %s/out/receipts.txt}
receipt: {merchant_name: Test Shop}
`, dir, dir)
}

// TestConfigCheckExplainsEveryFault breaks a good config ten ways; each is
// refused with the line or field at fault in words an integrator reads,
// and the check never creates anything (no state directory, no receipt
// file).
func TestConfigCheckExplainsEveryFault(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o700); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "mmsp.key")
	if err := os.WriteFile(key, []byte("ea21842eea24e448b991b1cb0a0294cf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "posagent.yaml")
	check := func(text string) (string, error) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err := checkConfigFile(path, &out)
		return out.String(), err
	}
	good := goodConfig(dir)
	out, err := check(good)
	if err != nil || !strings.Contains(out, "is valid: 1 gateway(s), 1 scanner(s), printer text") {
		t.Fatalf("good config: %q %v", out, err)
	}

	breaks := []struct {
		name   string
		edit   func(string) string
		before func()
		want   []string
	}{
		{"empty file", func(string) string { return "" }, nil, []string{"the file is empty"}},
		{"unknown top-level setting", func(s string) string { return strings.Replace(s, "log_format:", "log_formt:", 1) }, nil,
			[]string{`line 3: unknown setting "log_formt"`, "log_format"}},
		{"unknown gateway option", func(s string) string { return strings.Replace(s, "      simulated: true", "      simulatd: true", 1) }, nil,
			[]string{"gateways[0] (mmsp)", `line 12: unknown setting "simulatd"`}},
		{"bad duration", func(s string) string { return strings.Replace(s, "call_timeout: 2s", "call_timeout: 2 seconds", 1) }, nil,
			[]string{"line 14", `"2 seconds" is not a duration`}},
		{"listen beyond loopback", func(s string) string { return strings.Replace(s, "127.0.0.1:8417", "0.0.0.0:8417", 1) }, nil,
			[]string{"listen", "not a loopback address"}},
		{"key file others can read", func(s string) string { return s }, func() { _ = os.Chmod(key, 0o644) },
			[]string{"mmsp.key", "chmod 600"}},
		{"missing key file", func(s string) string { return strings.Replace(s, "key_file: mmsp.key", "key_file: nope.key", 1) }, nil,
			[]string{"nope.key"}},
		{"timings that contradict", func(s string) string {
			return strings.Replace(s, "poll_interval: 1s, pay_timeout: 6s", "poll_interval: 8s, pay_timeout: 6s", 1)
		}, nil, []string{"timing", "poll_interval 8s is not shorter than pay_timeout 6s"}},
		{"MMSP notify_url over the QR commands' string(50)", func(s string) string {
			return strings.Replace(s, "      simulated: true", "      simulated: true\n      notify_url: https://till-42.example.com/posagent/notify/mmsp/front", 1)
		}, nil, []string{"gateways[0] (mmsp)", "string(50)"}},
		{"MMSP goods_name over GOODSNAME's 15 bytes", func(s string) string {
			return strings.Replace(s, "      simulated: true", "      simulated: true\n      goods_name: 上海咖啡馆一号店", 1)
		}, nil, []string{"gateways[0] (mmsp)", "goods_name", "string(15)"}},
		{"bad scanner option", func(s string) string { return strings.Replace(s, "baud: 9600", "baud: -5", 1) }, nil,
			[]string{"scanners[0] (counter)"}},
		{"printer directory missing", func(s string) string { return strings.Replace(s, "/out/receipts.txt", "/nowhere/receipts.txt", 1) }, nil,
			[]string{"printer.options.path", "does not exist"}},
		{"unknown printer kind", func(s string) string { return strings.Replace(s, "kind: text", "kind: laser", 1) }, nil,
			[]string{"printer.kind", `"laser"`}},
	}
	for _, b := range breaks {
		t.Run(b.name, func(t *testing.T) {
			_ = os.Chmod(key, 0o600)
			if b.before != nil {
				b.before()
			}
			out, err := check(b.edit(good))
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != 2 {
				t.Fatalf("accepted or wrong exit: %v (out %q)", err, out)
			}
			for _, w := range b.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, goTalk := range []string{"mmsp.New", "mmsp.Options", "time.Duration", "unmarshal", "struct"} {
				if strings.Contains(err.Error(), goTalk) {
					t.Errorf("error speaks Go (%q): %v", goTalk, err)
				}
			}
		})
	}
	for _, p := range []string{filepath.Join(dir, "state"), filepath.Join(dir, "out", "receipts.txt")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("config check created %s", p)
		}
	}
}
