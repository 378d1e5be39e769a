#!/usr/bin/env python3
"""Checks every bundled scenario (Scenarios/ and Examples/) against docs/scenario.schema.json, sample admin API bodies
against docs/admin.schema.json, and each run report given as an argument (run --json FILE) against docs/report.schema.json, so the published schemas and what the tool reads and
writes cannot drift apart. Exit 1 naming each file and path that does not fit."""
import json
import pathlib
import sys

import jsonschema
import yaml

root = pathlib.Path(__file__).resolve().parent.parent
schema = json.loads((root / "docs" / "scenario.schema.json").read_text())
validator = jsonschema.Draft202012Validator(schema)
problems = 0
files = sorted(list((root / "Scenarios").glob("**/*.yaml")) + list((root / "Examples").glob("*/*.yaml")))
for path in files:
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        place = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        print(f"{path.relative_to(root)}{place}: not YAML: {getattr(error, 'problem', error)}")
        problems += 1
        continue
    for error in validator.iter_errors(document):
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        print(f"{path.relative_to(root)}: {where}: {error.message}")
        problems += 1
reports = jsonschema.Draft202012Validator(json.loads((root / "docs" / "report.schema.json").read_text()))
for name in sys.argv[1:]:
    for error in reports.iter_errors(json.loads(pathlib.Path(name).read_text())):
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        print(f"{name}: {where}: {error.message}")
        problems += 1
# The admin API's bodies: the schema accepts what the server accepts and refuses what it refuses.
admin = json.loads((root / "docs" / "admin.schema.json").read_text())
# The admin schema points at the scenario schema's fault; checked here with that definition in place.
admin["$defs"]["fault"] = schema["$defs"]["fault"]
admin_bodies = [
    ("state_change", {"revoke_key": "demo-us-user"}, True),
    ("state_change", {"create_key": {"id": "k", "kind": "organization", "secret": "0b8e2d4c-1a3f-4e5d-8c7b-6a5f4e3d2c1b"}, "region": "us2"}, True),
    ("state_change", {"remove_role": {"user": "a@example.com", "role": "Log Search View Only"}, "organization": "Example"}, True),
    ("state_change", {"remove_role": {"user": "a@example.com", "role": "x", "region": "us2"}}, False),
    ("state_change", {"revoke_key": "k", "colour": "red"}, False),
    ("fault", {"status": 302, "headers": {"Location": "https://insight.rapid7.com/login"}, "count": 1}, True),
    ("fault", {"status": 503, "count": 0}, False),
    ("fault", {"latency": 1}, False),
]
for definition, body, accepted in admin_bodies:
    validator_for = jsonschema.Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": admin["$defs"]})
    if validator_for.is_valid(body) != accepted:
        print(f"docs/admin.schema.json: {definition} {json.dumps(body)} should be {'accepted' if accepted else 'refused'}")
        problems += 1
print(f"schema: {len(files)} scenario file(s), {len(sys.argv) - 1} report(s) and {len(admin_bodies)} admin bodies checked, {problems} problem(s)")
sys.exit(1 if problems else 0)
