#!/bin/sh
# Install posagent on a systemd distribution without dpkg (the .deb from
# from `go run ./packaging/cmd/mkdeb` is the way on Debian and Ubuntu). Run as root from a checkout:
#
#   packaging/install.sh [PREFIX]       PREFIX defaults to /usr/local
#   packaging/install.sh --uninstall [PREFIX]
#
# It builds the binary (or installs POSAGENT_BIN), installs the unit into
# /etc/systemd/system with ExecStart under PREFIX, the udev rules, the
# modules-load.d file and the docs, creates the posagent system user and
# /var/lib/posagent, and copies the example config to
# /etc/posagent/posagent.yaml. An existing config or udev rules file is
# never overwritten. Like the package, it does not start the service.
#
# DESTDIR=DIR installs into DIR instead of / (for staging or a test) and then
# skips what only makes sense on the live system: users, ownership, reloads.
# VERSION stamps the built binary.
#
# --uninstall stops and disables the service and removes what install put in
# place: the binary, the unit, the modules-load.d file, the docs, and the udev
# rules if they are still the shipped ones. It keeps /etc/posagent (config,
# keys), /var/lib/posagent (the payment journal) and the posagent user, and
# says so.
set -eu
umask 022

root=$(cd "$(dirname "$0")/.." && pwd)
uninstall=false
if [ "${1:-}" = "--uninstall" ]; then
	uninstall=true
	shift
fi
prefix=${1:-/usr/local}
dest=${DESTDIR:-}
live=true
[ -n "$dest" ] && live=false

die() {
	echo "install: $*" >&2
	exit 1
}

if $live && [ "$(id -u)" != 0 ]; then
	die "run as root (or set DESTDIR to stage the files)"
fi

if $uninstall; then
	if $live && [ -d /run/systemd/system ]; then
		systemctl disable --now posagent.service 2>/dev/null || true
	fi
	rm -f "$dest$prefix/bin/posagent" "$dest/etc/systemd/system/posagent.service" "$dest/etc/modules-load.d/posagent.conf"
	rm -rf "$dest$prefix/share/doc/posagent"
	rules=$dest/etc/udev/rules.d/60-posagent.rules
	if [ -e "$rules" ]; then
		if cmp -s "$rules" "$root/packaging/60-posagent.rules"; then
			rm -f "$rules"
		else
			echo "install: kept $rules: it has your device ids (delete it by hand if no longer wanted)" >&2
		fi
	fi
	if $live && [ -d /run/systemd/system ]; then
		systemctl daemon-reload
	fi
	cat <<MSG
posagent is uninstalled from $prefix. Kept on purpose:
  /etc/posagent        the configuration and gateway keys
  /var/lib/posagent    the payment journal (back it up, then delete it if you must)
  the posagent user and group
MSG
	exit 0
fi

bin=${POSAGENT_BIN:-}
if [ -z "$bin" ]; then
	command -v go >/dev/null 2>&1 || die "go is needed to build posagent (or set POSAGENT_BIN)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT INT TERM
	bin=$tmp/posagent
	(cd "$root" && go build -trimpath -ldflags "-s -w -X main.version=${VERSION:-0.1.0-local}" -o "$bin" ./cmd/posagent)
fi

install -D -m 0755 "$bin" "$dest$prefix/bin/posagent"
install -d -m 0755 "$dest/etc/systemd/system" "$dest/etc/modules-load.d" "$dest/etc/udev/rules.d" "$dest$prefix/share/doc/posagent"
sed "s#/usr/bin/posagent#$prefix/bin/posagent#; s#file:///usr/share/doc/posagent/#file://$prefix/share/doc/posagent/#" \
	"$root/packaging/posagent.service" >"$dest/etc/systemd/system/posagent.service"
chmod 0644 "$dest/etc/systemd/system/posagent.service"
install -m 0644 "$root/packaging/modules-load.conf" "$dest/etc/modules-load.d/posagent.conf"
install -m 0644 "$root/README.md" "$root/ARCHITECTURE.md" "$root/NOTICE" "$root/LICENSE" "$dest$prefix/share/doc/posagent/"
if [ ! -e "$dest/etc/udev/rules.d/60-posagent.rules" ]; then
	install -m 0644 "$root/packaging/60-posagent.rules" "$dest/etc/udev/rules.d/60-posagent.rules"
fi
install -d -m 0750 "$dest/etc/posagent"
if [ ! -e "$dest/etc/posagent/posagent.yaml" ]; then
	install -m 0640 "$root/configs/posagent.example.yaml" "$dest/etc/posagent/posagent.yaml"
fi

if ! $live; then
	exit 0
fi

nologin=$(command -v nologin || echo /sbin/nologin)
if ! getent group posagent >/dev/null; then
	groupadd --system posagent
fi
if ! getent passwd posagent >/dev/null; then
	useradd --system --gid posagent --home-dir /var/lib/posagent --no-create-home \
		--shell "$nologin" --comment "posagent payment terminal" posagent
fi
for g in dialout lp plugdev; do
	if getent group "$g" >/dev/null; then
		usermod -a -G "$g" posagent
	else
		# systemd refuses to start a unit whose SupplementaryGroups= is missing.
		echo "install: group $g does not exist here: create it, or drop it from SupplementaryGroups= (systemctl edit posagent)" >&2
	fi
done
chown root:posagent /etc/posagent /etc/posagent/posagent.yaml
if [ ! -d /var/lib/posagent ]; then
	install -d -m 0700 -o posagent -g posagent /var/lib/posagent
fi

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	modprobe -qa cdc_acm usbserial 2>/dev/null || true
fi
if command -v udevadm >/dev/null 2>&1 && [ -d /run/udev ]; then
	udevadm control --reload || true
fi
cat <<MSG
posagent is installed in $prefix/bin but not started. Next: edit
/etc/posagent/posagent.yaml and /etc/udev/rules.d/60-posagent.rules, then
  runuser -u posagent -- $prefix/bin/posagent serve --config /etc/posagent/posagent.yaml --check
  systemctl enable --now posagent
MSG
