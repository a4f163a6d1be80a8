//! The event envelope and the payload of every event type.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::framework::Framework;

/// Longest identifier accepted (employee, position, competency, ...).
pub const MAX_ID_LEN: usize = 128;
/// Longest display name accepted.
pub const MAX_NAME_LEN: usize = 256;
/// Longest free text accepted (evidence, reasons, descriptions).
pub const MAX_TEXT_LEN: usize = 4000;
/// Highest level any proficiency scale may have.
pub const MAX_SCALE_LEVEL: u8 = 10;

/// Why a JSON value is not a valid event: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct DecodeError {
    /// JSON pointer to the offending value (`""` for the whole document).
    pub path: String,
    /// What is wrong, in plain words.
    pub reason: String,
}

impl DecodeError {
    /// A decode error at `path`.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        DecodeError {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn serde(path: &str, e: &serde_json::Error) -> Self {
        DecodeError::new(path, e.to_string())
    }
}

pub(crate) fn non_empty(path: &str, s: &str) -> Result<(), DecodeError> {
    bounded(path, s, MAX_ID_LEN)
}

/// Whether `s` has more than `max` characters; counted only when its bytes
/// are more (a character is at least one byte), which ids and names rarely are.
fn longer_than(s: &str, max: usize) -> bool {
    s.len() > max && s.chars().count() > max
}

fn bounded(path: &str, s: &str, max: usize) -> Result<(), DecodeError> {
    if s.trim().is_empty() {
        return Err(DecodeError::new(path, "must not be empty"));
    }
    if longer_than(s, max) {
        return Err(DecodeError::new(
            path,
            format!("longer than {max} characters"),
        ));
    }
    Ok(())
}

fn text(path: &str, s: &Option<String>) -> Result<(), DecodeError> {
    match s {
        Some(s) if longer_than(s, MAX_TEXT_LEN) => Err(DecodeError::new(
            path,
            format!("longer than {MAX_TEXT_LEN} characters"),
        )),
        _ => Ok(()),
    }
}

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

