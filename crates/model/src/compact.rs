//! A reader for the compact text of the commonest events, written by hand.
//!
//! [`Event::from_compact_json`] reads a strict subset of JSON: no whitespace
//! between tokens, no escape in a string, `null` only where a value may be
//! absent, no number but a whole
//! one without sign, exponent or leading zero; and only the seven types an
//! organisation sends by the million (assessments, trainings, performance
//! and potential ratings, hires, moves, positions). Canonical text (what
//! cadre stores and writes) is that subset. Whatever it reads, it reads as
//! [`Event::from_json_exact`] does, to the same event; whatever else it
//! meets, it answers `None` and the caller asks serde, which either reads it
//! or says what is wrong. A test holds the two together on every event of a
//! generated organisation and on thousands of texts altered from them.

use serde::de::value::{Error as ValueError, StrDeserializer};
use serde::Deserialize;

use crate::event::TextEnvelope;
use crate::{
    AssessmentRecorded, DevelopedCompetency, EmployeeAssigned, EmployeeHired, Event, EventData,
    EventType, PerformanceRated, PositionDefined, PotentialRated, TrainingCompleted,
};

impl Event {
    /// The event in `text` when it is in the compact subset this reader
    /// knows (the module's doc), as [`Event::from_json_exact`] reads it;
    /// `None` for any other text, valid or not: ask
    /// [`Event::from_json_exact`] then.
    pub fn from_compact_json(text: &str) -> Option<Event> {
        let mut r = Reader { text, at: 0 };
        let mut event_id = None;
        let mut event_type = None;
        let mut schema_version = None;
        let mut occurred_at = None;
        let mut recorded_at = None;
        let mut source = None;
        let mut subject = None;
        let mut data = None;
        r.object(|key, r| match key {
            "data" => put(&mut data, r.object_text()?),
            "event_id" => put(&mut event_id, r.string()?),
            "occurred_at" => put(&mut occurred_at, r.string()?),
            "recorded_at" => put(&mut recorded_at, r.string()?),
            "schema_version" => put(&mut schema_version, u32::try_from(r.whole()?).ok()?),
            "source" => put(&mut source, r.string()?),
            "subject" => put(&mut subject, r.string()?),
            "type" => put(&mut event_type, r.string()?),
            _ => None,
        })?;
        r.end()?;
        let envelope = TextEnvelope {
            event_id: event_id?,
            event_type: event_type?,
            schema_version: schema_version?,
            occurred_at: occurred_at?,
            recorded_at: recorded_at?,
            source: source?.to_owned(),
            subject: subject?.to_owned(),
        };
        let data = data?;
        Event::from_envelope(envelope, true, |t, version| {
            // any refusal here only sends the text to serde (older versions too)
            (version == t.current_version())
                .then(|| payload(t, data))
                .flatten()
                .ok_or_else(|| crate::DecodeError::new("/data", "not compact"))
        })
        .ok()
    }
}

/// The payload of type `t` in `text` (an object), for the seven types read.
fn payload(t: EventType, text: &str) -> Option<EventData> {
    let mut r = Reader { text, at: 0 };
    let data = match t {
        EventType::AssessmentRecorded => {
            let (mut assessor_id, mut assessor_type, mut competency_id) = (None, None, None);
            let (mut evidence, mut level) = (None, None);
            r.object(|key, r| match key {
                "assessor_id" => put(&mut assessor_id, r.string()?),
                "assessor_type" => put(&mut assessor_type, variant(r.string()?)?),
                "competency_id" => put(&mut competency_id, r.string()?),
                "evidence" => put(&mut evidence, r.optional_string()?),
                "level" => put(&mut level, r.small()?),
                _ => None,
            })?;
            EventData::AssessmentRecorded(AssessmentRecorded {
                assessor_id: assessor_id?.to_owned(),
                assessor_type: assessor_type?,
                competency_id: competency_id?.to_owned(),
                evidence: evidence.flatten().map(str::to_owned),
                level: level?,
            })
        }
        EventType::TrainingCompleted => {
            let (mut competencies, mut course_id) = (None, None);
            let (mut course_title, mut mode) = (None, None);
            r.object(|key, r| match key {
                "competencies" => put(&mut competencies, developed(r)?),
                "course_id" => put(&mut course_id, r.string()?),
                "course_title" => put(&mut course_title, r.optional_string()?),
                "mode" => put(&mut mode, variant(r.string()?)?),
                _ => None,
            })?;
            EventData::TrainingCompleted(TrainingCompleted {
                competencies: competencies?,
                course_id: course_id?.to_owned(),
                course_title: course_title.flatten().map(str::to_owned),
                mode: mode?,
            })
        }
        EventType::PerformanceRated => {
            let (mut period, mut rating) = (None, None);
            r.object(|key, r| match key {
                "period" => put(&mut period, r.string()?),
                "rating" => put(&mut rating, r.small()?),
                _ => None,
            })?;
            EventData::PerformanceRated(PerformanceRated {
                period: period?.to_owned(),
                rating: rating?,
            })
        }
        EventType::PotentialRated => EventData::PotentialRated(PotentialRated {
            potential: variant(r.sole("potential")?)?,
        }),
        EventType::EmployeeHired => EventData::EmployeeHired(EmployeeHired {
            name: r.sole("name")?.to_owned(),
        }),
        EventType::EmployeeAssigned => EventData::EmployeeAssigned(EmployeeAssigned {
            position_id: r.sole("position_id")?.to_owned(),
        }),
        EventType::PositionDefined => {
            let (mut critical, mut org_unit_id) = (None, None);
            let (mut role_id, mut title) = (None, None);
            r.object(|key, r| match key {
                "critical" => put(&mut critical, r.boolean()?),
                "org_unit_id" => put(&mut org_unit_id, r.string()?),
                "role_id" => put(&mut role_id, r.string()?),
                "title" => put(&mut title, r.string()?),
                _ => None,
            })?;
            EventData::PositionDefined(PositionDefined {
                critical: critical.unwrap_or(false),
                org_unit_id: org_unit_id?.to_owned(),
                role_id: role_id?.to_owned(),
                title: title?.to_owned(),
            })
        }
        _ => return None,
    };
    r.end()?;
    Some(data)
}

