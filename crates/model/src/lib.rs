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

mod compact;
mod event;
mod framework;
mod text;

pub use event::{
    AssessmentRecorded, AssessorType, DecodeError, DevelopedCompetency, EmployeeAssigned,
    EmployeeHired, EmployeeLeft, Event, EventData, EventType, OrgUnitDefined, PerformanceRated,
    PositionDefined, Potential, PotentialRated, Readiness, Requirement, RoleProfileDefined,
    SuccessionNominated, SuccessionWithdrawn, TrainingCompleted, TrainingMode,
};
pub use framework::{
    Category, Competency, Framework, FrameworkValue, ProficiencyScale, ScaleLevel,
};
