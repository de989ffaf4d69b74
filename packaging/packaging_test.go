// Package packaging_test builds the Debian package with
// `go run ./packaging/cmd/mkdeb` (nfpm as a library) and
// checks it as dpkg and an integrator would see it: every path with its mode
// and owner, the control fields, conffiles, the maintainer scripts, the
// stamped binary, the shipped configuration and the systemd unit.
package packaging_test

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// version is what the test stamps: a tilde and a plus, so both survive the
// ldflags and dpkg.
const version = "1.2.3~test+1"

// wantTree is the package's complete contents: permissions and owner per
// path. Every file and directory is root's in the archive; postinst gives
// /etc/posagent and the config their posagent group (dpkg-statoverride),
// since the group does not exist when a first install is unpacked.
var wantTree = map[string]string{
	"/etc/":                                   "drwxr-xr-x root/root",
	"/etc/posagent/":                          "drwxr-x--- root/root",
	"/etc/posagent/posagent.yaml":             "-rw-r----- root/root",
	"/lib/":                                   "drwxr-xr-x root/root",
	"/lib/modules-load.d/":                    "drwxr-xr-x root/root",
	"/lib/modules-load.d/posagent.conf":       "-rw-r--r-- root/root",
	"/lib/systemd/":                           "drwxr-xr-x root/root",
	"/lib/systemd/system/":                    "drwxr-xr-x root/root",
	"/lib/systemd/system/posagent.service":    "-rw-r--r-- root/root",
	"/lib/udev/":                              "drwxr-xr-x root/root",
	"/lib/udev/rules.d/":                      "drwxr-xr-x root/root",
	"/lib/udev/rules.d/60-posagent.rules":     "-rw-r--r-- root/root",
	"/usr/":                                   "drwxr-xr-x root/root",
	"/usr/bin/":                               "drwxr-xr-x root/root",
	"/usr/bin/posagent":                       "-rwxr-xr-x root/root",
	"/usr/share/":                             "drwxr-xr-x root/root",
	"/usr/share/doc/":                         "drwxr-xr-x root/root",
	"/usr/share/doc/posagent/":                "drwxr-xr-x root/root",
	"/usr/share/doc/posagent/ARCHITECTURE.md": "-rw-r--r-- root/root",
	"/usr/share/doc/posagent/NOTICE":          "-rw-r--r-- root/root",
	"/usr/share/doc/posagent/README.md":       "-rw-r--r-- root/root",
	"/usr/share/doc/posagent/copyright":       "-rw-r--r-- root/root",
}

