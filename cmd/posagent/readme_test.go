package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeBlocks returns the README's sh blocks, except those marked
// <!-- readme-test: skip ... --> on the line before.
func readmeBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```sh" {
			continue
		}
		skip := i > 0 && strings.HasPrefix(lines[i-1], "<!-- readme-test: skip")
		var body []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			body = append(body, lines[i])
		}
		if !skip {
			blocks = append(blocks, strings.Join(body, "\n"))
		}
	}
	return blocks
}

// TestReadmeExamples runs every sh block of the README, as written, in
// order, in one shell, against the demo: `go run ./cmd/posagent` is the
// binary under test, /tmp/posagent-demo the demo's state, 127.0.0.1:8417
// its address and /dev/pts/N its scanner (the two the demo prints). Any
// command that fails fails the test.
func TestReadmeExamples(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("the README's examples use jq")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the README's examples use curl")
	}
	blocks := readmeBlocks(t)
	if len(blocks) < 3 {
		t.Fatalf("found %d runnable sh blocks in the README; the API section has lost its examples?", len(blocks))
	}
	tmp := shortTempDir(t)
	state := filepath.Join(tmp, "posagent-demo")
	addr := freePort(t)
	a := startDemo(t, state, addr)
	bin := binary(t)
	script := "set -euo pipefail\n" + strings.Join(blocks, "\n")
	script = strings.ReplaceAll(script, "go run ./cmd/posagent", bin)
	script = regexp.MustCompile(`(?m)^posagent `).ReplaceAllString(script, bin+" ")
	script = strings.ReplaceAll(script, "/tmp/posagent-demo", state)
	script = strings.ReplaceAll(script, "127.0.0.1:8417", addr)
	script = strings.ReplaceAll(script, "/dev/pts/N", a.scanner())
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "POSAGENT_API=http://"+addr)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's examples failed: %v\nscript:\n%s\noutput:\n%s", err, script, out)
	}
	for _, want := range []string{
		`"state": "succeeded"`,                 // the curl create
		"succeeded\n",                          // its idempotent retry
		"awaiting_code",                        // the waiting payment
		"urn:posagent:problem:payment-waiting", // the second one, refused
		`"status": "ready"`,                    // the socket
		"ref order-1002",                       // lookup
		"Final: succeeded",                     // pay
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the examples' output lacks %q:\n%s", want, out)
		}
	}
}
