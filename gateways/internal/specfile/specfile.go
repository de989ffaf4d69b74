// Package specfile finds the acquirer specifications (shared/specs) for
// the tests that read them: the spec-coverage tests extract every code a
// spec lists and fail when an adapter's outcome table has no row for it.
//
// The specs live beside the repository, not in it: <root>/../shared/specs
// (CI checks shared/ out beside the clone). A git worktree's root has
// another parent, so the main checkout's (found through the worktree's
// .git file) is tried too, and $POSAGENT_SPECS overrides both.
package specfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Read returns the text of the spec file name (e.g. "allpay-v5.txt").
func Read(name string) (string, error) {
	dirs, err := candidates()
	if err != nil {
		return "", err
	}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, name))
		if err == nil {
			return string(b), nil
		}
	}
	return "", fmt.Errorf("specfile: %s not found in %s", name, strings.Join(dirs, ", "))
}

func candidates() ([]string, error) {
	var dirs []string
	if d := os.Getenv("POSAGENT_SPECS"); d != "" {
		dirs = append(dirs, d)
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dirs = append(dirs, filepath.Join(root, "..", "shared", "specs"))
	// A worktree's .git is a file "gitdir: <main>/.git/worktrees/<name>".
	if b, err := os.ReadFile(filepath.Join(root, ".git")); err == nil {
		if gitdir, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: "); ok {
			main := filepath.Dir(filepath.Dir(filepath.Dir(gitdir))) // <main>
			dirs = append(dirs, filepath.Join(main, "..", "shared", "specs"))
		}
	}
	return dirs, nil
}

// moduleRoot is the nearest directory above the working directory (a
// test's package directory) holding go.mod.
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.New("specfile: no go.mod above the working directory")
		}
		d = up
	}
}
