#!/usr/bin/env python3
"""Checks every bundled scenario (Scenarios/ and Examples/) against docs/scenario.schema.json, and each run report given
as an argument (run --json FILE) against docs/report.schema.json, so the published schemas and what the tool reads and
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
print(f"schema: {len(files)} scenario file(s) and {len(sys.argv) - 1} report(s) checked, {problems} problem(s)")
sys.exit(1 if problems else 0)
