//! The organisation as of one date.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use cadre_model::{PositionDefined, Potential, Readiness, RoleProfileDefined};
use chrono::{DateTime, NaiveDate, Utc};
use rayon::prelude::*;
use serde::Serialize;

use crate::by_competency::ByCompetency;
use crate::level::{effective_level, EffectiveLevel, LevelPolicy};
use crate::timeline::{EmployeeHistory, PlanChange, Timeline};

/// An org unit and its place in the tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitInfo {
    /// The unit's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Parent unit, if any.
    pub parent_id: Option<String>,
    /// Ids from the root down to this unit (inclusive).
    pub path: Vec<String>,
}

/// A competency with its framework and category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompetencyInfo {
    /// The competency id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Category id.
    pub category: String,
    /// Category display name.
    pub category_name: String,
    /// The framework that defines it.
    pub framework_id: String,
    /// The top of that framework's scale.
    pub scale_max: u8,
}

/// An employee as of the snapshot date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmployeeState {
    /// The employee's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// When hired.
    pub hired_at: DateTime<Utc>,
    /// Whether still employed at the snapshot date.
    pub active: bool,
    /// Announced (future) or past last day.
    pub leaving_on: Option<NaiveDate>,
    /// Position held.
    pub position_id: Option<String>,
    /// Role of that position.
    pub role_id: Option<String>,
    /// Org unit of that position.
    pub org_unit_id: Option<String>,
    /// Effective level per competency with evidence (the competency ids are
    /// the timeline's own, shared: a snapshot copies none of them).
    pub levels: ByCompetency<EffectiveLevel>,
    /// When each competency was last assessed, however long ago.
    pub last_assessed: ByCompetency<DateTime<Utc>>,
    /// Trainings completed, oldest first, one record per competency developed.
    pub trainings: Vec<TrainingRecord>,
    /// Latest performance rating.
    pub performance: Option<u8>,
    /// Latest potential rating.
    pub potential: Option<Potential>,
}

/// One competency developed by one completed training, with the assessed
/// level before it and, once someone has assessed it since, after it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingRecord {
    /// The course.
    pub course_id: String,
    /// The competency developed.
    pub competency_id: Arc<str>,
    /// The level the course aims at.
    pub target_level: u8,
    /// When it was completed.
    pub completed_at: DateTime<Utc>,
    /// Assessed level (assessments only) just before the training.
    pub level_before: Option<f64>,
    /// Assessed level (assessments only) at the snapshot date, when an assessment followed the training.
    pub level_after: Option<f64>,
}

/// A standing succession nomination.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Nomination {
    /// The position.
    pub position_id: String,
    /// The candidate.
    pub candidate_id: String,
    /// The stated readiness.
    pub readiness: Readiness,
    /// When nominated.
    pub since: DateTime<Utc>,
}

/// The organisation as of one date.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// The date the snapshot describes.
    pub as_of: DateTime<Utc>,
    /// Org units by id.
    pub units: BTreeMap<String, UnitInfo>,
    /// Competencies by id, from the latest framework versions.
    pub competencies: BTreeMap<String, CompetencyInfo>,
    /// Role profiles by id.
    pub roles: BTreeMap<String, RoleProfileDefined>,
    /// Positions by id.
    pub positions: BTreeMap<String, PositionDefined>,
    /// Everyone hired by the date (leavers included, marked inactive), by id.
    pub employees: Vec<EmployeeState>,
    /// Standing nominations.
    pub nominations: Vec<Nomination>,
    /// Every nomination and withdrawal up to the date, oldest first.
    pub plan_events: Vec<PlanEvent>,
    /// Course titles by course id.
    pub courses: BTreeMap<String, String>,
}

/// A change to a succession plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanEvent {
    /// The position.
    pub position_id: String,
    /// The candidate.
    pub candidate_id: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The stated readiness when nominated; none when withdrawn.
    pub readiness: Option<Readiness>,
}

impl Snapshot {
    /// Employees still employed.
    pub fn active_employees(&self) -> impl Iterator<Item = &EmployeeState> + Clone {
        self.employees.iter().filter(|e| e.active)
    }

    /// Where employee `id` is in [`Snapshot::employees`] (which is sorted by id).
    pub fn employee_index(&self, id: &str) -> Result<usize, usize> {
        self.employees.binary_search_by(|e| e.id.as_str().cmp(id))
    }

