//! The crash harness: `cadre serve` is killed again and again while clients
//! post events: at every named crash point (during append, before and after
//! fsync, before the projection folds a batch, in the middle of a checkpoint
//! and just before it is renamed into place) and by `kill -9` at random
//! moments. After every kill an independent count (the log read back by
//! `cadre export`) must hold every acknowledged event exactly once; at the end
//! every event sent is stored once, and the figures of a server restored from
//! its checkpoint and the log equal a clean rebuild from the log.
//!
//! `cargo test --test crash` runs 24 kills (CI); `-- --soak` runs 300,
//! `-- --kills N --seed S` any other number.

mod common;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use cadre_failpoint::POINTS;
use common::*;
use serde_json::Value;

const TOKEN: &str = "crash-harness-token";
const BATCH: usize = 40;

/// A small deterministic generator (xorshift64*), so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Abort at this crash point, the n-th time it is passed.
    Point(&'static str),
    /// `kill -9` after a random delay.
    Kill,
}

struct Harness {
    tmp: PathBuf,
    data: PathBuf,
    config: PathBuf,
    /// The events to send, in batches of raw NDJSON lines, with their ids.
    batches: Vec<(Vec<u8>, Vec<String>)>,
    /// Next batch to send; a batch whose answer was lost is sent again.
    next: usize,
    acknowledged: HashSet<String>,
    sent: HashSet<String>,
    runs: usize,
}

impl Harness {
    fn new(tmp: &Path, employees: usize, seed: u64) -> Harness {
        let file = tmp.join("events.ndjson");
        generate(&file, employees, seed);
        let batches = batches_of(&file, BATCH)
            .into_iter()
            .map(|(body, ids)| (body.into_bytes(), ids))
            .collect();
        let config = tmp.join("cadre.toml");
        // checkpoint often, so that kills land in checkpoints too
        fs::write(
            &config,
            "[checkpoint]\nevery_events = 300\n\n[server]\nevents_per_second = 0.0\n",
        )
        .unwrap();
        Harness {
            tmp: tmp.to_path_buf(),
            data: tmp.join("data"),
            config,
            batches,
            next: 0,
            acknowledged: HashSet::new(),
            sent: HashSet::new(),
            runs: 0,
        }
    }

    /// Starts `cadre serve`, armed with a crash point or not: the child, its port, its log file.
    fn start(&mut self, crash_at: Option<String>) -> (Child, u16, PathBuf) {
        self.runs += 1;
        let port = free_port();
        let log = self.tmp.join(format!("serve-{:04}.log", self.runs));
        let mut cmd = cadre(&self.data);
        cmd.arg("--config")
            .arg(&self.config)
            .args(["serve", "--port", &port.to_string()])
            .env("CADRE_INGEST_TOKEN", TOKEN)
            .env("CADRE_LOG", "info")
            .env_remove(cadre_failpoint::ENV)
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap());
        if let Some(spec) = crash_at {
            cmd.env(cadre_failpoint::ENV, spec);
        }
        (cmd.spawn().expect("cadre serve starts"), port, log)
    }

    /// Waits for `/health`; false when the server exited first (a crash at start).
    fn healthy(child: &mut Child, port: u16) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            if let Ok((200, _)) = http(port, "GET", "/health", &[], b"") {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("cadre serve did not answer /health on port {port} within 60 s");
    }

    /// Posts the next batch; false when the server did not answer (it crashed).
    fn post_next(&mut self, port: u16) -> bool {
        let Some((body, ids)) = self.batches.get(self.next) else {
            return false;
        };
        self.sent.extend(ids.iter().cloned());
        let auth = format!("Bearer {TOKEN}");
        match http(
            port,
            "POST",
            "/v1/events",
            &[("Authorization", &auth)],
            body,
        ) {
            Ok((200, answer)) => {
                let answer: Value = serde_json::from_slice(&answer).expect("JSON answer");
                let results = answer["results"].as_array().expect("results");
                assert_eq!(results.len(), ids.len(), "one outcome per event");
                for r in results {
                    let status = r["status"].as_str().unwrap();
                    assert!(
                        status == "accepted" || status == "duplicate",
                        "a valid event was refused: {r}"
                    );
                    self.acknowledged
                        .insert(r["event_id"].as_str().unwrap().to_string());
                }
                self.next += 1;
                true
            }
            Ok((code, answer)) => panic!(
                "POST /v1/events answered {code}: {}",
                String::from_utf8_lossy(&answer)
            ),
            Err(_) => false,
        }
    }

    /// The independent count: every acknowledged event stored exactly once, nothing else.
    fn check_log(&self, after: &str) -> usize {
        let stored = stored_ids(&self.data);
        let unique: HashSet<&String> = stored.iter().collect();
        assert_eq!(
            unique.len(),
            stored.len(),
            "after {after}: an event is stored twice"
        );
        let lost: Vec<&String> = self
            .acknowledged
            .iter()
            .filter(|id| !unique.contains(id))
            .collect();
        assert!(
            lost.is_empty(),
            "after {after}: {} acknowledged events are missing, e.g. {}",
            lost.len(),
            lost[0]
        );
        assert!(
            unique.iter().all(|id| self.sent.contains(*id)),
            "after {after}: the log holds an event nobody sent"
        );
        stored.len()
    }
}

