//! The event envelope, and reading an event from JSON (a value or text):
//! the envelope's spellings, the type's version (older ones upcast), the
//! payload, and the rules of the whole. Writing an event is in [`crate::text`].

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::check::{non_empty, DecodeError};
use crate::registry::{EventData, EventType};

/// The envelope of a JSON value, its payload decoded from the value in place.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireHead {
    event_id: Uuid,
    #[serde(rename = "type")]
    event_type: String,
    schema_version: u32,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    source: String,
    subject: String,
    data: serde::de::IgnoredAny,
}

/// The envelope as read from text, the payload left unparsed until its type is known.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireText<'a> {
    #[serde(borrow)]
    event_id: Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    event_type: Cow<'a, str>,
    schema_version: u32,
    #[serde(borrow)]
    occurred_at: Cow<'a, str>,
    #[serde(borrow)]
    recorded_at: Cow<'a, str>,
    source: String,
    subject: String,
    #[serde(borrow)]
    data: &'a serde_json::value::RawValue,
}

/// The envelope's fields as read from text, the payload apart.
pub(crate) struct TextEnvelope<'a> {
    pub(crate) event_id: &'a str,
    pub(crate) event_type: &'a str,
    pub(crate) schema_version: u32,
    pub(crate) occurred_at: &'a str,
    pub(crate) recorded_at: &'a str,
    pub(crate) source: String,
    pub(crate) subject: String,
}

/// One event: what happened, to whom, when, and according to which system.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Unique id; a second event with the same id is a duplicate.
    pub event_id: Uuid,
    /// The schema version the event was written in.
    pub schema_version: u32,
    /// When it happened in the world; projections fold in this order.
    pub occurred_at: DateTime<Utc>,
    /// When the emitting system recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The emitting system, e.g. `hris.workday`.
    pub source: String,
    /// The employee, position, unit, role or framework the event concerns.
    pub subject: String,
    /// The payload.
    pub data: EventData,
}

