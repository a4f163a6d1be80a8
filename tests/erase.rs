//! The right to erasure: `cadre erase EMPLOYEE` leaves no trace of the
//! person's id or name anywhere in the data directory, survives a crash in
//! the middle, and the figures recomputed afterwards equal those of an
//! organisation whose events never held the person's records (built here
//! independently, by filtering the generated events).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

const TOKEN: &str = "erase-test-token";

/// Whether `bytes` contain `word` with no letter or digit on either side.
fn mentions(bytes: &[u8], word: &str) -> bool {
    let w = word.as_bytes();
    bytes.windows(w.len()).enumerate().any(|(i, win)| {
        win == w
            && !bytes
                .get(i.wrapping_sub(1))
                .is_some_and(u8::is_ascii_alphanumeric)
            && !bytes
                .get(i + w.len())
                .is_some_and(u8::is_ascii_alphanumeric)
    })
}

/// Every file under `dir` whose bytes mention `word`.
fn files_mentioning(dir: &Path, word: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if mentions(&std::fs::read(&p).unwrap(), word) {
                out.push(p);
            }
        }
    }
    out
}

/// Every file under `dir` with its content.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// A generated organisation's events: the file and the events read back.
fn generated(tmp: &Path, employees: usize, seed: u64) -> (PathBuf, Vec<Value>) {
    let file = tmp.join("events.ndjson");
    generate(&file, employees, seed);
    let events = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (file, events)
}

/// The person to erase: a succession candidate, with their name.
fn pick_target(events: &[Value]) -> (String, String) {
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut candidates = Vec::new();
    for e in events {
        let d = &e["data"];
        match e["type"].as_str().unwrap() {
            "employee.hired" => {
                names.insert(e["subject"].as_str().unwrap(), d["name"].as_str().unwrap());
            }
            "succession.nominated" => candidates.push(d["candidate_id"].as_str().unwrap()),
            _ => {}
        }
    }
    candidates.sort();
    let unique = |id: &str| {
        names
            .get(id)
            .is_some_and(|n| names.values().filter(|m| *m == n).count() == 1)
    };
    let id = *candidates
        .iter()
        .find(|c| unique(c))
        .expect("the organisation has a succession candidate with a name of their own");
    (id.to_string(), names[id].to_string())
}

/// An assessment of a colleague by the person, naming them in its evidence.
fn colleague_assessed_by(events: &[Value], id: &str, name: &str) -> Value {
    let mut e = events
        .iter()
        .find(|e| e["type"] == "assessment.recorded" && e["subject"] != id)
        .expect("an assessment of someone else")
        .clone();
    e["event_id"] = "00000000-0000-4000-8000-0000000e1a5e".into();
    e["data"]["assessor_type"] = "peer".into();
    e["data"]["assessor_id"] = id.into();
    e["data"]["evidence"] = format!("workshop run with {name}").into();
    e
}

/// The events as they would have been had the person never been recorded:
/// their own events gone, their id and name in a colleague's assessment blanked out.
fn without(events: &[Value], id: &str, name: &str) -> Vec<Value> {
    let own = [
        "employee.hired",
        "employee.assigned",
        "employee.left",
        "assessment.recorded",
        "training.completed",
        "performance.rated",
        "potential.rated",
    ];
    events
        .iter()
        .filter(|e| {
            let t = e["type"].as_str().unwrap();
            let candidate = e["data"]["candidate_id"].as_str() == Some(id);
            !(candidate || (own.contains(&t) && e["subject"] == id))
        })
        .map(|e| {
            let mut e = e.clone();
            if e["data"]["assessor_id"] == id {
                e["data"]["assessor_id"] = "[erased]".into();
                let evidence = e["data"]["evidence"]
                    .as_str()
                    .unwrap()
                    .replace(name, "[erased]");
                e["data"]["evidence"] = evidence.into();
            }
            e
        })
        .collect()
}

fn write_ndjson(path: &Path, events: &[Value]) {
    let text: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(path, text.join("\n") + "\n").unwrap();
}

