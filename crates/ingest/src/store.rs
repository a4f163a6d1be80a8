//! Validated events to the log, rejected ones to the dead-letter store.

use std::path::{Path, PathBuf};

use cadre_log::{Appended, Log, LogError, LogOptions, LogReader, Record, Recovery};
use cadre_model::Event;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::body::Item;
use crate::validate::Validator;

/// Where a data directory keeps what.
#[derive(Debug, Clone)]
pub struct StoreLayout {
    /// The data directory.
    pub root: PathBuf,
}

impl StoreLayout {
    /// The layout under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StoreLayout { root: root.into() }
    }

    /// The event log's directory.
    pub fn log_dir(&self) -> PathBuf {
        self.root.join("log")
    }

    /// The dead-letter store's directory.
    pub fn dead_letter_dir(&self) -> PathBuf {
        self.root.join("dead-letter")
    }

    /// The projection checkpoint (a cache of the folded log).
    pub fn checkpoint_path(&self) -> PathBuf {
        self.root.join("projection").join("timeline.ckpt")
    }
}

/// Failures of the store itself (not of an event).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The log or dead-letter store failed; nothing in the batch was acknowledged.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A stored record does not decode: the log was written by an incompatible build, or damaged.
    #[error("stored event #{seq} does not decode: {reason}")]
    Stored {
        /// Its sequence number.
        seq: u64,
        /// Why.
        reason: String,
    },
}

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

/// A rejected item as kept in the dead-letter store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// When it was rejected.
    pub received_at: DateTime<Utc>,
    /// Where it came from (e.g. `http`, `file:events.ndjson`).
    pub channel: String,
    /// Position in its batch or file.
    pub position: usize,
    /// JSON pointer of the offending value.
    pub path: String,
    /// What is wrong.
    pub reason: String,
    /// The item as received.
    pub raw: String,
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

/// Validates and stores events.
#[derive(Debug)]
pub struct Ingestor {
    validator: Validator,
    log: Log,
    dead: Log,
}

impl Ingestor {
    /// Opens the stores under a data directory, recovering torn tails.
    pub fn open(layout: &StoreLayout) -> Result<(Ingestor, Vec<Recovery>), IngestError> {
        let (log, r1) = Log::open(&layout.log_dir(), LogOptions::default())?;
        let (dead, r2) = Log::open(&layout.dead_letter_dir(), LogOptions::default())?;
        Ok((
            Ingestor {
                validator: Validator::new(),
                log,
                dead,
            },
            r1.into_iter().chain(r2).collect(),
        ))
    }

    /// The event log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Number of dead letters stored.
    pub fn dead_letters(&self) -> u64 {
        self.dead.len()
    }

    /// Validates a batch, stores what is valid and dead-letters the rest.
    ///
    /// Returns only after everything is durable. On error no outcome may be
    /// taken as acknowledged; a retry is safe (stored events come back as duplicates).
    pub fn ingest(&mut self, channel: &str, items: Vec<Item>) -> Result<Batch, IngestError> {
        let now = Utc::now();
        let mut outcomes = Vec::with_capacity(items.len());
        let mut valid: Vec<(usize, usize, Event, Vec<u8>)> = Vec::new();
        let mut dead: Vec<(Uuid, Vec<u8>)> = Vec::new();
        for item in items {
            let checked = item
                .parsed
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|v| self.validator.validate(v));
            match checked {
                Ok(event) => {
                    let bytes = event.to_json().into_bytes();
                    outcomes.push(None);
                    valid.push((outcomes.len() - 1, item.position, event, bytes));
                }
                Err(rej) => {
                    let event_id = item
                        .parsed
                        .as_ref()
                        .ok()
                        .and_then(|v| v.get("event_id"))
                        .and_then(|v| v.as_str())
                        .map(|s| s.chars().take(64).collect());
                    let letter = DeadLetter {
                        received_at: now,
                        channel: channel.to_string(),
                        position: item.position,
                        path: rej.path.clone(),
                        reason: rej.reason.clone(),
                        raw: item.raw,
                    };
                    dead.push((
                        Uuid::new_v4(),
                        serde_json::to_vec(&letter).expect("serializes"),
                    ));
                    outcomes.push(Some(Outcome::Rejected {
                        position: item.position,
                        event_id,
                        path: rej.path,
                        reason: rej.reason,
                    }));
                }
            }
        }
        if !dead.is_empty() {
            self.dead
                .append_batch(dead.iter().map(|(id, b)| (*id, b.as_slice())))?;
        }
        let appended = self
            .log
            .append_batch(valid.iter().map(|(_, _, e, b)| (e.event_id, b.as_slice())))?;
        let mut stored = Vec::new();
        for ((slot, position, event, _), result) in valid.into_iter().zip(appended) {
            let event_id = event.event_id;
            outcomes[slot] = Some(match result {
                Appended::Stored(seq) => {
                    stored.push((seq, event));
                    Outcome::Accepted {
                        position,
                        event_id,
                        seq,
                    }
                }
                Appended::Duplicate => Outcome::Duplicate { position, event_id },
            });
        }
        Ok(Batch {
            outcomes: outcomes
                .into_iter()
                .map(|o| o.expect("every item has an outcome"))
                .collect(),
            stored,
        })
    }

    /// Calls `f` with every stored event in log order.
    pub fn replay(&self, f: impl FnMut(u64, Event)) -> Result<(), IngestError> {
        self.replay_after(None, f).map(|_| ())
    }

    /// Calls `f` with every stored event after the one at `after` (its
    /// sequence number and id), or with every event when `after` is `None`.
    /// Returns `false`, having called `f` for nothing, when the log holds no
    /// such event there: it is not the log a checkpoint was taken from.
    pub fn replay_after(
        &self,
        after: Option<(u64, Uuid)>,
        f: impl FnMut(u64, Event),
    ) -> Result<bool, IngestError> {
        decode_after(|start, g| self.log.scan_from(start, g), after, f)
    }

    /// Every dead letter, oldest first.
    pub fn read_dead_letters(&self) -> Result<Vec<DeadLetter>, IngestError> {
        letters(|g| self.dead.scan(g))
    }

    /// The data directory's log path (for messages).
    pub fn log_dir(&self) -> &Path {
        self.log.dir()
    }
}

