#!/usr/bin/env python3
"""Writes the hostile corpus: hostile.ndjson and hostile.expect.

Run from the repository root: python3 tests/corpus/make_corpus.py
The output is deterministic and checked in; tests/hostile.rs ingests
base.ndjson (a small generated organisation), then hostile.ndjson, through a
file import and over HTTP, and checks each line's outcome against
hostile.expect.

hostile.expect has one line per corpus line, tab-separated:
    accepted | duplicate | rejected<TAB>JSON pointer<TAB>reason fragment[|alternative...]
A rejection matches when its path is the pointer and its reason contains one
of the fragments.
"""

import copy
import json
import os
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = [json.loads(l) for l in open(os.path.join(HERE, "base.ndjson"), encoding="utf-8")]
SCHEMAS = os.path.join(HERE, "..", "..", "schemas")

counter = [0]


def new_id():
    counter[0] += 1
    return str(uuid.UUID(int=(0xC0DE << 112) | counter[0], version=4))


def dump(e):
    return json.dumps(e, separators=(",", ":"), ensure_ascii=False)


cases = []  # (bytes, expectation)


def add(line, *expect):
    if isinstance(line, dict):
        line = dump(line)
    if isinstance(line, str):
        line = line.encode("utf-8")
    assert b"\n" not in line, line[:80]
    cases.append((line, "\t".join(expect)))


def rejected(line, path, reason):
    add(line, "rejected", path, reason)


def template(ty):
    for e in BASE:
        if e["type"] == ty:
            return e
    raise KeyError(ty)


def fresh(ty, **changes):
    e = copy.deepcopy(template(ty))
    e["event_id"] = new_id()
    for k, v in changes.items():
        if k == "data":
            e["data"].update(v)
        else:
            e[k] = v
    return e


TYPES = sorted({e["type"] for e in BASE})
EMPLOYEES = sorted({e["subject"] for e in BASE if e["type"] == "employee.hired"})
COMPETENCIES = sorted(
    {c["id"] for e in BASE if e["type"] == "framework.published" for c in e["data"]["competencies"]}
)
POSITIONS = sorted({e["subject"] for e in BASE if e["type"] == "position.defined"})
data_schemas = {
    t: json.load(open(os.path.join(SCHEMAS, "data", f"{t}.v1.json"), encoding="utf-8")) for t in TYPES
}
envelope = json.load(open(os.path.join(SCHEMAS, "envelope.v1.json"), encoding="utf-8"))


def valid_assessment(i):
    return fresh(
        "assessment.recorded",
        subject=EMPLOYEES[i % len(EMPLOYEES)],
        data={"competency_id": COMPETENCIES[i % len(COMPETENCIES)], "level": i % 6},
    )


def interleave_valid():
    # valid events between hostile ones: none may be held back by its neighbours
    add(valid_assessment(len(cases)), "accepted")