func TestDeb(t *testing.T) {
	for _, tool := range []string{"dpkg-deb", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt install dpkg): the .deb is not built or checked", tool)
		}
	}
	deb, cgo := buildDeb(t)
	ctrl := t.TempDir()
	run(t, "dpkg-deb", "-e", deb, ctrl)
	root := t.TempDir()
	run(t, "dpkg-deb", "-x", deb, root)

	t.Run("tree", func(t *testing.T) {
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(run(t, "dpkg-deb", "-c", deb)), "\n") {
			// drwxr-xr-x root/root 0 2026-01-01 00:00 ./usr/bin/
			f := strings.Fields(line)
			if len(f) != 6 {
				t.Fatalf("unexpected dpkg-deb -c line %q", line)
			}
			got[strings.TrimPrefix(f[5], ".")] = f[0] + " " + f[1]
		}
		if d := cmp.Diff(wantTree, got); d != "" {
			t.Errorf("package contents (-want +got):\n%s", d)
		}
	})

	t.Run("control", func(t *testing.T) {
		arch := strings.TrimSpace(run(t, "dpkg", "--print-architecture"))
		for field, want := range map[string]string{
			"Package":      "posagent",
			"Version":      version,
			"Architecture": arch,
			"Section":      "net",
			"Priority":     "optional",
		} {
			if got := field1(t, deb, field); got != want {
				t.Errorf("%s: %q, want %q", field, got, want)
			}
		}
		// karalabe/hid compiles libusb and hidapi in (without libudev), so a
		// cgo build links glibc and nothing else; adduser runs in postinst.
		deps := field1(t, deb, "Depends")
		want := `^adduser$`
		if cgo {
			want = `^libc6 \(>= 2\.[0-9]+\), adduser$`
		}
		if !regexp.MustCompile(want).MatchString(deps) {
			t.Errorf("Depends: %q, want it to match %s", deps, want)
		}
		for _, field := range []string{"Maintainer", "Installed-Size", "Description"} {
			if field1(t, deb, field) == "" {
				t.Errorf("%s is empty", field)
			}
		}
	})

	t.Run("conffiles", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(ctrl, "conffiles"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(b), "/etc/posagent/posagent.yaml\n"; got != want {
			t.Errorf("conffiles: %q, want %q", got, want)
		}
	})

	t.Run("md5sums", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(ctrl, "md5sums"))
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			sum, path, ok := strings.Cut(sc.Text(), "  ")
			if !ok {
				t.Fatalf("md5sums line %q", sc.Text())
			}
			data, err := os.ReadFile(filepath.Join(root, path))
			if err != nil {
				t.Fatal(err)
			}
			h := md5.Sum(data)
			if got := hex.EncodeToString(h[:]); got != sum {
				t.Errorf("md5sums: %s is %s, listed %s", path, got, sum)
			}
			listed = append(listed, "/"+path)
		}
		var files []string
		for p, mode := range wantTree {
			if mode[0] == '-' {
				files = append(files, p)
			}
		}
		slices.Sort(files)
		slices.Sort(listed)
		if d := cmp.Diff(files, listed); d != "" {
			t.Errorf("md5sums lists (-want +got):\n%s", d)
		}
	})

	t.Run("maintainer scripts", func(t *testing.T) {
		for _, s := range []string{"postinst", "prerm", "postrm"} {
			p := filepath.Join(ctrl, s)
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o755 {
				t.Errorf("%s has mode %04o, want 0755", s, fi.Mode().Perm())
			}
			lintShell(t, p)
		}
	})

	t.Run("version", func(t *testing.T) {
		got := run(t, filepath.Join(root, "usr/bin/posagent"), "version")
		if want := "posagent " + version + "\n"; got != want {
			t.Errorf("posagent version printed %q, want %q", got, want)
		}
	})

	t.Run("shipped config", func(t *testing.T) {
		bin := filepath.Join(root, "usr/bin/posagent")
		shipped, err := os.ReadFile(filepath.Join(root, "etc/posagent/posagent.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		cfg := filepath.Join(dir, "posagent.yaml")
		// As shipped, the gateway's key file does not exist yet: --check
		// must say which file, and exit 2 (a configuration error, which the
		// unit does not restart on).
		missing := strings.ReplaceAll(string(shipped), "/etc/posagent/mmsp.key", filepath.Join(dir, "mmsp.key"))
		missing = strings.ReplaceAll(missing, "/var/lib/posagent", filepath.Join(dir, "state"))
		if err := os.WriteFile(cfg, []byte(missing), 0o640); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "serve", "--config", cfg, "--check").CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), filepath.Join(dir, "mmsp.key")) {
			t.Errorf("check without the key file: %v\n%s\nwant exit 2 naming the key file", err, out)
		}
		// With the key the integrator installs (0600) and the state
		// directory postinst creates, the rest of the shipped file is valid
		// as it stands.
		if err := os.Mkdir(filepath.Join(dir, "state"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "mmsp.key"), []byte("ea21842eea24e448b991b1cb0a0294cf\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err = exec.Command(bin, "serve", "--config", cfg, "--check").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "is valid") {
			t.Errorf("check with the key file: %v\n%s", err, out)
		}
	})

	t.Run("systemd-analyze verify", func(t *testing.T) {
		if _, err := exec.LookPath("systemd-analyze"); err != nil {
			t.Skip("systemd-analyze not installed (apt install systemd): posagent.service not verified")
		}
		// verify checks that ExecStart exists, so point it at the extracted
		// binary; everything else is the unit as shipped.
		unit, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/posagent.service"))
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(root, "usr/bin/posagent")
		text := strings.Replace(string(unit), "ExecStart=/usr/bin/posagent ", "ExecStart="+bin+" ", 1)
		if text == string(unit) {
			t.Fatal("posagent.service has no ExecStart=/usr/bin/posagent")
		}
		p := filepath.Join(t.TempDir(), "posagent.service")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("systemd-analyze", "verify", p).CombinedOutput()
		// verify exits 0 on warnings (unknown keys, bad values): any line
		// about our unit is a failure. Lines about the host's other units
		// are not ours to judge.
		var ours []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "posagent") {
				ours = append(ours, l)
			}
		}
		if err != nil || len(ours) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, strings.Join(ours, "\n"))
		}
	})

	t.Run("licence", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(root, "usr/share/doc/posagent/copyright"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"License: Apache-2.0", "LGPL-2.1", "relink"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("copyright file lacks %q", want)
			}
		}
		notice, err := os.ReadFile(filepath.Join(root, "usr/share/doc/posagent/NOTICE"))
		if err != nil || !strings.Contains(string(notice), "LGPL-2.1") {
			t.Errorf("NOTICE missing or silent on libusb's LGPL-2.1: %v", err)
		}
	})

	t.Run("systemd-analyze security", func(t *testing.T) {
		if _, err := exec.LookPath("systemd-analyze"); err != nil {
			t.Skip("systemd-analyze not installed (apt install systemd): posagent.service not scored")
		}
		unit := filepath.Join(root, "lib/systemd/system/posagent.service")
		out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager", unit).CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze security: %v\n%s", err, out)
		}
		m := regexp.MustCompile(`Overall exposure level for [^:]+: ([0-9.]+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("no exposure level in:\n%s", out)
		}
		score, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			t.Fatal(err)
		}
		// 0 is fully locked down, 10 fully exposed. The unit still reaches
		// the USB, tty, lp and input devices it needs (DeviceAllow=).
		if score > 2.0 {
			t.Errorf("posagent.service exposure %.1f, want at most 2.0:\n%s", score, out)
		}
		if b, _ := os.ReadFile(unit); !strings.Contains(string(b), "RuntimeDirectory=posagent\n") {
			t.Error("posagent.service lacks RuntimeDirectory=posagent: the API socket's /run/posagent would not exist")
		}
		for _, dev := range []string{"char-ttyACM rw", "char-ttyUSB rw", "char-ttyS rw", "char-usb rw", "char-usb_device rw", "char-input rw"} {
			b, _ := os.ReadFile(unit)
			if !strings.Contains(string(b), "DeviceAllow="+dev) {
				t.Errorf("posagent.service lost DeviceAllow=%s: scanners or printers would be unreachable", dev)
			}
		}
	})
}

// TestScripts lints the scripts in the repository itself, so a syntax error
// shows even where dpkg-deb is missing.
func TestScripts(t *testing.T) {
	for _, p := range []string{"install.sh", "deb/postinst", "deb/prerm", "deb/postrm", "rpm/post.sh", "rpm/preun.sh", "rpm/postun.sh"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s is not executable", p)
		}
		lintShell(t, p)
	}
}

// TestInstallScript stages install.sh into a directory (DESTDIR, which skips
// users and reloads) twice: the first run lays out every file with the unit
// pointing under the prefix; the second keeps the integrator's edits.
func TestInstallScript(t *testing.T) {
	dest := t.TempDir()
	bin := filepath.Join(t.TempDir(), "posagent")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	install := func() {
		t.Helper()
		cmd := exec.Command("./install.sh", "/opt/posagent")
		cmd.Env = append(os.Environ(), "DESTDIR="+dest, "POSAGENT_BIN="+bin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("install.sh: %v\n%s", err, out)
		}
	}
	install()
	want := map[string]os.FileMode{
		"opt/posagent/bin/posagent":                       0o755,
		"opt/posagent/share/doc/posagent/README.md":       0o644,
		"opt/posagent/share/doc/posagent/ARCHITECTURE.md": 0o644,
		"opt/posagent/share/doc/posagent/NOTICE":          0o644,
		"opt/posagent/share/doc/posagent/LICENSE":         0o644,
		"etc/systemd/system/posagent.service":             0o644,
		"etc/udev/rules.d/60-posagent.rules":              0o644,
		"etc/modules-load.d/posagent.conf":                0o644,
		"etc/posagent":                                    0o750 | os.ModeDir,
		"etc/posagent/posagent.yaml":                      0o640,
	}
	for p, mode := range want {
		fi, err := os.Stat(filepath.Join(dest, p))
		if err != nil {
			t.Error(err)
			continue
		}
		if got := fi.Mode() & (os.ModePerm | os.ModeDir); got != mode {
			t.Errorf("%s: mode %v, want %v", p, got, mode)
		}
	}
	unit, err := os.ReadFile(filepath.Join(dest, "etc/systemd/system/posagent.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"ExecStart=/opt/posagent/bin/posagent serve --config /etc/posagent/posagent.yaml\n",
		"Documentation=file:///opt/posagent/share/doc/posagent/README.md\n",
	} {
		if !strings.Contains(string(unit), line) {
			t.Errorf("installed unit lacks %q", line)
		}
	}

	for _, p := range []string{"etc/posagent/posagent.yaml", "etc/udev/rules.d/60-posagent.rules"} {
		if err := os.WriteFile(filepath.Join(dest, p), []byte("# edited\n"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	install()
	for _, p := range []string{"etc/posagent/posagent.yaml", "etc/udev/rules.d/60-posagent.rules"} {
		if b, _ := os.ReadFile(filepath.Join(dest, p)); string(b) != "# edited\n" {
			t.Errorf("a second install.sh overwrote %s", p)
		}
	}

	// --uninstall removes what install laid out and keeps the config, the
	// edited udev rules and (on a live system) the journal.
	cmd := exec.Command("./install.sh", "--uninstall", "/opt/posagent")
	cmd.Env = append(os.Environ(), "DESTDIR="+dest)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install.sh --uninstall: %v\n%s", err, out)
	}
	for _, p := range []string{"opt/posagent/bin/posagent", "opt/posagent/share/doc/posagent", "etc/systemd/system/posagent.service", "etc/modules-load.d/posagent.conf"} {
		if _, err := os.Stat(filepath.Join(dest, p)); !os.IsNotExist(err) {
			t.Errorf("--uninstall left %s (%v)", p, err)
		}
	}
	for _, p := range []string{"etc/posagent/posagent.yaml", "etc/udev/rules.d/60-posagent.rules"} {
		if _, err := os.Stat(filepath.Join(dest, p)); err != nil {
			t.Errorf("--uninstall removed %s, which holds the integrator's edits: %v", p, err)
		}
	}
	if !strings.Contains(string(out), "/var/lib/posagent") {
		t.Errorf("--uninstall does not say the journal was kept:\n%s", out)
	}
}

// TestGroupsAgree keeps the three places that name posagent's device groups
// in step: the udev rules give devices to groups, the unit grants them with
// SupplementaryGroups=, and postinst adds the user to them.
func TestGroupsAgree(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	unit := read("posagent.service")
	m := regexp.MustCompile(`(?m)^SupplementaryGroups=(.*)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatal("posagent.service has no SupplementaryGroups=")
	}
	granted := strings.Fields(m[1])
	slices.Sort(granted)

	var ruled []string
	for _, g := range regexp.MustCompile(`GROUP="([^"]+)"`).FindAllStringSubmatch(read("60-posagent.rules"), -1) {
		if !slices.Contains(ruled, g[1]) {
			ruled = append(ruled, g[1])
		}
	}
	for _, g := range ruled {
		if !slices.Contains(granted, g) {
			t.Errorf("60-posagent.rules gives devices to group %s, which posagent.service does not grant", g)
		}
	}

	m = regexp.MustCompile(`(?m)^\s*for g in ([a-z ]+); do`).FindStringSubmatch(read("deb/postinst"))
	if m == nil {
		t.Fatal("postinst: no `for g in ...; do` loop adding the groups")
	}
	added := strings.Fields(m[1])
	slices.Sort(added)
	if d := cmp.Diff(granted, added); d != "" {
		t.Errorf("SupplementaryGroups (-) and postinst's groups (+) differ:\n%s", d)
	}
}

