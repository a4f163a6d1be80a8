//! Importing NDJSON files in durable batches.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Serialize;

use rayon::prelude::*;

use crate::body::{is_blank, parse_raw_line, Item};
use crate::store::{Batch, IngestError, Ingestor};

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
    // lines are read on this thread and parsed on every core, a batch at a time
    let mut lines: Vec<(usize, Vec<u8>)> = Vec::with_capacity(batch_size);
    loop {
        let mut buf = Vec::new();
        let n = reader.read_until(b'\n', &mut buf).map_err(read_err)?;
        bytes_read += n as u64;
        if n > 0 {
            line_no += 1;
            if !is_blank(&buf) {
                summary.lines += 1;
                lines.push((line_no, buf));
            }
        }
        if lines.len() >= batch_size || (n == 0 && !lines.is_empty()) {
            let items: Vec<Item> = std::mem::take(&mut lines)
                .into_par_iter()
                .with_min_len(256)
                .map(|(line_no, buf)| parse_raw_line(line_no, &buf))
                .collect();
            let batch = ingestor.ingest(&channel, items)?;
            summary.add(&batch);
            progress(bytes_read, &batch);
        }
        if n == 0 {
            return Ok(summary);
        }
    }
}
