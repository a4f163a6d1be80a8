//! Attacks on the web face of a running `cadre serve`, each of which now
//! gets nothing (docs/access.md, "What the web face guarantees"): a
//! same-site page making a signed-in browser store an event, signing a
//! victim in from another page, guessing tokens at the sign-in form, bodies
//! of other types or encodings, framing and content sniffing, and an
//! unauthenticated upload held open.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;
use serde_json::Value;

const EVENT: &str = r#"{"event_id":"00000000-0000-4000-8000-0000000c5f01","type":"employee.hired","schema_version":1,"occurred_at":"2026-01-01T00:00:00Z","recorded_at":"2026-01-01T00:00:00Z","source":"attack","subject":"csrf-1","data":{"name":"Forged Person"}}"#;

/// A header's value in an answer's head (names compared without case).
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Signs in with the form; the answer's code and its `Set-Cookie`.
fn sign_in(server: &Server, token: &str, extra: &[(&str, &str)]) -> (u16, Option<String>) {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    headers.extend_from_slice(extra);
    let body = format!("token={token}");
    let (code, head, _) =
        http_with_head(server.port, "POST", "/login", &headers, body.as_bytes()).unwrap();
    (code, header(&head, "set-cookie").map(str::to_string))
}

fn events(server: &Server) -> u64 {
    server.get_json("/v1/status")["events"].as_u64().unwrap()
}

#[test]
fn a_page_cannot_make_a_signed_in_browser_store_an_event() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), "ingest-token-0123456789");

    // an admin signs in: the cookie holds a session id, not the token
    let admin = server.admin.clone();
    let (code, cookie) = sign_in(&server, &admin, &[]);
    assert_eq!(code, 303);
    let cookie = cookie.expect("the sign-in sets a cookie");
    assert!(
        !cookie.contains(&admin),
        "the token is not the cookie: {cookie}"
    );
    for attr in ["HttpOnly", "SameSite=Strict", "Max-Age=28800"] {
        assert!(cookie.contains(attr), "{attr} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag");
    let session = cookie.split(';').next().unwrap().to_string();
    let with_cookie = [("Cookie", session.as_str())];

    // reads with the cookie work: it is a session
    let (code, body) = server.request("GET", "/v1/me", &with_cookie, b"");
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));

    // what a hostile page's auto-submitted form sends: the cookie, text/plain
    for content_type in ["text/plain", "application/json", "application/x-ndjson"] {
        let headers = [("Cookie", session.as_str()), ("Content-Type", content_type)];
        let (code, body) = server.request("POST", "/v1/events", &headers, EVENT.as_bytes());
        assert_eq!(
            code,
            401,
            "{content_type}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    assert_eq!(events(&server), 0, "nothing was stored");

    // with the bearer header, only JSON and NDJSON bodies are read
    let auth = format!("Bearer {}", server.token);
    let (code, body) = server.request(
        "POST",
        "/v1/events",
        &[("Authorization", &auth), ("Content-Type", "text/plain")],
        EVENT.as_bytes(),
    );
    assert_eq!(code, 415);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        v["error"].as_str().unwrap().contains("application/json"),
        "{v}"
    );
    // a compressed body is named as such, not read as broken text
    let (code, body) = server.request(
        "POST",
        "/v1/events",
        &[("Authorization", &auth), ("Content-Encoding", "gzip")],
        b"\x1f\x8b\x08\x00",
    );
    assert_eq!(code, 415);
    assert!(String::from_utf8_lossy(&body).contains("uncompressed"));
    assert_eq!(events(&server), 0);
    // and the same event with the header and its type is stored
    let (code, _) = server.request(
        "POST",
        "/v1/events",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        EVENT.as_bytes(),
    );
    assert_eq!(code, 200);
    assert_eq!(events(&server), 1);

    // signing out ends the session on the server, not only in the browser
    let (code, _) = server.request("POST", "/logout", &with_cookie, b"");
    assert_eq!(code, 303);
    let (code, _) = server.request("GET", "/v1/me", &with_cookie, b"");
    assert_eq!(code, 401, "a closed session opens nothing");
    server.stop();
}

