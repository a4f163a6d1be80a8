//! The `cadre` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: ingest and replay build and drop many small JSON values, which
/// glibc's allocator serves slowly (docs/performance.md). `Cap` counts the
/// bytes allocated, for `cadre bench`'s memory figures; it sets no limit.
#[global_allocator]
static HEAP: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

fn main() -> ExitCode {
    cadre_cli::count_heap_with(|| HEAP.allocated());
    let cli = cadre_cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CADRE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        // colours only for a person at a terminal, not in log files
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cadre_cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
