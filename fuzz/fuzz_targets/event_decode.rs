//! Event decoding and validation: any bytes, as a request body or an NDJSON
//! file, are split into items and each item judged without a panic; an item
//! that is accepted re-encodes to JSON that is accepted again as the same event.
#![no_main]

use std::sync::OnceLock;

use cadre_ingest::{parse_body, parse_lines, Validator};
use libfuzzer_sys::fuzz_target;

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(Validator::new)
}

fuzz_target!(|data: &[u8]| {
    let v = validator();
    for item in parse_body(data).into_iter().chain(parse_lines(data)) {
        assert!(item.position >= 1, "positions are 1-based");
        let Ok(value) = &item.parsed else { continue };
        if let Ok(event) = v.validate(value) {
            let again = event.to_value();
            let back = v
                .validate(&again)
                .unwrap_or_else(|r| panic!("a valid event re-encodes to an invalid one: {r:?}"));
            assert_eq!(back, event, "re-encoding changes the event");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&event.to_json()).ok(),
                Some(again)
            );
        }
    }
});
