//! Poison input never stops the pipeline: a line larger than the log's
//! record limit is refused on its own (its dead letter kept cut, with its
//! length and digest), every other line of the file or body is stored, an
//! import runs to the end and a re-run does the same, and an HTTP answer
//! never says "nothing acknowledged" for events it stored.

mod common;

use common::*;
use serde_json::Value;

fn hire(i: usize, name: &str) -> String {
    serde_json::json!({
        "event_id": format!("00000000-0000-4000-8000-{i:012}"),
        "type": "employee.hired", "schema_version": 1,
        "occurred_at": "2026-01-01T00:00:00Z", "recorded_at": "2026-01-01T00:00:00Z",
        "source": "poison", "subject": format!("emp-{i}"), "data": {"name": name}
    })
    .to_string()
}

/// A hire whose name alone is 17 MiB: over the 16 MiB a stored record may be.
fn huge(i: usize) -> String {
    hire(i, &"x".repeat(17 << 20))
}

#[test]
fn a_line_over_the_record_limit_is_a_dead_letter_and_the_import_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("poison.ndjson");
    let lines: Vec<String> = (0..3000)
        .map(|i| {
            if i == 1500 {
                huge(i)
            } else {
                hire(i, &format!("Person {i}"))
            }
        })
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();

    for run_no in 1..=2 {
        let out = run(
            cadre(&data)
                .args(["ingest", "--quiet", "--batch-size", "1000"])
                .arg(&file),
            2,
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("nothing acknowledged"), "run {run_no}: {err}");
        let s = status(&data);
        assert_eq!(
            s["events"], 2999,
            "run {run_no}: every other line is stored"
        );
        assert_eq!(s["dead_letters"], run_no, "run {run_no}");
    }
    let out = run(cadre(&data).arg("dead-letters"), 0);
    let first: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["position"], 1501);
    assert_eq!(first["raw"].as_str().unwrap().len(), 64 * 1024, "kept cut");
    assert_eq!(first["truncated"]["bytes"], lines[1500].len());
    assert_eq!(first["truncated"]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn over_http_the_stored_events_are_acknowledged_beside_the_refused_one() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("cadre.toml");
    std::fs::write(&config, "[server]\nmax_body_bytes = 40000000\n").unwrap();
    let server = Server::start_with(
        &tmp.path().join("data"),
        "ingest-token-0123456789",
        &["--config", config.to_str().unwrap()],
    );
    let body = format!("{}\n{}\n{}\n", hire(1, "Ann"), huge(2), hire(3, "Bo"));
    for _ in 0..2 {
        let (code, v) = server.post_events(body.as_bytes());
        assert_eq!(code, 422, "{v}");
        let statuses: Vec<&str> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].as_str().unwrap())
            .collect();
        assert!(
            statuses == ["accepted", "rejected", "accepted"]
                || statuses == ["duplicate", "rejected", "duplicate"],
            "{statuses:?}"
        );
        assert_eq!(v["results"][1]["path"], "/data/name", "{v}");
    }
    assert_eq!(server.get_json("/v1/status")["events"], 2);
    server.stop();
}