    /// Takes employee `id`'s state again from `t`, as of the snapshot's date,
    /// after events that touched only their own history (see
    /// [`Timeline::changes_since`]); the rest of the snapshot is kept. The
    /// result is what [`Timeline::snapshot`] would give.
    pub fn refresh_employee(&mut self, t: &Timeline, policy: &LevelPolicy, id: &str) {
        let state = t
            .employees
            .get(id)
            .and_then(|e| employee_state(id, e, self.as_of, policy, &|p| self.positions.get(p)));
        match (self.employee_index(id), state) {
            (Ok(i), Some(s)) => self.employees[i] = s,
            (Ok(i), None) => {
                self.employees.remove(i);
            }
            (Err(i), Some(s)) => self.employees.insert(i, s),
            (Err(_), None) => {}
        }
    }

    /// The path from the root to a unit (just the unit if it is unknown).
    pub fn unit_path(&self, unit: &str) -> Vec<String> {
        self.units
            .get(unit)
            .map(|u| u.path.clone())
            .unwrap_or_else(|| vec![unit.to_string()])
    }
}

impl Timeline {
    /// The state as of `as_of`, from facts that occurred up to then.
    pub fn snapshot(&self, as_of: DateTime<Utc>, policy: &LevelPolicy) -> Snapshot {
        let mut units: BTreeMap<String, UnitInfo> = self
            .units
            .iter()
            .filter_map(|(id, h)| {
                h.at(as_of).map(|d| {
                    let info = UnitInfo {
                        id: id.clone(),
                        name: d.value.name.clone(),
                        parent_id: d.value.parent_id.clone(),
                        path: Vec::new(),
                    };
                    (id.clone(), info)
                })
            })
            .collect();
        let paths: Vec<(String, Vec<String>)> = units
            .keys()
            .map(|id| (id.clone(), path_to_root(&units, id)))
            .collect();
        for (id, path) in paths {
            units.get_mut(&id).expect("unit").path = path;
        }

        let mut competencies = BTreeMap::new();
        for h in self.frameworks.values() {
            let Some(f) = h.at(as_of) else { continue };
            let f = &f.value;
            for c in &f.competencies {
                let category_name = f
                    .categories
                    .iter()
                    .find(|k| k.id == c.category)
                    .map_or_else(|| c.category.clone(), |k| k.name.clone());
                competencies.insert(
                    c.id.clone(),
                    CompetencyInfo {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        category: c.category.clone(),
                        category_name,
                        framework_id: f.id.clone(),
                        scale_max: f.scale.max(),
                    },
                );
            }
        }

        let roles: BTreeMap<_, _> = self
            .roles
            .iter()
            .filter_map(|(id, h)| h.at(as_of).map(|d| (id.clone(), d.value.clone())))
            .collect();
        let positions: BTreeMap<_, _> = self
            .positions
            .iter()
            .filter_map(|(id, h)| h.at(as_of).map(|d| (id.clone(), d.value.clone())))
            .collect();

        // each employee's state depends on their history alone: built on
        // every core, finding positions by hash rather than down the tree
        let position_of: HashMap<&str, &PositionDefined> =
            positions.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let position = |p: &str| position_of.get(p).copied();
        // sorted by id as references, then built in place: sorting the
        // states themselves (a few hundred bytes each) and collecting them
        // through per-core vectors grown by doubling moved each several
        // times, into fresh memory each time (a million at 1M employees)
        let mut histories: Vec<(&String, &EmployeeHistory)> = self.employees.iter().collect();
        histories.par_sort_unstable_by(|a, b| a.0.cmp(b.0));
        let states: Vec<Option<EmployeeState>> = histories
            .par_iter()
            .map(|(id, e)| employee_state(id, e, as_of, policy, &position))
            .collect();
        let mut employees = Vec::with_capacity(states.len());
        employees.extend(states.into_iter().flatten());

        let mut nominations: Vec<Nomination> = self
            .plans
            .iter()
            .flat_map(|(pos, candidates)| {
                candidates
                    .iter()
                    .filter_map(move |(cand, h)| match h.at(as_of) {
                        Some(d) => match d.value {
                            PlanChange::Nominated(r) => Some(Nomination {
                                position_id: pos.clone(),
                                candidate_id: cand.clone(),
                                readiness: r,
                                since: d.at,
                            }),
                            PlanChange::Withdrawn => None,
                        },
                        None => None,
                    })
            })
            .collect();
        nominations.sort_by(|a, b| {
            (&a.position_id, &a.candidate_id).cmp(&(&b.position_id, &b.candidate_id))
        });

        let mut plan_events: Vec<PlanEvent> = self
            .plans
            .iter()
            .flat_map(|(pos, candidates)| {
                candidates.iter().flat_map(move |(cand, h)| {
                    h.until(as_of).iter().map(move |d| PlanEvent {
                        position_id: pos.clone(),
                        candidate_id: cand.clone(),
                        at: d.at,
                        readiness: match d.value {
                            PlanChange::Nominated(r) => Some(r),
                            PlanChange::Withdrawn => None,
                        },
                    })
                })
            })
            .collect();
        plan_events.sort_by(|a, b| {
            (a.at, &a.position_id, &a.candidate_id).cmp(&(b.at, &b.position_id, &b.candidate_id))
        });

        Snapshot {
            as_of,
            plan_events,
            courses: self
                .courses
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            units,
            competencies,
            roles,
            positions,
            employees,
            nominations,
        }
    }
}

