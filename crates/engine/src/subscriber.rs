//! The subscriber seam: what hears of every event the engine stores.

use cadre_model::Event;

/// Told of every event stored, after it is durable and folded, in sequence
/// order, a batch at a time (the ClickHouse exporter; anything later).
///
/// `stored` runs on the ingesting thread, so it hands the batch on (to a
/// channel, a queue) and returns. A subscriber that must not miss events
/// across restarts keeps a durable cursor of its own (the first sequence
/// number its downstream has not acknowledged) and a [`Backlog`](crate::Backlog)
/// after it, which reads what it lacks from the log: the engine does not
/// remember what it told whom.
pub trait Subscriber: Send + Sync {
    /// A name for logs.
    fn name(&self) -> &str;

    /// Events just stored and folded, with their sequence numbers.
    fn stored(&self, batch: &[(u64, Event)]);
}
