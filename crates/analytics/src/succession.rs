//! Succession pipelines: candidates, readiness, bench strength, coverage and risk.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cadre_model::Readiness;
use cadre_projection::Snapshot;
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use crate::{AnalyticsConfig, AnalyticsError};

/// The wire name of a readiness band.
pub fn readiness_name(r: Readiness) -> &'static str {
    match r {
        Readiness::ReadyNow => "ready_now",
        Readiness::Ready1To2Years => "ready_1_2_years",
        Readiness::Ready3PlusYears => "ready_3_plus_years",
        Readiness::NotReady => "not_ready",
    }
}

/// The band a role fit and a latest performance rating give.
pub fn computed_readiness(fit: f64, performance: Option<u8>, cfg: &AnalyticsConfig) -> Readiness {
    let band = if fit >= cfg.ready_now {
        Readiness::ReadyNow
    } else if fit >= cfg.ready_1_2_years {
        Readiness::Ready1To2Years
    } else if fit >= cfg.ready_3_plus_years {
        Readiness::Ready3PlusYears
    } else {
        Readiness::NotReady
    };
    match performance {
        Some(p) if p < cfg.performance_floor => match band {
            Readiness::ReadyNow => Readiness::Ready1To2Years,
            Readiness::Ready1To2Years => Readiness::Ready3PlusYears,
            _ => Readiness::NotReady,
        },
        _ => band,
    }
}

/// Totals over every critical position in scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuccessionSummary {
    /// Critical positions in scope.
    pub critical_positions: usize,
    /// Of those, how many have at least one ready-now candidate.
    pub with_ready_now: usize,
    /// with_ready_now / critical_positions; none without critical positions.
    pub coverage: Option<f64>,
    /// Positions with nobody ready now or in 1–2 years.
    pub red: usize,
    /// Positions with nobody ready now but someone in 1–2 years.
    pub amber: usize,
    /// Critical positions with no active incumbent.
    pub vacant: usize,
    /// Mean bench strength per critical position.
    pub mean_bench_strength: Option<f64>,
    /// Candidates nominated for at least the configured number of positions, with the count.
    pub over_nominated: Vec<(String, usize)>,
    /// Positions whose incumbent has announced leaving and that have no successor ready now or in 1–2 years.
    pub leaving_without_successor: Vec<String>,
}

/// The succession picture as of one snapshot.
#[derive(Debug, Clone)]
pub struct Succession {
    /// One row per critical position; see [`Succession::compute`].
    pub positions: DataFrame,
    /// One row per (critical position, candidate).
    pub candidates: DataFrame,
    /// Totals.
    pub summary: SuccessionSummary,
}

/// Role fit of every active employee for every role in `roles`: a row per
/// active employee (in snapshot order), a column per role with a profile
/// that has requirements, and each column's employees best first.
///
/// Each fit is the formula of the gap tables' role fit (docs/metrics.md),
/// summed in the order of the role's requirements: an employee is looked up
/// once per competency they have a level in, not once per requirement.
struct Fits<'s> {
    /// Column of each role.
    columns: HashMap<&'s str, usize>,
    /// The active employees, one per row.
    active: Vec<&'s cadre_projection::EmployeeState>,
    /// Row of each active employee.
    rows: HashMap<&'s str, usize>,
    /// `fits[row * columns.len() + column]`.
    fits: Vec<f64>,
    /// Per column, the best active employees with their fit: fit descending,
    /// then id; as many as the role's holders and `top` more.
    ranked: Vec<Vec<(&'s str, f64)>>,
}

