//! The JSON Schemas and the Rust types agree on every example in `schemas/examples/`.

use std::fs;
use std::path::{Path, PathBuf};

use cadre_ingest::Validator;
use cadre_model::Event;
use serde_json::Value;

fn examples(kind: &str) -> Vec<(PathBuf, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas/examples")
        .join(kind);
    let mut out: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = fs::read_to_string(&p).expect("readable example");
            let v = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()));
            (p, v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_valid_example_passes_schema_and_types_and_round_trips() {
    let v = Validator::new();
    let all = examples("valid");
    assert!(
        all.len() >= 26,
        "two valid examples per event type at least, found {}",
        all.len()
    );
    let mut types = std::collections::BTreeSet::new();
    for (path, value) in all {
        let event = v
            .validate(&value)
            .unwrap_or_else(|r| panic!("{} rejected by the schema path: {r}", path.display()));
        let typed = Event::from_value(value.clone())
            .unwrap_or_else(|e| panic!("{} rejected by the Rust types: {e}", path.display()));
        assert_eq!(event, typed);
        types.insert(event.event_type());
        // what cadre writes back is itself valid and decodes to the same event
        let again = v
            .validate(&event.to_value())
            .unwrap_or_else(|r| panic!("{} re-encoded is invalid: {r}", path.display()));
        assert_eq!(again, event, "{}", path.display());
    }
    assert_eq!(
        types.len(),
        cadre_model::EventType::ALL.len(),
        "every event type has a valid example"
    );
}

#[test]
fn every_invalid_example_is_rejected_by_both_at_the_documented_path() {
    let v = Validator::new();
    let all = examples("invalid");
    assert!(
        all.len() >= 30,
        "at least 30 invalid examples, found {}",
        all.len()
    );
    for (path, doc) in all {
        let expected = doc["path"].as_str().expect("invalid examples carry a path");
        let event = doc["event"].clone();
        let rej = match v.validate(&event) {
            Ok(e) => panic!("{} was accepted as {:?}", path.display(), e.event_type()),
            Err(r) => r,
        };
        assert_eq!(rej.path, expected, "{}: {}", path.display(), rej.reason);
        assert!(
            !rej.reason.is_empty(),
            "{} has an empty reason",
            path.display()
        );
        assert!(
            Event::from_value(event).is_err(),
            "{}: the schema rejects it ({rej}) but the Rust types accept it",
            path.display()
        );
    }
}

#[test]
fn shipped_frameworks_pass_the_framework_schema() {
    let v = Validator::new();
    for f in cadre_synth_frameworks() {
        let event = serde_json::json!({
            "event_id": "0b4f1c58-8c3c-4d43-9a53-8c2d6f4f9a01",
            "type": "framework.published",
            "schema_version": 1,
            "occurred_at": "2026-01-01T00:00:00Z",
            "recorded_at": "2026-01-01T00:00:00Z",
            "source": "test",
            "subject": f["id"].clone(),
            "data": f,
        });
        v.validate(&event)
            .unwrap_or_else(|r| panic!("framework rejected: {r}"));
    }
}

fn cadre_synth_frameworks() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../frameworks");
    [
        "cambridge-city-council.json",
        "kenya-county-public-service.json",
    ]
    .iter()
    .map(|f| {
        serde_json::from_str(&fs::read_to_string(dir.join(f)).expect("framework file"))
            .expect("JSON")
    })
    .collect()
}