macro_rules! event_types {
    ($( $variant:ident => $name:literal, $payload:ty; )*) => {
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

            fn decode(t: EventType, data: &Value) -> Result<EventData, DecodeError> {
                Ok(match t {
                    $( EventType::$variant => EventData::$variant(
                        <$payload>::deserialize(data).map_err(|e| DecodeError::serde("/data", &e))?,
                    ), )*
                })
            }

            fn decode_text(t: EventType, data: &str) -> Result<EventData, DecodeError> {
                Ok(match t {
                    $( EventType::$variant => EventData::$variant(
                        serde_json::from_str(data).map_err(|e| DecodeError::serde("/data", &e))?,
                    ), )*
                })
            }

            fn encode(&self) -> Value {
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

event_types! {
    FrameworkPublished => "framework.published", Box<Framework>;
    OrgUnitDefined => "org_unit.defined", OrgUnitDefined;
    RoleProfileDefined => "role_profile.defined", RoleProfileDefined;
    PositionDefined => "position.defined", PositionDefined;
    EmployeeHired => "employee.hired", EmployeeHired;
    EmployeeAssigned => "employee.assigned", EmployeeAssigned;
    EmployeeLeft => "employee.left", EmployeeLeft;
    AssessmentRecorded => "assessment.recorded", AssessmentRecorded;
    TrainingCompleted => "training.completed", TrainingCompleted;
    PerformanceRated => "performance.rated", PerformanceRated;
    PotentialRated => "potential.rated", PotentialRated;
    SuccessionNominated => "succession.nominated", SuccessionNominated;
    SuccessionWithdrawn => "succession.withdrawn", SuccessionWithdrawn;
}

impl EventType {
    /// The schema versions this build reads for the type; the last is the one it writes.
    pub fn versions(self) -> &'static [u32] {
        &[1]
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The envelope of a JSON value, its payload decoded from the value in place.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireHead {
    event_id: Uuid,
    #[serde(rename = "type")]
    event_type: String,
    schema_version: u32,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    source: String,
    subject: String,
    data: serde::de::IgnoredAny,
}

/// The envelope exactly as it travels. Its fields, and those of every
/// payload but the framework's, are declared in the order of their names,
/// so that serde writes an event with its keys sorted, as the JSON value
/// of the event prints them: the one canonical text of an event.
#[derive(Debug, Serialize)]
struct Wire<'a, D> {
    data: D,
    event_id: Uuid,
    #[serde(serialize_with = "instant")]
    occurred_at: DateTime<Utc>,
    #[serde(serialize_with = "instant")]
    recorded_at: DateTime<Utc>,
    schema_version: u32,
    source: &'a str,
    subject: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
}

/// The envelope as read from text, the payload left unparsed until its type is known.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireText<'a> {
    #[serde(borrow)]
    event_id: Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    event_type: Cow<'a, str>,
    schema_version: u32,
    #[serde(borrow)]
    occurred_at: Cow<'a, str>,
    #[serde(borrow)]
    recorded_at: Cow<'a, str>,
    source: String,
    subject: String,
    #[serde(borrow)]
    data: &'a serde_json::value::RawValue,
}

/// The envelope's fields as read from text, the payload apart.
pub(crate) struct TextEnvelope<'a> {
    pub(crate) event_id: &'a str,
    pub(crate) event_type: &'a str,
    pub(crate) schema_version: u32,
    pub(crate) occurred_at: &'a str,
    pub(crate) recorded_at: &'a str,
    pub(crate) source: String,
    pub(crate) subject: String,
}

/// One event: what happened, to whom, when, and according to which system.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Unique id; a second event with the same id is a duplicate.
    pub event_id: Uuid,
    /// The schema version the event was written in.
    pub schema_version: u32,
    /// When it happened in the world; projections fold in this order.
    pub occurred_at: DateTime<Utc>,
    /// When the emitting system recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The emitting system, e.g. `hris.workday`.
    pub source: String,
    /// The employee, position, unit, role or framework the event concerns.
    pub subject: String,
    /// The payload.
    pub data: EventData,
}

