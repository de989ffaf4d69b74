#!/bin/sh
# Build the posagent Debian package.
#
#   packaging/build-deb.sh [VERSION] [ARCH]
#
# VERSION defaults to the tag `git describe` finds (v1.2.0-3-gabc1234 becomes
# 1.2.0+3.gabc1234) or, with no tag, main.go's base version plus the commit
# (0.1.0~git20250101T120000.abc1234, which sorts below the 0.1.0 release).
# ARCH is a Debian architecture (amd64, arm64, armhf, i386) and defaults to
# this machine's. The binary is built with cgo (USB-HID scanners need it);
# for another ARCH set CC to a cross compiler (e.g. CC=aarch64-linux-gnu-gcc),
# or set CGO_ENABLED=0 for a build without USB-HID (evdev scanners still
# work; the daemon says so at start).
#
# Environment: DIST_DIR (default ./dist) receives posagent_VERSION_ARCH.deb,
# whose path is the last line printed; DEB_MAINTAINER sets Maintainer.
# Needs go, dpkg-deb and, with cgo, a C compiler; dpkg-shlibdeps (dpkg-dev)
# computes Depends when present.
set -eu
# Modes in the package come from here, not from the caller's umask.
umask 022

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

version=${1:-}
arch=${2:-}
dist=${DIST_DIR:-$root/dist}
maintainer=${DEB_MAINTAINER:-posagent developers <posagent@users.noreply.github.com>}

die() {
	echo "build-deb: $*" >&2
	exit 1
}

for tool in go dpkg-deb; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (go: https://go.dev/dl; dpkg-deb: apt install dpkg)"
done

if [ -z "$version" ]; then
	if desc=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
		version=$(echo "${desc#v}" | sed -E 's/-([0-9]+)-g([0-9a-f]+)$/+\1.g\2/')
	else
		base=$(sed -n 's/^var version = "\([0-9][0-9.]*\).*"/\1/p' cmd/posagent/main.go)
		stamp=$(git log -1 --format=%cd --date=format:%Y%m%dT%H%M%S 2>/dev/null || date -u +%Y%m%dT%H%M%S)
		sha=$(git rev-parse --short HEAD 2>/dev/null || echo local)
		version="${base:-0.0.0}~git$stamp.$sha"
	fi
fi
echo "$version" | grep -Eq '^[0-9][A-Za-z0-9.+~]*(-[A-Za-z0-9.+~]+)?$' ||
	die "version '$version' is not a Debian version (starts with a digit; letters, digits and . + ~ -)"

host_arch=$(dpkg --print-architecture 2>/dev/null || go env GOARCH)
arch=${arch:-$host_arch}
goarm=
case "$arch" in
amd64 | arm64 | riscv64 | ppc64el | s390x | loong64) goarch=$arch ;;
i386) goarch=386 ;;
armhf) goarch=arm goarm=7 ;;
armel) goarch=arm goarm=5 ;;
*) die "unknown Debian architecture '$arch'" ;;
esac
[ "$goarch" = ppc64el ] && goarch=ppc64le

cgo=${CGO_ENABLED:-1}
if [ "$cgo" = 1 ]; then
	cc=${CC:-cc}
	if [ "$arch" != "$host_arch" ] && [ -z "${CC:-}" ]; then
		die "cross-building $arch with cgo needs CC (e.g. CC=aarch64-linux-gnu-gcc), or CGO_ENABLED=0 for a build without USB-HID"
	fi
	command -v "$cc" >/dev/null 2>&1 ||
		die "cgo needs a C compiler ($cc not found: apt install gcc), or set CGO_ENABLED=0 for a build without USB-HID"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
# debian/posagent is where dpkg-shlibdeps expects a package's files.
tree=$work/debian/posagent
doc=$tree/usr/share/doc/posagent

install -d -m 0755 "$tree/DEBIAN" "$tree/usr/bin" "$tree/lib/systemd/system" \
	"$tree/lib/udev/rules.d" "$tree/lib/modules-load.d" "$doc"
install -d -m 0750 "$tree/etc/posagent"

echo "build-deb: go build ($arch, CGO_ENABLED=$cgo, version $version)" >&2
GOOS=linux GOARCH=$goarch GOARM=$goarm CGO_ENABLED=$cgo \
	go build -trimpath -ldflags "-s -w -X main.version=$version" \
	-o "$tree/usr/bin/posagent" ./cmd/posagent
chmod 0755 "$tree/usr/bin/posagent"

