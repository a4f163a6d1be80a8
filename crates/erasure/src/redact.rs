//! Finding and blanking out mentions of a person in text.

use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

/// What replaces a mention.
pub const ERASED: &str = "[erased]";

/// The words that identify one person: their employee id and their names.
///
/// Text is compared *folded*: in Unicode composed form (NFC), in lower
/// case, with every run of whitespace as one space, so `ZARA  WALKER` and
/// `Zara Walker` (or the name with a decomposed accent) are one mention. A
/// text is also read with its JSON escapes undone (`\u005aara`, an escaped
/// quote), a few layers deep: a dead letter keeps the item it refused as
/// JSON text inside JSON.
#[derive(Debug, Clone)]
pub struct Redactor {
    needles: Vec<String>,
    /// The needles folded, in the same order.
    folded: Vec<String>,
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
        let folded = needles.iter().map(|n| fold(&nfc(n)).0).collect();
        Redactor { needles, folded }
    }

    /// The words searched for.
    pub fn words(&self) -> &[String] {
        &self.needles
    }

    /// Whether `text` mentions one of the words as a whole word, folded.
    pub fn mentions(&self, text: &str) -> bool {
        // one folded copy, searched in place: a log segment is read whole
        let folded = fold_only(&nfc(text));
        self.folded.iter().any(|n| {
            folded.match_indices(n.as_str()).any(|(at, _)| {
                let before = folded[..at].chars().next_back();
                let after = folded[at + n.len()..].chars().next();
                let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
                !word(before) && !word(after)
            })
        })
    }

    /// Whether `bytes` mention one of the words as a whole word: as they
    /// are, or with their JSON escapes undone (up to three layers).
    pub fn mentioned_in(&self, bytes: &[u8]) -> bool {
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        for _ in 0..4 {
            if self.mentions(&text) {
                return true;
            }
            match unescape(&text) {
                Some(next) => text = next,
                None => return false,
            }
        }
        false
    }

    /// `text` with every whole-word mention replaced by [`ERASED`], or
    /// `None` when it mentions none. A text with a mention comes back in
    /// composed form (NFC).
    pub fn redact(&self, text: &str) -> Option<String> {
        let mut out = nfc(text);
        let mut changed = false;
        for n in &self.folded {
            let n: Vec<char> = n.chars().collect();
            let (folded, spans) = fold(&out);
            let chars: Vec<char> = folded.chars().collect();
            let hits: Vec<usize> = whole_word(&chars, &n).collect();
            for at in hits.into_iter().rev() {
                let (from, to) = (spans[at].0, spans[at + n.len() - 1].1);
                out.replace_range(from..to, ERASED);
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

/// `text` in Unicode composed form.
fn nfc(text: &str) -> String {
    text.nfc().collect()
}

/// `text` folded for comparison, as [`fold`] folds it, without the spans.
fn fold_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            in_space = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// `text` folded for comparison (lower case, each whitespace run one
/// space), with, for each char of the folded text, the byte range of
/// `text` it comes from.
fn fold(text: &str) -> (String, Vec<(usize, usize)>) {
    let mut out = String::with_capacity(text.len());
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(text.len());
    let mut in_space = false;
    for (at, c) in text.char_indices() {
        let end = at + c.len_utf8();
        if c.is_whitespace() {
            if in_space {
                spans.last_mut().expect("a space before").1 = end;
            } else {
                out.push(' ');
                spans.push((at, end));
            }
            in_space = true;
            continue;
        }
        in_space = false;
        for l in c.to_lowercase() {
            out.push(l);
            spans.push((at, end));
        }
    }
    (out, spans)
}

/// `text` with its JSON string escapes undone (`\uXXXX` with surrogate
/// pairs, `\"`, `\\`, `\/`, `\n`, `\t`, `\r`, `\b`, `\f`), or `None` when it
/// holds none. Not a JSON parser: it reads any text, valid JSON or not.
fn unescape(text: &str) -> Option<String> {
    if !text.contains('\\') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let hex4 = |chars: &mut std::iter::Peekable<std::str::Chars>| -> Option<u32> {
        let s: String = (0..4).filter_map(|_| chars.next()).collect();
        (s.len() == 4)
            .then(|| u32::from_str_radix(&s, 16).ok())
            .flatten()
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let Some(hi) = hex4(&mut chars) else { continue };
                let code = if (0xD800..0xDC00).contains(&hi) {
                    let mut look = chars.clone();
                    if look.next() == Some('\\') && look.next() == Some('u') {
                        match hex4(&mut look) {
                            Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                                chars = look;
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            }
                            _ => hi,
                        }
                    } else {
                        hi
                    }
                } else {
                    hi
                };
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Some(out)
}

/// Char offsets where `needle` occurs in `hay` with no letter or digit
/// directly before or after it ("e12" is not in "e123").
fn whole_word<'a>(hay: &'a [char], needle: &'a [char]) -> impl Iterator<Item = usize> + 'a {
    let n = needle.len();
    (0..hay.len().saturating_sub(n.saturating_sub(1)))
        .filter(move |&at| n > 0 && at + n <= hay.len() && &hay[at..at + n] == needle)
        .filter(move |&at| {
            let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
            !word(at.checked_sub(1).and_then(|i| hay.get(i))) && !word(hay.get(at + n))
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

    #[test]
    fn case_spacing_composition_and_escapes_are_one_mention() {
        let r = Redactor::new([
            "emp-000010".to_string(),
            "Zara Walker".into(),
            "Zoë Ng".into(),
        ]);
        assert!(r.mentions("ZARA  WALKER signed"));
        assert!(r.mentions("zara\twalker"));
        // a decomposed e with diaeresis
        assert!(r.mentions("Zoe\u{308} Ng"));
        assert_eq!(
            r.redact("met ZARA   Walker, then zara walker.").as_deref(),
            Some("met [erased], then [erased].")
        );
        // JSON escapes, one and two layers deep (a dead letter's raw text)
        assert!(!r.mentions(r#"{"subject":"emp\u002d000010"}"#));
        assert!(r.mentioned_in(br#"{"subject":"emp\u002d000010"}"#));
        assert!(r.mentioned_in(br#"{"raw":"{\"name\":\"\\u005aara \\u0057alker\"}"}"#));
        assert!(!r.mentioned_in(br#"{"name":"Zara Walkers","id":"emp-0000101"}"#));
        // a surrogate pair decodes to one char
        assert_eq!(unescape(r"\ud83d\ude00!").as_deref(), Some("\u{1F600}!"));
    }
}