impl Event {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.data.event_type()
    }

    /// Decodes and checks an event from a JSON value.
    pub fn from_value(value: Value) -> Result<Event, DecodeError> {
        Event::from_value_ref(&value)
    }

    /// Decodes and checks an event from a borrowed JSON value (nothing of it is copied but the strings kept).
    pub fn from_value_ref(value: &Value) -> Result<Event, DecodeError> {
        let wire = WireHead::deserialize(value).map_err(|e| DecodeError::serde("", &e))?;
        // the payload is only checked to be there: it is decoded from the value itself
        let _ = wire.data;
        Event::assemble(
            wire.event_id,
            &wire.event_type,
            wire.schema_version,
            (wire.occurred_at, wire.recorded_at),
            (wire.source, wire.subject),
            |t| EventData::decode(t, &value["data"]),
        )
    }

    /// Decodes and checks an event from JSON text. The same event as
    /// [`Event::from_value`] of the parsed text, without building the
    /// text's JSON tree: the payload is decoded straight into its type.
    pub fn from_json(text: &str) -> Result<Event, DecodeError> {
        Event::from_text(text, false)
    }

    /// As [`Event::from_json`], and the id and both dates must be written
    /// as the envelope schema spells them: a hyphenated UUID, and an RFC 3339
    /// date-time with `T`, seconds and an offset within a day. (Decoding
    /// alone also reads other spellings of the same values.)
    pub fn from_json_exact(text: &str) -> Result<Event, DecodeError> {
        Event::from_text(text, true)
    }

    fn from_text(text: &str, exact: bool) -> Result<Event, DecodeError> {
        let wire: WireText<'_> =
            serde_json::from_str(text).map_err(|e| DecodeError::serde("", &e))?;
        let envelope = TextEnvelope {
            event_id: &wire.event_id,
            event_type: &wire.event_type,
            schema_version: wire.schema_version,
            occurred_at: &wire.occurred_at,
            recorded_at: &wire.recorded_at,
            source: wire.source,
            subject: wire.subject,
        };
        Event::from_envelope(envelope, exact, |t| {
            EventData::decode_text(t, wire.data.get())
        })
    }

    /// The event of an envelope read from text ([`Event::from_text`]'s
    /// second half, shared with the compact reader), `data` decoding its
    /// payload once its type is known.
    pub(crate) fn from_envelope(
        wire: TextEnvelope<'_>,
        exact: bool,
        data: impl FnOnce(EventType) -> Result<EventData, DecodeError>,
    ) -> Result<Event, DecodeError> {
        if exact {
            if !is_hyphenated_uuid(wire.event_id) {
                return Err(DecodeError::new("/event_id", "not a hyphenated UUID"));
            }
            for (path, at) in [
                ("/occurred_at", wire.occurred_at),
                ("/recorded_at", wire.recorded_at),
            ] {
                if !is_exact_date_time(at) {
                    return Err(DecodeError::new(path, "not an RFC 3339 date-time"));
                }
            }
        }
        let event_id = Uuid::parse_str(wire.event_id)
            .map_err(|e| DecodeError::new("/event_id", e.to_string()))?;
        let date = |path: &str, at: &str| {
            read_exact_date_time(at).map_or_else(
                || {
                    at.parse::<DateTime<chrono::FixedOffset>>()
                        .map(|d| d.with_timezone(&Utc))
                        .map_err(|e| DecodeError::new(path, e.to_string()))
                },
                Ok,
            )
        };
        let occurred_at = date("/occurred_at", wire.occurred_at)?;
        let recorded_at = date("/recorded_at", wire.recorded_at)?;
        Event::assemble(
            event_id,
            wire.event_type,
            wire.schema_version,
            (occurred_at, recorded_at),
            (wire.source, wire.subject),
            data,
        )
    }

    /// Checks the envelope's type and version, decodes the payload, checks the whole.
    fn assemble(
        event_id: Uuid,
        event_type: &str,
        schema_version: u32,
        (occurred_at, recorded_at): (DateTime<Utc>, DateTime<Utc>),
        (source, subject): (String, String),
        data: impl FnOnce(EventType) -> Result<EventData, DecodeError>,
    ) -> Result<Event, DecodeError> {
        let t = EventType::parse(event_type).ok_or_else(|| {
            DecodeError::new("/type", format!("unknown event type {event_type:?}"))
        })?;
        if !t.versions().contains(&schema_version) {
            return Err(DecodeError::new(
                "/schema_version",
                format!("{t} has no schema version {schema_version}"),
            ));
        }
        let event = Event {
            event_id,
            schema_version,
            occurred_at,
            recorded_at,
            source,
            subject,
            data: data(t)?,
        };
        event.check()?;
        Ok(event)
    }

    /// The event as its JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self.wire(self.data.encode())).expect("events always serialize")
    }

    /// The event as compact JSON text, its keys sorted: the text of
    /// [`Event::to_value`], written without building the value.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(384);
        self.write_json(&mut out);
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// Appends [`Event::to_json`]'s text to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        if !crate::text::write_by_hand(self, out) {
            self.write_json_with_serde(out);
        }
    }

    /// [`Event::write_json`] through serde, for every type.
    pub(crate) fn write_json_with_serde(&self, out: &mut Vec<u8>) {
        let written = match &self.data {
            // the framework's fields are not declared in name order
            EventData::FrameworkPublished(_) => {
                serde_json::to_writer(&mut *out, &self.wire(self.data.encode()))
            }
            data => serde_json::to_writer(&mut *out, &self.wire(data)),
        };
        written.expect("events always serialize");
    }

    fn wire<D: Serialize>(&self, data: D) -> Wire<'_, D> {
        Wire {
            data,
            event_id: self.event_id,
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
            schema_version: self.schema_version,
            source: &self.source,
            subject: &self.subject,
            event_type: self.event_type().as_str(),
        }
    }

    /// Checks the rules of a single event that serde cannot express.
    fn check(&self) -> Result<(), DecodeError> {
        non_empty("/source", &self.source)?;
        non_empty("/subject", &self.subject)?;
        match &self.data {
            EventData::FrameworkPublished(f) => {
                f.check()?;
                if f.id != self.subject {
                    return Err(DecodeError::new(
                        "/data/id",
                        "must equal the event's subject (the framework id)",
                    ));
                }
            }
            EventData::OrgUnitDefined(u) => {
                bounded("/data/name", &u.name, MAX_NAME_LEN)?;
                if let Some(p) = &u.parent_id {
                    non_empty("/data/parent_id", p)?;
                    if *p == self.subject {
                        return Err(DecodeError::new(
                            "/data/parent_id",
                            "a unit cannot be its own parent",
                        ));
                    }
                }
            }
            EventData::RoleProfileDefined(r) => {
                bounded("/data/name", &r.name, MAX_NAME_LEN)?;
                non_empty("/data/framework_id", &r.framework_id)?;
                if r.requirements.is_empty() {
                    return Err(DecodeError::new(
                        "/data/requirements",
                        "a role needs at least one requirement",
                    ));
                }
                for (i, q) in r.requirements.iter().enumerate() {
                    non_empty(
                        &format!("/data/requirements/{i}/competency_id"),
                        &q.competency_id,
                    )?;
                    level(&format!("/data/requirements/{i}/level"), q.level)?;
                    if !(q.weight > 0.0 && q.weight <= 100.0) {
                        return Err(DecodeError::new(
                            format!("/data/requirements/{i}/weight"),
                            "weight must be greater than 0 and at most 100",
                        ));
                    }
                }
            }
            EventData::PositionDefined(p) => {
                bounded("/data/title", &p.title, MAX_NAME_LEN)?;
                non_empty("/data/role_id", &p.role_id)?;
                non_empty("/data/org_unit_id", &p.org_unit_id)?;
            }
            EventData::EmployeeHired(h) => bounded("/data/name", &h.name, MAX_NAME_LEN)?,
            EventData::EmployeeAssigned(a) => non_empty("/data/position_id", &a.position_id)?,
            EventData::EmployeeLeft(l) => text("/data/reason", &l.reason)?,
            EventData::AssessmentRecorded(a) => {
                non_empty("/data/competency_id", &a.competency_id)?;
                level("/data/level", a.level)?;
                non_empty("/data/assessor_id", &a.assessor_id)?;
                text("/data/evidence", &a.evidence)?;
            }
            EventData::TrainingCompleted(t) => {
                non_empty("/data/course_id", &t.course_id)?;
                if let Some(title) = &t.course_title {
                    bounded("/data/course_title", title, MAX_NAME_LEN)?;
                }
                if t.competencies.is_empty() {
                    return Err(DecodeError::new(
                        "/data/competencies",
                        "a training must develop at least one competency",
                    ));
                }
                for (i, c) in t.competencies.iter().enumerate() {
                    non_empty(
                        &format!("/data/competencies/{i}/competency_id"),
                        &c.competency_id,
                    )?;
                    level(
                        &format!("/data/competencies/{i}/target_level"),
                        c.target_level,
                    )?;
                }
            }
            EventData::PerformanceRated(p) => {
                if !(1..=5).contains(&p.rating) {
                    return Err(DecodeError::new(
                        "/data/rating",
                        "rating must be between 1 and 5",
                    ));
                }
                non_empty("/data/period", &p.period)?;
            }
            EventData::PotentialRated(_) => {}
            EventData::SuccessionNominated(n) => non_empty("/data/candidate_id", &n.candidate_id)?,
            EventData::SuccessionWithdrawn(w) => {
                non_empty("/data/candidate_id", &w.candidate_id)?;
                text("/data/reason", &w.reason)?;
            }
        }
        Ok(())
    }
}

