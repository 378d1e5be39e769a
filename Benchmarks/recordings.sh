#!/usr/bin/env bash
# Recordings benchmark (issue 5): import 100k exchanges into SQLite, lookup latency in the
# matcher, and the server's resident memory while it answers from those 100k on loopback.
#
#   Benchmarks/recordings.sh [--exchanges 100000] [--duration 5]
#
# Targets: import < 5 s; lookup p99 < 1 ms at 100k; server RSS < 150 MB while serving them.
set -euo pipefail
cd "$(dirname "$0")/.."

exchanges=100000 duration=5
while [ $# -gt 0 ]; do
  case "$1" in
    --exchanges) exchanges=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    *) echo "unknown option $1 (use --exchanges N, --duration S)" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

echo "building release…"
swift build -c release --product insight-replay 2>&1 | tail -1
bin=$(swift build -c release --show-bin-path)/insight-replay
work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin" bench-store --exchanges "$exchanges" --store "$work/store.sqlite"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$bin" serve --port "$port" --threads 2 --store "$work/store.sqlite" --recording bench > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q "listening" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
key=$(awk '$2=="user" && $1=="us" {print $3; exit}' "$work/serve.log")
[ -n "$key" ] || { echo "server did not start:"; cat "$work/serve.log"; exit 1; }
url="http://127.0.0.1:$port/idr/v2/investigations/rrn:investigation:bench:7?size=20"
curl -sf -H "Host: us.api.insight.rapid7.com" -H "X-Api-Key: $key" "$url" | grep -q "bench:7" \
  || { echo "the server did not answer from the recording"; exit 1; }
idle=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
peak=$idle
wrk -t2 -c32 -d"${duration}s" -H "Host: us.api.insight.rapid7.com" -H "X-Api-Key: $key" "$url" > "$work/wrk.txt" &
wrk_pid=$!
while kill -0 $wrk_pid 2>/dev/null; do
  now=$(awk '/VmRSS/ {print $2}' /proc/$pid/status); [ "$now" -gt "$peak" ] && peak=$now; sleep 0.2
done
wait $wrk_pid
grep -q "Non-2xx" "$work/wrk.txt" && { echo "benchmark invalid: the server answered errors"; cat "$work/wrk.txt"; exit 1; }
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
printf "  server RSS idle            %8.1f MB\n" "$(awk -v k="$idle" 'BEGIN { print k / 1024 }')"
printf "  server RSS peak under load %8.1f MB    target < 150 MB  %s\n" "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')" "$([ "$peak" -lt 153600 ] && echo ok || echo MISSED)"
printf "  answered from the recording %7.0f req/s (wrk -t2 -c32, ${duration}s)\n" "$rps"
