#!/bin/sh
# curl: GET /validate on every regional host with that region's demo key; certificate checks on.
for r in us us2 us3 eu ca au ap; do
  key=$(printenv "R7_KEY_DEMO_$(echo "$r" | tr a-z A-Z)_USER")
  code=$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Api-Key: $key" "https://$r.api.insight.rapid7.com/validate") || code=error
  echo "$r $code"
done