impl Event {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.data.event_type()
    }

    /// Decodes and checks an event from a JSON value.
    pub fn from_value(value: Value) -> Result<Event, DecodeError> {
        Event::from_value_ref(&value)
    }

    /// Decodes and checks an event from a borrowed JSON value (nothing of it is copied but the strings kept).
    pub fn from_value_ref(value: &Value) -> Result<Event, DecodeError> {
        let wire = WireHead::deserialize(value).map_err(|e| DecodeError::serde("", &e))?;
        // the payload is only checked to be there: it is decoded from the value itself
        let _ = wire.data;
        Event::assemble(
            wire.event_id,
            &wire.event_type,
            wire.schema_version,
            (wire.occurred_at, wire.recorded_at),
            (wire.source, wire.subject),
            |t, version| {
                if version == t.current_version() {
                    EventData::decode(t, &value["data"])
                } else {
                    let data = crate::upcast::upcast(t, version, value["data"].clone())?;
                    EventData::decode(t, &data)
                }
            },
        )
    }

    /// Decodes and checks an event from JSON text. The same event as
    /// [`Event::from_value`] of the parsed text, without building the
    /// text's JSON tree: the payload is decoded straight into its type.
    pub fn from_json(text: &str) -> Result<Event, DecodeError> {
        Event::from_text(text, false)
    }

    /// As [`Event::from_json`], and the id and both dates must be written
    /// as the envelope schema spells them: a hyphenated UUID, and an RFC 3339
    /// date-time with `T`, seconds and an offset within a day. (Decoding
    /// alone also reads other spellings of the same values.)
    pub fn from_json_exact(text: &str) -> Result<Event, DecodeError> {
        Event::from_text(text, true)
    }

    fn from_text(text: &str, exact: bool) -> Result<Event, DecodeError> {
        let wire: WireText<'_> =
            serde_json::from_str(text).map_err(|e| DecodeError::serde("", &e))?;
        let envelope = TextEnvelope {
            event_id: &wire.event_id,
            event_type: &wire.event_type,
            schema_version: wire.schema_version,
            occurred_at: &wire.occurred_at,
            recorded_at: &wire.recorded_at,
            source: wire.source,
            subject: wire.subject,
        };
        Event::from_envelope(envelope, exact, |t, version| {
            let text = wire.data.get();
            if version == t.current_version() {
                EventData::decode_text(t, text)
            } else {
                let data =
                    serde_json::from_str(text).map_err(|e| DecodeError::serde("/data", &e))?;
                EventData::decode(t, &crate::upcast::upcast(t, version, data)?)
            }
        })
    }

    /// The event of an envelope read from text ([`Event::from_text`]'s
    /// second half, shared with the compact reader), `data` decoding its
    /// payload once its type is known.
    pub(crate) fn from_envelope(
        wire: TextEnvelope<'_>,
        exact: bool,
        data: impl FnOnce(EventType, u32) -> Result<EventData, DecodeError>,
    ) -> Result<Event, DecodeError> {
        if exact {
            if !is_hyphenated_uuid(wire.event_id) {
                return Err(DecodeError::new("/event_id", "not a hyphenated UUID"));
            }
            for (path, at) in [
                ("/occurred_at", wire.occurred_at),
                ("/recorded_at", wire.recorded_at),
            ] {
                if !is_exact_date_time(at) {
                    return Err(DecodeError::new(path, "not an RFC 3339 date-time"));
                }
            }
        }
        let event_id = Uuid::parse_str(wire.event_id)
            .map_err(|e| DecodeError::new("/event_id", e.to_string()))?;
        let date = |path: &str, at: &str| {
            read_exact_date_time(at).map_or_else(
                || {
                    at.parse::<DateTime<chrono::FixedOffset>>()
                        .map(|d| d.with_timezone(&Utc))
                        .map_err(|e| DecodeError::new(path, e.to_string()))
                },
                Ok,
            )
        };
        let occurred_at = date("/occurred_at", wire.occurred_at)?;
        let recorded_at = date("/recorded_at", wire.recorded_at)?;
        Event::assemble(
            event_id,
            wire.event_type,
            wire.schema_version,
            (occurred_at, recorded_at),
            (wire.source, wire.subject),
            data,
        )
    }

    /// Checks the envelope's type and version, decodes the payload, checks the whole.
    fn assemble(
        event_id: Uuid,
        event_type: &str,
        schema_version: u32,
        (occurred_at, recorded_at): (DateTime<Utc>, DateTime<Utc>),
        (source, subject): (String, String),
        data: impl FnOnce(EventType, u32) -> Result<EventData, DecodeError>,
    ) -> Result<Event, DecodeError> {
        let t = EventType::parse(event_type).ok_or_else(|| {
            DecodeError::new("/type", format!("unknown event type {event_type:?}"))
        })?;
        if !t.versions().contains(&schema_version) {
            return Err(DecodeError::new(
                "/schema_version",
                format!("{t} has no schema version {schema_version}"),
            ));
        }
        // an older version is upcast on read: the event is held, and written, as the current one
        let event = Event {
            event_id,
            schema_version: t.current_version(),
            occurred_at,
            recorded_at,
            source,
            subject,
            data: data(t, schema_version)?,
        };
        event.check()?;
        Ok(event)
    }

    /// Checks the rules of a single event that serde cannot express: the
    /// envelope's here, each payload's in its [`crate::check::Check`].
    fn check(&self) -> Result<(), DecodeError> {
        non_empty("/source", &self.source)?;
        non_empty("/subject", &self.subject)?;
        self.data.check(&self.subject)
    }

    /// The person whose own record this event is (erasure removes it with
    /// them): the subject of an employee's event, the candidate of a
    /// nomination; none for events that describe the organisation.
    pub fn person(&self) -> Option<&str> {
        self.data.person(&self.subject)
    }
}

