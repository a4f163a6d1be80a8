//! The embedded, durable, append-only event log.
//!
//! A log is a directory of segment files (`00000000.seg`, `00000001.seg`, ...).
//! Each segment starts with an 8-byte magic and holds records framed as
//! `len: u32 LE | crc32: u32 LE | id: 16 bytes | payload: len bytes`, where the
//! checksum covers id and payload. The log owns three promises:
//!
//! - **durability**: [`Log::append_batch`] returns only after the batch is
//!   written and `fsync`ed, so an acknowledged record survives a crash;
//! - **integrity**: on open, a torn or corrupt tail of the last segment is
//!   detected, reported in a [`Recovery`] and truncated; it is never read.
//!   Damage anywhere else is an error, because truncating there would lose
//!   acknowledged records;
//! - **idempotence**: a record whose id is already stored with the same
//!   payload is not written again and is reported as [`Appended::Duplicate`];
//!   one whose id is stored with a *different* payload is refused as
//!   [`Appended::Conflict`] (a record, once stored, never changes).
//!
//! The log stores opaque payloads; it does not parse events. One process at a
//! time may open a directory (an advisory lock guards it).
//!
//! The one exception to "a record never changes" is erasure ([`Log::rewrite`],
//! for a person's right to be forgotten): a record may be replaced by a
//! redacted payload or erased to nothing. A rewritten record keeps its id and
//! its sequence number, is flagged in the high bit of its length, and any
//! later append of its id is a [`Appended::Duplicate`], so a re-sent original
//! never comes back. An erased record is skipped by every scan. A rewrite
//! writes whole new segments beside the old ones, commits with a marker file
//! and then renames them into place; an interrupted rewrite is finished (or,
//! before its commit, discarded) the next time the log is opened.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use cadre_failpoint::crash_point;
use uuid::Uuid;

const MAGIC: &[u8; 8] = b"CADRLOG1";
const HEADER_LEN: u64 = 24;
/// High bit of a record's length: the record was rewritten by an erasure.
const REWRITTEN: u32 = 1 << 31;
/// Present while a committed rewrite is being renamed into place.
const REWRITE_MARKER: &str = "REWRITE";
/// Suffix of a rewritten segment waiting for its commit.
const REWRITE_SUFFIX: &str = ".seg.new";
/// Largest payload a record may carry.
pub const MAX_RECORD_LEN: usize = 16 * 1024 * 1024;

/// What can go wrong with the log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The operating system refused an operation; retrying may help (disk full, permissions).
    #[error("log io error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Another process holds the directory.
    #[error("data directory {0} is in use by another cadre process; stop it or send events to it over HTTP")]
    Locked(PathBuf),
    /// A segment other than the last is damaged: acknowledged data is at stake, so the log refuses to open.
    #[error("segment {path} is corrupt at byte {offset}: {reason}; restore it from a backup")]
    Corrupt {
        /// The damaged segment.
        path: PathBuf,
        /// Where the damage starts.
        offset: u64,
        /// What was found.
        reason: String,
    },
    /// A payload is larger than [`MAX_RECORD_LEN`].
    #[error("record of {0} bytes is larger than the limit of {MAX_RECORD_LEN} bytes")]
    TooLarge(usize),
}

impl LogError {
    fn io(path: &Path, source: io::Error) -> LogError {
        LogError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A batch written by [`Log::append_batch_unsynced`], durable once
/// [`Unsynced::sync`] returns.
#[derive(Debug)]
pub struct Unsynced {
    file: File,
    path: PathBuf,
}

impl Unsynced {
    /// Makes the batch durable (one `fsync` of its segment).
    pub fn sync(self) -> Result<(), LogError> {
        fsync(&self.file).map_err(|e| LogError::io(&self.path, e))?;
        crash_point("log.after_fsync");
        Ok(())
    }
}

/// The `fsync` that makes appended records durable, after its crash point.
fn fsync(file: &File) -> io::Result<()> {
    crash_point("log.before_fsync");
    file.sync_data()
}

/// What happened to one record handed to [`Log::append_batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Stored at this sequence number (0-based, across all segments).
    Stored(u64),
    /// A record with the same id and payload is already stored; nothing was written.
    Duplicate,
    /// A record with the same id but another payload is already stored; nothing was written.
    Conflict,
}

/// A record to append: its id, its checksum and its payload.
///
/// Implemented by `(Uuid, &[u8])`, whose checksum is computed as the record
/// is appended, and by [`&Sealed`](Sealed), whose checksum was computed
/// beforehand.
pub trait AsRecord {
    /// The record's id, the checksum of id and payload, and the payload.
    fn as_record(&self) -> (Uuid, u32, &[u8]);
}

impl AsRecord for (Uuid, &[u8]) {
    fn as_record(&self) -> (Uuid, u32, &[u8]) {
        (self.0, checksum(self.0, self.1), self.1)
    }
}

/// A payload with its record's checksum, computed where the payload is
/// made, while its bytes are in that core's cache (for an import, on the
/// judging threads): appending it only copies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    id: Uuid,
    crc: u32,
    payload: Vec<u8>,
}

impl Sealed {
    /// Seals `payload` as the record of `id`.
    pub fn new(id: Uuid, payload: Vec<u8>) -> Sealed {
        let crc = checksum(id, &payload);
        Sealed { id, crc, payload }
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

impl AsRecord for &Sealed {
    fn as_record(&self) -> (Uuid, u32, &[u8]) {
        (self.id, self.crc, &self.payload)
    }
}

/// A torn or corrupt tail found and removed when the log was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The segment that was truncated.
    pub segment: PathBuf,
    /// The length it was truncated to.
    pub truncated_at: u64,
    /// How many bytes were dropped.
    pub dropped_bytes: u64,
    /// What was wrong with them.
    pub reason: String,
}

/// Tuning of a log.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// A new segment starts once the active one reaches this size.
    pub segment_bytes: u64,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            segment_bytes: 64 * 1024 * 1024,
        }
    }
}