/// One employee as of `as_of`; none before they are hired.
fn employee_state<'p>(
    id: &str,
    e: &EmployeeHistory,
    as_of: DateTime<Utc>,
    policy: &LevelPolicy,
    position_of: &(dyn Fn(&str) -> Option<&'p PositionDefined> + Sync),
) -> Option<EmployeeState> {
    let hired = e.hired.at(as_of)?;
    let left = e.left.at(as_of).filter(|l| l.at >= hired.at);
    let leaving_on = left.map(|l| l.value.effective_on.unwrap_or(l.at.date_naive()));
    let active = leaving_on.is_none_or(|d| d > as_of.date_naive());
    let position_id = e
        .assigned
        .at(as_of)
        .filter(|a| a.at >= hired.at)
        .map(|a| a.value.clone());
    let position = position_id.as_deref().and_then(position_of);
    let last_assessed = e
        .assessments
        .iter()
        .filter_map(|(c, h)| h.at(as_of).map(|d| (c.clone(), d.at)))
        .collect();
    let trainings = training_records(policy, as_of, e);
    // every competency assessed or trained, each once: the assessed ones,
    // then the trained ones never assessed
    let assessed = e
        .assessments
        .iter()
        .map(|(c, h)| (c, Some(h), e.trainings.get(c)));
    let trained_only = e
        .trainings
        .iter()
        .filter(|(c, _)| !e.assessments.contains_key(*c))
        .map(|(c, h)| (c, None, Some(h)));
    let levels = assessed
        .chain(trained_only)
        .filter_map(|(c, assessments, trainings)| {
            effective_level(policy, as_of, assessments, trainings).map(|l| (c.clone(), l))
        })
        .collect();
    Some(EmployeeState {
        id: id.to_string(),
        name: hired.value.clone(),
        hired_at: hired.at,
        active,
        leaving_on,
        role_id: position.map(|p| p.role_id.clone()),
        org_unit_id: position.map(|p| p.org_unit_id.clone()),
        position_id,
        levels,
        last_assessed,
        trainings,
        performance: e.performance.at(as_of).map(|d| d.value),
        potential: e.potential.at(as_of).map(|d| d.value),
    })
}

/// Every training up to `as_of`, with assessed levels before and after.
fn training_records(
    policy: &LevelPolicy,
    as_of: DateTime<Utc>,
    e: &EmployeeHistory,
) -> Vec<TrainingRecord> {
    let mut out: Vec<TrainingRecord> = e
        .trainings
        .iter()
        .flat_map(|(comp, h)| {
            let assessments = e.assessments.get(comp);
            h.until(as_of).iter().map(move |d| {
                let before = d.at - chrono::Duration::seconds(1);
                let assessed_since = assessments
                    .and_then(|a| a.at(as_of))
                    .is_some_and(|last| last.at > d.at);
                TrainingRecord {
                    course_id: d.value.0.clone(),
                    competency_id: comp.clone(),
                    target_level: d.value.1,
                    completed_at: d.at,
                    level_before: effective_level(policy, before, assessments, None)
                        .map(|l| l.level),
                    level_after: if assessed_since {
                        effective_level(policy, as_of, assessments, None).map(|l| l.level)
                    } else {
                        None
                    },
                }
            })
        })
        .collect();
    out.sort_by(|a, b| (a.completed_at, &a.competency_id).cmp(&(b.completed_at, &b.competency_id)));
    out
}

/// Root-first ids from the top of the tree to `id`; stops at unknown parents and cycles.
fn path_to_root(units: &BTreeMap<String, UnitInfo>, id: &str) -> Vec<String> {
    let mut path = vec![id.to_string()];
    let mut seen: HashSet<&str> = HashSet::from([id]);
    let mut cur = units.get(id).and_then(|u| u.parent_id.as_deref());
    while let Some(p) = cur {
        if !seen.insert(p) || !units.contains_key(p) {
            break;
        }
        path.push(p.to_string());
        cur = units.get(p).and_then(|u| u.parent_id.as_deref());
    }
    path.reverse();
    path
}
