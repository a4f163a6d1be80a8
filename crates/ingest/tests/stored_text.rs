//! What the log keeps of an event: its canonical text (compact, keys
//! sorted), whether the event came in that text or in another; and a
//! re-send is a duplicate whatever text it comes in.

use cadre_ingest::{parse_body, parse_lines, Ingestor, Outcome};
use cadre_model::Event;
use cadre_store::{ReadBack, StoreLayout};
use serde_json::{json, Value};

fn hire(id: &str, subject: &str) -> Value {
    json!({
        "type": "employee.hired",
        "event_id": id,
        "schema_version": 1,
        "occurred_at": "2026-03-01T09:00:00Z",
        "recorded_at": "2026-03-01T10:00:00+01:00",
        "source": "hris",
        "subject": subject,
        "data": {"name": "Ann \"Nan\" Lee"}
    })
}

fn statuses(ingestor: &mut Ingestor, items: Vec<cadre_ingest::Item>) -> Vec<&'static str> {
    let batch = ingestor.ingest("test", items).expect("stored");
    batch
        .outcomes
        .iter()
        .map(|o| match o {
            Outcome::Accepted { .. } => "accepted",
            Outcome::Duplicate { .. } => "duplicate",
            Outcome::Rejected { .. } => "rejected",
        })
        .collect()
}

fn stored_texts(ingestor: &Ingestor) -> Vec<String> {
    let records = ingestor.log().read_all().expect("read");
    records
        .into_iter()
        .map(|r| String::from_utf8(r.payload).expect("utf-8"))
        .collect()
}

#[test]
fn the_log_keeps_canonical_text_and_a_resend_in_any_text_is_a_duplicate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut ingestor, _) = Ingestor::open(&StoreLayout::new(dir.path())).expect("open");

    let a = hire("2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10", "emp-1");
    let b = hire("2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a11", "emp-2");
    let canonical = |v: &Value| Event::from_value(v.clone()).expect("valid").to_json();
    // `a` in its canonical text, `b` in another (key order of the literal, spaces)
    let b_text = serde_json::to_string_pretty(&b).expect("json");
    assert_ne!(
        b_text,
        canonical(&b),
        "the test needs a text that is not canonical"
    );
    let body = format!("[{},{b_text}]", canonical(&a));
    assert_eq!(
        statuses(&mut ingestor, parse_body(body.as_bytes())),
        ["accepted", "accepted"]
    );
    assert_eq!(stored_texts(&ingestor), [canonical(&a), canonical(&b)]);

    // re-sends: `a` in another text, `b` in its canonical text, on NDJSON lines
    let lines = format!("{}\n{}\n", a, canonical(&b));
    assert_eq!(
        statuses(&mut ingestor, parse_lines(lines.as_bytes())),
        ["duplicate", "duplicate"]
    );
    // the same id with other content is refused, in either text
    let mut changed = a.clone();
    changed["data"]["name"] = json!("Ann Lee");
    let lines = format!("{}\n{}\n", changed, canonical(&changed));
    let batch = ingestor
        .ingest("test", parse_lines(lines.as_bytes()))
        .expect("stored");
    for outcome in &batch.outcomes {
        let Outcome::Rejected { event_id, path, .. } = outcome else {
            panic!("a conflict is refused: {outcome:?}");
        };
        assert_eq!(event_id.as_deref(), a["event_id"].as_str());
        assert_eq!(path, "/event_id");
    }
    assert_eq!(stored_texts(&ingestor).len(), 2, "nothing stored twice");
    // each dead letter keeps the text as it came, canonical or not
    let raws: Vec<String> = ingestor
        .read_dead_letters()
        .expect("dead letters")
        .into_iter()
        .map(|d| d.raw)
        .collect();
    assert_eq!(raws, [changed.to_string(), canonical(&changed)]);
}
