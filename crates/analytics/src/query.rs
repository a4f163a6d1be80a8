//! Named queries: one definition of what `cadre query` prints and what `GET /v1/query/...` answers.

use cadre_projection::{Changed, LevelPolicy, Snapshot, Timeline};
use chrono::{DateTime, Utc};
use polars::prelude::{col, DataFrame, IntoLazy, SortMultipleOptions};
use serde::Serialize;
use serde_json::Value;

use crate::{
    course_effects, plan_history, subtree, trends, Analysis, AnalyticsConfig, AnalyticsError,
    Scope, Snapshots, Succession,
};

/// What to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueryKind {
    /// Gap roll-ups by competency, category, role and unit, per-employee fit, level distribution.
    Gaps,
    /// Competencies ranked by weighted gap and by Borich score, and the courses that address them.
    TrainingNeeds,
    /// Critical positions, candidates and the summary.
    Succession,
    /// The 9-box grid and its members.
    NineBox,
    /// Monthly trends.
    Trends,
    /// One employee's personal development list (needs `employee`).
    Development,
    /// One position's plan history (needs `position`).
    Plan,
}

impl QueryKind {
    /// All kinds, in the order `--help` lists them.
    pub const ALL: [QueryKind; 7] = [
        QueryKind::Gaps,
        QueryKind::TrainingNeeds,
        QueryKind::Succession,
        QueryKind::NineBox,
        QueryKind::Trends,
        QueryKind::Development,
        QueryKind::Plan,
    ];

    /// The name used on the command line and in URLs.
    pub fn name(self) -> &'static str {
        match self {
            QueryKind::Gaps => "gaps",
            QueryKind::TrainingNeeds => "training-needs",
            QueryKind::Succession => "succession",
            QueryKind::NineBox => "nine-box",
            QueryKind::Trends => "trends",
            QueryKind::Development => "development",
            QueryKind::Plan => "plan",
        }
    }

    /// What it answers, for `--help`.
    pub fn help(self) -> &'static str {
        match self {
            QueryKind::Gaps => "gap roll-ups by competency, category, role and unit; each employee's fit; level distribution",
            QueryKind::TrainingNeeds => "competencies ranked by weighted gap and Borich score, and the courses that address them",
            QueryKind::Succession => "critical positions, their candidates, bench strength and risk",
            QueryKind::NineBox => "the 9-box grid of performance and potential, and its members",
            QueryKind::Trends => "monthly figures and their change (--months)",
            QueryKind::Development => "one employee's development list (needs --employee)",
            QueryKind::Plan => "one position's plan history (needs --position)",
        }
    }

    /// Looks a name up.
    pub fn parse(name: &str) -> Option<QueryKind> {
        QueryKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The command line's view of the kinds, from the same table: `cadre query
/// --help` lists each with what it answers.
impl clap::ValueEnum for QueryKind {
    fn value_variants<'a>() -> &'a [Self] {
        &QueryKind::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()).help(self.help()))
    }
}

/// A query and its parameters.
#[derive(Debug, Clone)]
pub struct QueryRequest {
    /// What to compute.
    pub kind: QueryKind,
    /// Which pairs (org unit subtree, category, role).
    pub scope: Scope,
    /// As of when.
    pub as_of: DateTime<Utc>,
    /// How many months of trends or plan history.
    pub months: u32,
    /// The employee, for `development`.
    pub employee: Option<String>,
    /// The position, for `plan`.
    pub position: Option<String>,
}

/// Named tables and an optional summary.
#[derive(Debug, Clone)]
pub struct QueryOutput {
    /// The request's as-of moment.
    pub as_of: DateTime<Utc>,
    /// The kind computed.
    pub kind: QueryKind,
    /// Tables, the main one first.
    pub tables: Vec<(String, DataFrame)>,
    /// Totals that are not a table (succession).
    pub summary: Option<Value>,
}

/// Tables of any query whose rows are named individuals (one row a
/// person), as opposed to figures about groups.
const INDIVIDUAL_TABLES: [&str; 3] = ["employees", "members", "development"];

impl QueryOutput {
    /// Whether the table `name` of an answer lists named individuals, one
    /// row a person (the employees of `gaps`, the members of `nine-box`, a
    /// person's `development` list); succession's and plan's tables name
    /// candidates too, which [`QueryOutput::names_people`] counts.
    pub fn names_individuals(name: &str) -> bool {
        INDIVIDUAL_TABLES.contains(&name)
    }

    /// Whether anything in the answer names a person: a table of
    /// individuals, or the candidates of succession and plan history.
    pub fn names_people(&self) -> bool {
        matches!(
            self.kind,
            QueryKind::Succession | QueryKind::Plan | QueryKind::Development
        ) || self
            .tables
            .iter()
            .any(|(n, _)| QueryOutput::names_individuals(n))
    }

