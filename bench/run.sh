#!/usr/bin/env bash
# Builds hotline, starts it on a loopback port with a fresh database and a
# test auth token, runs the load generator (no-op, SMS, no-op), prints the
# table and the server's peak resident memory, and stops the server.
#   bench/run.sh [-c 32] [-d 10s]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
go build -o "$dir/hotline" ./cmd/hotline
go build -o "$dir/bench" ./bench
port="${BENCH_PORT:-18080}"
token="0123456789abcdef0123456789abcdef"
(cd "$dir" && exec env HOTLINE_ADDR="127.0.0.1:$port" HOTLINE_DB="$dir/bench.db" HOTLINE_PUBLIC_URL="http://127.0.0.1:$port" \
	TWILIO_AUTH_TOKEN="$token" HOTLINE_STAFF_TOKENS="bench:bench-staff-token-0123456789" \
	HOTLINE_SMS_PER_MINUTE=1000000 HOTLINE_LOG_FORMAT=json ./hotline serve >"$dir/server.log" 2>&1) &
pid=$! # the server itself (exec)
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
"$dir/bench" -url "http://127.0.0.1:$port" -token "$token" "$@"
echo
grep -E 'VmHWM|VmRSS' "/proc/$pid/status" | sed 's/^/server /'
