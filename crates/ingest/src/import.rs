//! Importing files in durable batches: NDJSON a batch of lines at a time,
//! other formats decoded whole by their [`Decoder`] first.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::mpsc;

use serde::Serialize;

use rayon::prelude::*;

use cadre_log::Unsynced;

use crate::body::{is_blank, parse_raw_line, Decoder, Item};
use cadre_store::StoreError;

use crate::ingestor::{Batch, Ingestor};

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
    Store(#[from] StoreError),
}

/// What the reading thread hands on: lines still to be decoded (NDJSON,
/// decoded on every core), or items a whole-file decoder made.
enum Read {
    Lines(Vec<NumberedLine>),
    Items(Vec<Item>),
}

/// Imports a file in batches of `batch_size` items, each made durable
/// before the next is stored. `progress(bytes_read, batch)` runs after each
/// batch and takes it (its outcomes, and the events stored for projections).
///
/// A thread reads the next batches while another judges one (on every
/// core), this one stores the last, and a fourth waits for the `fsync` of
/// the one before, so reading, judging, storing and syncing overlap;
/// `progress` runs on that fourth thread, once the batch is durable.
///
/// Interrupting an import loses nothing acknowledged; running it again stores
/// only what is missing (the rest comes back as duplicates).
pub fn import_file(
    ingestor: &mut Ingestor,
    path: &Path,
    batch_size: usize,
    mut progress: impl FnMut(u64, Batch) + Send,
) -> Result<ImportSummary, ImportError> {
    let read_err = |source| ImportError::Read {
        path: path.display().to_string(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    let decoder = Decoder::for_path(path);
    let channel = format!("file:{}", path.display());
    let judge = ingestor.judge();
    std::thread::scope(|scope| {
        // one batch read waits while another is judged, and one judged
        // batch while another is stored; a closed channel means the stage
        // after it stopped (storing failed: its error is the one reported)
        let (read_tx, read_rx) = mpsc::sync_channel(2);
        let (tx, rx) = mpsc::sync_channel(2);
        let reader = scope.spawn(move || -> Result<u64, std::io::Error> {
            if !decoder.streams() {
                return read_whole(file, decoder, batch_size, &read_tx);
            }
            let mut lines = Lines::new(file, batch_size);
            while let Some((bytes_read, batch)) = lines.next_batch()? {
                if read_tx.send((bytes_read, Read::Lines(batch))).is_err() {
                    break;
                }
            }
            Ok(lines.non_blank)
        });
        scope.spawn(move || {
            for (bytes_read, read) in read_rx {
                let items: Vec<Item> = match read {
                    Read::Lines(lines) => lines
                        .into_par_iter()
                        .with_min_len(256)
                        .map(|(line_no, buf)| parse_raw_line(line_no, buf))
                        .collect(),
                    Read::Items(items) => items,
                };
                if tx.send((bytes_read, judge.judge(items))).is_err() {
                    break;
                }
            }
        });
        // each batch's fsync runs on a thread of its own while the next
        // batch is checked and written; a batch counts, and is reported,
        // only once its fsync has returned
        let (sync_tx, sync_rx) = mpsc::sync_channel::<(u64, Batch, Option<Unsynced>)>(1);
        let syncer = scope.spawn(move || -> Result<ImportSummary, StoreError> {
            let mut summary = ImportSummary::default();
            for (bytes_read, batch, unsynced) in sync_rx {
                if let Some(u) = unsynced {
                    u.sync()?;
                }
                summary.add(&batch);
                progress(bytes_read, batch);
            }
            Ok(summary)
        });
        let mut stored = Ok(());
        for (bytes_read, judged) in rx {
            match ingestor.store_unsynced(&channel, judged) {
                Ok((batch, unsynced)) => {
                    if sync_tx.send((bytes_read, batch, unsynced)).is_err() {
                        break; // the sync failed: its error is the one reported
                    }
                }
                Err(e) => {
                    stored = Err(e);
                    break;
                }
            }
        }
        drop(sync_tx);
        let synced = syncer.join().expect("the syncing thread does not panic");
        stored?;
        let mut summary = synced?;
        summary.lines = reader
            .join()
            .expect("the reading thread does not panic")
            .map_err(read_err)?;
        Ok(summary)
    })
}

/// Reads a whole file, decodes it, and hands its items on in batches;
/// returns how many items it held.
fn read_whole(
    mut file: File,
    decoder: Decoder,
    batch_size: usize,
    read_tx: &mpsc::SyncSender<(u64, Read)>,
) -> Result<u64, std::io::Error> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes)?;
    let items = decoder.decode(&bytes);
    let n = items.len() as u64;
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let batch: Vec<Item> = items.by_ref().take(batch_size.max(1)).collect();
        // progress in bytes: all of them were read before the first batch
        if read_tx
            .send((bytes.len() as u64, Read::Items(batch)))
            .is_err()
        {
            break;
        }
    }
    Ok(n)
}

/// A line's number in its file, and its bytes.
type NumberedLine = (usize, Vec<u8>);

/// An NDJSON file's non-blank lines, a batch at a time.
struct Lines {
    reader: BufReader<File>,
    batch_size: usize,
    bytes_read: u64,
    line_no: usize,
    non_blank: u64,
    done: bool,
}

impl Lines {
    fn new(file: File, batch_size: usize) -> Lines {
        Lines {
            reader: BufReader::with_capacity(1 << 20, file),
            batch_size: batch_size.max(1),
            bytes_read: 0,
            line_no: 0,
            non_blank: 0,
            done: false,
        }
    }

    /// The next batch of (line number, line) and the bytes read so far.
    fn next_batch(&mut self) -> Result<Option<(u64, Vec<NumberedLine>)>, std::io::Error> {
        let mut lines = Vec::with_capacity(self.batch_size);
        while !self.done && lines.len() < self.batch_size {
            match self.next_line()? {
                None => self.done = true,
                Some(buf) => {
                    self.bytes_read += buf.len() as u64;
                    self.line_no += 1;
                    if !is_blank(&buf) {
                        self.non_blank += 1;
                        lines.push((self.line_no, buf));
                    }
                }
            }
        }
        Ok((!lines.is_empty()).then_some((self.bytes_read, lines)))
    }

    /// The next line with its newline, in a buffer of its own size (a line
    /// read into a growing buffer was reallocated several times over).
    fn next_line(&mut self) -> Result<Option<Vec<u8>>, std::io::Error> {
        let mut line = Vec::new();
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok((!line.is_empty()).then_some(line));
            }
            let (end, found) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            line.extend_from_slice(&available[..end]);
            self.reader.consume(end);
            if found {
                return Ok(Some(line));
            }
        }
    }
}
