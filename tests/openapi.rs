//! The OpenAPI document: served at `/openapi.json` without a token, it
//! describes every API endpoint, and schemathesis (from PyPI; `.ci/run`
//! installs it) finds no 5xx answer and no answer that breaks the document
//! (status code, content type, headers, body schema) on a live server.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

fn document(server: &Server) -> Value {
    let (code, body) = server.request("GET", "/openapi.json", &[], b"");
    assert_eq!(code, 200, "/openapi.json needs no token");
    serde_json::from_slice(&body).expect("the document is JSON")
}

#[test]
fn the_document_describes_what_the_server_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let data = demo_data(tmp.path(), 40, 3);
    let server = Server::start(&data, "ingest-token-0123456789");
    let doc = document(&server);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/health",
        "/metrics",
        "/v1/events",
        "/v1/status",
        "/v1/gaps/units",
        "/v1/query/{kind}",
        "/v1/employees/{id}",
        "/v1/succession/{position}",
        "/v1/reports/succession",
    ] {
        assert!(paths.contains_key(p), "{p} is described");
    }
    // the browser pages are not part of the API
    assert!(!paths.contains_key("/login"));

    // every operation without path parameters answers 200 to the admin with
    // a content type the document lists, and 401 to a caller without a token
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if method != "get" || path.contains('{') {
                continue;
            }
            let (code, _) = server.get(path);
            assert_eq!(code, 200, "GET {path} as admin");
            let content = op["responses"]["200"]["content"].as_object().unwrap();
            assert!(!content.is_empty(), "GET {path} lists its content");
            if op.get("security").is_some() {
                let (code, body) = server.request("GET", path, &[], b"");
                assert_eq!(code, 401, "GET {path} without a token");
                let v: Value = serde_json::from_slice(&body).expect("a JSON error");
                assert!(v["error"].is_string());
                assert!(op["responses"]["401"].is_object(), "{path} documents 401");
            }
        }
    }
    // a path that is not described is a JSON 404 pointing at the document
    let (code, body) = server.get("/v1/nothing-here");
    assert_eq!(code, 404);
    let v: Value = serde_json::from_slice(&body).expect("a JSON error");
    assert!(
        v["error"].as_str().unwrap().contains("/openapi.json"),
        "{v}"
    );
    // a malformed parameter is a JSON 400 as the document says
    let (code, body) = server.get("/v1/query/trends?months=many");
    assert_eq!(code, 400, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).expect("a JSON error");
    assert!(v["error"].as_str().unwrap().contains("months"), "{v}");
}

/// schemathesis from the Python on the PATH, however pip installed its script.
fn schemathesis() -> Command {
    let mut c = Command::new("python3");
    c.args(["-m", "schemathesis.cli"]);
    c
}

#[test]
fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let version = schemathesis().arg("--version").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "schemathesis is not installed: `python3 -m pip install schemathesis` (bash .ci/run installs it)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let data = demo_data(tmp.path(), 40, 5);
    let server = Server::start(&data, "ingest-token-0123456789");
    let auth = format!("Authorization: Bearer {}", server.admin);
    // real ids for the path parameters, so those operations reach past 404
    let succession = server.get_json(&format!("/v1/query/succession?as_of={END}"));
    let candidate = &succession["tables"]["candidates"]["rows"][0];
    let (employee, position) = (
        candidate["candidate_id"].as_str().expect("a candidate"),
        candidate["position_id"]
            .as_str()
            .expect("a critical position"),
    );
    let config = tmp.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        format!("[parameters]\n\"path.id\" = \"{employee}\"\n\"path.position\" = \"{position}\"\n"),
    )
    .unwrap();
    let report = artifacts().join("schemathesis");
    let out = schemathesis()
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(server.url("/openapi.json"))
        .args(["--header", &auth])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_headers_conformance,response_schema_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        // the event schema's patterns are slow to generate for; that is not a finding
        .args(["--suppress-health-check", "too_slow,filter_too_much"])
        // one worker: hypothesis is not thread-safe on this Python (3.11)
        .args([
            "--max-examples",
            "40",
            "--seed",
            "20261202",
            "--workers",
            "1",
        ])
        .args(["--request-timeout", "60"])
        .args(["--report", "junit", "--report-dir"])
        .arg(&report)
        .env("NO_COLOR", "1")
        .output()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures (report in {}):\n{stdout}\n{}",
        report.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // it really tested the API: every operation it found, in every phase asked for
    let count = |label: &str| -> Option<(usize, usize)> {
        let line = stdout.lines().find(|l| l.trim_start().starts_with(label))?;
        let (a, b) = line.split_once(':')?.1.split_once('/')?;
        Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
    };
    let (selected, total) = count("Selected:").expect("a summary of the operations");
    assert!(
        selected == total && total >= 14,
        "operations tested:\n{stdout}"
    );
    assert!(stdout.contains(&format!("Tested: {total}")), "{stdout}");
    for phase in ["Coverage", "Fuzzing"] {
        assert!(
            stdout.contains(&format!("✅ {phase}")),
            "{phase} phase passed:\n{stdout}"
        );
    }
    println!("{stdout}");
    server.stop();
}
