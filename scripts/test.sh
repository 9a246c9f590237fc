#!/usr/bin/env bash
# The project's test command (README, "Test"). Installs what the tests need
# beyond Go — Debian's chromium for the console's browser test — then runs
# every test. Extra arguments go to `go test` (e.g. -race, -run X).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "scripts/test.sh: installing chromium for the console browser test" >&2
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
	else
		echo "scripts/test.sh: WARNING: chromium is missing and cannot be installed here" \
			"(run as root, or: sudo apt-get install chromium); the console browser test will" \
			"skip, or fail when CI=true" >&2
	fi
fi

exec go test "$@" ./...
