//! Finding a key given twice in one JSON object. A JSON reader keeps the
//! last of two equal keys and says nothing, so `{"level": 99, "level": 3}`
//! would be stored as 3 with no trace of the 99: such an item is refused,
//! its pointer naming the repeated key. The check is the reading itself:
//! one pass gives the value or the refusal.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a text is not one JSON value with every key once.
#[derive(Debug)]
pub(crate) enum NotUnique {
    /// It is not JSON (the reader's own error).
    Invalid(serde_json::Error),
    /// An object gives this key (a JSON pointer) twice.
    Repeated(String),
}

/// Reads `text` as JSON, as `serde_json::from_str` does, in one pass that
/// also refuses the first key repeated within one object.
pub(crate) fn parse_unique(text: &str) -> Result<Value, NotUnique> {
    let mut path = Vec::new();
    let mut found = None;
    let seed = Check {
        path: &mut path,
        found: &mut found,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let read = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match (found, read) {
        (Some(at), _) => Err(NotUnique::Repeated(at)),
        (None, Ok(v)) => Ok(v),
        (None, Err(e)) => Err(NotUnique::Invalid(e)),
    }
}

/// One value, read at `path`; the first repeated key goes to `found`.
struct Check<'a> {
    path: &'a mut Vec<String>,
    found: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// A JSON pointer of `path` (`~` and `/` escaped as RFC 6901 says).
fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
        .collect()
}

impl<'de> Visitor<'de> for Check<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut keys = HashSet::new();
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.path.push(key.clone());
            if !keys.insert(key.clone()) {
                *self.found = Some(pointer(self.path));
                return Err(de::Error::custom("a key given twice"));
            }
            let value = map.next_value_seed(Check {
                path: self.path,
                found: self.found,
            })?;
            self.path.pop();
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            self.path.push(out.len().to_string());
            let next = seq.next_element_seed(Check {
                path: self.path,
                found: self.found,
            })?;
            self.path.pop();
            match next {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeated(text: &str) -> Option<String> {
        match parse_unique(text) {
            Err(NotUnique::Repeated(at)) => Some(at),
            _ => None,
        }
    }

    #[test]
    fn reads_what_serde_json_reads_and_its_errors() {
        for text in [
            r#"{"a":1,"b":[true,null,-2,3.5,18446744073709551615,1e300],"c":{"d":"é\u0041"}}"#,
            "  [1, 2] ",
            "\"text\"",
        ] {
            let ours = parse_unique(text).unwrap();
            assert_eq!(ours, serde_json::from_str::<Value>(text).unwrap(), "{text}");
        }
        for text in ["{\"a\":", "[1,]", "{} x", "", "[1e400]"] {
            let NotUnique::Invalid(ours) = parse_unique(text).unwrap_err() else {
                panic!("{text} is not JSON");
            };
            let theirs = serde_json::from_str::<Value>(text).unwrap_err();
            assert_eq!(ours.to_string(), theirs.to_string(), "{text}");
        }
    }

    #[test]
    fn names_the_repeated_key_by_its_pointer() {
        let cases = [
            (r#"{"a":1,"b":2}"#, None),
            (r#"{"event_id":"x","event_id":"y"}"#, Some("/event_id")),
            (r#"{"data":{"level":99,"level":3}}"#, Some("/data/level")),
            (
                r#"{"data":{"items":[{"k":1},{"k":1,"k":2}]}}"#,
                Some("/data/items/1/k"),
            ),
            (r#"{"a/b":1,"a/b":2}"#, Some("/a~1b")),
            // the same key in two objects is no repeat
            (r#"[{"a":1},{"a":2}]"#, None),
            ("not json", None),
        ];
        for (text, want) in cases {
            assert_eq!(repeated(text).as_deref(), want, "{text}");
        }
    }
}
