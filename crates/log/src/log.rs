//! The writer: opening a log (recovering a torn tail), appending batches
//! (idempotent by id), rolling segments and scanning what is stored.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use cadre_failpoint::crash_point;
use uuid::Uuid;

use crate::frame::{encode, header, scan_segment, HEADER_LEN};
use crate::read::scan_segments;
use crate::rewrite::finish_rewrite;
use crate::segment::{create_segment, leave_cache, list_segments, private_dir, PRIVATE_FILE};
use crate::{
    fsync, Appended, AsRecord, LogError, LogOptions, LogReader, Record, Recovery, Unsynced,
    MAX_RECORD_LEN,
};

/// The most bytes of a batch's buffer kept for the next batch.
pub(crate) const MAX_SCRATCH: usize = 16 << 20;

/// Ids to a value, hashed with a keyed hash (ahash, random keys per
/// process: event ids come from clients, so the hash must not be
/// predictable) twice as fast as the standard SipHash on UUIDs: the index is
/// looked up and filled for every event stored, on the storing thread.
pub(crate) type IdMap<V> = HashMap<Uuid, V, ahash::RandomState>;

/// A set of ids, hashed as [`IdMap`].
pub(crate) type IdSet = HashSet<Uuid, ahash::RandomState>;

/// An open log directory.
#[derive(Debug)]
pub struct Log {
    pub(crate) dir: PathBuf,
    pub(crate) options: LogOptions,
    pub(crate) segments: Vec<PathBuf>,
    pub(crate) active: File,
    pub(crate) active_len: u64,
    /// Every stored id with the checksum of its record, to tell re-sends from conflicts.
    pub(crate) ids: IdMap<u32>,
    /// Ids whose record an erasure rewrote: any re-send of them is a duplicate.
    pub(crate) rewritten: IdSet,
    /// The bytes of the batch being appended, kept between batches.
    pub(crate) scratch: Vec<u8>,
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
        private_dir(dir).map_err(|e| LogError::io(dir, e))?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(PRIVATE_FILE)
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
