//! What one export writes: the analytics of the projection at a moment, as tables.

use std::collections::BTreeMap;

use cadre_analytics::{month_ends, Analysis, AnalyticsConfig, AnalyticsError, Succession, Table};
use cadre_projection::{LevelPolicy, Snapshot, Timeline};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::warehouse::datetime_text;

/// Which export to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPlan {
    /// The instance's share of the employees.
    pub shard: String,
    /// Increasing id of this export within the shard.
    pub export_id: u64,
    /// The moment the figures are computed for.
    pub as_of: DateTime<Utc>,
    /// Whether to compute the succession tables (they need every employee).
    pub succession: bool,
    /// Whether to compute the per-person tables and the partial aggregates.
    pub partials: bool,
    /// Months of trend figures.
    pub trend_months: u32,
}

/// The tables of one export, ready to insert.
#[derive(Debug, Clone)]
pub struct Export {
    /// What was asked.
    pub plan: ExportPlan,
    /// Events folded into the projection the export was computed from.
    pub events: u64,
    /// Active employees.
    pub employees: u32,
    /// `(ClickHouse table, rows)`, in the order they are written.
    pub tables: Vec<(&'static str, Table)>,
}

fn table(columns: &[&str], rows: Vec<Vec<Value>>) -> Table {
    Table {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

/// Keeps the named columns of a table, in that order.
fn select(t: Table, columns: &[&str]) -> Table {
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| {
            t.column(c)
                .unwrap_or_else(|| panic!("analytics frame lacks {c}"))
        })
        .collect();
    Table {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows: t
            .rows
            .into_iter()
            .map(|r| idx.iter().map(|i| r[*i].clone()).collect())
            .collect(),
    }
}

fn units(s: &Snapshot) -> Table {
    let rows = s
        .units
        .values()
        .map(|u| {
            vec![
                json!(u.id),
                json!(u.name),
                json!(u.parent_id),
                json!(u.path.len()),
            ]
        })
        .collect();
    table(&["unit_id", "unit_name", "parent_id", "depth"], rows)
}

fn competencies(s: &Snapshot) -> Table {
    let rows = s
        .competencies
        .values()
        .map(|c| {
            vec![
                json!(c.id),
                json!(c.name),
                json!(c.category),
                json!(c.category_name),
                json!(c.framework_id),
            ]
        })
        .collect();
    table(
        &[
            "competency_id",
            "competency_name",
            "category",
            "category_name",
            "framework_id",
        ],
        rows,
    )
}

fn effective_levels(s: &Snapshot) -> Table {
    let rows = s
        .active_employees()
        .flat_map(|e| {
            e.levels.iter().map(|(c, l)| {
                vec![
                    json!(e.id),
                    json!(c),
                    json!(l.level),
                    json!(l.assessed()),
                    json!(l.provisional()),
                    json!(l.self_only),
                    json!(l.latest_assessment.map(datetime_text)),
                ]
            })
        })
        .collect();
    table(
        &[
            "employee_id",
            "competency_id",
            "level",
            "assessed",
            "provisional",
            "self_only",
            "latest_assessment",
        ],
        rows,
    )
}

/// The pair sums of a month's trend row, after `month_end, unit_id, headcount`.
const TREND_SUMS: [&str; 6] = [
    "required_pairs",
    "assessed_pairs",
    "levelled_pairs",
    "ever_assessed_pairs",
    "stale_pairs",
    "gap_sum",
];

/// One month's trend rows: the pair partials summed over competencies, per
/// unit, with the unit's headcount from the people partials.
fn trend_rows(pairs: &Table, people: &Table, month_end: &str, out: &mut Vec<Vec<Value>>) {
    let col = |t: &Table, c: &str| t.column(c).unwrap_or_else(|| panic!("partials lack {c}"));
    let unit = col(pairs, "unit_id");
    let idx: Vec<usize> = TREND_SUMS.iter().map(|c| col(pairs, c)).collect();
    let mut sums: BTreeMap<String, [f64; 6]> = BTreeMap::new();
    for r in &pairs.rows {
        let acc = sums
            .entry(r[unit].as_str().unwrap_or_default().to_string())
            .or_default();
        for (k, i) in idx.iter().enumerate() {
            acc[k] += r[*i].as_f64().unwrap_or(0.0);
        }
    }
    let (pu, ph) = (col(people, "unit_id"), col(people, "headcount"));
    for r in &people.rows {
        let id = r[pu].as_str().unwrap_or_default();
        let s = sums.get(id).copied().unwrap_or_default();
        let mut row = vec![json!(month_end), json!(id), r[ph].clone()];
        // counts as integers, the gap sum as a float
        row.extend(s[..5].iter().map(|v| json!(v.round() as u64)));
        row.push(json!(s[5]));
        out.push(row);
    }
}

/// One month's succession row.
fn succession_month(succ: &Succession, month_end: &str) -> Vec<Value> {
    let positions = Table::from_frame(&succ.positions);
    let bench: f64 = positions
        .column("bench_strength")
        .map(|i| positions.rows.iter().filter_map(|r| r[i].as_f64()).sum())
        .unwrap_or(0.0);
    let m = &succ.summary;
    vec![
        json!(month_end),
        json!(m.critical_positions),
        json!(m.with_ready_now),
        json!(m.red),
        json!(m.amber),
        json!(m.vacant),
        json!(bench),
    ]
}

/// Computes every table of an export from the timeline (blocking; polars).
///
/// The moment itself is the last month of the trends: its snapshot, partials
/// and succession are computed once and serve both.
pub fn derive(
    t: &Timeline,
    policy: &LevelPolicy,
    cfg: &AnalyticsConfig,
    plan: ExportPlan,
) -> Result<Export, AnalyticsError> {
    let s = t.snapshot(plan.as_of, policy);
    let a = Analysis::with_config(&s, cfg.clone())?;
    let mut tables: Vec<(&'static str, Table)> = vec![
        ("cadre_units", units(&s)),
        ("cadre_competencies", competencies(&s)),
    ];
    let partials = if plan.partials {
        Some((
            Table::from_frame(&a.pair_partials()?),
            Table::from_frame(&a.people_partials()?),
        ))
    } else {
        None
    };
    let succession = if plan.succession {
        Some(Succession::compute(&s, cfg, None)?)
    } else {
        None
    };
    let mut trend = Vec::new();
    let mut months = Vec::new();
    for end in month_ends(plan.as_of, plan.trend_months) {
        let when = datetime_text(end);
        if end == plan.as_of {
            if let Some((pairs, people)) = &partials {
                trend_rows(pairs, people, &when, &mut trend);
            }
            if let Some(succ) = &succession {
                months.push(succession_month(succ, &when));
            }
            continue;
        }
        let ms = t.snapshot(end, policy);
        if plan.partials {
            let ma = Analysis::with_config(&ms, cfg.clone())?;
            let pairs = Table::from_frame(&ma.pair_partials()?);
            let people = Table::from_frame(&ma.people_partials()?);
            trend_rows(&pairs, &people, &when, &mut trend);
        }
        if plan.succession {
            months.push(succession_month(
                &Succession::compute(&ms, cfg, None)?,
                &when,
            ));
        }
    }
    if let Some((pairs, people)) = partials {
        let mut trend_columns = vec!["month_end", "unit_id", "headcount"];
        trend_columns.extend(TREND_SUMS);
        tables.extend([
            ("cadre_employees", Table::from_frame(&a.employees(None)?)),
            ("cadre_effective_levels", effective_levels(&s)),
            (
                "cadre_gaps",
                select(
                    Table::from_frame(a.pairs()),
                    &[
                        "employee_id",
                        "org_unit_id",
                        "role_id",
                        "competency_id",
                        "category",
                        "required",
                        "weight",
                        "effective",
                        "assessed",
                        "provisional",
                        "gap",
                        "weighted_gap",
                        "meets",
                        "stale",
                        "self_only",
                    ],
                ),
            ),
            ("cadre_gap_partials", pairs),
            ("cadre_people_partials", people),
            ("cadre_trend_partials", table(&trend_columns, trend)),
        ]);
    }
    if let Some(succ) = succession {
        tables.push((
            "cadre_succession_positions",
            Table::from_frame(&succ.positions),
        ));
        tables.push((
            "cadre_succession_candidates",
            Table::from_frame(&succ.candidates),
        ));
        tables.push((
            "cadre_succession_months",
            table(
                &[
                    "month_end",
                    "critical_positions",
                    "with_ready_now",
                    "red",
                    "amber",
                    "vacant",
                    "bench_strength_sum",
                ],
                months,
            ),
        ));
    }
    Ok(Export {
        events: t.applied(),
        employees: s.active_employees().count() as u32,
        plan,
        tables,
    })
}
