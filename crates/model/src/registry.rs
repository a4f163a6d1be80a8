//! The event type table, and what is derived from it: [`EventType`] with
//! its descriptor (wire name, subject kind, whose record it is, schema
//! versions and files) and [`EventData`] with its codec and rules.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check::{Check, DecodeError};
use crate::framework::Framework;
use crate::payload::{
    AssessmentRecorded, EmployeeAssigned, EmployeeHired, EmployeeLeft, OrgUnitDefined,
    PerformanceRated, PositionDefined, PotentialRated, RoleProfileDefined, SuccessionNominated,
    SuccessionWithdrawn, TrainingCompleted,
};

/// The person of one payload: the subject, a field of the payload, or none.
macro_rules! person {
    ($p:ident, $subject:ident, subject) => {
        Some($subject)
    };
    ($p:ident, $subject:ident, none) => {
        None
    };
    ($p:ident, $subject:ident, $field:ident) => {
        Some($p.$field.as_str())
    };
}

/// The name of the person field of a row, for [`EventType::person_field`].
macro_rules! person_name {
    (none) => {
        None
    };
    ($field:ident) => {
        Some(stringify!($field))
    };
}

macro_rules! event_types {
    ($( $variant:ident => $name:literal, $payload:ty,
        subject: $subject:ident, person: $person:ident, versions: $versions:expr; )*) => {
        /// Every event type cadre knows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $( #[doc = concat!("`", $name, "`")] $variant, )*
        }

        impl EventType {
            /// All event types.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            /// The dotted wire name.
            pub fn as_str(self) -> &'static str {
                match self { $( EventType::$variant => $name, )* }
            }

            /// Looks a wire name up.
            pub fn parse(name: &str) -> Option<EventType> {
                match name { $( $name => Some(EventType::$variant), )* _ => None }
            }

            /// What the event's `subject` names.
            pub fn subject_kind(self) -> SubjectKind {
                match self { $( EventType::$variant => SubjectKind::$subject, )* }
            }

            /// The schema versions this build reads for the type, oldest
            /// first; the last is the one it writes, and each older one is
            /// upcast to it on read ([`crate::upcast`]).
            pub fn versions(self) -> &'static [u32] {
                match self { $( EventType::$variant => $versions, )* }
            }

            /// The JSON Schema of the type's payload at `version`.
            pub fn schema(self, version: u32) -> Option<&'static str> {
                match (self, version) {
                    $( (EventType::$variant, 1) => Some(include_str!(
                        concat!("../../../schemas/data/", $name, ".v1.json")
                    )), )*
                    _ => later_schema(self, version),
                }
            }
        }

        fn person_fields(t: EventType) -> Option<&'static str> {
            match t { $( EventType::$variant => person_name!($person), )* }
        }

        /// The payload of an event, by type.
        /// A framework, far larger than the other payloads and rare, is
        /// boxed: an event is moved several times on its way from the
        /// reader to the log and the projection, and each move copies it.
        #[derive(Debug, Clone, PartialEq)]
        pub enum EventData {
            $( #[doc = concat!("`", $name, "`")] $variant($payload), )*
        }

        impl EventData {
            /// The type of this payload.
            pub fn event_type(&self) -> EventType {
                match self { $( EventData::$variant(_) => EventType::$variant, )* }
            }

            pub(crate) fn decode(t: EventType, data: &Value) -> Result<EventData, DecodeError> {
                Ok(match t {
                    $( EventType::$variant => EventData::$variant(
                        <$payload>::deserialize(data).map_err(|e| DecodeError::serde("/data", &e))?,
                    ), )*
                })
            }

            pub(crate) fn decode_text(t: EventType, data: &str) -> Result<EventData, DecodeError> {
                Ok(match t {
                    $( EventType::$variant => EventData::$variant(
                        serde_json::from_str(data).map_err(|e| DecodeError::serde("/data", &e))?,
                    ), )*
                })
            }

            /// The payload's own rules ([`Check`]), given the event's subject.
            pub(crate) fn check(&self, subject: &str) -> Result<(), DecodeError> {
                match self { $( EventData::$variant(p) => Check::check(p, subject), )* }
            }

            /// The person whose own record the event is, given its subject.
            pub(crate) fn person<'a>(&'a self, subject: &'a str) -> Option<&'a str> {
                match self { $( EventData::$variant(_p) => person!(_p, subject, $person), )* }
            }

            pub(crate) fn encode(&self) -> Value {
                serde_json::to_value(self).expect("payloads always serialize")
            }
        }

        /// The payload alone, as its JSON object.
        impl Serialize for EventData {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self { $( EventData::$variant(p) => p.serialize(s), )* }
            }
        }
    };
}

