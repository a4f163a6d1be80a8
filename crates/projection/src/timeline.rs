//! Time-indexed history of every fact the events state.

use std::sync::Arc;

use cadre_model::{
    AssessmentRecorded, EmployeeLeft, Event, EventData, Framework, OrgUnitDefined, PositionDefined,
    Potential, Readiness, RoleProfileDefined, TrainingCompleted,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Map;

/// A value and the moment it became true; `seq` breaks ties by arrival order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Dated<T> {
    pub at: DateTime<Utc>,
    pub seq: u64,
    pub value: T,
}

/// One recorded assessment, as evidence on an employee's profile.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AssessmentEvidence {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The competency assessed.
    pub competency_id: String,
    /// The level given.
    pub level: u8,
    /// Who gave it: self, manager, peer or panel.
    pub assessor_type: cadre_model::AssessorType,
}

/// Values of one fact over time, sorted by `(at, seq)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct History<T>(Vec<Dated<T>>);

impl<T> Default for History<T> {
    fn default() -> Self {
        History(Vec::new())
    }
}

impl<T> History<T> {
    /// Inserts in order; appending is the common case and costs O(1).
    pub fn insert(&mut self, at: DateTime<Utc>, seq: u64, value: T) {
        let key = (at, seq);
        let pos = if self.0.last().is_none_or(|d| (d.at, d.seq) <= key) {
            self.0.len()
        } else {
            self.0.partition_point(|d| (d.at, d.seq) <= key)
        };
        self.0.insert(pos, Dated { at, seq, value });
    }

    /// Every entry up to and including `as_of`, oldest first.
    pub fn until(&self, as_of: DateTime<Utc>) -> &[Dated<T>] {
        let end = self.0.partition_point(|d| d.at <= as_of);
        &self.0[..end]
    }

    /// The latest entry up to `as_of`.
    pub fn at(&self, as_of: DateTime<Utc>) -> Option<&Dated<T>> {
        self.until(as_of).last()
    }
}

/// What the projection keeps of one assessment: the level and who gave it.
/// The assessor's id and the evidence text stay in the log (`cadre export`);
/// nothing computed from the projection reads them, and keeping them would
/// cost three allocations and about 150 bytes an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Assessed {
    /// The level observed.
    pub level: u8,
    /// Who observed it.
    pub assessor_type: cadre_model::AssessorType,
}

impl From<&AssessmentRecorded> for Assessed {
    fn from(a: &AssessmentRecorded) -> Self {
        Assessed {
            level: a.level,
            assessor_type: a.assessor_type,
        }
    }
}

/// What is known about one employee, over time.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct EmployeeHistory {
    pub hired: History<String>,
    pub assigned: History<String>,
    pub left: History<EmployeeLeft>,
    /// Assessments by competency: who gave which level (the level rule and
    /// the profile read no more of an assessment than that).
    pub assessments: Map<Arc<str>, History<Assessed>>,
    /// Trainings by competency developed, with the target level.
    pub trainings: Map<Arc<str>, History<(String, u8)>>,
    pub performance: History<u8>,
    pub potential: History<Potential>,
}

/// Adds `value` to the history of `key` in `map`; the key is copied only
/// when it is new (most events add to a history that exists). Keys are
/// shared (`Arc<str>`): every snapshot of the employee names the competency
/// by the same one, without copying it.
fn record<T>(
    map: &mut Map<Arc<str>, History<T>>,
    key: &str,
    (at, seq): (DateTime<Utc>, u64),
    value: T,
) {
    match map.get_mut(key) {
        Some(h) => h.insert(at, seq, value),
        None => {
            let mut h = History::default();
            h.insert(at, seq, value);
            map.insert(Arc::from(key), h);
        }
    }
}

/// A change to a succession plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum PlanChange {
    Nominated(Readiness),
    Withdrawn,
}

