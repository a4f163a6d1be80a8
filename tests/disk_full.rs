//! A full disk and a read-only data directory: ingest says so clearly,
//! acknowledges nothing it did not store, keeps serving, and recovers when
//! space returns. The data directory lives on a small tmpfs mounted for the
//! test (the test runs as root, as CI does; it fails, not skips, otherwise).

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        mount(&["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"], at);
        Tmpfs(at.to_path_buf())
    }

    fn remount(&self, options: &str) {
        mount(&["-o", &format!("remount,{options}")], &self.0);
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount(args: &[&str], at: &Path) {
    let out = Command::new("mount")
        .args(args)
        .arg(at)
        .output()
        .expect("mount runs");
    assert!(
        out.status.success(),
        "mount {args:?} {} failed: {} (this test needs root, as in CI)",
        at.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_full_disk_acknowledges_nothing_unstored_and_recovers_when_space_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("events.ndjson");
    generate(&file, 400, 21);
    let batches = batches_of(&file, 100);
    let events: usize = batches.iter().map(|(_, ids)| ids.len()).sum();

    // 1 MiB: room for a few thousand events, not for all of them
    let disk = Tmpfs::mount(&tmp.path().join("disk"), "1m");
    let data = disk.0.join("data");
    let config = tmp.path().join("cadre.toml");
    std::fs::write(&config, "[server]\nevents_per_second = 0.0\n").unwrap();
    let server = Server::start_with(
        &data,
        "ingest-token-0123456789",
        &["--config", config.to_str().unwrap()],
    );
    let mut acknowledged = HashSet::new();
    let mut next = 0;
    let mut refused = 0;
    while next < batches.len() && refused == 0 {
        let (code, answer) = server.post_events(batches[next].0.as_bytes());
        match code {
            200 => {
                for r in answer["results"].as_array().unwrap() {
                    acknowledged.insert(r["event_id"].as_str().unwrap().to_string());
                }
                next += 1;
            }
            503 => {
                let error = answer["error"].as_str().unwrap_or_default();
                assert!(
                    error.contains("nothing acknowledged") && error.contains("No space left"),
                    "a full disk is named: {answer}"
                );
                refused += 1;
            }
            other => panic!("unexpected {other}: {answer}"),
        }
    }
    assert!(
        refused > 0 && next > 0,
        "the disk filled part way ({next} of {} batches stored)",
        batches.len()
    );
    // still full: refused again, and the server stays up and readable
    let (code, _) = server.post_events(batches[next].0.as_bytes());
    assert_eq!(code, 503);
    assert_eq!(server.get("/health").0, 200);
    let before = server.get_json("/v1/status")["events"].as_u64().unwrap();
    assert_eq!(
        before as usize,
        acknowledged.len(),
        "nothing unacknowledged counts"
    );

    // space returns: the same batches go through, nothing doubled
    disk.remount("size=64m");
    for (body, _) in &batches[next..] {
        let (code, answer) = server.post_events(body.as_bytes());
        assert_eq!(code, 200, "{answer}");
        for r in answer["results"].as_array().unwrap() {
            acknowledged.insert(r["event_id"].as_str().unwrap().to_string());
        }
    }
    drop(server);
    let stored = stored_ids(&data);
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "no event stored twice");
    assert_eq!(stored.len(), events, "every event stored once");
    assert!(acknowledged.iter().all(|id| unique.contains(id)));

    // read-only: a clear refusal, nothing changed; writable again: it works
    disk.remount("ro");
    let more = tmp.path().join("more.ndjson");
    generate(&more, 20, 22);
    let out = run(cadre(&data).args(["ingest", "--quiet"]).arg(&more), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot open the data directory")
            && stderr.contains("Read-only file system"),
        "{stderr}"
    );
    let out = run(cadre(&data).args(["serve", "--port", "0"]), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"));
    assert_eq!(status(&data)["events"].as_u64(), Some(events as u64));
    disk.remount("rw");
    run(cadre(&data).args(["ingest", "--quiet"]).arg(&more), 0);
    assert!(status(&data)["events"].as_u64().unwrap() > events as u64);
}
