//! Validated events to the log, rejected ones to the dead-letter store.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};

use cadre_log::{
    Appended, Log, LogError, LogOptions, LogReader, Record, Recovery, Sealed, Unsynced,
};
use cadre_model::{Event, EventType};
use cadre_projection::References;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::body::Item;
use crate::validate::{check_dates, Rejection, Validator};

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

    /// The audit log of access to individuals' data.
    pub fn audit_log_path(&self) -> PathBuf {
        self.root.join("audit.jsonl")
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
    log: Log,
    dead: Log,
    config: IngestConfig,
    /// What stored events declare, for reference checks.
    references: References,
}

impl Ingestor {
    /// Opens the stores under a data directory, recovering torn tails.
    pub fn open(layout: &StoreLayout) -> Result<(Ingestor, Vec<Recovery>), IngestError> {
        // what the stored events declare, learnt while the log reads them to open
        let mut fold = ReferenceFold::default();
        let (log, r1) = Log::open_observing(
            &layout.log_dir(),
            LogOptions::default(),
            |seq, _, payload| fold.observe(seq, payload),
        )?;
        let (dead, r2) = Log::open(&layout.dead_letter_dir(), LogOptions::default())?;
        let references = fold.finish()?;
        Ok((
            Ingestor {
                judge: Judge {
                    validator: Arc::new(Validator::new()),
                    max_future_hours: IngestConfig::default().max_future_hours,
                },
                log,
                dead,
                config: IngestConfig::default(),
                references,
            },
            r1.into_iter().chain(r2).collect(),
        ))
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

    /// The event log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Number of dead letters stored.
    pub fn dead_letters(&self) -> u64 {
        self.dead.len()
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
        match self.references.check(event) {
            Err(d) if !self.log.contains(&event.event_id) => Err(Rejection::new(d.path, d.reason)),
            _ => Ok(()),
        }
    }

    /// Validates a batch, stores what is valid and dead-letters the rest.
    ///
    /// Items are judged in order, so an event may refer to a hire or a
    /// position defined earlier in the same batch. Returns only after
    /// everything is durable. On error no outcome may be taken as
    /// acknowledged; a retry is safe (stored events come back as duplicates).
    pub fn ingest(&mut self, channel: &str, items: Vec<Item>) -> Result<Batch, IngestError> {
        let judged = self.judge.judge(items);
        self.store(channel, judged)
    }

    /// Stores a batch judged by [`Ingestor::judge`]: checks what each event
    /// refers to, in batch order, then stores as [`Ingestor::ingest`] does.
    pub fn store(&mut self, channel: &str, judged: Judged) -> Result<Batch, IngestError> {
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
    ) -> Result<(Batch, Option<Unsynced>), IngestError> {
        self.store_with(channel, judged, true)
    }

    fn store_with(
        &mut self,
        channel: &str,
        judged: Judged,
        defer_sync: bool,
    ) -> Result<(Batch, Option<Unsynced>), IngestError> {
        let Judged { now, items } = judged;
        // the items stay where the judging threads put them: each event is
        // moved once, into `stored`
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(items.len());
        let mut dead: Vec<(Uuid, Vec<u8>)> = Vec::new();
        let reject =
            |item: &Item, verdict: &Verdict, rej: Rejection, dead: &mut Vec<(Uuid, Vec<u8>)>| {
                let event_id = match verdict {
                    Ok((event, _)) => Some(event.event_id.to_string()),
                    Err(_) => item.parse().ok().and_then(|v| {
                        v.get("event_id")?
                            .as_str()
                            .map(|s| s.chars().take(64).collect())
                    }),
                };
                let letter = DeadLetter {
                    received_at: now,
                    channel: channel.to_string(),
                    position: item.position,
                    path: rej.path.clone(),
                    reason: rej.reason.clone(),
                    raw: received(item, verdict),
                };
                dead.push((
                    Uuid::new_v4(),
                    serde_json::to_vec(&letter).expect("serializes"),
                ));
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
                    self.references.note(event);
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
        let appended = if defer_sync {
            self.log.append_batch_unsynced(records)
        } else {
            self.log.append_batch(records).map(|a| (a, None))
        };
        let (appended, unsynced) = match appended {
            Ok(a) => a,
            Err(e) => {
                // forget what the unstored part of the batch declared
                self.references = references_of(&self.log)?;
                return Err(e.into());
            }
        };
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
            self.references = references_of(&self.log)?;
        }
        if !dead.is_empty() {
            self.dead
                .append_batch(dead.iter().map(|(id, b)| (*id, b.as_slice())))?;
        }
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
        self.log.dir()
    }
}

/// Reading a data directory's events and dead letters back, the same way
/// for its writer ([`Ingestor`]) and for a reader beside it ([`StoreReader`]).
pub trait ReadBack {
    /// Calls `f` with every record of the event log from sequence number `start` on.
    fn scan_log(&self, start: u64, f: &mut dyn FnMut(Record)) -> Result<(), LogError>;

    /// Calls `f` with every record of the dead-letter store.
    fn scan_dead_letters(&self, f: &mut dyn FnMut(Record)) -> Result<(), LogError>;

    /// Calls `f` with every stored event in log order.
    fn replay(&self, f: impl FnMut(u64, Event)) -> Result<(), IngestError> {
        self.replay_after(None, f).map(|_| ())
    }

    /// Calls `f` with every stored event after the one at `after` (its
    /// sequence number and id), or with every event when `after` is `None`.
    /// Returns `false`, having called `f` for nothing, when the log holds no
    /// such event there: it is not the log a checkpoint was taken from.
    fn replay_after(
        &self,
        after: Option<(u64, Uuid)>,
        f: impl FnMut(u64, Event),
    ) -> Result<bool, IngestError> {
        decode_after(|start, g| self.scan_log(start, g), after, f)
    }

