//! Reports for leadership: the succession report.
//!
//! [`SuccessionReport::build`] gathers, from the event log as of a date, an
//! executive summary (succession coverage, positions at risk, and their
//! change since three months earlier), one section per critical position
//! (incumbent, candidates with stated and computed readiness, the
//! competency gaps that separate each candidate from the position's role,
//! and the courses that have developed those competencies) and the
//! definitions. [`SuccessionReport::to_html`] renders it as one printable
//! HTML page; [`html_to_pdf`] prints that page to PDF with headless
//! Chromium, so the PDF is exactly the page leadership sees.

mod pdf;

use std::collections::BTreeMap;

use cadre_analytics::{
    subtree, AnalyticsConfig, AnalyticsError, Succession, SuccessionSummary, Table,
};
use cadre_projection::{LevelPolicy, Snapshot, Timeline};
use chrono::{DateTime, Months, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

pub use pdf::{html_to_pdf, PdfError};

/// Errors building a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The analytics failed (unknown unit, ...).
    #[error(transparent)]
    Analytics(#[from] AnalyticsError),
}

/// Headline figures at one date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    /// The date.
    pub as_of: DateTime<Utc>,
    /// Coverage, risk, vacancies and bench strength at that date.
    pub summary: SuccessionSummary,
}

/// A competency where a candidate falls short of the position's role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shortfall {
    /// Competency name.
    pub competency: String,
    /// Level the role requires.
    pub required: u8,
    /// The candidate's effective level (0 when unassessed).
    pub effective: f64,
    /// Weight in the role.
    pub weight: f64,
    /// Courses that have developed this competency.
    pub courses: Vec<String>,
}

/// One candidate for a position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Employee id.
    pub candidate_id: String,
    /// Name.
    pub name: String,
    /// Whether formally nominated.
    pub nominated: bool,
    /// The nominator's readiness, if nominated.
    pub stated: Option<String>,
    /// Readiness computed from role fit and performance.
    pub computed: String,
    /// Role fit for the position's role.
    pub fit: f64,
    /// Gaps to the role, largest weighted gap first.
    pub shortfalls: Vec<Shortfall>,
}

/// One critical position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PositionSection {
    /// Position id.
    pub position_id: String,
    /// Title.
    pub title: String,
    /// Org unit name.
    pub unit: String,
    /// Incumbent name, if any.
    pub incumbent: Option<String>,
    /// The incumbent's announced last day.
    pub leaving_on: Option<String>,
    /// green, amber or red.
    pub risk: String,
    /// Candidates ready now or in 1–2 years.
    pub bench_strength: u64,
    /// Candidates, best fit first.
    pub candidates: Vec<Candidate>,
}

/// The succession report.
#[derive(Debug, Clone, PartialEq)]
pub struct SuccessionReport {
    /// What it covers: the org unit's name, or the organisation.
    pub scope: String,
    /// Figures at the report date.
    pub now: Headline,
    /// Figures three months earlier.
    pub before: Headline,
    /// Positions whose incumbent leaves with nobody on the bench.
    pub leaving_without_successor: Vec<String>,
    /// One section per critical position, red first.
    pub positions: Vec<PositionSection>,
    /// The thresholds in force, for the method page.
    pub config: AnalyticsConfig,
    /// The level policy in force, for the method page.
    pub policy: LevelPolicy,
}

fn text(r: &Map<String, Value>, k: &str) -> Option<String> {
    r.get(k).and_then(Value::as_str).map(str::to_string)
}

fn headline(s: &Snapshot, out: &Succession) -> Headline {
    Headline {
        as_of: s.as_of,
        summary: out.summary.clone(),
    }
}

impl SuccessionReport {
    /// Leaves out every candidacy of one employee: nobody reads their own
    /// nominations or readiness.
    pub fn without_candidate(self, employee: &str) -> SuccessionReport {
        self.only_candidates(|c| c != employee)
    }

    /// The report listing only the candidates `keep` allows (a scoped
    /// reader's own people); positions' counts still count every candidate.
    pub fn only_candidates(mut self, keep: impl Fn(&str) -> bool) -> SuccessionReport {
        for p in &mut self.positions {
            p.candidates.retain(|c| keep(&c.candidate_id));
        }
        self
    }

