//! What events refer to, and whether it exists yet.

use cadre_model::{Event, EventData};

use crate::{Map, Set};

/// The identifiers later events refer to, as stored so far (in arrival
/// order): published frameworks and their competencies with the top of each
/// scale, org units, role profiles, positions and hired employees.
///
/// Two references are deliberately not checked. An org unit's parent may be
/// defined after the unit (HRIS exports list units in any order). A succession
/// candidate is another employee, whose events may travel in another Kafka
/// partition and arrive later; a nomination is checked against its position only.
#[derive(Debug, Default, Clone)]
pub struct References {
    frameworks: Set<String>,
    /// Competency id → (framework id, top level of its scale), as last published.
    competencies: Map<String, (String, u8)>,
    units: Set<String>,
    roles: Set<String>,
    positions: Set<String>,
    employees: Set<String>,
}

/// An event refers to something not stored (yet), or to a level beyond a scale.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct Dangling {
    /// JSON pointer of the reference.
    pub path: String,
    /// What is missing.
    pub reason: String,
}

fn dangling(path: impl Into<String>, reason: impl Into<String>) -> Dangling {
    Dangling {
        path: path.into(),
        reason: reason.into(),
    }
}

impl References {
    /// Nothing known.
    pub fn new() -> Self {
        References::default()
    }

    /// Learns what a stored event declares.
    pub fn note(&mut self, e: &Event) {
        let subject = &e.subject;
        match &e.data {
            EventData::FrameworkPublished(f) => {
                self.frameworks.insert(subject.clone());
                for c in &f.competencies {
                    self.competencies
                        .insert(c.id.clone(), (f.id.clone(), f.scale.max()));
                }
            }
            EventData::OrgUnitDefined(_) => {
                self.units.insert(subject.clone());
            }
            EventData::RoleProfileDefined(_) => {
                self.roles.insert(subject.clone());
            }
            EventData::PositionDefined(_) => {
                self.positions.insert(subject.clone());
            }
            EventData::EmployeeHired(_) => {
                self.employees.insert(subject.clone());
            }
            _ => {}
        }
    }

    /// Whether events of this type declare something: the only ones [`References::note`] learns from.
    pub fn declares(event_type: cadre_model::EventType) -> bool {
        use cadre_model::EventType as T;
        matches!(
            event_type,
            T::FrameworkPublished
                | T::OrgUnitDefined
                | T::RoleProfileDefined
                | T::PositionDefined
                | T::EmployeeHired
        )
    }

    /// Checks that everything `e` refers to is known and every level it names is on its scale.
    pub fn check(&self, e: &Event) -> Result<(), Dangling> {
        match &e.data {
            EventData::FrameworkPublished(_)
            | EventData::OrgUnitDefined(_)
            | EventData::EmployeeHired(_) => Ok(()),
            EventData::RoleProfileDefined(r) => {
                if !self.frameworks.contains(&r.framework_id) {
                    return Err(dangling(
                        "/data/framework_id",
                        format!(
                            "unknown framework {:?}: publish it (framework.published) before roles that use it",
                            r.framework_id
                        ),
                    ));
                }
                for (i, q) in r.requirements.iter().enumerate() {
                    self.level(
                        &format!("/data/requirements/{i}"),
                        &q.competency_id,
                        "level",
                        q.level,
                    )?;
                }
                Ok(())
            }
            EventData::PositionDefined(p) => {
                if !self.roles.contains(&p.role_id) {
                    return Err(dangling(
                        "/data/role_id",
                        format!(
                            "unknown role profile {:?}: define it (role_profile.defined) first",
                            p.role_id
                        ),
                    ));
                }
                if !self.units.contains(&p.org_unit_id) {
                    return Err(dangling(
                        "/data/org_unit_id",
                        format!(
                            "unknown org unit {:?}: define it (org_unit.defined) first",
                            p.org_unit_id
                        ),
                    ));
                }
                Ok(())
            }
            EventData::EmployeeAssigned(a) => {
                self.employee(e)?;
                self.position("/data/position_id", &a.position_id)
            }
            EventData::EmployeeLeft(_)
            | EventData::PerformanceRated(_)
            | EventData::PotentialRated(_) => self.employee(e),
            EventData::AssessmentRecorded(a) => {
                self.employee(e)?;
                self.level("/data", &a.competency_id, "level", a.level)
            }
            EventData::TrainingCompleted(t) => {
                self.employee(e)?;
                for (i, c) in t.competencies.iter().enumerate() {
                    self.level(
                        &format!("/data/competencies/{i}"),
                        &c.competency_id,
                        "target_level",
                        c.target_level,
                    )?;
                }
                Ok(())
            }
            EventData::SuccessionNominated(_) | EventData::SuccessionWithdrawn(_) => {
                self.position("/subject", &e.subject)
            }
        }
    }

    fn employee(&self, e: &Event) -> Result<(), Dangling> {
        if self.employees.contains(&e.subject) {
            Ok(())
        } else {
            Err(dangling(
                "/subject",
                format!(
                    "unknown employee {:?}: no employee.hired event for them is stored",
                    e.subject
                ),
            ))
        }
    }

    fn position(&self, path: &str, id: &str) -> Result<(), Dangling> {
        if self.positions.contains(id) {
            Ok(())
        } else {
            Err(dangling(
                path,
                format!("unknown position {id:?}: define it (position.defined) first"),
            ))
        }
    }

    fn level(&self, at: &str, competency: &str, field: &str, level: u8) -> Result<(), Dangling> {
        let Some((framework, top)) = self.competencies.get(competency) else {
            return Err(dangling(
                format!("{at}/competency_id"),
                format!("unknown competency {competency:?}: no published framework defines it"),
            ));
        };
        if level > *top {
            return Err(dangling(
                format!("{at}/{field}"),
                format!(
                    "level {level} is outside the scale of framework {framework:?} (0 to {top})"
                ),
            ));
        }
        Ok(())
    }
}