/// `8-4-4-4-12` hexadecimal digits, as the envelope schema's pattern for
/// `event_id`: of the spellings the UUID parser reads, the hyphenated one is
/// the only one 36 characters long, and the parser checks it a table lookup
/// per digit (a loop here matching each position was a seventh of decoding).
fn is_hyphenated_uuid(s: &str) -> bool {
    s.len() == 36 && Uuid::try_parse(s).is_ok()
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, as the envelope schema's
/// pattern for dates, with the seconds, the offset's hours and minutes
/// below 60, 24 and 60 (a leap second or an offset of a day or more is left
/// to the schema to judge).
fn is_exact_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let head = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && two(17) < 60;
    if !head {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        let fraction = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    }
    match &b[i..] {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', ..] if b.len() - i == 6 => {
            digits(i + 1..i + 3)
                && b[i + 3] == b':'
                && digits(i + 4..i + 6)
                && two(i + 1) < 24
                && two(i + 4) < 60
        }
        _ => false,
    }
}

/// Writes an instant as chrono's `Serialize` does (RFC 3339 in UTC with `Z`,
/// the fraction of a second in 3, 6 or 9 digits when there is one), without
/// its formatting machinery, which writes a character at a time: two per
/// event, on ingest's path. Years outside 0 to 9999 and leap seconds go to
/// chrono.
fn instant<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    match InstantText::of(t) {
        Some(text) => s.serialize_str(text.as_str()),
        None => t.serialize(s),
    }
}

