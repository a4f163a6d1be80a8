//! JSON Schema validation, then typed decoding.

use std::collections::HashMap;

use cadre_model::{Event, EventData, EventType};

use crate::body::Item;
pub use crate::rejection::Rejection;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The envelope schema.
pub const ENVELOPE_SCHEMA: &str = include_str!("../../../schemas/envelope.v1.json");

/// Every data schema: event type, schema version, schema text; from the
/// event type table ([`EventType::schema`]).
pub fn schemas() -> impl Iterator<Item = (EventType, u32, &'static str)> {
    EventType::ALL.iter().flat_map(|t| {
        t.versions().iter().map(move |v| {
            let text = t
                .schema(*v)
                .unwrap_or_else(|| panic!("{t} v{v} has no schema in this build"));
            (*t, *v, text)
        })
    })
}

/// Compiled schemas for the envelope and every (type, version).
pub struct Validator {
    envelope: jsonschema::Validator,
    data: HashMap<(EventType, u32), jsonschema::Validator>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("schemas", &self.data.len())
            .finish()
    }
}

fn compile(name: &str, text: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("embedded schema {name} is not JSON: {e}"));
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("embedded schema {name} does not compile: {e}"))
}

impl Default for Validator {
    fn default() -> Self {
        Validator::new()
    }
}

impl Validator {
    /// Compiles the embedded schemas (they are part of the build, so a failure is a bug).
    pub fn new() -> Validator {
        let envelope = compile("envelope.v1", ENVELOPE_SCHEMA);
        let data = schemas()
            .map(|(t, v, text)| ((t, v), compile(&format!("{t}.v{v}"), text)))
            .collect();
        Validator { envelope, data }
    }

    /// Judges one item: its event, or why it is refused.
    ///
    /// The common event types are first decoded straight from the text
    /// ([`decoded_as_schema_judges`]); an item that does not decode so is
    /// parsed and [validated](Validator::validate) against its schemas, which
    /// also say what is wrong with it.
    pub fn judge(&self, item: &Item) -> Result<Event, Rejection> {
        if item.unreadable.is_none() {
            if let Some(event) = decoded_as_schema_judges(&item.raw) {
                return Ok(event);
            }
        }
        self.validate(&item.parse()?)
    }

    /// Validates one item against its schemas and decodes it.
    pub fn validate(&self, value: &Value) -> Result<Event, Rejection> {
        first_error(&self.envelope, value, "")?;
        let type_name = value["type"].as_str().unwrap_or_default();
        let ty = EventType::parse(type_name)
            .ok_or_else(|| Rejection::new("/type", format!("unknown event type {type_name:?}")))?;
        let given = &value["schema_version"];
        let version = given.as_u64().ok_or_else(|| {
            Rejection::new(
                "/schema_version",
                format!("schema_version {given} is not a whole number as JSON writes one: write it as 1, not 1.0 or 1e0"),
            )
        })?;
        let schema = u32::try_from(version)
            .ok()
            .and_then(|v| self.data.get(&(ty, v)))
            .ok_or_else(|| {
                Rejection::new(
                    "/schema_version",
                    format!(
                        "{ty} has no schema version {version}; known: {:?}",
                        ty.versions()
                    ),
                )
            })?;
        first_error(schema, &value["data"], "/data")?;
        Event::from_value_ref(value).map_err(|e| Rejection::new(e.path, e.reason))
    }
}

/// The event types whose decoder refuses all that their schemas refuse
/// (and sometimes more): the bulk of a feed. The decoder checks every id and
/// name for length and blankness, every level, rating and enumeration, and
/// refuses unknown fields, as the schemas do; `tests/fast_path.rs` holds it
/// to that, against the schemas themselves.
const DECODED: &[EventType] = &[
    EventType::AssessmentRecorded,
    EventType::TrainingCompleted,
    EventType::PerformanceRated,
    EventType::PotentialRated,
    EventType::EmployeeHired,
    EventType::EmployeeAssigned,
    EventType::PositionDefined,
];

/// The event in `text` when its type is one of the commonest (assessments,
/// trainings, performance and potential ratings, hires, moves, positions) and it
/// decodes with the id and dates spelled as the schema spells them; `None`
/// when it is for the schemas to judge. Beyond the schemas' rules, serde reads a
/// struct from an array and an enumeration from a one-key object; the
/// schemas allow neither, so the text must hold exactly the objects and
/// arrays of the event's own shape (a brace or bracket inside a string
/// sends the item to the schemas too, which costs time, not correctness).
pub fn decoded_as_schema_judges(text: &str) -> Option<Event> {
    // the hand-written reader of compact text first, serde for the rest
    let event = Event::from_compact_json(text).or_else(|| Event::from_json_exact(text).ok())?;
    if !DECODED.contains(&event.event_type()) {
        return None;
    }
    // an event holds a few of them: memchr skips from one to the next
    let (objects, arrays) =
        memchr::memchr2_iter(b'{', b'[', text.as_bytes()).fold((0, 0), |(o, a), i| {
            match text.as_bytes()[i] {
                b'{' => (o + 1, a),
                _ => (o, a + 1),
            }
        });
    let shape = match &event.data {
        EventData::TrainingCompleted(t) => (2 + t.competencies.len(), 1),
        _ => (2, 0),
    };
    ((objects, arrays) == shape).then_some(event)
}

fn secs(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Refuses dates no workforce record can have: before 1900, or an
/// `occurred_at` more than `future_hours` after `now` (events record what
/// has happened; the slack covers clocks that differ).
pub(crate) fn check_dates(
    e: &Event,
    now: DateTime<Utc>,
    future_hours: u32,
) -> Result<(), Rejection> {
    let earliest = DateTime::<Utc>::from_naive_utc_and_offset(
        chrono::NaiveDate::from_ymd_opt(1900, 1, 1)
            .expect("a date")
            .and_time(chrono::NaiveTime::MIN),
        Utc,
    );
    for (path, at) in [
        ("/occurred_at", e.occurred_at),
        ("/recorded_at", e.recorded_at),
    ] {
        if at < earliest {
            return Err(Rejection::new(
                path,
                format!("{} is before 1900-01-01: is the date right?", secs(at)),
            ));
        }
    }
    let latest = now + chrono::Duration::hours(future_hours.into());
    if e.occurred_at > latest {
        return Err(Rejection::new(
            "/occurred_at",
            format!(
                "{} is in the future (later than {future_hours} hours after this server's clock, {}): events record what has happened",
                secs(e.occurred_at),
                secs(now)
            ),
        ));
    }
    Ok(())
}

fn first_error(v: &jsonschema::Validator, value: &Value, prefix: &str) -> Result<(), Rejection> {
    // the common case answers without building any error
    if v.is_valid(value) {
        return Ok(());
    }
    match v.iter_errors(value).next() {
        None => Ok(()),
        Some(e) => Err(Rejection::new(
            format!("{prefix}{}", e.instance_path()),
            e.masked().to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_and_version_has_a_schema() {
        let v = Validator::new();
        for t in EventType::ALL {
            for version in t.versions() {
                assert!(
                    v.data.contains_key(&(*t, *version)),
                    "no schema for {t} v{version}"
                );
            }
        }
        assert_eq!(
            v.data.len(),
            schemas().count(),
            "a schema for a version the model does not read"
        );
    }
}
