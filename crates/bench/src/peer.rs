//! The peer: DuckDB computes the unit gap roll-up from the same NDJSON with
//! SQL written from docs/metrics.md (`bench/duckdb_gaps.py`); every figure of
//! every unit is checked against cadre's, and the wall times compared.

use std::path::{Path, PathBuf};
use std::process::Command;

use cadre_analytics::QueryOutput;
use serde::Serialize;
use serde_json::Value;

use crate::{as_of, io, BenchError};

/// How to run the peer.
#[derive(Debug, Clone)]
pub struct PeerOptions {
    /// The Python interpreter (with `duckdb` installed).
    pub python: PathBuf,
    /// `bench/duckdb_gaps.py`.
    pub script: PathBuf,
}

/// The comparison on one file, measured two ways: by each tool's own clock
/// around the same work (the file loaded, the tables computed), and as
/// whole processes (start to exit, the answer written).
#[derive(Debug, Clone, Serialize)]
pub struct PeerFigures {
    /// DuckDB's own clock: `read_json` of the file plus the SQL, the rows
    /// fetched (not the interpreter's start, nor writing the rows out).
    pub duckdb_secs: f64,
    /// cadre's own clock for the same work (`SizeFigures::end_to_end_own_secs`):
    /// the file ingested durably and folded as it is stored, then the gap
    /// tables (not writing them out).
    pub cadre_secs: f64,
    /// `cadre_secs / duckdb_secs`.
    pub ratio: f64,
    /// The DuckDB script as a process, wall clock: the interpreter's start,
    /// the work, the roll-up written out, the exit.
    pub duckdb_process_secs: f64,
    /// `cadre query gaps --import` as a process, wall clock
    /// (`SizeFigures::end_to_end_secs`).
    pub cadre_process_secs: f64,
    /// `cadre_process_secs / duckdb_process_secs`.
    pub process_ratio: f64,
    /// The DuckDB version that ran.
    pub duckdb_version: String,
    /// Figures compared.
    pub figures: usize,
    /// The first figure that differs, if any.
    pub difference: Option<String>,
}

/// Every figure of every unit in both roll-ups: `Ok(count)` when all are
/// equal (within 1e-9 relative: float sums in another order differ in their
/// last bits), else the first difference.
pub(crate) fn compare(cadre: &[Value], duck: &[Value]) -> Result<usize, String> {
    let by_id: std::collections::HashMap<&str, &Value> = duck
        .iter()
        .filter_map(|r| Some((r["unit_id"].as_str()?, r)))
        .collect();
    if by_id.len() != cadre.len() {
        return Err(format!(
            "{} units in cadre, {} in DuckDB",
            cadre.len(),
            by_id.len()
        ));
    }
    let mut checked = 0;
    for u in cadre {
        let id = u["unit_id"].as_str().unwrap_or_default();
        let d = by_id
            .get(id)
            .ok_or_else(|| format!("unit {id} missing from DuckDB"))?;
        for (k, v) in u.as_object().into_iter().flatten() {
            if matches!(k.as_str(), "unit_id" | "unit_name" | "parent_id") {
                continue;
            }
            checked += 1;
            let dv = &d[k];
            let same = match (v.as_f64(), dv.as_f64()) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                _ => v.is_null() && dv.is_null(),
            };
            if !same {
                return Err(format!("{id} {k}: cadre {v}, DuckDB {dv}"));
            }
        }
    }
    Ok(checked)
}

/// What the peer computed, and how long it took.
pub(crate) struct PeerRun {
    duckdb_secs: f64,
    duckdb_process_secs: f64,
    duckdb_version: String,
    units: Vec<Value>,
}

