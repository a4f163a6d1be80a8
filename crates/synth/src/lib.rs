//! Deterministic synthetic organisations, and the seed frameworks cadre ships.
//!
//! [`generate`] builds an organisation of any size from a seed and an end
//! date: an org tree (departments, sections, teams), role profiles drawn from
//! the two seed frameworks (Cambridge City Council's staff and manager
//! competencies, Kenya's County Public Service framework), positions, and a
//! year of hires, moves, leavers, assessments, trainings, ratings and
//! succession nominations. The same configuration always yields the same
//! events, byte for byte, including their ids. Events are handed to a
//! callback one at a time, so an organisation of a million employees streams
//! out without being held in memory.

mod frameworks;
mod org;

use cadre_model::{Event, EventData};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

pub use frameworks::{seed_frameworks, CAMBRIDGE, KENYA};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// Number of employees (headcount at the start of the year).
    pub employees: usize,
    /// Seed of the random generator.
    pub seed: u64,
    /// The last day of the generated year of history.
    pub end: NaiveDate,
}

impl SynthConfig {
    /// A configuration ending today.
    pub fn new(employees: usize, seed: u64) -> Self {
        SynthConfig {
            employees,
            seed,
            end: Utc::now().date_naive(),
        }
    }
}

/// Source name of generated events.
pub const SOURCE: &str = "cadre.synth";

/// Emits events with deterministic ids and timestamps.
pub(crate) struct Emitter<'a> {
    rng: ChaCha8Rng,
    sink: &'a mut dyn FnMut(Event),
    count: u64,
}

impl Emitter<'_> {
    pub(crate) fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    pub(crate) fn emit(&mut self, at: DateTime<Utc>, subject: &str, data: EventData) {
        let mut bytes = [0u8; 16];
        self.rng.fill(&mut bytes);
        let delay = Duration::seconds(self.rng.random_range(30..86_400));
        (self.sink)(Event {
            event_id: uuid::Builder::from_random_bytes(bytes).into_uuid(),
            schema_version: 1,
            occurred_at: at,
            recorded_at: at + delay,
            source: SOURCE.to_string(),
            subject: subject.to_string(),
            data,
        });
        self.count += 1;
    }
}

/// Generates the organisation, calling `sink` once per event; returns the count.
pub fn generate(config: &SynthConfig, sink: &mut dyn FnMut(Event)) -> u64 {
    let mut em = Emitter {
        rng: ChaCha8Rng::seed_from_u64(config.seed),
        sink,
        count: 0,
    };
    org::build(config, &mut em);
    em.count
}

/// A deterministic id that looks like a UUID (for tests needing fixed ids).
pub fn fixed_uuid(n: u128) -> Uuid {
    uuid::Builder::from_random_bytes(n.to_be_bytes()).into_uuid()
}