install -m 0644 packaging/posagent.service "$tree/lib/systemd/system/posagent.service"
install -m 0644 packaging/60-posagent.rules "$tree/lib/udev/rules.d/60-posagent.rules"
install -m 0644 packaging/modules-load.conf "$tree/lib/modules-load.d/posagent.conf"
# root:posagent comes from postinst (dpkg-statoverride): the group does not
# exist when dpkg unpacks a first install.
install -m 0640 configs/posagent.example.yaml "$tree/etc/posagent/posagent.yaml"
install -m 0644 README.md ARCHITECTURE.md NOTICE "$doc/"

# copyright: posagent, then every module linked into this binary with its
# license text as found in the module cache, and the bundled C libraries.
{
	cat <<'HEAD'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
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
HEAD
	echo
	echo "Files: usr/bin/posagent (the Go standard library and runtime)"
	echo "License: BSD-3-clause"
	sed 's/^$/./; s/^/ /' "$(go env GOROOT)/LICENSE"
	go version -m "$tree/usr/bin/posagent" | awk '$1 == "dep" { print $2, $3 }' |
		while read -r mod ver; do
			dir=$(go list -m -f '{{.Dir}}' "$mod" 2>/dev/null || true)
			lic=
			for f in LICENSE LICENSE.md LICENSE.txt COPYING; do
				if [ -n "$dir" ] && [ -f "$dir/$f" ]; then
					lic=$dir/$f
					break
				fi
			done
			echo
			echo "Files: usr/bin/posagent (Go module $mod $ver)"
			if [ -n "$lic" ]; then
				echo "License: see below"
				sed 's/^[[:space:]]*$/./; s/^/ /' "$lic"
			else
				echo "License: unknown (no license file in the module cache)"
			fi
		done
} >"$doc/copyright"
chmod 0644 "$doc/copyright"

install -m 0644 packaging/deb/conffiles "$tree/DEBIAN/conffiles"
for s in postinst prerm postrm; do
	install -m 0755 "packaging/deb/$s" "$tree/DEBIAN/$s"
done

# Depends: what the binary links. With cgo that is glibc only (karalabe/hid
# compiles libusb and hidapi in, without libudev); without cgo, nothing.
depends=
if command -v dpkg-shlibdeps >/dev/null 2>&1; then
	printf 'Source: posagent\n\nPackage: posagent\nArchitecture: any\n' >"$work/debian/control"
	if out=$(cd "$work" && dpkg-shlibdeps -O -e debian/posagent/usr/bin/posagent 2>/dev/null); then
		depends=$(echo "$out" | sed -n 's/^shlibs:Depends=//p')
	fi
	rm -f "$work/debian/control"
fi
if [ -z "$depends" ] && [ "$cgo" = 1 ]; then
	# No dpkg-dev, or a cross build: read the ELF. Only glibc is expected.
	command -v readelf >/dev/null 2>&1 || die "cannot compute Depends: install dpkg-dev or binutils"
	needed=$(readelf -d "$tree/usr/bin/posagent" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	for lib in $needed; do
		case "$lib" in
		libc.so.6 | librt.so.1 | libpthread.so.0 | libdl.so.2 | libm.so.6 | ld-linux*) ;;
		*) die "the binary links $lib; install dpkg-dev so dpkg-shlibdeps can name its package" ;;
		esac
	done
	if [ -n "$needed" ]; then
		glibc=$(readelf -V "$tree/usr/bin/posagent" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1)
		depends="libc6 (>= $glibc)"
	fi
fi
depends=${depends:+$depends, }adduser

installed_size=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)
cat >"$tree/DEBIAN/control" <<CONTROL
Package: posagent
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends
Recommends: systemd, udev
Section: net
Priority: optional
Homepage: https://github.com/posagent/posagent
Description: scan-code payment terminal daemon for Linux tills
 posagent reads customers' payment codes (WeChat Pay, Alipay, UnionPay and
 others) from USB-HID and serial barcode scanners, charges them through an
 acquirer gateway, shows merchant QR codes on a customer display and prints
 ESC/POS receipts. Every step is journaled in SQLite before it is acted on,
 so a crash or network loss never loses a payment or charges twice. The
 till software drives it through a local HTTP API.
 .
 The service is installed disabled: edit /etc/posagent/posagent.yaml, then
 systemctl enable --now posagent.
CONTROL

(cd "$tree" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum) >"$tree/DEBIAN/md5sums"
chmod 0644 "$tree/DEBIAN/control" "$tree/DEBIAN/md5sums"

mkdir -p "$dist"
deb=$dist/posagent_${version}_$arch.deb
dpkg-deb --build --root-owner-group "$tree" "$deb" >&2
echo "$deb"
