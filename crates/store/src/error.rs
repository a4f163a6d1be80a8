//! What can go wrong with the store itself (not with an event).

use cadre_log::LogError;

/// Failures of the store itself (not of an event).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The log or dead-letter store failed; nothing in the batch was acknowledged.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A stored record does not decode: the log was written by an incompatible build, or damaged.
    #[error("stored event #{seq} does not decode: {reason}")]
    Stored {
        /// Its sequence number.
        seq: u64,
        /// Why.
        reason: String,
    },
}