    /// Builds the report for the critical positions in `unit`'s subtree (all when none).
    pub fn build(
        t: &Timeline,
        policy: &LevelPolicy,
        cfg: &AnalyticsConfig,
        as_of: DateTime<Utc>,
        unit: Option<&str>,
    ) -> Result<SuccessionReport, ReportError> {
        let (s, out) = succession_at(t, policy, cfg, as_of, unit)?;
        let earlier = as_of.checked_sub_months(Months::new(3)).unwrap_or(as_of);
        let (s0, out0) = succession_at(t, policy, cfg, earlier, unit)?;
        let positions = sections(&s, &out);
        let leaving_without_successor = out
            .summary
            .leaving_without_successor
            .iter()
            .map(|p| s.positions.get(p).map_or(p.clone(), |x| x.title.clone()))
            .collect();
        Ok(SuccessionReport {
            scope: unit
                .and_then(|u| s.units.get(u))
                .map_or("the whole organisation".to_string(), |u| u.name.clone()),
            now: headline(&s, &out),
            before: headline(&s0, &out0),
            leaving_without_successor,
            positions,
            config: cfg.clone(),
            policy: policy.clone(),
        })
    }
}

/// One critical position's section as of a date, computed over its own org
/// unit only; `None` when the position is not critical.
pub fn position_section(
    t: &Timeline,
    policy: &LevelPolicy,
    cfg: &AnalyticsConfig,
    as_of: DateTime<Utc>,
    unit: &str,
    position: &str,
) -> Result<Option<PositionSection>, ReportError> {
    let (s, out) = succession_at(t, policy, cfg, as_of, Some(unit))?;
    Ok(sections(&s, &out)
        .into_iter()
        .find(|x| x.position_id == position))
}

/// The snapshot and succession of `unit`'s subtree (all when none) at a date.
fn succession_at(
    t: &Timeline,
    policy: &LevelPolicy,
    cfg: &AnalyticsConfig,
    at: DateTime<Utc>,
    unit: Option<&str>,
) -> Result<(Snapshot, Succession), ReportError> {
    let s = t.snapshot(at, policy);
    let units = match unit {
        Some(u) if !s.units.contains_key(u) => {
            return Err(AnalyticsError::UnknownUnit(u.to_string()).into())
        }
        Some(u) => Some(subtree(&s, u)),
        None => None,
    };
    let out = Succession::compute(&s, cfg, units.as_ref())?;
    Ok((s, out))
}

/// One section per critical position of a succession, red first.
fn sections(s: &Snapshot, out: &Succession) -> Vec<PositionSection> {
    let courses_for = course_index(s);
    let candidates = Table::from_frame(&out.candidates).records();
    let mut positions: Vec<PositionSection> = Table::from_frame(&out.positions)
        .records()
        .iter()
        .map(|p| {
            let id = text(p, "position_id").unwrap_or_default();
            let role = text(p, "role_id").unwrap_or_default();
            let unit_id = text(p, "org_unit_id").unwrap_or_default();
            let cands = candidates
                .iter()
                .filter(|c| text(c, "position_id").as_deref() == Some(id.as_str()))
                .map(|c| {
                    let cid = text(c, "candidate_id").unwrap_or_default();
                    Candidate {
                        candidate_id: cid.clone(),
                        name: text(c, "name").unwrap_or_else(|| cid.clone()),
                        nominated: c.get("nominated").and_then(Value::as_bool) == Some(true),
                        stated: text(c, "stated_readiness"),
                        computed: text(c, "computed_readiness").unwrap_or_default(),
                        fit: c.get("role_fit").and_then(Value::as_f64).unwrap_or(0.0),
                        shortfalls: shortfalls(s, &cid, &role, &courses_for),
                    }
                })
                .collect();
            PositionSection {
                position_id: id.clone(),
                title: text(p, "title").unwrap_or_else(|| id.clone()),
                unit: s
                    .units
                    .get(&unit_id)
                    .map_or(unit_id.clone(), |u| u.name.clone()),
                incumbent: text(p, "incumbent_name"),
                leaving_on: text(p, "incumbent_leaving_on"),
                risk: text(p, "risk").unwrap_or_default(),
                bench_strength: p.get("bench_strength").and_then(Value::as_u64).unwrap_or(0),
                candidates: cands,
            }
        })
        .collect();
    let order = |r: &str| match r {
        "red" => 0,
        "amber" => 1,
        _ => 2,
    };
    positions.sort_by(|a, b| {
        order(&a.risk)
            .cmp(&order(&b.risk))
            .then(a.title.cmp(&b.title))
    });
    positions
}