/// One stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Sequence number.
    pub seq: u64,
    /// The record's id (an event id).
    pub id: Uuid,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

/// The most bytes of a batch's buffer kept for the next batch.
const MAX_SCRATCH: usize = 16 << 20;

/// Ids to a value, hashed with a keyed hash (ahash, random keys per
/// process: event ids come from clients, so the hash must not be
/// predictable) twice as fast as the standard SipHash on UUIDs: the index is
/// looked up and filled for every event stored, on the storing thread.
type IdMap<V> = HashMap<Uuid, V, ahash::RandomState>;

/// A set of ids, hashed as [`IdMap`].
type IdSet = HashSet<Uuid, ahash::RandomState>;

/// An open log directory.
#[derive(Debug)]
pub struct Log {
    dir: PathBuf,
    options: LogOptions,
    segments: Vec<PathBuf>,
    active: File,
    active_len: u64,
    /// Every stored id with the checksum of its record, to tell re-sends from conflicts.
    ids: IdMap<u32>,
    /// Ids whose record an erasure rewrote: any re-send of them is a duplicate.
    rewritten: IdSet,
    /// The bytes of the batch being appended, kept between batches.
    scratch: Vec<u8>,
    _lock: File,
}

/// What a rewrite does to one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewrite {
    /// Leave it as it is.
    Keep,
    /// Replace its payload (same id, same sequence number).
    Replace(Vec<u8>),
    /// Erase its payload; scans skip it from now on.
    Erase,
}

/// What a rewrite changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewritten {
    /// Records whose payload was replaced.
    pub replaced: u64,
    /// Records erased.
    pub erased: u64,
    /// Segment files rewritten.
    pub segments: usize,
}

impl Log {
    /// Opens (or creates) the log in `dir`, recovering a torn tail if there is one.
    pub fn open(dir: &Path, options: LogOptions) -> Result<(Log, Option<Recovery>), LogError> {
        Log::open_observing(dir, options, |_, _, _| {})
    }

