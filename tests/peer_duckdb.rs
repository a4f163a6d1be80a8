//! The peer comparison of issue "benchmarks": DuckDB (from PyPI; `bash
//! .ci/run` installs it) computes the unit gap roll-up from the same NDJSON
//! with SQL written from docs/metrics.md (`bench/duckdb_gaps.py`), and every
//! figure of every unit must equal cadre's.

mod common;

use std::process::Command;

use common::*;

#[test]
fn duckdb_computes_the_same_unit_rollups_from_the_same_events() {
    let out = Command::new("python3")
        .arg(root().join("bench/compare.py"))
        .args([
            "--cadre",
            env!("CARGO_BIN_EXE_cadre"),
            "--sizes",
            "1500",
            "--seed",
            "7",
        ])
        .output()
        .expect("python3 on the PATH");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench/compare.py failed (is duckdb installed? pip install duckdb): {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = text.lines().nth(1).expect("one result row");
    assert!(row.contains("equal ("), "cadre and DuckDB differ: {row}");
    let figures: usize = row
        .split("equal (")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(figures > 1000, "{figures} figures compared");
}
