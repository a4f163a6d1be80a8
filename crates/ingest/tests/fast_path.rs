//! The fast path never accepts what the schemas refuse.
//!
//! Most events are judged by decoding their text straight into their type
//! (`decoded_as_schema_judges`); the rest, and everything that does not
//! decode so, go through the JSON Schemas. These tests hold the fast path to
//! the schemas: on every line of the corpora, every schema example, and
//! several thousand mutations of one valid event of each fast type, an event
//! the fast path accepts is accepted by the schemas as the same event, and
//! its canonical text is the one its JSON value prints.

use std::path::Path;

use cadre_ingest::{decoded_as_schema_judges, parse_body, parse_lines, Validator};
use cadre_model::{Event, EventType};
use serde_json::{json, Value};

/// Judges `text` both ways; true when the fast path accepted it. What the
/// hand-written reader of compact text reads, serde reads as the same event.
fn agree(v: &Validator, text: &str) -> bool {
    if let Some(compact) = Event::from_compact_json(text) {
        assert_eq!(
            Event::from_json_exact(text).ok(),
            Some(compact),
            "the compact reader read another event than serde: {text}"
        );
    }
    let Some(fast) = decoded_as_schema_judges(text) else {
        return false;
    };
    let value: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("the fast path accepted text that is not JSON ({e}): {text}"));
    match v.validate(&value) {
        Ok(slow) => assert_eq!(fast, slow, "the two paths read different events: {text}"),
        Err(r) => panic!("the fast path accepted what the schemas refuse ({r}): {text}"),
    }
    assert_eq!(
        fast.to_json(),
        fast.to_value().to_string(),
        "the canonical text is not the value's text"
    );
    true
}

/// The input the fuzzer found: a valid hire whose name holds two bytes that
/// are not UTF-8. Its lossy text decodes, but the item is refused whole.
#[test]
fn an_item_that_is_not_utf8_is_refused_though_its_lossy_text_decodes() {
    let v = Validator::new();
    let mut bytes = br#"{"data":{"name":""#.to_vec();
    bytes.extend_from_slice(&[0xfe, 0xff]);
    bytes.extend_from_slice(
        br#"Ann"},"event_id":"c0de0000-0000-4000-8000-00000000030e","occurred_at":"2024-05-22T11:12:48Z","recorded_at":"2024-05-23T09:56:51Z","schema_version":1,"source":"cadre.synth","subject":"emp-000001","type":"employee.hired"}"#,
    );
    for item in parse_body(&bytes).into_iter().chain(parse_lines(&bytes)) {
        assert!(item.unreadable.is_some(), "the item should be unreadable");
        assert!(
            decoded_as_schema_judges(&item.raw).is_some(),
            "the lossy text is a valid hire, so the guard is what refuses it"
        );
        let refused = v
            .judge(&item)
            .expect_err("an item that is not UTF-8 was accepted");
        assert!(refused.to_string().contains("UTF-8"), "{refused}");
    }
}

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

#[test]
fn corpora_and_examples() {
    let v = Validator::new();
    let mut texts = Vec::new();
    for corpus in ["tests/corpus/base.ndjson", "tests/corpus/hostile.ndjson"] {
        let text = std::fs::read(repo(corpus)).expect("corpus");
        for line in text.split(|b| *b == b'\n') {
            if let Ok(s) = std::str::from_utf8(line) {
                texts.push(s.trim_end().to_string());
            }
        }
    }
    for kind in ["valid", "invalid"] {
        for entry in std::fs::read_dir(repo("schemas/examples").join(kind)).expect("examples") {
            texts.push(std::fs::read_to_string(entry.expect("entry").path()).expect("example"));
        }
    }
    let fast = texts.iter().filter(|t| agree(&v, t)).count();
    // the base corpus is a small organisation: its assessments, trainings,
    // ratings, hires and moves all take the fast path
    let expected = std::fs::read_to_string(repo("tests/corpus/base.ndjson"))
        .expect("corpus")
        .lines()
        .filter(|l| {
            let e = Event::from_json(l).expect("the base corpus is valid");
            !matches!(
                e.event_type(),
                EventType::FrameworkPublished
                    | EventType::OrgUnitDefined
                    | EventType::RoleProfileDefined
                    | EventType::PositionDefined
                    | EventType::EmployeeLeft
                    | EventType::SuccessionNominated
                    | EventType::SuccessionWithdrawn
            )
        })
        .count();
    assert!(expected > 200, "{expected}");
    // and the base corpus is compact, canonical text: the hand-written
    // reader reads every line the fast path takes
    for line in std::fs::read_to_string(repo("tests/corpus/base.ndjson"))
        .expect("corpus")
        .lines()
    {
        if decoded_as_schema_judges(line).is_some() {
            assert!(Event::from_compact_json(line).is_some(), "{line}");
        }
    }
    assert!(
        fast >= expected,
        "{fast} of {} texts took the fast path",
        texts.len()
    );
}

