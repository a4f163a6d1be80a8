//! Old schema versions, read as the current one: an upcaster per (type,
//! old version) turns a payload written under that version into the next
//! version's, and the decoder applies them in turn. The log is never
//! rewritten: an event stored under version 1 stays version 1 on disk and
//! is read as the current version every time (`docs/events.md`, "Versions
//! and upcasting").
//!
//! Every type is at version 1 in this build, so the table is empty. The
//! feature `test-v2` adds a version 2 of `employee.left` (a required `kind`),
//! with its upcaster, to prove the path on a log written by today's code
//! (`tests/upcast/`); it is never on in a build that ships.

use serde_json::Value;

use crate::check::DecodeError;
use crate::registry::EventType;

/// Turns a payload of `event_type` written under `from` into version `from + 1`'s.
pub struct Upcaster {
    /// The type.
    pub event_type: EventType,
    /// The version it reads.
    pub from: u32,
    /// The payload at `from`, made the payload at `from + 1`.
    pub upcast: fn(Value) -> Result<Value, DecodeError>,
}

/// Every upcaster of this build.
pub const UPCASTERS: &[Upcaster] = &[
    #[cfg(feature = "test-v2")]
    Upcaster {
        event_type: EventType::EmployeeLeft,
        from: 1,
        upcast: test_v2::left_v1_to_v2,
    },
];

/// A payload of `t` written under version `from`, as the current version's.
pub(crate) fn upcast(t: EventType, from: u32, mut data: Value) -> Result<Value, DecodeError> {
    for version in from..t.current_version() {
        let step = UPCASTERS
            .iter()
            .find(|u| u.event_type == t && u.from == version)
            .ok_or_else(|| {
                DecodeError::new(
                    "/schema_version",
                    format!(
                        "{t} version {version} cannot be read: no upcaster to {}",
                        version + 1
                    ),
                )
            })?;
        data = (step.upcast)(data)?;
    }
    Ok(data)
}

#[cfg(feature = "test-v2")]
mod test_v2 {
    use super::*;

    /// Version 2 of `employee.left` says what kind of leaving it was; a
    /// version 1 event did not, so it reads as `unspecified`.
    pub(super) fn left_v1_to_v2(mut data: Value) -> Result<Value, DecodeError> {
        let obj = data
            .as_object_mut()
            .ok_or_else(|| DecodeError::new("/data", "not an object"))?;
        obj.insert("kind".into(), Value::from("unspecified"));
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_but_the_last_has_an_upcaster_and_every_version_a_schema() {
        for t in EventType::ALL {
            let versions = t.versions();
            assert!(!versions.is_empty(), "{t} has no version");
            assert_eq!(versions[0], 1, "{t} starts at version 1");
            for pair in versions.windows(2) {
                assert_eq!(pair[1], pair[0] + 1, "{t}: versions follow each other");
            }
            for v in versions {
                assert!(t.schema(*v).is_some(), "{t} v{v} has no schema");
                if *v < t.current_version() {
                    assert!(
                        UPCASTERS.iter().any(|u| u.event_type == *t && u.from == *v),
                        "{t} v{v} has no upcaster"
                    );
                }
            }
        }
        for u in UPCASTERS {
            assert!(
                u.from < u.event_type.current_version(),
                "an upcaster from {} v{} reads a version that is not old",
                u.event_type,
                u.from
            );
        }
    }

    #[test]
    fn a_version_nobody_reads_says_so() {
        let t = EventType::PotentialRated;
        let err = upcast(t, 0, Value::Null).unwrap_err();
        assert!(err.reason.contains("no upcaster"), "{err}");
    }
}