// buildDeb runs `go run ./packaging/cmd/mkdeb` into a temporary directory
// and returns the .deb's path and whether it was built with cgo (without a C
// compiler it builds without, as mkdeb allows). The .rpm built beside it is
// checked by TestRPM.
func buildDeb(t *testing.T) (string, bool) {
	t.Helper()
	deb, _, cgo := buildPackages(t)
	return deb, cgo
}

var (
	pkgOnce           sync.Once
	pkgDeb, pkgRPM    string
	pkgCgo            bool
	pkgErr            error
	pkgDir, pkgStderr string
)

// buildPackages builds both packages once per test binary.
func buildPackages(t *testing.T) (deb, rpm string, cgo bool) {
	t.Helper()
	pkgOnce.Do(func() {
		dir, err := os.MkdirTemp("", "posagent-pkg")
		if err != nil {
			pkgErr = err
			return
		}
		pkgDir = dir
		cmd := exec.Command("go", "run", "./cmd/mkdeb", "-o", dir, "-version", version)
		cmd.Env = os.Environ()
		pkgCgo = true
		if _, err := exec.LookPath("cc"); err != nil {
			cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
			pkgCgo = false
		}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			pkgErr = fmt.Errorf("mkdeb: %v\n%s", err, stderr.String())
			return
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		if len(lines) != 2 {
			pkgErr = fmt.Errorf("mkdeb printed %q, want the .deb and the .rpm", lines)
			return
		}
		pkgDeb, pkgRPM = lines[0], lines[1]
	})
	if pkgErr != nil {
		t.Fatal(pkgErr)
	}
	if !pkgCgo {
		t.Log("no C compiler: built with CGO_ENABLED=0 (no USB-HID)")
	}
	arch := strings.TrimSpace(run(t, "dpkg", "--print-architecture"))
	if want := filepath.Join(pkgDir, "posagent_"+version+"_"+arch+".deb"); pkgDeb != want {
		t.Fatalf("mkdeb printed %q first, want %q", pkgDeb, want)
	}
	return pkgDeb, pkgRPM, pkgCgo
}

