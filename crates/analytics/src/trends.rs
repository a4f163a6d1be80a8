//! Figures over time: monthly trends and the history of a succession plan.

use std::collections::BTreeSet;

use cadre_projection::{LevelPolicy, Snapshot};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use polars::prelude::*;

use crate::succession::readiness_name;
use crate::{Analysis, AnalyticsConfig, AnalyticsError, Scope, Snapshots, Succession, Table};

/// The units in the subtree of `unit` (itself included).
pub fn subtree(s: &Snapshot, unit: &str) -> BTreeSet<String> {
    s.units
        .values()
        .filter(|u| u.path.iter().any(|p| p == unit))
        .map(|u| u.id.clone())
        .collect()
}

/// The employees whose unit as of the snapshot lies in the subtree of
/// `unit` (leavers by their last unit).
pub fn people_in(s: &Snapshot, unit: &str) -> BTreeSet<String> {
    let units = subtree(s, unit);
    s.employees
        .iter()
        .filter(|e| e.org_unit_id.as_ref().is_some_and(|u| units.contains(u)))
        .map(|e| e.id.clone())
        .collect()
}

/// The ends of the last `months` calendar months up to `as_of`, oldest first;
/// the last point is `as_of` itself.
pub fn month_ends(as_of: DateTime<Utc>, months: u32) -> Vec<DateTime<Utc>> {
    let mut out = vec![as_of];
    let mut first_of_month =
        NaiveDate::from_ymd_opt(as_of.year(), as_of.month(), 1).expect("valid date");
    for _ in 1..months.max(1) {
        // the last second of the previous month
        let end = first_of_month
            .and_hms_opt(0, 0, 0)
            .expect("valid time")
            .and_utc()
            - Duration::seconds(1);
        out.push(end);
        first_of_month = NaiveDate::from_ymd_opt(end.year(), end.month(), 1).expect("valid date");
    }
    out.reverse();
    out
}

fn value(t: &Table, col: &str) -> Option<f64> {
    let i = t.column(col)?;
    t.rows.first()?.get(i)?.as_f64()
}

impl Analysis {
    /// One row of roll-up figures over every pair in the scope.
    ///
    /// Columns: [`crate::ROLLUP_COLUMNS`].
    pub fn totals(&self, scope: &Scope) -> Result<DataFrame, AnalyticsError> {
        let pairs = self
            .scoped(scope)?
            .with_columns([lit("all").alias("scope")]);
        let cols: Vec<Expr> = crate::ROLLUP_COLUMNS.iter().map(|c| col(*c)).collect();
        Ok(
            Self::grouped(pairs, &["scope"], crate::gaps::PersonRow::of_people(scope))
                .select(cols)
                .collect()?,
        )
    }
}