/// Every fact the events have stated, each with its history.
///
/// A timeline serializes (with serde) so that it can be checkpointed: it
/// remembers the sequence number and id of the last event it applied
/// ([`Timeline::tail`]), which says where folding the log must resume.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Timeline {
    pub(crate) frameworks: Map<String, History<Framework>>,
    pub(crate) units: Map<String, History<OrgUnitDefined>>,
    pub(crate) roles: Map<String, History<RoleProfileDefined>>,
    pub(crate) positions: Map<String, History<PositionDefined>>,
    pub(crate) employees: Map<String, EmployeeHistory>,
    /// Succession plan changes by position, then candidate.
    pub(crate) plans: Map<String, Map<String, History<PlanChange>>>,
    /// Course titles by course id, as last reported.
    pub(crate) courses: Map<String, String>,
    applied: u64,
    latest: Option<DateTime<Utc>>,
    tail: Option<(u64, Uuid)>,
    /// What the latest events touched, when tracking is on ([`Timeline::track_changes`]).
    #[serde(skip)]
    changes: Option<Changes>,
}

/// The most recent events' reach: the employee each touched alone, or none
/// for an event that touched reference data or a succession plan.
#[derive(Debug, Clone)]
struct Changes {
    /// How many entries to keep.
    cap: usize,
    /// `(applied after the event, the employee it touched alone)`, oldest first.
    recent: std::collections::VecDeque<(u64, Option<String>)>,
}

