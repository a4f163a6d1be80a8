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

mod frame;
mod log;
mod read;
mod rewrite;
mod segment;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use cadre_failpoint::crash_point;
use uuid::Uuid;

use frame::checksum;

pub use crate::log::Log;
pub use read::LogReader;
pub use rewrite::{Rewrite, Rewritten};

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
