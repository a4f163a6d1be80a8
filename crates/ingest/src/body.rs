//! Splitting a request body or a file into items.

use serde_json::Value;

use crate::validate::Rejection;

/// One item of a batch: where it was, its raw text, and its JSON (or why it has none).
#[derive(Debug, Clone)]
pub struct Item {
    /// 1-based position: the line for NDJSON, the element for arrays.
    pub position: usize,
    /// The item as received (for the dead-letter store).
    pub raw: String,
    /// The parsed JSON, or why parsing failed.
    pub parsed: Result<Value, Rejection>,
}

/// Parses one NDJSON line.
pub fn parse_line(position: usize, line: &str) -> Item {
    let parsed = serde_json::from_str::<Value>(line)
        .map_err(|e| Rejection::new("", format!("not valid JSON: {e}")));
    Item {
        position,
        raw: line.to_string(),
        parsed,
    }
}

/// Splits a body holding one JSON event, a JSON array of events, or NDJSON.
///
/// A malformed NDJSON line becomes one rejected item; the other lines stand.
/// Blank lines are skipped. Bytes that are not UTF-8 reject only the lines
/// that hold them.
pub fn parse_body(body: &[u8]) -> Vec<Item> {
    let first = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(first) = first else {
        return Vec::new();
    };
    if body[first] == b'[' {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| Item {
                    position: i + 1,
                    raw: v.to_string(),
                    parsed: Ok(v),
                })
                .collect(),
            Ok(_) => unreachable!("a body starting with [ is an array"),
            Err(e) => vec![Item {
                position: 1,
                raw: String::from_utf8_lossy(body).into_owned(),
                parsed: Err(Rejection::new(
                    "",
                    format!("body is not a valid JSON array: {e}"),
                )),
            }],
        };
    }
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return vec![Item {
            position: 1,
            raw: String::from_utf8_lossy(body).trim().to_string(),
            parsed: Ok(v),
        }];
    }
    parse_lines(body)
}

/// Splits an NDJSON body (`Content-Type: application/x-ndjson`) into one
/// item per non-blank line, whatever the first line looks like.
pub fn parse_lines(body: &[u8]) -> Vec<Item> {
    body.split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, l)| !is_blank(l))
        .map(|(i, l)| parse_raw_line(i + 1, l))
        .collect()
}

/// Whether a line holds nothing but whitespace (such lines are skipped).
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| b.is_ascii_whitespace())
}

/// Parses one line as read (trailing whitespace and line ends ignored); bytes
/// that are not UTF-8 reject the line.
pub(crate) fn parse_raw_line(position: usize, line: &[u8]) -> Item {
    match std::str::from_utf8(line) {
        Ok(s) => parse_line(position, s.trim_end()),
        Err(e) => Item {
            position,
            raw: String::from_utf8_lossy(line).into_owned(),
            parsed: Err(Rejection::new("", format!("line is not valid UTF-8: {e}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_object() {
        let items = parse_body(br#" {"a": 1} "#);
        assert_eq!(items.len(), 1);
        assert!(items[0].parsed.is_ok());
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
        assert!(items[0].parsed.is_ok());
        let err = items[1].parsed.as_ref().unwrap_err();
        assert!(err.reason.starts_with("not valid JSON"), "{err}");
        assert_eq!(items[1].position, 2);
        assert!(items[2].parsed.is_ok());
        assert_eq!(items[2].position, 4);
    }

    #[test]
    fn invalid_utf8_rejects_only_its_line() {
        let items = parse_body(b"{\"a\":1}\n{\"b\":\"\xff\"}\n");
        assert_eq!(items.len(), 2);
        assert!(items[0].parsed.is_ok());
        assert!(items[1]
            .parsed
            .as_ref()
            .unwrap_err()
            .reason
            .contains("UTF-8"));
    }

    #[test]
    fn broken_array_is_one_rejection() {
        let items = parse_body(b"[{\"a\":1},");
        assert_eq!(items.len(), 1);
        assert!(items[0].parsed.is_err());
    }
}