/// Course titles by the competency they have developed, from every training on record.
fn course_index(s: &Snapshot) -> BTreeMap<String, Vec<String>> {
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &s.employees {
        for t in &e.trainings {
            let title = s
                .courses
                .get(&t.course_id)
                .cloned()
                .unwrap_or_else(|| t.course_id.clone());
            let list = by.entry(t.competency_id.to_string()).or_default();
            if !list.contains(&title) {
                list.push(title);
            }
        }
    }
    for list in by.values_mut() {
        list.sort();
    }
    by
}

/// Where a candidate's effective levels fall short of a role's requirements,
/// largest weighted gap first (an unassessed competency counts as level 0).
fn shortfalls(
    s: &Snapshot,
    candidate: &str,
    role: &str,
    courses: &BTreeMap<String, Vec<String>>,
) -> Vec<Shortfall> {
    let (Some(e), Some(r)) = (
        s.employees.iter().find(|e| e.id == candidate),
        s.roles.get(role),
    ) else {
        return Vec::new();
    };
    let mut out: Vec<Shortfall> = r
        .requirements
        .iter()
        .filter_map(|q| {
            let effective = e
                .levels
                .get(q.competency_id.as_str())
                .map_or(0.0, |l| l.level);
            (effective < f64::from(q.level)).then(|| Shortfall {
                competency: s
                    .competencies
                    .get(&q.competency_id)
                    .map_or(q.competency_id.clone(), |c| c.name.clone()),
                required: q.level,
                effective,
                weight: q.weight,
                courses: courses.get(&q.competency_id).cloned().unwrap_or_default(),
            })
        })
        .collect();
    let weighted = |x: &Shortfall| x.weight * (f64::from(x.required) - x.effective);
    out.sort_by(|a, b| {
        weighted(b)
            .total_cmp(&weighted(a))
            .then(a.competency.cmp(&b.competency))
    });
    out
}

mod html;

#[cfg(test)]
mod tests {
    use super::*;

    fn headline(at: &str, ready: usize) -> Headline {
        Headline {
            as_of: at.parse().unwrap(),
            summary: SuccessionSummary {
                critical_positions: 2,
                with_ready_now: ready,
                coverage: Some(ready as f64 / 2.0),
                red: 2 - ready,
                amber: 0,
                vacant: 0,
                mean_bench_strength: Some(1.0),
                over_nominated: vec![],
                leaving_without_successor: vec![],
            },
        }
    }

    fn report() -> SuccessionReport {
        let candidate = |id: &str, name: &str| Candidate {
            candidate_id: id.into(),
            name: name.into(),
            nominated: true,
            stated: Some("ready_now".into()),
            computed: "ready_1_2_years".into(),
            fit: 0.8,
            shortfalls: vec![Shortfall {
                competency: "Leadership & <integrity>".into(),
                required: 4,
                effective: 3.0,
                weight: 2.0,
                courses: vec!["Leading well".into()],
            }],
        };
        SuccessionReport {
            scope: "Housing".into(),
            now: headline("2026-06-30T23:59:59Z", 1),
            before: headline("2026-03-30T23:59:59Z", 0),
            leaving_without_successor: vec![],
            positions: vec![PositionSection {
                position_id: "p1".into(),
                title: "Director".into(),
                unit: "Housing".into(),
                incumbent: Some("Ann".into()),
                leaving_on: None,
                risk: "amber".into(),
                bench_strength: 2,
                candidates: vec![candidate("e1", "Bea"), candidate("e2", "Cal")],
            }],
            config: AnalyticsConfig {
                ready_now: 0.85,
                ..AnalyticsConfig::default()
            },
            policy: LevelPolicy::default(),
        }
    }

    #[test]
    fn the_page_escapes_text_and_states_the_thresholds_in_force() {
        let html = report().to_html();
        assert!(html.contains("Leadership &amp; &lt;integrity&gt; 3.0 → 4"));
        assert!(!html.contains("<integrity>"));
        assert!(
            html.contains("Fit ≥ 0.85 ready now"),
            "the configured threshold"
        );
        assert!(html.contains("+50 pts since"), "coverage 0% → 50%");
        assert!(html.contains("ready in 1–2 years"));
        assert!(html.contains("Leading well"));
    }

    #[test]
    fn a_reader_never_sees_their_own_candidacy() {
        let r = report().without_candidate("e1");
        let names: Vec<&str> = r.positions[0]
            .candidates
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["Cal"]);
        assert!(!r.to_html().contains("Bea"));
    }
}
