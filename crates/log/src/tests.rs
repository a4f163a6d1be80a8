//! The log's promises, tried: order, idempotence, recovery, rewrite.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::frame::HEADER_LEN;
use crate::rewrite::REWRITE_MARKER;
use crate::segment::{list_segments, segment_name};
use crate::{
    Appended, Log, LogError, LogOptions, LogReader, Record, Recovery, Rewrite, Sealed,
    MAX_RECORD_LEN,
};

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
fn a_sealed_record_is_stored_as_the_same_record_unsealed() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut log, _) = open(tmp.path());
    let sealed = [
        Sealed::new(id(1), b"one".to_vec()),
        Sealed::new(id(2), b"two".to_vec()),
    ];
    let out = log.append_batch(&sealed).unwrap();
    assert_eq!(out, vec![Appended::Stored(0), Appended::Stored(1)]);
    // the same records unsealed are duplicates; other content, a conflict
    let out = log
        .append_batch([(id(1), &b"one"[..]), (id(2), &b"2"[..])])
        .unwrap();
    assert_eq!(out, vec![Appended::Duplicate, Appended::Conflict]);
    drop(log);
    // the checksums the seals carried are the ones a reader checks
    let (log, recovery) = open(tmp.path());
    assert!(recovery.is_none());
    let all = log.read_all().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].id, &all[0].payload[..]), (id(1), &b"one"[..]));
    assert_eq!((all[1].id, &all[1].payload[..]), (id(2), &b"two"[..]));
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
fn a_foreign_header_on_the_last_segment_refuses_to_open() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut log, _) = Log::open(tmp.path(), LogOptions::default()).unwrap();
    log.append_batch([(id(1), &b"{}"[..])]).unwrap();
    drop(log);
    let seg = tmp.path().join("00000000.seg");
    let mut bytes = fs::read(&seg).unwrap();
    bytes[3] ^= 0x20;
    fs::write(&seg, &bytes).unwrap();
    let err = Log::open(tmp.path(), LogOptions::default()).unwrap_err();
    assert!(matches!(err, LogError::Corrupt { offset: 0, .. }), "{err}");
    assert_eq!(fs::read(&seg).unwrap(), bytes, "nothing truncated");
}

#[test]
fn an_unsynced_batch_is_stored_once_synced_and_its_ids_known_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut log, _) = open(tmp.path());
    let (out, unsynced) = log
        .append_batch_unsynced([(id(1), &b"one"[..]), (id(2), &b"two"[..])])
        .unwrap();
    assert_eq!(out, [Appended::Stored(0), Appended::Stored(1)]);
    // the next batch is checked against it before it is synced
    let (out, next) = log
        .append_batch_unsynced([(id(2), &b"two"[..]), (id(3), &b"three"[..])])
        .unwrap();
    assert_eq!(out, [Appended::Duplicate, Appended::Stored(2)]);
    unsynced.expect("a write to sync").sync().unwrap();
    next.expect("a write to sync").sync().unwrap();
    // a batch of duplicates only writes nothing
    let (out, none) = log.append_batch_unsynced([(id(1), &b"one"[..])]).unwrap();
    assert_eq!(out, [Appended::Duplicate]);
    assert!(none.is_none());
    drop(log);
    let (log, rec) = open(tmp.path());
    assert!(rec.is_none());
    let payloads: Vec<Vec<u8>> = log
        .read_all()
        .unwrap()
        .into_iter()
        .map(|r| r.payload)
        .collect();
    assert_eq!(
        payloads,
        [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
    );
}

#[test]
fn a_failed_batch_keeps_what_it_synced_and_forgets_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    // a segment fills after two records: the first two are synced before the third is buffered
    let opts = LogOptions { segment_bytes: 100 };
    let (mut log, _) = Log::open(tmp.path(), opts.clone()).unwrap();
    let small = vec![7u8; 30];
    let huge = vec![0u8; MAX_RECORD_LEN + 1];
    let batch = [
        (id(1), small.as_slice()),
        (id(2), small.as_slice()),
        (id(3), small.as_slice()),
        (id(4), huge.as_slice()),
    ];
    assert!(matches!(
        log.append_batch(batch),
        Err(LogError::TooLarge(_))
    ));
    assert_eq!(log.len(), 2, "the synced part of the batch is stored");
    assert!(log.contains(&id(2)) && !log.contains(&id(3)));
    // a retry stores what was not synced, once
    let retry = [
        (id(1), small.as_slice()),
        (id(2), small.as_slice()),
        (id(3), small.as_slice()),
    ];
    assert_eq!(
        log.append_batch(retry).unwrap(),
        [
            Appended::Duplicate,
            Appended::Duplicate,
            Appended::Stored(2)
        ]
    );
    drop(log);
    let (log, _) = Log::open(tmp.path(), opts).unwrap();
    let ids: Vec<Uuid> = log.read_all().unwrap().iter().map(|r| r.id).collect();
    assert_eq!(ids, [id(1), id(2), id(3)]);
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

