#!/usr/bin/env python3
"""A small Rapid7 Insight client, standard library only, written as any integration would be:
it calls https://REGION.api.insight.rapid7.com with certificate checks on and knows nothing of
InsightReplay. Pointed at the emulator by HTTPS_PROXY and SSL_CERT_FILE (`insight-replay serve
--print-env`, or a scenario's `client.command`), it is tested unmodified.

    insight_client.py validate        GET /validate
    insight_client.py investigations  every page of GET /idr/v2/investigations
    insight_client.py logs            Log Search: list logs, query each through 202 polling, follow Next
    insight_client.py audit           audit-log pull: the audit log of a storage region
    insight_client.py notify [TEXT]   InsightConnect trigger: POST to an InsightConnect API trigger
    insight_client.py sync            validate, investigations, logs
    insight_client.py                 the steps in R7_STEPS (set by `insight-replay run --client`), else sync

Settings come from the environment, as a product would take them from its form:
R7_BASE_URL (or R7_REGION), R7_API_KEY; R7_STORAGE_REGION and R7_AUDIT_API_KEY; R7_TRIGGER_URL
and R7_TRIGGER_API_KEY. The last line on stdout is a JSON summary; failures go to stderr with
what to fix, and exit 1.

--ignore-retry-after is a deliberate bug for the examples: it retries a 429 after one second
whatever Retry-After says.
"""
import json
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

REGIONS = ["us", "us2", "us3", "eu", "ca", "au", "ap"]
MAX_ATTEMPTS = 5
IGNORE_RETRY_AFTER = "--ignore-retry-after" in sys.argv
# One TLS context for every call, as a long-running integration keeps one: making a context
# reads the whole trust store. The opener still takes HTTPS_PROXY from the environment.
OPENER = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ssl.create_default_context()))


class Failure(Exception):
    """Something the user has to fix, in words they can act on."""


class StateFile:
    """A JSON value kept in a file between runs (a checkpoint, a queue), replaced atomically:
    written beside, flushed to disk, then renamed over the old one."""

    def __init__(self, folder, name, initial):
        self.path = os.path.join(folder, name)
        try:
            with open(self.path) as file:
                self.value = json.load(file)
        except FileNotFoundError:
            self.value = initial()

    def save(self):
        temporary = self.path + ".tmp"
        with open(temporary, "w") as file:
            json.dump(self.value, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)


def request(method, url, key, body=None, attempts=MAX_ATTEMPTS):
    """One call with retries: 429 waits Retry-After, 5xx backs off 1, 2, 4 … s; 401/403 stop."""
    data = json.dumps(body).encode() if body is not None else None
    delay = 1.0
    for attempt in range(1, attempts + 1):
        req = urllib.request.Request(url, data=data, method=method)
        if key:
            req.add_header("X-Api-Key", key)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with OPENER.open(req, timeout=120) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else {})
        except urllib.error.HTTPError as error:
            status = error.code
            if status == 429 and attempt < attempts:
                wait = 1.0 if IGNORE_RETRY_AFTER else float(error.headers.get("Retry-After") or delay)
                time.sleep(wait)
                delay *= 2
                continue
            if status >= 500 and attempt < attempts:
                time.sleep(delay)
                delay *= 2
                continue
            return status, _json(error)
        except urllib.error.URLError as error:
            raise Failure(f"cannot reach {urllib.parse.urlsplit(url).netloc}: {error.reason}; check the URL")
        except TimeoutError:
            if attempt == attempts:
                raise Failure(f"{urllib.parse.urlsplit(url).netloc} did not answer within 120 s, {attempts} times")
            time.sleep(delay)
            delay *= 2
            continue
    raise Failure(f"{method} {url} kept failing after {attempts} attempts")


def _json(error):
    try:
        return json.loads(error.read().decode() or "{}")
    except ValueError:
        return {}


