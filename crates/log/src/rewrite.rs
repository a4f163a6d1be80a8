//! Erasure's one exception to "a record never changes": rewriting records
//! in new segments, committed by a marker file, renamed into place.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use cadre_failpoint::crash_point;
use uuid::Uuid;

use crate::frame::{checksum, encode, header, scan_segment};
use crate::segment::{sync_dir, write_synced};
use crate::{Log, LogError, Record};

/// Present while a committed rewrite is being renamed into place.
pub(crate) const REWRITE_MARKER: &str = "REWRITE";
/// Suffix of a rewritten segment waiting for its commit.
pub(crate) const REWRITE_SUFFIX: &str = ".seg.new";

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
}

/// Finishes a committed rewrite (renames what is left, drops the marker) or
/// discards the files of one that never committed.
pub(crate) fn finish_rewrite(dir: &Path) -> Result<(), LogError> {
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