/// A training's competencies: an array of objects.
fn developed(r: &mut Reader<'_>) -> Option<Vec<DevelopedCompetency>> {
    let mut all = Vec::new();
    r.array(|r| {
        let (mut competency_id, mut target_level) = (None, None);
        r.object(|key, r| match key {
            "competency_id" => put(&mut competency_id, r.string()?),
            "target_level" => put(&mut target_level, r.small()?),
            _ => None,
        })?;
        all.push(DevelopedCompetency {
            competency_id: competency_id?.to_owned(),
            target_level: target_level?,
        });
        Some(())
    })?;
    Some(all)
}

/// Fills an empty slot; a second value for it (a key given twice) is refused.
fn put<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

/// An enumeration's value from its name, as serde reads it from a JSON string.
fn variant<'de, T: Deserialize<'de>>(name: &'de str) -> Option<T> {
    T::deserialize(StrDeserializer::<ValueError>::new(name)).ok()
}

/// Where the first byte that ends or breaks a plain string is in `b`: a
/// quote, a backslash or a control character. Eight bytes at a time (the
/// strings of events are short: ids, dates, names, and a vector search costs
/// more to set up than it saves): in each word, a byte's high bit is set
/// when it is one of those, and the lowest such byte is always a true one.
fn plain_len(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    // bytes equal to zero (or, above a true one, possibly not)
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let mut at = 0;
    while let Some(word) = b.get(at..at + 8) {
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let quote = zero(x ^ (ONES * u64::from(b'"')));
        let backslash = zero(x ^ (ONES * u64::from(b'\\')));
        let control = x.wrapping_sub(ONES * 0x20) & !x;
        let found = (quote | backslash | control) & HIGH;
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    b[at..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| at + p)
}

/// A position in the text being read.
struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&self) -> &'a [u8] {
        &self.text.as_bytes()[self.at..]
    }

    /// Steps over `b`, which must come next.
    fn byte(&mut self, b: u8) -> Option<()> {
        (self.bytes().first() == Some(&b)).then(|| self.at += 1)
    }

    /// Nothing may follow.
    fn end(&self) -> Option<()> {
        (self.at == self.text.len()).then_some(())
    }

    /// A string without escapes or control characters (which JSON forbids
    /// unescaped), its quotes stripped.
    fn string(&mut self) -> Option<&'a str> {
        self.byte(b'"')?;
        let len = plain_len(self.bytes())?;
        if self.bytes()[len] != b'"' {
            return None;
        }
        let s = self.text.get(self.at..self.at + len)?;
        self.at += len + 1;
        Some(s)
    }

    /// A string, or `null` for none.
    fn optional_string(&mut self) -> Option<Option<&'a str>> {
        if self.bytes().starts_with(b"null") {
            self.at += 4;
            return Some(None);
        }
        self.string().map(Some)
    }

    /// A whole number as JSON writes one: digits, no sign, no leading zero,
    /// no fraction or exponent.
    fn whole(&mut self) -> Option<u64> {
        let rest = self.bytes();
        let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 || len > 18 || (len > 1 && rest[0] == b'0') {
            return None;
        }
        if matches!(rest.get(len), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.at += len;
        Some(
            rest[..len]
                .iter()
                .fold(0, |n, &d| n * 10 + u64::from(d - b'0')),
        )
    }

    /// A whole number up to 255 (a level, a rating).
    fn small(&mut self) -> Option<u8> {
        u8::try_from(self.whole()?).ok()
    }

    fn boolean(&mut self) -> Option<bool> {
        for (word, value) in [(&b"true"[..], true), (&b"false"[..], false)] {
            if self.bytes().starts_with(word) {
                self.at += word.len();
                return Some(value);
            }
        }
        None
    }

    /// An object, each of its members handed to `member` with its key.
    fn object(
        &mut self,
        mut member: impl FnMut(&'a str, &mut Reader<'a>) -> Option<()>,
    ) -> Option<()> {
        self.byte(b'{')?;
        if self.byte(b'}').is_some() {
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.byte(b':')?;
            member(key, self)?;
            if self.byte(b',').is_none() {
                return self.byte(b'}');
            }
        }
    }

    /// An object of one member, `key`, a string: that string.
    fn sole(&mut self, key: &str) -> Option<&'a str> {
        let mut value = None;
        self.object(|k, r| {
            if k != key {
                return None;
            }
            put(&mut value, r.string()?)
        })?;
        value
    }

    /// An array, each of its items read by `item`.
    fn array(&mut self, mut item: impl FnMut(&mut Reader<'a>) -> Option<()>) -> Option<()> {
        self.byte(b'[')?;
        if self.byte(b']').is_some() {
            return Some(());
        }
        loop {
            item(self)?;
            if self.byte(b',').is_none() {
                return self.byte(b']');
            }
        }
    }

    /// The text of an object of the subset, read over but not decoded.
    fn object_text(&mut self) -> Option<&'a str> {
        let start = self.at;
        self.object(|_, r| r.skip())?;
        self.text.get(start..self.at)
    }

    /// Reads over one value of the subset.
    fn skip(&mut self) -> Option<()> {
        match self.bytes().first()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(|_, r| r.skip()),
            b'[' => self.array(Reader::skip),
            b't' | b'f' => self.boolean().map(drop),
            b'n' => self.optional_string().map(drop),
            _ => self.whole().map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSESSMENT: &str = r#"{"data":{"assessor_id":"emp-2","assessor_type":"manager","competency_id":"c-1","evidence":"seen","level":3},"event_id":"2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10","occurred_at":"2026-03-01T09:00:00Z","recorded_at":"2026-03-01T10:00:00+01:00","schema_version":1,"source":"hris","subject":"emp-1","type":"assessment.recorded"}"#;

    #[test]
    fn plain_len_finds_the_first_quote_backslash_or_control_character() {
        let simple = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        // every mix of interesting bytes at every place of short strings
        let bytes = [
            b'a', b'"', b'\\', 0, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff, b'!', b'#',
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            let text: Vec<u8> = (0..len)
                .map(|i| bytes[((seed >> (i * 2 % 60)) % bytes.len() as u64) as usize])
                .collect();
            assert_eq!(plain_len(&text), simple(&text), "{text:?}");
        }
        assert_eq!(plain_len(b"abcdefghijklmnop\"q"), Some(16));
        assert_eq!(plain_len(b"abcdefgh"), None);
    }

    #[test]
    fn reads_what_serde_reads() {
        let without_evidence = ASSESSMENT.replace(r#""seen""#, "null");
        for text in [ASSESSMENT, &without_evidence] {
            let serde = Event::from_json_exact(text).expect("valid");
            assert_eq!(Event::from_compact_json(text), Some(serde));
        }
    }

    #[test]
    fn leaves_to_serde_what_is_outside_the_subset() {
        for (from, to) in [
            (r#""level":3"#, r#""level": 3"#),       // whitespace
            (r#""level":3"#, r#""level":3.0"#),      // a fraction
            (r#""level":3"#, r#""level":03"#),       // a leading zero
            (r#""level":3"#, r#""level":300"#),      // out of range
            (r#""seen""#, r#""se\"en""#),            // an escape
            (r#""emp-2""#, r#"null"#),               // null where a value is due
            (r#""hris""#, r#""hris","source":"x""#), // a key twice
            (r#""hris""#, r#""hris","extra":1"#),    // an unknown key
            (r#""source":"hris","#, ""),             // a missing key
            (r#""manager""#, r#""boss""#),           // an unknown name
        ] {
            let text = ASSESSMENT.replacen(from, to, 1);
            assert_ne!(text, ASSESSMENT, "{to}");
            assert_eq!(Event::from_compact_json(&text), None, "{text}");
        }
        assert_eq!(Event::from_compact_json(&format!("{ASSESSMENT} ")), None);
    }
}