    /// The JSON answer: `{"kind", "as_of", "summary", "tables": {name: {"columns", "rows"}}}`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("an answer serializes")
    }

    /// Writes [`QueryOutput::to_json`]'s answer, pretty-printed, straight
    /// from the frames: the same text as printing the value, without
    /// building it (a gaps answer at 100,000 employees is 40 MB of JSON).
    pub fn write_json_pretty(&self, w: impl std::io::Write) -> serde_json::Result<()> {
        serde_json::to_writer_pretty(w, self)
    }
}

/// The answer's keys in the order a JSON object keeps them (sorted by
/// name), so that the answer written straight and the answer as a value
/// print the same text.
impl serde::Serialize for QueryOutput {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut tables: Vec<(&str, &DataFrame)> =
            self.tables.iter().map(|(n, df)| (n.as_str(), df)).collect();
        tables.sort_by_key(|(name, _)| *name);
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("as_of", &self.as_of.to_rfc3339())?;
        m.serialize_entry("kind", &self.kind)?;
        m.serialize_entry("summary", &self.summary)?;
        m.serialize_entry("tables", &crate::table::Tables(&tables))?;
        m.end()
    }
}

/// What every query of one date starts from: the snapshot of the timeline
/// as of that date and the pairs and people frames built from it. Queries of
/// the same date can share one (as the ClickHouse export does).
#[derive(Debug, Clone)]
pub struct Prepared {
    snapshot: Snapshot,
    analysis: Analysis,
    /// How many events the timeline had applied when it was made.
    applied: u64,
}

/// At most how many changed employees [`Prepared::refresh`] takes one by one.
const REFRESH_EMPLOYEES: usize = 32;

impl Prepared {
    /// Takes the snapshot as of `as_of` and builds the frames.
    pub fn new(
        t: &Timeline,
        policy: &LevelPolicy,
        cfg: &AnalyticsConfig,
        as_of: DateTime<Utc>,
    ) -> Result<Prepared, AnalyticsError> {
        let snapshot = t.snapshot(as_of, policy);
        let analysis = Analysis::with_config(&snapshot, cfg.clone())?;
        Ok(Prepared {
            snapshot,
            analysis,
            applied: t.applied(),
        })
    }

    /// From a snapshot alone, for one query (it cannot be refreshed).
    fn of_snapshot(snapshot: Snapshot, cfg: &AnalyticsConfig) -> Result<Prepared, AnalyticsError> {
        let analysis = Analysis::with_config(&snapshot, cfg.clone())?;
        Ok(Prepared {
            snapshot,
            analysis,
            applied: 0,
        })
    }

    /// Brings it up to date with `t`, the timeline it was made from after
    /// more events: when those events touched only a few employees' own
    /// histories (and `t` tracks changes, [`Timeline::track_changes`]), just
    /// those employees are taken again; otherwise it is made anew. Either
    /// way it then equals `Prepared::new` of its date.
    pub fn refresh(
        &mut self,
        t: &Timeline,
        policy: &LevelPolicy,
        cfg: &AnalyticsConfig,
    ) -> Result<(), AnalyticsError> {
        match t.changes_since(self.applied) {
            // each employee's refresh copies the whole pairs frame once, so
            // beyond a few employees making it anew is cheaper
            Changed::Employees(ids) if ids.len() <= REFRESH_EMPLOYEES => {
                for id in &ids {
                    self.snapshot.refresh_employee(t, policy, id);
                    self.analysis.refresh_employee(&self.snapshot, id)?;
                }
                self.applied = t.applied();
            }
            _ => *self = Prepared::new(t, policy, cfg, self.as_of())?,
        }
        Ok(())
    }

    /// The date it describes.
    pub fn as_of(&self) -> DateTime<Utc> {
        self.snapshot.as_of
    }

    /// The organisation as of its date.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The frames built from the snapshot.
    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }
}

/// Runs a query against the timeline.
pub fn run_query(
    t: &Timeline,
    policy: &LevelPolicy,
    cfg: &AnalyticsConfig,
    q: &QueryRequest,
) -> Result<QueryOutput, AnalyticsError> {
    run_prepared(&Prepared::new(t, policy, cfg, q.as_of)?, t, policy, cfg, q)
}