impl<'s> Fits<'s> {
    /// The fits of every active employee for `roles`, each role's ranking
    /// kept as deep as a list of `top` candidates outside the role can reach.
    fn new(s: &'s Snapshot, roles: &BTreeSet<&str>, top: usize) -> Fits<'s> {
        let profiles: Vec<(&'s str, &'s [cadre_model::Requirement])> = s
            .roles
            .iter()
            .filter(|(id, p)| roles.contains(id.as_str()) && !p.requirements.is_empty())
            .map(|(id, p)| (id.as_str(), p.requirements.as_slice()))
            .collect();
        let width = profiles.len();
        // every requirement of those roles side by side; where each competency sits
        let reqs: Vec<&cadre_model::Requirement> =
            profiles.iter().flat_map(|(_, r)| r.iter()).collect();
        let mut slots: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, q) in reqs.iter().enumerate() {
            slots.entry(q.competency_id.as_str()).or_default().push(i);
        }
        let active: Vec<&'s cadre_projection::EmployeeState> = s.active_employees().collect();
        let mut fits = vec![0.0; active.len() * width];
        if width > 0 {
            fits.par_chunks_mut(width)
                .zip(active.par_iter())
                .for_each_init(
                    || vec![0.0; reqs.len()],
                    |levels, (out, e)| {
                        // an unassessed competency counts as level 0
                        levels.fill(0.0);
                        for (c, l) in &e.levels {
                            for &i in slots.get(&**c).map(Vec::as_slice).unwrap_or_default() {
                                levels[i] = l.level;
                            }
                        }
                        let mut at = 0;
                        for (column, (_, role_reqs)) in profiles.iter().enumerate() {
                            let (mut shortfall, mut possible) = (0.0, 0.0);
                            for (q, level) in role_reqs.iter().zip(&levels[at..]) {
                                let required = f64::from(q.level);
                                let gap = (required - level).max(0.0);
                                shortfall += q.weight * gap.min(required);
                                possible += q.weight * required;
                            }
                            at += role_reqs.len();
                            out[column] = if possible > 0.0 {
                                1.0 - shortfall / possible
                            } else {
                                1.0
                            };
                        }
                    },
                );
        }
        // fit descending, then id: a total order, so the best `keep` found
        // by selection are the head of the whole list sorted
        let order =
            |a: &(&str, f64), b: &(&str, f64)| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0));
        let ranked = profiles
            .iter()
            .enumerate()
            .map(|(column, (role, _))| {
                let mut v: Vec<(&'s str, f64)> = active
                    .iter()
                    .enumerate()
                    .map(|(row, e)| (e.id.as_str(), fits[row * width + column]))
                    .collect();
                // a position's list skips those already in the role, then
                // takes `top`: no more than that many are ever read
                let holders = active
                    .iter()
                    .filter(|e| e.role_id.as_deref() == Some(*role))
                    .count();
                let keep = top.saturating_add(holders);
                if keep < v.len() {
                    v.select_nth_unstable_by(keep, order);
                    v.truncate(keep);
                }
                v.par_sort_unstable_by(order);
                v
            })
            .collect();
        Fits {
            columns: profiles
                .iter()
                .enumerate()
                .map(|(i, (id, _))| (*id, i))
                .collect(),
            rows: active
                .iter()
                .enumerate()
                .map(|(i, e)| (e.id.as_str(), i))
                .collect(),
            active,
            fits,
            ranked,
        }
    }

    /// An active employee by id.
    fn employee(&self, id: &str) -> Option<&'s cadre_projection::EmployeeState> {
        self.rows.get(id).map(|&r| self.active[r])
    }

    /// The best fits for `role`, best first (empty for a role without requirements).
    fn best(&self, role: &str) -> &[(&'s str, f64)] {
        self.columns
            .get(role)
            .map_or(&[], |&c| self.ranked[c].as_slice())
    }

    /// One employee's fit for `role`; 0 when either is unknown.
    fn of(&self, role: &str, employee: &str) -> f64 {
        match (self.columns.get(role), self.rows.get(employee)) {
            (Some(&c), Some(&r)) => self.fits[r * self.columns.len() + c],
            _ => 0.0,
        }
    }
}

/// A person on a position's candidate list.
struct Candidacy {
    id: String,
    nominated: bool,
    stated: Option<Readiness>,
}

struct PositionRow<'a> {
    id: &'a str,
    position: &'a cadre_model::PositionDefined,
    incumbent: Option<String>,
    leaving_on: Option<String>,
    /// Candidates per computed band, in `Readiness` order.
    bands: [usize; 4],
    bench: usize,
    discounted: f64,
    risk: &'static str,
}

struct CandidateRow {
    position: String,
    candidate: String,
    name: String,
    nominated: bool,
    stated: Option<Readiness>,
    fit: f64,
    computed: Readiness,
    performance: Option<u8>,
    candidacies: usize,
}

