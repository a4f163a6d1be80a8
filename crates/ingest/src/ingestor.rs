//! Judging and storing a batch: each item's outcome, the judge that runs on
//! every core, and the [`Ingestor`] that checks references in batch order
//! and hands the valid events to the [`EventStore`].

use std::path::Path;
use std::sync::Arc;

use cadre_log::{Appended, Log, Recovery, Sealed, Unsynced, MAX_RECORD_LEN};
use cadre_model::Event;
use cadre_projection::References;
use cadre_store::{DeadLetter, EventStore, ReadBack, StoreError, StoreLayout};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::body::Item;
use crate::validate::{check_dates, Rejection, Validator};

/// What happened to one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Stored durably at `seq`.
    Accepted {
        /// Position in the batch.
        position: usize,
        /// The event's id.
        event_id: Uuid,
        /// Its sequence number in the log.
        seq: u64,
    },
    /// Already stored earlier; not stored again.
    Duplicate {
        /// Position in the batch.
        position: usize,
        /// The event's id.
        event_id: Uuid,
    },
    /// Invalid; written to the dead-letter store.
    Rejected {
        /// Position in the batch.
        position: usize,
        /// The event's id, when it could be read.
        #[serde(skip_serializing_if = "Option::is_none")]
        event_id: Option<String>,
        /// JSON pointer of the offending value.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// The result of one batch.
#[derive(Debug, Default)]
pub struct Batch {
    /// One outcome per item, in order.
    pub outcomes: Vec<Outcome>,
    /// Newly stored events with their sequence numbers, for projections.
    pub stored: Vec<(u64, Event)>,
}

impl Batch {
    /// How many items had each outcome: (accepted, duplicate, rejected).
    pub fn counts(&self) -> (usize, usize, usize) {
        self.outcomes
            .iter()
            .fold((0, 0, 0), |(a, d, r), o| match o {
                Outcome::Accepted { .. } => (a + 1, d, r),
                Outcome::Duplicate { .. } => (a, d + 1, r),
                Outcome::Rejected { .. } => (a, d, r + 1),
            })
    }
}

/// How ingest judges events beyond their schema (`[ingest]` in the settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Refuse events that refer to an employee, position, role, org unit,
    /// framework or competency not stored yet, or to a level beyond a
    /// framework's scale. Turn off only for a feed that cannot keep hires and
    /// reference events ahead of what refers to them.
    pub check_references: bool,
    /// How many hours past this machine's clock an `occurred_at` may be.
    /// Raise it to accept changes entered ahead of the day they take effect.
    pub max_future_hours: u32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            check_references: true,
            max_future_hours: 24,
        }
    }
}

/// What a re-sent event id with a different payload is told.
const CONFLICT: &str = "an event with this event_id is already stored with different content; stored events never change: send the correction as a new event with a new event_id";

/// Judges items on their own (schema, dates) and encodes the valid ones
/// for the log: the part of ingest that needs nothing stored, so that it
/// can run on every core, and beside the storing of the previous batch.
#[derive(Debug, Clone)]
pub struct Judge {
    validator: Arc<Validator>,
    max_future_hours: u32,
}

/// A batch judged, waiting to be stored ([`Ingestor::store`]).
#[derive(Debug)]
pub struct Judged {
    now: DateTime<Utc>,
    items: Vec<(Item, Verdict)>,
}

/// An item's event and its canonical text sealed for the log, or why it is
/// refused. An item received in exactly its canonical text gives its text to
/// the seal and keeps an empty `raw` ([`received`]).
type Verdict = Result<(Event, Sealed), Rejection>;

impl Judge {
    /// Judges every item of a batch, on every core.
    pub fn judge(&self, items: Vec<Item>) -> Judged {
        let now = Utc::now();
        let items = items
            .into_par_iter()
            .with_min_len(256)
            .map_init(Vec::new, |scratch, mut item| {
                let judged = self.one(&mut item, scratch, now);
                (item, judged)
            })
            .collect();
        Judged { now, items }
    }