/// Runs a query from a [`Prepared`] of its date (of the same timeline,
/// policy and thresholds); the same answer as [`run_query`]. A `prepared`
/// of another date is not used. Only trends, plan history and another date
/// read `t`, a snapshot at a time.
pub fn run_prepared(
    prepared: &Prepared,
    t: &dyn Snapshots,
    policy: &LevelPolicy,
    cfg: &AnalyticsConfig,
    q: &QueryRequest,
) -> Result<QueryOutput, AnalyticsError> {
    if prepared.as_of() != q.as_of {
        let of_date = Prepared::of_snapshot(t.snapshot_at(q.as_of, policy), cfg)?;
        return run_prepared(&of_date, t, policy, cfg, q);
    }
    let (s, a) = (&prepared.snapshot, &prepared.analysis);
    let unit = q.scope.org_unit.as_deref();
    if let Some(u) = unit {
        a.check_unit(u)?;
    }
    let mut summary = None;
    let tables: Vec<(&str, DataFrame)> = match q.kind {
        QueryKind::Gaps => {
            let units = a.by_unit()?;
            let units = match unit {
                Some(u) => {
                    let inside: Vec<String> = subtree(s, u).into_iter().collect();
                    let inside = polars::df!("unit_id" => inside)?;
                    units
                        .lazy()
                        .inner_join(inside.lazy(), col("unit_id"), col("unit_id"))
                        .sort(["unit_id"], SortMultipleOptions::default())
                        .collect()?
                }
                None => units,
            };
            vec![
                ("competencies", a.by_competency(&q.scope)?),
                ("categories", a.by_category(&q.scope)?),
                ("roles", a.by_role(&q.scope)?),
                ("units", units),
                ("employees", a.employees(unit)?),
                ("distribution", a.level_distribution(&q.scope)?),
            ]
        }
        QueryKind::TrainingNeeds => vec![
            ("needs", a.training_needs(&q.scope)?),
            ("courses", course_effects(s, unit)?),
        ],
        QueryKind::Succession => {
            let units = unit.map(|u| subtree(s, u));
            let out = Succession::compute(s, cfg, units.as_ref())?;
            summary = Some(serde_json::to_value(&out.summary).expect("summary serializes"));
            vec![("positions", out.positions), ("candidates", out.candidates)]
        }
        QueryKind::NineBox => vec![
            ("boxes", a.nine_box(unit)?),
            ("members", a.nine_box_members(unit)?),
        ],
        QueryKind::Trends => vec![("trends", trends(t, policy, cfg, q.as_of, q.months, unit)?)],
        QueryKind::Development => {
            let e = q
                .employee
                .as_deref()
                .ok_or(AnalyticsError::Missing("employee"))?;
            if !s.employees.iter().any(|x| x.id == e) {
                return Err(AnalyticsError::UnknownEmployee(e.to_string()));
            }
            vec![("development", a.development_list(e)?)]
        }
        QueryKind::Plan => {
            let p = q
                .position
                .as_deref()
                .ok_or(AnalyticsError::Missing("position"))?;
            let h = plan_history(t, policy, cfg, q.as_of, q.months, p)?;
            vec![("events", h.events), ("readiness", h.readiness)]
        }
    };
    Ok(QueryOutput {
        as_of: q.as_of,
        kind: q.kind,
        tables: tables
            .into_iter()
            .map(|(n, d)| (n.to_string(), d))
            .collect(),
        summary,
    })
}

/// Parses an as-of parameter: `2026-01-31` (the end of that day, UTC), an
/// RFC 3339 instant, or nothing (now).
pub fn parse_as_of(s: Option<&str>) -> Result<DateTime<Utc>, String> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Utc::now());
    };
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(23, 59, 59).expect("valid time").and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("as-of date {s:?} is neither YYYY-MM-DD nor an RFC 3339 instant"))
}

/// Writes a frame as Parquet.
pub fn write_parquet(df: &DataFrame, w: impl std::io::Write) -> Result<(), AnalyticsError> {
    let mut df = df.clone();
    polars::prelude::ParquetWriter::new(w).finish(&mut df)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(kind: QueryKind, tables: &[&str]) -> QueryOutput {
        QueryOutput {
            as_of: Utc::now(),
            kind,
            tables: tables
                .iter()
                .map(|n| (n.to_string(), DataFrame::empty()))
                .collect(),
            summary: None,
        }
    }

    #[test]
    fn an_answer_says_whether_it_names_people() {
        let gaps = answer(
            QueryKind::Gaps,
            &[
                "competencies",
                "categories",
                "roles",
                "units",
                "employees",
                "distribution",
            ],
        );
        assert!(gaps.names_people());
        assert!(QueryOutput::names_individuals("employees"));
        assert!(!QueryOutput::names_individuals("competencies"));
        assert!(answer(QueryKind::NineBox, &["boxes", "members"]).names_people());
        // figures about groups only
        assert!(!answer(QueryKind::NineBox, &["boxes"]).names_people());
        assert!(!answer(QueryKind::Trends, &["trends"]).names_people());
        assert!(!answer(QueryKind::TrainingNeeds, &["needs", "courses"]).names_people());
        // candidates are people, whatever the tables are called
        assert!(answer(QueryKind::Succession, &["positions", "candidates"]).names_people());
        assert!(answer(QueryKind::Plan, &["events", "readiness"]).names_people());
    }
}
