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
    let server = Server::start_with(
        &data,
        "ingest-token-0123456789",
        &["--config", config.to_str().unwrap()],
    );

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

#[test]
fn slow_clients_are_cut_off_and_do_not_block_others() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("slow.toml");
    std::fs::write(&config, "[server]\nheader_timeout_secs = 1\n").unwrap();
    let server = Server::start_with(
        &tmp.path().join("data"),
        "ingest-token-0123456789",
        &["--config", config.to_str().unwrap()],
    );
    // 200 clients that start a request and never finish its headers
    let mut slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .unwrap();
            s
        })
        .collect();
    // everyone else is still served at once
    let started = Instant::now();
    assert_eq!(server.request("GET", "/health", &[], b"").0, 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // and the slow ones are closed once their time is up
    std::thread::sleep(Duration::from_millis(1500));
    let mut closed = 0;
    for s in &mut slow {
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = [0u8; 512];
        match s.read(&mut buf) {
            Ok(_) => closed += 1, // end of stream, or a last word before it
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => closed += 1,
            Err(e) => panic!("a slow connection is still open: {e}"),
        }
    }
    assert_eq!(closed, slow.len());
}
