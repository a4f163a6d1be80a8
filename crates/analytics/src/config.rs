//! Thresholds and weights of the analytics, with their documented defaults.

use serde::{Deserialize, Serialize};

/// Analytics settings; `Default` gives the values `docs/metrics.md` documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsConfig {
    /// An assessment older than this many days is stale.
    pub stale_days: i64,
    /// Role fit at or above which a candidate is ready now.
    pub ready_now: f64,
    /// Role fit at or above which a candidate is ready in 1–2 years.
    pub ready_1_2_years: f64,
    /// Role fit at or above which a candidate is ready in 3+ years.
    pub ready_3_plus_years: f64,
    /// A latest performance rating below this drops a candidate one band.
    pub performance_floor: u8,
    /// How many of the best-fitting employees join each critical position's candidates.
    pub top_candidates: usize,
    /// A candidate nominated for at least this many positions is over-nominated.
    pub over_nominated: usize,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            stale_days: 365,
            ready_now: 0.90,
            ready_1_2_years: 0.75,
            ready_3_plus_years: 0.50,
            performance_floor: 3,
            top_candidates: 5,
            over_nominated: 3,
        }
    }
}
