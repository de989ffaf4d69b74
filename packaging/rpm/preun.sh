#!/bin/sh
# posagent %preun (rpm passes 0 on removal, 1 on upgrade): stop and disable
# the service only when the package goes away.
set -e
if [ "${1:-0}" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then
	if [ -d /run/systemd/system ]; then
		systemctl stop posagent.service || true
	fi
	systemctl --no-reload disable posagent.service >/dev/null 2>&1 || true
fi
exit 0