/// One valid event of each fast type.
fn bases() -> Vec<Value> {
    let envelope = |ty: &str, data: Value| {
        json!({
            "event_id": "2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10",
            "type": ty,
            "schema_version": 1,
            "occurred_at": "2026-03-01T09:00:00Z",
            "recorded_at": "2026-03-01T09:05:00+01:00",
            "source": "hris.test",
            "subject": "emp-1",
            "data": data
        })
    };
    vec![
        envelope(
            "assessment.recorded",
            json!({"competency_id": "c1", "level": 3, "assessor_type": "manager", "assessor_id": "emp-9", "evidence": "seen"}),
        ),
        envelope(
            "training.completed",
            json!({"course_id": "k1", "course_title": "Coaching", "mode": "coaching",
                   "competencies": [{"competency_id": "c1", "target_level": 4}, {"competency_id": "c2", "target_level": 2}]}),
        ),
        envelope("performance.rated", json!({"rating": 4, "period": "2026"})),
        envelope("potential.rated", json!({"potential": "high"})),
        envelope("employee.hired", json!({"name": "Ada Obi"})),
        envelope("employee.assigned", json!({"position_id": "pos-1"})),
        envelope(
            "position.defined",
            json!({"title": "Head of HR", "role_id": "r1", "org_unit_id": "u1", "critical": true}),
        ),
    ]
}

/// Values a field may be given, valid and not.
fn replacements() -> Vec<Value> {
    let long = |c: &str, n: usize| Value::String(c.repeat(n));
    let mut out = vec![
        Value::Null,
        json!(true),
        json!(-1),
        json!(0),
        json!(1),
        json!(5),
        json!(10),
        json!(11),
        json!(255),
        json!(256),
        json!(4294967296u64),
        json!(5.0),
        json!(1e1),
        json!("3"),
        json!(""),
        json!(" "),
        json!("\u{3000}\u{2028}"),
        json!("\u{200b}"),
        json!("x"),
        json!("self"),
        json!("manager"),
        json!("high"),
        json!("coaching"),
        json!([]),
        json!({}),
        json!(["x"]),
        json!({"manager": null}),
        json!({"high": null}),
        json!([{"competency_id": "c1", "target_level": 4}]),
        json!([["c1", 4]]),
        json!([{"competency_id": "c1", "target_level": 4, "extra": 1}]),
        json!([{"competency_id": " ", "target_level": 4}]),
        json!([{"competency_id": "c1", "target_level": 11}]),
        json!("2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10"),
        json!("2F1C1D2E-7A4B-4C39-9B57-0D6F1F2B9A10"),
        json!("2f1c1d2e7a4b4c399b570d6f1f2b9a10"),
        json!("{2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10}"),
        json!("urn:uuid:2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10"),
        json!("2026-03-01T09:00:00Z"),
        json!("2026-03-01t09:00:00z"),
        json!("2026-03-01 09:00:00Z"),
        json!("2026-03-01T09:00Z"),
        json!("2026-03-01T09:00:00"),
        json!("2026-03-01T09:00:00.Z"),
        json!("2026-03-01T09:00:00.5Z"),
        json!("2026-03-01T09:00:00.123456789012Z"),
        json!("2026-03-01T23:59:60Z"),
        json!("2026-03-01T24:00:00Z"),
        json!("2026-02-30T09:00:00Z"),
        json!("2026-03-01T09:00:00+23:59"),
        json!("2026-03-01T09:00:00+24:00"),
        json!("2026-03-01T09:00:00-00:60"),
        json!("2026-03-01T09:00:00+0100"),
        json!("+12026-03-01T09:00:00Z"),
        json!("1899-12-31T23:59:59Z"),
        json!("assessment.recorded"),
        json!("training.completed"),
        json!("employee.left"),
    ];
    for c in ["x", "é", "\u{1F600}"] {
        for n in [127, 128, 129, 256, 257, 4000, 4001] {
            out.push(long(c, n));
        }
    }
    out
}

