// Command mkdeb builds the posagent packages: a .deb and an .rpm with the
// same contents, from a checkout, with nfpm as a Go library (no dpkg-deb or
// rpmbuild needed).
//
//	go run ./packaging/cmd/mkdeb -o DIR [-version V] [-arch ARCH] [-formats deb,rpm]
//
// It builds the binary with cgo (USB-HID scanners need it; for another
// architecture name a cross compiler, e.g. -arch arm64 -cc
// aarch64-linux-gnu-gcc, or set CGO_ENABLED=0 for a build without USB-HID;
// -cc and not CC, since CC would also build mkdeb itself), writes the copyright file
// with the licence of every module linked into the binary, computes Depends
// from the binary's ELF (glibc only, with cgo), and packs the unit, the udev
// rules, the modules-load.d file, the example config (a conffile), the docs
// and the maintainer scripts. The path of each package is printed, one per
// line, the .deb first.
package main

import (
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers "deb"
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers "rpm"
)

const description = `scan-code payment terminal daemon for Linux tills
posagent reads customers' payment codes (WeChat Pay, Alipay, UnionPay and
others) from USB-HID and serial barcode scanners, charges them through an
acquirer gateway, shows merchant QR codes on a customer display and prints
ESC/POS receipts. Every step is journaled in SQLite before it is acted on,
so a crash or network loss never loses a payment or charges twice. The
till software drives it through a local HTTP API.

The service is installed disabled: edit /etc/posagent/posagent.yaml, then
systemctl enable --now posagent.`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mkdeb:", err)
		os.Exit(1)
	}
}

type options struct {
	out, version, arch, maintainer string
	cc                             string // C compiler for the target
	formats                        []string
	root                           string // the checkout
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkdeb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.out, "o", "", "directory for the packages (required)")
	fs.StringVar(&o.version, "version", "", "package version (default: from git describe, or main.go's base version plus the commit)")
	fs.StringVar(&o.arch, "arch", runtime.GOARCH, "Go architecture to build for (amd64, arm64, arm, 386, riscv64)")
	fs.StringVar(&o.cc, "cc", "", "C compiler for the target (default: $CC, or the Go default for a native build)")
	fs.StringVar(&o.maintainer, "maintainer", "posagent developers <posagent@users.noreply.github.com>", "Maintainer field")
	formats := fs.String("formats", "deb,rpm", "packages to build: deb, rpm or both")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.out == "" {
		fs.Usage()
		return errors.New("-o DIR is required")
	}
	o.formats = strings.Split(*formats, ",")
	root, err := checkoutRoot()
	if err != nil {
		return err
	}
	o.root = root
	if o.version == "" {
		if o.version, err = defaultVersion(root); err != nil {
			return err
		}
	}
	if !regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*(-[A-Za-z0-9.+~]+)?$`).MatchString(o.version) {
		return fmt.Errorf("version %q is not a Debian version (starts with a digit; letters, digits and . + ~ -)", o.version)
	}
	paths, err := build(o, stderr)
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Fprintln(stdout, p)
	}
	return nil
}

// checkoutRoot finds the module root from the working directory.
func checkoutRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run mkdeb inside the posagent checkout")
	}
	return filepath.Dir(mod), nil
}

// defaultVersion is the tag git describe finds (v1.2.0-3-gabc1234 becomes
// 1.2.0+3.gabc1234) or, with no tag, main.go's base version plus the commit
// (0.1.0~git20250101T120000.abc1234, which sorts below the 0.1.0 release).
func defaultVersion(root string) (string, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	if desc, err := git("describe", "--tags", "--match", "v[0-9]*"); err == nil && desc != "" {
		return regexp.MustCompile(`-([0-9]+)-g([0-9a-f]+)$`).ReplaceAllString(strings.TrimPrefix(desc, "v"), "+$1.g$2"), nil
	}
	src, err := os.ReadFile(filepath.Join(root, "cmd/posagent/main.go"))
	if err != nil {
		return "", err
	}
	base := "0.0.0"
	if m := regexp.MustCompile(`(?m)^var version = "([0-9][0-9.]*)`).FindSubmatch(src); m != nil {
		base = string(m[1])
	}
	stamp, err := git("log", "-1", "--format=%cd", "--date=format:%Y%m%dT%H%M%S")
	if err != nil || stamp == "" {
		stamp = time.Now().UTC().Format("20060102T150405")
	}
	sha, err := git("rev-parse", "--short", "HEAD")
	if err != nil || sha == "" {
		sha = "local"
	}
	return base + "~git" + stamp + "." + sha, nil
}

