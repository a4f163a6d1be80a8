//! A Kafka broker restart loses and doubles nothing. The test runs its own
//! tansu broker with SQLite storage (messages and committed offsets survive
//! a restart; `.ci/run` builds tansu with the `libsql` feature), feeds half
//! an organisation to `cadre serve --kafka`, kills the broker with SIGKILL,
//! starts it again on the same storage, feeds the other half, and checks
//! that the server holds every event exactly once and answers as a file
//! ingest of the same events.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A tansu broker on `port` storing in `db`; panics unless it answers.
fn start_broker(db: &Path, port: u16, log: &Path) -> Child {
    let url = format!("tcp://127.0.0.1:{port}");
    let mut child = Command::new("tansu")
        .args(["broker", "--storage-engine"])
        .arg(format!("sqlite://{}", db.display()))
        .args(["--listener-url", &url, "--advertised-listener-url", &url])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("tansu is on the PATH (bash .ci/run builds it)");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "tansu exited {status}; it needs the libsql feature for sqlite:// storage \
                 (cargo install tansu --locked --features dynostore,libsql):\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "tansu did not listen on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

fn events_stored(server: &Server) -> u64 {
    server.get_json("/v1/status")["events"].as_u64().unwrap()
}

fn wait_for(server: &Server, n: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let stored = events_stored(server);
        if stored == n {
            return;
        }
        assert!(stored < n, "{what}: {stored} stored, more than the {n} sent");
        assert!(Instant::now() < deadline, "{what}: the server stored {stored} of {n}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_broker_restart_loses_nothing_and_doubles_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let broker = format!("127.0.0.1:{port}");
    let db = tmp.path().join("tansu.db");
    let mut tansu = start_broker(&db, port, &tmp.path().join("tansu-1.log"));
    let (topic, dlq, group) = names("restart");
    let args = kafka_args(&broker, &topic, &dlq);

    let file = tmp.path().join("events.ndjson");
    generate(&file, 150, 41);
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (first, second) = lines.split_at(lines.len() / 2);
    let halves = [tmp.path().join("first.ndjson"), tmp.path().join("second.ndjson")];
    for (path, part) in halves.iter().zip([first, second]) {
        std::fs::write(path, part.join("\n") + "\n").unwrap();
    }

    let data = tmp.path().join("served");
    let mut serve_args = args.clone();
    serve_args.extend(["--kafka", "--group", &group]);
    let server = Server::start_serving(&data, "t", &[], &serve_args);
    run(cadre(tmp.path()).arg("produce").arg(&halves[0]).args(&args), 0);
    wait_for(&server, first.len() as u64, "before the restart");

    // the broker dies without warning and comes back on the same storage
    tansu.kill().unwrap();
    tansu.wait().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        events_stored(&server),
        first.len() as u64,
        "the server goes on serving what it stored while the broker is away"
    );
    let mut tansu = start_broker(&db, port, &tmp.path().join("tansu-2.log"));
    run(cadre(tmp.path()).arg("produce").arg(&halves[1]).args(&args), 0);
    wait_for(&server, lines.len() as u64, "after the restart");
    // nothing more arrives: offsets committed before the restart held
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(events_stored(&server), lines.len() as u64);

    let (_, m) = server.get("/metrics");
    let m = String::from_utf8(m).unwrap();
    promtool_check(&m);
    let reference = tmp.path().join("reference");
    run(cadre(&reference).arg("ingest").arg(&file), 0);
    for kind in ["gaps", "succession", "training-needs"] {
        let served = server.get_json(&format!("/v1/query/{kind}?as_of={END}"));
        let out = run(
            cadre(&reference).args(["query", kind, "--as-of", END, "--format", "json"]),
            0,
        );
        let local: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            served == local,
            "{kind}: figures after a broker restart differ from a file ingest: {:?}",
            first_difference(&served, &local, "")
        );
    }
    server.stop();
    let mut stored = stored_ids(&data);
    let total = stored.len();
    stored.sort();
    stored.dedup();
    assert_eq!(stored.len(), total, "no event stored twice");
    let mut sent = event_ids(&file);
    sent.sort();
    assert_eq!(stored, sent, "every event sent is stored");
    tansu.kill().unwrap();
    let _ = tansu.wait();
}
