//! Finding and blanking out mentions of a person in text.

use serde_json::Value;

/// What replaces a mention.
pub const ERASED: &str = "[erased]";

/// The words that identify one person: their employee id and their names.
#[derive(Debug, Clone)]
pub struct Redactor {
    needles: Vec<String>,
}

impl Redactor {
    /// A redactor for these words (blank ones are ignored).
    pub fn new(words: impl IntoIterator<Item = String>) -> Redactor {
        let mut needles: Vec<String> = words
            .into_iter()
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect();
        // longest first, so a full name goes before a part of it
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        needles.dedup();
        Redactor { needles }
    }

    /// The words searched for.
    pub fn words(&self) -> &[String] {
        &self.needles
    }

    /// Whether `text` mentions one of the words as a whole word.
    pub fn mentions(&self, text: &str) -> bool {
        self.needles
            .iter()
            .any(|n| whole_word(text, n).next().is_some())
    }

    /// Whether `bytes` mention one of the words as a whole word.
    pub fn mentioned_in(&self, bytes: &[u8]) -> bool {
        self.mentions(&String::from_utf8_lossy(bytes))
    }

    /// `text` with every whole-word mention replaced by [`ERASED`], or `None` when it mentions none.
    pub fn redact(&self, text: &str) -> Option<String> {
        let mut out = text.to_string();
        let mut changed = false;
        for n in &self.needles {
            let hits: Vec<usize> = whole_word(&out, n).collect();
            for at in hits.into_iter().rev() {
                out.replace_range(at..at + n.len(), ERASED);
                changed = true;
            }
        }
        changed.then_some(out)
    }

    /// Redacts every string in a JSON value (keys stay); `true` when something changed.
    pub fn redact_value(&self, v: &mut Value) -> bool {
        match v {
            Value::String(s) => match self.redact(s) {
                Some(r) => {
                    *s = r;
                    true
                }
                None => false,
            },
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |c, i| self.redact_value(i) | c),
            Value::Object(map) => map
                .values_mut()
                .fold(false, |c, i| self.redact_value(i) | c),
            _ => false,
        }
    }
}

/// Byte offsets where `needle` occurs in `hay` with no letter or digit
/// directly before or after it ("E12" is not in "E123").
fn whole_word<'a>(hay: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    hay.match_indices(needle).filter_map(move |(at, _)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + needle.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        (!word(before) && !word(after)).then_some(at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r() -> Redactor {
        Redactor::new(["E12".to_string(), "Ada Lovelace".into(), " ".into()])
    }

    #[test]
    fn only_whole_words_match() {
        let r = r();
        assert_eq!(r.words(), ["Ada Lovelace", "E12"]);
        assert!(r.mentions("GET /v1/employees/E12"));
        assert!(r.mentions("\"E12\""));
        assert!(!r.mentions("E123 and XE12"));
        assert!(!r.mentions("Ada Lovelaces"));
        assert_eq!(
            r.redact("E12 is Ada Lovelace; E123 is not").as_deref(),
            Some("[erased] is [erased]; E123 is not")
        );
        assert_eq!(r.redact("nothing here"), None);
        assert!(r.mentioned_in("é E12".as_bytes()));
    }

    #[test]
    fn values_are_redacted_in_place_keys_kept() {
        let mut v = json!({"assessor_id": "E12", "E12": 3, "notes": ["seen by Ada Lovelace", 4]});
        assert!(r().redact_value(&mut v));
        assert_eq!(
            v,
            json!({"assessor_id": "[erased]", "E12": 3, "notes": ["seen by [erased]", 4]})
        );
        assert!(!r().redact_value(&mut v));
    }
}
