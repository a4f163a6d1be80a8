//! Helpers for driving the `cadre` binary like a user: commands, a server, HTTP.
#![allow(dead_code)]

use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The end date every test generates with, so runs are reproducible.
pub const END: &str = "2026-06-30";

/// A `cadre` command on a data directory.
pub fn cadre(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cadre"));
    c.arg("--data-dir")
        .arg(data)
        .env_remove("CADRE_INGEST_TOKEN");
    c
}

/// Runs a command and panics with its output unless it exits as expected.
pub fn run(cmd: &mut Command, expect_code: i32) -> Output {
    let out = cmd.output().expect("cadre runs");
    assert_eq!(
        out.status.code(),
        Some(expect_code),
        "{cmd:?} exited {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Generates a synthetic organisation into `file`.
pub fn generate(file: &Path, employees: usize, seed: u64) {
    run(
        Command::new(env!("CARGO_BIN_EXE_cadre"))
            .args([
                "generate",
                "--employees",
                &employees.to_string(),
                "--seed",
                &seed.to_string(),
            ])
            .args(["--end-date", END, "--output"])
            .arg(file),
        0,
    );
}

/// A data directory holding a demo organisation ingested by `cadre demo --no-serve`.
pub fn demo_data(tmp: &Path, employees: usize, seed: u64) -> PathBuf {
    let data = tmp.join("data");
    run(
        cadre(&data)
            .args([
                "demo",
                "--no-serve",
                "--employees",
                &employees.to_string(),
                "--seed",
                &seed.to_string(),
            ])
            .args(["--end-date", END]),
        0,
    );
    data
}

/// `cadre status` as JSON.
pub fn status(data: &Path) -> serde_json::Value {
    let out = run(cadre(data).arg("status"), 0);
    serde_json::from_slice(&out.stdout).expect("status prints JSON")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running `cadre serve`, stopped when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    /// The ingest token.
    pub token: String,
    /// The admin token the server created in the data directory.
    pub admin: String,
}

impl Server {
    pub fn start(data: &Path, token: &str) -> Server {
        Server::start_with(data, token, &[])
    }

    /// Starts `cadre [global] serve` with extra global arguments (e.g. `--config FILE`).
    pub fn start_with(data: &Path, token: &str, global: &[&str]) -> Server {
        Server::start_serving(data, token, global, &[])
    }

    /// Starts `cadre [global] serve [serve_args]`.
    pub fn start_serving(data: &Path, token: &str, global: &[&str], serve_args: &[&str]) -> Server {
        let port = free_port();
        let child = cadre(data)
            .args(global)
            .args(["serve", "--port", &port.to_string()])
            .env("CADRE_INGEST_TOKEN", token)
            .args(serve_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cadre serve starts");
        let mut s = Server {
            child,
            port,
            token: token.to_string(),
            admin: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok((200, _)) = s.try_request("GET", "/health", &[], b"") {
                s.admin = std::fs::read_to_string(data.join("admin.token"))
                    .expect("the server writes an admin token")
                    .trim()
                    .to_string();
                return s;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("cadre serve did not answer /health on port {port} within 60 s");
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        http(self.port, method, path, headers, body)
    }

    /// A request; panics if the server cannot be reached.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        self.try_request(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path} failed: {e}"))
    }

    /// GET as `token`'s holder.
    pub fn get_as(&self, token: &str, path: &str) -> (u16, Vec<u8>) {
        let auth = format!("Bearer {token}");
        self.request("GET", path, &[("Authorization", &auth)], b"")
    }

    /// GET as the admin.
    pub fn get(&self, path: &str) -> (u16, Vec<u8>) {
        self.get_as(&self.admin, path)
    }

    /// GET as the admin returning JSON; panics unless 200.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        self.get_json_as(&self.admin.clone(), path)
    }

    /// GET as `token`'s holder returning JSON; panics unless 200.
    pub fn get_json_as(&self, token: &str, path: &str) -> serde_json::Value {
        let (code, body) = self.get_as(token, path);
        assert_eq!(code, 200, "GET {path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).expect("JSON body")
    }

    /// POST events with the server's token.
    pub fn post_events(&self, body: &[u8]) -> (u16, serde_json::Value) {
        let auth = format!("Bearer {}", self.token);
        let (code, body) = self.request("POST", "/v1/events", &[("Authorization", &auth)], body);
        (code, serde_json::from_slice(&body).expect("JSON body"))
    }
}

impl Server {
    /// Stops the server as an operator would (SIGTERM) and waits for it to exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "cadre serve exited {status} on SIGTERM");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("cadre serve did not stop within 30 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 client: one request per connection.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    http_with_head(port, method, path, headers, body).map(|(code, _, body)| (code, body))
}

/// As [`http`], with the answer's status line and headers, as sent.
pub fn http_with_head(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let mut rest = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        rest = dechunk(&rest);
    }
    Ok((code, head, rest))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
    out
}

/// The row of `unit` in a table answer (`{"rows": [...]}`); panics when absent.
pub fn unit_row(table: &serde_json::Value, unit: &str) -> serde_json::Value {
    table["rows"]
        .as_array()
        .expect("a table answer has rows")
        .iter()
        .find(|r| r["unit_id"] == unit)
        .unwrap_or_else(|| panic!("no row for unit {unit}"))
        .clone()
}

/// Event ids of an NDJSON file, in order.
pub fn ids_of(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .expect("readable")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            v["event_id"].as_str().expect("event id").to_string()
        })
        .collect()
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where tests leave artefacts (screenshots) for people to look at.
pub fn artifacts() -> PathBuf {
    let d = root().join("tests/artifacts");
    std::fs::create_dir_all(&d).expect("artifacts dir");
    d
}

/// The SHA-256 of a token, as `cadre token hash` prints it.
pub fn token_hash(token: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cadre"))
        .args(["token", "hash"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cadre token hash runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{token}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Writes a configuration with one token per role (planner and leader
/// limited to `scope`) plus `extra` TOML, and returns its path and the
/// tokens by role.
pub fn role_config(
    dir: &Path,
    scope: &str,
    extra: &str,
) -> (PathBuf, std::collections::BTreeMap<String, String>) {
    let mut toml = String::from("[access]\nk = 5\n");
    let mut tokens = std::collections::BTreeMap::new();
    for (role, scoped) in [("planner", true), ("leader", true), ("viewer", false)] {
        let token = format!("{role}-secret-token");
        let scope_line = if scoped {
            format!("scope = \"{scope}\"\n")
        } else {
            String::new()
        };
        toml.push_str(&format!(
            "\n[[access.tokens]]\nname = \"{role} one\"\nrole = \"{role}\"\n{scope_line}token_sha256 = \"{}\"\n",
            token_hash(&token)
        ));
        tokens.insert(role.to_string(), token);
    }
    toml.push_str(extra);
    let path = dir.join("roles.toml");
    std::fs::write(&path, toml).unwrap();
    (path, tokens)
}

/// Fails unless `promtool check metrics` accepts the exposition.
pub fn promtool_check(metrics: &str) {
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect(
            "promtool is required for this test: apt-get install prometheus (bash .ci/run does)",
        );
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- Kafka (a real broker on 127.0.0.1; see .ci/run) ----

pub fn broker() -> String {
    let b = std::env::var("CADRE_TEST_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".into());
    assert!(
        TcpStream::connect_timeout(&b.parse().expect("host:port"), Duration::from_secs(3)).is_ok(),
        "no Kafka broker at {b}: start one (bash .ci/run starts tansu) or set CADRE_TEST_KAFKA"
    );
    b
}

/// Fresh topic and group names for one test.
pub fn names(test: &str) -> (String, String, String) {
    let tag = format!(
        "{test}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    (
        format!("cadre.test.{tag}"),
        format!("cadre.test.{tag}.dlq"),
        format!("cadre-test-{tag}"),
    )
}

pub fn kafka_args<'a>(broker: &'a str, topic: &'a str, dlq: &'a str) -> Vec<&'a str> {
    vec!["--brokers", broker, "--topic", topic, "--dlq-topic", dlq]
}

pub fn event_ids(file: &Path) -> Vec<String> {
    std::io::BufReader::new(std::fs::File::open(file).unwrap())
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
            v["event_id"].as_str().unwrap().to_string()
        })
        .collect()
}

/// Event ids in a data directory's log, in log order.
pub fn stored_ids(data: &Path) -> Vec<String> {
    let out = run(cadre(data).arg("export"), 0);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["event_id"].as_str().unwrap().to_string()
        })
        .collect()
}

/// `cadre consume` with Kafka and other flags, a group and an idle exit.
pub fn consumer(data: &Path, args: &[&str], group: &str, idle: u64) -> Command {
    let mut c = cadre(data);
    c.arg("consume")
        .args(args)
        .args(["--group", group, "--idle-exit", &idle.to_string()]);
    c
}

/// Starts a consumer whose totals `finish` reads.
pub fn consume(data: &Path, args: &[&str], group: &str, idle: u64) -> Child {
    consumer(data, args, group, idle)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cadre consume starts")
}

pub fn finish(child: Child) -> serde_json::Value {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "consume failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("consume prints its totals")
}

// ---- ClickHouse (a real server on 127.0.0.1:8123; see .ci/run) ----

/// host:port of the ClickHouse HTTP interface the tests use.
pub fn clickhouse() -> String {
    let a = std::env::var("CADRE_TEST_CLICKHOUSE").unwrap_or_else(|_| "127.0.0.1:8123".into());
    assert!(
        TcpStream::connect_timeout(&a.parse().expect("host:port"), Duration::from_secs(3)).is_ok(),
        "no ClickHouse at {a}: start one (bash .ci/run starts clickhouse-server) or set CADRE_TEST_CLICKHOUSE"
    );
    a
}

/// A fresh database name for one test.
pub fn ch_database(test: &str) -> String {
    let (topic, _, _) = names(test);
    topic.replace(['.', '-'], "_")
}

/// Runs SQL on ClickHouse; one JSON object per row (64-bit integers as numbers).
pub fn ch(addr: &str, db: &str, sql: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    let select = sql.trim_start().to_ascii_uppercase().starts_with("SELECT");
    let body = if select {
        format!("{sql} FORMAT JSONEachRow")
    } else {
        sql.to_string()
    };
    let path = format!("/?database={db}&output_format_json_quote_64bit_integers=0");
    let (code, out) = http(port, "POST", &path, &[], body.as_bytes()).expect("ClickHouse answers");
    let text = String::from_utf8_lossy(&out);
    assert_eq!(code, 200, "ClickHouse refused {sql}: {text}");
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).expect("JSONEachRow"))
        .collect()
}

