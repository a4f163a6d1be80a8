//! The hostile corpus (`tests/corpus/`, made by `make_corpus.py`): 1,489
//! malformed or hostile events between valid ones and re-sends. Through a
//! file import and over HTTP, each hostile line is refused with its precise
//! path and reason and dead-lettered, every valid line is stored, every
//! re-send is a duplicate, and nothing crashes or holds back its batch.

mod common;

use std::fs;

use common::*;
use serde_json::Value;

/// One expectation per corpus line.
#[derive(Debug)]
enum Expect {
    Accepted,
    Duplicate,
    Rejected { path: String, reasons: Vec<String> },
}

fn corpus() -> (Vec<Vec<u8>>, Vec<Expect>) {
    let dir = root().join("tests/corpus");
    let raw = fs::read(dir.join("hostile.ndjson")).unwrap();
    let lines: Vec<Vec<u8>> = raw
        .strip_suffix(b"\n")
        .unwrap()
        .split(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    let expect: Vec<Expect> = fs::read_to_string(dir.join("hostile.expect"))
        .unwrap()
        .lines()
        .map(|l| {
            let parts: Vec<&str> = l.split('\t').collect();
            match parts[0] {
                "accepted" => Expect::Accepted,
                "duplicate" => Expect::Duplicate,
                "rejected" => Expect::Rejected {
                    path: parts[1].to_string(),
                    reasons: parts[2].split('|').map(String::from).collect(),
                },
                other => panic!("bad expectation {other:?}"),
            }
        })
        .collect();
    assert_eq!(lines.len(), expect.len(), "one expectation per corpus line");
    let hostile = expect
        .iter()
        .filter(|e| matches!(e, Expect::Rejected { .. }))
        .count();
    assert!(
        hostile >= 1000,
        "at least 1,000 hostile lines, not {hostile}"
    );
    (lines, expect)
}

/// Checks one outcome (`status`, `path`, `reason`) against its expectation.
fn check(line: usize, expect: &Expect, status: &str, path: &str, reason: &str) {
    let ok = match expect {
        Expect::Accepted => status == "accepted",
        Expect::Duplicate => status == "duplicate",
        Expect::Rejected { path: p, reasons } => {
            status == "rejected" && path == p && reasons.iter().any(|r| reason.contains(r))
        }
    };
    assert!(
        ok,
        "corpus line {line}: expected {expect:?}, got {status} at {path:?}: {reason}"
    );
}

fn seeded(tmp: &std::path::Path, name: &str) -> std::path::PathBuf {
    let data = tmp.join(name);
    run(
        cadre(&data)
            .args(["ingest", "--quiet"])
            .arg(root().join("tests/corpus/base.ndjson")),
        0,
    );
    data
}

#[test]
fn every_hostile_line_is_refused_precisely_by_file_import_and_over_http() {
    let (lines, expect) = corpus();
    let tmp = tempfile::tempdir().unwrap();
    let count = |want: fn(&Expect) -> bool| expect.iter().filter(|e| want(e)).count();
    let accepted = count(|e| matches!(e, Expect::Accepted));
    let duplicate = count(|e| matches!(e, Expect::Duplicate));
    let rejected = count(|e| matches!(e, Expect::Rejected { .. }));

    // a file import, 100 lines per batch: the dead-letter store says why, line by line
    let file_data = seeded(tmp.path(), "file");
    let out = run(
        cadre(&file_data)
            .args(["ingest", "--quiet", "--batch-size", "100"])
            .arg(root().join("tests/corpus/hostile.ndjson")),
        2,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{} lines, {accepted} accepted, {duplicate} duplicate, {rejected} rejected",
            lines.len()
        )),
        "{stderr}"
    );
    let letters = run(cadre(&file_data).arg("dead-letters"), 0);
    let letters: Vec<Value> = String::from_utf8(letters.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(letters.len(), rejected);
    for d in &letters {
        let line = d["position"].as_u64().unwrap() as usize;
        check(
            line,
            &expect[line - 1],
            "rejected",
            d["path"].as_str().unwrap(),
            d["reason"].as_str().unwrap(),
        );
        assert!(!d["raw"].as_str().unwrap().is_empty(), "the item is kept");
    }
    let stored = status(&file_data)["events"].as_u64().unwrap();

    // over HTTP, as NDJSON bodies of 100 lines: one outcome per line, in order
    let http_data = seeded(tmp.path(), "http");
    let config = tmp.path().join("cadre.toml");
    fs::write(&config, "[server]\nevents_per_second = 0.0\n").unwrap();
    let server = Server::start_with(
        &http_data,
        "ingest-token-0123456789",
        &["--config", config.to_str().unwrap()],
    );
    let auth = format!("Bearer {}", server.token);
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/x-ndjson"),
    ];
    for (chunk_no, chunk) in lines.chunks(100).enumerate() {
        let body = chunk.join(&b'\n');
        let (code, answer) = server.request("POST", "/v1/events", &headers, &body);
        let answer: Value = serde_json::from_slice(&answer)
            .unwrap_or_else(|e| panic!("chunk {chunk_no}: {code} is not JSON: {e}"));
        let results = answer["results"].as_array().expect("results");
        assert_eq!(
            results.len(),
            chunk.len(),
            "chunk {chunk_no}: one outcome per line"
        );
        let mut any_rejected = false;
        for (i, r) in results.iter().enumerate() {
            let line = chunk_no * 100 + i + 1;
            let s = r["status"].as_str().unwrap();
            any_rejected |= s == "rejected";
            assert_eq!(r["position"].as_u64(), Some(i as u64 + 1));
            check(
                line,
                &expect[line - 1],
                s,
                r["path"].as_str().unwrap_or(""),
                r["reason"].as_str().unwrap_or(""),
            );
        }
        assert_eq!(code, if any_rejected { 422 } else { 200 });
    }
    assert_eq!(server.get("/health").0, 200, "the server is still well");
    let st = server.get_json("/v1/status");
    assert_eq!(
        st["events"].as_u64(),
        Some(stored),
        "both ways store the same"
    );
    assert_eq!(st["dead_letters"].as_u64(), Some(rejected as u64));
    assert_eq!(stored, 371 + accepted as u64);
}
