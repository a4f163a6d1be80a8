#!/usr/bin/env python3
"""cadre against DuckDB on the same events, in the same run.

For each size N: `cadre generate` writes N employees' events as NDJSON; then
  - cadre: `cadre ingest` (durable log) then `cadre query gaps` (projection and
    gap tables) from a fresh data directory, wall time of both;
  - DuckDB: read_json of the same file and the SQL of bench/duckdb_gaps.py;
the unit roll-ups are checked equal (every figure of every unit, within 1e-9
relative: sums of floats in another order differ in their last bits)
and the wall times and their ratio printed.

    cargo build --release && python3 bench/compare.py --sizes 10000 100000

Needs `duckdb` from PyPI.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import duckdb  # noqa: E402
import duckdb_gaps  # noqa: E402

END = "2026-06-30"
AS_OF = f"{END}T23:59:59Z"


def timed(cmd):
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, check=False)
    took = time.perf_counter() - started
    if out.returncode not in (0,):
        sys.exit(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr.decode()[-2000:]}")
    return out.stdout, took


def compare(cadre_units, duck_units):
    duck = {r["unit_id"]: r for r in duck_units}
    if len(duck) != len(cadre_units):
        return f"{len(cadre_units)} units in cadre, {len(duck)} in DuckDB"
    checked = 0
    for u in cadre_units:
        d = duck.get(u["unit_id"])
        if d is None:
            return f"unit {u['unit_id']} missing from DuckDB"
        for k, v in u.items():
            if k in ("unit_id", "unit_name", "parent_id"):
                continue
            dv = d[k]
            checked += 1
            if v is None or dv is None:
                if (v is None) != (dv is None):
                    return f"{u['unit_id']} {k}: cadre {v}, DuckDB {dv}"
            elif abs(float(v) - float(dv)) > 1e-9 * max(1.0, abs(float(v))):
                return f"{u['unit_id']} {k}: cadre {v}, DuckDB {dv}"
    return f"equal ({checked} figures)"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    ap.add_argument("--cadre", default="target/release/cadre")
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    print(f"{'employees':>10} {'events':>10} {'cadre s':>9} {'duckdb s':>9} {'ratio':>6}  result")
    for n in a.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            events = os.path.join(tmp, "events.ndjson")
            timed([a.cadre, "generate", "--employees", str(n), "--seed", str(a.seed),
                   "--end-date", END, "--output", events])
            lines = sum(1 for _ in open(events))
            data = os.path.join(tmp, "data")
            _, ingest = timed([a.cadre, "--data-dir", data, "ingest", "--quiet", events])
            out, query = timed([a.cadre, "--data-dir", data, "query", "gaps", "--as-of", AS_OF,
                                "--format", "json"])
            cadre_units = json.loads(out)["tables"]["units"]["rows"]
            started = time.perf_counter()
            con = duckdb.connect()
            con.execute("SET TimeZone = 'UTC'")
            duckdb_gaps.load(con, events)
            duck_units = duckdb_gaps.unit_rollup(con, AS_OF)
            duck = time.perf_counter() - started
            cadre = ingest + query
            print(f"{n:>10} {lines:>10} {cadre:>9.2f} {duck:>9.2f} {cadre / duck:>6.2f}  "
                  f"{compare(cadre_units, duck_units)} (cadre: ingest {ingest:.2f} s + query {query:.2f} s)")


if __name__ == "__main__":
    main()
