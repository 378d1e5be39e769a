#!/usr/bin/env bash
# Builds insight-replay for people without a Swift toolchain (release, the Swift runtime and
# Foundation linked statically) and checks it runs with nothing of the toolchain on its library
# path: no shared library resolved from the toolchain, then `ca`, `serve` and a curl request
# through its HTTPS proxy, run with a bare environment. Prints where the binary is.
#   scripts/check-static-build.sh [--scratch .build-static]
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${2:-.build-static}"
# Static Foundation networking calls libcurl, which the system provides (libcurl4, not the toolchain).
if ! ls /usr/lib/*/libcurl.so /usr/lib/libcurl.so >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcurl4-openssl-dev >&2
fi
swift build -c release --static-swift-stdlib -Xlinker -lcurl --scratch-path "$scratch" --product insight-replay >&2
# The interposer `exec` and command scenarios preload: a C library, found beside the binary.
swift build -c release --scratch-path "$scratch" --product InsightPreload >&2
binary="$scratch/release/insight-replay"
[ -f "$scratch/release/libInsightPreload.so" ] || { echo "FAIL: libInsightPreload.so was not built beside $binary"; exit 1; }
toolchain="$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")"
echo "binary: $binary ($(du -h "$binary" | cut -f1))"
echo "shared libraries it needs:"
ldd "$binary" | sed 's/^/  /'
if ldd "$binary" | grep -q "not found"; then echo "FAIL: a library is missing"; exit 1; fi
if ldd "$binary" | grep -q "$toolchain"; then echo "FAIL: a library comes from the toolchain at $toolchain"; exit 1; fi
work="$(mktemp -d)"
# The server is stopped, and waited for, however the script ends: it is started without a shell
# function between, so $! is the server itself and nothing outlives the script.
stop() { if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; rm -rf "$work"; }
trap stop EXIT
cp "$binary" "$work/insight-replay"
cp "$(dirname "$binary")/libInsightPreload.so" "$work/libInsightPreload.so"
cd "$work"
run() { env -i PATH=/usr/bin:/bin HOME="$work" LD_LIBRARY_PATH= "$work/insight-replay" "$@"; }
run --version
run ca --path
port=$((20000 + RANDOM % 20000))
env -i PATH=/usr/bin:/bin HOME="$work" LD_LIBRARY_PATH= "$work/insight-replay" serve --port "$port" > serve.log 2>&1 & server=$!
for _ in $(seq 1 50); do grep -q "listening" serve.log 2>/dev/null && break; sleep 0.1; done
eval "$(run serve --print-env --port "$port")"
answer="$(curl -sS --max-time 10 -H "X-Api-Key: $R7_KEY_DEMO_US2_USER" https://us2.api.insight.rapid7.com/validate)"
echo "through the proxy, verification on: $answer"
[ "$answer" = '{"message":"Authorized"}' ] || { echo "FAIL"; cat serve.log; exit 1; }
answer="$(run exec -- sh -c 'curl -sS --max-time 10 -H "X-Api-Key: $R7_KEY_DEMO_US2_USER" https://us2.api.insight.rapid7.com/validate')"
echo "under exec, verification on: $answer"
[ "$answer" = '{"message":"Authorized"}' ] || { echo "FAIL: exec"; exit 1; }
kill "$server"; wait "$server" 2>/dev/null || true
if kill -0 "$server" 2>/dev/null || pgrep -f "$work/insight-replay" > /dev/null; then echo "FAIL: the server outlived its stop"; exit 1; fi
server=
echo "static build OK: runs without the Swift toolchain; the server it started is gone"