/// The figures a planner sees, as of the generated year's end.
fn figures(data: &Path) -> Value {
    let kinds = ["gaps", "training-needs", "succession", "nine-box", "trends"];
    let mut out = serde_json::Map::new();
    for kind in kinds {
        let o = run(
            cadre(data).args(["query", kind, "--format", "json", "--as-of", END]),
            0,
        );
        out.insert(kind.into(), serde_json::from_slice(&o.stdout).unwrap());
    }
    Value::Object(out)
}

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn erase_leaves_no_trace_and_figures_equal_a_log_without_the_person() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, mut events) = generated(tmp.path(), 300, 11);
    let (id, name) = pick_target(&events);
    events.push(colleague_assessed_by(&events, &id, &name));
    write_ndjson(&file, &events);
    let data = tmp.path().join("data");
    run(cadre(&data).arg("ingest").arg(&file), 0);

    // a rejected event about them in the dead letters, an access in the audit log
    let bad = tmp.path().join("bad.ndjson");
    std::fs::write(
        &bad,
        format!("{{\"type\":\"employee.hired\",\"subject\":\"{id}\",\"data\":{{\"name\":\"{name}\"}}}}\n"),
    )
    .unwrap();
    run(cadre(&data).arg("ingest").arg(&bad), 2);
    let server = Server::start(&data, TOKEN);
    let (code, _) = server.get_as(&server.admin, &format!("/v1/employees/{id}"));
    assert_eq!(code, 200);
    server.stop(); // it writes a checkpoint as it stops
    let checkpoint = data.join("projection/timeline.ckpt");
    assert!(checkpoint.exists(), "the server left a checkpoint");
    for (word, parts) in [
        (
            &id,
            &["log", "dead-letter", "audit.jsonl", "timeline.ckpt"][..],
        ),
        (&name, &["log", "dead-letter", "timeline.ckpt"][..]),
    ] {
        let found = files_mentioning(&data, word);
        for part in parts {
            assert!(
                found.iter().any(|p| p.to_string_lossy().contains(part)),
                "before erasure, {word:?} should be in {part}: {found:?}"
            );
        }
    }

    // without --yes: the plan, and nothing changes
    let before = snapshot(&data);
    let plan = run(cadre(&data).args(["erase", &id]), 0);
    let plan = text(&plan);
    assert!(
        plan.contains("would erase") && plan.contains("--yes"),
        "{plan}"
    );
    assert_eq!(snapshot(&data), before, "a plan changes nothing");

    // a crash while the event log is being committed (the dead-letter store,
    // rewritten first, passes the same point once before): the log is intact
    let crashed = cadre(&data)
        .args(["erase", &id, "--yes"])
        .env("CADRE_CRASH_AT", "log.rewrite_before_commit:2")
        .output()
        .unwrap();
    assert_eq!(
        crashed.status.code(),
        None,
        "killed by the crash point: {}",
        text(&crashed)
    );
    let exported = run(cadre(&data).arg("export"), 0).stdout;
    assert_eq!(
        String::from_utf8(exported).unwrap().lines().count(),
        events.len(),
        "a crash before the commit leaves the event log as it was"
    );

    // a file the person's events were imported from, left in the data directory
    std::fs::copy(&file, data.join("import.ndjson")).unwrap();
    let out = run(cadre(&data).args(["erase", &id, "--yes"]), 2);
    let report = text(&out);
    assert!(
        report.contains("import.ndjson") && report.contains("remove or edit"),
        "{report}"
    );
    std::fs::remove_file(data.join("import.ndjson")).unwrap();

    // no trace of the id or the name anywhere in the data directory
    for word in [&id, &name] {
        assert_eq!(
            files_mentioning(&data, word),
            Vec::<PathBuf>::new(),
            "{word:?} is still in the data directory"
        );
    }
    assert!(!checkpoint.exists());

    // the figures equal those of the events without the person, ingested afresh
    let expected_file = tmp.path().join("expected.ndjson");
    let expected_events = without(&events, &id, &name);
    assert!(expected_events.len() < events.len() - 5);
    write_ndjson(&expected_file, &expected_events);
    let expected = tmp.path().join("expected");
    run(cadre(&expected).arg("ingest").arg(&expected_file), 0);
    let (got, want) = (figures(&data), figures(&expected));
    if let Some(diff) = first_difference(&got, &want, "") {
        panic!("figures after erasure differ from a log without the person at {diff}");
    }
    assert_eq!(
        status(&data)["events"],
        Value::from(expected_events.len()),
        "every event but the person's is still stored"
    );

    // re-sending the original feed stores nothing and brings nobody back
    run(cadre(&data).arg("ingest").arg(&file), 0);
    assert_eq!(status(&data)["events"], Value::from(expected_events.len()));
    assert!(files_mentioning(&data, &id).is_empty());

    // a second erasure finds nothing; the server knows nobody of that id
    let again = run(cadre(&data).args(["erase", &id, "--yes"]), 1);
    assert!(text(&again).contains("erased already"), "{}", text(&again));
    let server = Server::start(&data, TOKEN);
    let (code, _) = server.get_as(&server.admin, &format!("/v1/employees/{id}"));
    assert_eq!(code, 404);
}