/// An instant's text as chrono writes it, for years 0 to 9999 without a
/// leap second ([`instant`]).
pub(crate) struct InstantText {
    bytes: [u8; 30],
    len: usize,
}

impl InstantText {
    /// The text, or `None` for an instant chrono must write.
    pub(crate) fn of(t: &DateTime<Utc>) -> Option<InstantText> {
        use chrono::{Datelike, Timelike};
        // the UTC fields as they are stored, not through a time zone
        let t = t.naive_utc();
        let (year, nanos) = (t.year(), t.nanosecond());
        if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
            return None;
        }
        let mut b = *b"0000-00-00T00:00:00.000000000Z";
        let put = |b: &mut [u8; 30], at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(&mut b, 0, 4, year.unsigned_abs());
        put(&mut b, 5, 2, t.month());
        put(&mut b, 8, 2, t.day());
        put(&mut b, 11, 2, t.hour());
        put(&mut b, 14, 2, t.minute());
        put(&mut b, 17, 2, t.second());
        let mut len = 19;
        if nanos != 0 {
            let (v, width) = if nanos % 1_000_000 == 0 {
                (nanos / 1_000_000, 3)
            } else if nanos % 1_000 == 0 {
                (nanos / 1_000, 6)
            } else {
                (nanos, 9)
            };
            put(&mut b, 20, width, v);
            len = 20 + width;
        }
        b[len] = b'Z';
        Some(InstantText {
            bytes: b,
            len: len + 1,
        })
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("ASCII digits")
    }
}

/// A date-time spelled as [`is_exact_date_time`] wants it, with at most nine
/// digits of fraction, read without chrono's general parser (the form every
/// stored event has); `None` sends it to that parser, which reads it the
/// same way or says what is wrong.
fn read_exact_date_time(s: &str) -> Option<DateTime<Utc>> {
    if !is_exact_date_time(s) {
        return None;
    }
    let b = s.as_bytes();
    let n = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
    let date = NaiveDate::from_ymd_opt(i32::try_from(n(0..4)).ok()?, n(5..7), n(8..10))?;
    let mut i = 19;
    let mut nanos = 0;
    if b[i] == b'.' {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 9 {
            return None;
        }
        nanos = n(i + 1..i + 1 + digits) * 10u32.pow(9 - digits as u32);
        i += 1 + digits;
    }
    let time = chrono::NaiveTime::from_hms_nano_opt(n(11..13), n(14..16), n(17..19), nanos)?;
    let offset = match b[i] {
        b'Z' | b'z' => 0,
        sign => {
            let east = i64::from(n(i + 1..i + 3) * 3600 + n(i + 4..i + 6) * 60);
            if sign == b'-' {
                -east
            } else {
                east
            }
        }
    };
    let utc = date
        .and_time(time)
        .checked_sub_signed(chrono::Duration::seconds(offset))?;
    Some(DateTime::from_naive_utc_and_offset(utc, Utc))
}

