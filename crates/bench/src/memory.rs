//! Memory of this process, from Linux's /proc: the resident set now, its
//! peak, and a reset of the peak so that each phase reports its own.

/// A `Field:   123 kB` line of a /proc file, in bytes; 0 when missing.
fn field_bytes(file: &str, field: &str) -> u64 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_string))
        })
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn status_bytes(field: &str) -> u64 {
    field_bytes("/proc/self/status", field)
}

/// The binary's global allocator's count: start, and stop with the net bytes.
type HeapCount = (fn(), fn() -> isize);

static HEAP: std::sync::OnceLock<HeapCount> = std::sync::OnceLock::new();

/// Sets how to count the bytes allocated (by the binary's global allocator):
/// `start` counts from zero, `stop` ends and returns the bytes allocated and
/// not freed since.
pub fn count_heap_with(start: fn(), stop: fn() -> isize) {
    let _ = HEAP.set((start, stop));
}

/// Counts what `f` allocates and keeps: the heap bytes allocated and not
/// freed while it ran when the binary counts them, otherwise the growth of
/// the resident set.
pub(crate) fn kept_by<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let rss = rss_bytes();
    if let Some((start, _)) = HEAP.get() {
        start();
    }
    let out = f();
    let kept = match HEAP.get() {
        Some((_, stop)) => stop().max(0) as u64,
        None => rss_bytes().saturating_sub(rss),
    };
    (out, kept)
}

/// Resident set size now.
pub(crate) fn rss_bytes() -> u64 {
    status_bytes("VmRSS")
}

/// Peak resident set size since the start or the last [`reset_peak`].
pub(crate) fn peak_bytes() -> u64 {
    status_bytes("VmHWM")
}

/// Starts a new peak at the current resident set (Linux: `5` to clear_refs).
pub(crate) fn reset_peak() {
    // without the file (not Linux) the peak is the process's whole life
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Total memory of the machine.
pub(crate) fn total_bytes() -> u64 {
    field_bytes("/proc/meminfo", "MemTotal")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_allocation_shows_in_the_resident_set_and_its_peak() {
        reset_peak();
        let before = rss_bytes();
        let block = std::hint::black_box(vec![1u8; 64 << 20]);
        let during = rss_bytes();
        assert!(during >= before + (60 << 20), "{before} -> {during}");
        assert!(peak_bytes() >= during);
        drop(block);
        assert!(peak_bytes() >= before + (60 << 20));
        assert!(total_bytes() > during);
    }
}
