package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/posagent/posagent"
)

func TestJSONLogsAreOneObjectPerLineRedactedWithUniqueKeys(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "debug", "json")
	if err != nil {
		t.Fatal(err)
	}
	code, err := pos.ParseAuthCode("134567890123456789")
	if err != nil {
		t.Fatal(err)
	}
	// The wiring names the gateway; the adapter adds its kind under the
	// same key, and a call adds it again.
	gw := log.With("gateway", "counter-mmsp").With("gateway", "mmsp", "component", "gw")
	gw.Info("payment submitted", "gateway", "again", "code", code, "token", pos.Secret("s3cr3t-token"))
	gw.WithGroup("http").Info("call", "status", 200, "status", 500)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %d:\n%s", len(lines), buf.String())
	}
	for _, l := range lines {
		if strings.Contains(l, "134567890123456789") || strings.Contains(l, "s3cr3t-token") {
			t.Errorf("a secret reached the log: %s", l)
		}
		if strings.Count(l, `"gateway"`) != 1 || strings.Count(l, `"status"`) > 1 {
			t.Errorf("a key appears twice: %s", l)
		}
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("not JSON: %v: %s", err, lines[0])
	}
	if first["gateway"] != "counter-mmsp" || first["msg"] != "payment submitted" || first["component"] != "gw" {
		t.Errorf("first line = %v", first)
	}
	if c, _ := first["code"].(string); !strings.Contains(c, "*") {
		t.Errorf("code logged as %q, want the masked form", c)
	}
	var second map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if h, _ := second["http"].(map[string]any); h["status"] != float64(200) {
		t.Errorf("grouped attribute = %v, want http.status 200 once", second)
	}
}

func TestTextLogsAndBadFormat(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "info", "text")
	if err != nil {
		t.Fatal(err)
	}
	log.With("gateway", "a").Info("x", "gateway", "b")
	if got := buf.String(); strings.Count(got, "gateway=") != 1 || !strings.Contains(got, "gateway=a") {
		t.Errorf("text line %q: want gateway=a once", got)
	}
	if _, err := newLogger(&buf, "info", "xml"); err == nil || !strings.Contains(err.Error(), "text or json") {
		t.Errorf("log format xml: err = %v", err)
	}
}