#[test]
fn sign_in_from_another_page_is_refused_and_guessing_is_throttled() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), "ingest-token-0123456789");
    let admin = server.admin.clone();
    let own = format!("http://127.0.0.1:{}", server.port);

    // login CSRF: another origin, or a sibling page of the same site
    for extra in [
        vec![("Origin", "http://evil.example")],
        vec![("Origin", "null")],
        vec![("Sec-Fetch-Site", "same-site"), ("Origin", own.as_str())],
        vec![("Sec-Fetch-Site", "cross-site")],
    ] {
        let (code, cookie) = sign_in(&server, &admin, &extra);
        assert_eq!((code, cookie.is_some()), (403, false), "{extra:?}");
    }
    // cadre's own page
    let (code, cookie) = sign_in(
        &server,
        &admin,
        &[("Origin", own.as_str()), ("Sec-Fetch-Site", "same-origin")],
    );
    assert_eq!((code, cookie.is_some()), (303, true));

    // five wrong tokens from one address, then even the right one waits
    for _ in 0..5 {
        let (code, _) = sign_in(&server, "guess", &[]);
        assert_eq!(code, 401);
    }
    let (code, head, body) = http_with_head(
        server.port,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("token={admin}").as_bytes(),
    )
    .unwrap();
    assert_eq!(code, 429, "{}", String::from_utf8_lossy(&body));
    let wait: u64 = header(&head, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // the API's bearer tokens are not throttled by the form's failures
    assert_eq!(server.get("/v1/me").0, 200);
    server.stop();
}

#[test]
fn every_answer_forbids_framing_sniffing_and_foreign_scripts() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), "ingest-token-0123456789");
    let auth = format!("Bearer {}", server.admin);
    for (path, headers) in [
        ("/health", vec![]),
        ("/login", vec![]),
        ("/", vec![("Authorization", auth.as_str())]),
        ("/v1/me", vec![("Authorization", auth.as_str())]),
        ("/v1/me", vec![]),
        ("/no/such/thing", vec![]),
    ] {
        let (_, head, _) = http_with_head(server.port, "GET", path, &headers, b"").unwrap();
        let csp = header(&head, "content-security-policy").unwrap_or_default();
        for directive in [
            "frame-ancestors 'none'",
            "script-src 'self'",
            "object-src 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: {directive} missing in {csp:?}"
            );
        }
        assert_eq!(header(&head, "x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            header(&head, "x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header(&head, "strict-transport-security"),
            None,
            "plain HTTP"
        );
    }
    server.stop();
}

#[test]
fn an_unauthenticated_upload_is_refused_before_its_body_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), "ingest-token-0123456789");
    // announce 15 MiB and send none of it: the answer must not wait for it
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 15728640\r\n\r\n";
    s.write_all(head.as_bytes()).unwrap();
    let mut got = [0u8; 64];
    let n = s.read(&mut got).expect("an answer before any of the body");
    let line = String::from_utf8_lossy(&got[..n]);
    assert!(line.starts_with("HTTP/1.1 401"), "{line}");
    server.stop();
}

#[test]
fn a_guessable_ingest_token_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port().to_string();
    let out = run(
        cadre(&tmp.path().join("data"))
            .args(["serve", "--port", &port])
            .env("CADRE_INGEST_TOKEN", "x"),
        1,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("(1 characters; at least 16)"), "{err}");
    assert!(
        err.contains("cadre token new"),
        "says how to make one: {err}"
    );
}

/// The peak resident memory of a process, in bytes (`VmHWM`).
fn peak_resident(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    kb * 1024
}

