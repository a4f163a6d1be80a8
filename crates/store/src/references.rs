//! What the stored events declare (org units, roles, frameworks, people),
//! learnt from the log as it opens, for the reference checks of ingest.

use cadre_log::Log;
use cadre_model::EventType;
use cadre_projection::References;

use crate::read::decode;
use crate::StoreError;

/// What the stored events declare, from a fresh read of the log.
pub(crate) fn references_of(log: &Log) -> Result<References, StoreError> {
    let mut fold = ReferenceFold::default();
    log.scan(|r| fold.observe(r.seq, &r.payload))?;
    fold.finish()
}

/// Learns what stored events declare, record by record. Only reference
/// events and hires are decoded: the type is read from the end of the stored
/// JSON (its keys are sorted, so `type` comes last), and anything not
/// recognised is decoded in full.
#[derive(Default)]
pub(crate) struct ReferenceFold {
    refs: References,
    bad: Option<StoreError>,
}

impl ReferenceFold {
    pub(crate) fn observe(&mut self, seq: u64, payload: &[u8]) {
        if self.bad.is_some() || stored_type(payload).is_some_and(|t| !References::declares(t)) {
            return;
        }
        match decode(seq, payload) {
            Ok(e) => self.refs.note(&e),
            Err(e) => self.bad = Some(e),
        }
    }

    pub(crate) fn finish(self) -> Result<References, StoreError> {
        self.bad.map_or(Ok(self.refs), Err)
    }
}

/// The event type of a stored payload, read from its end without parsing it.
fn stored_type(payload: &[u8]) -> Option<EventType> {
    const KEY: &[u8] = b"\"type\":\"";
    let tail = &payload[payload.len().saturating_sub(64)..];
    let at = tail.windows(KEY.len()).rposition(|w| w == KEY)? + KEY.len();
    let name = tail[at..].strip_suffix(b"\"}")?;
    EventType::parse(std::str::from_utf8(name).ok()?)
}
