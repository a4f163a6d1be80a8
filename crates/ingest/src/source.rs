//! The source seam: where items come from, read a batch at a time.
//!
//! A pulled source (Kafka today) implements [`Source`]; the engine's one
//! loop (`cadre_engine::Engine::run_source`) reads a batch, stores and folds
//! it, and only then tells the source what became of it, so that a source
//! acknowledges upstream (commits offsets, sends dead letters on) only what
//! is durable. Pushed channels (HTTP) and files hand their batches to the
//! engine directly; all of them go through the same [`crate::Decoder`]s.

use std::time::Duration;

use crate::body::Item;
use crate::ingestor::Batch;

/// A source of items read in batches.
pub trait Source {
    /// What can go wrong reading from it or acknowledging to it.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The channel its items are stored under (metrics and dead letters).
    fn channel(&self) -> &str;

    /// The next batch, waiting at most `wait` for its first item; empty when
    /// nothing came in that time.
    fn read_batch(&mut self, wait: Duration) -> Result<Vec<Item>, Self::Error>;

    /// Told what became of the batch last read, once it is durable: the
    /// source acknowledges it upstream here. Until then, a crash makes the
    /// source deliver the batch again (it is stored once: ids are checked).
    fn settle(&mut self, batch: &Batch) -> Result<(), Self::Error>;

    /// Whether the source has anything to read from yet (a Kafka member:
    /// partitions assigned); idle time counts only once it has.
    fn ready(&self) -> bool {
        true
    }

    /// How far behind the source is, by partition, when it can tell.
    fn lag(&mut self) -> Result<Vec<(i32, i64)>, Self::Error> {
        Ok(Vec::new())
    }
}
