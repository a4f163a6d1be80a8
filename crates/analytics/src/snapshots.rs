//! Where a query takes the organisation as of a moment from: the timeline
//! itself, or a reader of a shared one that holds its lock for one snapshot
//! at a time, so that a query over many months lets events be folded
//! between them.

use cadre_projection::{LevelPolicy, Snapshot, Timeline};
use chrono::{DateTime, Utc};

/// Snapshots of the projection at any moment.
pub trait Snapshots {
    /// The organisation as of `at`.
    fn snapshot_at(&self, at: DateTime<Utc>, policy: &LevelPolicy) -> Snapshot;
}

impl Snapshots for Timeline {
    fn snapshot_at(&self, at: DateTime<Utc>, policy: &LevelPolicy) -> Snapshot {
        self.snapshot(at, policy)
    }
}
