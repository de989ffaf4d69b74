#!/bin/sh
# posagent %post (rpm passes 1 on install, 2 or more on upgrade). Like the
# .deb's postinst: the posagent user, its state directory and the ownership
# of /etc/posagent; the service is never started on a first install, and a
# running one is restarted onto the new binary on an upgrade.
set -e
if ! getent group posagent >/dev/null; then
	groupadd --system posagent
fi
if ! getent passwd posagent >/dev/null; then
	useradd --system --gid posagent --home-dir /var/lib/posagent --no-create-home \
		--shell /sbin/nologin --comment "posagent payment terminal" posagent
fi
for g in dialout lp plugdev; do
	if getent group "$g" >/dev/null; then
		usermod -a -G "$g" posagent
	fi
done
if [ ! -d /var/lib/posagent ]; then
	install -d -m 0700 -o posagent -g posagent /var/lib/posagent
fi
chown root:posagent /etc/posagent /etc/posagent/posagent.yaml
chmod 0750 /etc/posagent
chmod 0640 /etc/posagent/posagent.yaml
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	if [ "${1:-1}" -ge 2 ]; then
		systemctl try-restart posagent.service || true
	fi
fi
if command -v udevadm >/dev/null 2>&1 && [ -d /run/udev ]; then
	udevadm control --reload || true
fi
exit 0
