//! The `cadre` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: ingest and replay build and drop many small JSON values, which
/// glibc's allocator serves slowly (docs/performance.md). `Cap` counts the
/// bytes allocated, for `cadre bench`'s memory figures; it sets no limit.
#[global_allocator]
static HEAP: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

/// mimalloc's `purge_delay` option (its place in `mi_option_t`, mimalloc v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory for reuse instead of handing it back to the kernel.
/// Polars frees and reallocates large buffers many times per query; with
/// purging on, every reuse faulted in fresh zeroed pages, and the kernel's
/// page clearing took about half of a query's time (docs/performance.md).
/// The cost: the process keeps its peak resident set.
#[allow(unsafe_code)]
fn keep_freed_memory() {
    // SAFETY: sets one integer option of the allocator before any other
    // thread exists; -1 is the documented "never purge" value.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

fn main() -> ExitCode {
    keep_freed_memory();
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
