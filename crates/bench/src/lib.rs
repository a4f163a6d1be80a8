//! cadre's benchmark: how fast one machine ingests, projects and recomputes
//! an organisation of a given size, how fresh a figure is after one new
//! event, how much memory and disk it takes, how fast the HTTP API and the
//! Kafka consumer take events, and how the same gap tables compare with
//! DuckDB on the same NDJSON.
//!
//! Every figure is measured in this process with the library crates the
//! `cadre` commands use (the same code paths, no shortcuts), except the HTTP
//! load, which drives a real `cadre serve` over loopback, and the peer, which
//! runs `bench/duckdb_gaps.py` in Python. [`run`] measures; [`Report`]
//! prints the table and serialises to JSON. Definitions of every figure:
//! `docs/performance.md`.

mod kafka;
mod load;
mod memory;
mod peer;
mod size;
mod table;

use std::path::PathBuf;

use serde::Serialize;

pub use kafka::KafkaFigures;
pub use load::{LoadFigures, LoadOptions};
pub use memory::count_heap_with;
pub use peer::{PeerFigures, PeerOptions};
pub use size::SizeFigures;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// Organisation sizes (employees), each measured from scratch.
    pub sizes: Vec<usize>,
    /// Seed of the generated organisations.
    pub seed: u64,
    /// Last day of the generated year; figures are computed as of its end.
    pub end: chrono::NaiveDate,
    /// Where the events and data directories go (one subdirectory per size, removed after).
    pub work_dir: PathBuf,
    /// Keep each size's events and data directory.
    pub keep: bool,
    /// Lines per durable batch of the file ingest (as `cadre ingest --batch-size`).
    pub batch_size: usize,
    /// The DuckDB peer, if it is to be run.
    pub peer: Option<PeerOptions>,
    /// HTTP load against `cadre serve`, if it is to be run.
    pub load: Option<LoadOptions>,
    /// Kafka bootstrap servers, to measure consume throughput.
    pub kafka: Option<String>,
    /// The `cadre` executable, run for the end to end figure.
    pub exe: PathBuf,
}

/// Everything measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The machine and build the figures come from.
    pub machine: Machine,
    /// One column per organisation size.
    pub sizes: Vec<SizeFigures>,
    /// HTTP batch ingest under concurrent clients.
    pub load: Option<LoadFigures>,
    /// Kafka consume throughput.
    pub kafka: Option<KafkaFigures>,
}

/// Where the figures were measured.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU model, from /proc/cpuinfo.
    pub cpu: String,
    /// Logical CPUs available to this process.
    pub cores: usize,
    /// Total memory, bytes.
    pub memory_bytes: u64,
    /// `release` or `debug` (debug figures are not representative).
    pub build: &'static str,
}

impl Machine {
    /// This machine.
    pub fn this() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, m)| m.trim().to_string())
            .unwrap_or_else(|| "unknown CPU".into());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: memory::total_bytes(),
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }
}

/// Why a benchmark could not finish.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A file or directory of the benchmark.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// Storing or reading events.
    #[error(transparent)]
    Ingest(#[from] cadre_store::StoreError),
    /// Importing the generated file.
    #[error(transparent)]
    Import(#[from] cadre_ingest::ImportError),
    /// Computing the analytics.
    #[error(transparent)]
    Analytics(#[from] cadre_analytics::AnalyticsError),
    /// A measurement found something wrong (a count that does not add up, a server that did not start).
    #[error("{0}")]
    Check(String),
}

pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BenchError {
    let what = what.into();
    move |source| BenchError::Io { what, source }
}

/// Runs every measurement `options` asks for; `progress` is told what runs next.
pub fn run(options: &Options, progress: &mut dyn FnMut(&str)) -> Result<Report, BenchError> {
    std::fs::create_dir_all(&options.work_dir)
        .map_err(io(format!("cannot create {}", options.work_dir.display())))?;
    let mut sizes = Vec::new();
    for &n in &options.sizes {
        sizes.push(size::measure(options, n, progress)?);
    }
    let first = options.sizes.first().copied().unwrap_or(10_000);
    let load = match &options.load {
        Some(l) => Some(load::measure(options, l, progress)?),
        None => None,
    };
    let kafka = match &options.kafka {
        Some(brokers) => Some(kafka::measure(options, brokers, first, progress)?),
        None => None,
    };
    Ok(Report {
        machine: Machine::this(),
        sizes,
        load,
        kafka,
    })
}

/// The moment figures are computed as of: the end of the generated year's last day.
pub(crate) fn as_of(end: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
    end.and_hms_opt(23, 59, 59).expect("valid time").and_utc()
}

/// Writes the generated organisation of `employees` as NDJSON; returns the event count.
pub(crate) fn write_events(
    options: &Options,
    employees: usize,
    seed: u64,
    path: &std::path::Path,
) -> Result<u64, BenchError> {
    use std::io::Write;
    let file =
        std::fs::File::create(path).map_err(io(format!("cannot create {}", path.display())))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut config = cadre_synth::SynthConfig::new(employees, seed);
    config.end = options.end;
    let mut failed = None;
    let n = cadre_synth::generate(&config, &mut |e| {
        if failed.is_none() {
            if let Err(e) = writeln!(out, "{}", e.to_json()) {
                failed = Some(e);
            }
        }
    });
    if let Some(e) = failed {
        return Err(io(format!("cannot write {}", path.display()))(e));
    }
    out.flush()
        .map_err(io(format!("cannot write {}", path.display())))?;
    Ok(n)
}

/// The `subject` of a line the generator wrote (compact JSON: `"subject":"emp-000123"`).
pub(crate) fn subject_of(line: &str) -> Option<&str> {
    line.split_once("\"subject\":\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(s, _)| s)
}

/// Empties `dir` (made if missing): each measurement starts from nothing.
pub(crate) fn fresh_dir(dir: &std::path::Path) -> Result<(), BenchError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(format!("cannot clear {}", dir.display())))?;
    }
    std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))
}
