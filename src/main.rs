//! The `cadre` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: ingest and replay build and drop many small JSON values, which
/// glibc's allocator serves slowly (docs/performance.md).
#[cfg(not(feature = "bench"))]
#[global_allocator]
static HEAP: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// With the `bench` feature, mimalloc counting the bytes allocated for
/// `cadre bench`'s memory figures ([`counted`]).
#[cfg(feature = "bench")]
#[global_allocator]
static HEAP: counted::Counted = counted::Counted;

/// mimalloc, counting the net bytes allocated for `cadre bench`, and only
/// while the bench asks it to: a count kept all the time is an atomic add
/// shared by every core on every allocation, which cost ingest a fifth of its
/// speed.
#[cfg(feature = "bench")]
mod counted {
    use std::alloc::{GlobalAlloc, Layout};
    use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

    use mimalloc::MiMalloc;

    /// mimalloc, counting the net bytes allocated while [`COUNTING`] is on.
    pub(crate) struct Counted;

    static COUNTING: AtomicBool = AtomicBool::new(false);
    static COUNTED: AtomicIsize = AtomicIsize::new(0);

    fn count(delta: isize) {
        if COUNTING.load(Ordering::Relaxed) {
            COUNTED.fetch_add(delta, Ordering::Relaxed);
        }
    }

    // SAFETY: every call is passed to mimalloc unchanged; the counting around it
    // touches two atomics and allocates nothing.
    #[allow(unsafe_code)]
    unsafe impl GlobalAlloc for Counted {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { MiMalloc.alloc(layout) };
            if !p.is_null() {
                count(layout.size() as isize);
            }
            p
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { MiMalloc.alloc_zeroed(layout) };
            if !p.is_null() {
                count(layout.size() as isize);
            }
            p
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { MiMalloc.dealloc(ptr, layout) };
            count(-(layout.size() as isize));
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let p = unsafe { MiMalloc.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                count(new_size as isize - layout.size() as isize);
            }
            p
        }
    }

    /// Starts counting from zero.
    pub(crate) fn start_counting() {
        COUNTED.store(0, Ordering::Relaxed);
        COUNTING.store(true, Ordering::Relaxed);
    }

    /// Stops counting: the bytes allocated and not freed since [`start_counting`].
    pub(crate) fn stop_counting() -> isize {
        COUNTING.store(false, Ordering::Relaxed);
        COUNTED.load(Ordering::Relaxed)
    }
}

/// mimalloc's `purge_delay` option (its place in `mi_option_t`, mimalloc v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// mimalloc's `allow_thp` option (its place in `mi_option_t`, mimalloc v3).
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// How the allocator takes memory from the kernel and gives it back.
///
/// Freed memory is kept for reuse instead of handed back: polars frees and
/// reallocates large buffers many times per query; with purging on, every
/// reuse faulted in fresh zeroed pages, and the kernel's page clearing took
/// about half of a query's time. The cost: the process keeps its peak
/// resident set.
///
/// Its memory is taken in pages of 4 KiB, not transparent huge pages of
/// 2 MiB: with huge pages, the kernel zeroing each fresh 2 MiB page on its
/// first touch (and compacting memory to find one) took 20 to 40 % of the
/// samples of `cadre query gaps` and `--import`; without, system time fell
/// by half and the wall time by 5 to 30 % (docs/performance.md). The
/// allocator asks for huge pages for its first arena before `main` runs, so
/// the process also tells the kernel to give it none (`PR_SET_THP_DISABLE`).
#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: sets two integer options of the allocator before any other
    // thread exists; -1 is the documented "never purge" value and 0 turns
    // transparent huge pages off for the allocator.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
        libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0);
    }
    // SAFETY: prctl with an integer flag and no pointers; on failure (an
    // old kernel) the process simply keeps huge pages.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    #[cfg(feature = "bench")]
    cadre_cli::count_heap_with(counted::start_counting, counted::stop_counting);
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