fn kill9(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// One run of the server, ended by a crash; returns whether the crash came where it was aimed.
fn crash_once(h: &mut Harness, mode: Mode, rng: &mut Rng) -> bool {
    let spec = match mode {
        Mode::Point(p) => Some(format!("{p}:{}", 1 + rng.below(3))),
        Mode::Kill => None,
    };
    let (mut child, port, log) = h.start(spec.clone());
    if Harness::healthy(&mut child, port) {
        let killer = matches!(mode, Mode::Kill).then(|| {
            let (pid, delay) = (child.id(), 20 + rng.below(400));
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(delay));
                kill9(pid);
            })
        });
        // post until the server dies (a crash point, or the killer); 60 batches at most
        let mut posted = 0;
        while posted < 60 && h.post_next(port) {
            posted += 1;
        }
        if let Some(k) = killer {
            k.join().unwrap();
        }
    }
    kill9(child.id());
    child.wait().unwrap();
    let text = fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains("ignored the projection checkpoint"),
        "a checkpoint was damaged by a crash (they are renamed into place whole):\n{text}"
    );
    match mode {
        Mode::Point(p) => text.contains(&format!("crashing at {p}")),
        Mode::Kill => true,
    }
}

/// Events restored from the checkpoint at each start, from the servers' logs.
fn restored_from_checkpoints(tmp: &Path) -> Vec<u64> {
    let mut out = Vec::new();
    for e in fs::read_dir(tmp).unwrap() {
        let path = e.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("serve-")
        {
            continue;
        }
        let text = fs::read_to_string(path).unwrap();
        for line in text.lines().filter(|l| l.contains("projection restored")) {
            if let Some(n) = line
                .split("from_checkpoint=")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok())
            {
                out.push(n);
            }
        }
    }
    out
}

