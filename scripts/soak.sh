#!/usr/bin/env bash
# Load and soak (issue 10): N connections (default 32) for D seconds (default 60) of mixed requests
# against `serve`: /validate, investigation pages, Log Search queries polled through their Self
# links, bad keys (401) and a path answered 429 by a fault. Counts transport errors and statuses
# that differ from each request's expectation, samples the server's RSS, and checks the journal:
# its total equals the requests sent while they fit its capacity, and `dropped` is exact beyond.
#   scripts/soak.sh [--connections 32] [--duration 60] [--journal-cap 10000]
# Loopback only; every loop is bounded by the duration. Exit 1 when anything did not hold.
set -euo pipefail
cd "$(dirname "$0")/.."
connections=32 duration=60 cap=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --journal-cap) cap=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
swift build -c release --product insight-replay 2>&1 | tail -1
bin=$(swift build -c release --show-bin-path)/insight-replay
work=$(mktemp -d)
source scripts/lib.sh
port=$(free_port)
"$bin" serve --port "$port" --journal-cap "$cap" --store "$work/store.sqlite" > "$work/serve.log" 2>&1 & server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
wait_for "$work/serve.log" listening
key=$(awk '$1=="us2" && $2=="user" {print $3; exit}' "$work/serve.log")
python3 - "$port" "$key" "$connections" "$duration" "$server" "$cap" <<'PY'
import http.client, json, sys, threading, time, urllib.parse
port, key, connections, duration, pid, cap = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], int(sys.argv[6])
host = "us2.api.insight.rapid7.com"

def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0

def admin(method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers={"Content-Type": "application/json"})
    r = c.getresponse(); data = r.read(); c.close()
    return json.loads(data or b"{}")

# A path that answers 429 for the whole run (a fault with a count beyond any run).
admin("POST", "/_admin/faults", {"path": "/idr/v2/investigations/_search", "status": 429, "count": 1000000, "retry_after": 1})
admin("DELETE", "/_admin/journal")

lock = threading.Lock()
sent = 0; errors = 0; unexpected = {}; counts = {}
stop = time.time() + duration

def note(kind, status, expected):
    global sent
    with lock:
        sent += 1
        counts[(kind, status)] = counts.get((kind, status), 0) + 1
        if status not in expected:
            unexpected[(kind, status)] = unexpected.get((kind, status), 0) + 1

def worker(number):
    global errors
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": host, "X-Api-Key": key}
    step = number
    log_id = None
    while time.time() < stop:
        step += 1
        kind = ["validate", "page", "bad-key", "limited", "logsearch"][step % 5]
        try:
            if kind == "validate":
                c.request("GET", "/validate", headers=headers); r = c.getresponse(); r.read(); note(kind, r.status, {200})
            elif kind == "page":
                c.request("GET", f"/idr/v2/investigations?size=20&index={step % 6}", headers=headers); r = c.getresponse(); r.read(); note(kind, r.status, {200})
            elif kind == "bad-key":
                c.request("GET", "/validate", headers={"Host": host, "X-Api-Key": "00000000-0000-4000-8000-000000000000"}); r = c.getresponse(); r.read(); note(kind, r.status, {401})
            elif kind == "limited":
                c.request("POST", "/idr/v2/investigations/_search", body="{}", headers=dict(headers, **{"Content-Type": "application/json"})); r = c.getresponse(); r.read(); note(kind, r.status, {429})
            else:
                if log_id is None:
                    c.request("GET", "/log_search/management/logs", headers=headers); r = c.getresponse(); body = json.loads(r.read()); note("logs", r.status, {200})
                    log_id = body["logs"][0]["id"]
                q = urllib.parse.urlencode({"query": "where(result=SUCCESS)", "time_range": "last 1 day", "per_page": "50"})
                # Log Search allows 1,500 queries per key per 15 minutes (reference §3): past that, 429.
                c.request("GET", f"/log_search/query/logs/{log_id}?{q}", headers=headers); r = c.getresponse(); raw = r.read(); note(kind, r.status, {200, 202, 429})
                body = json.loads(raw) if r.status in (200, 202) else {}
                polls = 0
                while r.status == 202 and polls < 5:
                    link = urllib.parse.urlparse(body["links"][0]["href"])
                    c.request("GET", link.path + ("?" + link.query if link.query else ""), headers=headers); r = c.getresponse(); raw = r.read()
                    note("poll", r.status, {200, 202}); polls += 1
                    body = json.loads(raw) if r.status in (200, 202) else {}
        except Exception as error:
            with lock:
                errors += 1
                if errors <= 3: print(f"  transport error: {type(error).__name__}: {error}", file=sys.stderr)
            c.close(); c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.close()

time.sleep(0.5)
rss_start = rss()
threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
started = time.time()
for t in threads: t.start()
samples = []
while any(t.is_alive() for t in threads):
    time.sleep(min(5, duration / 4 or 1)); samples.append(rss())
for t in threads: t.join()
elapsed = time.time() - started
journal = admin("GET", "/_admin/journal?limit=0")
total, dropped = journal.get("total", -1), journal.get("dropped", -1)
expected_dropped = max(0, sent - cap)
print(f"soak: {connections} connections for {elapsed:.1f} s: {sent} requests ({sent / elapsed:.0f}/s), transport errors {errors}")
print("  statuses: " + ", ".join(f"{k} {s}×{n}" for (k, s), n in sorted(counts.items())))
print(f"  unexpected statuses: {sum(unexpected.values())}" + (" " + str(unexpected) if unexpected else ""))
print(f"  server RSS: {rss_start} MB after warm-up, samples {samples} MB")
print(f"  journal: total {total} for {sent} requests sent; dropped {dropped} (expected {expected_dropped}, capacity {cap})")
flat = max(samples or [rss_start]) <= rss_start * 1.5 + 20
ok = errors == 0 and not unexpected and total == sent and dropped == expected_dropped and flat
print("soak: " + ("held" if ok else "DID NOT HOLD"))
sys.exit(0 if ok else 1)
PY