func build(o options, log io.Writer) ([]string, error) {
	work, err := os.MkdirTemp("", "mkdeb")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	bin := filepath.Join(work, "posagent")
	cgo := os.Getenv("CGO_ENABLED") != "0"
	if o.cc == "" {
		o.cc = os.Getenv("CC")
	}
	if cgo && o.arch != runtime.GOARCH && o.cc == "" {
		return nil, fmt.Errorf("cross-building %s with cgo needs a cross compiler (-cc aarch64-linux-gnu-gcc, from Debian's gcc-aarch64-linux-gnu), or CGO_ENABLED=0 for a build without USB-HID", o.arch)
	}
	fmt.Fprintf(log, "mkdeb: go build (%s, cgo %v, version %s)\n", o.arch, cgo, o.version)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+o.version, "-o", bin, "./cmd/posagent")
	cmd.Dir = o.root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+o.arch, "CGO_ENABLED="+map[bool]string{true: "1", false: "0"}[cgo])
	if o.cc != "" {
		cmd.Env = append(cmd.Env, "CC="+o.cc)
	}
	if o.arch == "arm" {
		cmd.Env = append(cmd.Env, "GOARM=7")
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build: %w", err)
	}
	depends, err := elfDepends(bin)
	if err != nil {
		return nil, err
	}
	copyright := filepath.Join(work, "copyright")
	if err := writeCopyright(o.root, bin, copyright); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, err
	}

	info := packageInfo(o, bin, copyright, depends)
	var paths []string
	for _, format := range o.formats {
		p, err := pack(info, format, o.out)
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// packageInfo lists the package's contents: the same tree, modes and
// maintainer scripts the package has always had.
func packageInfo(o options, bin, copyright string, depends []string) *nfpm.Info {
	src := func(p string) string { return filepath.Join(o.root, p) }
	file := func(from, to string, mode os.FileMode) *files.Content {
		return &files.Content{Source: from, Destination: to, FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode}}
	}
	contents := files.Contents{
		file(bin, "/usr/bin/posagent", 0o755),
		file(src("packaging/posagent.service"), "/lib/systemd/system/posagent.service", 0o644),
		file(src("packaging/60-posagent.rules"), "/lib/udev/rules.d/60-posagent.rules", 0o644),
		file(src("packaging/modules-load.conf"), "/lib/modules-load.d/posagent.conf", 0o644),
		// root:posagent comes from postinst (dpkg-statoverride): the group
		// does not exist when dpkg unpacks a first install.
		{Destination: "/etc/posagent", Type: files.TypeDir, FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o750}},
		{Source: src("configs/posagent.example.yaml"), Destination: "/etc/posagent/posagent.yaml", Type: files.TypeConfigNoReplace,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o640}},
		file(src("README.md"), "/usr/share/doc/posagent/README.md", 0o644),
		file(src("ARCHITECTURE.md"), "/usr/share/doc/posagent/ARCHITECTURE.md", 0o644),
		file(src("NOTICE"), "/usr/share/doc/posagent/NOTICE", 0o644),
		file(copyright, "/usr/share/doc/posagent/copyright", 0o644),
	}
	return &nfpm.Info{
		Name:          "posagent",
		Arch:          o.arch,
		Platform:      "linux",
		Version:       o.version,
		VersionSchema: "none",
		Section:       "net",
		Priority:      "optional",
		Maintainer:    o.maintainer,
		Description:   description,
		Homepage:      "https://github.com/posagent/posagent",
		License:       "Apache-2.0",
		Overridables: nfpm.Overridables{
			Depends:    append(depends, "adduser"),
			Recommends: []string{"systemd", "udev"},
			Contents:   contents,
			Scripts: nfpm.Scripts{
				PostInstall: src("packaging/deb/postinst"),
				PreRemove:   src("packaging/deb/prerm"),
				PostRemove:  src("packaging/deb/postrm"),
			},
		},
	}
}