    /// Every dead letter, oldest first.
    fn read_dead_letters(&self) -> Result<Vec<DeadLetter>, IngestError> {
        letters(|g| self.scan_dead_letters(g))
    }
}

impl ReadBack for Ingestor {
    fn scan_log(&self, start: u64, f: &mut dyn FnMut(Record)) -> Result<(), LogError> {
        self.log.scan_from(start, f)
    }

    fn scan_dead_letters(&self, f: &mut dyn FnMut(Record)) -> Result<(), LogError> {
        self.dead.scan(f)
    }
}

impl ReadBack for StoreReader {
    fn scan_log(&self, start: u64, f: &mut dyn FnMut(Record)) -> Result<(), LogError> {
        self.log.scan_from(start, f).map(|_| ())
    }

    fn scan_dead_letters(&self, f: &mut dyn FnMut(Record)) -> Result<(), LogError> {
        self.dead.scan(f).map(|_| ())
    }
}

/// Records decoded together, on every core, before `f` sees them in order.
const DECODE_CHUNK: usize = 4096;

/// A chunk of records decoded, each with its sequence number.
type Decoded = Vec<Result<(u64, Event), IngestError>>;

/// Decodes every record after `after` that a scan yields, stopping at the
/// first that does not decode; `false` when the record at `after` is not there.
///
/// A second thread decodes the records a chunk at a time, on every core,
/// while `f` takes the chunk before in log order.
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
    let mut deliver = |decoded: Decoded, bad: &mut Option<IngestError>| {
        for d in decoded {
            match d {
                Ok((seq, e)) if bad.is_none() => f(seq, e),
                Ok(_) => {}
                Err(e) => {
                    bad.get_or_insert(e);
                }
            }
        }
    };
    let scanned = std::thread::scope(|scope| {
        let (to_decode, chunks) = mpsc::sync_channel::<Vec<Record>>(1);
        let (to_deliver, decoded) = mpsc::sync_channel::<Decoded>(1);
        scope.spawn(move || {
            for chunk in chunks {
                let d = chunk
                    .par_iter()
                    .with_min_len(256)
                    .map(|r| decode(r.seq, &r.payload).map(|e| (r.seq, e)))
                    .collect();
                if to_deliver.send(d).is_err() {
                    break;
                }
            }
        });
        let mut chunk: Vec<Record> = Vec::with_capacity(DECODE_CHUNK);
        let mut in_flight = 0usize;
        let scanned = scan(after.map_or(0, |(seq, _)| seq), &mut |r: Record| {
            if bad.is_some() || mismatch {
                return;
            }
            if !resumed {
                resumed = true;
                mismatch = Some((r.seq, r.id)) != after;
                return;
            }
            chunk.push(r);
            if chunk.len() == DECODE_CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(DECODE_CHUNK));
                to_decode.send(full).expect("the decoding thread runs");
                in_flight += 1;
                // one chunk decodes while the one before is delivered
                if in_flight > 1 {
                    deliver(decoded.recv().expect("a decoded chunk"), &mut bad);
                    in_flight -= 1;
                }
            }
        });
        if scanned.is_ok() && bad.is_none() && !chunk.is_empty() {
            to_decode.send(chunk).expect("the decoding thread runs");
        }
        drop(to_decode);
        if scanned.is_ok() {
            for d in decoded {
                deliver(d, &mut bad);
            }
        }
        scanned
    });
    scanned?;
    bad.map_or(Ok(resumed && !mismatch), Err)
}

/// Decodes one stored record: stored text is canonical, which the compact
/// reader reads; serde reads anything else (an erasure's redaction, a
/// record of an older version).
fn decode(seq: u64, payload: &[u8]) -> Result<Event, IngestError> {
    std::str::from_utf8(payload)
        .map_err(|e| e.to_string())
        .and_then(|t| {
            Event::from_compact_json(t)
                .map_or_else(|| Event::from_json(t).map_err(|e| e.to_string()), Ok)
        })
        .map_err(|reason| IngestError::Stored { seq, reason })
}

/// What the stored events declare, from a fresh read of the log.
fn references_of(log: &Log) -> Result<References, IngestError> {
    let mut fold = ReferenceFold::default();
    log.scan(|r| fold.observe(r.seq, &r.payload))?;
    fold.finish()
}

/// Learns what stored events declare, record by record. Only reference
/// events and hires are decoded: the type is read from the end of the stored
/// JSON (its keys are sorted, so `type` comes last), and anything not
/// recognised is decoded in full.
#[derive(Default)]
struct ReferenceFold {
    refs: References,
    bad: Option<IngestError>,
}

impl ReferenceFold {
    fn observe(&mut self, seq: u64, payload: &[u8]) {
        if self.bad.is_some() || stored_type(payload).is_some_and(|t| !References::declares(t)) {
            return;
        }
        match decode(seq, payload) {
            Ok(e) => self.refs.note(&e),
            Err(e) => self.bad = Some(e),
        }
    }

    fn finish(self) -> Result<References, IngestError> {
        self.bad.map_or(Ok(self.refs), Err)
    }
}

/// The event type of a stored payload, read from its end without parsing it.
fn stored_type(payload: &[u8]) -> Option<EventType> {
    const KEY: &[u8] = b"\"type\":\"";
    let tail = &payload[payload.len().saturating_sub(64)..];
    let at = tail.windows(KEY.len()).rposition(|w| w == KEY)? + KEY.len();
    let name = tail[at..].strip_suffix(b"\"}")?;
    EventType::parse(std::str::from_utf8(name).ok()?)
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

    /// Bytes of the event log on disk.
    pub fn log_bytes(&self) -> u64 {
        self.log.disk_bytes()
    }
}
