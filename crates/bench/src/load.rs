//! HTTP batch ingest under concurrent clients: a real `cadre serve` on
//! 127.0.0.1 and a load generator of keep-alive connections, each posting
//! NDJSON batches to `POST /v1/events` for a bounded time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::{io, BenchError, Options};

const TOKEN: &str = "cadre-bench-ingest-token";

/// How to load the server.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The `cadre` executable to serve with.
    pub exe: PathBuf,
    /// Longest time to post for.
    pub seconds: f64,
    /// Concurrent clients, one keep-alive connection each.
    pub clients: usize,
    /// Events per request.
    pub batch: usize,
    /// Employees of the organisation whose events are posted.
    pub employees: usize,
}

/// What the load measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadFigures {
    /// Concurrent clients.
    pub clients: usize,
    /// Events per request.
    pub batch: usize,
    /// Requests answered 200.
    pub requests: usize,
    /// Requests answered otherwise, or failed.
    pub errors: usize,
    /// Events the server stored (its answers' `accepted`).
    pub accepted: u64,
    /// Events it rejected (its answers' `rejected`).
    pub rejected: u64,
    /// Seconds from the first request to the last answer.
    pub wall_secs: f64,
    /// Stored events per second.
    pub events_per_sec: f64,
    /// Median request latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile request latency, milliseconds.
    pub p99_ms: f64,
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(port: u16) -> std::io::Result<Connection> {
        let writer = TcpStream::connect(("127.0.0.1", port))?;
        writer.set_nodelay(true)?;
        writer.set_read_timeout(Some(Duration::from_secs(120)))?;
        Ok(Connection {
            reader: BufReader::new(writer.try_clone()?),
            writer,
        })
    }

    /// Sends one request and reads its answer: (status, body).
    fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.writer.write_all(head.as_bytes())?;
        self.writer.write_all(body)?;
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status line"))?;
        let mut length = 0usize;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(bad("connection closed in the headers"));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value
                        .trim()
                        .parse()
                        .map_err(|_| bad("bad content-length"))?;
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, body))
    }
}

/// `cadre serve` in a child process, stopped on drop.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        // SIGTERM lets it finish its requests and close the log
        let stopped = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16, BenchError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("cannot find a free port"))?;
    Ok(l.local_addr()
        .map_err(io("cannot find a free port"))?
        .port())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Batches of NDJSON lines, `batch` lines each.
fn batches(lines: &[&str], batch: usize) -> Vec<Vec<u8>> {
    lines
        .chunks(batch.max(1))
        .map(|c| (c.join("\n") + "\n").into_bytes())
        .collect()
}

/// (requests ok, errors, accepted, rejected, latencies in ms)
type Tally = (usize, usize, u64, u64, Vec<f64>);

/// Posts `bodies` in order on one connection until they run out or `until`.
fn post_all(port: u16, bodies: &[Vec<u8>], until: Instant) -> Tally {
    let mut tally: Tally = (0, 0, 0, 0, Vec::new());
    let Ok(mut c) = Connection::open(port) else {
        tally.1 += 1;
        return tally;
    };
    for body in bodies {
        if Instant::now() >= until {
            break;
        }
        let started = Instant::now();
        match c.request("POST", "/v1/events", "application/x-ndjson", body) {
            Ok((200, answer)) => {
                tally.4.push(started.elapsed().as_secs_f64() * 1000.0);
                tally.0 += 1;
                let v: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
                tally.2 += v["accepted"].as_u64().unwrap_or(0);
                tally.3 += v["rejected"].as_u64().unwrap_or(0);
            }
            Ok(_) => tally.1 += 1,
            Err(_) => {
                tally.1 += 1;
                match Connection::open(port) {
                    Ok(fresh) => c = fresh,
                    Err(_) => break,
                }
            }
        }
    }
    tally
}

/// Splits the lines into one stream per client by subject, as Kafka
/// partitions do, so each employee's events arrive in order.
fn streams(lines: &[&str], clients: usize, batch: usize) -> Vec<Vec<Vec<u8>>> {
    let n = clients.max(1) as u64;
    let mut per: Vec<Vec<&str>> = vec![Vec::new(); n as usize];
    for line in lines {
        let subject = crate::subject_of(line).unwrap_or_default();
        // FNV-1a: stable across runs and platforms
        let hash = subject.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        per[(hash % n) as usize].push(line);
    }
    per.iter().map(|l| batches(l, batch)).collect()
}

