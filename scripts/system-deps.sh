#!/usr/bin/env bash
# Install the Debian packages the test suite drives for real: chromium (browser tests, driven by
# Playwright without `playwright install`) and redis-server (the cancel bus). Idempotent.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: please install ${need[*]} (apt-get install ${need[*]}); not root, so not doing it here" >&2
  exit 1
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
