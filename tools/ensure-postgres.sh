#!/usr/bin/env bash
# Make sure the machine's PostgreSQL answers on 127.0.0.1:5432; start the Debian cluster if not.
set -euo pipefail
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    exit 0
fi
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
    for _ in $(seq 1 50); do
        pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
        sleep 0.2
    done
fi
echo "PostgreSQL is not running on 127.0.0.1:5432 and could not be started" >&2
exit 1