#[test]
fn a_body_of_tiny_lines_is_refused_before_it_costs_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), "ingest-token-0123456789");
    let before = peak_resident(server.pid());
    // 16 MiB less a little of two-byte lines: eight million "events"
    let body = "{}\n".repeat(5_500_000);
    for content_type in ["application/x-ndjson", "application/json"] {
        let auth = format!("Bearer {}", server.token);
        let (code, raw) = server.request(
            "POST",
            "/v1/events",
            &[("Authorization", &auth), ("Content-Type", content_type)],
            body.as_bytes(),
        );
        assert_eq!(code, 413, "{}", String::from_utf8_lossy(&raw));
        assert!(String::from_utf8_lossy(&raw).contains("5500000 events in one request"));
    }
    // the same as one JSON array
    let array = format!("[{}{{}}]", "{},".repeat(2_000_000));
    let (code, raw) = server.request(
        "POST",
        "/v1/events",
        &[("Authorization", &format!("Bearer {}", server.token))],
        array.as_bytes(),
    );
    assert_eq!(code, 413, "{}", String::from_utf8_lossy(&raw));
    let grown = peak_resident(server.pid()).saturating_sub(before);
    // the body itself and the server's buffers, not an item per line
    // (which took over a gigabyte)
    assert!(
        grown < 256 << 20,
        "peak resident memory grew by {grown} bytes"
    );
    assert_eq!(server.get_json("/v1/status")["events"], 0);
    server.stop();
}

#[test]
fn a_slow_body_is_cut_off_and_stalled_uploads_cannot_pile_up() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("cadre.toml");
    std::fs::write(
        &config,
        "[server]\nbody_timeout_secs = 2\nmax_uploads = 2\n",
    )
    .unwrap();
    let server = Server::start_with(
        &tmp.path().join("data"),
        "ingest-token-0123456789",
        &["--config", config.to_str().unwrap()],
    );
    // two uploads announce an event and send ten bytes of it
    let stalled: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let head = format!(
                "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                server.token,
                EVENT.len()
            );
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(&EVENT.as_bytes()[..10]).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // a third is told to come back, not queued behind them
    let auth = format!("Bearer {}", server.token);
    let (code, head, raw) = http_with_head(
        server.port,
        "POST",
        "/v1/events",
        &[("Authorization", &auth)],
        EVENT.as_bytes(),
    )
    .unwrap();
    assert_eq!(code, 429, "{}", String::from_utf8_lossy(&raw));
    assert_eq!(header(&head, "retry-after"), Some("1"));
    // the stalled ones are cut off at the deadline, with nothing stored
    for mut s in stalled {
        let mut got = String::new();
        s.read_to_string(&mut got).unwrap();
        assert!(got.starts_with("HTTP/1.1 408"), "{got}");
        assert!(got.contains("nothing was stored"), "{got}");
    }
    assert_eq!(server.get_json("/v1/status")["events"], 0);
    // and a prompt upload goes in
    let (code, _) = server.post_events(EVENT.as_bytes());
    assert_eq!(code, 200);
    server.stop();
}

#[test]
fn the_data_directory_is_its_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data, "ingest-token-0123456789");
    let (code, _) = server.post_events(EVENT.as_bytes());
    assert_eq!(code, 200);
    // a dead letter, and a look at individuals for the audit log
    let (code, _) = server.post_events(b"{\"not\": \"an event\"}");
    assert_eq!(code, 422);
    assert_eq!(server.get("/v1/query/gaps").0, 200);
    server.stop();

    let mut seen = Vec::new();
    let mut dirs = vec![data.clone()];
    while let Some(dir) = dirs.pop() {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{} is {mode:o}", dir.display());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is {mode:o}", path.display());
            seen.push(path.strip_prefix(&data).unwrap().display().to_string());
        }
    }
    seen.sort();
    for want in [
        "audit.jsonl",
        "admin.token",
        "log/00000000.seg",
        "dead-letter/00000000.seg",
    ] {
        assert!(seen.iter().any(|s| s == want), "{want} in {seen:?}");
    }
    assert!(
        seen.iter().any(|s| s.starts_with("projection/")),
        "a checkpoint in {seen:?}"
    );
}

