//! ClickHouse as cadre's analytics store in the scale-out mode.
//!
//! This crate owns everything cadre keeps in ClickHouse: the versioned
//! schema ([`MIGRATIONS`], applied by [`Warehouse::migrate`]), the raw events
//! (`cadre_events`, ReplacingMergeTree by event id, so a re-sent event never
//! counts twice), and **exports** of the analytics: per-person tables
//! (effective levels, gaps, employees), partial aggregates that add up across
//! instances holding different employees (sums and counts, never means), trend
//! and succession tables, each export under a new id made visible atomically
//! by its row in `cadre_exports` ([`derive()`]). The [`Exporter`] follows the
//! local event log with a durable cursor, buffers while ClickHouse is away
//! and reports its backlog as a metric. Views in the schema add the shards'
//! latest exports up for Grafana and ad-hoc SQL.

mod config;
mod derive;
mod exporter;
mod migrations;
mod warehouse;

pub use config::ClickHouseConfig;
pub use derive::{derive, Export, ExportPlan};
pub use exporter::{Cursor, Deriver, ExportMetrics, Exporter, Progress};
pub use migrations::{Migration, MIGRATIONS, NOT_PORTABLE};
pub use warehouse::Warehouse;

/// Why talking to ClickHouse, or preparing what to send, failed.
#[derive(Debug, thiserror::Error)]
pub enum ClickHouseError {
    /// The server refused a request or could not be reached.
    #[error("ClickHouse at {url}: {reason} (while running: {what})")]
    Server {
        /// The server.
        url: String,
        /// The statement.
        what: String,
        /// The server's or the connection's message.
        reason: String,
    },
    /// A migration failed; those before it stay applied.
    #[error("migration {version} ({name}) failed: {reason}")]
    Migration {
        /// Its version.
        version: u32,
        /// Its name.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// The exporter's cursor cannot be read or written.
    #[error("ClickHouse cursor {path}: {reason}")]
    Cursor {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// The local log cannot be read.
    #[error(transparent)]
    Store(#[from] cadre_store::StoreError),
    /// The analytics could not be computed.
    #[error(transparent)]
    Analytics(#[from] cadre_analytics::AnalyticsError),
    /// The export task failed.
    #[error("export failed: {0}")]
    Export(String),
}
