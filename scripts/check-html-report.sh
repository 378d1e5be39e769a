#!/usr/bin/env bash
# Renders `run --html` in a real headless browser (Chromium from Debian's packages) and takes a
# screenshot, then checks what the browser saw: the page loaded with no network request, its
# summary and timelines are in the rendered DOM, and the screenshot is a picture of some size.
# Usage: bash scripts/check-html-report.sh [OUT_DIR]   (default .build/html-check)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.build/html-check}"
mkdir -p "$out"
if ! command -v chromium >/dev/null; then
  echo "installing chromium (Debian)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# A failing scenario among passing ones, and the notifier's resend schedule and 12-hour window.
swift run -c debug insight-replay run --no-store --html "$out/report.html" --json "$out/report.json" \
  Scenarios/seed-000/api-key-revoked-mid-sync.yaml Scenarios/seed-003/notify-resend-schedule.yaml Scenarios/seed-003/notify-auto-disable.yaml \
  Scenarios/seed-000/rate-limit-exhausted.yaml Scenarios/seed-000/wrong-region-key-from-us3.yaml > "$out/run.txt"
page="file://$(pwd)/$out/report.html"
# No resolver: the page must render from the file alone. Chromium's own background calls are
# switched off as far as flags go, and those left (its update and account hosts) are not the page's.
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions
       --disable-background-networking --disable-component-update --disable-sync --disable-default-apps
       --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$out/profile" --virtual-time-budget=2000)
# Any network fetch the page tried shows in the net log; a self-contained page makes none.
chromium "${flags[@]}" --log-net-log="$out/net.json" --window-size=1200,2400 --screenshot="$out/report.png" "$page" 2> "$out/chromium.log" || true
chromium "${flags[@]}" --dump-dom "$page" > "$out/dom.html" 2>> "$out/chromium.log"
test -s "$out/report.png" || { echo "no screenshot (see $out/chromium.log)"; exit 1; }
size=$(stat -c %s "$out/report.png")
[ "$size" -gt 20000 ] || { echo "screenshot is only $size bytes: the page did not render"; exit 1; }
grep -q '<svg class="timeline"' "$out/dom.html" || { echo "no timeline in the rendered DOM"; exit 1; }
grep -q 'passed</span>' "$out/dom.html" || { echo "no summary in the rendered DOM"; exit 1; }
if python3 - "$out/net.json" <<'PY'
import re, sys
from urllib.parse import urlparse
browser = ("google.com", "googleapis.com", "gvt1.com", "gstatic.com", "chromium.org")
urls = set(re.findall(r'"url":"([^"]+)"', open(sys.argv[1]).read()))
fetched = sorted(u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))
                 and not (urlparse(u).hostname or "").endswith(browser))
print("\n".join(fetched))
sys.exit(1 if fetched else 0)
PY
then :; else echo "the page fetched from the network (above)"; exit 1; fi
echo "ok: $out/report.png ($size bytes), rendered DOM has the summary and timelines, no network fetch"
