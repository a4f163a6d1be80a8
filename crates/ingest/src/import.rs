//! Importing NDJSON files in durable batches.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Serialize;

use crate::body::{parse_line, Item};
use crate::store::{Batch, IngestError, Ingestor};
use crate::validate::Rejection;

/// Totals of one import.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Non-blank lines read.
    pub lines: u64,
    /// Events stored.
    pub accepted: u64,
    /// Events already stored before.
    pub duplicate: u64,
    /// Lines rejected and dead-lettered.
    pub rejected: u64,
}

impl ImportSummary {
    fn add(&mut self, batch: &Batch) {
        let (a, d, r) = batch.counts();
        self.accepted += a as u64;
        self.duplicate += d as u64;
        self.rejected += r as u64;
    }
}

/// Errors of an import.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Storing failed; everything reported before this batch is durable.
    #[error(transparent)]
    Store(#[from] IngestError),
}

/// Imports an NDJSON file in batches of `batch_size` lines, each made durable
/// before the next is read. `progress(bytes_read, batch)` runs after each batch.
///
/// Interrupting an import loses nothing acknowledged; running it again stores
/// only what is missing (the rest comes back as duplicates).
pub fn import_file(
    ingestor: &mut Ingestor,
    path: &Path,
    batch_size: usize,
    mut progress: impl FnMut(u64, &Batch),
) -> Result<ImportSummary, ImportError> {
    let read_err = |source| ImportError::Read {
        path: path.display().to_string(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let channel = format!("file:{}", path.display());
    let mut summary = ImportSummary::default();
    let mut bytes_read = 0u64;
    let mut line_no = 0usize;
    let mut buf = Vec::new();
    let mut items: Vec<Item> = Vec::with_capacity(batch_size);
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(read_err)?;
        bytes_read += n as u64;
        if n > 0 {
            line_no += 1;
            if buf.iter().any(|b| !b.is_ascii_whitespace()) {
                summary.lines += 1;
                items.push(match std::str::from_utf8(&buf) {
                    Ok(s) => parse_line(line_no, s.trim_end()),
                    Err(e) => Item {
                        position: line_no,
                        raw: String::from_utf8_lossy(&buf).into_owned(),
                        parsed: Err(Rejection::new("", format!("line is not valid UTF-8: {e}"))),
                    },
                });
            }
        }
        if items.len() >= batch_size || (n == 0 && !items.is_empty()) {
            let batch = ingestor.ingest(&channel, std::mem::take(&mut items))?;
            summary.add(&batch);
            progress(bytes_read, &batch);
        }
        if n == 0 {
            return Ok(summary);
        }
    }
}
