package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestCLIBasics(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"version"}, 0, "posagent " + version},
		{[]string{"devices"}, 0, "KIND"},
		{[]string{"nonsense"}, 2, "unknown command"},
		{nil, 2, "Commands:"},
		{[]string{"pay"}, 2, "--amount is required"},
		{[]string{"pay", "--amount", "1.234"}, 2, "decimals"},
		{[]string{"demo", "--listen", "0.0.0.0:8417"}, 2, "loopback"},
		{[]string{"demo", "--gateway", "nope"}, 2, "no simulator"},
		{[]string{"serve", "--config", "/nonexistent/posagent.yaml"}, 2, "no such file"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		code := run(context.Background(), tt.args, &out, &out)
		if code != tt.code || !strings.Contains(out.String(), tt.contains) {
			t.Errorf("posagent %v: exit %d, output %q; want exit %d containing %q", tt.args, code, out.String(), tt.code, tt.contains)
		}
	}
}
