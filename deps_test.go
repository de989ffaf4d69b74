package pos_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/posagent/posagent"

// TestForbiddenImports keeps ARCHITECTURE.md's import rules true: it lists
// every package's full dependency set with `go list -deps` and fails on a
// forbidden edge.
func TestForbiddenImports(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	touchSources(t)
	out, err := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Deps       []string
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	// implementation reports whether an import path is an implementation
	// package: a subpackage of hw/<device>, gateways/<acquirer> or store.
	implementation := func(p string) bool {
		rel, ok := strings.CutPrefix(p, module+"/")
		if !ok {
			return false
		}
		parts := strings.Split(rel, "/")
		switch {
		case parts[0] == "hw" && len(parts) >= 3:
			return true
		case parts[0] == "store" && len(parts) >= 2:
			return true
		case parts[0] == "gateways" && len(parts) >= 2 && parts[1] != "gatewaytest":
			return true
		}
		return false
	}
	ours := func(p, prefix string) bool {
		return p == module+"/"+prefix || strings.HasPrefix(p, module+"/"+prefix+"/")
	}
	type rule struct {
		name    string
		applies func(pkg string) bool
		forbid  func(dep string) bool
	}
	rules := []rule{
		{"pos imports only the standard library",
			func(p string) bool { return p == module },
			func(d string) bool { return strings.Contains(strings.SplitN(d, "/", 2)[0], ".") }},
		{"hw never imports flows, gateways, store, localapi or configs",
			func(p string) bool { return ours(p, "hw") },
			func(d string) bool {
				return ours(d, "flows") || ours(d, "gateways") || ours(d, "store") || ours(d, "localapi") || ours(d, "configs")
			}},
		{"gateways never import store, flows, hw or localapi",
			func(p string) bool { return ours(p, "gateways") },
			func(d string) bool {
				return ours(d, "store") || ours(d, "flows") || ours(d, "hw") || ours(d, "localapi")
			}},
		{"store never imports gateways, flows, hw or localapi",
			func(p string) bool { return ours(p, "store") },
			func(d string) bool {
				return ours(d, "gateways") || ours(d, "flows") || ours(d, "hw") || ours(d, "localapi")
			}},
		{"flows, localapi and configs import no implementation",
			func(p string) bool {
				return (ours(p, "flows") && !ours(p, "flows/truthtest")) || ours(p, "localapi") || ours(p, "configs")
			},
			implementation},
		// A simulator is a second reading of its spec (STYLE.md): it
		// imports nothing of its adapter. Listed per simulator as each
		// becomes one.
		{"allpaysim is a second reading: it imports nothing of gateways/allpay",
			func(p string) bool { return ours(p, "gateways/allpay/allpaysim") },
			func(d string) bool { return d == module+"/gateways/allpay" }},
		{"hipopaysim is a second reading: it imports nothing of gateways/hipopay",
			func(p string) bool { return ours(p, "gateways/hipopay/hipopaysim") },
			func(d string) bool { return d == module+"/gateways/hipopay" }},
		{"allinpaysim is a second reading: it imports nothing of gateways/allinpay",
			func(p string) bool { return ours(p, "gateways/allinpay/allinpaysim") },
			func(d string) bool { return d == module+"/gateways/allinpay" }},
		// flows/truthtest is test support: the truth check drives a real
		// runner on a real SQLite journal against a gateway's simulator,
		// so it may import store/sqlite and gateways/sim, but no adapter
		// (the gateway under test is handed to it) and no hardware.
		{"flows/truthtest imports no implementation but store/sqlite and gateways/sim",
			func(p string) bool { return ours(p, "flows/truthtest") },
			func(d string) bool {
				return implementation(d) && !ours(d, "store/sqlite") && !ours(d, "gateways/sim")
			}},
		{"only tests import flows/truthtest",
			func(p string) bool { return !ours(p, "flows/truthtest") },
			func(d string) bool { return ours(d, "flows/truthtest") }},
		{"configs builds nothing: no flows, localapi, store or hw",
			func(p string) bool { return ours(p, "configs") },
			func(d string) bool {
				return ours(d, "flows") || ours(d, "localapi") || ours(d, "store") || ours(d, "hw")
			}},
	}
	// A simulator rewritten as a second reading of its spec imports none of
	// its adapter (STYLE.md); the others join this list as they are
	// rewritten.
	for _, acq := range []string{"swiftpass", "mmsp"} {
		sim, adapter := "gateways/"+acq+"/"+acq+"sim", module+"/gateways/"+acq
		rules = append(rules, rule{sim + " is a second reading: it never imports its adapter",
			func(p string) bool { return ours(p, sim) },
			func(d string) bool { return d == adapter }})
	}
	for _, p := range pkgs {
		for _, r := range rules {
			if !r.applies(p.ImportPath) {
				continue
			}
			for _, d := range p.Deps {
				if r.forbid(d) {
					t.Errorf("%s: %s imports %s", r.name, p.ImportPath, d)
				}
			}
		}
	}
}

// touchSources reads every Go file's metadata so the test cache, which
// tracks files a test opens, reruns this test when an import changes: the
// imports are read by the go command, which the cache cannot see.
func touchSources(t *testing.T) {
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != "." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") {
			_, err = os.Stat(p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
