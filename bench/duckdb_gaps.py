#!/usr/bin/env python3
"""The peer: cadre's gap tables computed by DuckDB from the same NDJSON events.

Reads the events with read_json and computes, in SQL written from
docs/metrics.md alone, the pairs table ("Pairs and gaps") and the roll-up per
org unit over its whole subtree ("Roll-ups"), as of a moment. Prints the unit
roll-up as JSON (one object per unit, cadre's column names) and the wall time
on standard error.

    python3 bench/duckdb_gaps.py EVENTS.ndjson --as-of 2026-06-30T23:59:59Z [--out units.json]

Needs `duckdb` from PyPI (pip install duckdb).
"""

import argparse
import json
import sys
import time

import duckdb

# docs/metrics.md, "Effective level" and "Pairs and gaps"; cadre's defaults
WINDOW_DAYS = 730
STALE_DAYS = 365
WEIGHTS = {"manager": 0.4, "panel": 0.4, "peer": 0.1, "self": 0.1}

SQL = """
-- every event at or before as_of, in the order cadre folds them: occurred_at, then arrival
CREATE OR REPLACE TEMP TABLE e AS
SELECT * FROM ev WHERE occurred_at <= $as_of;

-- latest definitions
CREATE OR REPLACE TEMP TABLE units AS
SELECT subject AS unit_id, data->>'parent_id' AS parent_id
FROM e WHERE type = 'org_unit.defined'
QUALIFY row_number() OVER (PARTITION BY subject ORDER BY occurred_at DESC, seq DESC) = 1;

CREATE OR REPLACE TEMP TABLE ancestry AS
WITH RECURSIVE up(unit_id, ancestor_id, depth) AS (
    SELECT unit_id, unit_id, 0 FROM units
    UNION ALL
    SELECT up.unit_id, u.parent_id, up.depth + 1
    FROM up JOIN units u ON u.unit_id = up.ancestor_id
    WHERE u.parent_id IS NOT NULL AND up.depth < 64
)
SELECT DISTINCT unit_id, ancestor_id FROM up WHERE ancestor_id IN (SELECT unit_id FROM units);

CREATE OR REPLACE TEMP TABLE requirements AS
WITH latest AS (
    SELECT subject AS role_id, data FROM e WHERE type = 'role_profile.defined'
    QUALIFY row_number() OVER (PARTITION BY subject ORDER BY occurred_at DESC, seq DESC) = 1
)
SELECT role_id, r.competency_id, r.level::DOUBLE AS required, coalesce(r.weight, 1.0) AS weight
FROM latest, unnest(from_json(data->'requirements',
    '[{"competency_id":"VARCHAR","level":"DOUBLE","weight":"DOUBLE"}]')) AS t(r);

CREATE OR REPLACE TEMP TABLE positions AS
SELECT subject AS position_id, data->>'role_id' AS role_id, data->>'org_unit_id' AS org_unit_id
FROM e WHERE type = 'position.defined'
QUALIFY row_number() OVER (PARTITION BY subject ORDER BY occurred_at DESC, seq DESC) = 1;

-- employees: the latest hire, and a leaving at or after it ends activity once its day has passed
CREATE OR REPLACE TEMP TABLE hired AS
SELECT subject AS employee_id, occurred_at AS hired_at
FROM e WHERE type = 'employee.hired'
QUALIFY row_number() OVER (PARTITION BY subject ORDER BY occurred_at DESC, seq DESC) = 1;

CREATE OR REPLACE TEMP TABLE active AS
WITH left_ AS (
    SELECT e.subject AS employee_id,
           coalesce(TRY_CAST(e.data->>'effective_on' AS DATE), CAST(e.occurred_at AS DATE)) AS leaving_on
    FROM e JOIN hired h ON h.employee_id = e.subject
    WHERE e.type = 'employee.left' AND e.occurred_at >= h.hired_at
    QUALIFY row_number() OVER (PARTITION BY e.subject ORDER BY e.occurred_at DESC, e.seq DESC) = 1
), assigned AS (
    SELECT e.subject AS employee_id, e.data->>'position_id' AS position_id
    FROM e JOIN hired h ON h.employee_id = e.subject
    WHERE e.type = 'employee.assigned'
    QUALIFY row_number() OVER (PARTITION BY e.subject ORDER BY e.occurred_at DESC, e.seq DESC) = 1
)
SELECT h.employee_id, p.role_id, p.org_unit_id
FROM hired h
LEFT JOIN left_ l USING (employee_id)
LEFT JOIN assigned a USING (employee_id)
LEFT JOIN positions p ON p.position_id = a.position_id
WHERE l.leaving_on IS NULL OR l.leaving_on > CAST($as_of AS DATE);

-- assessments: the latest per assessor type in the window, weighted
CREATE OR REPLACE TEMP TABLE assessments AS
SELECT subject AS employee_id, data->>'competency_id' AS competency_id,
       (data->>'level')::DOUBLE AS level, data->>'assessor_type' AS assessor_type,
       occurred_at, seq
FROM e WHERE type = 'assessment.recorded';

CREATE OR REPLACE TEMP TABLE assessed AS
WITH kept AS (
    SELECT * FROM assessments
    WHERE occurred_at > $as_of - to_days($window)
    QUALIFY row_number() OVER (PARTITION BY employee_id, competency_id, assessor_type
                               ORDER BY occurred_at DESC, seq DESC) = 1
), w AS (
    SELECT kept.*, CASE assessor_type WHEN 'manager' THEN $w_manager WHEN 'panel' THEN $w_panel
                   WHEN 'peer' THEN $w_peer ELSE $w_self END AS w
    FROM kept
)
SELECT employee_id, competency_id, round(sum(w * level) / sum(w), 9) AS level,
       max(occurred_at) AS last_kept, bool_and(assessor_type = 'self') AS self_only
FROM w GROUP BY employee_id, competency_id;

CREATE OR REPLACE TEMP TABLE trainings AS
SELECT subject AS employee_id, c.competency_id, c.target_level::DOUBLE AS target, occurred_at
FROM e, unnest(from_json(data->'competencies',
    '[{"competency_id":"VARCHAR","target_level":"INTEGER"}]')) AS t(c)
WHERE type = 'training.completed' AND occurred_at > $as_of - to_days($window);

-- effective level: the assessed level raised by trainings after it, or trainings alone
CREATE OR REPLACE TEMP TABLE levels AS
WITH keys AS (
    SELECT employee_id, competency_id FROM assessed
    UNION SELECT employee_id, competency_id FROM trainings
), raised AS (
    SELECT k.employee_id, k.competency_id, a.level AS base, a.self_only,
           (SELECT max(t.target) FROM trainings t
             WHERE t.employee_id = k.employee_id AND t.competency_id = k.competency_id
               AND (a.last_kept IS NULL OR t.occurred_at > a.last_kept)) AS target
    FROM keys k LEFT JOIN assessed a USING (employee_id, competency_id)
)
SELECT employee_id, competency_id,
       CASE WHEN target IS NOT NULL AND target > coalesce(base, 0)
            THEN least(coalesce(base, 0) + 1, target) ELSE base END AS level,
       base IS NOT NULL AS assessed,
       coalesce(self_only, false) AS self_only
FROM raised
WHERE base IS NOT NULL OR target IS NOT NULL;

CREATE OR REPLACE TEMP TABLE last_assessed AS
SELECT employee_id, competency_id, max(occurred_at) AS last_at
FROM assessments GROUP BY employee_id, competency_id;

-- the pairs table
CREATE OR REPLACE TEMP TABLE pairs AS
SELECT a.employee_id, a.org_unit_id, a.role_id, q.competency_id, q.required, q.weight,
       l.level AS effective,
       coalesce(l.assessed, false) AS assessed,
       -- DuckDB's greatest() skips NULLs: an unassessed pair must keep a NULL gap
       CASE WHEN l.level IS NOT NULL THEN greatest(q.required - l.level, 0) END AS gap,
       CASE WHEN l.level IS NOT NULL THEN q.weight * greatest(q.required - l.level, 0) END AS weighted_gap,
       l.level >= q.required AS meets,
       CASE WHEN la.last_at IS NULL THEN NULL ELSE la.last_at < $as_of - to_days($stale) END AS stale,
       coalesce(l.assessed AND l.self_only, false) AS self_only,
       q.weight * least(greatest(q.required - coalesce(l.level, 0), 0), q.required) AS fit_shortfall,
       q.weight * q.required AS fit_weight
FROM active a
JOIN requirements q ON q.role_id = a.role_id
LEFT JOIN levels l ON l.employee_id = a.employee_id AND l.competency_id = q.competency_id
LEFT JOIN last_assessed la ON la.employee_id = a.employee_id AND la.competency_id = q.competency_id
WHERE a.org_unit_id IS NOT NULL;

-- the roll-up per unit over its whole subtree
CREATE OR REPLACE TEMP TABLE unit_rollup AS
WITH fit AS (
    SELECT employee_id, CASE WHEN sum(fit_weight) > 0
                             THEN 1 - sum(fit_shortfall) / sum(fit_weight) END AS role_fit
    FROM pairs GROUP BY employee_id
), head AS (
    SELECT an.ancestor_id AS unit_id, count(*) AS headcount
    FROM active a JOIN ancestry an ON an.unit_id = a.org_unit_id GROUP BY 1
), pm AS (
    SELECT an.ancestor_id AS unit_id,
           count(DISTINCT p.employee_id) AS people_with_requirements,
           count(*) AS required_pairs,
           count(*) FILTER (WHERE p.assessed) AS assessed_pairs,
           count(p.effective) AS levelled_pairs,
           count(*) FILTER (WHERE p.meets) AS meeting_pairs,
           count(p.stale) AS ever_assessed_pairs,
           count(*) FILTER (WHERE p.stale) AS stale_pairs,
           count(*) FILTER (WHERE p.self_only) AS self_only_pairs,
           avg(p.gap) AS mean_gap,
           sum(p.weighted_gap) AS total_weighted_gap
    FROM pairs p JOIN ancestry an ON an.unit_id = p.org_unit_id GROUP BY 1
), pf AS (
    SELECT an.ancestor_id AS unit_id, avg(f.role_fit) AS mean_role_fit, count(f.role_fit) AS role_fit_people
    FROM (SELECT DISTINCT employee_id, org_unit_id FROM pairs) pe
    JOIN fit f USING (employee_id)
    JOIN ancestry an ON an.unit_id = pe.org_unit_id GROUP BY 1
)
SELECT u.unit_id,
       coalesce(head.headcount, 0) AS headcount,
       coalesce(pm.people_with_requirements, 0) AS people_with_requirements,
       coalesce(pm.required_pairs, 0) AS required_pairs,
       coalesce(pm.assessed_pairs, 0) AS assessed_pairs,
       coalesce(pm.levelled_pairs, 0) AS levelled_pairs,
       coalesce(pm.meeting_pairs, 0) AS meeting_pairs,
       coalesce(pm.ever_assessed_pairs, 0) AS ever_assessed_pairs,
       coalesce(pm.stale_pairs, 0) AS stale_pairs,
       coalesce(pm.self_only_pairs, 0) AS self_only_pairs,
       pm.assessed_pairs / nullif(pm.required_pairs, 0) AS coverage,
       pm.stale_pairs / nullif(pm.ever_assessed_pairs, 0) AS staleness,
       pm.meeting_pairs / nullif(pm.levelled_pairs, 0) AS meeting_share,
       pm.mean_gap,
       coalesce(pm.total_weighted_gap, 0) AS total_weighted_gap,
       pf.mean_role_fit,
       coalesce(pf.role_fit_people, 0) AS role_fit_people
FROM units u
LEFT JOIN head USING (unit_id)
LEFT JOIN pm USING (unit_id)
LEFT JOIN pf USING (unit_id)
ORDER BY u.unit_id;
"""