// pack writes one package. The rpm gets its own scripts (rpm passes counts,
// not dpkg's verbs) and no adduser dependency.
func pack(base *nfpm.Info, format, dir string) (string, error) {
	info := *base
	info.Overridables = base.Overridables
	info.Contents = append(files.Contents(nil), base.Contents...)
	if format == "rpm" {
		root := filepath.Dir(filepath.Dir(base.Scripts.PostInstall)) // packaging/
		info.Depends = nil
		info.Scripts = nfpm.Scripts{
			PostInstall: filepath.Join(root, "rpm/post.sh"),
			PreRemove:   filepath.Join(root, "rpm/preun.sh"),
			PostRemove:  filepath.Join(root, "rpm/postun.sh"),
		}
	}
	p, err := nfpm.Get(format)
	if err != nil {
		return "", err
	}
	prepared := nfpm.WithDefaults(&info)
	if err := nfpm.PrepareForPackager(prepared, format); err != nil {
		return "", fmt.Errorf("%s: %w", format, err)
	}
	path := filepath.Join(dir, p.ConventionalFileName(prepared))
	var buf bytes.Buffer
	if err := p.Package(prepared, &buf); err != nil {
		return "", fmt.Errorf("%s: %w", format, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// elfDepends is what the binary links: with cgo that is glibc only
// (karalabe/hid compiles libusb and hidapi in, without libudev), so Depends
// is libc6 at the newest GLIBC_ symbol version it uses; without cgo,
// nothing.
func elfDepends(bin string) ([]string, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		return nil, err
	}
	if len(libs) == 0 {
		return nil, nil
	}
	for _, l := range libs {
		switch {
		case l == "libc.so.6", l == "librt.so.1", l == "libpthread.so.0", l == "libdl.so.2", l == "libm.so.6", strings.HasPrefix(l, "ld-linux"):
		default:
			return nil, fmt.Errorf("the binary links %s: name its Debian package in mkdeb's Depends", l)
		}
	}
	syms, err := f.ImportedSymbols()
	if err != nil {
		return nil, err
	}
	newest := []int{0}
	for _, s := range syms {
		v, ok := strings.CutPrefix(s.Version, "GLIBC_")
		if !ok {
			continue
		}
		var parts []int
		for _, p := range strings.Split(v, ".") {
			n, err := strconv.Atoi(p)
			if err != nil {
				parts = nil
				break
			}
			parts = append(parts, n)
		}
		if parts != nil && versionLess(newest, parts) {
			newest = parts
		}
	}
	if newest[0] == 0 {
		return []string{"libc6"}, nil
	}
	vs := make([]string, len(newest))
	for i, n := range newest {
		vs[i] = strconv.Itoa(n)
	}
	return []string{"libc6 (>= " + strings.Join(vs, ".") + ")"}, nil
}

func versionLess(a, b []int) bool {
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// writeCopyright writes the Debian copyright file: posagent, the bundled C
// libraries, the Go standard library, then every module linked into bin
// with its licence text as found in the module cache.
func writeCopyright(root, bin, path string) error {
	var b strings.Builder
	b.WriteString(`Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: posagent
Source: https://github.com/posagent/posagent

Files: *
Copyright: 2026 the posagent authors
License: Apache-2.0
 On Debian, the full text is in /usr/share/common-licenses/Apache-2.0;
 /usr/share/doc/posagent/NOTICE says what the bundled libraries ask of
 redistributors.

Files: usr/bin/posagent (github.com/karalabe/hid: bundled libusb and hidapi, statically linked)
License: LGPL-2.1+ (libusb), BSD-3-clause (hidapi)
 On Debian, the LGPL-2.1 text is in /usr/share/common-licenses/LGPL-2.1.
 To relink posagent against a modified libusb, build it from its source
 (the posagent repository at this version, which pins libusb's sources
 through github.com/karalabe/hid in go.sum); see NOTICE.
 The module's own license text follows with the other Go modules.
`)
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return err
	}
	b.WriteString("\nFiles: usr/bin/posagent (the Go standard library and runtime)\nLicense: BSD-3-clause\n")
	if err := indentFile(&b, filepath.Join(strings.TrimSpace(string(goroot)), "LICENSE")); err != nil {
		return err
	}
	mods, err := linkedModules(root, bin)
	if err != nil {
		return err
	}
	for _, m := range mods {
		fmt.Fprintf(&b, "\nFiles: usr/bin/posagent (Go module %s %s)\n", m.path, m.version)
		lic := ""
		for _, f := range []string{"LICENSE", "LICENSE.md", "LICENSE.txt", "COPYING"} {
			if _, err := os.Stat(filepath.Join(m.dir, f)); m.dir != "" && err == nil {
				lic = filepath.Join(m.dir, f)
				break
			}
		}
		if lic == "" {
			b.WriteString("License: unknown (no license file in the module cache)\n")
			continue
		}
		b.WriteString("License: see below\n")
		if err := indentFile(&b, lic); err != nil {
			return err
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// indentFile appends a licence text in the copyright format: each line
// indented by one space, blank lines as " .".
func indentFile(b *strings.Builder, path string) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, l := range strings.Split(strings.TrimRight(string(text), "\n"), "\n") {
		if strings.TrimSpace(l) == "" {
			l = "."
		}
		b.WriteString(" " + l + "\n")
	}
	return nil
}

type module struct{ path, version, dir string }

// linkedModules lists the modules the binary was built from (its build
// info) with their directories in the module cache.
func linkedModules(root, bin string) ([]module, error) {
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("go version -m: %w", err)
	}
	var mods []module
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == "dep" {
			mods = append(mods, module{path: f[1], version: f[2]})
		}
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].path < mods[j].path })
	for i := range mods {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mods[i].path)
		cmd.Dir = root
		if d, err := cmd.Output(); err == nil {
			mods[i].dir = strings.TrimSpace(string(d))
		}
	}
	return mods, nil
}