# 1. broken JSON: every prefix of a valid line, and classic mistakes
line = dump(fresh("performance.rated"))
for cut in range(1, len(line) - 1, max(1, (len(line) - 2) // 90)):
    rejected(line[:cut], "", "not valid JSON")
for text in [
    "{", "}", "{]", "[}", "nul", "tru", "{'event_id': 1}", '{"a":1,}', '{"a":NaN}', '{"a":Infinity}',
    '{"a":01}', '{"a":1e999}', '{"a":"\\x41"}', '{"a":"\\ud800"}', '{"a" 1}', '{"a":1}}', '{"a":1} {"b":2}',
    "// comment", "/* c */ {}", '{"a":"unterminated}', '"\\u12"', "{\"a\":[1,2,]}", "-", "+1", ".5",
]:
    rejected(text, "", "not valid JSON")
    interleave_valid()

# 2. not an event at all: JSON of the wrong shape
for text in ["1", "true", "null", '"event"', "[]", "[1,2,3]", "[{}]", "{}", '{"__proto__":{"x":1}}']:
    rejected(text, "", "is not of type|is a required property")

# 3. wrong types, field by field, in the envelope and in every payload
WRONG = [0, 1.5, -7, "text", True, None, [], ["a"], {}, {"k": "v"}]


def allowed(schema):
    t = schema.get("type")
    if t is None:
        return None
    return set(t) if isinstance(t, list) else {t}


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def wrong_for(schema):
    ok = allowed(schema)
    if ok is None:
        return []
    out = []
    for v in WRONG:
        k = kind(v)
        if k in ok or (k == "integer" and "number" in ok):
            continue
        out.append(v)
    return out


for ty in TYPES:
    t = template(ty)
    for field in ["event_id", "type", "schema_version", "occurred_at", "recorded_at", "source", "subject"]:
        for v in wrong_for(envelope["properties"][field])[:3]:
            e = fresh(ty)
            e[field] = v
            rejected(e, "/" + field, "is not of type")
    props = data_schemas[ty].get("properties", {})
    for field in sorted(props):
        if field not in t["data"]:
            continue
        for v in wrong_for(props[field])[:4]:
            e = fresh(ty)
            e["data"][field] = v
            rejected(e, "/data/" + field, "is not of type")
    interleave_valid()

# 4. missing fields: every required envelope and payload field of every type
for ty in TYPES:
    for field in envelope["required"]:
        e = fresh(ty)
        del e[field]
        rejected(e, "", f'"{field}" is a required property')
    for field in data_schemas[ty].get("required", []):
        e = fresh(ty)
        del e["data"][field]
        rejected(e, "/data", f'"{field}" is a required property')
    # and an extra field nobody defined
    e = fresh(ty)
    e["data"]["extra"] = 1
    rejected(e, "/data", "Additional properties are not allowed")
    e = fresh(ty)
    e["extra"] = 1
    rejected(e, "", "Additional properties are not allowed")
    interleave_valid()

# 5. unknown event types and schema versions
for name in [
    "assessment.deleted", "employee.fired", "", "ASSESSMENT.RECORDED", "assessment.recorded ", "assessment",
    "framework.published.v2", "__proto__", "../../etc/passwd", "succession.nominated\u0000",
    "training.completed;drop table events", "potential.rated\u200b",
]:
    rejected(fresh("assessment.recorded", type=name), "/type", "is not one of")
for ty in TYPES:
    for version in [2, 3, 7, 99, 4294967295]:
        rejected(fresh(ty, schema_version=version), "/schema_version", "has no schema version")
    for version in [0, -1, 4294967296]:
        rejected(fresh(ty, schema_version=version), "/schema_version", "less than the minimum|greater than the maximum")
    interleave_valid()

# 6. huge strings
for n in [129, 1000, 50_000]:
    rejected(fresh("assessment.recorded", source="s" * n), "/source", "is longer than")
for field in ["subject"]:
    for n in [300, 10_000, 50_000]:
        rejected(fresh("assessment.recorded", **{field: "e" * n}), "/" + field, "is longer than")
for n in [5000, 50_000]:
    rejected(fresh("employee.hired", data={"name": "N" * n}), "/data/name", "is longer than")
    rejected(fresh("assessment.recorded", data={"evidence": "x" * n}), "/data/evidence", "is longer than")
    rejected(fresh("assessment.recorded", data={"competency_id": "c" * n}), "/data/competency_id", "is longer than")
interleave_valid()

# 7. deep nesting
for depth in [129, 200, 1000, 10_000, 50_000]:
    rejected('{"data":' + "[" * depth + "]" * depth + "}", "", "not valid JSON")
for depth in [10, 50, 100]:
    e = fresh("assessment.recorded")
    inner = "[" * depth + "]" * depth
    text = dump(e).replace('"evidence":null', '"evidence":' + inner)
    rejected(text, "/data/evidence", "is not of type")
    e = fresh("employee.hired")
    text = dump(e)[:-1] + ',"nested":' + '{"a":' * depth + "1" + "}" * depth + "}"
    rejected(text, "", "Additional properties are not allowed")
interleave_valid()

# 8. invalid UTF-8, at several places of otherwise valid events
BAD_BYTES = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc",
             b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\xa1\xa1\xa1\xa1", b"\xe2\x82"]
for i, bad in enumerate(BAD_BYTES):
    for where in ["subject", "source", "name"]:
        e = fresh("employee.hired", data={"name": "Ann"}) if where == "name" else fresh("employee.hired")
        text = dump(e).encode("utf-8")
        marker = {"subject": b'"subject":"', "source": b'"source":"', "name": b'"name":"'}[where]
        at = text.index(marker) + len(marker)
        rejected(text[:at] + bad + text[at:], "", "not valid UTF-8")
    interleave_valid()

# 9. levels outside the framework's scale (0 to 5) and the schema's (0 to 10)
for i, level in enumerate(list(range(6, 11)) * 6):
    comp = COMPETENCIES[i % len(COMPETENCIES)]
    rejected(fresh("assessment.recorded", data={"competency_id": comp, "level": level}),
             "/data/level", "outside the scale")
for level in [11, 12, 100, 255]:
    rejected(fresh("assessment.recorded", data={"level": level}), "/data/level", "greater than the maximum")
for i, level in enumerate([6, 7, 8, 9, 10] * 4):
    t = fresh("training.completed")
    t["data"]["competencies"] = [{"competency_id": COMPETENCIES[i], "target_level": level}]
    rejected(t, "/data/competencies/0/target_level", "outside the scale")
for i, level in enumerate([6, 7, 10] * 5):
    r = fresh("role_profile.defined", subject=f"role.hostile-{i}")
    r["data"]["requirements"][-1]["level"] = level
    n = len(r["data"]["requirements"]) - 1
    rejected(r, f"/data/requirements/{n}/level", "outside the scale")
interleave_valid()

# 10. references to what does not exist
for i in range(40):
    ghost = f"emp-9{i:05d}"
    for ty in ["assessment.recorded", "training.completed", "performance.rated", "potential.rated",
               "employee.left", "employee.assigned"]:
        rejected(fresh(ty, subject=ghost), "/subject", "unknown employee")
for i in range(30):
    rejected(fresh("assessment.recorded", subject=EMPLOYEES[i % len(EMPLOYEES)],
                   data={"competency_id": f"nope.competency-{i}"}),
             "/data/competency_id", "unknown competency")
for i in range(10):
    t = fresh("training.completed")
    t["data"]["competencies"] = [{"competency_id": COMPETENCIES[0], "target_level": 3},
                                 {"competency_id": f"ghost-{i}", "target_level": 3}]
    rejected(t, "/data/competencies/1/competency_id", "unknown competency")
for i in range(15):
    rejected(fresh("employee.assigned", data={"position_id": f"pos-ghost-{i}"}),
             "/data/position_id", "unknown position")
    rejected(fresh("succession.nominated", subject=f"pos-ghost-{i}"), "/subject", "unknown position")
    rejected(fresh("succession.withdrawn", subject=f"pos-ghost-{i}"), "/subject", "unknown position")
    rejected(fresh("position.defined", subject=f"pos-new-{i}", data={"role_id": f"role.ghost-{i}"}),
             "/data/role_id", "unknown role profile")
    rejected(fresh("position.defined", subject=f"pos-new-{i}", data={"org_unit_id": f"u-ghost-{i}"}),
             "/data/org_unit_id", "unknown org unit")
    rejected(fresh("role_profile.defined", subject=f"role.new-{i}", data={"framework_id": f"fw-ghost-{i}"}),
             "/data/framework_id", "unknown framework")
    r = fresh("role_profile.defined", subject=f"role.new-{i}")
    r["data"]["requirements"][0]["competency_id"] = f"ghost.{i}"
    rejected(r, "/data/requirements/0/competency_id", "unknown competency")
    interleave_valid()
# hostile identifiers are just unknown employees
for s in ["emp-000001\u0000", " emp-000001", "EMP-000001", "emp-000001'; DROP TABLE employees;--",
          "<script>alert(1)</script>", "../../../etc/passwd", "emp-000001\u202e", "𝔢𝔪𝔭"]:
    rejected(fresh("assessment.recorded", subject=s), "/subject", "unknown employee")

# 11. dates out of range, and dates that are not dates
for year in [1, 100, 1000, 1850, 1899]:
    for field in ["occurred_at", "recorded_at"]:
        rejected(fresh("assessment.recorded", **{field: f"{year:04d}-06-01T00:00:00Z"}),
                 "/" + field, "before 1900")
rejected(fresh("assessment.recorded", occurred_at="1899-12-31T23:59:59Z"), "/occurred_at", "before 1900")
rejected(fresh("assessment.recorded", occurred_at="1900-01-01T00:30:00+01:00"), "/occurred_at", "before 1900")
for year in [2100, 2500, 3000, 9999]:
    for month in ["01", "06", "12"]:
        rejected(fresh("performance.rated", occurred_at=f"{year}-{month}-01T00:00:00Z"),
                 "/occurred_at", "in the future")
for text in ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-06-01T25:00:00Z",
             "2026-06-01T12:60:00Z", "2026-06-01", "01/06/2026", "2026-06-01 12:00:00", "yesterday",
             "2026-06-01T12:00:00", "2026-06-01T12:00:00+25:00", "2026-W23-1", "", "0000-00-00T00:00:00Z",
             "10000-01-01T00:00:00Z", "2026-06-01T12:00:00.Z"]:
    for field in ["occurred_at", "recorded_at"]:
        rejected(fresh("assessment.recorded", **{field: text}), "/" + field,
                 "is not a \"date-time\"|does not match")
    interleave_valid()

# 12. ids: malformed, re-sent with other content, and plain re-sends
for text in ["", "1", "not-a-uuid", "00000000-0000-0000-0000-00000000000", "{" + "0" * 36 + "}",
             "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", "00000000000000000000000000000000"]:
    rejected(fresh("assessment.recorded", event_id=text), "/event_id", "is not a \"uuid\"|does not match")
changed = 0
for e in BASE:
    if e["type"] == "assessment.recorded" and changed < 60:
        other = copy.deepcopy(e)
        other["data"]["level"] = (other["data"]["level"] + 1) % 6
        rejected(other, "/event_id", "already stored with different content")
        changed += 1
for e in BASE[:40]:
    add(dump(e), "duplicate")
# the same new id twice in the corpus with different content: the first wins
e = valid_assessment(7)
add(e, "accepted")
e2 = copy.deepcopy(e)
e2["data"]["level"] = (e2["data"]["level"] + 2) % 6
rejected(e2, "/event_id", "already stored with different content")

# events that must pass: late hires make later events about them valid
for i in range(20):
    emp = f"emp-8{i:05d}"
    add(fresh("employee.hired", subject=emp, data={"name": f"Late Hire {i} \u202e\u0645\u0631\u062d\u0628\u0627"}),
        "accepted")
    add(fresh("assessment.recorded", subject=emp, data={"competency_id": COMPETENCIES[i], "level": 3}),
        "accepted")

with open(os.path.join(HERE, "hostile.ndjson"), "wb") as f:
    for line, _ in cases:
        f.write(line + b"\n")
with open(os.path.join(HERE, "hostile.expect"), "w", encoding="utf-8") as f:
    for _, expect in cases:
        f.write(expect + "\n")
hostile = sum(1 for _, x in cases if x.startswith("rejected"))
print(f"{len(cases)} lines: {hostile} hostile, {len(cases) - hostile} valid or re-sent")
