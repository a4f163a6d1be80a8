//! Reading a data directory back: its events in log order (decoded on every
//! core, upcast to the current version) and its dead letters, the same way
//! for the writer ([`EventStore`](crate::EventStore)) and for a reader beside
//! it ([`StoreReader`]).

use std::sync::mpsc;

use cadre_log::{LogError, LogReader, Record};
use cadre_model::Event;
use rayon::prelude::*;
use uuid::Uuid;

use crate::dead_letter::letters;
use crate::{DeadLetter, StoreError, StoreLayout};

/// Reading a data directory's events and dead letters back, the same way
/// for its writer ([`EventStore`](crate::EventStore)) and for a reader
/// beside it ([`StoreReader`]).
pub trait ReadBack {
    /// Calls `f` with every record of the event log from sequence number `start` on.
    fn scan_log(&self, start: u64, f: &mut dyn FnMut(Record)) -> Result<(), LogError>;

    /// Calls `f` with every record of the dead-letter store.
    fn scan_dead_letters(&self, f: &mut dyn FnMut(Record)) -> Result<(), LogError>;

    /// Calls `f` with every stored event in log order.
    fn replay(&self, f: impl FnMut(u64, Event)) -> Result<(), StoreError> {
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
    ) -> Result<bool, StoreError> {
        decode_after(|start, g| self.scan_log(start, g), after, f)
    }

    /// Every dead letter, oldest first.
    fn read_dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        letters(|g| self.scan_dead_letters(g))
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
type Decoded = Vec<Result<(u64, Event), StoreError>>;

/// Decodes every record after `after` that a scan yields, stopping at the
/// first that does not decode; `false` when the record at `after` is not there.
///
/// A second thread decodes the records a chunk at a time, on every core,
/// while `f` takes the chunk before in log order.
fn decode_after<S, R>(
    scan: S,
    after: Option<(u64, Uuid)>,
    mut f: impl FnMut(u64, Event),
) -> Result<bool, StoreError>
where
    S: FnOnce(u64, &mut dyn FnMut(Record)) -> Result<R, LogError>,
{
    let mut bad = None;
    // before the first record: is it the one `after` names?
    let mut resumed = after.is_none();
    let mut mismatch = false;
    let mut deliver = |decoded: Decoded, bad: &mut Option<StoreError>| {
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
pub(crate) fn decode(seq: u64, payload: &[u8]) -> Result<Event, StoreError> {
    std::str::from_utf8(payload)
        .map_err(|e| e.to_string())
        .and_then(|t| {
            Event::from_compact_json(t)
                .map_or_else(|| Event::from_json(t).map_err(|e| e.to_string()), Ok)
        })
        .map_err(|reason| StoreError::Stored { seq, reason })
}

/// Read-only access to a data directory, safe beside a running `cadre serve`.
#[derive(Debug)]
pub struct StoreReader {
    log: LogReader,
    dead: LogReader,
}

impl StoreReader {
    /// Opens the stores under a data directory for reading; takes no lock, changes nothing.
    pub fn open(layout: &StoreLayout) -> Result<StoreReader, StoreError> {
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
