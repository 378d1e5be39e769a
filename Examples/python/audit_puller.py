#!/usr/bin/env python3
"""An audit-log pull, as a log platform's Rapid7 integration would write it: a storage region and
an API key in, the organization's audit events out, one incremental pull per run. Standard library
only; it knows nothing of InsightReplay and is tested unmodified by
`insight-replay run --client "python3 Examples/python/audit_puller.py" --kind audit`.

Settings and hand-over (the audit-log contract of `run --client`, README):
  R7_STORAGE_REGION, R7_AUDIT_API_KEY  the two settings (a region code or the name Settings →
                                       Audit Log shows)
  R7_STATE_DIR                         where the checkpoint is kept between pulls
  R7_RECORDS_FILE                      each record handed on, appended as a JSON line (the audit
                                       event's message, in the Rapid7.AuditLog schema)
  R7_PER_PAGE, R7_ALERT_AFTER          page size (500) and the no-events alert's period (86400 s)
  R7_SINK_CAPACITY                     when set, the sink takes only this many records this run

The checkpoint is the timestamp and sequence number of the last record handed on, saved after
each one, so a pull stopped at any record resumes at the next: no gap, no duplicate. A record that
breaks the schema is refused, said on stderr and checkpointed past. The last stdout line is
{"processed": N, "rejected": N, "alert": null or text}; exit 1 on a failure or the alert.

--flaw page-checkpoint is a deliberate bug for the examples: it checkpoints each page when it is
fetched, before its records are handed on, so a pull stopped mid-page skips the rest of the page.
"""
import json
import os
import re
import sys
import time
import urllib.parse

from insight_client import Failure, StateFile, api_key, home_region, pages, request, storage_region

LOOKBACK_MS = 30 * 86_400_000
PAGE_CHECKPOINT = "--flaw" in sys.argv and "page-checkpoint" in sys.argv
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
OPTIONAL = ["result", "access_method", "product", "description", "service_info.event.type",
            "service_info.event.correlationId", "service_info.event.customerId", "service_info.event.updatedBy",
            "service_info.type", "request.user.email", "request.user.name"] + [
    f"service_info.event.initiatorIdentification.{name}"
    for name in ("email", "userId", "apiKeyId", "automatedFlowName", "customerId")]


class SinkFull(Exception):
    """The downstream sink took no more records: the pull stops as a crash would."""


def schema_problem(message):
    """Why an event's message breaks the Rapid7.AuditLog schema, or None."""
    try:
        record = json.loads(message)
    except (TypeError, ValueError):
        return None, "message is not JSON"
    if not isinstance(record, dict):
        return None, "message is not a JSON object"
    for name in ("action", "audit_id", "time"):
        if not isinstance(record.get(name), str) or not record[name]:
            return None, f"required field {name} is missing or not a non-empty string"
    if not RFC3339.fullmatch(record["time"]):
        return None, f"time '{record['time']}' is not an RFC 3339 timestamp"
    for path in OPTIONAL:
        value = field(record, path)
        if value is not None and not isinstance(value, str):
            return None, f"{path} is not a string"
    stamp = field(record, "service_info.event.timestamp")
    if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, int)):
        return None, "service_info.event.timestamp is not unix milliseconds"
    return record, None


def field(record, path):
    for part in path.split("."):
        if not isinstance(record, dict):
            return None
        record = record.get(part)
    return record


class Checkpoint(StateFile):
    """The last record handed on, and when records last arrived."""

    def __init__(self, folder):
        now = time.time()
        super().__init__(folder, "audit-checkpoint.json",
                         lambda: {"timestamp": int(now * 1000) - LOOKBACK_MS, "sequence": -1, "first_run": now, "last_record_at": None})

    def after(self, event):
        return (event["timestamp"], event["sequence_number"]) > (self.value["timestamp"], self.value["sequence"])

    def advance(self, event, handed_on):
        self.value["timestamp"], self.value["sequence"] = event["timestamp"], event["sequence_number"]
        if handed_on:
            self.value["last_record_at"] = time.time()
        self.save()


def audit_log(host, key, code):
    """The organization's audit log id, or what the user must fix."""
    status, body = request("GET", f"{host}/audit/management/logs", key)
    if status == 401:
        home = home_region(key, code)
        if home:
            raise Failure(f"Wrong storage region: the API key belongs to region {home}, the storage region is {code}. "
                          f"Set the storage region to {home} (Settings → Audit Log shows the Data Storage Region)")
        raise Failure("Authentication failed: the API key is not valid in any region (revoked, expired or mistyped)")
    if status == 403:
        raise Failure("Insufficient permissions: the audit log needs an organization key or a Platform Admin's user key")
    if status == 404 or (status == 200 and not body.get("logs")):
        raise Failure("Audit logging is not enabled: turn it on in Settings → Audit Log")
    if status != 200:
        raise Failure(f"the audit log list answered {status}: {body.get('message', '')}")
    return body["logs"][0]["id"]


def pull():
    code = storage_region()
    key = api_key("R7_AUDIT_API_KEY")
    state = os.environ.get("R7_STATE_DIR") or "."
    records_path = os.environ.get("R7_RECORDS_FILE")
    if not records_path:
        raise Failure("no R7_RECORDS_FILE: where the records are handed on")
    per_page = int(os.environ.get("R7_PER_PAGE") or 500)
    alert_after = float(os.environ.get("R7_ALERT_AFTER") or 86_400)
    capacity = int(os.environ["R7_SINK_CAPACITY"]) if os.environ.get("R7_SINK_CAPACITY") else None
    checkpoint = Checkpoint(state)
    host = f"https://{code}.rest.logs.insight.rapid7.com"
    log_id = audit_log(host, key, code)
    now = int(time.time() * 1000)
    params = urllib.parse.urlencode({"from": checkpoint.value["timestamp"], "to": now, "per_page": per_page})
    report = {"processed": 0, "rejected": 0, "alert": None}
    with open(records_path, "a") as sink:
        try:
            for page in pages(f"{host}/audit/logs/{log_id}?{params}", key):
                events = [event for event in page.get("events", []) if checkpoint.after(event)]
                if PAGE_CHECKPOINT and events:
                    checkpoint.advance(events[-1], handed_on=True)
                for event in events:
                    record, problem = schema_problem(event.get("message"))
                    if problem:
                        print(f"warning: audit record {event.get('sequence_number')} rejected: {problem}", file=sys.stderr)
                        report["rejected"] += 1
                    else:
                        if capacity is not None and report["processed"] >= capacity:
                            raise SinkFull()
                        sink.write(json.dumps(record) + "\n")
                        sink.flush()
                        report["processed"] += 1
                    if not PAGE_CHECKPOINT:
                        checkpoint.advance(event, handed_on=problem is None)
        except SinkFull:
            print(json.dumps(report))
            raise Failure(f"the sink stopped taking records after {report['processed']}: the next pull resumes after the last one")
    quiet_since = checkpoint.value["last_record_at"] or checkpoint.value["first_run"]
    if report["processed"] == 0 and time.time() - quiet_since >= alert_after:
        report["alert"] = (f"No audit events were processed for {int(time.time() - quiet_since)} s "
                           f"(alert after {int(alert_after)} s): check that audit logging is still enabled")
    checkpoint.save()
    return report


def main():
    try:
        report = pull()
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    if report["alert"]:
        print(f"alert: {report['alert']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
