//! The way in: every event, from HTTP or from a file, passes through here.
//!
//! Ingest owns three jobs. It **decodes** request bodies and files (one JSON
//! event, a JSON array, or NDJSON) into items without letting one broken line
//! spoil its neighbours ([`Decoder`]), and names the [`Source`] seam that
//! pulled channels (Kafka) implement. It **validates** each item against
//! the JSON Schema of its type and version in `schemas/` and then decodes it
//! into the typed [`cadre_model::Event`] ([`Validator`]). And it **stores**:
//! valid events go to the durable event log, invalid ones to the dead-letter
//! store with their reason, both fsynced before any outcome is reported
//! ([`Ingestor`]). An event is never acknowledged before it is durable, and a
//! re-sent event (same `event_id`) is acknowledged as a duplicate, never
//! stored twice.

mod body;
mod import;
mod rejection;
mod source;
mod store;
mod validate;

pub use body::{parse_body, parse_line, parse_lines, Decoder, Item};
pub use import::{import_file, ImportError, ImportSummary};
pub use source::Source;
pub use store::{
    Batch, DeadLetter, IngestConfig, IngestError, Ingestor, Judge, Judged, Outcome, ReadBack,
    StoreLayout, StoreReader,
};
pub use validate::schemas;
pub use validate::{decoded_as_schema_judges, Rejection, Validator, ENVELOPE_SCHEMA};
