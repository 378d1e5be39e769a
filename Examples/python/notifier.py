#!/usr/bin/env python3
"""A notifier to an InsightConnect API trigger, as a security product would write it: an API URL
and an API key in; events queued, sent, resent on the documented schedule, and the integration
disabled when 60% of its requests in 12 hours fail. Standard library only; tested unmodified by
`insight-replay run --client "python3 Examples/python/notifier.py" --kind notifier`.

Settings and hand-over (the notifier contract of `run --client`, README):
  R7_TRIGGER_URL, R7_TRIGGER_API_KEY   the two settings
  R7_STEPS                             what this run does: notify (send R7_EVENTS_FILE's events),
                                       test_notification, disable, enable or delete
  R7_EVENTS_FILE                       the events to send, a JSON object a line
  R7_STATE_DIR                         the integration's state, queue and recent outcomes
  R7_DISABLE_PERCENT, R7_DISABLE_WINDOW, R7_DISABLE_MINIMUM   the auto-disable rule (60, 43200, 5)
  R7_DISABLE_COUNTS                    what the rule counts: notifications (default) or attempts
  R7_WHILE_DISABLED                    drop (default: events that arise or wait while disabled are
                                       never sent) or queue (sent once enabled again)

The last stdout line is {"delivered": N, "undelivered": N, "not_sent": N, "queued": N, "state":
"enabled", "disabled" or "deleted"}; exit 1 when an event was not delivered or could not be taken.

--flaw fixed-resend is a deliberate bug for the examples: it resends every 5 seconds, three
times, instead of on the documented schedule.
"""
import json
import os
import re
import sys
import time

from insight_client import RESEND_INTERVALS, Failure, StateFile, api_key, home_region, request

FIXED_RESEND = "--flaw" in sys.argv and "fixed-resend" in sys.argv
TRIGGER = re.compile(r"https://([a-z0-9]+)\.api\.insight\.rapid7\.com/connect/v\d/"
                     r"(workflows/[\w-]+/events/execute|execute/async/workflows/[\w-]+)")


class Integration(StateFile):
    """The integration's state, queue and recent outcomes between runs, saved after every change."""

    def __init__(self, folder):
        super().__init__(folder, "notifier.json", lambda: {"state": "enabled", "queue": [], "outcomes": []})


def settings():
    url = os.environ.get("R7_TRIGGER_URL", "").strip()
    match = TRIGGER.fullmatch(url)
    if not match:
        raise Failure(f"'{url}' is not an InsightConnect API trigger URL (https://REGION.api.insight.rapid7.com/connect/v1/…)")
    return url, match.group(1), api_key("R7_TRIGGER_API_KEY")


def send(url, key, body, answered):
    """One event on the documented schedule: (delivered?, last status, last message). `answered(ok)`
    is told each send's outcome and says whether to go on (False once the rule disabled it)."""
    waits = [5, 5, 5] if FIXED_RESEND else RESEND_INTERVALS
    for wait in [0] + waits:
        time.sleep(wait)
        status, answer = request("POST", url, key, body=body, attempts=1)
        ok = 200 <= status < 300
        if not answered(ok) or ok:
            return ok, status, message_of(answer)
    return False, status, message_of(answer)


def message_of(answer):
    return answer.get("message") or answer.get("error", {}).get("message", "")


def explain(status, message, region, key):
    """What the user must fix after a trigger refused."""
    if status in (401, 404):
        home = home_region(key, region)
        if home:
            return (f"the API key belongs to region {home}, but the API URL points at {region}: "
                    f"use the workflow's API URL in {home} (https://{home}.api.insight.rapid7.com/connect/…)")
        if status == 401:
            return "the trigger refuses the API key (401): generate a new user key and paste it into the API key field"
        return "there is no such workflow (404): copy the API URL from the workflow's API trigger again"
    if "not active" in message.lower():
        return "the workflow is not active: activate it in Automation → Workflows, then Test integration"
    return f"InsightConnect answered {status} {message}".strip()


def disable(value, report):
    """Disabling stops sending: unless R7_WHILE_DISABLED=queue, what waits is never sent."""
    value["state"] = "disabled"
    if os.environ.get("R7_WHILE_DISABLED", "drop") != "queue" and value["queue"]:
        report["not_sent"] += len(value["queue"])
        print(f"warning: {len(value['queue'])} queued event(s) will not be sent: the integration is disabled",
              file=sys.stderr)
        value["queue"] = []