// lintShell runs sh -n on a script, and shellcheck when it is installed.
func lintShell(t *testing.T, path string) {
	t.Helper()
	if out, err := exec.Command("sh", "-n", path).CombinedOutput(); err != nil {
		t.Errorf("sh -n %s: %v\n%s", path, err, out)
	}
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Logf("shellcheck not installed (apt install shellcheck): %s only checked with sh -n", filepath.Base(path))
		return
	}
	if out, err := exec.Command("shellcheck", "-s", "sh", path).CombinedOutput(); err != nil {
		t.Errorf("shellcheck %s: %v\n%s", path, err, out)
	}
}

func field1(t *testing.T, deb, field string) string {
	t.Helper()
	return strings.TrimSpace(run(t, "dpkg-deb", "-f", deb, field))
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// TestPurgeBacksUpTheJournal runs the package's postrm as dpkg does on
// purge, against a staged state directory: the journal is archived
// (root-only) before the directory goes.
func TestPurgeBacksUpTheJournal(t *testing.T) {
	for _, tool := range []string{"tar", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dir := t.TempDir()
	state, conf, backups := filepath.Join(dir, "lib", "posagent"), filepath.Join(dir, "etc", "posagent"), filepath.Join(dir, "backups")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(conf, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "journal.db"), []byte("the till's record"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "deb/postrm", "purge")
	cmd.Env = append(os.Environ(), "POSAGENT_STATE_DIR="+state, "POSAGENT_CONF_DIR="+conf, "POSAGENT_BACKUP_DIR="+backups)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("postrm purge: %v\n%s", err, out)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("purge left %s: %v", state, err)
	}
	archives, _ := filepath.Glob(filepath.Join(backups, "posagent-state-*.tar.gz"))
	if len(archives) != 1 {
		t.Fatalf("archives: %v\n%s", archives, out)
	}
	fi, err := os.Stat(archives[0])
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("archive mode: %v %v", fi.Mode(), err)
	}
	list, err := exec.Command("tar", "-tzf", archives[0]).Output()
	if err != nil || !strings.Contains(string(list), "posagent/journal.db") {
		t.Errorf("archive lacks the journal: %v\n%s", err, list)
	}
	if !strings.Contains(string(out), archives[0]) {
		t.Errorf("purge did not say where the backup is:\n%s", out)
	}
}

