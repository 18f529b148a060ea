#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a browser downloaded by playwright). Install it
# when it is missing: as root non-interactively, else say how.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Chromium is missing: run 'sudo apt-get install -y chromium' (the DApp's browser tests need /usr/bin/chromium)" >&2
    exit 1
fi
echo "installing Debian's chromium for the browser tests"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
test -x /usr/bin/chromium