/// A log of `n` records `r0`, `r1`, ... over small segments.
fn small_log(dir: &Path, n: u128) -> Log {
    let (mut log, _) = Log::open(dir, LogOptions { segment_bytes: 100 }).unwrap();
    for i in 0..n {
        let p = format!("r{i}");
        log.append_batch([(id(i), p.as_bytes())]).unwrap();
    }
    log
}

fn payloads(log: &Log) -> Vec<(u64, String)> {
    log.read_all()
        .unwrap()
        .into_iter()
        .map(|r| (r.seq, String::from_utf8(r.payload).unwrap()))
        .collect()
}

fn erase_2_redact_5(r: &Record) -> Rewrite {
    match r.seq {
        2 => Rewrite::Erase,
        5 => Rewrite::Replace(b"redacted".to_vec()),
        _ => Rewrite::Keep,
    }
}

#[test]
fn rewrite_erases_and_replaces_keeping_sequence_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = small_log(tmp.path(), 8);
    assert!(log.segments.len() > 2, "the test needs several segments");
    let done = log.rewrite(erase_2_redact_5).unwrap();
    assert_eq!((done.erased, done.replaced, done.segments), (1, 1, 2));
    let expect: Vec<(u64, String)> = [0, 1, 3, 4, 5, 6, 7]
        .iter()
        .map(|&s| {
            (
                s,
                if s == 5 {
                    "redacted".into()
                } else {
                    format!("r{s}")
                },
            )
        })
        .collect();
    assert_eq!(payloads(&log), expect);
    // re-sends of the originals are duplicates, new records follow on
    let out = log
        .append_batch([
            (id(2), &b"r2"[..]),
            (id(5), &b"r5"[..]),
            (id(8), &b"r8"[..]),
        ])
        .unwrap();
    assert_eq!(
        out,
        vec![
            Appended::Duplicate,
            Appended::Duplicate,
            Appended::Stored(8)
        ]
    );
    drop(log);
    // the same after reopening, for the log and for a reader
    let (mut log, rec) = Log::open(tmp.path(), LogOptions { segment_bytes: 100 }).unwrap();
    assert!(rec.is_none());
    assert_eq!(log.len(), 9);
    assert_eq!(payloads(&log).len(), 8);
    assert_eq!(
        log.append_batch([(id(2), &b"other"[..])]).unwrap(),
        vec![Appended::Duplicate]
    );
    let mut seen = Vec::new();
    LogReader::open(tmp.path())
        .unwrap()
        .scan(|r| seen.push(r.seq))
        .unwrap();
    assert_eq!(seen, vec![0, 1, 3, 4, 5, 6, 7, 8]);
    // nothing of the erased payload is left on disk
    for seg in list_segments(tmp.path()).unwrap() {
        let bytes = fs::read(seg).unwrap();
        assert!(!bytes.windows(2).any(|w| w == b"r2"));
    }
}

#[test]
fn an_uncommitted_rewrite_is_discarded_and_a_committed_one_finished() {
    let tmp = tempfile::tempdir().unwrap();
    let before = {
        let log = small_log(tmp.path(), 8);
        payloads(&log)
    };
    // a crash before the commit: new segments beside the old, no marker
    let seg = tmp.path().join(segment_name(1));
    fs::write(seg.with_extension("seg.new"), b"half a rewrite").unwrap();
    let (log, _) = Log::open(tmp.path(), LogOptions { segment_bytes: 100 }).unwrap();
    assert_eq!(payloads(&log), before);
    assert!(!seg.with_extension("seg.new").exists());
    drop(log);

    // a crash after the commit, with one segment renamed: build the
    // rewritten segments in a copy and lay them out as the crash would
    let copy = tempfile::tempdir().unwrap();
    for seg in list_segments(tmp.path()).unwrap() {
        fs::copy(&seg, copy.path().join(seg.file_name().unwrap())).unwrap();
    }
    let mut rewritten = Log::open(copy.path(), LogOptions { segment_bytes: 100 })
        .unwrap()
        .0;
    rewritten.rewrite(erase_2_redact_5).unwrap();
    let expect = payloads(&rewritten);
    drop(rewritten);
    let changed: Vec<PathBuf> = list_segments(copy.path())
        .unwrap()
        .into_iter()
        .filter(|p| {
            fs::read(p).unwrap() != fs::read(tmp.path().join(p.file_name().unwrap())).unwrap()
        })
        .collect();
    assert_eq!(changed.len(), 2);
    fs::copy(
        &changed[0],
        tmp.path().join(changed[0].file_name().unwrap()),
    )
    .unwrap();
    let pending = tmp
        .path()
        .join(changed[1].file_name().unwrap())
        .with_extension("seg.new");
    fs::copy(&changed[1], &pending).unwrap();
    fs::write(tmp.path().join(REWRITE_MARKER), b"").unwrap();
    let (log, _) = Log::open(tmp.path(), LogOptions { segment_bytes: 100 }).unwrap();
    assert_eq!(payloads(&log), expect);
    assert!(!pending.exists() && !tmp.path().join(REWRITE_MARKER).exists());
}