/// Decodes every record after `after` that a scan yields, stopping at the
/// first that does not decode; `false` when the record at `after` is not there.
fn decode_after<S, R>(
    scan: S,
    after: Option<(u64, Uuid)>,
    mut f: impl FnMut(u64, Event),
) -> Result<bool, IngestError>
where
    S: FnOnce(u64, &mut dyn FnMut(Record)) -> Result<R, LogError>,
{
    let mut bad = None;
    // before the first record: is it the one `after` names?
    let mut resumed = after.is_none();
    let mut mismatch = false;
    scan(after.map_or(0, |(seq, _)| seq), &mut |r: Record| {
        if bad.is_some() || mismatch {
            return;
        }
        if !resumed {
            resumed = true;
            mismatch = Some((r.seq, r.id)) != after;
            return;
        }
        match std::str::from_utf8(&r.payload)
            .map_err(|e| e.to_string())
            .and_then(|t| Event::from_json(t).map_err(|e| e.to_string()))
        {
            Ok(e) => f(r.seq, e),
            Err(reason) => bad = Some(IngestError::Stored { seq: r.seq, reason }),
        }
    })?;
    bad.map_or(Ok(resumed && !mismatch), Err)
}

fn letters<S, R>(scan: S) -> Result<Vec<DeadLetter>, IngestError>
where
    S: FnOnce(&mut dyn FnMut(Record)) -> Result<R, LogError>,
{
    let mut out = Vec::new();
    scan(&mut |r: Record| {
        if let Ok(d) = serde_json::from_slice(&r.payload) {
            out.push(d);
        }
    })?;
    Ok(out)
}

/// Read-only access to a data directory, safe beside a running `cadre serve`.
#[derive(Debug)]
pub struct StoreReader {
    log: LogReader,
    dead: LogReader,
}

impl StoreReader {
    /// Opens the stores under a data directory for reading; takes no lock, changes nothing.
    pub fn open(layout: &StoreLayout) -> Result<StoreReader, IngestError> {
        Ok(StoreReader {
            log: LogReader::open(&layout.log_dir())?,
            dead: LogReader::open(&layout.dead_letter_dir())?,
        })
    }

    /// Calls `f` with every stored event in log order.
    pub fn replay(&self, f: impl FnMut(u64, Event)) -> Result<(), IngestError> {
        self.replay_after(None, f).map(|_| ())
    }

    /// As [`Ingestor::replay_after`].
    pub fn replay_after(
        &self,
        after: Option<(u64, Uuid)>,
        f: impl FnMut(u64, Event),
    ) -> Result<bool, IngestError> {
        decode_after(|start, g| self.log.scan_from(start, g), after, f)
    }

    /// Every dead letter, oldest first.
    pub fn read_dead_letters(&self) -> Result<Vec<DeadLetter>, IngestError> {
        letters(|g| self.dead.scan(g))
    }

    /// Bytes of the event log on disk.
    pub fn log_bytes(&self) -> u64 {
        self.log.disk_bytes()
    }
}
