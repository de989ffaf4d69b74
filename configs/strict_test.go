package configs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent/configs"
)

// Errors inside a section's options carry the line in the file and speak
// of settings, never of Go types.
func TestOptionErrorsCarryFileLines(t *testing.T) {
	const text = `# a comment
gateways:
  - name: g
    kind: mmsp
    options:
      endpoint: https://example.invalid/
      timing:
        poll_interval: 5s
        pol_interval: 5s
      retries: 3
`
	c, err := configs.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Endpoint string `yaml:"endpoint"`
		Timing   struct {
			PollInterval time.Duration `yaml:"poll_interval"`
		} `yaml:"timing"`
	}
	err = c.Gateways[0].Decode(&o)
	if err == nil {
		t.Fatal("unknown settings were accepted")
	}
	for _, want := range []string{`line 9: unknown setting "pol_interval" in timing`, `line 10: unknown setting "retries"`, "known here: endpoint, timing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "struct") || strings.Contains(err.Error(), "type ") {
		t.Errorf("error names a Go type: %v", err)
	}
}

func TestValueErrorsSayWhatWasExpected(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"gateways: [{name: g, kind: mmsp}]\npayments:\n  await_code_timeout: 5 s\n", `line 3: "5 s" is not a duration (like 500ms, 5s or 2m)`},
		{"gateways: [{name: g, kind: mmsp, default: maybe}]\n", `line 1: "maybe" is not true or false`},
		{"", "the file is empty"},
		{"# only a comment\n", "the file is empty"},
		{"- a\n- b\n", "line 1: the file must be a set of settings"},
	} {
		_, err := configs.Parse([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want one containing %q", c.yaml, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "time.Duration") || strings.Contains(err.Error(), "unmarshal")) {
			t.Errorf("%q: error speaks Go: %v", c.yaml, err)
		}
	}
}

// Aliases of aliases ("billion laughs") are refused quickly, not walked.
func TestAliasBombRefused(t *testing.T) {
	bomb := "x0: &a0 [{name: g, kind: mmsp}]\n"
	for i := 1; i <= 30; i++ {
		bomb += fmt.Sprintf("x%d: &a%d [*a%d, *a%d]\n", i, i, i-1, i-1)
	}
	bomb += "gateways: *a30\n"
	done := make(chan error, 1)
	go func() { _, err := configs.Parse([]byte(bomb)); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("an alias bomb was accepted")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("an alias bomb was still being parsed after 20 s")
	}
}