// TestRPM checks the .rpm built beside the .deb: the RPM lead, and with the
// rpm tool installed, the same files as the .deb and its own scriptlets.
func TestRPM(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("dpkg not installed")
	}
	_, rpm, _ := buildPackages(t)
	b, err := os.ReadFile(rpm)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 96 || !bytes.Equal(b[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		t.Fatalf("%s does not start with the RPM lead", rpm)
	}
	if !strings.Contains(filepath.Base(rpm), version) && !strings.Contains(filepath.Base(rpm), "1.2.3") {
		t.Errorf("rpm name %s lacks the version", rpm)
	}
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("rpm not installed (apt install rpm): only the lead was checked")
	}
	list := run(t, "rpm", "-qlp", rpm)
	for p := range wantTree {
		if strings.HasSuffix(p, "/") || strings.HasPrefix(p, "/usr/share/doc/posagent/copyright") {
			continue
		}
		if !strings.Contains(list, p+"\n") {
			t.Errorf("the rpm lacks %s", p)
		}
	}
	scripts := run(t, "rpm", "-qp", "--scripts", rpm)
	if !strings.Contains(scripts, "useradd --system") || strings.Contains(scripts, "dpkg-statoverride") {
		t.Errorf("the rpm's scriptlets are not its own:\n%s", scripts)
	}
}

