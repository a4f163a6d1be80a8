#!/usr/bin/env python3
"""Check the event JSON Schemas against the examples beside them.

Usage:
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install jsonschema rfc3339-validator
    /tmp/venv/bin/python schemas/check_examples.py [-v]

Layout checked (paths relative to this file's directory):
    envelope.v1.json                         the envelope schema
    data/<type>.v<version>.json              one payload schema per (type, version)
    examples/valid/<type>.v<version>.<n>.json    whole envelopes that must be accepted
    examples/invalid/<name>.json             {"reason", "path", "event"}: an envelope that must be
                                             rejected for one reason, located at JSON pointer `path`

What is checked:
  * every schema is a valid draft 2020-12 schema whose $id matches its file name, and the
    envelope's `type` enum lists exactly the types that have data schemas;
  * a valid example passes the envelope schema and the data schema picked by (type,
    schema_version), its file name matches that pair, and it obeys the cross-field rules the
    Rust decoder checks but a schema cannot state (see `decoder_only_rules`);
  * an invalid example is rejected: by the envelope schema, by the absence of a data schema for
    (type, schema_version) (reported at /schema_version), or by the data schema (pointers prefixed
    with /data). Every error must point at `path`, so the example fails for one reason only, and
    the example must not also break a decoder-only rule;
  * event ids are unique across all examples, and no example holds a number such as 3.0: the
    Rust decoder rejects a float where it expects an integer, while JSON Schema cannot tell 3.0
    from 3.

Formats (uuid, date-time, date) are asserted. Exit status is 0 when everything holds, 1 otherwise.
"""

import json
import re
import sys
from pathlib import Path

from jsonschema import Draft202012Validator

HERE = Path(__file__).resolve().parent
BASE_ID = "https://cadre.dev/schemas/"
FORMATS = Draft202012Validator.FORMAT_CHECKER
VERBOSE = "-v" in sys.argv[1:]
failures = []


def fail(where, what):
    failures.append(f"{where}: {what}")


def pointer(parts):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def validator(path, expected_id):
    schema = load(path)
    Draft202012Validator.check_schema(schema)
    if schema.get("$id") != expected_id:
        fail(path.name, f"$id is {schema.get('$id')!r}, expected {expected_id!r}")
    return Draft202012Validator(schema, format_checker=FORMATS)


def errors(event, envelope, data_schemas):
    """The JSON pointers of everything wrong with an event, as the schemas see it."""
    found = sorted(envelope.iter_errors(event), key=lambda e: list(e.absolute_path))
    if found:
        return [(pointer(e.absolute_path), e.message) for e in found]
    key = (event["type"], event["schema_version"])
    if key not in data_schemas:
        return [("/schema_version", f"{key[0]} has no schema version {key[1]}")]
    found = sorted(data_schemas[key].iter_errors(event["data"]), key=lambda e: list(e.absolute_path))
    return [("/data" + pointer(e.absolute_path), e.message) for e in found]


def decoder_only_rules(event):
    """Rules of the Rust decoder (Event::check, Framework::check) that no schema expresses."""
    broken = []
    try:
        data, subject = event["data"], event["subject"]
        if event["type"] == "framework.published":
            if data["id"] != subject:
                broken.append("/data/id: must equal the subject")
            categories = {c["id"] for c in data["categories"]}
            if not categories or not data["competencies"]:
                return broken  # the decoder stops at the empty list first
            seen = set()
            for i, c in enumerate(data["competencies"]):
                if c["id"] in seen:
                    broken.append(f"/data/competencies/{i}/id: appears twice")
                seen.add(c["id"])
                if "category" in c and c["category"] not in categories:
                    broken.append(f"/data/competencies/{i}/category: not one of the categories")
        elif event["type"] == "org_unit.defined":
            if data.get("parent_id") == subject:
                broken.append("/data/parent_id: a unit cannot be its own parent")
    except (KeyError, TypeError, AttributeError):
        pass  # the shape is wrong; the schemas report that
    return broken


def integral_floats(value, at=""):
    if isinstance(value, float) and value.is_integer():
        yield at or "/"
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from integral_floats(v, f"{at}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from integral_floats(v, f"{at}/{i}")


def main():
    for fmt in ("uuid", "date-time", "date"):
        if fmt not in FORMATS.checkers:
            sys.exit(f"format {fmt!r} is not checked; pip install rfc3339-validator")

    envelope = validator(HERE / "envelope.v1.json", BASE_ID + "envelope.v1.json")
    data_schemas = {}
    for path in sorted((HERE / "data").glob("*.json")):
        m = re.fullmatch(r"(.+)\.v(\d+)\.json", path.name)
        if not m:
            fail(path.name, "name is not <type>.v<version>.json")
            continue
        data_schemas[(m[1], int(m[2]))] = validator(path, f"{BASE_ID}data/{path.name}")
    types = set(load(HERE / "envelope.v1.json")["properties"]["type"]["enum"])
    if types != {t for t, _ in data_schemas}:
        fail("envelope.v1.json", f"type enum {sorted(types)} differs from data schemas {sorted(data_schemas)}")

    ids = {}
    valid_by_type = {t: 0 for t in types}
    for path in sorted((HERE / "examples" / "valid").glob("*.json")):
        event = load(path)
        m = re.fullmatch(r"(.+)\.v(\d+)\.\d+\.json", path.name)
        if not m or (m[1], int(m[2])) != (event.get("type"), event.get("schema_version")):
            fail(path.name, "name does not match the event's type and schema_version")
        for where, message in errors(event, envelope, data_schemas):
            fail(path.name, f"rejected at {where!r}: {message}")
        for rule in decoder_only_rules(event):
            fail(path.name, f"breaks a decoder rule: {rule}")
        if event.get("type") in valid_by_type:
            valid_by_type[event["type"]] += 1
        ids.setdefault(event.get("event_id"), []).append(path.name)
        for at in integral_floats(event):
            fail(path.name, f"{at} is a float with an integral value")
    for t, n in sorted(valid_by_type.items()):
        if n < 2:
            fail("examples/valid", f"{t} has {n} examples, expected at least 2")

    n_invalid = 0
    for path in sorted((HERE / "examples" / "invalid").glob("*.json")):
        n_invalid += 1
        case = load(path)
        if set(case) != {"reason", "path", "event"}:
            fail(path.name, "must hold exactly reason, path and event")
            continue
        event = case["event"]
        found = errors(event, envelope, data_schemas)
        where = sorted({w for w, _ in found})
        if not found:
            fail(path.name, "accepted, but it is meant to be invalid")
        elif where != [case["path"]]:
            fail(path.name, f"errors at {where}, expected only at {case['path']!r}: {found}")
        elif VERBOSE:
            print(f"{path.name}: {where[0] or '(root)'}: {found[0][1][:160]}")
        if isinstance(event, dict):
            for rule in decoder_only_rules(event):
                fail(path.name, f"also breaks a decoder rule: {rule}")
            ids.setdefault(event.get("event_id"), []).append(path.name)
        for at in integral_floats(event):
            fail(path.name, f"{at} is a float with an integral value")

    for event_id, names in ids.items():
        if event_id is not None and len(names) > 1:
            fail("examples", f"event_id {event_id} is used by {names}")

    n_valid = sum(valid_by_type.values())
    if failures:
        print("\n".join(failures))
        print(f"{len(failures)} problem(s)")
        return 1
    print(f"ok: {len(data_schemas)} data schemas, {n_valid} valid and {n_invalid} invalid examples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