// The one table of event types: everything per type is derived from it
// (the type enum and its wire names, the payload enum and its codec, the
// payload's rules, what the subject names, whose record it is, the schema
// files and versions). A payload type must implement `Check`.
//
//   variant => wire name, payload type,
//       subject: what `subject` names,
//       person: whose own record it is (`subject`, a payload field, or `none`:
//               the event describes the organisation),
//       versions: the schema versions read, oldest first;
event_types! {
    FrameworkPublished => "framework.published", Box<Framework>,
        subject: Framework, person: none, versions: &[1];
    OrgUnitDefined => "org_unit.defined", OrgUnitDefined,
        subject: OrgUnit, person: none, versions: &[1];
    RoleProfileDefined => "role_profile.defined", RoleProfileDefined,
        subject: Role, person: none, versions: &[1];
    PositionDefined => "position.defined", PositionDefined,
        subject: Position, person: none, versions: &[1];
    EmployeeHired => "employee.hired", EmployeeHired,
        subject: Employee, person: subject, versions: &[1];
    EmployeeAssigned => "employee.assigned", EmployeeAssigned,
        subject: Employee, person: subject, versions: &[1];
    EmployeeLeft => "employee.left", EmployeeLeft,
        subject: Employee, person: subject, versions: EMPLOYEE_LEFT_VERSIONS;
    AssessmentRecorded => "assessment.recorded", AssessmentRecorded,
        subject: Employee, person: subject, versions: &[1];
    TrainingCompleted => "training.completed", TrainingCompleted,
        subject: Employee, person: subject, versions: &[1];
    PerformanceRated => "performance.rated", PerformanceRated,
        subject: Employee, person: subject, versions: &[1];
    PotentialRated => "potential.rated", PotentialRated,
        subject: Employee, person: subject, versions: &[1];
    SuccessionNominated => "succession.nominated", SuccessionNominated,
        subject: Position, person: candidate_id, versions: &[1];
    SuccessionWithdrawn => "succession.withdrawn", SuccessionWithdrawn,
        subject: Position, person: candidate_id, versions: &[1];
}

impl EventType {
    /// The version this build writes: the last it reads.
    pub fn current_version(self) -> u32 {
        *self.versions().last().expect("every type has a version")
    }

    /// Whether events of this type describe the organisation (frameworks,
    /// units, roles, positions) rather than one person's record: every
    /// consumer of a partitioned feed needs them.
    pub fn describes_organisation(self) -> bool {
        self.person_field().is_none()
    }

    /// Whose own record an event of this type is: `Some("subject")`, the
    /// payload field that names the person, or none.
    pub fn person_field(self) -> Option<&'static str> {
        person_fields(self)
    }
}

/// What an event's `subject` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectKind {
    /// A competency framework's id.
    Framework,
    /// An org unit's id.
    OrgUnit,
    /// A role profile's id.
    Role,
    /// A position's id.
    Position,
    /// An employee's id.
    Employee,
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// Every type is at version 1, but for the test-only version 2 of
// `employee.left` ([`crate::upcast`]).
/// The versions `employee.left` is read in.
#[cfg(not(feature = "test-v2"))]
const EMPLOYEE_LEFT_VERSIONS: &[u32] = &[1];
/// The versions `employee.left` is read in.
#[cfg(feature = "test-v2")]
const EMPLOYEE_LEFT_VERSIONS: &[u32] = &[1, 2];

/// The schema of a version after the first (their files are named like the first's).
fn later_schema(t: EventType, version: u32) -> Option<&'static str> {
    #[cfg(feature = "test-v2")]
    if (t, version) == (EventType::EmployeeLeft, 2) {
        return Some(include_str!("../../../tests/upcast/employee.left.v2.json"));
    }
    let _ = (t, version);
    None
}