def base_url():
    url = os.environ.get("R7_BASE_URL") or f"https://{os.environ.get('R7_REGION', 'us')}.api.insight.rapid7.com"
    url = url.strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https":
        raise Failure(f"the URL must start with https://, it is {url}")
    if parts.path:
        raise Failure(f"the URL must be the base only, without {parts.path}: use https://{parts.netloc}")
    if not re.fullmatch(r"[a-z0-9]+\.api\.insight\.rapid7\.com", parts.netloc):
        raise Failure(f"{parts.netloc} is not a Rapid7 regional API host (e.g. https://us3.api.insight.rapid7.com)")
    return url


def region_of(url):
    return urllib.parse.urlsplit(url).netloc.split(".")[0]


def api_key(name="R7_API_KEY"):
    key = os.environ.get(name, "")
    if key != key.strip():
        raise Failure("the API key has spaces or line breaks around it: paste it again without them")
    if not key:
        raise Failure(f"no API key: set {name}")
    return key


def validate(base, key):
    status, body = request("GET", f"{base}/validate", key)
    if status == 200:
        return
    if status == 401:
        home = home_region(key, region_of(base))
        if home:
            raise Failure(f"Wrong regional URL: the key belongs to region {home}, the URL points at {region_of(base)}. "
                          f"Set the URL to https://{home}.api.insight.rapid7.com")
        raise Failure("Authentication failed: the API key is not valid (revoked, expired or mistyped). Generate a new key")
    raise Failure(f"/validate answered {status}: {body.get('message', '')}")


def home_region(key, other_than):
    """The region whose /validate accepts the key (it has no side effects), or None."""
    return next((r for r in REGIONS if r != other_than
                 and request("GET", f"https://{r}.api.insight.rapid7.com/validate", key, attempts=1)[0] == 200), None)


def investigations(base, key):
    """Every page: index 0, 1 … until total_pages."""
    found, index = 0, 0
    while True:
        status, body = request("GET", f"{base}/idr/v2/investigations?size=100&index={index}", key)
        if status == 403:
            raise Failure("Insufficient permissions: the key's user lacks an InsightIDR role (e.g. Insight IDR Analyst)")
        if status != 200:
            raise Failure(f"investigations answered {status}: {body.get('message', '')}")
        found += len(body.get("data", []))
        pages = body.get("metadata", {}).get("total_pages", 0)
        index += 1
        if index >= pages:
            return found


def log_events(base, key):
    """Log Search: every log, last 7 days, 202 polling on the Self link, then the Next links."""
    logs_host = f"https://{region_of(base)}.rest.logs.insight.rapid7.com"
    body = get_list(f"{logs_host}/management/logs", key, "Log Search",
                    "Insufficient permissions: the key's user lacks the Log Search role (e.g. Log Search View Only)")
    return sum(query(logs_host, f"/query/logs/{log['id']}", key) for log in body.get("logs", []))


def get_list(url, key, what, forbidden):
    """A listing that must answer 200; 403 means the key lacks a role, said in `forbidden`."""
    status, body = request("GET", url, key)
    if status == 403:
        raise Failure(forbidden)
    if status != 200:
        raise Failure(f"{what} answered {status}: {body.get('message', '')}")
    return body


def query(host, path, key, days=7):
    now = int(time.time() * 1000)
    params = urllib.parse.urlencode({"query": "where()", "from": now - days * 86_400_000, "to": now, "per_page": 500})
    return sum(len(body.get("events", [])) for body in pages(f"{host}{path}?{params}", key))


def pages(url, key):
    """Log Search: the first answer, 202 polling on its Self link, then each Next page; yields
    every page's body."""
    status, body = request("GET", url, key)
    for _ in range(10_000):  # bounded: a page or a poll per round
        if status == 202:
            time.sleep(1)
            status, body = request("GET", link(body, "Self"), key)
            continue
        if status != 200:
            raise Failure(f"Log Search query answered {status}: {body.get('message', '')}")
        yield body
        nxt = link(body, "Next")
        if not nxt:
            return
        status, body = request("GET", nxt, key)
    raise Failure("Log Search never finished the query")


