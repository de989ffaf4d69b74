#!/bin/sh
# posagent %postun (rpm passes 0 on removal). rpm has no purge: the payment
# journal in /var/lib/posagent, the config and the posagent user stay.
set -e
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload || true
fi
if [ "${1:-0}" -eq 0 ]; then
	echo "posagent: kept /var/lib/posagent (the payment journal) and /etc/posagent; remove them by hand once backed up (posagent backup FILE)." >&2
fi
exit 0
