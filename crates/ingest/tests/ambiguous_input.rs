//! Input that could be read two ways is refused with a plain reason: a key
//! given twice in one object, wherever it is and whatever path the event
//! takes (the compact reader, serde, the schemas), so the log never keeps
//! one of two values silently; a schema version written as a fraction.

use cadre_ingest::{parse_lines, IngestConfig, Ingestor, Outcome};
use cadre_store::StoreLayout;

/// A valid event of each path, and the same with a key repeated.
const CASES: [(&str, &str, &str); 4] = [
    // a hire, in canonical text (the compact reader's path), event_id twice
    (
        r#"{"data":{"name":"Ann Lee"},"event_id":"00000000-0000-4000-8000-0000000d0001","occurred_at":"2026-01-01T00:00:00Z","recorded_at":"2026-01-01T00:00:00Z","schema_version":1,"source":"t","subject":"emp-1","type":"employee.hired"}"#,
        r#"{"data":{"name":"Ann Lee"},"event_id":"00000000-0000-4000-8000-0000000d0001","event_id":"00000000-0000-4000-8000-0000000d0009","occurred_at":"2026-01-01T00:00:00Z","recorded_at":"2026-01-01T00:00:00Z","schema_version":1,"source":"t","subject":"emp-1","type":"employee.hired"}"#,
        "/event_id",
    ),
    // an assessment in another key order (serde's path): level 99, then 3
    (
        r#"{"type":"assessment.recorded","event_id":"00000000-0000-4000-8000-0000000d0002","schema_version":1,"occurred_at":"2026-01-02T00:00:00Z","recorded_at":"2026-01-02T00:00:00Z","source":"t","subject":"emp-1","data":{"competency_id":"c.one","level":3,"assessor_type":"self","assessor_id":"emp-1"}}"#,
        r#"{"type":"assessment.recorded","event_id":"00000000-0000-4000-8000-0000000d0002","schema_version":1,"occurred_at":"2026-01-02T00:00:00Z","recorded_at":"2026-01-02T00:00:00Z","source":"t","subject":"emp-1","data":{"competency_id":"c.one","level":99,"level":3,"assessor_type":"self","assessor_id":"emp-1"}}"#,
        "/data/level",
    ),
    // an org unit (a type the schemas judge): its name twice
    (
        r#"{"type":"org_unit.defined","event_id":"00000000-0000-4000-8000-0000000d0003","schema_version":1,"occurred_at":"2026-01-01T00:00:00Z","recorded_at":"2026-01-01T00:00:00Z","source":"t","subject":"u1","data":{"name":"Unit"}}"#,
        r#"{"type":"org_unit.defined","event_id":"00000000-0000-4000-8000-0000000d0003","schema_version":1,"occurred_at":"2026-01-01T00:00:00Z","recorded_at":"2026-01-01T00:00:00Z","source":"t","subject":"u1","data":{"name":"Unit","name":"Other"}}"#,
        "/data/name",
    ),
    // the envelope's type twice
    (
        r#"{"type":"employee.hired","event_id":"00000000-0000-4000-8000-0000000d0004","schema_version":1,"occurred_at":"2026-01-01T00:00:00Z","recorded_at":"2026-01-01T00:00:00Z","source":"t","subject":"emp-2","data":{"name":"Bo"}}"#,
        r#"{"type":"org_unit.defined","type":"employee.hired","event_id":"00000000-0000-4000-8000-0000000d0004","schema_version":1,"occurred_at":"2026-01-01T00:00:00Z","recorded_at":"2026-01-01T00:00:00Z","source":"t","subject":"emp-2","data":{"name":"Bo"}}"#,
        "/type",
    ),
];

#[test]
fn a_repeated_key_is_refused_with_its_pointer_and_the_valid_form_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ingestor, _) = Ingestor::open(&StoreLayout::new(dir.path())).unwrap();
    ingestor.set_config(IngestConfig {
        check_references: false,
        ..IngestConfig::default()
    });
    for (valid, repeated, pointer) in CASES {
        let batch = ingestor
            .ingest("test", parse_lines(repeated.as_bytes()))
            .unwrap();
        match &batch.outcomes[0] {
            Outcome::Rejected { path, reason, .. } => {
                assert_eq!(path, pointer, "{repeated}");
                assert!(reason.contains("given twice"), "{reason}");
            }
            other => panic!("{repeated} was {other:?}"),
        }
        let batch = ingestor
            .ingest("test", parse_lines(valid.as_bytes()))
            .unwrap();
        assert!(
            matches!(batch.outcomes[0], Outcome::Accepted { .. }),
            "{valid}: {:?}",
            batch.outcomes[0]
        );
    }
    assert_eq!(ingestor.log().len(), 4);
    assert_eq!(ingestor.dead_letters(), 4);
}

#[test]
fn a_schema_version_written_as_a_fraction_is_named_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ingestor, _) = Ingestor::open(&StoreLayout::new(dir.path())).unwrap();
    let (valid, _, _) = CASES[0];
    for written in ["1e0", "1.0"] {
        let text = valid.replace(
            r#""schema_version":1"#,
            &format!(r#""schema_version":{written}"#),
        );
        let batch = ingestor
            .ingest("test", parse_lines(text.as_bytes()))
            .unwrap();
        match &batch.outcomes[0] {
            Outcome::Rejected { path, reason, .. } => {
                assert_eq!(path, "/schema_version");
                assert!(
                    reason.contains("schema_version 1.0 is not a whole number"),
                    "{reason}"
                );
                assert!(!reason.contains("version 0"), "{reason}");
            }
            other => panic!("{text} was {other:?}"),
        }
    }
}
