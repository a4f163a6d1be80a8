//! The way in: every event, from HTTP or from a file, passes through here.
//!
//! Ingest owns three jobs. It **decodes** request bodies and files (one JSON
//! event, a JSON array, or NDJSON) into items without letting one broken line
//! spoil its neighbours ([`Decoder`]), and names the [`Source`] seam that
//! pulled channels (Kafka) implement. It **validates** each item against
//! the JSON Schema of its type and version in `schemas/` and then decodes it
//! into the typed [`cadre_model::Event`] ([`Validator`]). And it **judges
//! a batch for the store** ([`Ingestor`]): what each event refers to is
//! checked in batch order, valid events go to the event store
//! ([`cadre_store::EventStore`]), invalid ones to its dead letters with their
//! reason, both fsynced before any outcome is reported. An event is never
//! acknowledged before it is durable, and a re-sent event (same `event_id`)
//! is acknowledged as a duplicate, never stored twice.

mod body;
mod duplicate_keys;
mod import;
mod ingestor;
mod rejection;
mod source;
mod validate;

pub use body::{parse_body, parse_line, parse_lines, Decoder, Item, JSON_TYPES, NDJSON_TYPES};
pub use import::{import_file, ImportError, ImportSummary};
pub use ingestor::{Batch, IngestConfig, Ingestor, Judge, Judged, Outcome};
pub use source::Source;
pub use validate::schemas;
pub use validate::{decoded_as_schema_judges, Rejection, Validator, ENVELOPE_SCHEMA};
