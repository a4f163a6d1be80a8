//! Writing an event: its JSON value, and its canonical text, written by
//! hand for the commonest types.
//!
//! An event's canonical text is what serde writes of it ([`Event::write_json`]):
//! compact, keys sorted. Ingest writes it for every event it stores, so for
//! the types that make up nearly all of a feed (assessments, trainings,
//! ratings, hires and moves) it is written here field by field, the same
//! bytes without serde's machinery: keys are constants, and a string is
//! copied as it is unless it holds a character JSON escapes, which serde
//! then writes. The tests hold the two writers to the same bytes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::event::Event;
use crate::registry::EventData;
use crate::{Potential, TrainingMode};

/// Appends `event`'s canonical text to `out`; `false`, having written
/// nothing, for a type (or an instant) this writer leaves to serde.
pub(crate) fn write_by_hand(event: &Event, out: &mut Vec<u8>) -> bool {
    let (Some(occurred), Some(recorded)) = (
        InstantText::of(&event.occurred_at),
        InstantText::of(&event.recorded_at),
    ) else {
        return false;
    };
    let start = out.len();
    out.extend_from_slice(br#"{"data":"#);
    match &event.data {
        EventData::AssessmentRecorded(a) => {
            text(out, br#"{"assessor_id":"#, &a.assessor_id);
            word(out, br#","assessor_type":"#, a.assessor_type.as_str());
            text(out, br#","competency_id":"#, &a.competency_id);
            out.extend_from_slice(br#","evidence":"#);
            optional(out, a.evidence.as_deref());
            number(out, br#","level":"#, a.level.into());
        }
        EventData::TrainingCompleted(t) => {
            out.extend_from_slice(br#"{"competencies":["#);
            for (i, c) in t.competencies.iter().enumerate() {
                let open: &[u8] = if i == 0 { b"{" } else { b",{" };
                out.extend_from_slice(open);
                text(out, br#""competency_id":"#, &c.competency_id);
                number(out, br#","target_level":"#, c.target_level.into());
                out.push(b'}');
            }
            text(out, br#"],"course_id":"#, &t.course_id);
            out.extend_from_slice(br#","course_title":"#);
            optional(out, t.course_title.as_deref());
            word(out, br#","mode":"#, training_mode(t.mode));
        }
        EventData::PerformanceRated(p) => {
            text(out, br#"{"period":"#, &p.period);
            number(out, br#","rating":"#, p.rating.into());
        }
        EventData::PotentialRated(p) => word(out, br#"{"potential":"#, potential(p.potential)),
        EventData::EmployeeHired(h) => text(out, br#"{"name":"#, &h.name),
        EventData::EmployeeAssigned(a) => text(out, br#"{"position_id":"#, &a.position_id),
        _ => {
            out.truncate(start);
            return false;
        }
    }
    out.push(b'}');
    let mut id = Uuid::encode_buffer();
    let id = event.event_id.hyphenated().encode_lower(&mut id);
    word(out, br#","event_id":"#, id);
    word(out, br#","occurred_at":"#, occurred.as_str());
    word(out, br#","recorded_at":"#, recorded.as_str());
    number(out, br#","schema_version":"#, event.schema_version);
    text(out, br#","source":"#, &event.source);
    text(out, br#","subject":"#, &event.subject);
    word(out, br#","type":"#, event.event_type().as_str());
    out.push(b'}');
    true
}

/// `key` (the bytes before a value: separators and the quoted key), then
/// `s` as a JSON string.
fn text(out: &mut Vec<u8>, key: &[u8], s: &str) {
    out.extend_from_slice(key);
    string(out, s);
}

/// `key`, then `w`, a string that needs no escape (a name or a number
/// written as text), in quotes.
fn word(out: &mut Vec<u8>, key: &[u8], w: &str) {
    out.extend_from_slice(key);
    out.push(b'"');
    out.extend_from_slice(w.as_bytes());
    out.push(b'"');
}

/// A JSON string: copied between quotes when no character in it needs an
/// escape (no quote, backslash or control character), else written by serde.
fn string(out: &mut Vec<u8>, s: &str) {
    // no early exit, so that the compiler checks many bytes at a time
    let plain = !s.bytes().fold(false, |esc, b| {
        esc | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("a string serializes");
    }
}

fn optional(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// `key`, then `n`.
fn number(out: &mut Vec<u8>, key: &[u8], n: u32) {
    out.extend_from_slice(key);
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn training_mode(m: TrainingMode) -> &'static str {
    match m {
        TrainingMode::Induction => "induction",
        TrainingMode::Training => "training",
        TrainingMode::Internship => "internship",
        TrainingMode::Coaching => "coaching",
        TrainingMode::Mentoring => "mentoring",
        TrainingMode::Experience => "experience",
    }
}

fn potential(p: Potential) -> &'static str {
    match p {
        Potential::Low => "low",
        Potential::Medium => "medium",
        Potential::High => "high",
    }
}

impl Event {
    /// The event as its JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self.wire(self.data.encode())).expect("events always serialize")
    }

    /// The event as compact JSON text, its keys sorted: the text of
    /// [`Event::to_value`], written without building the value.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(384);
        self.write_json(&mut out);
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// Appends [`Event::to_json`]'s text to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        if !crate::text::write_by_hand(self, out) {
            self.write_json_with_serde(out);
        }
    }

    /// [`Event::write_json`] through serde, for every type.
    pub(crate) fn write_json_with_serde(&self, out: &mut Vec<u8>) {
        let written = match &self.data {
            // the framework's fields are not declared in name order
            EventData::FrameworkPublished(_) => {
                serde_json::to_writer(&mut *out, &self.wire(self.data.encode()))
            }
            data => serde_json::to_writer(&mut *out, &self.wire(data)),
        };
        written.expect("events always serialize");
    }

    fn wire<D: Serialize>(&self, data: D) -> Wire<'_, D> {
        Wire {
            data,
            event_id: self.event_id,
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
            schema_version: self.schema_version,
            source: &self.source,
            subject: &self.subject,
            event_type: self.event_type().as_str(),
        }
    }
}

/// The envelope exactly as it travels. Its fields, and those of every
/// payload but the framework's, are declared in the order of their names,
/// so that serde writes an event with its keys sorted, as the JSON value
/// of the event prints them: the one canonical text of an event.
#[derive(Debug, Serialize)]
struct Wire<'a, D> {
    data: D,
    event_id: Uuid,
    #[serde(serialize_with = "instant")]
    occurred_at: DateTime<Utc>,
    #[serde(serialize_with = "instant")]
    recorded_at: DateTime<Utc>,
    schema_version: u32,
    source: &'a str,
    subject: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
}

/// Writes an instant as chrono's `Serialize` does (RFC 3339 in UTC with `Z`,
/// the fraction of a second in 3, 6 or 9 digits when there is one), without
/// its formatting machinery, which writes a character at a time: two per
/// event, on ingest's path. Years outside 0 to 9999 and leap seconds go to
/// chrono.
fn instant<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    match InstantText::of(t) {
        Some(text) => s.serialize_str(text.as_str()),
        None => t.serialize(s),
    }
}

/// An instant's text as chrono writes it, for years 0 to 9999 without a
/// leap second ([`instant`]).
pub(crate) struct InstantText {
    bytes: [u8; 30],
    len: usize,
}

impl InstantText {
    /// The text, or `None` for an instant chrono must write.
    pub(crate) fn of(t: &DateTime<Utc>) -> Option<InstantText> {
        use chrono::{Datelike, Timelike};
        // the UTC fields as they are stored, not through a time zone
        let t = t.naive_utc();
        let (year, nanos) = (t.year(), t.nanosecond());
        if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
            return None;
        }
        let mut b = *b"0000-00-00T00:00:00.000000000Z";
        let put = |b: &mut [u8; 30], at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(&mut b, 0, 4, year.unsigned_abs());
        put(&mut b, 5, 2, t.month());
        put(&mut b, 8, 2, t.day());
        put(&mut b, 11, 2, t.hour());
        put(&mut b, 14, 2, t.minute());
        put(&mut b, 17, 2, t.second());
        let mut len = 19;
        if nanos != 0 {
            let (v, width) = if nanos % 1_000_000 == 0 {
                (nanos / 1_000_000, 3)
            } else if nanos % 1_000 == 0 {
                (nanos / 1_000, 6)
            } else {
                (nanos, 9)
            };
            put(&mut b, 20, width, v);
            len = 20 + width;
        }
        b[len] = b'Z';
        Some(InstantText {
            bytes: b,
            len: len + 1,
        })
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("ASCII digits")
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use uuid::Uuid;

    use crate::{
        AssessmentRecorded, AssessorType, DevelopedCompetency, EmployeeAssigned, EmployeeHired,
        Event, EventData, PerformanceRated, Potential, PotentialRated, SuccessionWithdrawn,
        TrainingCompleted, TrainingMode,
    };

    /// Strings with every kind of character the writers treat apart.
    fn strings() -> Vec<String> {
        let mut out: Vec<String> = [
            "",
            "emp-000001",
            "a\"b",
            "back\\slash",
            "new\nline",
            "tab\t",
            "\u{1}",
            "\u{1f}",
            "\u{7f}",
            " ",
            "é",
            "\u{1F600}",
            "\u{2028}",
            "</script>",
            "/",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        out.extend((0u8..0x20).map(|c| format!("x{}y", char::from(c))));
        out.push("long ".repeat(300));
        out
    }

    fn instants() -> Vec<DateTime<Utc>> {
        let base = Utc.with_ymd_and_hms(2026, 3, 1, 9, 5, 7).unwrap();
        let mut out = vec![
            base,
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            // outside what the hand writer writes: serde writes it
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
        ];
        for nanos in [1, 1_000, 1_000_000, 120_000_000, 999_999_999, 123_456_789] {
            out.push(base + chrono::Duration::nanoseconds(nanos));
        }
        out
    }

    fn payloads() -> Vec<EventData> {
        let mut out = Vec::new();
        for s in strings() {
            let some = Some(s.clone());
            for (t, evidence) in AssessorType::ALL
                .iter()
                .zip([None, some.clone()].iter().cycle())
            {
                out.push(EventData::AssessmentRecorded(AssessmentRecorded {
                    assessor_id: s.clone(),
                    assessor_type: *t,
                    competency_id: s.clone(),
                    evidence: evidence.clone(),
                    level: 3,
                }));
            }
            out.push(EventData::PerformanceRated(PerformanceRated {
                period: s.clone(),
                rating: 4,
            }));
            out.push(EventData::EmployeeHired(EmployeeHired { name: s.clone() }));
            out.push(EventData::EmployeeAssigned(EmployeeAssigned {
                position_id: s.clone(),
            }));
            out.push(EventData::SuccessionWithdrawn(SuccessionWithdrawn {
                candidate_id: s.clone(),
                reason: some.clone(),
            }));
            for (n, title) in [(1, None), (3, some)] {
                out.push(EventData::TrainingCompleted(TrainingCompleted {
                    competencies: (0..n)
                        .map(|i| DevelopedCompetency {
                            competency_id: format!("{s}{i}"),
                            target_level: i,
                        })
                        .collect(),
                    course_id: s.clone(),
                    course_title: title,
                    mode: TrainingMode::Coaching,
                }));
            }
        }
        for mode in [
            TrainingMode::Induction,
            TrainingMode::Training,
            TrainingMode::Internship,
            TrainingMode::Coaching,
            TrainingMode::Mentoring,
            TrainingMode::Experience,
        ] {
            out.push(EventData::TrainingCompleted(TrainingCompleted {
                competencies: vec![],
                course_id: "c".into(),
                course_title: None,
                mode,
            }));
        }
        for potential in [Potential::Low, Potential::Medium, Potential::High] {
            out.push(EventData::PotentialRated(PotentialRated { potential }));
        }
        for level in [0, 9, 10, 99, 100, 255] {
            out.push(EventData::AssessmentRecorded(AssessmentRecorded {
                assessor_id: "a".into(),
                assessor_type: AssessorType::Panel,
                competency_id: "c".into(),
                evidence: None,
                level,
            }));
        }
        out
    }

    #[test]
    fn the_hand_writer_writes_what_serde_writes() {
        let (mut by_hand, mut compared) = (0, 0);
        let instants = instants();
        for (i, data) in payloads().into_iter().enumerate() {
            let event = Event {
                event_id: Uuid::from_u128(0x2f1c_1d2e_7a4b_4c39_9b57_0d6f_1f2b_9a10 + i as u128),
                schema_version: [1, 0, 7, 10, u32::MAX][i % 5],
                occurred_at: instants[i % instants.len()],
                recorded_at: instants[(i / instants.len()) % instants.len()],
                source: strings()[i % strings().len()].clone(),
                subject: strings()[(i + 3) % strings().len()].clone(),
                data,
            };
            let mut hand = b"prefix".to_vec();
            let wrote = super::write_by_hand(&event, &mut hand);
            let mut serde = b"prefix".to_vec();
            event.write_json_with_serde(&mut serde);
            if wrote {
                by_hand += 1;
                assert_eq!(
                    String::from_utf8_lossy(&hand),
                    String::from_utf8_lossy(&serde),
                    "{event:?}"
                );
            } else {
                assert_eq!(hand, b"prefix", "nothing written when serde is to write");
            }
            let mut both = Vec::new();
            event.write_json(&mut both);
            assert_eq!(both, serde[6..]);
            compared += 1;
        }
        assert!(
            by_hand > 250 && by_hand < compared,
            "{by_hand} of {compared}"
        );
    }
}

#[cfg(test)]
mod instant_tests {
    use super::*;

    #[test]
    fn instants_are_written_as_chrono_writes_them() {
        #[derive(Serialize)]
        struct Fast(#[serde(serialize_with = "super::instant")] DateTime<Utc>);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut instants: Vec<DateTime<Utc>> = [
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2026-06-30T23:59:59Z",
            "2016-12-31T23:59:60.5Z",
            "+10000-01-01T00:00:00Z",
            "-0001-12-31T23:59:59.1Z",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        for _ in 0..20_000 {
            let secs = (next() % 253_402_300_800) as i64 - 62_167_219_200;
            // whole seconds, milli-, micro- and nanoseconds, as often
            let nanos = match next() % 4 {
                0 => 0,
                1 => (next() % 1_000) as u32 * 1_000_000,
                2 => (next() % 1_000_000) as u32 * 1_000,
                _ => (next() % 1_000_000_000) as u32,
            };
            instants.push(DateTime::from_timestamp(secs, nanos).unwrap());
        }
        for t in instants {
            assert_eq!(
                serde_json::to_string(&Fast(t)).unwrap(),
                serde_json::to_string(&t).unwrap(),
                "{t:?}"
            );
        }
    }
}
