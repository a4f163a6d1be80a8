//! Segment files and their directory: names, listing, creation, durable
//! writes and page-cache advice.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::frame::header;
use crate::LogError;

pub(crate) fn segment_name(n: usize) -> String {
    format!("{n:08}.seg")
}

pub(crate) fn list_segments(dir: &Path) -> Result<Vec<PathBuf>, LogError> {
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

/// The mode of every file a log creates: its owner's alone. Events name
/// people and their appraisals.
pub(crate) const PRIVATE_FILE: u32 = 0o600;

/// Creates a directory (and its parents) that only its owner may enter.
pub(crate) fn private_dir(dir: &Path) -> std::io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Writes a whole file and makes its content durable.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), LogError> {
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(PRIVATE_FILE)
        .open(path)
        .map_err(|e| LogError::io(path, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| LogError::io(path, e))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| LogError::io(dir, e))
}

/// Tells the kernel it need not keep a full segment's pages in its cache.
///
/// Appends stream through the page cache once and are read back rarely
/// (a replay, a rewrite), so a log written for gigabytes would otherwise
/// fill the cache, evicting what other files need, and take a fresh page
/// for every 4 KiB it writes. Advice only: pages not yet written back stay
/// until they are, nothing is lost, and a later read fetches them again.
/// Only the active segment stays cached (up to `segment_bytes`).
pub(crate) fn leave_cache(segment: &File) {
    #[cfg(target_os = "linux")]
    {
        // failure (a filesystem without page cache) changes nothing
        let _ = rustix::fs::fadvise(segment, 0, None, rustix::fs::Advice::DontNeed);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = segment;
}

pub(crate) fn create_segment(dir: &Path, n: usize) -> Result<PathBuf, LogError> {
    let path = dir.join(segment_name(n));
    let mut f = OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(PRIVATE_FILE)
        .open(&path)
        .map_err(|e| LogError::io(&path, e))?;
    f.write_all(&header()).map_err(|e| LogError::io(&path, e))?;
    f.sync_all().map_err(|e| LogError::io(&path, e))?;
    sync_dir(dir)?;
    Ok(path)
}
