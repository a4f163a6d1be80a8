//! The dead-letter store's record: an item refused, with its reason.

use cadre_log::{LogError, Record};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    /// The item as received, or its first [`MAX_RAW_BYTES`] bytes when it
    /// was longer ([`DeadLetter::truncated`] then says so).
    pub raw: String,
    /// When `raw` was cut: the item's whole length and SHA-256, to tell it
    /// apart from others and match it against the sender's copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncated>,
}

/// What a dead letter keeps of an item too long to keep whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truncated {
    /// The item's length in bytes.
    pub bytes: usize,
    /// The SHA-256 of the whole item, in hex.
    pub sha256: String,
}

/// The most of an item's text a dead letter keeps: enough to see what it
/// was, while a dead letter stays far below the log's record limit however
/// large the item (an import never stops on one).
pub const MAX_RAW_BYTES: usize = 64 * 1024;

impl DeadLetter {
    /// A dead letter of an item received as `raw`, cut to [`MAX_RAW_BYTES`]
    /// (at a character boundary) with its length and digest when longer.
    pub fn new(
        received_at: DateTime<Utc>,
        channel: &str,
        position: usize,
        path: String,
        reason: String,
        mut raw: String,
    ) -> DeadLetter {
        let truncated = (raw.len() > MAX_RAW_BYTES).then(|| {
            let t = Truncated {
                bytes: raw.len(),
                sha256: hex::encode(Sha256::digest(raw.as_bytes())),
            };
            let mut cut = MAX_RAW_BYTES;
            while !raw.is_char_boundary(cut) {
                cut -= 1;
            }
            raw.truncate(cut);
            t
        });
        DeadLetter {
            received_at,
            channel: channel.to_string(),
            position,
            path,
            reason,
            raw,
            truncated,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_item_is_kept_cut_with_its_length_and_digest() {
        let now = Utc::now();
        let short = DeadLetter::new(now, "t", 1, "".into(), "r".into(), "abc".into());
        assert_eq!((short.raw.as_str(), short.truncated), ("abc", None));
        // a multi-byte character straddles the cut
        let long = format!("{}é{}", "a".repeat(MAX_RAW_BYTES - 1), "b".repeat(100));
        let d = DeadLetter::new(now, "t", 1, "".into(), "r".into(), long.clone());
        assert_eq!(d.raw, "a".repeat(MAX_RAW_BYTES - 1));
        let t = d.truncated.clone().expect("cut");
        assert_eq!(t.bytes, long.len());
        assert_eq!(t.sha256, hex::encode(Sha256::digest(long.as_bytes())));
        // and it reads back as written
        let back: DeadLetter = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back.truncated.unwrap().bytes, long.len());
    }
}