/// Monthly figures for the last `months` months up to `as_of`, each computed
/// from the log as of that month's end, with the change since the month before.
///
/// Columns: `as_of, headcount, mean_gap, coverage, staleness,
/// succession_coverage, mean_bench_strength, positions_at_risk` (red
/// critical positions), and for each figure after
/// `headcount` a `<figure>_change` column (null for the first month).
pub fn trends(
    t: &dyn Snapshots,
    policy: &LevelPolicy,
    cfg: &AnalyticsConfig,
    as_of: DateTime<Utc>,
    months: u32,
    unit: Option<&str>,
) -> Result<DataFrame, AnalyticsError> {
    let mut when = Vec::new();
    let mut headcount = Vec::new();
    let mut figures: [Vec<Option<f64>>; 6] = Default::default();
    for end in month_ends(as_of, months) {
        let s = t.snapshot_at(end, policy);
        let a = Analysis::with_config(&s, cfg.clone())?;
        let scope = Scope {
            org_unit: unit.map(str::to_string),
            ..Scope::default()
        };
        let units = match unit {
            Some(u) => {
                a.check_unit(u)?;
                Some(subtree(&s, u))
            }
            None => None,
        };
        let totals = Table::from_frame(&a.totals(&scope)?);
        let succession = Succession::compute(&s, cfg, units.as_ref())?;
        when.push(end.to_rfc3339());
        headcount.push(
            s.active_employees()
                .filter(|e| {
                    e.org_unit_id
                        .as_ref()
                        .is_some_and(|o| units.as_ref().is_none_or(|u| u.contains(o)))
                })
                .count() as u32,
        );
        figures[0].push(value(&totals, "mean_gap"));
        figures[1].push(value(&totals, "coverage"));
        figures[2].push(value(&totals, "staleness"));
        figures[3].push(succession.summary.coverage);
        figures[4].push(succession.summary.mean_bench_strength);
        figures[5].push(Some(succession.summary.red as f64));
    }
    let names = [
        "mean_gap",
        "coverage",
        "staleness",
        "succession_coverage",
        "mean_bench_strength",
        "positions_at_risk",
    ];
    let mut columns: Vec<Column> = vec![
        Column::new("as_of".into(), when),
        Column::new("headcount".into(), headcount),
    ];
    for (name, vals) in names.iter().zip(&figures) {
        let change: Vec<Option<f64>> = std::iter::once(None)
            .chain(vals.windows(2).map(|w| w[0].zip(w[1]).map(|(a, b)| b - a)))
            .collect();
        columns.push(Column::new((*name).into(), vals.clone()));
        columns.push(Column::new(format!("{name}_change").into(), change));
    }
    Ok(DataFrame::new_infer_height(columns)?)
}

/// The history of one position's succession plan.
#[derive(Debug, Clone)]
pub struct PlanHistory {
    /// Every nomination and withdrawal: `at, candidate_id, action, stated_readiness`.
    pub events: DataFrame,
    /// Computed readiness of each candidate at each month end:
    /// `as_of, candidate_id, nominated, role_fit, computed_readiness`.
    pub readiness: DataFrame,
}

/// How a position's plan changed and how its candidates' computed readiness moved.
pub fn plan_history(
    t: &dyn Snapshots,
    policy: &LevelPolicy,
    cfg: &AnalyticsConfig,
    as_of: DateTime<Utc>,
    months: u32,
    position: &str,
) -> Result<PlanHistory, AnalyticsError> {
    let now = t.snapshot_at(as_of, policy);
    let Some(p) = now.positions.get(position) else {
        return Err(AnalyticsError::UnknownPosition(position.to_string()));
    };
    let units: BTreeSet<String> = [p.org_unit_id.clone()].into();
    let ev: Vec<_> = now
        .plan_events
        .iter()
        .filter(|e| e.position_id == position)
        .collect();
    let events = df!(
        "at" => ev.iter().map(|e| e.at.to_rfc3339()).collect::<Vec<_>>(),
        "candidate_id" => ev.iter().map(|e| e.candidate_id.as_str()).collect::<Vec<_>>(),
        "action" => ev.iter().map(|e| if e.readiness.is_some() { "nominated" } else { "withdrawn" }).collect::<Vec<_>>(),
        "stated_readiness" => ev.iter().map(|e| e.readiness.map(readiness_name)).collect::<Vec<_>>(),
    )?;
    let mut frames = Vec::new();
    for end in month_ends(as_of, months) {
        let s = t.snapshot_at(end, policy);
        let out = Succession::compute(&s, cfg, Some(&units))?;
        let label = end.to_rfc3339();
        frames.push(
            out.candidates
                .lazy()
                .filter(col("position_id").eq(lit(position)))
                .select([
                    lit(label).alias("as_of"),
                    col("candidate_id"),
                    col("nominated"),
                    col("role_fit"),
                    col("computed_readiness"),
                ]),
        );
    }
    let readiness = if frames.is_empty() {
        DataFrame::empty()
    } else {
        concat(frames, UnionArgs::default())?.collect()?
    };
    Ok(PlanHistory { events, readiness })
}
