#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, through swiftc's -sanitize=fuzzer) of the YAML scenario
# loader, the HAR and recording readers, or the server's request path, with AddressSanitizer.
#
#   scripts/fuzz.sh yaml|har|router [--time SECONDS] [-- LIBFUZZER-FLAGS...]
#
# Builds Fuzz/ into .build-fuzz (its own build folder: every module instrumented), writes the
# seed corpus (the bundled scenarios, HAR fixtures and recordings, or requests to the routes
# integrations call) to .build-fuzz/corpus-TARGET, and fuzzes for --time seconds (default 60).
# A finding is written as .build-fuzz/findings/crash-…; replay it with the plain build:
#   swift run insight-fuzz TARGET .build-fuzz/findings/crash-…
# Prints libFuzzer's figures (runs, coverage, corpus size) and exits non-zero on a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-}"
case "$target" in yaml|har|router) shift ;; *) echo "usage: scripts/fuzz.sh yaml|har|router [--time SECONDS] [-- LIBFUZZER-FLAGS...]" >&2; exit 2 ;; esac
seconds=60
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) seconds="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

build=(swift build --scratch-path .build-fuzz --product insight-fuzz
       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING)
echo "== building the fuzz targets (instrumented; the first build takes several minutes)"
"${build[@]}" 2>&1 | grep -v "warning: Cannot export local symbol" | tail -3
binary="$("${build[@]}" --show-bin-path)/insight-fuzz"

# The seed corpus comes from the uninstrumented build (it runs main; the fuzz build has none).
swift build --product insight-fuzz 2>&1 | tail -1
corpus=".build-fuzz/corpus-$target"
"$(swift build --show-bin-path)/insight-fuzz" seeds "$target" "$corpus"
mkdir -p .build-fuzz/findings

echo "== fuzzing $target for $seconds s"
# Swift's crash backtracer would spend its 30 s on every finding; libFuzzer reports it anyway.
SWIFT_BACKTRACE=enable=no INSIGHT_FUZZ_TARGET="$target" ASAN_OPTIONS=detect_leaks=0 \
  "$binary" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix=.build-fuzz/findings/ -print_final_stats=1 "${extra[@]}"