/// Starts a server on a fresh data directory, sends the organisation's
/// reference events (untimed), then posts the rest from `clients` connections.
pub(crate) fn measure(
    options: &Options,
    load: &LoadOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<LoadFigures, BenchError> {
    let dir = options.work_dir.join("http");
    crate::fresh_dir(&dir)?;
    let events = dir.join("events.ndjson");
    crate::write_events(options, load.employees, options.seed + 1, &events)?;
    let text = std::fs::read_to_string(&events)
        .map_err(io(format!("cannot read {}", events.display())))?;
    let (reference, rest): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| {
        cadre_model::EventType::ALL
            .iter()
            .filter(|t| t.describes_organisation())
            .any(|t| l.contains(&format!("\"type\":\"{t}\"")))
    });
    // no rate limit: the load measures the server, not the limiter
    let config = dir.join("cadre.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nevents_per_second = 0\nmax_batch_events = {}\n",
            load.batch.max(1)
        ),
    )
    .map_err(io(format!("cannot write {}", config.display())))?;
    let port = free_port()?;
    progress(&format!(
        "HTTP: serving on 127.0.0.1:{port}, {} clients, {} events per request",
        load.clients, load.batch
    ));
    let child = Command::new(&load.exe)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--config")
        .arg(&config)
        .args(["serve", "--port", &port.to_string()])
        .env("CADRE_INGEST_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(io(format!("cannot start {} serve", load.exe.display())))?;
    let _served = Served(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut setup = loop {
        if let Ok(mut c) = Connection::open(port) {
            if let Ok((200, _)) = c.request("GET", "/health", "text/plain", b"") {
                break c;
            }
        }
        if Instant::now() > deadline {
            return Err(BenchError::Check(format!(
                "cadre serve did not answer on 127.0.0.1:{port} within 60 s"
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for body in batches(&reference, load.batch) {
        let (status, answer) = setup
            .request("POST", "/v1/events", "application/x-ndjson", &body)
            .map_err(io("cannot post the reference events"))?;
        if status != 200 {
            return Err(BenchError::Check(format!(
                "the reference events were refused ({status}): {}",
                String::from_utf8_lossy(&answer)
            )));
        }
    }
    let streams = streams(&rest, load.clients, load.batch);
    progress(&format!(
        "HTTP: posting {} events for at most {} s",
        rest.len(),
        load.seconds
    ));
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(load.seconds);
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let workers: Vec<_> = streams
            .iter()
            .map(|bodies| s.spawn(move || post_all(port, bodies, until)))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or((0, 1, 0, 0, Vec::new())))
            .collect()
    });
    let wall_secs = started.elapsed().as_secs_f64();
    let mut latencies: Vec<f64> = tallies.iter().flat_map(|t| t.4.iter().copied()).collect();
    latencies.sort_by(f64::total_cmp);
    let accepted = tallies.iter().map(|t| t.2).sum();
    let figures = LoadFigures {
        clients: load.clients.max(1),
        batch: load.batch,
        requests: tallies.iter().map(|t| t.0).sum(),
        errors: tallies.iter().map(|t| t.1).sum(),
        accepted,
        rejected: tallies.iter().map(|t| t.3).sum(),
        wall_secs,
        events_per_sec: accepted as f64 / wall_secs.max(1e-9),
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
    };
    if !options.keep {
        drop(_served);
        std::fs::remove_dir_all(&dir).map_err(io(format!("cannot remove {}", dir.display())))?;
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn each_subject_goes_to_one_stream_in_order() {
        let lines = [
            r#"{"subject":"a","n":1}"#,
            r#"{"subject":"b","n":2}"#,
            r#"{"subject":"a","n":3}"#,
        ];
        let s = streams(&lines, 2, 10);
        let joined: Vec<String> = s
            .iter()
            .flatten()
            .map(|b| String::from_utf8(b.clone()).unwrap())
            .collect();
        let with_a: Vec<&String> = joined.iter().filter(|b| b.contains("\"a\"")).collect();
        assert_eq!(with_a.len(), 1, "{joined:?}");
        assert!(with_a[0].find("\"n\":1").unwrap() < with_a[0].find("\"n\":3").unwrap());
        assert_eq!(joined.iter().map(|b| b.lines().count()).sum::<usize>(), 3);
    }

    #[test]
    fn batches_hold_whole_lines() {
        let b = batches(&["a", "b", "c"], 2);
        assert_eq!(b, vec![b"a\nb\n".to_vec(), b"c\n".to_vec()]);
    }
}
