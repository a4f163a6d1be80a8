//! The decoder seam: bytes (a request body, a file) into items.
//!
//! [`Decoder`] is the closed list of formats cadre reads; HTTP picks one by
//! `Content-Type`, file import by the file's name, and both then judge and
//! store the items the same way. A new input format is a new variant here.

use serde::Deserializer as _;
use serde_json::Value;

use crate::duplicate_keys::{parse_unique, NotUnique};
use crate::rejection::Rejection;

/// One item of a batch: where it was and its text. The text is parsed
/// when it is judged, so that an event the decoder accepts is read once,
/// straight into its type.
#[derive(Debug, Clone)]
pub struct Item {
    /// 1-based position: the line for NDJSON, the element for arrays.
    pub position: usize,
    /// The item as received (for the dead-letter store), or as re-encoded
    /// from the array it came in.
    pub raw: String,
    /// Why the item cannot be JSON at all (its bytes are not UTF-8, or the
    /// array holding it is broken); `None` when its text is to be judged.
    pub unreadable: Option<Rejection>,
}

impl Item {
    /// An item whose text is to be judged.
    pub fn text(position: usize, raw: String) -> Item {
        Item {
            position,
            raw,
            unreadable: None,
        }
    }

    /// The item's JSON, or why it has none.
    pub fn parse(&self) -> Result<Value, Rejection> {
        if let Some(why) = &self.unreadable {
            return Err(why.clone());
        }
        // one pass that also refuses a key given twice
        parse_unique(&self.raw).map_err(|e| match e {
            NotUnique::Invalid(e) => Rejection::new("", format!("not valid JSON: {e}")),
            NotUnique::Repeated(at) => Rejection::new(
                at,
                "this key is given twice in one object: give each key once (only one value can be stored)",
            ),
        })
    }
}

/// One NDJSON line as an item.
pub fn parse_line(position: usize, line: &str) -> Item {
    Item::text(position, line.to_string())
}

/// A format items arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// One item per non-blank line, whatever the first line looks like.
    Ndjson,
    /// One JSON event, a JSON array of events, or NDJSON, told apart by their first bytes.
    Json,
}

/// Media types read as NDJSON, a line per event.
pub const NDJSON_TYPES: [&str; 3] = [
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
];

/// Media types read as JSON: one event, an array of events (or NDJSON).
pub const JSON_TYPES: [&str; 1] = ["application/json"];

impl Decoder {
    /// Splits `bytes` into items.
    pub fn decode(self, bytes: &[u8]) -> Vec<Item> {
        match self {
            Decoder::Ndjson => parse_lines(bytes),
            Decoder::Json => parse_body(bytes),
        }
    }

    /// The decoder for a declared media type: NDJSON when declared so; JSON
    /// (one event, an array, or NDJSON, told apart by the body itself) when
    /// declared JSON or not declared at all; `None` for any other type (a
    /// form's `text/plain`, say), which is not an event body.
    pub fn for_media_type(media_type: Option<&str>) -> Option<Decoder> {
        let Some(declared) = media_type.map(|t| t.split(';').next().unwrap_or_default().trim())
        else {
            return Some(Decoder::Json);
        };
        let is = |names: &[&str]| names.iter().any(|n| declared.eq_ignore_ascii_case(n));
        if is(&NDJSON_TYPES) {
            Some(Decoder::Ndjson)
        } else if is(&JSON_TYPES) {
            Some(Decoder::Json)
        } else {
            None
        }
    }

    /// The decoder for a file: a `.json` file holds one event or an array of
    /// them (or NDJSON); anything else is NDJSON, read a batch of lines at a time.
    pub fn for_path(path: &std::path::Path) -> Decoder {
        let json = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if json {
            Decoder::Json
        } else {
            Decoder::Ndjson
        }
    }

    /// How many items [`Decoder::decode`] would make of `bytes`, counted
    /// without making them: a body can be refused for holding too many
    /// events before memory is spent on each (a body of two-byte lines
    /// would otherwise become millions of items).
    pub fn count(self, bytes: &[u8]) -> usize {
        let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        match self {
            Decoder::Ndjson => count_lines(bytes),
            Decoder::Json => {
                let first = bytes.iter().position(|b| !b.is_ascii_whitespace());
                match first.map(|i| bytes[i]) {
                    None => 0,
                    Some(b'[') => serde_json::Deserializer::from_slice(bytes)
                        .deserialize_seq(CountElements)
                        .unwrap_or(1),
                    Some(_) if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() => 1,
                    Some(_) => count_lines(bytes),
                }
            }
        }
    }

    /// Whether the format can be read a line at a time (a file of any size
    /// in bounded memory); otherwise the whole input is read first.
    pub fn streams(self) -> bool {
        self == Decoder::Ndjson
    }
}

/// Splits a body holding one JSON event, a JSON array of events, or NDJSON.
///
/// A malformed NDJSON line becomes one rejected item; the other lines stand.
/// Blank lines are skipped. Bytes that are not UTF-8 reject only the lines
/// that hold them.
pub fn parse_body(body: &[u8]) -> Vec<Item> {
    let body = body.strip_prefix(BOM).unwrap_or(body);
    let first = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(first) = first else {
        return Vec::new();
    };
    if body[first] == b'[' {
        return match serde_json::from_slice::<Vec<&serde_json::value::RawValue>>(body) {
            Ok(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| Item::text(i + 1, v.get().to_string()))
                .collect(),
            Err(e) => vec![Item {
                position: 1,
                raw: String::from_utf8_lossy(body).into_owned(),
                unreadable: Some(Rejection::new(
                    "",
                    format!("body is not a valid JSON array: {e}"),
                )),
            }],
        };
    }
    // serde_json skips over strings without checking their UTF-8, so the
    // body is checked first: one that is not UTF-8 is read line by line,
    // where the lines that hold the bad bytes are refused
    if let Ok(text) = std::str::from_utf8(body) {
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
            return vec![Item::text(1, text.trim().to_string())];
        }
    }
    parse_lines(body)
}

