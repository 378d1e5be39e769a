#!/usr/bin/env bash
# Crash safety of the recorder (issue 5): kill -9 a recording process in the middle of a burst,
# then the store must pass PRAGMA integrity_check and hold every exchange whose answer reached
# the client (each is committed before it is answered; at most the one in flight may be extra).
# Loopback only, bounded. Ends with a "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
swift build --product insight-replay 2>&1 | tail -1
bin=$(swift build --show-bin-path)/insight-replay
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
source scripts/lib.sh

upstream=$(free_port); proxy=$(free_port)
"$bin" serve --port "$upstream" > "$work/serve.log" 2>&1 & pids+=($!)
wait_for "$work/serve.log" listening
key=$(awk '$2=="user" && $1=="us" {print $3; exit}' "$work/serve.log")
"$bin" record --upstream "http://127.0.0.1:$upstream" --name crash --port "$proxy" --store "$work/store.sqlite" > "$work/record.log" 2>&1 &
recorder=$!; pids+=($recorder)
wait_for "$work/record.log" "recording 'crash'"

# A bounded burst in the background; the recorder is killed once 60 answers have arrived.
( for i in $(seq 1 400); do
    curl -s -o /dev/null -w "%{http_code}\n" --max-time 2 -H "X-Api-Key: $key" \
      "http://127.0.0.1:$proxy/us/idr/v2/investigations?size=5&index=$((i % 20))" >> "$work/codes" || echo "000" >> "$work/codes"
  done ) & burst=$!; pids+=($burst)
for _ in $(seq 1 600); do [ "$(grep -c '^200$' "$work/codes" 2>/dev/null || true)" -ge 60 ] 2>/dev/null && break; sleep 0.05; done
kill -9 "$recorder"
wait "$burst" || true

answered=$(grep -c '^200$' "$work/codes" || true)
integrity=$(sqlite3 "$work/store.sqlite" "PRAGMA integrity_check;")
stored=$(sqlite3 "$work/store.sqlite" "SELECT COUNT(*) FROM exchanges e JOIN recordings r ON r.id = e.recording_id WHERE r.name = 'crash';")
echo "answered before the kill: $answered; exchanges stored: $stored; integrity_check: $integrity"
passed=0; failed=0
check() { if eval "$2"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi; }
check "the store passes PRAGMA integrity_check after kill -9" '[ "$integrity" = "ok" ]'
check "every answered exchange is stored (at most one more, in flight)" '[ "$stored" -ge "$answered" ] && [ "$stored" -le $((answered + 1)) ]'
check "the kill happened mid-burst" '[ "$answered" -ge 60 ] && [ "$answered" -lt 400 ]'
check "no key reached the store" '! sqlite3 "$work/store.sqlite" "SELECT body FROM exchanges" | grep -q "$key"'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