    fn one(&self, item: &mut Item, scratch: &mut Vec<u8>, now: DateTime<Utc>) -> Verdict {
        let event = self.validator.judge(item)?;
        check_dates(&event, now, self.max_future_hours)?;
        scratch.clear();
        event.write_json(scratch);
        if scratch.len() > MAX_RECORD_LEN {
            return Err(Rejection::new(
                "",
                format!(
                    "the event is {} bytes; a stored event may be at most {MAX_RECORD_LEN} bytes: shorten its texts",
                    scratch.len()
                ),
            ));
        }
        // one buffer per event, not two, freed by the storing thread: the
        // text as received when it is canonical already
        let text = if scratch[..] == *item.raw.as_bytes() {
            std::mem::take(&mut item.raw).into_bytes()
        } else {
            scratch.clone()
        };
        // sealed here, while the text is in this core's cache: the storing
        // thread, which bounds an import, only copies it
        let sealed = Sealed::new(event.event_id, text);
        Ok((event, sealed))
    }
}

/// The text an item was received in, for its dead letter: an item whose
/// canonical text was its text gave it to its seal ([`Verdict`]).
fn received(item: &Item, verdict: &Verdict) -> String {
    match verdict {
        Ok((_, sealed)) if item.raw.is_empty() => {
            String::from_utf8_lossy(sealed.payload()).into_owned()
        }
        _ => item.raw.clone(),
    }
}

/// Validates and stores events.
#[derive(Debug)]
pub struct Ingestor {
    judge: Judge,
    store: EventStore,
    config: IngestConfig,
}

impl Ingestor {
    /// Opens the stores under a data directory, recovering torn tails.
    pub fn open(layout: &StoreLayout) -> Result<(Ingestor, Vec<Recovery>), StoreError> {
        let (store, recoveries) = EventStore::open(layout)?;
        let ingestor = Ingestor {
            judge: Judge {
                validator: Arc::new(Validator::new()),
                max_future_hours: IngestConfig::default().max_future_hours,
            },
            store,
            config: IngestConfig::default(),
        };
        Ok((ingestor, recoveries))
    }

    /// Sets how events are judged beyond their schema.
    pub fn set_config(&mut self, config: IngestConfig) {
        self.judge.max_future_hours = config.max_future_hours;
        self.config = config;
    }

    /// The judging half of ingest, to judge the next batch while this one is stored.
    pub fn judge(&self) -> Judge {
        self.judge.clone()
    }

    /// The event store.
    pub fn event_store(&self) -> &EventStore {
        &self.store
    }

    /// The event log.
    pub fn log(&self) -> &Log {
        self.store.log()
    }

    /// Number of dead letters stored.
    pub fn dead_letters(&self) -> u64 {
        self.store.dead_letters()
    }

    /// Checks what an event refers to (unless it is a re-send), in batch order.
    ///
    /// The log is asked whether the event is a re-send only when a reference
    /// is missing: nearly every event's references are there, and the lookup
    /// in an index of every stored id is the dearer of the two.
    fn check_references(&self, event: &Event) -> Result<(), Rejection> {
        if !self.config.check_references {
            return Ok(());
        }
        match self.store.references().check(event) {
            Err(d) if !self.store.contains(&event.event_id) => {
                Err(Rejection::new(d.path, d.reason))
            }
            _ => Ok(()),
        }
    }

    /// Validates a batch, stores what is valid and dead-letters the rest.
    ///
    /// Items are judged in order, so an event may refer to a hire or a
    /// position defined earlier in the same batch. Returns only after
    /// everything is durable. On error no outcome may be taken as
    /// acknowledged; a retry is safe (stored events come back as duplicates).
    pub fn ingest(&mut self, channel: &str, items: Vec<Item>) -> Result<Batch, StoreError> {
        let judged = self.judge.judge(items);
        self.store(channel, judged)
    }

    /// Stores a batch judged by [`Ingestor::judge`]: checks what each event
    /// refers to, in batch order, then stores as [`Ingestor::ingest`] does.
    pub fn store(&mut self, channel: &str, judged: Judged) -> Result<Batch, StoreError> {
        let (batch, unsynced) = self.store_with(channel, judged, false)?;
        debug_assert!(unsynced.is_none());
        Ok(batch)
    }