/// Where two JSON values first differ, or `None` when they are equal.
///
/// Whole numbers and everything else must be equal; two fractional numbers
/// may differ by 1e-9 of their size: the same figures summed by polars in
/// another order (another split of the rows between the cores) differ in
/// their last bits. One event lost or counted twice moves a figure by far
/// more (the smallest, a self-assessment's tenth of a level, by 1e-2).
pub fn first_difference(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return Some(format!(
                    "{at}: keys {:?} vs {:?}",
                    x.keys().collect::<Vec<_>>(),
                    y.keys().collect::<Vec<_>>()
                ));
            }
            x.iter().find_map(|(k, v)| match y.get(k) {
                Some(w) => first_difference(v, w, &format!("{at}/{k}")),
                None => Some(format!("{at}/{k}: missing")),
            })
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{at}: {} vs {} items", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (v, w))| first_difference(v, w, &format!("{at}/{i}")))
        }
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64()?, y.as_f64()?);
            ((x - y).abs() > 1e-9 * x.abs().max(y.abs()).max(1.0))
                .then(|| format!("{at}: {a} vs {b}"))
        }
        _ if a == b => None,
        _ => Some(format!("{at}: {a} vs {b}")),
    }
}

/// The lines of an NDJSON file in batches of `size`: each batch's body and its event ids.
pub fn batches_of(file: &Path, size: usize) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(size)
        .map(|c| {
            let ids = c
                .iter()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    v["event_id"].as_str().unwrap().to_string()
                })
                .collect();
            (c.join("\n"), ids)
        })
        .collect()
}
