#!/usr/bin/env bash
# Secrets never persist (issue 10): one canary key through every path a key can take, then every
# output and every file written is searched for it as text, percent-encoded and base64.
# Paths: a scenario literal with run -v, --junit, --json, --html and history; serve with the key in
# headers and in ?api_key=, its journal and admin API, --log-level debug; record through the
# proxy, export as JSON and HAR; diagnose with the key from the environment and from stdin.
# Loopback only, bounded. Ends with "secret hits: 0" or lists each hit and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product insight-replay 2>&1 | tail -1
bin=$(swift build --show-bin-path)/insight-replay
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
source scripts/lib.sh

# Key-shaped, with characters that percent-encoding and base64 change.
canary="c4n4ry0k-3y+s3cr3t/4a7e-9d2c=11f0"
store="$work/store.sqlite"

# 1. A scenario whose token is the canary, through run and every report, then history.
cat > "$work/canary.yaml" <<EOF
name: canary-literal
provenance: issue 10, secrets
tenant:
  region: us
  users: [{ email: canary.person@example.com, roles: [Insight IDR Analyst, Log Search View Only], products: [InsightIDR] }]
  keys: [{ id: main, kind: user, owner: canary.person@example.com }]
client: { url: https://us.api.insight.rapid7.com, token: { literal: "$canary" } }
steps: [validate]
expect: { diagnosis: authentication_failed }
EOF
"$bin" run "$work/canary.yaml" -v --store "$store" --junit "$work/junit.xml" --json "$work/report.json" --html "$work/report.html" \
  --log-level debug > "$work/run.out" 2> "$work/run.err" || true
"$bin" history --store "$store" > "$work/history.out" 2>&1 || true
"$bin" history --store "$store" --scenario canary-literal >> "$work/history.out" 2>&1 || true

# 2. serve, the key in a header and in ?api_key=, the journal and the admin API, debug logs.
port=$(free_port)
"$bin" serve --port "$port" --store "$work/serve-store.sqlite" --log-level debug > "$work/serve.out" 2> "$work/serve.err" & pids+=($!)
wait_for "$work/serve.out" listening
curl -s -o "$work/curl1.out" -H "X-Api-Key: $canary" "http://127.0.0.1:$port/us/validate" || true
curl -s -o "$work/curl2.out" -G --data-urlencode "api_key=$canary" "http://127.0.0.1:$port/us/idr/v2/investigations" || true
curl -s -o "$work/journal.out" "http://127.0.0.1:$port/_admin/journal?limit=100" || true

# 3. record through the proxy with the canary, export JSON and HAR.
proxy=$(free_port)
"$bin" record --upstream "http://127.0.0.1:$port" --name canary --port "$proxy" --store "$store" --log-level debug \
  > "$work/record.out" 2> "$work/record.err" & recorder=$!; pids+=($recorder)
wait_for "$work/record.out" "recording 'canary'"
curl -s -o /dev/null -H "X-Api-Key: $canary" "http://127.0.0.1:$proxy/us/validate" || true
curl -s -o /dev/null -G --data-urlencode "api_key=$canary" "http://127.0.0.1:$proxy/us/validate" || true
kill "$recorder"; wait "$recorder" 2>/dev/null || true
"$bin" export canary --store "$store" --out "$work/exported" > "$work/export.out" 2>&1 || true
"$bin" export canary --store "$store" --har "$work/canary.har" >> "$work/export.out" 2>&1 || true

# 4. diagnose, the key from the environment and from stdin, text and JSON.
CANARY_KEY="$canary" "$bin" diagnose --url https://us.api.insight.rapid7.com --token-env CANARY_KEY --service-user canary.person@example.com \
  > "$work/diagnose.out" 2>&1 || true
printf '%s\n' "$canary" | "$bin" diagnose --storage-region us3 --token-stdin --json >> "$work/diagnose.out" 2>&1 || true

# Search every output and every file written, in three spellings.
python3 - "$work" "$canary" <<'PY'
import base64, os, sys, urllib.parse
work, canary = sys.argv[1], sys.argv[2]
needles = {"text": canary, "percent-encoded": urllib.parse.quote(canary, safe=""), "base64": base64.b64encode(canary.encode()).decode()}
hits, files = [], 0
for root, _, names in os.walk(work):
    for name in names:
        path = os.path.join(root, name)
        if name == "canary.yaml":
            continue  # the input itself
        files += 1
        data = open(path, "rb").read().decode("utf-8", "replace")
        for label, needle in needles.items():
            if needle in data:
                hits.append(f"{os.path.relpath(path, work)}: {label}")
print(f"searched {files} file(s) (outputs, reports, stores, recordings, HAR) for the canary as text, percent-encoded and base64")
for hit in hits:
    print("  hit:", hit)
print(f"secret hits: {len(hits)}")
sys.exit(1 if hits else 0)
PY