#[test]
fn pdf_reports_beyond_the_limit_are_told_to_retry() {
    let tmp = tempfile::tempdir().unwrap();
    let data = demo_data(tmp.path(), 60, 3);
    let config = tmp.path().join("cadre.toml");
    std::fs::write(&config, "[server]\nmax_pdf_renders = 1\n").unwrap();
    let server = Server::start_with(
        &data,
        "ingest-token-0123456789",
        &["--config", config.to_str().unwrap()],
    );
    let (port, admin) = (server.port, server.admin.clone());
    let auth = format!("Bearer {admin}");
    // one report is printing (Chromium takes a second or more) ...
    let first = std::thread::spawn(move || {
        let auth = format!("Bearer {admin}");
        http(
            port,
            "GET",
            "/v1/reports/succession?format=pdf",
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap()
    });
    std::thread::sleep(Duration::from_millis(150));
    // ... so a second is refused at once instead of starting another browser
    let (code, head, raw) = http_with_head(
        port,
        "GET",
        "/v1/reports/succession?format=pdf",
        &[("Authorization", &auth)],
        b"",
    )
    .unwrap();
    assert_eq!(code, 429, "{}", String::from_utf8_lossy(&raw));
    assert_eq!(header(&head, "retry-after"), Some("5"));
    assert!(String::from_utf8_lossy(&raw).contains("being printed"));
    let (code, pdf) = first.join().unwrap();
    assert_eq!(code, 200);
    assert!(pdf.starts_with(b"%PDF"));
    // the HTML form needs no browser and is never held back
    let (code, _) = server.get("/v1/reports/succession");
    assert_eq!(code, 200);
    server.stop();
}

#[test]
fn a_long_query_neither_holds_up_ingest_nor_lets_one_token_queue_more() {
    let tmp = tempfile::tempdir().unwrap();
    // large enough that ten years of trends take seconds
    let data = demo_data(tmp.path(), 12_000, 4);
    let config = tmp.path().join("cadre.toml");
    std::fs::write(&config, "[server]\nmax_queries_per_token = 1\n").unwrap();
    let server = Server::start_with(
        &data,
        "ingest-token-0123456789",
        &["--config", config.to_str().unwrap()],
    );
    let (port, admin) = (server.port, server.admin.clone());
    // ten years of monthly figures: a snapshot and a recompute per month
    let long = std::thread::spawn(move || {
        let auth = format!("Bearer {admin}");
        http(
            port,
            "GET",
            "/v1/query/trends?months=120",
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap()
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !long.is_finished(),
        "the long query must still run for this test to mean anything"
    );
    // the same token may not queue another
    let (code, raw) = server.get("/v1/query/gaps");
    assert_eq!(code, 429, "{}", String::from_utf8_lossy(&raw));
    // events go in while it runs: the projection is locked a month at a time
    let body: String = (0..100)
        .map(|i| {
            format!(
                r#"{{"event_id":"00000000-0000-4000-8000-0000000f{i:04}","type":"employee.hired","schema_version":1,"occurred_at":"2026-01-01T00:00:00Z","recorded_at":"2026-01-01T00:00:00Z","source":"load","subject":"late-{i}","data":{{"name":"Late {i}"}}}}"#
            ) + "\n"
        })
        .collect();
    let (code, v) = server.post_events(body.as_bytes());
    assert_eq!(code, 200, "{v}");
    assert!(
        !long.is_finished(),
        "the events were stored before the long query answered, not after it"
    );
    let (code, _) = long.join().unwrap();
    assert_eq!(code, 200);
    // and the token may ask again
    assert_eq!(server.get("/v1/query/gaps").0, 200);
    server.stop();
}