/// `text` with every char but ASCII letters and digits written as a JSON
/// `\uXXXX` escape, as some producers do.
fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("\\u{:04x}", c as u32)
            }
        })
        .collect()
}

#[test]
fn escaped_cased_and_spaced_mentions_go_and_a_surname_alone_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, mut events) = generated(tmp.path(), 120, 5);
    let (id, name) = pick_target(&events);
    let surname = name.split_whitespace().last().unwrap().to_string();
    // a colleague's assessment naming them in capitals with two spaces, and
    // once by surname alone
    let mut e = colleague_assessed_by(&events, &id, &name);
    let shouted = name.to_uppercase().replacen(' ', "  ", 1);
    e["data"]["evidence"] = format!("workshop run with {shouted}; {surname} again").into();
    events.push(e);
    write_ndjson(&file, &events);
    let data = tmp.path().join("data");
    run(cadre(&data).arg("ingest").arg(&file), 0);
    // a refused item naming them only in JSON escapes (no event_id: a dead letter)
    let bad = tmp.path().join("bad.ndjson");
    std::fs::write(
        &bad,
        format!(
            "{{\"type\":\"employee.hired\",\"subject\":\"{}\",\"data\":{{\"name\":\"{}\"}}}}\n",
            escaped(&id),
            escaped(&name)
        ),
    )
    .unwrap();
    run(cadre(&data).arg("ingest").arg(&bad), 2);
    assert!(files_mentioning(&data, &name)
        .iter()
        .all(|p| !p.to_string_lossy().contains("dead-letter")));
    assert_eq!(status(&data)["dead_letters"], 1);

    let out = run(cadre(&data).args(["erase", &id, "--yes"]), 0);
    let report = text(&out);
    assert!(
        report.contains("1 dead letters erased") || report.contains("1  dead letters"),
        "{report}"
    );
    assert!(
        report.contains(&format!("{surname:?} alone")),
        "the near miss is reported: {report}"
    );
    assert!(report.contains("nothing in"), "{report}");
    assert_eq!(
        status(&data)["dead_letters"],
        0,
        "the escaped dead letter is gone"
    );

    // the shouted name is gone from the colleague's assessment, the surname kept
    let exported = String::from_utf8(run(cadre(&data).arg("export"), 0).stdout).unwrap();
    let lower = exported.to_lowercase();
    let folded_name = name.to_lowercase();
    assert!(!lower.contains(&folded_name), "a cased mention survived");
    assert!(!lower.contains(&name.to_lowercase().replacen(' ', "  ", 1)));
    assert!(
        exported.contains(&format!("[erased]; {surname} again")),
        "kept for review"
    );
}