/// What changed in a timeline since an earlier moment of it ([`Timeline::changes_since`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// Only these employees' own histories.
    Employees(std::collections::BTreeSet<String>),
    /// Something else too (reference data, a succession plan, or more than is remembered).
    Other,
}

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Self {
        Timeline::default()
    }

    /// Number of events applied.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// The sequence number and id of the last event applied; folding the log
    /// resumes after it.
    pub fn tail(&self) -> Option<(u64, Uuid)> {
        self.tail
    }

    /// Starts remembering which employee each of the next events touched,
    /// up to the last `cap` of them, for [`Timeline::changes_since`].
    pub fn track_changes(&mut self, cap: usize) {
        self.changes = Some(Changes {
            cap,
            recent: std::collections::VecDeque::with_capacity(cap.min(4096)),
        });
    }

    /// What the events applied after the first `applied` of them changed:
    /// the employees they touched when every one of them touched one
    /// employee's own history and is still remembered, [`Changed::Other`]
    /// otherwise (always, when tracking is off).
    pub fn changes_since(&self, applied: u64) -> Changed {
        if applied == self.applied {
            return Changed::Employees(Default::default());
        }
        let Some(c) = &self.changes else {
            return Changed::Other;
        };
        let first = applied + 1;
        if applied > self.applied || c.recent.front().is_none_or(|(n, _)| *n > first) {
            return Changed::Other;
        }
        let mut out = std::collections::BTreeSet::new();
        for (_, who) in c.recent.iter().filter(|(n, _)| *n >= first) {
            match who {
                Some(e) => out.insert(e.clone()),
                None => return Changed::Other,
            };
        }
        Changed::Employees(out)
    }

    /// The latest `occurred_at` seen.
    pub fn latest(&self) -> Option<DateTime<Utc>> {
        self.latest
    }

    /// Every assessment of one employee up to `as_of`, newest first, however
    /// old: the evidence behind their levels.
    pub fn assessments(&self, employee: &str, as_of: DateTime<Utc>) -> Vec<AssessmentEvidence> {
        let Some(h) = self.employees.get(employee) else {
            return Vec::new();
        };
        let mut out: Vec<AssessmentEvidence> = h
            .assessments
            .iter()
            .flat_map(|(competency, hist)| {
                hist.until(as_of).iter().map(|d| AssessmentEvidence {
                    at: d.at,
                    competency_id: competency.to_string(),
                    level: d.value.level,
                    assessor_type: d.value.assessor_type,
                })
            })
            .collect();
        out.sort_by(|a, b| b.at.cmp(&a.at).then(a.competency_id.cmp(&b.competency_id)));
        out
    }

    /// Applies one event; `seq` is its position in the log (arrival order).
    pub fn apply(&mut self, seq: u64, event: &Event) {
        self.applied += 1;
        self.tail = Some((seq, event.event_id));
        let at = event.occurred_at;
        self.latest = Some(self.latest.map_or(at, |l| l.max(at)));
        let subject = &event.subject;
        if self.changes.is_some() {
            let own = match &event.data {
                EventData::EmployeeHired(_)
                | EventData::EmployeeAssigned(_)
                | EventData::EmployeeLeft(_)
                | EventData::AssessmentRecorded(_)
                | EventData::PerformanceRated(_)
                | EventData::PotentialRated(_) => Some(subject.clone()),
                // a new course title is shared by everyone who took the course
                EventData::TrainingCompleted(t)
                    if t.course_title
                        .as_ref()
                        .is_none_or(|title| self.courses.get(&t.course_id) == Some(title)) =>
                {
                    Some(subject.clone())
                }
                _ => None,
            };
            let applied = self.applied;
            if let Some(c) = &mut self.changes {
                if c.recent.len() >= c.cap {
                    c.recent.pop_front();
                }
                c.recent.push_back((applied, own));
            }
        }
        match &event.data {
            EventData::FrameworkPublished(f) => self
                .frameworks
                .entry(subject.clone())
                .or_default()
                .insert(at, seq, Framework::clone(f)),
            EventData::OrgUnitDefined(u) => {
                self.units
                    .entry(subject.clone())
                    .or_default()
                    .insert(at, seq, u.clone())
            }
            EventData::RoleProfileDefined(r) => self
                .roles
                .entry(subject.clone())
                .or_default()
                .insert(at, seq, r.clone()),
            EventData::PositionDefined(p) => self
                .positions
                .entry(subject.clone())
                .or_default()
                .insert(at, seq, p.clone()),
            EventData::EmployeeHired(h) => {
                self.employee(subject).hired.insert(at, seq, h.name.clone())
            }
            EventData::EmployeeAssigned(a) => {
                self.employee(subject)
                    .assigned
                    .insert(at, seq, a.position_id.clone())
            }
            EventData::EmployeeLeft(l) => self.employee(subject).left.insert(at, seq, l.clone()),
            EventData::AssessmentRecorded(a) => record(
                &mut self.employee(subject).assessments,
                &a.competency_id,
                (at, seq),
                Assessed::from(a),
            ),
            EventData::TrainingCompleted(t) => {
                let TrainingCompleted {
                    course_id,
                    competencies,
                    course_title,
                    ..
                } = t;
                if let Some(title) = course_title {
                    self.courses.insert(course_id.clone(), title.clone());
                }
                let e = self.employee(subject);
                for c in competencies {
                    record(
                        &mut e.trainings,
                        &c.competency_id,
                        (at, seq),
                        (course_id.clone(), c.target_level),
                    );
                }
            }
            EventData::PerformanceRated(p) => {
                self.employee(subject).performance.insert(at, seq, p.rating)
            }
            EventData::PotentialRated(p) => {
                self.employee(subject)
                    .potential
                    .insert(at, seq, p.potential)
            }
            EventData::SuccessionNominated(n) => self
                .plans
                .entry(subject.clone())
                .or_default()
                .entry(n.candidate_id.clone())
                .or_default()
                .insert(at, seq, PlanChange::Nominated(n.readiness)),
            EventData::SuccessionWithdrawn(w) => self
                .plans
                .entry(subject.clone())
                .or_default()
                .entry(w.candidate_id.clone())
                .or_default()
                .insert(at, seq, PlanChange::Withdrawn),
        }
    }

    /// The employee's history, made when new; the id is copied only then
    /// (nearly every event is about an employee already known).
    fn employee(&mut self, id: &str) -> &mut EmployeeHistory {
        if !self.employees.contains_key(id) {
            self.employees
                .insert(id.to_string(), EmployeeHistory::default());
        }
        self.employees.get_mut(id).expect("just made")
    }
}
