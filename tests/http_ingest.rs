//! `POST /v1/events` answers per event, dead-letters the bad ones and keeps the good ones.

mod common;

use std::fs;

use common::*;
use serde_json::Value;

fn example_events(kind: &str) -> Vec<Value> {
    let dir = root().join("schemas/examples").join(kind);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

#[test]
fn ingest_over_http_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    // the schema examples are single events, not one organisation: their
    // references do not resolve, so this server does not check them
    let config = tmp.path().join("examples.toml");
    fs::write(&config, "[ingest]\ncheck_references = false\n").unwrap();
    let server = Server::start_with(
        tmp.path(),
        "s3cret-token-0123456789",
        &["--config", config.to_str().unwrap()],
    );

    // no token, wrong token: refused, nothing stored
    let valid = example_events("valid");
    let array = serde_json::to_vec(&valid).unwrap();
    let (code, _) = server.request("POST", "/v1/events", &[], &array);
    assert_eq!(code, 401);
    let (code, _) = server.request(
        "POST",
        "/v1/events",
        &[("Authorization", "Bearer nope")],
        &array,
    );
    assert_eq!(code, 401);
    assert_eq!(server.get_json("/v1/status")["events"], 0);

    // a JSON array of every valid example
    let (code, body) = server.post_events(&array);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["accepted"], valid.len());
    assert_eq!(body["results"][0]["status"], "accepted");

    // the same again: all duplicates, nothing stored twice
    let (code, body) = server.post_events(&array);
    assert_eq!(code, 200);
    assert_eq!(body["duplicate"], valid.len());
    assert_eq!(body["accepted"], 0);
    assert_eq!(server.get_json("/v1/status")["events"], valid.len());

    // NDJSON: every invalid example, a broken line, and one new valid event in the middle
    let invalid = example_events("invalid");
    let mut fresh = valid[0].clone();
    fresh["event_id"] = "7d2b4c1e-9f0a-4b3c-8d5e-6f7a8b9c0d1e".into();
    let mut lines: Vec<String> = invalid.iter().map(|d| d["event"].to_string()).collect();
    let middle = lines.len() / 2;
    lines.insert(middle, fresh.to_string());
    lines.push("{\"event_id\": broken".to_string());
    let (code, body) = server.post_events(lines.join("\n").as_bytes());
    assert_eq!(code, 422, "some items were rejected");
    assert_eq!(
        body["accepted"], 1,
        "the valid event among the bad ones is kept: {body}"
    );
    assert_eq!(body["rejected"], invalid.len() + 1);
    let results = body["results"].as_array().unwrap();
    for (i, doc) in invalid.iter().enumerate() {
        let line = if i < middle { i } else { i + 1 };
        let r = &results[line];
        assert_eq!(r["status"], "rejected", "line {}: {r}", line + 1);
        assert_eq!(r["position"], line + 1);
        assert_eq!(r["path"], doc["path"], "line {}: {}", line + 1, r["reason"]);
        assert!(!r["reason"].as_str().unwrap().is_empty());
    }
    assert_eq!(results[middle]["status"], "accepted");
    let last = results.last().unwrap();
    assert!(
        last["reason"].as_str().unwrap().contains("not valid JSON"),
        "{last}"
    );

    let st = server.get_json("/v1/status");
    assert_eq!(st["events"], valid.len() + 1);
    assert_eq!(st["dead_letters"], invalid.len() + 1);

    // an empty body is a client error, not an empty success
    let auth = format!("Bearer {}", server.token);
    let (code, _) = server.request("POST", "/v1/events", &[("Authorization", &auth)], b"  \n");
    assert_eq!(code, 400);

    // metrics count the outcomes and pass promtool
    assert_eq!(
        server.request("GET", "/metrics", &[], b"").0,
        401,
        "metrics need a token"
    );
    let (code, _) = server.get_as(&server.token, "/metrics");
    assert_eq!(code, 403, "the ingest token may only post events");
    let (code, metrics) = server.get("/metrics");
    assert_eq!(code, 200);
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains(&format!(
            "cadre_events_total{{channel=\"http\",outcome=\"accepted\"}} {}",
            valid.len() + 1
        )),
        "{metrics}"
    );
    assert!(metrics.contains(&format!("cadre_dead_letters {}", invalid.len() + 1)));
    promtool_check(&metrics);

    // after the server stops, the dead letters are there with their reasons
    drop(server);
    let out = run(cadre(tmp.path()).arg("dead-letters"), 0);
    let letters: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(letters.len(), invalid.len() + 1);
    assert!(letters
        .iter()
        .all(|l| l["channel"] == "http" && !l["reason"].as_str().unwrap().is_empty()));
}