    /// Opens the log as [`Log::open`] does, calling `observe(seq, id, payload)`
    /// with every record it keeps while it reads them to build its index, so
    /// that a caller who needs to look at every record reads the log once.
    pub fn open_observing(
        dir: &Path,
        options: LogOptions,
        mut observe: impl FnMut(u64, Uuid, &[u8]),
    ) -> Result<(Log, Option<Recovery>), LogError> {
        fs::create_dir_all(dir).map_err(|e| LogError::io(dir, e))?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| LogError::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(LogError::Locked(dir.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => return Err(LogError::io(&lock_path, e)),
        }

        finish_rewrite(dir)?;
        let mut segments = list_segments(dir)?;
        let mut ids = IdMap::default();
        let mut rewritten = IdSet::default();
        let mut recovery = None;
        let last = segments.len().checked_sub(1);
        for (i, path) in segments.iter().enumerate() {
            let scan = scan_segment(path, |f| {
                if !f.erased() {
                    observe(ids.len() as u64, f.id, f.payload);
                }
                if f.rewritten {
                    rewritten.insert(f.id);
                }
                ids.insert(f.id, f.crc);
            })?;
            if let Some((offset, reason)) = scan.damage {
                // a whole header that is not a cadre header is a foreign or
                // damaged file, not a torn write: truncating after it would
                // let appends follow bytes the next open cannot read
                if Some(i) != last || (offset == 0 && scan.len >= HEADER_LEN) {
                    return Err(LogError::Corrupt {
                        path: path.clone(),
                        offset,
                        reason,
                    });
                }
                let file = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| LogError::io(path, e))?;
                let keep = offset.max(HEADER_LEN.min(scan.len));
                file.set_len(keep).map_err(|e| LogError::io(path, e))?;
                file.sync_all().map_err(|e| LogError::io(path, e))?;
                tracing::warn!(segment = %path.display(), truncated_at = keep, dropped_bytes = scan.len - keep, %reason, "truncated a torn log tail");
                recovery = Some(Recovery {
                    segment: path.clone(),
                    truncated_at: keep,
                    dropped_bytes: scan.len - keep,
                    reason,
                });
            }
        }
        if segments.is_empty() {
            segments.push(create_segment(dir, 0)?);
        }
        let active_path = segments.last().expect("at least one segment").clone();
        let mut active = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&active_path)
            .map_err(|e| LogError::io(&active_path, e))?;
        let mut active_len = active
            .seek(SeekFrom::End(0))
            .map_err(|e| LogError::io(&active_path, e))?;
        if active_len < HEADER_LEN {
            // a crash between creating a segment and writing its header
            active
                .set_len(0)
                .map_err(|e| LogError::io(&active_path, e))?;
            active
                .seek(SeekFrom::Start(0))
                .map_err(|e| LogError::io(&active_path, e))?;
            active
                .write_all(&header())
                .map_err(|e| LogError::io(&active_path, e))?;
            active
                .sync_all()
                .map_err(|e| LogError::io(&active_path, e))?;
            active_len = HEADER_LEN;
        }
        Ok((
            Log {
                dir: dir.to_path_buf(),
                options,
                segments,
                active,
                active_len,
                ids,
                rewritten,
                scratch: Vec::new(),
                _lock: lock,
            },
            recovery,
        ))
    }

    /// Number of records stored.
    pub fn len(&self) -> u64 {
        self.ids.len() as u64
    }

    /// Whether the log holds no record.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether a record with this id is stored.
    pub fn contains(&self, id: &Uuid) -> bool {
        self.ids.contains_key(id)
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes on disk across all segments.
    pub fn disk_bytes(&self) -> u64 {
        LogReader {
            segments: self.segments.clone(),
        }
        .disk_bytes()
    }

    /// Appends a batch and makes it durable with one `fsync` before returning.
    ///
    /// On error nothing in the batch may be taken as stored; records that did
    /// reach the disk are recognised as duplicates when the batch is retried.
    pub fn append_batch<I>(&mut self, records: I) -> Result<Vec<Appended>, LogError>
    where
        I: IntoIterator<Item: AsRecord>,
    {
        let (out, unsynced) = self.append(records, false)?;
        debug_assert!(unsynced.is_none());
        Ok(out)
    }

    /// Appends a batch as [`Log::append_batch`] does, but leaves its last
    /// `fsync` to the caller: the records are written, and are durable only
    /// once [`Unsynced::sync`] returns. Until then no outcome may be taken as
    /// acknowledged, and if that `fsync` fails the log must not be used again
    /// in this process (what was written unacknowledged comes back as
    /// duplicates on a retry after reopening). The caller can check and
    /// append the next batch while this one syncs.
    pub fn append_batch_unsynced<I>(
        &mut self,
        records: I,
    ) -> Result<(Vec<Appended>, Option<Unsynced>), LogError>
    where
        I: IntoIterator<Item: AsRecord>,
    {
        self.append(records, true)
    }

    fn append<I>(
        &mut self,
        records: I,
        defer_sync: bool,
    ) -> Result<(Vec<Appended>, Option<Unsynced>), LogError>
    where
        I: IntoIterator<Item: AsRecord>,
    {
        let records = records.into_iter();
        let n = records.size_hint().0;
        let mut out = Vec::with_capacity(n);
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        // ids entered in `self.ids` whose records are not durable yet: taken
        // out again if the batch fails
        let mut pending: Vec<Uuid> = Vec::with_capacity(n);
        let appended = self.append_records(records, &mut buf, &mut pending, &mut out, defer_sync);
        if appended.is_err() {
            for id in &pending {
                self.ids.remove(id);
            }
        }
        // kept for the next batch, unless an unusually large one grew it
        if buf.capacity() <= MAX_SCRATCH {
            self.scratch = buf;
        }
        appended.map(|unsynced| (out, unsynced))
    }

    /// [`Log::append_batch`]'s work. Each new id enters the index as its
    /// record is buffered (one lookup per record, which is a cache miss in
    /// an index of millions), and is listed in `pending` until its record is
    /// synced (or, with `defer_sync`, written).
    fn append_records(
        &mut self,
        records: impl Iterator<Item: AsRecord>,
        buf: &mut Vec<u8>,
        pending: &mut Vec<Uuid>,
        out: &mut Vec<Appended>,
        defer_sync: bool,
    ) -> Result<Option<Unsynced>, LogError> {
        self.ids.reserve(out.capacity());
        for record in records {
            let (id, crc, payload) = record.as_record();
            if payload.len() > MAX_RECORD_LEN {
                return Err(LogError::TooLarge(payload.len()));
            }
            if self.active_len + buf.len() as u64 >= self.options.segment_bytes && !buf.is_empty() {
                self.write_and_sync(buf)?;
                buf.clear();
                pending.clear();
            }
            match self.ids.entry(id) {
                std::collections::hash_map::Entry::Occupied(stored) => {
                    out.push(if *stored.get() == crc || self.rewritten.contains(&id) {
                        Appended::Duplicate
                    } else {
                        Appended::Conflict
                    });
                    continue;
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(crc);
                }
            }
            pending.push(id);
            if self.active_len >= self.options.segment_bytes {
                self.roll()?;
            }
            encode(buf, id, crc, false, payload);
            out.push(Appended::Stored((self.ids.len() - 1) as u64));
        }
        let mut unsynced = None;
        if !buf.is_empty() {
            if defer_sync {
                self.write(buf)?;
                let path = self.segments.last().expect("active segment").clone();
                let file = self
                    .active
                    .try_clone()
                    .map_err(|e| LogError::io(&path, e))?;
                unsynced = Some(Unsynced { file, path });
            } else {
                self.write_and_sync(buf)?;
            }
            buf.clear();
        }
        pending.clear();
        Ok(unsynced)
    }

    fn write_and_sync(&mut self, buf: &[u8]) -> Result<(), LogError> {
        self.write_then(buf, fsync)?;
        crash_point("log.after_fsync");
        Ok(())
    }

    /// Writes `buf` without syncing it ([`Log::append_batch_unsynced`]).
    fn write(&mut self, buf: &[u8]) -> Result<(), LogError> {
        self.write_then(buf, |_| Ok(()))
    }

    /// Writes `buf`, then `then` (a sync); on failure of either, leaves no
    /// half-written tail behind.
    fn write_then(
        &mut self,
        buf: &[u8],
        then: impl FnOnce(&File) -> io::Result<()>,
    ) -> Result<(), LogError> {
        let path = self.segments.last().expect("active segment").clone();
        crash_point("log.before_write");
        let res = self.active.write_all(buf).and_then(|_| then(&self.active));
        if let Err(e) = res {
            let _ = self.active.set_len(self.active_len);
            let _ = self.active.seek(SeekFrom::Start(self.active_len));
            return Err(LogError::io(&path, e));
        }
        self.active_len += buf.len() as u64;
        Ok(())
    }

    fn roll(&mut self) -> Result<(), LogError> {
        let path = create_segment(&self.dir, self.segments.len())?;
        let full = std::mem::replace(
            &mut self.active,
            OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|e| LogError::io(&path, e))?,
        );
        leave_cache(&full);
        self.active_len = HEADER_LEN;
        self.segments.push(path);
        Ok(())
    }

    /// Rewrites the log: `f` is called with every record (erased ones aside)
    /// and says whether to keep, replace or erase it.
    ///
    /// Segments with a change are written anew beside the old ones and
    /// fsynced; a marker file commits them; they are then renamed into place.
    /// A crash before the commit leaves the log as it was; after it, opening
    /// the log finishes the renames. Sequence numbers never change.
    pub fn rewrite(
        &mut self,
        mut f: impl FnMut(&Record) -> Rewrite,
    ) -> Result<Rewritten, LogError> {
        let mut done = Rewritten::default();
        let mut fresh: Vec<(PathBuf, PathBuf)> = Vec::new();
        let mut changed_ids: Vec<(Uuid, u32)> = Vec::new();
        let mut seq = 0u64;
        for path in &self.segments {
            let mut buf = header().to_vec();
            let mut changed = false;
            let scan = scan_segment(path, |fr| {
                let action = if fr.erased() {
                    Rewrite::Keep
                } else {
                    f(&Record {
                        seq,
                        id: fr.id,
                        payload: fr.payload.to_vec(),
                    })
                };
                seq += 1;
                match action {
                    Rewrite::Keep => encode(&mut buf, fr.id, fr.crc, fr.rewritten, fr.payload),
                    Rewrite::Replace(p) => {
                        let crc = checksum(fr.id, &p);
                        encode(&mut buf, fr.id, crc, true, &p);
                        changed_ids.push((fr.id, crc));
                        done.replaced += 1;
                        changed = true;
                    }
                    Rewrite::Erase => {
                        let crc = checksum(fr.id, &[]);
                        encode(&mut buf, fr.id, crc, true, &[]);
                        changed_ids.push((fr.id, crc));
                        done.erased += 1;
                        changed = true;
                    }
                }
            })?;
            if let Some((offset, reason)) = scan.damage {
                return Err(LogError::Corrupt {
                    path: path.clone(),
                    offset,
                    reason,
                });
            }
            if changed {
                let new = path.with_extension("seg.new");
                write_synced(&new, &buf)?;
                fresh.push((new, path.clone()));
            }
        }
        if fresh.is_empty() {
            return Ok(done);
        }
        sync_dir(&self.dir)?;
        crash_point("log.rewrite_before_commit");
        write_synced(&self.dir.join(REWRITE_MARKER), b"rewrite committed\n")?;
        sync_dir(&self.dir)?;
        for (i, (new, old)) in fresh.iter().enumerate() {
            fs::rename(new, old).map_err(|e| LogError::io(old, e))?;
            if i == 0 {
                crash_point("log.rewrite_mid_rename");
            }
        }
        finish_rewrite(&self.dir)?;
        // the active segment's file was replaced: write to the new one
        let active_path = self.segments.last().expect("active segment").clone();
        self.active = OpenOptions::new()
            .append(true)
            .open(&active_path)
            .map_err(|e| LogError::io(&active_path, e))?;
        self.active_len = self
            .active
            .metadata()
            .map_err(|e| LogError::io(&active_path, e))?
            .len();
        for (id, crc) in changed_ids {
            self.ids.insert(id, crc);
            self.rewritten.insert(id);
        }
        done.segments = fresh.len();
        Ok(done)
    }

    /// Calls `f` with every stored record, in sequence order.
    pub fn scan(&self, f: impl FnMut(Record)) -> Result<(), LogError> {
        self.scan_from(0, f)
    }

    /// Calls `f` with every stored record from sequence number `start` on.
    pub fn scan_from(&self, start: u64, f: impl FnMut(Record)) -> Result<(), LogError> {
        scan_segments(&self.segments, false, start, f).map(|_| ())
    }

    /// Every stored record, in sequence order.
    pub fn read_all(&self) -> Result<Vec<Record>, LogError> {
        let mut out = Vec::with_capacity(self.ids.len());
        self.scan(|r| out.push(r))?;
        Ok(out)
    }
}