fn level(path: &str, l: u8) -> Result<(), DecodeError> {
    if l > MAX_SCALE_LEVEL {
        return Err(DecodeError::new(
            path,
            format!("level must be at most {MAX_SCALE_LEVEL}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn instants_are_written_as_chrono_writes_them() {
        #[derive(Serialize)]
        struct Fast(#[serde(serialize_with = "super::instant")] DateTime<Utc>);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut instants: Vec<DateTime<Utc>> = [
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2026-06-30T23:59:59Z",
            "2016-12-31T23:59:60.5Z",
            "+10000-01-01T00:00:00Z",
            "-0001-12-31T23:59:59.1Z",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        for _ in 0..20_000 {
            let secs = (next() % 253_402_300_800) as i64 - 62_167_219_200;
            // whole seconds, milli-, micro- and nanoseconds, as often
            let nanos = match next() % 4 {
                0 => 0,
                1 => (next() % 1_000) as u32 * 1_000_000,
                2 => (next() % 1_000_000) as u32 * 1_000,
                _ => (next() % 1_000_000_000) as u32,
            };
            instants.push(DateTime::from_timestamp(secs, nanos).unwrap());
        }
        for t in instants {
            assert_eq!(
                serde_json::to_string(&Fast(t)).unwrap(),
                serde_json::to_string(&t).unwrap(),
                "{t:?}"
            );
        }
    }

    use super::*;

    fn assessment() -> Value {
        serde_json::json!({
            "event_id": "2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10",
            "type": "assessment.recorded",
            "schema_version": 1,
            "occurred_at": "2026-03-01T09:00:00Z",
            "recorded_at": "2026-03-01T09:05:00Z",
            "source": "hris.test",
            "subject": "emp-1",
            "data": {"competency_id": "c1", "level": 3, "assessor_type": "manager", "assessor_id": "emp-9"}
        })
    }

    #[test]
    fn round_trips_through_json() {
        let e = Event::from_value(assessment()).expect("valid event");
        assert_eq!(e.event_type(), EventType::AssessmentRecorded);
        let again = Event::from_json(&e.to_json()).expect("re-decodes");
        assert_eq!(e, again);
    }

    #[test]
    fn rejects_unknown_type_with_path() {
        let mut v = assessment();
        v["type"] = "assessment.deleted".into();
        let err = Event::from_value(v).unwrap_err();
        assert_eq!(err.path, "/type");
    }

    #[test]
    fn rejects_level_above_any_scale() {
        let mut v = assessment();
        v["data"]["level"] = 11.into();
        let err = Event::from_value(v).unwrap_err();
        assert_eq!(err.path, "/data/level");
    }

    #[test]
    fn rejects_unknown_field_in_data() {
        let mut v = assessment();
        v["data"]["score"] = 3.into();
        let err = Event::from_value(v).unwrap_err();
        assert_eq!(err.path, "/data");
        assert!(err.reason.contains("score"), "{err}");
    }

    #[test]
    fn text_and_value_decoding_agree_on_every_schema_example() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples");
        let mut seen = (0, 0);
        for kind in ["valid", "invalid"] {
            for entry in std::fs::read_dir(dir.join(kind)).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                let Ok(v) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let (by_value, by_text) = (Event::from_value(v), Event::from_json(&text));
                assert_eq!(by_value.is_ok(), by_text.is_ok(), "{text}");
                if let (Ok(a), Ok(b)) = (&by_value, &by_text) {
                    assert_eq!(a, b);
                    seen.0 += 1;
                }
                if let (Err(a), Err(b)) = (&by_value, &by_text) {
                    // the same place, if not always the same words
                    assert_eq!(a.path, b.path, "{text}");
                    seen.1 += 1;
                }
            }
        }
        assert!(seen.0 >= 20 && seen.1 >= 5, "{seen:?}");
    }

    #[test]
    fn the_canonical_text_is_the_values_text_for_every_type() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples/valid");
        let mut types = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let e = Event::from_json(&text).expect("a valid example");
            assert_eq!(e.to_json(), e.to_value().to_string(), "{text}");
            assert_eq!(Event::from_json_exact(&e.to_json()).as_ref(), Ok(&e));
            types.insert(e.event_type());
        }
        assert_eq!(types.len(), EventType::ALL.len());
    }

    #[test]
    fn exact_spellings_of_ids_and_dates() {
        assert!(is_hyphenated_uuid("2F1C1D2E-7a4b-4c39-9b57-0d6f1f2b9a10"));
        for id in [
            "2f1c1d2e7a4b4c399b570d6f1f2b9a10",
            "{2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10}",
            "urn:uuid:2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10",
            "2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a1g",
            "2f1c1d2e7-a4b-4c39-9b57-0d6f1f2b9a10",
            "2f1c1d2e-7a4b-4c39-9b570d6f-1f2b9a10",
            "2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a1",
            "2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10 ",
            "2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a\u{e9}",
        ] {
            assert!(!is_hyphenated_uuid(id), "{id}");
        }
        for at in [
            "2026-03-01T09:00:00Z",
            "2026-03-01t09:00:00z",
            "2026-03-01T09:00:00.5+23:59",
            "2026-03-01T09:00:00-00:30",
        ] {
            assert!(is_exact_date_time(at), "{at}");
        }
        for at in [
            "2026-03-01 09:00:00Z",
            "2026-03-01T09:00Z",
            "2026-03-01T09:00:00",
            "2026-03-01T09:00:00.Z",
            "2026-03-01T23:59:60Z",
            "2026-03-01T09:00:00+24:00",
            "2026-03-01T09:00:00+01:60",
            "2026-03-01T09:00:00+0100",
            "2026-03-01T09:00:00Z ",
        ] {
            assert!(!is_exact_date_time(at), "{at}");
        }
    }

    #[test]
    fn dates_read_by_hand_as_chrono_reads_them() {
        let mut checked = 0;
        for year in [1900, 1999, 2000, 2024, 2026, 2100, 9999] {
            for (month, day) in [
                (1, 1),
                (2, 28),
                (2, 29),
                (2, 30),
                (6, 15),
                (12, 31),
                (13, 1),
            ] {
                for time in ["00:00:00", "09:05:07", "23:59:59", "24:00:00", "12:60:00"] {
                    for fraction in ["", ".5", ".123", ".000001", ".123456789", ".1234567891"] {
                        for zone in ["Z", "z", "+00:00", "-00:00", "+05:30", "-11:45", "+23:59"] {
                            let at =
                                format!("{year:04}-{month:02}-{day:02}T{time}{fraction}{zone}");
                            let chrono = at
                                .parse::<DateTime<chrono::FixedOffset>>()
                                .ok()
                                .map(|d| d.with_timezone(&Utc));
                            if let Some(by_hand) = read_exact_date_time(&at) {
                                assert_eq!(Some(by_hand), chrono, "{at}");
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 3000, "{checked}");
    }

    #[test]
    fn default_scale_has_six_labelled_levels() {
        let s = crate::ProficiencyScale::default();
        assert_eq!(s.max(), 5);
        assert_eq!(s.label(3), Some("Proficient"));
    }
}