/// The non-blank lines of a body.
fn count_lines(bytes: &[u8]) -> usize {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !is_blank(l))
        .count()
}

/// Counts a JSON array's elements, skipping over each.
struct CountElements;

impl<'de> serde::de::Visitor<'de> for CountElements {
    type Value = usize;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(n)
    }
}

/// Splits an NDJSON body (`Content-Type: application/x-ndjson`) into one
/// item per non-blank line, whatever the first line looks like.
pub fn parse_lines(body: &[u8]) -> Vec<Item> {
    body.split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, l)| !is_blank(l))
        .map(|(i, l)| parse_raw_line(i + 1, l.to_vec()))
        .collect()
}

/// Whether a line holds nothing but whitespace (such lines are skipped).
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| b.is_ascii_whitespace())
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One line as read (trailing whitespace and line ends dropped); bytes that
/// are not UTF-8 make it unreadable.
pub(crate) fn parse_raw_line(position: usize, mut line: Vec<u8>) -> Item {
    // a byte-order mark (spreadsheet tools write one) is not part of the event
    if line.starts_with(BOM) {
        line.drain(..BOM.len());
    }
    match String::from_utf8(line) {
        Ok(mut s) => {
            s.truncate(s.trim_end().len());
            Item::text(position, s)
        }
        Err(e) => Item {
            position,
            raw: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            unreadable: Some(Rejection::new(
                "",
                format!("line is not valid UTF-8: {}", e.utf8_error()),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_it_would_decode_without_decoding() {
        let bodies: [&[u8]; 8] = [
            b"\xEF\xBB\xBF[1, 2, 3]",
            b"\xEF\xBB\xBF{\"a\": 1}\n{\"b\": 2}",
            b"",
            br#" {"a": 1} "#,
            br#"[{"a":1},{"b":2},3]"#,
            b"{\"a\":1}\n{broken\n\n{\"c\":3}\r\n",
            b"[1, 2",
            b"1\n2\n3\n\n4",
        ];
        for body in bodies {
            for d in [Decoder::Json, Decoder::Ndjson] {
                assert_eq!(d.count(body), d.decode(body).len(), "{d:?} {body:?}");
            }
        }
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_event() {
        for d in [Decoder::Json, Decoder::Ndjson] {
            let items = d.decode(b"\xEF\xBB\xBF{\"a\": 1}\r\n{\"b\": 2}\r\n");
            assert_eq!(items.len(), 2, "{d:?}");
            assert!(items[0].parse().is_ok(), "{d:?}: {:?}", items[0]);
        }
        let items = Decoder::Json.decode(b"\xEF\xBB\xBF[{\"a\": 1}]");
        assert_eq!(items.len(), 1);
        assert!(items[0].parse().is_ok());
    }

    #[test]
    fn single_object() {
        let items = parse_body(br#" {"a": 1} "#);
        assert_eq!(items.len(), 1);
        assert!(items[0].parse().is_ok());
    }

    #[test]
    fn array_of_objects() {
        let items = parse_body(br#"[{"a":1},{"b":2},3]"#);
        assert_eq!(items.len(), 3);
        assert_eq!(items[2].position, 3);
    }

    #[test]
    fn ndjson_keeps_good_lines_beside_a_broken_one() {
        let items = parse_body(b"{\"a\":1}\n{broken\n\n{\"c\":3}\r\n");
        assert_eq!(items.len(), 3);
        assert!(items[0].parse().is_ok());
        let err = items[1].parse().unwrap_err();
        assert!(err.reason.starts_with("not valid JSON"), "{err}");
        assert_eq!(items[1].position, 2);
        assert!(items[2].parse().is_ok());
        assert_eq!(items[2].position, 4);
    }

    #[test]
    fn invalid_utf8_rejects_only_its_line() {
        let items = parse_body(b"{\"a\":1}\n{\"b\":\"\xff\"}\n");
        assert_eq!(items.len(), 2);
        assert!(items[0].parse().is_ok());
        assert!(items[1].parse().unwrap_err().reason.contains("UTF-8"));
    }

    #[test]
    fn decoders_by_media_type_and_file_name() {
        use std::path::Path;
        assert_eq!(
            Decoder::for_media_type(Some("application/x-ndjson; charset=utf-8")),
            Some(Decoder::Ndjson)
        );
        assert_eq!(
            Decoder::for_media_type(Some("application/json")),
            Some(Decoder::Json)
        );
        assert_eq!(Decoder::for_media_type(None), Some(Decoder::Json));
        // what a form can send is not an event body
        for form in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            assert_eq!(Decoder::for_media_type(Some(form)), None, "{form}");
        }
        assert_eq!(
            Decoder::for_path(Path::new("a/framework.JSON")),
            Decoder::Json
        );
        assert_eq!(
            Decoder::for_path(Path::new("events.ndjson")),
            Decoder::Ndjson
        );
        // an array read as NDJSON is one broken line; read as JSON, two events
        let body = b"[{\"a\":1},\n{\"b\":2}]";
        assert_eq!(Decoder::Json.decode(body).len(), 2);
        assert_eq!(Decoder::Ndjson.decode(body).len(), 2);
        assert!(Decoder::Ndjson.decode(body)[0].parse().is_err());
    }

    #[test]
    fn broken_array_is_one_rejection() {
        let items = parse_body(b"[{\"a\":1},");
        assert_eq!(items.len(), 1);
        assert!(items[0].parse().is_err());
    }
}
