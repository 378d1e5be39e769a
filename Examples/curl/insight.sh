#!/bin/sh
# A Rapid7 Insight client in curl, as a support engineer or a cron job would write it: real
# host names, certificate checks on, nothing that knows of InsightReplay. Under a scenario (or
# after `eval "$(insight-replay serve --print-env)"`) curl reaches the emulator through
# HTTPS_PROXY and trusts its CA through CURL_CA_BUNDLE.
#
#   insight.sh validate            GET /validate
#   insight.sh investigations      the first page of open investigations
#   insight.sh logs                Log Search: list the logs, query the first, poll the Self link
#   insight.sh audit               the audit logs of R7_STORAGE_REGION (needs R7_AUDIT_API_KEY)
#   insight.sh notify TEXT         POST to the API trigger R7_TRIGGER_URL (R7_TRIGGER_API_KEY)
#
# Settings: R7_BASE_URL (default https://us.api.insight.rapid7.com), R7_API_KEY.
# curl retries 429 and 5xx itself (--retry honours Retry-After); 401 and 403 are final.
set -eu
base="${R7_BASE_URL:-https://us.api.insight.rapid7.com}"
base="${base%/}"
region="$(printf '%s' "$base" | sed -E 's#https://([a-z0-9]+)\..*#\1#')"
logs="https://${region}.rest.logs.insight.rapid7.com"

call() { # call METHOD URL KEY [BODY]: prints the body, fails with the status on an error
  out="$(mktemp)"
  if [ $# -ge 4 ]; then
    status="$(curl -sS --retry 4 --retry-max-time 600 -o "$out" -w '%{http_code}' -X "$1" -H "X-Api-Key: $3" \
      -H 'Content-Type: application/json' --data "$4" "$2")"
  else
    status="$(curl -sS --retry 4 --retry-max-time 600 -o "$out" -w '%{http_code}' -X "$1" -H "X-Api-Key: $3" "$2")"
  fi
  body="$(cat "$out")"; rm -f "$out"
  case "$status" in
    2??) printf '%s\n' "$body" ;;
    401) echo "error: authentication failed ($2): the API key is not valid for $region; check the key and the region" >&2; return 1 ;;
    403) echo "error: forbidden ($2): the key's user lacks the role for this API" >&2; return 1 ;;
    *) echo "error: $1 $2 answered $status: $body" >&2; return 1 ;;
  esac
}

link() { # link REL: the href of a links[] entry in the JSON on stdin
  python3 -c 'import json,sys; b=json.load(sys.stdin); print(next((l["href"] for l in b.get("links",[]) if l.get("rel")==sys.argv[1]),""))' "$1"
}

case "${1:-validate}" in
  validate) call GET "$base/validate" "${R7_API_KEY:?set R7_API_KEY}" ;;
  investigations) call GET "$base/idr/v2/investigations?size=100&statuses=OPEN" "${R7_API_KEY:?set R7_API_KEY}" ;;
  logs)
    id="$(call GET "$logs/management/logs" "${R7_API_KEY:?}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["logs"][0]["id"])')"
    answer="$(call GET "$logs/query/logs/$id?query=where()&time_range=last%207%20days&per_page=500" "$R7_API_KEY")"
    for _ in 1 2 3 4 5 6 7 8 9 10; do  # bounded polling of the 202's Self link
      self="$(printf '%s' "$answer" | link Self)"
      printf '%s' "$answer" | grep -q '"progress"' || break
      sleep 1
      answer="$(call GET "$self" "$R7_API_KEY")"
    done
    printf '%s\n' "$answer" ;;
  audit)
    host="https://${R7_STORAGE_REGION:?set R7_STORAGE_REGION}.rest.logs.insight.rapid7.com"
    id="$(call GET "$host/audit/management/logs" "${R7_AUDIT_API_KEY:?}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["logs"][0]["id"])')"
    call GET "$host/audit/logs/$id?time_range=last%2030%20days&per_page=200" "$R7_AUDIT_API_KEY" ;;
  notify) call POST "${R7_TRIGGER_URL:?set R7_TRIGGER_URL}" "${R7_TRIGGER_API_KEY:?}" "{\"message\":\"${2:-[Test message] from insight.sh}\"}" ;;
  *) echo "usage: insight.sh validate|investigations|logs|audit|notify [TEXT]" >&2; exit 2 ;;
esac
