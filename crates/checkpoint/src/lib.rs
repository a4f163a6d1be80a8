//! Checkpoints of the projection: the folded [`Timeline`] on disk, so that a
//! restart folds only the events stored since, not the whole log.
//!
//! The log stays the only source of truth; a checkpoint is a cache of it and
//! is never trusted blindly. It is written to a temporary file, `fsync`ed and
//! renamed into place, so a crash leaves either the old checkpoint or the new
//! one, never half of one. It carries a format number and a CRC-32 of its
//! body, and it names the last event it covers (sequence number and id).
//! [`restore`] uses a checkpoint only when it is whole, of this format, and
//! that event is in the log at that place; otherwise it says why (a warning),
//! ignores it and folds the whole log, which gives the same state.
//!
//! File layout: `CADRCKP1 | format: u32 LE | crc32: u32 LE | len: u64 LE | body`,
//! where the body is the timeline as JSON.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use cadre_failpoint::crash_point;
use cadre_model::Event;
use cadre_projection::Timeline;
use uuid::Uuid;

const MAGIC: &[u8; 8] = b"CADRCKP1";
const HEADER_LEN: usize = 24;
/// The body format this build writes and reads; a checkpoint of another
/// format is ignored and rebuilt from the log. Format 2: an assessment keeps
/// its level and assessor type only.
pub const FORMAT: u32 = 2;

/// How often a running server checkpoints its projection (`[checkpoint]` in the settings).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckpointConfig {
    /// Write a checkpoint once this many events were folded since the last
    /// one (and at shutdown); 0 turns checkpoints off.
    pub every_events: u64,
}

impl Default for CheckpointConfig {
    fn default() -> Self {
        CheckpointConfig {
            every_events: 100_000,
        }
    }
}

/// Writing a checkpoint failed; the previous checkpoint, if any, is intact.
#[derive(Debug, thiserror::Error)]
#[error("cannot write checkpoint {path}: {source}")]
pub struct CheckpointError {
    /// The file involved.
    pub path: PathBuf,
    /// The underlying error (disk full, permissions, ...); a later attempt may succeed.
    pub source: io::Error,
}

/// What a checkpoint file held.
#[derive(Debug)]
pub enum Loaded {
    /// There is none.
    Missing,
    /// A sound checkpoint.
    Sound(Box<Timeline>),
    /// There is one, but it cannot be used: why.
    Unusable(String),
}

/// Serializes a timeline into checkpoint bytes (header and body).
pub fn encode(timeline: &Timeline) -> Vec<u8> {
    let mut out = vec![0u8; HEADER_LEN];
    serde_json::to_writer(&mut out, timeline).expect("a timeline serializes");
    let body_len = (out.len() - HEADER_LEN) as u64;
    let crc = crc32fast::hash(&out[HEADER_LEN..]);
    out[..8].copy_from_slice(MAGIC);
    out[8..12].copy_from_slice(&FORMAT.to_le_bytes());
    out[12..16].copy_from_slice(&crc.to_le_bytes());
    out[16..24].copy_from_slice(&body_len.to_le_bytes());
    out
}

/// Decodes checkpoint bytes, or says why they cannot be used.
pub fn decode(bytes: &[u8]) -> Result<Timeline, String> {
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err("not a cadre checkpoint (bad header)".into());
    }
    let word = |r: std::ops::Range<usize>| u32::from_le_bytes(bytes[r].try_into().expect("4"));
    let format = word(8..12);
    if format != FORMAT {
        return Err(format!(
            "written in checkpoint format {format}, this build reads {FORMAT}"
        ));
    }
    let len = u64::from_le_bytes(bytes[16..24].try_into().expect("8"));
    let body = &bytes[HEADER_LEN..];
    if body.len() as u64 != len {
        return Err(format!(
            "truncated: {} of {len} body bytes",
            body.len() as u64
        ));
    }
    if crc32fast::hash(body) != word(12..16) {
        return Err("checksum mismatch".into());
    }
    serde_json::from_slice(body).map_err(|e| format!("body does not decode: {e}"))
}

