//! Event decoding and validation: any bytes, as a request body or an NDJSON
//! file, are split into items and each item judged without a panic; an item
//! that is accepted re-encodes to JSON that is accepted again as the same event,
//! the fast path (decoding alone) accepts nothing the schemas refuse, and the
//! hand-written reader of compact text reads what serde reads, as serde does.
#![no_main]

use std::sync::OnceLock;

use cadre_ingest::{decoded_as_schema_judges, parse_body, parse_lines, Validator};
use cadre_model::Event;
use libfuzzer_sys::fuzz_target;

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(Validator::new)
}

fuzz_target!(|data: &[u8]| {
    let v = validator();
    for item in parse_body(data).into_iter().chain(parse_lines(data)) {
        assert!(item.position >= 1, "positions are 1-based");
        // an item that is not UTF-8 is refused whole; its text is only a
        // lossy rendering for the error message, never judged
        let fast = item
            .unreadable
            .is_none()
            .then(|| decoded_as_schema_judges(&item.raw))
            .flatten();
        if let Some(compact) = Event::from_compact_json(&item.raw) {
            assert_eq!(
                Event::from_json_exact(&item.raw).ok(),
                Some(compact),
                "the compact reader and serde read two events"
            );
        }
        let judged = v.judge(&item);
        if item.unreadable.is_some() {
            assert!(judged.is_err(), "an item that is not UTF-8 was accepted");
        }
        if let Some(fast) = &fast {
            assert_eq!(
                judged.as_ref().ok(),
                Some(fast),
                "the fast path accepts what the schemas refuse"
            );
        }
        let Ok(value) = item.parse() else { continue };
        let by_schema = v.validate(&value);
        if fast.is_some() {
            assert_eq!(
                by_schema.as_ref().ok(),
                fast.as_ref(),
                "the two paths disagree"
            );
        }
        if let Ok(event) = by_schema {
            let again = event.to_value();
            let back = v
                .validate(&again)
                .unwrap_or_else(|r| panic!("a valid event re-encodes to an invalid one: {r:?}"));
            assert_eq!(back, event, "re-encoding changes the event");
            assert_eq!(event.to_json(), again.to_string(), "two canonical texts");
        }
    }
});
