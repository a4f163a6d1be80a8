//! Where a data directory keeps what.

use std::path::PathBuf;

/// Where a data directory keeps what.
#[derive(Debug, Clone)]
pub struct StoreLayout {
    /// The data directory.
    pub root: PathBuf,
}

impl StoreLayout {
    /// The layout under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StoreLayout { root: root.into() }
    }

    /// The event log's directory.
    pub fn log_dir(&self) -> PathBuf {
        self.root.join("log")
    }

    /// The dead-letter store's directory.
    pub fn dead_letter_dir(&self) -> PathBuf {
        self.root.join("dead-letter")
    }

    /// The audit log of access to individuals' data.
    pub fn audit_log_path(&self) -> PathBuf {
        self.root.join("audit.jsonl")
    }

    /// The projection checkpoint (a cache of the folded log).
    pub fn checkpoint_path(&self) -> PathBuf {
        self.root.join("projection").join("timeline.ckpt")
    }
}