fn texts_of(v: &Value) -> Vec<String> {
    vec![
        v.to_string(),
        serde_json::to_string_pretty(v).expect("json"),
    ]
}

#[test]
fn mutations_of_every_fast_type() {
    let v = Validator::new();
    let (mut tried, mut fast) = (0, 0);
    let mut check = |value: &Value| {
        for text in texts_of(value) {
            tried += 1;
            fast += usize::from(agree(&v, &text));
        }
    };
    for base in bases() {
        assert!(
            decoded_as_schema_judges(&base.to_string()).is_some(),
            "the base event takes the fast path: {base}"
        );
        check(&base);
        // the envelope and the payload as arrays, and the payload as a string
        let fields = |o: &Value| o.as_object().expect("object").values().cloned().collect();
        check(&Value::Array(fields(&base)));
        let mut data_as_array = base.clone();
        data_as_array["data"] = Value::Array(fields(&base["data"]));
        check(&data_as_array);
        // every field of the envelope and the payload: left out, given each
        // replacement, and an unknown field beside them
        for in_data in [false, true] {
            let mut keys: Vec<String> =
                object(&mut base.clone(), in_data).keys().cloned().collect();
            keys.push("unknown".into());
            for key in &keys {
                let mut without = base.clone();
                object(&mut without, in_data).remove(key);
                check(&without);
                for r in replacements() {
                    let mut e = base.clone();
                    object(&mut e, in_data).insert(key.clone(), r);
                    check(&e);
                }
            }
        }
    }
    // duplicate keys, written by hand
    let dup = r#"{"event_id":"2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10","type":"performance.rated","schema_version":1,"occurred_at":"2026-03-01T09:00:00Z","recorded_at":"2026-03-01T09:00:00Z","source":"s","subject":"e","data":{"rating":4,"rating":9,"period":"2026"}}"#;
    tried += 1;
    fast += usize::from(agree(&v, dup));
    assert!(tried > 5000, "{tried} texts tried");
    assert!(
        fast > 100,
        "only {fast} of {tried} texts took the fast path"
    );
}

/// Every byte of each fast type's compact text left out, doubled, or
/// replaced by one that JSON gives a meaning, and a space or a backslash put
/// before it: the compact reader reads what serde reads, or leaves it.
#[test]
fn byte_mutations_of_compact_text() {
    let v = Validator::new();
    let (mut tried, mut compact) = (0, 0);
    for base in bases() {
        let text = base.to_string();
        assert!(
            Event::from_compact_json(&text).is_some(),
            "the compact reader reads the base event: {text}"
        );
        let bytes = text.as_bytes();
        for i in 0..bytes.len() {
            let mut variants = vec![
                [&bytes[..i], &bytes[i + 1..]].concat(),
                [&bytes[..=i], &bytes[i..]].concat(),
            ];
            for b in *b" \"{}[],:0x-" {
                variants.push([&bytes[..i], &[b], &bytes[i + 1..]].concat());
                variants.push([&bytes[..i], &[b], &bytes[i..]].concat());
            }
            for variant in variants {
                let Ok(text) = String::from_utf8(variant) else {
                    continue;
                };
                tried += 1;
                compact += usize::from(Event::from_compact_json(&text).is_some());
                agree(&v, &text);
            }
        }
    }
    assert!(tried > 20_000, "{tried} texts tried");
    // ids, dates and names can change a character and stay valid
    assert!(compact > 500, "only {compact} of {tried} read");
}

fn object(e: &mut Value, in_data: bool) -> &mut serde_json::Map<String, Value> {
    let o = if in_data { &mut e["data"] } else { e };
    o.as_object_mut().expect("object")
}