/// Reads every record of `segments` in order. Damage is an error, except at
/// the end of the last segment when `tolerate_tail` is set: there it is a
/// write in flight by the process that owns the log, and reading stops.
fn scan_segments(
    segments: &[PathBuf],
    tolerate_tail: bool,
    start: u64,
    mut f: impl FnMut(Record),
) -> Result<u64, LogError> {
    let mut seq = 0;
    for (i, path) in segments.iter().enumerate() {
        let scan = scan_segment(path, |fr| {
            if seq >= start && !fr.erased() {
                f(Record {
                    seq,
                    id: fr.id,
                    payload: fr.payload.to_vec(),
                });
            }
            seq += 1;
        })?;
        if let Some((offset, reason)) = scan.damage {
            if tolerate_tail && i + 1 == segments.len() {
                break;
            }
            return Err(LogError::Corrupt {
                path: path.clone(),
                offset,
                reason,
            });
        }
    }
    Ok(seq)
}

/// A read-only view of a log that another process may be writing.
///
/// It takes no lock and changes nothing: a torn tail of the last segment is
/// taken for a write in progress and not read. A directory that does not
/// exist reads as an empty log.
#[derive(Debug)]
pub struct LogReader {
    segments: Vec<PathBuf>,
}

impl LogReader {
    /// Opens `dir` for reading.
    pub fn open(dir: &Path) -> Result<LogReader, LogError> {
        let segments = if dir.exists() {
            list_segments(dir)?
        } else {
            Vec::new()
        };
        Ok(LogReader { segments })
    }

    /// Calls `f` with every complete record, in sequence order; returns how many there are.
    pub fn scan(&self, f: impl FnMut(Record)) -> Result<u64, LogError> {
        self.scan_from(0, f)
    }

    /// Calls `f` with every complete record from sequence number `start` on;
    /// returns how many records there are in all.
    pub fn scan_from(&self, start: u64, f: impl FnMut(Record)) -> Result<u64, LogError> {
        scan_segments(&self.segments, true, start, f)
    }

    /// Bytes on disk across all segments.
    pub fn disk_bytes(&self) -> u64 {
        self.segments
            .iter()
            .filter_map(|p| fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }
}

fn header() -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[..8].copy_from_slice(MAGIC);
    h
}

/// The CRC-32 of a record's id and payload, as framed.
fn checksum(id: Uuid, payload: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(id.as_bytes());
    crc.update(payload);
    crc.finalize()
}