def link(body, rel):
    return next((l["href"] for l in body.get("links", []) if l.get("rel") == rel), None)


def storage_region():
    """R7_STORAGE_REGION as a region code: `us3`, or the name Settings → Audit Log shows."""
    region = os.environ.get("R7_STORAGE_REGION", "").strip()
    folded = re.sub(r"[\s._-]", "", region.lower())
    code = {"unitedstates": "us", "unitedstates1": "us", "unitedstates2": "us2", "unitedstates3": "us3", "europe": "eu",
            "canada": "ca", "australia": "au", "japan": "ap", "asiapacific": "ap"}.get(folded, folded)
    if code not in REGIONS:
        raise Failure(f"storage region '{region}' is not one of {', '.join(REGIONS)}: copy the Data Storage Region "
                      "from Settings → Audit Log")
    return code


def audit():
    code = storage_region()
    key = api_key("R7_AUDIT_API_KEY")
    host = f"https://{code}.rest.logs.insight.rapid7.com"
    body = get_list(f"{host}/audit/management/logs", key, "audit logs",
                    "the audit log needs an organization key or a Platform Admin's key")
    logs = body.get("logs", [])
    if not logs:
        raise Failure("audit logging is not enabled: turn it on in Settings → Audit Log and choose a storage region")
    return sum(query(host, f"/audit/logs/{log['id']}", key, days=30) for log in logs)


# seeds/003: a notification answered with anything but 2xx is resent after these intervals
# (seconds), in three cycles: 1, 3, 5, 10, 10 s; 0, 1, 3, 5, 30 s; 1, 1, 3, 5, 10, 30 min.
RESEND_INTERVALS = [1, 3, 5, 10, 10, 0, 1, 3, 5, 30, 60, 60, 180, 300, 600, 1800]


def notify(text):
    url = os.environ.get("R7_TRIGGER_URL", "").strip()
    if not re.fullmatch(r"https://[a-z0-9]+\.api\.insight\.rapid7\.com/connect/v\d/(workflows/[\w-]+/events/execute|execute/async/workflows/[\w-]+)", url):
        raise Failure(f"'{url}' is not an InsightConnect API trigger URL")
    key = api_key("R7_TRIGGER_API_KEY")
    for wait in [0] + RESEND_INTERVALS:
        time.sleep(wait)
        status, body = request("POST", url, key, body={"message": text}, attempts=1)
        if 200 <= status < 300:
            return 1
        if status in (401, 403, 404):
            break  # the settings are wrong: resending cannot help
    raise Failure(f"the trigger answered {status}: {body.get('message') or body.get('error', {}).get('message', '')}")


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    steps = args or (os.environ.get("R7_STEPS", "sync").split(","))
    summary = {}
    try:
        for step in steps:
            if step in ("validate", "sync", "investigations", "logs"):
                base, key = base_url(), api_key()
            if step in ("validate", "sync"):
                validate(base, key)
                summary["validated"] = True
            if step in ("sync", "investigations"):
                summary["investigations"] = summary.get("investigations", 0) + investigations(base, key)
            if step in ("sync", "logs"):
                summary["log_events"] = summary.get("log_events", 0) + log_events(base, key)
            if step in ("audit", "audit_pull"):
                summary["audit_events"] = audit()
            if step in ("notify", "test_notification"):
                summary["notified"] = notify(args[1] if len(args) > 1 else "[Test message] from insight_client.py")
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        print(json.dumps({**summary, "error": str(failure)}))
        return 1
    print(json.dumps(summary))
    if "investigations" in summary and summary.get("investigations", 0) + summary.get("log_events", 0) == 0:
        # seeds/000 "No Data Syncing": an empty sync is a case to troubleshoot, not a success.
        print("warning: no data synced: no investigations and no log events in the time range; check the "
              "service user's roles and product access, and that the product has data", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
