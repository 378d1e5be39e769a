#!/usr/bin/env bash
# Every common client stack reaches every regional host with certificate checks on, unmodified
# (Examples/stacks/): under `insight-replay exec`, and with `serve --print-env` evaluated. Prints
# the table the README gives (stack → print-env / exec) and fails when a stack the README says
# works under exec does not. A stack whose runtime is not installed is said, not hidden.
#   scripts/check-client-stacks.sh [--binary PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

binary=".build/debug/insight-replay"
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) [ $# -ge 2 ] || { echo "--binary needs a path, e.g. --binary .build/release/insight-replay" >&2; exit 2; }; binary="$2"; shift 2 ;;
    *) echo "unknown option $1 (known: --binary PATH)" >&2; exit 2 ;;
  esac
done
[ -x "$binary" ] || { echo "$binary is not built: swift build" >&2; exit 2; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
store="$work/store.sqlite"

# name | runtime needed | command
stacks=(
  "curl|curl --version|sh Examples/stacks/curl.sh"
  "wget|wget --version|sh Examples/stacks/wget.sh"
  "Python urllib|python3 -c pass|python3 Examples/stacks/python_urllib.py"
  "requests.get|python3 -c 'import requests'|python3 Examples/stacks/python_requests_get.py"
  "requests Session.send|python3 -c 'import requests'|python3 Examples/stacks/python_requests_session_send.py"
  "aiohttp (default session)|python3 -c 'import aiohttp'|python3 Examples/stacks/python_aiohttp.py"
  "httpx|python3 -c 'import httpx'|python3 Examples/stacks/python_httpx.py"
  "Node fetch|node --version|node Examples/stacks/node_fetch.mjs"
  "Node https.request|node --version|node Examples/stacks/node_https.js"
  "Java HttpClient|java -version|java Examples/stacks/Validate.java"
  "Go net/http|go version|go run Examples/stacks/validate.go"
)

ok() { [ "$(grep -c ' 200$' "$1")" -eq 7 ]; }

port=$(free_port)
"$binary" serve --port "$port" --store "$store" > "$work/serve.log" 2>&1 &
server_pid=$!
wait_for "$work/serve.log" "listening on"
env_file="$work/env.sh"
"$binary" serve --print-env --port "$port" --store "$store" > "$env_file"

failed=0
printf '%-28s %-10s %-10s\n' "stack" "print-env" "exec"
for row in "${stacks[@]}"; do
  IFS='|' read -r name need command <<< "$row"
  if ! sh -c "$need" >/dev/null 2>&1; then
    printf '%-28s %-10s %-10s\n' "$name" "-" "not installed"
    continue
  fi
  (set +u; . "$env_file"; timeout 120 sh -c "$command") > "$work/env.out" 2>&1 || true
  timeout 180 "$binary" exec --store "$store" -- sh -c "$command" > "$work/exec.out" 2>&1 || true
  printenv_result=$(ok "$work/env.out" && echo works || echo no)
  exec_result=$(ok "$work/exec.out" && echo works || echo FAILED)
  printf '%-28s %-10s %-10s\n' "$name" "$printenv_result" "$exec_result"
  if [ "$exec_result" != works ]; then failed=1; sed 's/^/    /' "$work/exec.out" | head -12; fi
done
[ $failed -eq 0 ] || { echo "a stack failed under exec"; exit 1; }
echo "every installed stack reaches all 7 regional hosts under exec"
