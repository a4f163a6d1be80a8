//! The event store: a data directory's event log, its index of stored ids,
//! its dead letters and its layout, and the one way to read them back.
//!
//! [`EventStore`] is the writer: it opens the log and the dead-letter store
//! (recovering torn tails), appends sealed events (a re-sent id is a
//! duplicate, never a second copy), keeps the refused items with their
//! reasons, and knows what the stored events declare (org units, roles,
//! frameworks, people) so that ingest can check what a new event refers to.
//! [`StoreReader`] reads the same directory beside a running writer, taking
//! no lock. Both replay events in log order, decoded and upcast to the
//! current version of their type, through [`ReadBack`]. What an event must
//! be to be stored is not decided here: that is ingest's judging.

mod dead_letter;
mod durable;
mod error;
mod layout;
mod read;
mod references;

use std::path::Path;

use cadre_log::{Appended, AsRecord, Log, LogError, LogOptions, Record, Recovery, Unsynced};
use cadre_model::Event;
use cadre_projection::References;
use uuid::Uuid;

pub use dead_letter::{DeadLetter, Truncated, MAX_RAW_BYTES};
pub use durable::replace_file;
pub use error::StoreError;
pub use layout::StoreLayout;
pub use read::{ReadBack, StoreReader};

use references::{references_of, ReferenceFold};

/// A data directory's event log and dead-letter store, open for writing.
#[derive(Debug)]
pub struct EventStore {
    log: Log,
    dead: Log,
    /// What stored events declare, for reference checks.
    references: References,
}

impl EventStore {
    /// Opens the stores under a data directory, recovering torn tails, and
    /// learns what the stored events declare while the log reads them.
    pub fn open(layout: &StoreLayout) -> Result<(EventStore, Vec<Recovery>), StoreError> {
        let mut fold = ReferenceFold::default();
        let (log, r1) = Log::open_observing(
            &layout.log_dir(),
            LogOptions::default(),
            |seq, _, payload| fold.observe(seq, payload),
        )?;
        let (dead, r2) = Log::open(&layout.dead_letter_dir(), LogOptions::default())?;
        let references = fold.finish()?;
        let store = EventStore {
            log,
            dead,
            references,
        };
        Ok((store, r1.into_iter().chain(r2).collect()))
    }

    /// The event log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The event log's directory (for messages).
    pub fn log_dir(&self) -> &Path {
        self.log.dir()
    }

    /// Whether an event with this id is stored.
    pub fn contains(&self, id: &Uuid) -> bool {
        self.log.contains(id)
    }

    /// Number of dead letters stored.
    pub fn dead_letters(&self) -> u64 {
        self.dead.len()
    }

    /// What the stored events declare (and what [`EventStore::note`] added).
    pub fn references(&self) -> &References {
        &self.references
    }

    /// Takes note of what an event about to be stored declares, so that the
    /// events after it in the same batch may refer to it.
    pub fn note(&mut self, event: &Event) {
        self.references.note(event);
    }

    /// Appends sealed events, in order, and makes them durable; with
    /// `defer_sync`, leaves the last `fsync` to the caller
    /// ([`Log::append_batch_unsynced`]). On failure, what the unstored events
    /// declared is forgotten.
    pub fn append<I>(
        &mut self,
        records: I,
        defer_sync: bool,
    ) -> Result<(Vec<Appended>, Option<Unsynced>), StoreError>
    where
        I: IntoIterator<Item: AsRecord>,
    {
        let appended = if defer_sync {
            self.log.append_batch_unsynced(records)
        } else {
            self.log.append_batch(records).map(|a| (a, None))
        };
        match appended {
            Ok(a) => Ok(a),
            Err(e) => {
                self.relearn_references()?;
                Err(e.into())
            }
        }
    }

    /// Forgets what was noted and learns again from the log what its events
    /// declare: after an event whose declarations were noted was not stored.
    pub fn relearn_references(&mut self) -> Result<(), StoreError> {
        self.references = references_of(&self.log)?;
        Ok(())
    }

    /// Keeps refused items with their reasons, durably.
    pub fn dead_letter(&mut self, letters: &[DeadLetter]) -> Result<(), StoreError> {
        if letters.is_empty() {
            return Ok(());
        }
        let encoded: Vec<(Uuid, Vec<u8>)> = letters
            .iter()
            .map(|l| {
                let bytes = serde_json::to_vec(l).expect("a dead letter serializes");
                (Uuid::new_v4(), bytes)
            })
            .collect();
        self.dead
            .append_batch(encoded.iter().map(|(id, b)| (*id, b.as_slice())))?;
        Ok(())
    }
}

impl ReadBack for EventStore {
    fn scan_log(&self, start: u64, f: &mut dyn FnMut(Record)) -> Result<(), LogError> {
        self.log.scan_from(start, f)
    }

    fn scan_dead_letters(&self, f: &mut dyn FnMut(Record)) -> Result<(), LogError> {
        self.dead.scan(f)
    }
}