/// Runs the peer on `events`. The bench runs it before cadre's own phases:
/// cadre keeps the memory it has used, and at 1,000,000 employees the two
/// together would not fit.
pub(crate) fn run(
    options: &PeerOptions,
    events: &Path,
    end: chrono::NaiveDate,
) -> Result<PeerRun, BenchError> {
    let out_path = events.with_file_name("duckdb-units.json");
    let started = std::time::Instant::now();
    let out = Command::new(&options.python)
        .arg(&options.script)
        .arg(events)
        .args(["--as-of", &as_of(end).to_rfc3339()])
        .arg("--out")
        .arg(&out_path)
        .output()
        .map_err(io(format!(
            "cannot run {} {}",
            options.python.display(),
            options.script.display()
        )))?;
    let duckdb_process_secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(BenchError::Check(format!(
            "{} failed (is duckdb installed? pip install duckdb): {}",
            options.script.display(),
            &stderr[stderr.char_indices().rev().nth(2000).map_or(0, |(i, _)| i)..]
        )));
    }
    // "duckdb 2.0.0: load 0.123 s, gap tables 0.456 s, total 0.579 s"
    let line = stderr
        .lines()
        .find(|l| l.starts_with("duckdb "))
        .ok_or_else(|| BenchError::Check(format!("no timing from the peer: {stderr}")))?;
    let duckdb_version = line
        .strip_prefix("duckdb ")
        .and_then(|l| l.split(':').next())
        .unwrap_or_default()
        .to_string();
    let duckdb_secs = total_secs(line)
        .ok_or_else(|| BenchError::Check(format!("unreadable peer timing: {line}")))?;
    let text = std::fs::read_to_string(&out_path)
        .map_err(io(format!("cannot read {}", out_path.display())))?;
    let units: Vec<Value> = serde_json::from_str(&text)
        .map_err(|e| BenchError::Check(format!("the peer's roll-up is not JSON: {e}")))?;
    Ok(PeerRun {
        duckdb_secs,
        duckdb_process_secs,
        duckdb_version,
        units,
    })
}

/// The seconds after `total ` in a timing line, as DuckDB's script and
/// `cadre query --timings` print them:
/// `duckdb 2.0.0: load 0.123 s, gap tables 0.456 s, total 0.579 s`.
pub(crate) fn total_secs(line: &str) -> Option<f64> {
    let (_, rest) = line.rsplit_once("total ")?;
    rest.split(" s").next()?.trim().parse().ok()
}

/// Compares the peer's roll-up with cadre's `gaps`, and the times: cadre's
/// own clock and its process's wall clock.
pub(crate) fn figures(
    run: PeerRun,
    gaps: &QueryOutput,
    (cadre_secs, cadre_process_secs): (f64, f64),
) -> PeerFigures {
    let PeerRun {
        duckdb_secs,
        duckdb_process_secs,
        duckdb_version,
        units: duck,
    } = run;
    let json = gaps.to_json();
    let cadre: &[Value] = json["tables"]["units"]["rows"]
        .as_array()
        .map_or(&[], |v| v.as_slice());
    let (figures, difference) = match compare(cadre, &duck) {
        Ok(n) => (n, None),
        Err(d) => (0, Some(d)),
    };
    PeerFigures {
        duckdb_secs,
        cadre_secs,
        ratio: cadre_secs / duckdb_secs.max(1e-9),
        duckdb_process_secs,
        cadre_process_secs,
        process_ratio: cadre_process_secs / duckdb_process_secs.max(1e-9),
        duckdb_version,
        figures,
        difference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_total_is_read_from_either_tools_timing_line() {
        let duck = "duckdb 2.0.0: load 1.584 s, gap tables 1.973 s, total 3.557 s";
        assert_eq!(total_secs(duck), Some(3.557));
        let cadre =
            "cadre 0.1.0: import 2.301 s, tables 0.642 s, total 2.943 s, answer written 0.171 s";
        assert_eq!(total_secs(cadre), Some(2.943));
        assert_eq!(total_secs("cadre 0.1.0: import 2.301 s"), None);
    }

    #[test]
    fn equal_roll_ups_count_their_figures_and_a_difference_is_named() {
        let cadre = vec![
            json!({"unit_id": "u1", "unit_name": "A", "headcount": 3, "mean_gap": 0.5, "stale": null}),
        ];
        let same = vec![
            json!({"unit_id": "u1", "headcount": 3.0, "mean_gap": 0.5 + 1e-12, "stale": null}),
        ];
        assert_eq!(compare(&cadre, &same), Ok(3));
        let other = vec![json!({"unit_id": "u1", "headcount": 3, "mean_gap": 0.6, "stale": null})];
        assert_eq!(
            compare(&cadre, &other),
            Err("u1 mean_gap: cadre 0.5, DuckDB 0.6".to_string())
        );
        let missing =
            vec![json!({"unit_id": "u2", "headcount": 3, "mean_gap": 0.5, "stale": null})];
        assert_eq!(
            compare(&cadre, &missing),
            Err("unit u1 missing from DuckDB".to_string())
        );
        let null = vec![json!({"unit_id": "u1", "headcount": 3, "mean_gap": null, "stale": null})];
        assert!(compare(&cadre, &null).is_err());
    }
}
