//! Reading: every record of a list of segments in order, and the reader
//! beside a running writer.

use std::fs;
use std::path::{Path, PathBuf};

use crate::frame::scan_segment;
use crate::segment::list_segments;
use crate::{LogError, Record};

/// Reads every record of `segments` in order. Damage is an error, except at
/// the end of the last segment when `tolerate_tail` is set: there it is a
/// write in flight by the process that owns the log, and reading stops.
pub(crate) fn scan_segments(
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
    pub(crate) segments: Vec<PathBuf>,
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
