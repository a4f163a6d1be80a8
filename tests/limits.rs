//! Ingest limits: body size, events per request and a rate per token; a
//! refused request stores nothing and says what to do.

mod common;

use common::*;
use serde_json::Value;

/// `n` valid events (hires of new employees) as NDJSON.
fn hires(n: usize, from: usize) -> String {
    (from..from + n)
        .map(|i| {
            serde_json::json!({
                "event_id": format!("00000000-0000-4000-8000-{i:012}"),
                "type": "employee.hired", "schema_version": 1,
                "occurred_at": "2026-01-01T00:00:00Z", "recorded_at": "2026-01-01T00:00:00Z",
                "source": "test", "subject": format!("emp-{i}"), "data": {"name": format!("Person {i}")}
            })
            .to_string()
                + "\n"
        })
        .collect()
}

fn post(server: &Server, body: &str) -> (u16, Value, Vec<u8>) {
    let auth = format!("Bearer {}", server.token);
    let (code, raw) = server.request(
        "POST",
        "/v1/events",
        &[("Authorization", &auth)],
        body.as_bytes(),
    );
    let v = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    (code, v, raw)
}

#[test]
fn oversized_and_overfast_requests_are_refused_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("limits.toml");
    std::fs::write(
        &config,
        "[server]\nmax_body_bytes = 4096\nmax_batch_events = 5\nevents_per_second = 2\n",
    )
    .unwrap();
    let data = tmp.path().join("data");
    let server = Server::start_with(&data, "t", &["--config", config.to_str().unwrap()]);

    // too many events in one request
    let (code, v, _) = post(&server, &hires(6, 0));
    assert_eq!(code, 413);
    assert!(v["error"].as_str().unwrap().contains("at most 5"), "{v}");
    // a body over the byte limit
    let big = format!("{}{}", hires(1, 100), " ".repeat(5000));
    let (code, v, _) = post(&server, &big);
    assert_eq!(code, 413);
    assert!(v["error"].as_str().unwrap().contains("4096 bytes"), "{v}");

    // a full batch passes, the next one must wait for the rate
    let (code, v, _) = post(&server, &hires(5, 200));
    assert_eq!(code, 200, "{v}");
    let auth = format!("Bearer {}", server.token);
    let (code, raw) = server.request(
        "POST",
        "/v1/events",
        &[("Authorization", &auth)],
        hires(5, 300).as_bytes(),
    );
    assert_eq!(code, 429, "{}", String::from_utf8_lossy(&raw));
    let v: Value = serde_json::from_slice(&raw).unwrap();
    assert!(v["error"].as_str().unwrap().contains("retry in"));

    // only the accepted batch was stored
    let status = server.get_json("/v1/status");
    assert_eq!(status["events"], 5);
    assert_eq!(
        status["dead_letters"], 0,
        "refused requests are not dead letters"
    );

    // after waiting, the same batch goes through
    std::thread::sleep(std::time::Duration::from_millis(2600));
    let (code, v, _) = post(&server, &hires(5, 300));
    assert_eq!(code, 200, "{v}");
    assert_eq!(server.get_json("/v1/status")["events"], 10);
}

#[test]
fn a_bad_limit_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("bad.toml");
    std::fs::write(&config, "[server]\nmax_batch_events = 0\n").unwrap();
    let out = run(
        cadre(tmp.path()).args(["--config", config.to_str().unwrap(), "query", "gaps"]),
        1,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_batch_events"));
}
