//! Named crash points, so that crash tests can stop the process at the worst
//! moment instead of hoping a random `kill -9` lands there.
//!
//! Code that must survive a crash marks its delicate moments with
//! [`crash_point`] (`"log.before_fsync"`, `"checkpoint.before_rename"`, ...).
//! Normally that costs one atomic load and does nothing. When the environment
//! variable `CADRE_CRASH_AT` is set to `NAME` or `NAME:N`, the process aborts
//! the `N`-th time (default: the first) it passes the point `NAME`: no
//! destructor runs, no buffer is flushed, as after a power cut or `kill -9`.
//! Every point is listed in [`POINTS`], so a test can aim at each of them and
//! a typo in a test cannot silently arm nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable that arms a crash point.
pub const ENV: &str = "CADRE_CRASH_AT";

/// Every crash point on the path of an event from ingest to the projection,
/// with where it is.
pub const POINTS: &[(&str, &str)] = &[
    (
        "log.before_write",
        "a batch of records is framed, nothing of it written yet",
    ),
    (
        "log.before_fsync",
        "a batch is written to the segment file but not yet fsynced",
    ),
    (
        "log.after_fsync",
        "a batch is durable but not yet acknowledged",
    ),
    (
        "projection.before_apply",
        "a stored batch is not yet folded into the projection",
    ),
    (
        "checkpoint.mid_write",
        "half of a projection checkpoint is written to its temporary file",
    ),
    (
        "checkpoint.before_rename",
        "a checkpoint is complete in its temporary file, not yet renamed into place",
    ),
];

/// The crash points of a log rewrite (`cadre erase`), with where they are.
pub const REWRITE_POINTS: &[(&str, &str)] = &[
    (
        "log.rewrite_before_commit",
        "the rewritten segments are complete beside the old ones, not yet committed",
    ),
    (
        "log.rewrite_mid_rename",
        "the rewrite is committed and one rewritten segment has replaced its old one",
    ),
];

fn known(name: &str) -> bool {
    POINTS.iter().chain(REWRITE_POINTS).any(|(p, _)| *p == name)
}

struct Armed {
    name: String,
    nth: u64,
    passes: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var(ENV).ok()?;
            let (name, nth) = match spec.split_once(':') {
                Some((name, n)) => (name, n.parse().unwrap_or(1)),
                None => (spec.as_str(), 1),
            };
            assert!(known(name), "{ENV}={spec}: no crash point named {name:?}");
            Some(Armed {
                name: name.to_string(),
                nth: nth.max(1),
                passes: AtomicU64::new(0),
            })
        })
        .as_ref()
}

/// Aborts the process here if `CADRE_CRASH_AT` names this point and this is the pass it names.
pub fn crash_point(name: &'static str) {
    debug_assert!(known(name), "crash point {name} is not listed");
    if let Some(a) = armed() {
        if a.name == name && a.passes.fetch_add(1, Ordering::Relaxed) + 1 == a.nth {
            eprintln!("{ENV}: crashing at {name}");
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_have_unique_names() {
        let mut names: Vec<&str> = POINTS
            .iter()
            .chain(REWRITE_POINTS)
            .map(|(n, _)| *n)
            .collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
    }

    #[test]
    fn unarmed_points_do_nothing() {
        // the test runner does not set CADRE_CRASH_AT
        assert!(std::env::var(ENV).is_err());
        for (name, _) in POINTS.iter().chain(REWRITE_POINTS) {
            crash_point(name);
        }
    }
}