/// Writes checkpoint bytes to `path` atomically: temporary file, `fsync`,
/// rename, `fsync` of the directory.
pub fn write_encoded(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| CheckpointError { path: p, source }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(err(dir))?;
    let tmp = path.with_extension("tmp");
    let mut f = OpenOptions::new()
        .mode(0o600)
        .create(true)
        .write(true)
        .truncate(true)
        .open(&tmp)
        .map_err(err(&tmp))?;
    let (first, second) = bytes.split_at(bytes.len() / 2);
    f.write_all(first).map_err(err(&tmp))?;
    crash_point("checkpoint.mid_write");
    f.write_all(second).map_err(err(&tmp))?;
    f.sync_all().map_err(err(&tmp))?;
    drop(f);
    crash_point("checkpoint.before_rename");
    fs::rename(&tmp, path).map_err(err(path))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(err(dir))
}

/// Writes a checkpoint of `timeline` to `path` atomically; returns its size in bytes.
pub fn write(path: &Path, timeline: &Timeline) -> Result<u64, CheckpointError> {
    let bytes = encode(timeline);
    write_encoded(path, &bytes)?;
    Ok(bytes.len() as u64)
}

/// Reads the checkpoint at `path`.
pub fn read(path: &Path) -> Loaded {
    match fs::read(path) {
        Ok(bytes) => match decode(&bytes) {
            Ok(t) => Loaded::Sound(Box::new(t)),
            Err(why) => Loaded::Unusable(why),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Loaded::Missing,
        Err(e) => Loaded::Unusable(format!("cannot be read: {e}")),
    }
}

/// What a replay calls with each event of the log (sequence number, event).
pub type Apply<'a> = dyn FnMut(u64, Event) + 'a;

/// A timeline restored from a checkpoint and the log.
#[derive(Debug)]
pub struct Restored {
    /// The state: the whole log folded.
    pub timeline: Timeline,
    /// Events that came from the checkpoint.
    pub from_checkpoint: u64,
    /// Events folded from the log after it.
    pub replayed: u64,
    /// Why a checkpoint that was there was not used.
    pub ignored: Option<String>,
}

/// Folds a log into a timeline, starting from the checkpoint at `path` when it
/// is sound and belongs to this log (no path: folds the whole log).
///
/// `replay(after, apply)` must call `apply` with every event of the log after
/// the one at `after` (sequence number and id; every event for `None`), and
/// return `false` without calling it when the log has no such event there
/// (as `cadre_ingest::Ingestor::replay_after` does).
pub fn restore<E>(
    path: Option<&Path>,
    mut replay: impl FnMut(Option<(u64, Uuid)>, &mut Apply) -> Result<bool, E>,
) -> Result<Restored, E> {
    let Some(path) = path else {
        return restore_from_scratch(&mut replay);
    };
    let (mut timeline, mut ignored) = match read(path) {
        Loaded::Missing => (Timeline::new(), None),
        Loaded::Sound(t) => (*t, None),
        Loaded::Unusable(why) => (Timeline::new(), Some(why)),
    };
    let from_checkpoint = timeline.applied();
    let mut replayed = 0;
    let matched = replay(timeline.tail(), &mut |seq, e| {
        timeline.apply(seq, &e);
        replayed += 1;
    })?;
    let mut restored = Restored {
        timeline,
        from_checkpoint,
        replayed,
        ignored: None,
    };
    if !matched {
        ignored = Some("it was taken from another log (its last event is not in this one)".into());
        restored = restore_from_scratch(&mut replay)?;
    }
    if let Some(why) = &ignored {
        tracing::warn!(checkpoint = %path.display(), reason = %why, "ignored the projection checkpoint; folded the whole log instead");
    }
    restored.ignored = ignored;
    Ok(restored)
}

fn restore_from_scratch<E>(
    replay: &mut impl FnMut(Option<(u64, Uuid)>, &mut Apply) -> Result<bool, E>,
) -> Result<Restored, E> {
    let mut timeline = Timeline::new();
    let mut replayed = 0;
    replay(None, &mut |seq, e| {
        timeline.apply(seq, &e);
        replayed += 1;
    })?;
    Ok(Restored {
        timeline,
        from_checkpoint: 0,
        replayed,
        ignored: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    /// Every valid example event, in a fixed order.
    fn events() -> Vec<Event> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples/valid");
        let mut paths: Vec<_> = fs::read_dir(&dir)
            .expect("examples")
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| Event::from_json(&fs::read_to_string(p).unwrap()).expect("valid example"))
            .collect()
    }

    fn fold(events: &[Event]) -> Timeline {
        let mut t = Timeline::new();
        for (seq, e) in events.iter().enumerate() {
            t.apply(seq as u64, e);
        }
        t
    }

    /// A timeline as a comparable value (maps sorted by key).
    fn state(t: &Timeline) -> serde_json::Value {
        serde_json::to_value(t).unwrap()
    }

    /// A replay over an in-memory log, as the store's `replay_after` behaves.
    fn replay_of(
        log: &[Event],
    ) -> impl FnMut(Option<(u64, Uuid)>, &mut Apply) -> Result<bool, Infallible> + '_ {
        move |after, apply| {
            let start = match after {
                None => 0,
                Some((seq, id)) => match log.get(seq as usize) {
                    Some(e) if e.event_id == id => seq as usize + 1,
                    _ => return Ok(false),
                },
            };
            for (i, e) in log.iter().enumerate().skip(start) {
                apply(i as u64, e.clone());
            }
            Ok(true)
        }
    }

    #[test]
    fn a_checkpoint_round_trips_and_restore_folds_only_the_tail() {
        let log = events();
        assert!(log.len() > 20, "enough examples to split");
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("p/timeline.ckpt");
        let head = fold(&log[..15]);
        let bytes = write(&path, &head).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), bytes);
        assert!(!path.with_extension("tmp").exists());
        let Loaded::Sound(back) = read(&path) else {
            panic!("the checkpoint reads back")
        };
        assert_eq!(state(&back), state(&head));

        let r = restore(Some(&path), replay_of(&log)).unwrap();
        assert_eq!((r.from_checkpoint, r.replayed), (15, log.len() as u64 - 15));
        assert!(r.ignored.is_none());
        assert_eq!(state(&r.timeline), state(&fold(&log)));
    }

    #[test]
    fn a_damaged_checkpoint_is_ignored_and_the_whole_log_folded() {
        let log = events();
        let whole = state(&fold(&log));
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("timeline.ckpt");
        let good = encode(&fold(&log[..10]));

        let mut flipped = good.clone();
        let last = flipped.len() - 2;
        flipped[last] ^= 0x20;
        let mut other_format = good.clone();
        other_format[8] = 9;
        let cases: [(&[u8], &str); 5] = [
            (&good[..good.len() - 7], "truncated"),
            (&flipped, "checksum mismatch"),
            (&other_format, "format 9"),
            (b"hello", "bad header"),
            (&[], "bad header"),
        ];
        for (bytes, why) in cases {
            fs::write(&path, bytes).unwrap();
            let r = restore(Some(&path), replay_of(&log)).unwrap();
            let ignored = r.ignored.expect("the damage is reported");
            assert!(ignored.contains(why), "{why:?} not in {ignored:?}");
            assert_eq!((r.from_checkpoint, r.replayed), (0, log.len() as u64));
            assert_eq!(state(&r.timeline), whole);
        }

        fs::remove_file(&path).unwrap();
        let r = restore(Some(&path), replay_of(&log)).unwrap();
        assert!(r.ignored.is_none(), "no checkpoint is not a fault");
        assert_eq!(state(&r.timeline), whole);
    }

    #[test]
    fn a_checkpoint_of_another_log_is_ignored() {
        let log = events();
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("timeline.ckpt");
        write(&path, &fold(&log)).unwrap();
        // the data directory was restored from an older backup: the log is shorter
        let older = &log[..12];
        let r = restore(Some(&path), replay_of(older)).unwrap();
        assert!(r.ignored.unwrap().contains("another log"));
        assert_eq!(r.replayed, 12);
        assert_eq!(state(&r.timeline), state(&fold(older)));
    }
}
