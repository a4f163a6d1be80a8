//! The dead-letter store's record: an item refused, with its reason.

use cadre_log::{LogError, Record};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// A rejected item as kept in the dead-letter store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// When it was rejected.
    pub received_at: DateTime<Utc>,
    /// Where it came from (e.g. `http`, `file:events.ndjson`).
    pub channel: String,
    /// Position in its batch or file.
    pub position: usize,
    /// JSON pointer of the offending value.
    pub path: String,
    /// What is wrong.
    pub reason: String,
    /// The item as received.
    pub raw: String,
}

/// Every dead letter a scan yields, oldest first.
pub(crate) fn letters<S, R>(scan: S) -> Result<Vec<DeadLetter>, StoreError>
where
    S: FnOnce(&mut dyn FnMut(Record)) -> Result<R, LogError>,
{
    let mut out = Vec::new();
    scan(&mut |r: Record| {
        if let Ok(d) = serde_json::from_slice(&r.payload) {
            out.push(d);
        }
    })?;
    Ok(out)
}
