//! Finding a key given twice in one JSON object. A JSON reader keeps the
//! last of two equal keys and says nothing, so `{"level": 99, "level": 3}`
//! would be stored as 3 with no trace of the 99: such an item is refused,
//! its pointer naming the repeated key.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The JSON pointer of the first key repeated within one object of `text`,
/// or `None` when no object repeats a key (or the text is not JSON: that is
/// for the reader to say).
pub(crate) fn first_duplicate_key(text: &str) -> Option<String> {
    let mut path = Vec::new();
    let mut found = None;
    let seed = Check {
        path: &mut path,
        found: &mut found,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let _ = seed.deserialize(&mut de);
    found
}

/// One value, checked at `path`; the first repeated key goes to `found`.
struct Check<'a> {
    path: &'a mut Vec<String>,
    found: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
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
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            self.path.push(key.clone());
            if !keys.insert(key) {
                *self.found = Some(pointer(self.path));
                return Err(de::Error::custom("a key given twice"));
            }
            map.next_value_seed(Check {
                path: self.path,
                found: self.found,
            })?;
            self.path.pop();
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            self.path.push(i.to_string());
            let more = seq.next_element_seed(Check {
                path: self.path,
                found: self.found,
            })?;
            self.path.pop();
            if more.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(first_duplicate_key(text).as_deref(), want, "{text}");
        }
    }
}