// TestArm64WithHID cross-builds the arm64 package with cgo, as CI does with
// Debian's gcc-aarch64-linux-gnu, and checks the binary inside is aarch64
// and carries the USB-HID implementation (karalabe/hid's cgo build with
// libusb), not the stub a build without cgo gets.
func TestArm64WithHID(t *testing.T) {
	const cc = "aarch64-linux-gnu-gcc"
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("%s not installed (apt install gcc-aarch64-linux-gnu): the arm64 build is not checked", cc)
	}
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not installed")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./cmd/mkdeb", "-o", dir, "-version", version, "-arch", "arm64", "-cc", cc, "-formats", "deb")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mkdeb -arch arm64: %v\n%s", err, out)
	}
	deb := filepath.Join(dir, "posagent_"+version+"_arm64.deb")
	if got := field1(t, deb, "Architecture"); got != "arm64" {
		t.Errorf("Architecture %q, want arm64", got)
	}
	root := t.TempDir()
	run(t, "dpkg-deb", "-x", deb, root)
	bin := filepath.Join(root, "usr/bin/posagent")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	machine := f.Machine
	f.Close()
	if machine != elf.EM_AARCH64 {
		t.Errorf("binary machine %v, want EM_AARCH64", machine)
	}
	info := run(t, "go", "version", "-m", bin)
	for _, want := range []string{"GOARCH=arm64", "CGO_ENABLED=1", "github.com/karalabe/hid"} {
		if !strings.Contains(info, want) {
			t.Errorf("build info lacks %q:\n%s", want, info)
		}
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	// Only hid_enabled.go (cgo, libusb) has a device type with ReadTimeout.
	if !bytes.Contains(b, []byte("karalabe/hid.(*hidDevice).ReadTimeout")) {
		t.Error("the arm64 binary lacks karalabe/hid's cgo implementation: USB-HID scanners would not work")
	}
}
