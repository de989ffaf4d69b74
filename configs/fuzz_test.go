package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posagent/posagent/configs"
)

// FuzzParse: whatever the file says, Parse returns a config that passed
// validation or an error, never a panic; an accepted config keeps the
// rules validation promises (loopback API, known log settings).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("examples/*.yaml")
	files = append(files, "posagent.example.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("gateways: [{name: g, kind: mmsp, options: {key_file: credential:x}}]\n"))
	f.Add([]byte("&a [*a, *a]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := configs.Parse(b)
		if err != nil {
			if c != nil {
				t.Fatal("a config came back with an error")
			}
			return
		}
		if !strings.HasPrefix(c.Listen, "127.") && !strings.HasPrefix(c.Listen, "localhost:") && !strings.HasPrefix(c.Listen, "[::1]:") {
			t.Fatalf("accepted a non-loopback listen %q", c.Listen)
		}
		if c.LogFormat != "text" && c.LogFormat != "json" {
			t.Fatalf("accepted log_format %q", c.LogFormat)
		}
	})
}
