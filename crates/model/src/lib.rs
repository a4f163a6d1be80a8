//! The vocabulary of cadre: the event envelope, every event payload and the
//! competency framework model.
//!
//! This crate owns the shapes of data and the rules a single value must obey
//! on its own (a level inside its scale, a rating between 1 and 5, a
//! non-empty identifier). It does no IO and knows nothing about storage,
//! transport or other events: rules that need history (does this employee
//! exist?) belong to the projection. Every event type and schema version has a
//! JSON Schema in `schemas/`; the decoder here must accept exactly what those
//! schemas accept, and a test holds the two together.

mod check;
mod compact;
mod event;
mod framework;
mod payload;
mod registry;
mod text;
pub mod upcast;

pub use check::{DecodeError, MAX_ID_LEN, MAX_NAME_LEN, MAX_SCALE_LEVEL, MAX_TEXT_LEN};
pub use event::Event;
pub use framework::{
    Category, Competency, Framework, FrameworkValue, ProficiencyScale, ScaleLevel,
};
pub use payload::{
    AssessmentRecorded, AssessorType, DevelopedCompetency, EmployeeAssigned, EmployeeHired,
    EmployeeLeft, OrgUnitDefined, PerformanceRated, PositionDefined, Potential, PotentialRated,
    Readiness, Requirement, RoleProfileDefined, SuccessionNominated, SuccessionWithdrawn,
    TrainingCompleted, TrainingMode,
};
pub use registry::{EventData, EventType, SubjectKind};