fn encode(buf: &mut Vec<u8>, id: Uuid, crc: u32, rewritten: bool, payload: &[u8]) {
    let flag = if rewritten { REWRITTEN } else { 0 };
    buf.extend_from_slice(&(payload.len() as u32 | flag).to_le_bytes());
    buf.extend_from_slice(&crc.to_le_bytes());
    buf.extend_from_slice(id.as_bytes());
    buf.extend_from_slice(payload);
}

fn segment_name(n: usize) -> String {
    format!("{n:08}.seg")
}

fn list_segments(dir: &Path) -> Result<Vec<PathBuf>, LogError> {
    let mut segs = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| LogError::io(dir, e))? {
        let entry = entry.map_err(|e| LogError::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(stem) = name.strip_suffix(".seg") {
            if let Ok(n) = stem.parse::<usize>() {
                segs.push((n, entry.path()));
            }
        }
    }
    segs.sort();
    for (i, (n, path)) in segs.iter().enumerate() {
        if *n != i {
            return Err(LogError::Corrupt {
                path: path.clone(),
                offset: 0,
                reason: format!("segment {} is missing", segment_name(i)),
            });
        }
    }
    Ok(segs.into_iter().map(|(_, p)| p).collect())
}

/// Writes a whole file and makes its content durable.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), LogError> {
    let mut f = File::create(path).map_err(|e| LogError::io(path, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| LogError::io(path, e))
}

fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| LogError::io(dir, e))
}