def deliver(integration, url, region, key, report):
    """The queue in order while enabled; the 60% rule checked after each outcome (each
    notification's, or each send's with R7_DISABLE_COUNTS=attempts)."""
    percent = float(os.environ.get("R7_DISABLE_PERCENT") or 60)
    window = float(os.environ.get("R7_DISABLE_WINDOW") or 43_200)
    minimum = int(os.environ.get("R7_DISABLE_MINIMUM") or 5)
    attempts = os.environ.get("R7_DISABLE_COUNTS") == "attempts"
    unit = "requests (sends and resends)" if attempts else "notifications"
    value = integration.value

    def counted(ok):
        """One outcome for the rule; False when it disabled the integration."""
        now = time.time()
        value["outcomes"] = [o for o in value["outcomes"] if now - o[0] < window] + [[now, ok]]
        failed = sum(1 for _, good in value["outcomes"] if not good)
        if len(value["outcomes"]) >= minimum and failed * 100 >= percent * len(value["outcomes"]):
            print(f"error: the InsightConnect integration was automatically disabled: {failed} of "
                  f"{len(value['outcomes'])} {unit} were unsuccessful in the last {int(window / 3600)} hours; "
                  "fix the cause, then enable it again", file=sys.stderr)
            disable(value, report)
            return False
        return True

    while value["state"] == "enabled" and value["queue"]:
        event = value["queue"].pop(0)
        ok, status, message = send(url, key, {"events": [event]}, counted if attempts else lambda ok: True)
        if ok:
            report["delivered"] += 1
        else:
            report["undelivered"] += 1
            print(f"error: a notification was not delivered after its resends: {explain(status, message, region, key)}",
                  file=sys.stderr)
        if not attempts and value["state"] == "enabled":
            counted(ok)
        integration.save()


def run(step, integration, report):
    value = integration.value
    if step in ("disable", "enable", "delete"):
        if value["state"] == "deleted":
            raise Failure("the integration was deleted: set it up again")
        if step == "delete":
            value.update(state="deleted", queue=[], outcomes=[])
        elif step == "enable":
            value.update(state="enabled", outcomes=[])
        elif value["state"] == "enabled":
            disable(value, report)
        integration.save()
        return
    if step == "notify":
        events_path = os.environ.get("R7_EVENTS_FILE")
        with open(events_path) as file:
            events = [json.loads(line) for line in file if line.strip()]
        if value["state"] == "deleted":
            raise Failure(f"the integration was deleted on purpose: {len(events)} event(s) not sent")
        if value["state"] == "disabled" and os.environ.get("R7_WHILE_DISABLED", "drop") != "queue":
            report["not_sent"] += len(events)
            print(f"warning: the integration is disabled; {len(events)} event(s) not sent, now or later",
                  file=sys.stderr)
            return
        value["queue"] += events
        integration.save()
    if value["state"] == "deleted":
        raise Failure("the integration was deleted on purpose: nothing is sent; set it up again to notify InsightConnect")
    url, region, key = settings()
    if step == "test_notification":
        status, answer = request("POST", url, key, attempts=1, body={"events": [{
            "title": "[Test message] Test integration", "text": "[Test message] If you can read this, the integration works."}]})
        if not 200 <= status < 300:
            raise Failure(f"the test notification failed: {explain(status, message_of(answer), region, key)}")
        report["delivered"] += 1
        return
    if value["state"] == "disabled":
        print(f"error: the integration is disabled; {len(value['queue'])} event(s) wait until it is enabled",
              file=sys.stderr)
        return
    deliver(integration, url, region, key, report)


def main():
    integration = Integration(os.environ.get("R7_STATE_DIR") or ".")
    report = {"delivered": 0, "undelivered": 0, "not_sent": 0}
    code = 0
    try:
        for step in (os.environ.get("R7_STEPS") or "test_notification").split(","):
            run(step.strip(), integration, report)
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        code = 1
    value = integration.value
    print(json.dumps({**report, "queued": len(value["queue"]), "state": value["state"]}))
    if report["undelivered"] or report["not_sent"] or value["state"] != "enabled" and value["queue"]:
        code = 1
    return code


if __name__ == "__main__":
    sys.exit(main())
