//! Folds events into state: the state now, and the state as of any past date.
//!
//! A [`Timeline`] keeps every fact with the moment it became true
//! (`occurred_at`), sorted, so it answers "what did the organisation look like
//! on date D" by looking at facts up to D: late and back-dated events land in
//! their place in history instead of on top of it. Ties on `occurred_at` are
//! broken by arrival order (the log's sequence number), so folding the same
//! log always gives the same state. [`Timeline::snapshot`] turns the timeline
//! into a [`Snapshot`] at a date, with each employee's position, role, unit and
//! effective level per competency under a [`LevelPolicy`].
//!
//! The projection does no IO and does not reject events: an assessment for an
//! employee not yet hired is kept, and counts once the hire is known. What an
//! event refers to is checked before it is stored, against [`References`]:
//! the identifiers stored events have declared.

mod by_competency;
mod level;
mod references;
mod snapshot;
mod timeline;

pub use by_competency::ByCompetency;
pub use level::{EffectiveLevel, LevelPolicy, LevelSource};
pub use references::{Dangling, References};
pub use snapshot::{
    CompetencyInfo, EmployeeState, Nomination, PlanEvent, Snapshot, TrainingRecord, UnitInfo,
};
pub use timeline::{AssessmentEvidence, Changed, Timeline};

/// The projection's maps, hashed with ahash (random keys per process: ids
/// come from clients, so the hash must not be predictable): about twice as
/// fast as the standard SipHash on the short ids every event looks up.
pub(crate) type Map<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

/// A set hashed as [`Map`].
pub(crate) type Set<K> = std::collections::HashSet<K, ahash::RandomState>;
