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
//
// The seeds are the example files cut into their top-level sections
// (seedSections), never the 11 KB full example whole: the fuzzer
// minimizes every new interesting input for up to -fuzzminimizetime
// (60 s by default) and counts no executions meanwhile, and a mutant of
// an 11 KB file takes all of it, so the run stalled at 0 execs/s after a
// dozen inputs. Small seeds minimize in milliseconds; scripts/fuzz.sh
// also bounds the minimizing time.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("examples/*.yaml")
	files = append(files, "posagent.example.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range seedSections(b) {
			f.Add(s)
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

// seedSections cuts a YAML file into its top-level keys, each with the
// comments above it: every setting of the example is in some seed, and no
// seed is larger than one section.
func seedSections(b []byte) [][]byte {
	var out [][]byte
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, []byte(strings.Join(cur, "\n")+"\n"))
		}
		cur = nil
	}
	inKey := false
	for _, line := range strings.Split(string(b), "\n") {
		top := line != "" && line[0] != ' ' && line[0] != '#' && line[0] != '-'
		if (top || (line != "" && line[0] == '#')) && inKey {
			flush()
			inKey = false
		}
		cur = append(cur, line)
		if top {
			inKey = true
		}
	}
	flush()
	// A long list section (gateways, scanners) is cut once more, one seed
	// per item under its key.
	var small [][]byte
	for _, sec := range out {
		if len(sec) <= 1024 {
			small = append(small, sec)
			continue
		}
		small = append(small, listItems(sec)...)
	}
	return small
}

// listItems cuts "key:\n  - a\n  - b" into "key:\n  - a" and "key:\n  - b";
// a section that is no list comes back whole.
func listItems(sec []byte) [][]byte {
	lines := strings.Split(string(sec), "\n")
	key := -1
	for i, l := range lines {
		if l != "" && l[0] != ' ' && l[0] != '#' {
			key = i
			break
		}
	}
	if key < 0 {
		return [][]byte{sec}
	}
	var out [][]byte
	var item []string
	flush := func() {
		if len(item) > 0 {
			out = append(out, []byte(lines[key]+"\n"+strings.Join(item, "\n")+"\n"))
		}
		item = nil
	}
	for _, l := range lines[key+1:] {
		if strings.HasPrefix(l, "  - ") {
			flush()
		}
		item = append(item, l)
	}
	flush()
	if len(out) < 2 {
		return [][]byte{sec}
	}
	return out
}