impl Succession {
    /// Computes succession for the critical positions in `units` (all when `None`).
    ///
    /// Positions columns: `position_id, title, org_unit_id, role_id,
    /// incumbent_id, incumbent_name, incumbent_leaving_on, vacant, candidates, ready_now,
    /// ready_1_2_years, ready_3_plus_years, not_ready, bench_strength,
    /// discounted_bench, risk`.
    ///
    /// Candidates columns: `position_id, candidate_id, name, nominated,
    /// stated_readiness, role_fit, computed_readiness, performance,
    /// disagreement, candidacies`.
    pub fn compute(
        s: &Snapshot,
        cfg: &AnalyticsConfig,
        units: Option<&BTreeSet<String>>,
    ) -> Result<Succession, AnalyticsError> {
        let critical: Vec<(&String, &cadre_model::PositionDefined)> = s
            .positions
            .iter()
            .filter(|(_, p)| p.critical)
            .filter(|(_, p)| units.is_none_or(|u| u.contains(&p.org_unit_id)))
            .collect();
        let roles: BTreeSet<&str> = critical.iter().map(|(_, p)| p.role_id.as_str()).collect();
        let fits = Fits::new(s, &roles, cfg.top_candidates);
        let nominations: BTreeMap<&str, Vec<&cadre_projection::Nomination>> =
            s.nominations.iter().fold(BTreeMap::new(), |mut m, n| {
                m.entry(n.position_id.as_str()).or_default().push(n);
                m
            });

        // candidates per position: nominated (standing) ∪ best fits not
        // already in its role (a peer in the same role elsewhere is a lateral
        // move, not a successor in the pipeline)
        let mut per_position: Vec<(&String, Vec<Candidacy>)> = Vec::new();
        for (id, p) in &critical {
            let mut cands: Vec<Candidacy> = nominations
                .get(id.as_str())
                .map(|ns| {
                    ns.iter()
                        .filter(|n| fits.employee(&n.candidate_id).is_some())
                        .map(|n| Candidacy {
                            id: n.candidate_id.clone(),
                            nominated: true,
                            stated: Some(n.readiness),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut added = 0;
            for (e, _) in fits.best(&p.role_id) {
                if added == cfg.top_candidates {
                    break;
                }
                if fits
                    .employee(e)
                    .is_some_and(|x| x.role_id.as_deref() == Some(p.role_id.as_str()))
                {
                    continue;
                }
                added += 1;
                if !cands.iter().any(|c| c.id == *e) {
                    cands.push(Candidacy {
                        id: (*e).to_string(),
                        nominated: false,
                        stated: None,
                    });
                }
            }
            per_position.push((id, cands));
        }
        let mut candidacies: HashMap<String, usize> = HashMap::new();
        for (_, cands) in &per_position {
            for c in cands {
                *candidacies.entry(c.id.clone()).or_default() += 1;
            }
        }

        // the incumbent of each position: the first active employee (by id) holding it
        let mut incumbents: HashMap<&str, &cadre_projection::EmployeeState> = HashMap::new();
        for e in s.active_employees() {
            if let Some(p) = e.position_id.as_deref() {
                incumbents.entry(p).or_insert(e);
            }
        }
        let mut rows: Vec<CandidateRow> = Vec::new();
        let mut pos_rows = Vec::new();
        let mut summary = SuccessionSummary {
            critical_positions: critical.len(),
            with_ready_now: 0,
            coverage: None,
            red: 0,
            amber: 0,
            vacant: 0,
            mean_bench_strength: None,
            over_nominated: Vec::new(),
            leaving_without_successor: Vec::new(),
        };
        let mut bench_total = 0usize;
        for ((id, p), (_, cands)) in critical.iter().zip(&per_position) {
            let incumbent = incumbents.get(id.as_str()).copied();
            let mut counts = [0usize; 4];
            let mut discounted = 0.0;
            for Candidacy {
                id: c,
                nominated,
                stated,
            } in cands
            {
                let e = fits.employee(c).expect("candidates are active employees");
                let fit = fits.of(&p.role_id, c);
                let computed = computed_readiness(fit, e.performance, cfg);
                counts[computed as usize] += 1;
                let n = candidacies[c];
                if matches!(computed, Readiness::ReadyNow | Readiness::Ready1To2Years) {
                    discounted += 1.0 / n as f64;
                }
                rows.push(CandidateRow {
                    position: (*id).clone(),
                    candidate: c.clone(),
                    name: e.name.clone(),
                    nominated: *nominated,
                    stated: *stated,
                    fit,
                    computed,
                    performance: e.performance,
                    candidacies: n,
                });
            }
            let bench = counts[0] + counts[1];
            bench_total += bench;
            let risk = if counts[0] > 0 {
                "green"
            } else if counts[1] > 0 {
                "amber"
            } else {
                "red"
            };
            match risk {
                "red" => summary.red += 1,
                "amber" => summary.amber += 1,
                _ => summary.with_ready_now += 1,
            }
            let leaving_on = incumbent
                .and_then(|i| i.leaving_on)
                .filter(|d| *d > s.as_of.date_naive());
            if leaving_on.is_some() && bench == 0 {
                summary.leaving_without_successor.push((*id).clone());
            }
            if incumbent.is_none() {
                summary.vacant += 1;
            }
            pos_rows.push(PositionRow {
                id,
                position: p,
                incumbent: incumbent.map(|i| i.id.clone()),
                leaving_on: leaving_on.map(|d| d.to_string()),
                bands: counts,
                bench,
                discounted,
                risk,
            });
        }
        if !critical.is_empty() {
            summary.coverage = Some(summary.with_ready_now as f64 / critical.len() as f64);
            summary.mean_bench_strength = Some(bench_total as f64 / critical.len() as f64);
        }
        let mut nominated_for: BTreeMap<&str, usize> = BTreeMap::new();
        for n in &s.nominations {
            *nominated_for.entry(n.candidate_id.as_str()).or_default() += 1;
        }
        summary.over_nominated = nominated_for
            .into_iter()
            .filter(|(_, k)| *k >= cfg.over_nominated)
            .map(|(c, k)| (c.to_string(), k))
            .collect();

        let positions = df!(
            "position_id" => pos_rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            "title" => pos_rows.iter().map(|r| r.position.title.as_str()).collect::<Vec<_>>(),
            "org_unit_id" => pos_rows.iter().map(|r| r.position.org_unit_id.as_str()).collect::<Vec<_>>(),
            "role_id" => pos_rows.iter().map(|r| r.position.role_id.as_str()).collect::<Vec<_>>(),
            "incumbent_id" => pos_rows.iter().map(|r| r.incumbent.as_deref()).collect::<Vec<_>>(),
            "incumbent_name" => pos_rows.iter().map(|r| r.incumbent.as_deref().and_then(|i| fits.employee(i)).map(|e| e.name.as_str())).collect::<Vec<_>>(),
            "incumbent_leaving_on" => pos_rows.iter().map(|r| r.leaving_on.as_deref()).collect::<Vec<_>>(),
            "vacant" => pos_rows.iter().map(|r| r.incumbent.is_none()).collect::<Vec<_>>(),
            "candidates" => pos_rows.iter().map(|r| r.bands.iter().sum::<usize>() as u32).collect::<Vec<_>>(),
            "ready_now" => pos_rows.iter().map(|r| r.bands[0] as u32).collect::<Vec<_>>(),
            "ready_1_2_years" => pos_rows.iter().map(|r| r.bands[1] as u32).collect::<Vec<_>>(),
            "ready_3_plus_years" => pos_rows.iter().map(|r| r.bands[2] as u32).collect::<Vec<_>>(),
            "not_ready" => pos_rows.iter().map(|r| r.bands[3] as u32).collect::<Vec<_>>(),
            "bench_strength" => pos_rows.iter().map(|r| r.bench as u32).collect::<Vec<_>>(),
            "discounted_bench" => pos_rows.iter().map(|r| r.discounted).collect::<Vec<_>>(),
            "risk" => pos_rows.iter().map(|r| r.risk).collect::<Vec<_>>(),
        )?;
        let candidates = df!(
            "position_id" => rows.iter().map(|r| r.position.as_str()).collect::<Vec<_>>(),
            "candidate_id" => rows.iter().map(|r| r.candidate.as_str()).collect::<Vec<_>>(),
            "name" => rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            "nominated" => rows.iter().map(|r| r.nominated).collect::<Vec<_>>(),
            "stated_readiness" => rows.iter().map(|r| r.stated.map(readiness_name)).collect::<Vec<_>>(),
            "role_fit" => rows.iter().map(|r| r.fit).collect::<Vec<_>>(),
            "computed_readiness" => rows.iter().map(|r| readiness_name(r.computed)).collect::<Vec<_>>(),
            "performance" => rows.iter().map(|r| r.performance.map(u32::from)).collect::<Vec<_>>(),
            "disagreement" => rows.iter().map(|r| r.stated.is_some_and(|s| s != r.computed)).collect::<Vec<_>>(),
            "candidacies" => rows.iter().map(|r| r.candidacies as u32).collect::<Vec<_>>(),
        )?;
        Ok(Succession {
            positions,
            candidates,
            summary,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ranking_cut_to_what_the_lists_read_is_the_head_of_the_whole() {
        let s = crate::generated::snapshot(600, 5);
        let roles: BTreeSet<&str> = s.roles.keys().map(String::as_str).collect();
        let whole = Fits::new(&s, &roles, usize::MAX);
        let cut = Fits::new(&s, &roles, 3);
        let active = s.active_employees().count();
        let mut shorter = 0;
        for role in &roles {
            let (w, c) = (whole.best(role), cut.best(role));
            if w.is_empty() {
                continue;
            }
            assert_eq!(w.len(), active, "{role}: the whole ranking");
            let holders = s
                .active_employees()
                .filter(|e| e.role_id.as_deref() == Some(*role))
                .count();
            assert_eq!(c.len(), active.min(3 + holders), "{role}: kept");
            assert_eq!(c, &w[..c.len()], "{role}: the head of the whole");
            shorter += usize::from(c.len() < w.len());
        }
        assert!(shorter > 0, "no ranking was cut");
    }
}
