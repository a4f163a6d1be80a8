//! The Kafka broker dies under a running `cadre serve --kafka` and comes
//! back on the same storage: nothing acknowledged is lost, nothing is
//! counted twice, the server keeps answering while the broker is away, and
//! the backlog drains once it returns.
//!
//! The test starts a broker of its own (tansu with SQLite storage, built by
//! `bash .ci/run` with `--features dynostore,libsql`) on a free port, so it
//! can kill it with SIGKILL without disturbing the other Kafka tests.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::*;

/// A tansu broker on 127.0.0.1:`port` storing into one SQLite file.
struct Broker {
    child: Child,
    port: u16,
    db: PathBuf,
    log: PathBuf,
}

impl Broker {
    fn start(db: &Path, port: u16, log: &Path) -> Broker {
        let url = format!("tcp://127.0.0.1:{port}");
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new("tansu")
            .args(["broker", "--storage-engine"])
            // tansu reads the part after sqlite:// as relative: an absolute path needs one more /
            .arg(format!("sqlite:///{}", db.display()))
            .args(["--listener-url", &url, "--advertised-listener-url", &url])
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect(
                "tansu is required for this test: \
                 cargo install tansu --locked --features dynostore,libsql (bash .ci/run does)",
            );
        let mut b = Broker {
            child,
            port,
            db: db.to_path_buf(),
            log: log.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return b;
            }
            if let Some(status) = b.child.try_wait().unwrap() {
                panic!(
                    "tansu exited ({status}) instead of serving sqlite storage; \
                     it needs --features dynostore,libsql:\n{}",
                    std::fs::read_to_string(&b.log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("tansu did not listen on 127.0.0.1:{port} within 30 s");
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no shutdown, no flush.
    fn kill(mut self) -> (PathBuf, u16, PathBuf) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        (
            std::mem::take(&mut self.db),
            self.port,
            std::mem::take(&mut self.log),
        )
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes lines `from..to` of `file` to `out`.
fn slice(file: &Path, from: usize, to: usize, out: &Path) {
    let text = std::fs::read_to_string(file).unwrap();
    let part: Vec<&str> = text.lines().skip(from).take(to - from).collect();
    std::fs::write(out, part.join("\n") + "\n").unwrap();
}

fn wait_for_events(server: &Server, n: usize, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    loop {
        let status = server.get_json("/v1/status");
        if status["events"] == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the server stored {} of {n}",
            status["events"]
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_broker_killed_and_restarted_under_a_consuming_server_loses_and_doubles_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("events.ndjson");
    generate(&file, 150, 31);
    let ids = event_ids(&file);
    let half = ids.len() / 2;
    let (first, second) = (
        tmp.path().join("first.ndjson"),
        tmp.path().join("second.ndjson"),
    );
    slice(&file, 0, half, &first);
    slice(&file, half, ids.len(), &second);
    // the embedded reference: the whole file through `cadre ingest`
    let reference = tmp.path().join("reference");
    run(cadre(&reference).arg("ingest").arg(&file), 0);

    let log = tmp.path().join("tansu.log");
    let broker = Broker::start(&tmp.path().join("broker.db"), free_port(), &log);
    let address = broker.address();
    let (topic, dlq, group) = names("restart");
    let args = kafka_args(&address, &topic, &dlq);
    // `produce` creates the topics (SQLite storage does not create them on use)
    run(cadre(tmp.path()).arg("produce").arg(&first).args(&args), 0);

    let data = tmp.path().join("served");
    let mut serve_args = args.clone();
    serve_args.extend(["--kafka", "--group", &group]);
    let server = Server::start_serving(&data, "ingest-token-0123456789", &[], &serve_args);
    wait_for_events(&server, half, Duration::from_secs(90), "before the kill");

    // the broker dies; the server goes on answering from what it stored
    let (db, port, log) = broker.kill();
    std::thread::sleep(Duration::from_secs(3));
    let status = server.get_json("/v1/status");
    assert_eq!(status["events"], half, "{status}");
    let (code, _) = server.get(&format!("/v1/query/gaps?as_of={END}"));
    assert_eq!(code, 200, "queries are served while the broker is away");

    // it comes back on the same storage and port; the rest is published
    let broker = Broker::start(&db, port, &log);
    run(cadre(tmp.path()).arg("produce").arg(&second).args(&args), 0);
    wait_for_events(
        &server,
        ids.len(),
        Duration::from_secs(120),
        "after the restart",
    );
    // settle: a late redelivery would show as more events than published
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(server.get_json("/v1/status")["events"], ids.len());

    for kind in ["gaps", "succession", "training-needs"] {
        let served = server.get_json(&format!("/v1/query/{kind}?as_of={END}"));
        let out = run(
            cadre(&reference).args(["query", kind, "--as-of", END, "--format", "json"]),
            0,
        );
        let local: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if let Some(diff) = first_difference(&served, &local, kind) {
            panic!("{kind}: figures after the broker restart differ from a clean ingest: {diff}");
        }
    }
    let (_, metrics) = server.get("/metrics");
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains(&format!(
            "cadre_events_total{{channel=\"kafka\",outcome=\"accepted\"}} {}",
            ids.len()
        )),
        "{metrics}"
    );
    promtool_check(&metrics);
    server.stop();
    drop(broker);

    let stored = stored_ids(&data);
    let unique: BTreeSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "nothing stored twice");
    let want: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique, want, "every published event stored");
}