    /// Stores a batch as [`Ingestor::store`] does but leaves the log's last
    /// `fsync` to the caller ([`Log::append_batch_unsynced`]): no outcome
    /// may be reported before [`Unsynced::sync`] returns, and after a failed
    /// sync this ingestor must not be used again. Dead letters are synced
    /// here. For an import, which checks the next batch while this one syncs.
    pub fn store_unsynced(
        &mut self,
        channel: &str,
        judged: Judged,
    ) -> Result<(Batch, Option<Unsynced>), StoreError> {
        self.store_with(channel, judged, true)
    }

    fn store_with(
        &mut self,
        channel: &str,
        judged: Judged,
        defer_sync: bool,
    ) -> Result<(Batch, Option<Unsynced>), StoreError> {
        let Judged { now, items } = judged;
        // the items stay where the judging threads put them: each event is
        // moved once, into `stored`
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(items.len());
        let mut dead: Vec<DeadLetter> = Vec::new();
        let reject =
            |item: &Item, verdict: &Verdict, rej: Rejection, dead: &mut Vec<DeadLetter>| {
                let event_id = match verdict {
                    Ok((event, _)) => Some(event.event_id.to_string()),
                    Err(_) => item.parse().ok().and_then(|v| {
                        v.get("event_id")?
                            .as_str()
                            .map(|s| s.chars().take(64).collect())
                    }),
                };
                let letter = DeadLetter::new(
                    now,
                    channel,
                    item.position,
                    rej.path.clone(),
                    rej.reason.clone(),
                    received(item, verdict),
                );
                dead.push(letter);
                Outcome::Rejected {
                    position: item.position,
                    event_id,
                    path: rej.path,
                    reason: rej.reason,
                }
            };
        for (item, verdict) in &items {
            let checked = match verdict {
                Ok((event, _)) => self.check_references(event).map(|()| event),
                Err(rej) => Err(rej.clone()),
            };
            outcomes.push(match checked {
                Ok(event) => {
                    // later items of the batch may refer to what this one declares
                    self.store.note(event);
                    None
                }
                Err(rej) => Some(reject(item, verdict, rej, &mut dead)),
            });
        }
        // the valid items (those without an outcome yet), in order
        let valid = || {
            items
                .iter()
                .zip(&outcomes)
                .filter(|(_, o)| o.is_none())
                .filter_map(|((item, verdict), _)| Some((item, verdict.as_ref().ok()?)))
        };
        let records = valid().map(|(_, (_, sealed))| sealed);
        // on failure the store forgets what the unstored part declared
        let (appended, unsynced) = self.store.append(records, defer_sync)?;
        let mut stored = Vec::with_capacity(appended.len());
        let mut forget = false;
        let mut results = appended.into_iter();
        for ((item, verdict), outcome) in items.into_iter().zip(outcomes.iter_mut()) {
            let (Ok((event, sealed)), None) = (verdict, &outcome) else {
                continue;
            };
            let (position, event_id) = (item.position, event.event_id);
            let result = results.next().expect("one result per valid item");
            *outcome = Some(match result {
                Appended::Stored(seq) => {
                    stored.push((seq, event));
                    Outcome::Accepted {
                        position,
                        event_id,
                        seq,
                    }
                }
                Appended::Duplicate => Outcome::Duplicate { position, event_id },
                Appended::Conflict => {
                    forget |= References::declares(event.event_type());
                    let conflict = Rejection::new("/event_id", CONFLICT);
                    reject(&item, &Ok((event, sealed)), conflict, &mut dead)
                }
            });
        }
        if forget {
            self.store.relearn_references()?;
        }
        self.store.dead_letter(&dead)?;
        let batch = Batch {
            outcomes: outcomes
                .into_iter()
                .map(|o| o.expect("every item has an outcome"))
                .collect(),
            stored,
        };
        Ok((batch, unsynced))
    }

    /// The data directory's log path (for messages).
    pub fn log_dir(&self) -> &Path {
        self.store.log_dir()
    }
}

/// Reads back through its store, as a [`cadre_store::StoreReader`] does.
impl ReadBack for Ingestor {
    fn scan_log(
        &self,
        start: u64,
        f: &mut dyn FnMut(cadre_log::Record),
    ) -> Result<(), cadre_log::LogError> {
        self.store.scan_log(start, f)
    }

    fn scan_dead_letters(
        &self,
        f: &mut dyn FnMut(cadre_log::Record),
    ) -> Result<(), cadre_log::LogError> {
        self.store.scan_dead_letters(f)
    }
}
