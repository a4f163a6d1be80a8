//! `cadre bench` end to end, small: every figure is measured and sane, the
//! DuckDB peer (from PyPI; `bash .ci/run` installs it) computes the same unit
//! gap roll-up from the same NDJSON with SQL written from docs/metrics.md
//! (`bench/duckdb_gaps.py`) and every figure of every unit equals cadre's;
//! the HTTP load and the Kafka run store every event they send. Timings are
//! not checked here (a debug build); `docs/performance.md` has the release
//! figures.

mod common;

use common::*;

#[test]
fn the_benchmark_measures_every_figure_and_agrees_with_duckdb() {
    let b = broker();
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("report.json");
    let out = run(
        cadre(tmp.path())
            .current_dir(root())
            .args(["bench", "--sizes", "400", "1500", "--seed", "7"])
            .args([
                "--http-seconds",
                "30",
                "--http-employees",
                "300",
                "--clients",
                "3",
            ])
            .args(["--http-batch", "200", "--kafka", &b, "--work-dir"])
            .arg(tmp.path().join("work"))
            .arg("--json")
            .arg(&json),
        0,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for row in [
        "file ingest, durable (events/s)",
        "projection, one core (events/s)",
        "full recompute (s)",
        "freshness, one event (s)",
        "peak RSS, recompute (MiB)",
        "log on disk (bytes/event)",
        "projection state (bytes/pair)",
        "end to end, cadre, own clock (s)",
        "ratio cadre / DuckDB, own clock",
        "end to end, DuckDB, process (s)",
        "ratio cadre / DuckDB, process",
        "HTTP ingest: 3 clients",
        "Kafka (",
    ] {
        assert!(text.contains(row), "no {row:?} in:\n{text}");
    }
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let sizes = r["sizes"].as_array().unwrap();
    assert_eq!(sizes.len(), 2);
    for s in sizes {
        let events = s["events"].as_f64().unwrap();
        assert!(events > 10.0 * s["employees"].as_f64().unwrap(), "{s}");
        for k in [
            "ingest_events_per_sec",
            "projection_events_per_sec",
            "recompute_secs",
            "freshness_secs",
            "peak_rss_ingest",
            "peak_rss_replay",
            "peak_rss_recompute",
            "disk_bytes_per_event",
            "state_bytes_per_pair",
            "end_to_end_secs",
            "end_to_end_own_secs",
        ] {
            assert!(s[k].as_f64().unwrap() > 0.0, "{k} of {s}");
        }
        // the log holds at least each event's payload (the NDJSON line, about)
        assert!(
            s["disk_bytes_per_event"].as_f64().unwrap()
                > 0.5 * s["ndjson_bytes"].as_f64().unwrap() / events,
            "{s}"
        );
        assert_eq!(s["freshness_changed"], true, "{s}");
        assert_eq!(s["recompute_parts_secs"].as_array().unwrap().len(), 5);
        let peer = &s["peer"];
        assert_eq!(peer["difference"], serde_json::Value::Null, "{peer}");
        assert!(peer["figures"].as_u64().unwrap() > 300, "{peer}");
        assert!(peer["duckdb_secs"].as_f64().unwrap() > 0.0);
        // the ratios are of the end to end measured in one go: each tool's
        // own clock inside its process, and the processes' wall clocks
        assert_eq!(peer["cadre_secs"], s["end_to_end_own_secs"], "{s}");
        assert_eq!(peer["cadre_process_secs"], s["end_to_end_secs"], "{s}");
        for tool in ["cadre", "duckdb"] {
            let own = peer[format!("{tool}_secs")].as_f64().unwrap();
            let process = peer[format!("{tool}_process_secs")].as_f64().unwrap();
            assert!(own > 0.0 && own < process, "{tool}: {peer}");
        }
    }
    // the larger organisation has more pairs and more units' figures
    assert!(sizes[1]["pairs"].as_u64() > sizes[0]["pairs"].as_u64());
    assert!(sizes[1]["peer"]["figures"].as_u64() > sizes[0]["peer"]["figures"].as_u64());

    let load = &r["load"];
    assert_eq!(load["errors"], 0, "{load}");
    assert!(load["requests"].as_u64().unwrap() > 3, "{load}");
    assert!(load["accepted"].as_u64().unwrap() > 1000, "{load}");
    assert!(load["p99_ms"].as_f64() >= load["p50_ms"].as_f64(), "{load}");
    let kafka = &r["kafka"];
    assert_eq!(kafka["events"], sizes[0]["events"], "{kafka}");
    assert!(
        kafka["messages"].as_u64() >= kafka["events"].as_u64(),
        "{kafka}"
    );
}