def load(con, path):
    """Reads NDJSON events; `seq` is the line order (cadre's arrival order)."""
    con.execute(
        """
        CREATE OR REPLACE TABLE ev AS
        SELECT row_number() OVER () - 1 AS seq, *
        FROM read_json(?, format = 'newline_delimited',
                       columns = {event_id: 'VARCHAR', type: 'VARCHAR', schema_version: 'INTEGER',
                                  occurred_at: 'TIMESTAMPTZ', recorded_at: 'TIMESTAMPTZ',
                                  source: 'VARCHAR', subject: 'VARCHAR', data: 'JSON'})
        """,
        [path],
    )


def unit_rollup(con, as_of):
    """The unit roll-up as of `as_of` (an RFC 3339 instant), as a list of dicts."""
    params = {
        "as_of": as_of,
        "window": WINDOW_DAYS,
        "stale": STALE_DAYS,
        "w_manager": WEIGHTS["manager"],
        "w_panel": WEIGHTS["panel"],
        "w_peer": WEIGHTS["peer"],
        "w_self": WEIGHTS["self"],
    }
    text = "\n".join(l for l in SQL.splitlines() if not l.strip().startswith("--"))
    for statement in [s for s in text.split(";") if s.strip()]:
        used = {k: v for k, v in params.items() if f"${k}" in statement}
        if "$as_of" in statement:
            statement = statement.replace("$as_of", "CAST($as_of AS TIMESTAMPTZ)")
        con.execute(statement, used)
    cur = con.execute("SELECT * FROM unit_rollup")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("events")
    ap.add_argument("--as-of", required=True, help="RFC 3339 instant, e.g. 2026-06-30T23:59:59Z")
    ap.add_argument("--out", help="write the unit roll-up here as JSON")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    a = ap.parse_args()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if a.threads:
        con.execute(f"SET threads = {a.threads}")
    started = time.perf_counter()
    load(con, a.events)
    loaded = time.perf_counter()
    rows = unit_rollup(con, a.as_of)
    done = time.perf_counter()
    out = json.dumps(rows, default=str, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(out)
    else:
        print(out)
    print(
        f"duckdb {duckdb.__version__}: load {loaded - started:.3f} s, gap tables {done - loaded:.3f} s, "
        f"total {done - started:.3f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
