#!/usr/bin/env bash
# Catalogue benchmark (issue 8): the whole bundled catalogue replayed by the release build, one
# scenario at a time (the reference) and with a job per core, two rounds each, in the same run.
#
#   Benchmarks/catalogue.sh [--rounds 2]
#
# Prints, per round, the scenarios, their virtual hours, the wall time of each way and the
# ratio. Target: the whole catalogue (≥ 100 scenarios, ≥ 100 virtual hours) under 1 s wall on
# 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown option $1 (use --rounds N)" >&2; exit 2 ;;
  esac
done
echo "building release…"
swift build -c release --product insight-replay 2>&1 | tail -1
bin=$(swift build -c release --show-bin-path)/insight-replay
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cores=$(nproc)

measure() {  # jobs → "wall scenarios virtual-hours passed"
  local start end
  start=$(date +%s.%N)
  "$bin" run --no-store --jobs "$1" --json "$work/report.json" > "$work/out.txt" || { tail -5 "$work/out.txt"; exit 1; }
  end=$(date +%s.%N)
  python3 - "$work/report.json" "$start" "$end" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
scenarios = report["scenarios"]
hours = sum(s["virtual_seconds"] for s in scenarios) / 3600
wall = float(sys.argv[3]) - float(sys.argv[2])
print(f"{wall:.3f} {len(scenarios)} {hours:.1f} {sum(1 for s in scenarios if s['passed'])}")
PY
}

printf '%-6s %10s %14s %16s %16s %8s\n' round scenarios virtual-hours "wall --jobs 1" "wall --jobs $cores" ratio
for round in $(seq 1 "$rounds"); do
  read -r one count hours passed < <(measure 1)
  read -r many _ _ _ < <(measure "$cores")
  ratio=$(python3 -c "print(f'{$one / $many:.2f}x')")
  printf '%-6s %10s %14s %15ss %15ss %8s\n' "$round" "$count ($passed passed)" "$hours" "$one" "$many" "$ratio"
done
echo "(wall: the whole process, start-up and loading included; target under 1 s with ≥ 100 scenarios and ≥ 100 virtual hours)"
