//! Killing `cadre ingest` mid-stream and running it again loses and duplicates nothing.

mod common;

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use common::*;

#[test]
fn kill_during_ingest_then_rerun_stores_every_event_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("events.ndjson");
    generate(&file, 1500, 11);
    let ids = ids_of(&file);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "the generator never repeats an id");
    let data = tmp.path().join("data");

    // kill -9 at growing delays until kills have landed mid-import several times
    let mut partial_kills = 0;
    let mut delay = Duration::from_millis(150);
    let mut stored_before = 0;
    for _ in 0..12 {
        let mut child = cadre(&data)
            .args(["ingest", "--quiet", "--batch-size", "20"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ingest starts");
        std::thread::sleep(delay);
        child.kill().expect("kill -9");
        child.wait().unwrap();
        let stored = status(&data)["events"].as_u64().unwrap();
        assert!(
            stored >= stored_before,
            "a restart never loses acknowledged events"
        );
        if stored > stored_before && (stored as usize) < ids.len() {
            partial_kills += 1;
        }
        stored_before = stored;
        if stored as usize == ids.len() || partial_kills >= 3 {
            break;
        }
        delay += Duration::from_millis(150);
    }
    assert!(
        partial_kills >= 1,
        "no kill landed in the middle of the import; the test proved nothing (stored {stored_before} of {})",
        ids.len()
    );

    // a torn tail, as a crash in the middle of a write leaves it
    let seg = data.join("log/00000000.seg");
    OpenOptions::new()
        .append(true)
        .open(&seg)
        .unwrap()
        .write_all(&[42, 0, 0, 0, 1, 2, 3])
        .unwrap();

    let out = run(cadre(&data).args(["ingest", "--quiet"]).arg(&file), 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("recovered"),
        "the torn tail is reported: {stderr}"
    );
    let expected_dups = stored_before;
    assert!(
        stderr.contains(&format!("{} duplicate", expected_dups)),
        "events stored before the crash come back as duplicates: {stderr}"
    );

    let exported = tmp.path().join("export.ndjson");
    run(cadre(&data).args(["export", "--output"]).arg(&exported), 0);
    let stored_ids = ids_of(&exported);
    assert_eq!(stored_ids.len(), ids.len(), "every event exactly once");
    let stored_set: HashSet<&String> = stored_ids.iter().collect();
    assert_eq!(
        stored_set, unique,
        "the same events, none lost, none doubled"
    );
    assert_eq!(status(&data)["dead_letters"], 0);
}
