//! `cadre bench`: the options into [`cadre_bench::Options`], progress on
//! standard error, the table on standard output.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;

pub(crate) fn run(a: BenchArgs) -> Result<ExitCode> {
    if a.sizes.is_empty() || a.sizes.contains(&0) {
        bail!("--sizes needs at least one size, each at least 1 employee");
    }
    if a.peer_script.is_relative() && !a.no_peer && !a.peer_script.exists() {
        bail!(
            "no {} here: run from the repository's root, give --peer-script PATH, or --no-peer",
            a.peer_script.display()
        );
    }
    let exe = std::env::current_exe().context("cannot find the cadre executable")?;
    let options = cadre_bench::Options {
        sizes: a.sizes,
        seed: a.seed,
        end: a.end_date,
        work_dir: a.work_dir.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("cadre-bench-{}", std::process::id()))
        }),
        keep: a.keep,
        batch_size: a.batch_size.max(1),
        peer: (!a.no_peer).then_some(cadre_bench::PeerOptions {
            python: a.python,
            script: a.peer_script,
        }),
        load: if a.no_http {
            None
        } else {
            Some(cadre_bench::LoadOptions {
                exe: exe.clone(),
                seconds: a.http_seconds,
                clients: a.clients.max(1),
                batch: a.http_batch.max(1),
                employees: a.http_employees.max(1),
            })
        },
        kafka: a.kafka,
        exe,
    };
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; build with --release for figures that mean anything");
    }
    let started = Instant::now();
    let report = cadre_bench::run(&options, &mut |what| {
        eprintln!("[{:>6.1} s] {what}", started.elapsed().as_secs_f64())
    })
    .context("the benchmark stopped")?;
    if !options.keep {
        // the per-size directories are gone; the work directory may be ours
        let _ = std::fs::remove_dir(&options.work_dir);
    }
    let mut out = std::io::stdout().lock();
    report.print(&mut out)?;
    out.flush()?;
    if let Some(path) = &a.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let disagreed = report
        .sizes
        .iter()
        .any(|s| !s.freshness_changed || s.peer.as_ref().is_some_and(|p| p.difference.is_some()));
    Ok(if disagreed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// `cadre bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Organisation sizes (employees), each measured from scratch.
    #[arg(long, num_args = 1.., default_values_t = [10_000usize, 100_000, 1_000_000])]
    pub sizes: Vec<usize>,
    /// Seed of the generated organisations.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Last day of the generated year; figures are computed as of its end.
    #[arg(long, default_value = "2026-06-30")]
    pub end_date: chrono::NaiveDate,
    /// Where the events and data directories go (about 12 GB for 1,000,000 employees); default: the system's temporary directory.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Keep the generated events and data directories.
    #[arg(long)]
    pub keep: bool,
    /// Lines per durable batch of the file ingest.
    #[arg(long, default_value_t = 5000)]
    pub batch_size: usize,
    /// Skip the DuckDB comparison.
    #[arg(long)]
    pub no_peer: bool,
    /// Python interpreter with duckdb installed.
    #[arg(long, default_value = "python3")]
    pub python: PathBuf,
    /// The peer's SQL (run from the repository's root, or give the path).
    #[arg(long, default_value = "bench/duckdb_gaps.py")]
    pub peer_script: PathBuf,
    /// Skip the HTTP load.
    #[arg(long)]
    pub no_http: bool,
    /// Longest time the HTTP load posts for, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub http_seconds: f64,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Events per HTTP request.
    #[arg(long, default_value_t = 1000)]
    pub http_batch: usize,
    /// Employees of the organisation the HTTP load posts.
    #[arg(long, default_value_t = 20_000)]
    pub http_employees: usize,
    /// Also measure Kafka consume throughput against these bootstrap servers (the first size's events).
    #[arg(long)]
    pub kafka: Option<String>,
    /// Also write every figure as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}