/// Finishes a committed rewrite (renames what is left, drops the marker) or
/// discards the files of one that never committed.
fn finish_rewrite(dir: &Path) -> Result<(), LogError> {
    if !dir.exists() {
        return Ok(());
    }
    let committed = dir.join(REWRITE_MARKER).exists();
    let mut touched = false;
    for entry in fs::read_dir(dir).map_err(|e| LogError::io(dir, e))? {
        let path = entry.map_err(|e| LogError::io(dir, e))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let Some(stem) = name.strip_suffix(REWRITE_SUFFIX) else {
            continue;
        };
        if committed {
            let old = dir.join(format!("{stem}.seg"));
            fs::rename(&path, &old).map_err(|e| LogError::io(&old, e))?;
        } else {
            fs::remove_file(&path).map_err(|e| LogError::io(&path, e))?;
        }
        touched = true;
    }
    if committed {
        sync_dir(dir)?;
        let marker = dir.join(REWRITE_MARKER);
        fs::remove_file(&marker).map_err(|e| LogError::io(&marker, e))?;
        touched = true;
    }
    if touched {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Tells the kernel it need not keep a full segment's pages in its cache.
///
/// Appends stream through the page cache once and are read back rarely
/// (a replay, a rewrite), so a log written for gigabytes would otherwise
/// fill the cache, evicting what other files need, and take a fresh page
/// for every 4 KiB it writes. Advice only: pages not yet written back stay
/// until they are, nothing is lost, and a later read fetches them again.
/// Only the active segment stays cached (up to `segment_bytes`).
fn leave_cache(segment: &File) {
    #[cfg(target_os = "linux")]
    {
        // failure (a filesystem without page cache) changes nothing
        let _ = rustix::fs::fadvise(segment, 0, None, rustix::fs::Advice::DontNeed);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = segment;
}

fn create_segment(dir: &Path, n: usize) -> Result<PathBuf, LogError> {
    let path = dir.join(segment_name(n));
    let mut f = OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(&path)
        .map_err(|e| LogError::io(&path, e))?;
    f.write_all(&header()).map_err(|e| LogError::io(&path, e))?;
    f.sync_all().map_err(|e| LogError::io(&path, e))?;
    sync_dir(dir)?;
    Ok(path)
}

struct Scan {
    len: u64,
    /// Offset of the first bad byte and what is wrong there.
    damage: Option<(u64, String)>,
}

/// One good record as framed in a segment.
struct Frame<'a> {
    id: Uuid,
    crc: u32,
    /// An erasure rewrote it.
    rewritten: bool,
    payload: &'a [u8],
}

impl Frame<'_> {
    /// Erased by an erasure: nothing left to read.
    fn erased(&self) -> bool {
        self.rewritten && self.payload.is_empty()
    }
}

/// Reads a segment, calling `f` for each good record, and stops at the
/// first damaged one.
fn scan_segment(path: &Path, mut f: impl FnMut(Frame<'_>)) -> Result<Scan, LogError> {
    let file = File::open(path).map_err(|e| LogError::io(path, e))?;
    let len = file.metadata().map_err(|e| LogError::io(path, e))?.len();
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut head = [0u8; HEADER_LEN as usize];
    if len < HEADER_LEN {
        return Ok(Scan {
            len,
            damage: Some((0, "segment header is incomplete".into())),
        });
    }
    r.read_exact(&mut head).map_err(|e| LogError::io(path, e))?;
    if &head[..8] != MAGIC {
        return Ok(Scan {
            len,
            damage: Some((0, "not a cadre log segment (bad magic)".into())),
        });
    }
    let mut offset = HEADER_LEN;
    let mut frame = [0u8; 24];
    let mut payload = Vec::new();
    while offset < len {
        if len - offset < 24 {
            return Ok(Scan {
                len,
                damage: Some((
                    offset,
                    format!("torn record header ({} of 24 bytes)", len - offset),
                )),
            });
        }
        r.read_exact(&mut frame)
            .map_err(|e| LogError::io(path, e))?;
        let raw = u32::from_le_bytes(frame[0..4].try_into().expect("4 bytes"));
        let rewritten = raw & REWRITTEN != 0;
        let n = (raw & !REWRITTEN) as usize;
        let crc = u32::from_le_bytes(frame[4..8].try_into().expect("4 bytes"));
        let id = Uuid::from_bytes(frame[8..24].try_into().expect("16 bytes"));
        if n > MAX_RECORD_LEN {
            return Ok(Scan {
                len,
                damage: Some((offset, format!("record length {n} exceeds the limit"))),
            });
        }
        if len - offset - 24 < n as u64 {
            return Ok(Scan {
                len,
                damage: Some((
                    offset,
                    format!("torn record ({} of {n} payload bytes)", len - offset - 24),
                )),
            });
        }
        payload.resize(n, 0);
        r.read_exact(&mut payload)
            .map_err(|e| LogError::io(path, e))?;
        if checksum(id, &payload) != crc {
            return Ok(Scan {
                len,
                damage: Some((offset, "checksum mismatch".into())),
            });
        }
        f(Frame {
            id,
            crc,
            rewritten,
            payload: &payload,
        });
        offset += 24 + n as u64;
    }
    Ok(Scan { len, damage: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn open(dir: &Path) -> (Log, Option<Recovery>) {
        Log::open(dir, LogOptions::default()).expect("log opens")
    }

    #[test]
    fn appends_and_reads_back_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut log, rec) = open(tmp.path());
        assert!(rec.is_none());
        let out = log
            .append_batch([(id(1), &b"one"[..]), (id(2), &b"two"[..])])
            .unwrap();
        assert_eq!(out, vec![Appended::Stored(0), Appended::Stored(1)]);
        drop(log);
        let (log, _) = open(tmp.path());
        let all = log.read_all().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].payload, b"two");
        assert_eq!(all[1].id, id(2));
    }

    #[test]
    fn a_sealed_record_is_stored_as_the_same_record_unsealed() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut log, _) = open(tmp.path());
        let sealed = [
            Sealed::new(id(1), b"one".to_vec()),
            Sealed::new(id(2), b"two".to_vec()),
        ];
        let out = log.append_batch(&sealed).unwrap();
        assert_eq!(out, vec![Appended::Stored(0), Appended::Stored(1)]);
        // the same records unsealed are duplicates; other content, a conflict
        let out = log
            .append_batch([(id(1), &b"one"[..]), (id(2), &b"2"[..])])
            .unwrap();
        assert_eq!(out, vec![Appended::Duplicate, Appended::Conflict]);
        drop(log);
        // the checksums the seals carried are the ones a reader checks
        let (log, recovery) = open(tmp.path());
        assert!(recovery.is_none());
        let all = log.read_all().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].id, &all[0].payload[..]), (id(1), &b"one"[..]));
        assert_eq!((all[1].id, &all[1].payload[..]), (id(2), &b"two"[..]));
    }

    #[test]
    fn duplicates_are_acknowledged_not_stored() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut log, _) = open(tmp.path());
        log.append_batch([(id(1), &b"a"[..])]).unwrap();
        let out = log
            .append_batch([(id(1), &b"a"[..]), (id(3), &b"c"[..]), (id(3), &b"c"[..])])
            .unwrap();
        assert_eq!(
            out,
            vec![
                Appended::Duplicate,
                Appended::Stored(1),
                Appended::Duplicate
            ]
        );
        drop(log);
        let (mut log, _) = open(tmp.path());
        assert_eq!(log.len(), 2);
        assert!(log.contains(&id(3)));
        // the same id with other content, stored before (known after reopening) or earlier in the batch
        let out = log
            .append_batch([
                (id(1), &b"A"[..]),
                (id(4), &b"d"[..]),
                (id(4), &b"D"[..]),
                (id(3), &b"c"[..]),
            ])
            .unwrap();
        assert_eq!(
            out,
            vec![
                Appended::Conflict,
                Appended::Stored(2),
                Appended::Conflict,
                Appended::Duplicate
            ]
        );
        assert_eq!(log.read_all().unwrap()[0].payload, b"a");
    }

    #[test]
    fn torn_tail_is_reported_and_truncated() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut log, _) = open(tmp.path());
        log.append_batch([(id(1), &b"first"[..]), (id(2), &b"second"[..])])
            .unwrap();
        drop(log);
        let seg = tmp.path().join("00000000.seg");
        let full = fs::metadata(&seg).unwrap().len();
        // cut the last record in half, as a crash during write would
        let f = OpenOptions::new().write(true).open(&seg).unwrap();
        f.set_len(full - 3).unwrap();
        drop(f);
        let (mut log, rec) = open(tmp.path());
        let rec = rec.expect("recovery reported");
        assert!(rec.reason.contains("torn"), "{}", rec.reason);
        assert_eq!(rec.truncated_at, HEADER_LEN + 24 + 5);
        assert_eq!(log.len(), 1);
        // the lost record can be appended again and is not a duplicate
        let out = log.append_batch([(id(2), &b"second"[..])]).unwrap();
        assert_eq!(out, vec![Appended::Stored(1)]);
        assert_eq!(log.read_all().unwrap().len(), 2);
    }

    #[test]
    fn flipped_byte_in_tail_is_caught_by_checksum() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut log, _) = open(tmp.path());
        log.append_batch([(id(1), &b"first"[..]), (id(2), &b"second"[..])])
            .unwrap();
        drop(log);
        let seg = tmp.path().join("00000000.seg");
        let mut bytes = fs::read(&seg).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        fs::write(&seg, bytes).unwrap();
        let (log, rec) = open(tmp.path());
        assert_eq!(rec.expect("recovery").reason, "checksum mismatch");
        assert_eq!(log.read_all().unwrap().len(), 1);
    }

    #[test]
    fn damage_before_the_last_segment_refuses_to_open() {
        let tmp = tempfile::tempdir().unwrap();
        let opts = LogOptions { segment_bytes: 64 };
        let (mut log, _) = Log::open(tmp.path(), opts.clone()).unwrap();
        for i in 0..4u128 {
            log.append_batch([(id(i), &[7u8; 40][..])]).unwrap();
        }
        assert!(log.segments.len() >= 2, "rolled into several segments");
        drop(log);
        let seg = tmp.path().join("00000000.seg");
        let mut bytes = fs::read(&seg).unwrap();
        bytes[HEADER_LEN as usize + 30] ^= 1;
        fs::write(&seg, bytes).unwrap();
        let err = Log::open(tmp.path(), opts).unwrap_err();
        assert!(matches!(err, LogError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn a_foreign_header_on_the_last_segment_refuses_to_open() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut log, _) = Log::open(tmp.path(), LogOptions::default()).unwrap();
        log.append_batch([(id(1), &b"{}"[..])]).unwrap();
        drop(log);
        let seg = tmp.path().join("00000000.seg");
        let mut bytes = fs::read(&seg).unwrap();
        bytes[3] ^= 0x20;
        fs::write(&seg, &bytes).unwrap();
        let err = Log::open(tmp.path(), LogOptions::default()).unwrap_err();
        assert!(matches!(err, LogError::Corrupt { offset: 0, .. }), "{err}");
        assert_eq!(fs::read(&seg).unwrap(), bytes, "nothing truncated");
    }

    #[test]
    fn an_unsynced_batch_is_stored_once_synced_and_its_ids_known_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut log, _) = open(tmp.path());
        let (out, unsynced) = log
            .append_batch_unsynced([(id(1), &b"one"[..]), (id(2), &b"two"[..])])
            .unwrap();
        assert_eq!(out, [Appended::Stored(0), Appended::Stored(1)]);
        // the next batch is checked against it before it is synced
        let (out, next) = log
            .append_batch_unsynced([(id(2), &b"two"[..]), (id(3), &b"three"[..])])
            .unwrap();
        assert_eq!(out, [Appended::Duplicate, Appended::Stored(2)]);
        unsynced.expect("a write to sync").sync().unwrap();
        next.expect("a write to sync").sync().unwrap();
        // a batch of duplicates only writes nothing
        let (out, none) = log.append_batch_unsynced([(id(1), &b"one"[..])]).unwrap();
        assert_eq!(out, [Appended::Duplicate]);
        assert!(none.is_none());
        drop(log);
        let (log, rec) = open(tmp.path());
        assert!(rec.is_none());
        let payloads: Vec<Vec<u8>> = log
            .read_all()
            .unwrap()
            .into_iter()
            .map(|r| r.payload)
            .collect();
        assert_eq!(
            payloads,
            [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
        );
    }

    #[test]
    fn a_failed_batch_keeps_what_it_synced_and_forgets_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        // a segment fills after two records: the first two are synced before the third is buffered
        let opts = LogOptions { segment_bytes: 100 };
        let (mut log, _) = Log::open(tmp.path(), opts.clone()).unwrap();
        let small = vec![7u8; 30];
        let huge = vec![0u8; MAX_RECORD_LEN + 1];
        let batch = [
            (id(1), small.as_slice()),
            (id(2), small.as_slice()),
            (id(3), small.as_slice()),
            (id(4), huge.as_slice()),
        ];
        assert!(matches!(
            log.append_batch(batch),
            Err(LogError::TooLarge(_))
        ));
        assert_eq!(log.len(), 2, "the synced part of the batch is stored");
        assert!(log.contains(&id(2)) && !log.contains(&id(3)));
        // a retry stores what was not synced, once
        let retry = [
            (id(1), small.as_slice()),
            (id(2), small.as_slice()),
            (id(3), small.as_slice()),
        ];
        assert_eq!(
            log.append_batch(retry).unwrap(),
            [
                Appended::Duplicate,
                Appended::Duplicate,
                Appended::Stored(2)
            ]
        );
        drop(log);
        let (log, _) = Log::open(tmp.path(), opts).unwrap();
        let ids: Vec<Uuid> = log.read_all().unwrap().iter().map(|r| r.id).collect();
        assert_eq!(ids, [id(1), id(2), id(3)]);
    }

    #[test]
    fn rolls_segments_and_keeps_sequence() {
        let tmp = tempfile::tempdir().unwrap();
        let opts = LogOptions { segment_bytes: 100 };
        let (mut log, _) = Log::open(tmp.path(), opts.clone()).unwrap();
        let payloads: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 30]).collect();
        let out = log
            .append_batch(
                payloads
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (id(i as u128), p.as_slice())),
            )
            .unwrap();
        assert_eq!(out[9], Appended::Stored(9));
        drop(log);
        let (log, rec) = Log::open(tmp.path(), opts).unwrap();
        assert!(rec.is_none());
        let all = log.read_all().unwrap();
        assert_eq!(all.len(), 10);
        for (i, r) in all.iter().enumerate() {
            assert_eq!(r.seq, i as u64);
            assert_eq!(r.payload, payloads[i]);
        }
        // a scan from the middle, across segments, by the writer and a reader
        let mut tail = Vec::new();
        log.scan_from(7, |r| tail.push(r)).unwrap();
        assert_eq!(tail, all[7..]);
        let mut from_reader = Vec::new();
        let total = LogReader::open(tmp.path())
            .unwrap()
            .scan_from(4, |r| from_reader.push(r.seq))
            .unwrap();
        assert_eq!((total, from_reader), (10, (4..10).collect::<Vec<u64>>()));
    }

    #[test]
    fn a_reader_skips_a_write_in_flight_and_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut log, _) = open(tmp.path());
        log.append_batch([(id(1), &b"one"[..]), (id(2), &b"two"[..])])
            .unwrap();
        let seg = tmp.path().join("00000000.seg");
        let len = fs::metadata(&seg).unwrap().len();
        // half a record, as a writer mid-append leaves it
        OpenOptions::new()
            .append(true)
            .open(&seg)
            .unwrap()
            .write_all(&[9, 0, 0, 0, 1])
            .unwrap();
        let reader = LogReader::open(tmp.path()).expect("opens beside the writer");
        let mut seen = Vec::new();
        assert_eq!(reader.scan(|r| seen.push(r.payload)).unwrap(), 2);
        assert_eq!(seen, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(
            fs::metadata(&seg).unwrap().len(),
            len + 5,
            "the reader truncates nothing"
        );
        assert_eq!(
            LogReader::open(&tmp.path().join("absent"))
                .unwrap()
                .scan(|_| {})
                .unwrap(),
            0
        );
    }

    #[test]
    fn second_open_of_same_dir_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let (_log, _) = open(tmp.path());
        let err = Log::open(tmp.path(), LogOptions::default()).unwrap_err();
        assert!(matches!(err, LogError::Locked(_)), "{err}");
    }

    /// A log of `n` records `r0`, `r1`, ... over small segments.
    fn small_log(dir: &Path, n: u128) -> Log {
        let (mut log, _) = Log::open(dir, LogOptions { segment_bytes: 100 }).unwrap();
        for i in 0..n {
            let p = format!("r{i}");
            log.append_batch([(id(i), p.as_bytes())]).unwrap();
        }
        log
    }

    fn payloads(log: &Log) -> Vec<(u64, String)> {
        log.read_all()
            .unwrap()
            .into_iter()
            .map(|r| (r.seq, String::from_utf8(r.payload).unwrap()))
            .collect()
    }

    fn erase_2_redact_5(r: &Record) -> Rewrite {
        match r.seq {
            2 => Rewrite::Erase,
            5 => Rewrite::Replace(b"redacted".to_vec()),
            _ => Rewrite::Keep,
        }
    }

    #[test]
    fn rewrite_erases_and_replaces_keeping_sequence_numbers() {
        let tmp = tempfile::tempdir().unwrap();
        let mut log = small_log(tmp.path(), 8);
        assert!(log.segments.len() > 2, "the test needs several segments");
        let done = log.rewrite(erase_2_redact_5).unwrap();
        assert_eq!((done.erased, done.replaced, done.segments), (1, 1, 2));
        let expect: Vec<(u64, String)> = [0, 1, 3, 4, 5, 6, 7]
            .iter()
            .map(|&s| {
                (
                    s,
                    if s == 5 {
                        "redacted".into()
                    } else {
                        format!("r{s}")
                    },
                )
            })
            .collect();
        assert_eq!(payloads(&log), expect);
        // re-sends of the originals are duplicates, new records follow on
        let out = log
            .append_batch([
                (id(2), &b"r2"[..]),
                (id(5), &b"r5"[..]),
                (id(8), &b"r8"[..]),
            ])
            .unwrap();
        assert_eq!(
            out,
            vec![
                Appended::Duplicate,
                Appended::Duplicate,
                Appended::Stored(8)
            ]
        );
        drop(log);
        // the same after reopening, for the log and for a reader
        let (mut log, rec) = Log::open(tmp.path(), LogOptions { segment_bytes: 100 }).unwrap();
        assert!(rec.is_none());
        assert_eq!(log.len(), 9);
        assert_eq!(payloads(&log).len(), 8);
        assert_eq!(
            log.append_batch([(id(2), &b"other"[..])]).unwrap(),
            vec![Appended::Duplicate]
        );
        let mut seen = Vec::new();
        LogReader::open(tmp.path())
            .unwrap()
            .scan(|r| seen.push(r.seq))
            .unwrap();
        assert_eq!(seen, vec![0, 1, 3, 4, 5, 6, 7, 8]);
        // nothing of the erased payload is left on disk
        for seg in list_segments(tmp.path()).unwrap() {
            let bytes = fs::read(seg).unwrap();
            assert!(!bytes.windows(2).any(|w| w == b"r2"));
        }
    }

    #[test]
    fn an_uncommitted_rewrite_is_discarded_and_a_committed_one_finished() {
        let tmp = tempfile::tempdir().unwrap();
        let before = {
            let log = small_log(tmp.path(), 8);
            payloads(&log)
        };
        // a crash before the commit: new segments beside the old, no marker
        let seg = tmp.path().join(segment_name(1));
        fs::write(seg.with_extension("seg.new"), b"half a rewrite").unwrap();
        let (log, _) = Log::open(tmp.path(), LogOptions { segment_bytes: 100 }).unwrap();
        assert_eq!(payloads(&log), before);
        assert!(!seg.with_extension("seg.new").exists());
        drop(log);

        // a crash after the commit, with one segment renamed: build the
        // rewritten segments in a copy and lay them out as the crash would
        let copy = tempfile::tempdir().unwrap();
        for seg in list_segments(tmp.path()).unwrap() {
            fs::copy(&seg, copy.path().join(seg.file_name().unwrap())).unwrap();
        }
        let mut rewritten = Log::open(copy.path(), LogOptions { segment_bytes: 100 })
            .unwrap()
            .0;
        rewritten.rewrite(erase_2_redact_5).unwrap();
        let expect = payloads(&rewritten);
        drop(rewritten);
        let changed: Vec<PathBuf> = list_segments(copy.path())
            .unwrap()
            .into_iter()
            .filter(|p| {
                fs::read(p).unwrap() != fs::read(tmp.path().join(p.file_name().unwrap())).unwrap()
            })
            .collect();
        assert_eq!(changed.len(), 2);
        fs::copy(
            &changed[0],
            tmp.path().join(changed[0].file_name().unwrap()),
        )
        .unwrap();
        let pending = tmp
            .path()
            .join(changed[1].file_name().unwrap())
            .with_extension("seg.new");
        fs::copy(&changed[1], &pending).unwrap();
        fs::write(tmp.path().join(REWRITE_MARKER), b"").unwrap();
        let (log, _) = Log::open(tmp.path(), LogOptions { segment_bytes: 100 }).unwrap();
        assert_eq!(payloads(&log), expect);
        assert!(!pending.exists() && !tmp.path().join(REWRITE_MARKER).exists());
    }
}
