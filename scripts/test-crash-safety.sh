#!/usr/bin/env bash
# Crash safety (issue 10): kill -9 an import in the middle of a large recording and a run in the
# middle of its history write, at varied moments; after each kill the store must pass
# PRAGMA integrity_check, hold whole recordings and whole runs only (no partial one), and the next
# command must work with no repair. (The recorder's own kill -9 check: test-recorder-crash.sh.)
# Loopback only, bounded. Ends with a "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
swift build --product insight-replay 2>&1 | tail -1
bin=$(swift build --show-bin-path)/insight-replay
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1"; fi; }

# A recording of 20,000 exchanges (one of the bundled recording's exchanges, varied by path).
python3 - "$work/big.json" <<'PY'
import copy, json, sys
base = json.load(open("Recordings/rate-limit-burst-recovers.json"))
one = base["exchanges"][-1]
exchanges = []
for i in range(20000):
    e = copy.deepcopy(one)
    e["path"] = f"/idr/v2/investigations/item-{i}"
    exchanges.append(e)
base["name"] = "big"
base["exchanges"] = exchanges
json.dump(base, open(sys.argv[1], "w"))
PY

store="$work/store.sqlite"
"$bin" import Recordings/rate-limit-burst-recovers.json --store "$store" > /dev/null
for delay in 0.3 1.0 1.8 2.2 2.5 2.7 3.0; do
  "$bin" import "$work/big.json" --store "$store" > /dev/null 2>&1 & pid=$!
  sleep "$delay"; kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  check "integrity after an import killed at ${delay}s" '[ "$(sqlite3 "$store" "PRAGMA integrity_check")" = ok ]'
  count=$(sqlite3 "$store" "SELECT COUNT(*) FROM exchanges e JOIN recordings r ON e.recording_id = r.id WHERE r.name = 'big'")
  check "the recording is whole or absent after a kill at ${delay}s ($count exchanges)" '[ "$count" = 0 ] || [ "$count" = 20000 ]'
  check "the next command works after a kill at ${delay}s" '"$bin" recordings --store "$store" > /dev/null'
  sqlite3 "$store" "DELETE FROM exchanges WHERE recording_id IN (SELECT id FROM recordings WHERE name = 'big'); DELETE FROM recordings WHERE name = 'big'"
done

# Runs killed while they write their history: whole runs only.
scenarios=$(find Scenarios -name "*.yaml" | wc -l)
for delay in 0.12 0.15 0.17 0.18 0.19 0.2 0.21 0.23; do
  "$bin" run --store "$store" > /dev/null 2>&1 & pid=$!
  sleep "$delay"; kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  check "integrity after a run killed at ${delay}s" '[ "$(sqlite3 "$store" "PRAGMA integrity_check")" = ok ]'
  partial=$(sqlite3 "$store" "SELECT COUNT(*) FROM (SELECT run_id, COUNT(*) AS n FROM scenario_runs GROUP BY run_id HAVING n != $scenarios)")
  check "no partial run after a kill at ${delay}s" '[ "$partial" = 0 ]'
  check "history works after a kill at ${delay}s" '"$bin" history --store "$store" > /dev/null'
done
check "a run after the kills records itself" '"$bin" run --store "$store" > /dev/null && [ "$(sqlite3 "$store" "SELECT COUNT(*) FROM runs")" -ge 1 ]'
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