/// `8-4-4-4-12` hexadecimal digits, as the envelope schema's pattern for
/// `event_id`: of the spellings the UUID parser reads, the hyphenated one is
/// the only one 36 characters long, and the parser checks it a table lookup
/// per digit (a loop here matching each position was a seventh of decoding).
fn is_hyphenated_uuid(s: &str) -> bool {
    s.len() == 36 && Uuid::try_parse(s).is_ok()
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, as the envelope schema's
/// pattern for dates, with the seconds, the offset's hours and minutes
/// below 60, 24 and 60 (a leap second or an offset of a day or more is left
/// to the schema to judge).
fn is_exact_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let head = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && two(17) < 60;
    if !head {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        let fraction = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    }
    match &b[i..] {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', ..] if b.len() - i == 6 => {
            digits(i + 1..i + 3)
                && b[i + 3] == b':'
                && digits(i + 4..i + 6)
                && two(i + 1) < 24
                && two(i + 4) < 60
        }
        _ => false,
    }
}

/// A date-time spelled as [`is_exact_date_time`] wants it, with at most nine
/// digits of fraction, read without chrono's general parser (the form every
/// stored event has); `None` sends it to that parser, which reads it the
/// same way or says what is wrong.
fn read_exact_date_time(s: &str) -> Option<DateTime<Utc>> {
    if !is_exact_date_time(s) {
        return None;
    }
    let b = s.as_bytes();
    let n = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
    let date = NaiveDate::from_ymd_opt(i32::try_from(n(0..4)).ok()?, n(5..7), n(8..10))?;
    let mut i = 19;
    let mut nanos = 0;
    if b[i] == b'.' {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 9 {
            return None;
        }
        nanos = n(i + 1..i + 1 + digits) * 10u32.pow(9 - digits as u32);
        i += 1 + digits;
    }
    let time = chrono::NaiveTime::from_hms_nano_opt(n(11..13), n(14..16), n(17..19), nanos)?;
    let offset = match b[i] {
        b'Z' | b'z' => 0,
        sign => {
            let east = i64::from(n(i + 1..i + 3) * 3600 + n(i + 4..i + 6) * 60);
            if sign == b'-' {
                -east
            } else {
                east
            }
        }
    };
    let utc = date
        .and_time(time)
        .checked_sub_signed(chrono::Duration::seconds(offset))?;
    Some(DateTime::from_naive_utc_and_offset(utc, Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assessment() -> Value {
        serde_json::json!({
            "event_id": "2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10",
            "type": "assessment.recorded",
            "schema_version": 1,
            "occurred_at": "2026-03-01T09:00:00Z",
            "recorded_at": "2026-03-01T09:05:00Z",
            "source": "hris.test",
            "subject": "emp-1",
            "data": {"competency_id": "c1", "level": 3, "assessor_type": "manager", "assessor_id": "emp-9"}
        })
    }

    #[test]
    fn round_trips_through_json() {
        let e = Event::from_value(assessment()).expect("valid event");
        assert_eq!(e.event_type(), EventType::AssessmentRecorded);
        let again = Event::from_json(&e.to_json()).expect("re-decodes");
        assert_eq!(e, again);
    }

    #[test]
    fn rejects_unknown_type_with_path() {
        let mut v = assessment();
        v["type"] = "assessment.deleted".into();
        let err = Event::from_value(v).unwrap_err();
        assert_eq!(err.path, "/type");
    }

    #[test]
    fn rejects_level_above_any_scale() {
        let mut v = assessment();
        v["data"]["level"] = 11.into();
        let err = Event::from_value(v).unwrap_err();
        assert_eq!(err.path, "/data/level");
    }

    #[test]
    fn rejects_unknown_field_in_data() {
        let mut v = assessment();
        v["data"]["score"] = 3.into();
        let err = Event::from_value(v).unwrap_err();
        assert_eq!(err.path, "/data");
        assert!(err.reason.contains("score"), "{err}");
    }

    #[test]
    fn text_and_value_decoding_agree_on_every_schema_example() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples");
        let mut seen = (0, 0);
        for kind in ["valid", "invalid"] {
            for entry in std::fs::read_dir(dir.join(kind)).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                let Ok(v) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let (by_value, by_text) = (Event::from_value(v), Event::from_json(&text));
                assert_eq!(by_value.is_ok(), by_text.is_ok(), "{text}");
                if let (Ok(a), Ok(b)) = (&by_value, &by_text) {
                    assert_eq!(a, b);
                    seen.0 += 1;
                }
                if let (Err(a), Err(b)) = (&by_value, &by_text) {
                    // the same place, if not always the same words
                    assert_eq!(a.path, b.path, "{text}");
                    seen.1 += 1;
                }
            }
        }
        assert!(seen.0 >= 20 && seen.1 >= 5, "{seen:?}");
    }

    #[test]
    fn the_canonical_text_is_the_values_text_for_every_type() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples/valid");
        let mut types = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let e = Event::from_json(&text).expect("a valid example");
            assert_eq!(e.to_json(), e.to_value().to_string(), "{text}");
            assert_eq!(Event::from_json_exact(&e.to_json()).as_ref(), Ok(&e));
            types.insert(e.event_type());
        }
        assert_eq!(types.len(), EventType::ALL.len());
    }

    #[test]
    fn exact_spellings_of_ids_and_dates() {
        assert!(is_hyphenated_uuid("2F1C1D2E-7a4b-4c39-9b57-0d6f1f2b9a10"));
        for id in [
            "2f1c1d2e7a4b4c399b570d6f1f2b9a10",
            "{2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10}",
            "urn:uuid:2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10",
            "2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a1g",
            "2f1c1d2e7-a4b-4c39-9b57-0d6f1f2b9a10",
            "2f1c1d2e-7a4b-4c39-9b570d6f-1f2b9a10",
            "2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a1",
            "2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a10 ",
            "2f1c1d2e-7a4b-4c39-9b57-0d6f1f2b9a\u{e9}",
        ] {
            assert!(!is_hyphenated_uuid(id), "{id}");
        }
        for at in [
            "2026-03-01T09:00:00Z",
            "2026-03-01t09:00:00z",
            "2026-03-01T09:00:00.5+23:59",
            "2026-03-01T09:00:00-00:30",
        ] {
            assert!(is_exact_date_time(at), "{at}");
        }
        for at in [
            "2026-03-01 09:00:00Z",
            "2026-03-01T09:00Z",
            "2026-03-01T09:00:00",
            "2026-03-01T09:00:00.Z",
            "2026-03-01T23:59:60Z",
            "2026-03-01T09:00:00+24:00",
            "2026-03-01T09:00:00+01:60",
            "2026-03-01T09:00:00+0100",
            "2026-03-01T09:00:00Z ",
        ] {
            assert!(!is_exact_date_time(at), "{at}");
        }
    }

    #[test]
    fn dates_read_by_hand_as_chrono_reads_them() {
        let mut checked = 0;
        for year in [1900, 1999, 2000, 2024, 2026, 2100, 9999] {
            for (month, day) in [
                (1, 1),
                (2, 28),
                (2, 29),
                (2, 30),
                (6, 15),
                (12, 31),
                (13, 1),
            ] {
                for time in ["00:00:00", "09:05:07", "23:59:59", "24:00:00", "12:60:00"] {
                    for fraction in ["", ".5", ".123", ".000001", ".123456789", ".1234567891"] {
                        for zone in ["Z", "z", "+00:00", "-00:00", "+05:30", "-11:45", "+23:59"] {
                            let at =
                                format!("{year:04}-{month:02}-{day:02}T{time}{fraction}{zone}");
                            let chrono = at
                                .parse::<DateTime<chrono::FixedOffset>>()
                                .ok()
                                .map(|d| d.with_timezone(&Utc));
                            if let Some(by_hand) = read_exact_date_time(&at) {
                                assert_eq!(Some(by_hand), chrono, "{at}");
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 3000, "{checked}");
    }

    #[test]
    fn default_scale_has_six_labelled_levels() {
        let s = crate::ProficiencyScale::default();
        assert_eq!(s.max(), 5);
        assert_eq!(s.label(3), Some("Proficient"));
    }
}
