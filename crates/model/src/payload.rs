//! The payload of every event type: the vocabulary of facts cadre learns.
//! Each payload's own rules are in [`crate::check`]; the table that ties a
//! payload to its type name and descriptor is in [`crate::registry`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Who made an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessorType {
    /// The employee about themself.
    #[serde(rename = "self")]
    SelfAssessed,
    /// The employee's line manager.
    Manager,
    /// A colleague.
    Peer,
    /// An assessment panel (e.g. an assessment centre or interview board).
    Panel,
}

impl AssessorType {
    /// All assessor types, in a fixed order.
    pub const ALL: [AssessorType; 4] = [
        AssessorType::Manager,
        AssessorType::Panel,
        AssessorType::Peer,
        AssessorType::SelfAssessed,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssessorType::SelfAssessed => "self",
            AssessorType::Manager => "manager",
            AssessorType::Peer => "peer",
            AssessorType::Panel => "panel",
        }
    }
}

/// How a training was delivered; the development modes the Kenyan framework names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingMode {
    /// Induction of a new starter.
    Induction,
    /// A course.
    Training,
    /// An internship.
    Internship,
    /// Coaching.
    Coaching,
    /// Mentoring.
    Mentoring,
    /// Learning on the job.
    Experience,
}

/// A rating of potential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Potential {
    /// Low potential.
    Low,
    /// Medium potential.
    Medium,
    /// High potential.
    High,
}

/// How soon a successor could take a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// Could step in now.
    ReadyNow,
    /// Ready within one to two years.
    #[serde(rename = "ready_1_2_years")]
    Ready1To2Years,
    /// Ready in three years or more.
    #[serde(rename = "ready_3_plus_years")]
    Ready3PlusYears,
    /// Not ready.
    NotReady,
}

/// Payload of `org_unit.defined`; the subject is the unit's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgUnitDefined {
    /// Display name.
    pub name: String,
    /// The parent unit; none for the root.
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// One required competency of a role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The competency.
    pub competency_id: String,
    /// The level the role requires.
    pub level: u8,
    /// How much the competency matters to the role (default 1).
    #[serde(default = "one")]
    pub weight: f64,
}

fn one() -> f64 {
    1.0
}

/// Payload of `role_profile.defined`; the subject is the role's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleProfileDefined {
    /// The framework the requirements come from.
    pub framework_id: String,
    /// Display name.
    pub name: String,
    /// Required level and weight per competency.
    pub requirements: Vec<Requirement>,
}

/// Payload of `position.defined`; the subject is the position's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionDefined {
    /// Whether the position is critical for succession planning.
    #[serde(default)]
    pub critical: bool,
    /// The org unit the position sits in.
    pub org_unit_id: String,
    /// The role profile the position follows.
    pub role_id: String,
    /// Display title.
    pub title: String,
}

/// Payload of `employee.hired`; the subject is the employee's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmployeeHired {
    /// The employee's name as shown to those allowed to see individuals.
    pub name: String,
}

/// Payload of `employee.assigned`; the subject is the employee's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmployeeAssigned {
    /// The position the employee now holds.
    pub position_id: String,
}

/// Payload of `employee.left`; the subject is the employee's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmployeeLeft {
    /// The last day of employment; when later than the event, the leaving is announced.
    #[serde(default)]
    pub effective_on: Option<NaiveDate>,
    /// Why the employee left.
    #[serde(default)]
    pub reason: Option<String>,
    /// What kind of leaving it was: the test-only version 2 of this type
    /// ([`crate::upcast`]); never in a build that ships.
    #[cfg(feature = "test-v2")]
    pub kind: String,
}

/// Payload of `assessment.recorded`; the subject is the assessed employee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRecorded {
    /// The assessor's id (the employee's own id for a self-assessment).
    pub assessor_id: String,
    /// Who assessed.
    pub assessor_type: AssessorType,
    /// The competency assessed.
    pub competency_id: String,
    /// What the assessment rests on.
    #[serde(default)]
    pub evidence: Option<String>,
    /// The level observed, on the framework's scale.
    pub level: u8,
}

/// A competency a training developed, and the level it aims at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevelopedCompetency {
    /// The competency.
    pub competency_id: String,
    /// The level the course brings a participant to.
    pub target_level: u8,
}

/// Payload of `training.completed`; the subject is the employee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingCompleted {
    /// Competencies developed, each with its target level.
    pub competencies: Vec<DevelopedCompetency>,
    /// The course's id.
    pub course_id: String,
    /// The course's title.
    #[serde(default)]
    pub course_title: Option<String>,
    /// How it was delivered.
    pub mode: TrainingMode,
}

/// Payload of `performance.rated`; the subject is the employee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceRated {
    /// The period rated, e.g. `2026` or `2026-H1`.
    pub period: String,
    /// The rating, 1 (lowest) to 5 (highest).
    pub rating: u8,
}

/// Payload of `potential.rated`; the subject is the employee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PotentialRated {
    /// The rating.
    pub potential: Potential,
}

/// Payload of `succession.nominated`; the subject is the position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessionNominated {
    /// The nominated employee.
    pub candidate_id: String,
    /// The readiness the nominator states.
    pub readiness: Readiness,
}

/// Payload of `succession.withdrawn`; the subject is the position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessionWithdrawn {
    /// The employee no longer nominated.
    pub candidate_id: String,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}
