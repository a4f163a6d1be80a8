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

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use cadre_failpoint::crash_point;
use uuid::Uuid;

const MAGIC: &[u8; 8] = b"CADRLOG1";
const HEADER_LEN: u64 = 24;
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

/// An open log directory.
#[derive(Debug)]
pub struct Log {
    dir: PathBuf,
    options: LogOptions,
    segments: Vec<PathBuf>,
    active: File,
    active_len: u64,
    /// Every stored id with the checksum of its record, to tell re-sends from conflicts.
    ids: HashMap<Uuid, u32>,
    _lock: File,
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

        let mut segments = list_segments(dir)?;
        let mut ids = HashMap::new();
        let mut recovery = None;
        let last = segments.len().checked_sub(1);
        for (i, path) in segments.iter().enumerate() {
            let scan = scan_segment(path, |_, id, crc, payload| {
                observe(ids.len() as u64, id, payload);
                ids.insert(id, crc);
            })?;
            if let Some((offset, reason)) = scan.damage {
                if Some(i) != last {
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
    pub fn append_batch<'a, I>(&mut self, records: I) -> Result<Vec<Appended>, LogError>
    where
        I: IntoIterator<Item = (Uuid, &'a [u8])>,
    {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        // ids in `buf`, not yet durable; they join `self.ids` once synced
        let mut pending: Vec<(Uuid, u32)> = Vec::new();
        let mut seen = HashMap::new();
        for (id, payload) in records {
            if payload.len() > MAX_RECORD_LEN {
                return Err(LogError::TooLarge(payload.len()));
            }
            let crc = checksum(id, payload);
            if let Some(stored) = self.ids.get(&id).or_else(|| seen.get(&id)) {
                out.push(if *stored == crc {
                    Appended::Duplicate
                } else {
                    Appended::Conflict
                });
                continue;
            }
            seen.insert(id, crc);
            if self.active_len + buf.len() as u64 >= self.options.segment_bytes && !buf.is_empty() {
                self.flush(&mut buf, &mut pending)?;
            }
            if self.active_len >= self.options.segment_bytes {
                self.roll()?;
            }
            encode(&mut buf, id, crc, payload);
            out.push(Appended::Stored((self.ids.len() + pending.len()) as u64));
            pending.push((id, crc));
        }
        if !buf.is_empty() {
            self.flush(&mut buf, &mut pending)?;
        }
        Ok(out)
    }

    /// Writes and syncs `buf`; only then are its ids known as stored.
    fn flush(&mut self, buf: &mut Vec<u8>, pending: &mut Vec<(Uuid, u32)>) -> Result<(), LogError> {
        self.write_and_sync(buf)?;
        self.ids.extend(pending.drain(..));
        buf.clear();
        Ok(())
    }

    fn write_and_sync(&mut self, buf: &[u8]) -> Result<(), LogError> {
        let path = self.segments.last().expect("active segment").clone();
        crash_point("log.before_write");
        let res = self.active.write_all(buf).and_then(|_| {
            crash_point("log.before_fsync");
            self.active.sync_data()
        });
        if let Err(e) = res {
            // Leave no half-written tail behind a failed append.
            let _ = self.active.set_len(self.active_len);
            let _ = self.active.seek(SeekFrom::Start(self.active_len));
            return Err(LogError::io(&path, e));
        }
        self.active_len += buf.len() as u64;
        crash_point("log.after_fsync");
        Ok(())
    }

    fn roll(&mut self) -> Result<(), LogError> {
        let path = create_segment(&self.dir, self.segments.len())?;
        self.active = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| LogError::io(&path, e))?;
        self.active_len = HEADER_LEN;
        self.segments.push(path);
        Ok(())
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
        let scan = scan_segment(path, |_, id, _, payload| {
            if seq >= start {
                f(Record {
                    seq,
                    id,
                    payload: payload.to_vec(),
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

fn encode(buf: &mut Vec<u8>, id: Uuid, crc: u32, payload: &[u8]) {
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
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

fn create_segment(dir: &Path, n: usize) -> Result<PathBuf, LogError> {
    let path = dir.join(segment_name(n));
    let mut f = OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(&path)
        .map_err(|e| LogError::io(&path, e))?;
    f.write_all(&header()).map_err(|e| LogError::io(&path, e))?;
    f.sync_all().map_err(|e| LogError::io(&path, e))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| LogError::io(dir, e))?;
    Ok(path)
}

struct Scan {
    len: u64,
    /// Offset of the first bad byte and what is wrong there.
    damage: Option<(u64, String)>,
}

/// Reads a segment, calling `f(offset, id, payload)` for each good record,
/// and stops at the first damaged one.
fn scan_segment(path: &Path, mut f: impl FnMut(u64, Uuid, u32, &[u8])) -> Result<Scan, LogError> {
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
        let n = u32::from_le_bytes(frame[0..4].try_into().expect("4 bytes")) as usize;
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
        f(offset, id, crc, &payload);
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
}
