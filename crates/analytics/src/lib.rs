//! Skills-gap analytics over a projected [`cadre_projection::Snapshot`], computed with polars.
//!
//! [`Analysis::new`] turns a snapshot into three frames: `pairs` (one row
//! per active employee and required competency of their role, with required
//! and effective level and the gap), `people` (one row per active employee)
//! and `ancestry` (every unit with each of its ancestors, itself included).
//! Roll-ups are lazy polars plans over those frames; an org unit's figures
//! always cover its whole subtree, which the ancestry join gives without
//! recursion. Column names of every frame returned are stable and defined in
//! `docs/metrics.md`; the worked example there is a test here.
//!
//! This crate reads snapshots and never the log: the same snapshot always
//! yields the same numbers.

mod config;
mod frames;
mod gaps;
#[cfg(test)]
mod generated;
mod ninebox;
mod partials;
mod query;
mod snapshots;
mod succession;
mod table;
mod training;
mod trends;

pub use config::AnalyticsConfig;
pub use gaps::{Analysis, Scope, ROLLUP_COLUMNS};
pub use partials::{ORGANISATION, PAIR_PARTIAL_COLUMNS, PEOPLE_PARTIAL_COLUMNS};
pub use polars::prelude::DataFrame;
pub use query::{
    parse_as_of, run_prepared, run_query, write_parquet, Prepared, QueryKind, QueryOutput,
    QueryRequest,
};
pub use snapshots::Snapshots;
pub use succession::{computed_readiness, readiness_name, Succession, SuccessionSummary};
pub use table::{cell_text, first_difference, Table};
pub use training::course_effects;
pub use trends::{month_ends, people_in, plan_history, subtree, trends, PlanHistory};

/// Errors from analytics.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// A polars plan failed: a bug in cadre, not in the caller's input.
    #[error("analytics computation failed: {0}")]
    Polars(#[from] polars::error::PolarsError),
    /// The caller asked about an org unit the snapshot does not have.
    #[error("unknown org unit {0:?}")]
    UnknownUnit(String),
    /// The caller asked about an employee the snapshot does not have.
    #[error("unknown employee {0:?}")]
    UnknownEmployee(String),
    /// A query lacks a parameter it needs.
    #[error("this query needs --{0} (or ?{0}=...)")]
    Missing(&'static str),
    /// The caller asked about a position the snapshot does not have.
    #[error("unknown position {0:?}")]
    UnknownPosition(String),
}
