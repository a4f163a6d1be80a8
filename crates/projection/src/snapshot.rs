//! The organisation as of one date.

use std::collections::{BTreeMap, HashSet};

use cadre_model::{PositionDefined, Potential, Readiness, RoleProfileDefined};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::level::{effective_level, EffectiveLevel, LevelPolicy};
use crate::timeline::{PlanChange, Timeline};

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
    /// Effective level per competency with evidence.
    pub levels: BTreeMap<String, EffectiveLevel>,
    /// Latest performance rating.
    pub performance: Option<u8>,
    /// Latest potential rating.
    pub potential: Option<Potential>,
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
}

impl Snapshot {
    /// Employees still employed.
    pub fn active_employees(&self) -> impl Iterator<Item = &EmployeeState> {
        self.employees.iter().filter(|e| e.active)
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

        let mut employees: Vec<EmployeeState> = self
            .employees
            .iter()
            .filter_map(|(id, e)| {
                let hired = e.hired.at(as_of)?;
                let left = e.left.at(as_of).filter(|l| l.at >= hired.at);
                let leaving_on = left.map(|l| l.value.effective_on.unwrap_or(l.at.date_naive()));
                let active = leaving_on.is_none_or(|d| d > as_of.date_naive());
                let position_id = e
                    .assigned
                    .at(as_of)
                    .filter(|a| a.at >= hired.at)
                    .map(|a| a.value.clone());
                let position = position_id.as_ref().and_then(|p| positions.get(p));
                let levels = e
                    .assessments
                    .keys()
                    .chain(e.trainings.keys())
                    .collect::<HashSet<_>>()
                    .into_iter()
                    .filter_map(|c| {
                        effective_level(policy, as_of, e.assessments.get(c), e.trainings.get(c))
                            .map(|l| (c.clone(), l))
                    })
                    .collect();
                Some(EmployeeState {
                    id: id.clone(),
                    name: hired.value.clone(),
                    hired_at: hired.at,
                    active,
                    leaving_on,
                    role_id: position.map(|p| p.role_id.clone()),
                    org_unit_id: position.map(|p| p.org_unit_id.clone()),
                    position_id,
                    levels,
                    performance: e.performance.at(as_of).map(|d| d.value),
                    potential: e.potential.at(as_of).map(|d| d.value),
                })
            })
            .collect();
        employees.sort_by(|a, b| a.id.cmp(&b.id));

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

        Snapshot {
            as_of,
            units,
            competencies,
            roles,
            positions,
            employees,
            nominations,
        }
    }
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
