//! The log's record reader, through `Log::open` on a real directory: a log
//! of a few good records is damaged (a garbage tail appended, or bytes
//! flipped) and opened. Opening must never panic nor lose a record before the
//! damage: what it keeps is a prefix of what was stored, a second open finds
//! nothing to recover and reads the same, and the log accepts appends after.
#![no_main]

use cadre_log::{Log, LogOptions};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

fn records(log: &Log) -> Vec<(Uuid, Vec<u8>)> {
    log.read_all()
        .expect("an opened log reads")
        .into_iter()
        .map(|r| (r.id, r.payload))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let [n, mode, rest @ ..] = data else { return };
    let dir = tempfile::Builder::new()
        .prefix("cadre-fuzz-log")
        .tempdir_in(std::env::var_os("CADRE_FUZZ_TMP").unwrap_or_else(|| {
            if std::path::Path::new("/dev/shm").is_dir() {
                "/dev/shm".into()
            } else {
                std::env::temp_dir().into_os_string()
            }
        }))
        .expect("temp dir");
    let stored: Vec<(Uuid, Vec<u8>)> = (0..(*n % 6) as u128)
        .map(|i| {
            (
                Uuid::from_u128(i + 1),
                format!("{{\"n\":{i}}}").into_bytes(),
            )
        })
        .collect();
    {
        let (mut log, _) = Log::open(dir.path(), LogOptions::default()).expect("a new log opens");
        log.append_batch(stored.iter().map(|(id, p)| (*id, p.as_slice())))
            .expect("append");
    }
    let segment = dir.path().join("00000000.seg");
    let mut bytes = std::fs::read(&segment).expect("segment");
    if mode % 2 == 0 {
        bytes.extend_from_slice(rest);
    } else {
        for pair in rest.chunks_exact(3) {
            let at = u16::from_le_bytes([pair[0], pair[1]]) as usize;
            if let Some(b) = bytes.get_mut(at) {
                *b ^= pair[2].max(1);
            }
        }
    }
    std::fs::write(&segment, &bytes).expect("write segment");

    let kept = match Log::open(dir.path(), LogOptions::default()) {
        Ok((log, _)) => records(&log),
        // a damaged segment header is refused, not guessed at
        Err(cadre_log::LogError::Corrupt { offset: 0, .. }) => return,
        Err(e) => panic!("open failed: {e}"),
    };
    let prefix = kept.len().min(stored.len());
    assert_eq!(
        kept[..prefix],
        stored[..prefix],
        "kept records are what was stored"
    );
    if mode % 2 == 0 {
        assert!(
            kept.len() >= stored.len(),
            "a garbage tail cost stored records"
        );
    }
    let (mut log, recovery) = Log::open(dir.path(), LogOptions::default()).expect("second open");
    assert_eq!(recovery, None, "a second open recovers nothing");
    assert_eq!(records(&log), kept, "a second open reads the same");
    let extra = Uuid::from_u128(u128::MAX);
    if !log.contains(&extra) {
        log.append_batch([(extra, b"{}".as_slice())])
            .expect("append after recovery");
        drop(log);
        let (log, _) = Log::open(dir.path(), LogOptions::default()).expect("third open");
        let mut want = kept.clone();
        want.push((extra, b"{}".to_vec()));
        assert_eq!(records(&log), want, "an append after recovery is kept");
    }
});