fn harness(kills: usize, seed: u64) {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    // enough events that every run has some left to post, and a log that
    // stays small enough for hundreds of kills to finish in minutes
    let mut h = Harness::new(tmp.path(), 1500 + 20 * kills, seed);
    let mut rng = Rng(seed | 1);
    let modes: Vec<Mode> = POINTS
        .iter()
        .map(|(p, _)| Mode::Point(p))
        .chain([Mode::Kill, Mode::Kill])
        .collect();
    let mut landed: HashMap<String, usize> = HashMap::new();
    for k in 0..kills {
        let mode = modes[k % modes.len()];
        let hit = crash_once(&mut h, mode, &mut rng);
        let name = match mode {
            Mode::Point(p) => p.to_string(),
            Mode::Kill => "kill -9 at a random moment".to_string(),
        };
        if hit {
            *landed.entry(name.clone()).or_default() += 1;
        }
        let stored = h.check_log(&format!("kill {} ({name})", k + 1));
        eprintln!(
            "kill {:>3}/{kills}: {name:<26} {} · {stored} events stored, {} acknowledged",
            k + 1,
            if hit { "landed" } else { "not reached" },
            h.acknowledged.len()
        );
    }
    for (p, _) in POINTS {
        assert!(
            landed.get(*p).copied().unwrap_or(0) > 0,
            "no crash landed at {p} in {kills} kills: {landed:?}"
        );
    }

    // the rest of the events, then one more kill -9 so that the figures come
    // from a restore (checkpoint + log), not from a server that saw them arrive
    let (mut child, port, _) = h.start(None);
    assert!(Harness::healthy(&mut child, port));
    while h.next < h.batches.len() {
        assert!(h.post_next(port), "a server without crash points answers");
    }
    kill9(child.id());
    child.wait().unwrap();
    let stored = h.check_log("the last kill");
    assert_eq!(stored, h.sent.len(), "every event sent is stored once");
    let from_checkpoint = restored_from_checkpoints(tmp.path());
    assert!(
        from_checkpoint.iter().any(|n| *n > 0),
        "no restart used a checkpoint: {from_checkpoint:?}"
    );

    // figures of the restored server = a clean rebuild from the log
    let (mut child, port, _) = h.start(None);
    assert!(Harness::healthy(&mut child, port));
    let export = tmp.path().join("log.ndjson");
    run(cadre(&h.data).args(["export", "--output"]).arg(&export), 0);
    let clean = tmp.path().join("clean");
    run(cadre(&clean).args(["ingest", "--quiet"]).arg(&export), 0);
    let admin = fs::read_to_string(h.data.join("admin.token")).unwrap();
    let auth = format!("Bearer {}", admin.trim());
    for (kind, extra) in [
        ("gaps", ""),
        ("training-needs", ""),
        ("succession", ""),
        ("trends", "&months=3"),
    ] {
        let path = format!("/v1/query/{kind}?as_of={END}{extra}");
        let (code, body) = http(port, "GET", &path, &[("Authorization", &auth)], b"").unwrap();
        assert_eq!(code, 200, "{path}: {}", String::from_utf8_lossy(&body));
        let served: Value = serde_json::from_slice(&body).unwrap();
        let mut args = vec!["query", kind, "--as-of", END, "--format", "json"];
        if kind == "trends" {
            args.extend(["--months", "3"]);
        }
        let out = run(cadre(&clean).args(&args), 0);
        let rebuilt: Value = serde_json::from_slice(&out.stdout).unwrap();
        if let Some(d) = first_difference(&served, &rebuilt, "") {
            panic!("{kind}: the restored server and a clean rebuild differ at {d}");
        }
    }
    kill9(child.id());
    child.wait().unwrap();

    let mut landed: Vec<_> = landed.into_iter().collect();
    landed.sort();
    eprintln!(
        "crash harness: {kills} kills, seed {seed}, {} events, {} server runs, {} restarts from a checkpoint, {:.0} s",
        h.sent.len(),
        h.runs,
        from_checkpoint.iter().filter(|n| **n > 0).count(),
        started.elapsed().as_secs_f64()
    );
    for (name, n) in landed {
        eprintln!("  {n:>4} × {name}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("crash_harness: test");
        return;
    }
    // `cargo test FILTER` passes FILTER to every test binary
    let filters: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            !a.starts_with('-')
                && !matches!(
                    args.get(i.wrapping_sub(1)).map(String::as_str),
                    Some("--kills" | "--seed")
                )
        })
        .map(|(_, a)| a)
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| "crash_harness".contains(f.as_str())) {
        return;
    }
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map(|v| {
                v.parse::<u64>()
                    .unwrap_or_else(|_| panic!("{flag} takes a number"))
            })
    };
    let soak = args.iter().any(|a| a == "--soak");
    let kills = value("--kills").unwrap_or(if soak { 300 } else { 24 }) as usize;
    let seed = value("--seed").unwrap_or(0x5eed_c4ad);
    harness(kills, seed);
    eprintln!("test result: ok. crash_harness passed");
}
