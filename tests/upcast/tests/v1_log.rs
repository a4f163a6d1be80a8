//! A log written by today's cadre (`fixture/log`, made by `cadre ingest
//! fixture/events.ndjson` when every type was at version 1) read back by a
//! build in which `employee.left` is at version 2: the stored version 1
//! events come back as version 2, upcast on read, and the log is unchanged.

use std::path::{Path, PathBuf};

use cadre_ingest::Validator;
use cadre_store::{ReadBack, StoreLayout, StoreReader};
use cadre_model::{Event, EventData, EventType};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixture")
}

#[test]
fn version_1_events_in_the_log_are_read_as_version_2() {
    assert_eq!(EventType::EmployeeLeft.versions(), &[1, 2]);
    let before = std::fs::read(fixture().join("log/00000000.seg")).unwrap();
    let reader = StoreReader::open(&StoreLayout::new(fixture())).unwrap();
    let mut events: Vec<Event> = Vec::new();
    reader.replay(|_, e| events.push(e)).unwrap();
    assert_eq!(events.len(), 4, "the fixture holds four events");

    let left: Vec<&Event> = events
        .iter()
        .filter(|e| e.event_type() == EventType::EmployeeLeft)
        .collect();
    assert_eq!(left.len(), 2);
    for e in &left {
        assert_eq!(
            e.schema_version, 2,
            "{} read as the current version",
            e.subject
        );
        let EventData::EmployeeLeft(l) = &e.data else {
            panic!("not a leaving: {e:?}")
        };
        assert_eq!(l.kind, "unspecified", "version 1 said no kind");
    }
    // what version 1 said is kept
    let EventData::EmployeeLeft(first) = &left[0].data else {
        unreachable!()
    };
    assert_eq!(first.reason.as_deref(), Some("Retired after 30 years."));
    assert_eq!(
        first.effective_on.map(|d| d.to_string()).as_deref(),
        Some("2026-01-31")
    );
    // other types are untouched
    assert!(events
        .iter()
        .filter(|e| e.event_type() == EventType::EmployeeHired)
        .all(|e| e.schema_version == 1));

    // read on: the upcast event writes itself as version 2, and reads back the same
    let text = left[0].to_json();
    assert!(
        text.contains("\"schema_version\":2") && text.contains("\"kind\":\"unspecified\""),
        "{text}"
    );
    assert_eq!(&Event::from_json(&text).unwrap(), left[0]);

    // the log on disk is never rewritten
    let after = std::fs::read(fixture().join("log/00000000.seg")).unwrap();
    assert_eq!(before, after);
}

#[test]
fn both_versions_are_accepted_at_the_door_and_the_new_field_is_required_in_version_2() {
    let v = Validator::new();
    let v1 = r#"{"event_id":"00000000-0000-4000-8000-000000000010","type":"employee.left","schema_version":1,"occurred_at":"2026-03-01T09:00:00Z","recorded_at":"2026-03-01T09:00:00Z","source":"hris.fixture","subject":"emp-9","data":{"reason":"moved"}}"#;
    let e = v.validate(&serde_json::from_str(v1).unwrap()).unwrap();
    assert_eq!(e.schema_version, 2);
    let v2 = v1.replace("\"schema_version\":1", "\"schema_version\":2");
    let refused = v.validate(&serde_json::from_str(&v2).unwrap()).unwrap_err();
    assert!(
        refused.path.contains("data") || refused.reason.contains("kind"),
        "{refused}"
    );
    let v2 = v2.replace(
        "{\"reason\":\"moved\"}",
        "{\"reason\":\"moved\",\"kind\":\"resignation\"}",
    );
    let e = v.validate(&serde_json::from_str(&v2).unwrap()).unwrap();
    let EventData::EmployeeLeft(l) = &e.data else {
        panic!("not a leaving")
    };
    assert_eq!(l.kind, "resignation");
}
