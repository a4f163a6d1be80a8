//! A subscriber's durable cursor and the events it still owes downstream.
//!
//! A subscriber that must not miss an event across restarts (the ClickHouse
//! exporter) remembers, durably and on its own, the sequence number of the
//! first event its downstream has not acknowledged. Everything after it is
//! its backlog: events just stored wait in memory (up to a bound; beyond it,
//! or after a gap, they are read again from the log), are delivered in
//! order, and the cursor moves only when downstream acknowledged them. The
//! log is the buffer of record; the memory is only a shortcut.

use std::collections::VecDeque;

use cadre_model::Event;
use cadre_store::{ReadBack, StoreError, StoreLayout, StoreReader};

/// The events after a subscriber's cursor, in sequence order.
#[derive(Debug)]
pub struct Backlog {
    layout: StoreLayout,
    /// Sequence number of the first event downstream has not acknowledged.
    next_seq: u64,
    pending: VecDeque<(u64, Event)>,
    /// The buffer is not the whole backlog: read the log again (at start,
    /// after a gap, or after the buffer overflowed).
    reread: bool,
    /// Events known to be in the log.
    log_len: u64,
    max_buffer: usize,
}

impl Backlog {
    /// The backlog after `next_seq` (the subscriber's durable cursor) in the
    /// data directory at `layout`, keeping at most `max_buffer` events in
    /// memory. It starts by reading the log ([`Backlog::fill`]).
    pub fn new(layout: StoreLayout, next_seq: u64, max_buffer: usize) -> Backlog {
        Backlog {
            layout,
            next_seq,
            pending: VecDeque::new(),
            reread: true,
            log_len: next_seq,
            max_buffer: max_buffer.max(1),
        }
    }

    /// Sequence number of the first event downstream has not acknowledged.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Events stored that downstream has not acknowledged.
    pub fn len(&self) -> u64 {
        self.log_len.saturating_sub(self.next_seq)
    }

    /// Whether downstream has every event stored (as far as this backlog knows).
    pub fn is_empty(&self) -> bool {
        !self.reread && self.pending.is_empty()
    }

    /// Events waiting in memory, ready to deliver.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    fn expected(&self) -> u64 {
        self.next_seq + self.pending.len() as u64
    }

    /// Takes events just stored, in sequence order (what a subscriber is told).
    pub fn accept(&mut self, stored: impl IntoIterator<Item = (u64, Event)>) {
        for (seq, e) in stored {
            self.log_len = self.log_len.max(seq + 1);
            if self.reread || seq < self.expected() {
                continue;
            }
            if seq > self.expected() || self.pending.len() >= self.max_buffer {
                // a gap, or too much in memory: read them from the log later
                self.pending.clear();
                self.reread = true;
                continue;
            }
            self.pending.push_back((seq, e));
        }
    }

    /// Reads from the log what the buffer lacks, when it lacks anything.
    pub fn fill(&mut self) -> Result<(), StoreError> {
        if !self.reread {
            return Ok(());
        }
        self.pending.clear();
        let reader = StoreReader::open(&self.layout)?;
        let (from, max) = (self.next_seq, self.max_buffer);
        let mut full = false;
        let mut len = 0;
        let pending = &mut self.pending;
        reader.replay(|seq, e| {
            len = seq + 1;
            if seq >= from && !full {
                if pending.len() < max {
                    pending.push_back((seq, e));
                } else {
                    full = true;
                }
            }
        })?;
        self.log_len = self.log_len.max(len);
        self.reread = full;
        Ok(())
    }

    /// The oldest `n` events waiting (fewer when fewer wait), to deliver.
    pub fn next(&mut self, n: usize) -> &[(u64, Event)] {
        let n = n.min(self.pending.len());
        &self.pending.make_contiguous()[..n]
    }

    /// Downstream acknowledged the oldest `n` events: they leave the backlog
    /// and the cursor moves past them. The subscriber then saves its cursor.
    pub fn acknowledge(&mut self, n: usize) {
        let n = n.min(self.pending.len());
        self.pending.drain(..n);
        self.next_seq += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cadre_ingest::{parse_lines, Ingestor};

    /// A data directory holding `n` stored events, and those events.
    fn stored(n: usize) -> (tempfile::TempDir, Vec<(u64, Event)>) {
        let dir = tempfile::tempdir().unwrap();
        let (mut ing, _) = Ingestor::open(&StoreLayout::new(dir.path())).unwrap();
        let lines: String = (0..n)
            .map(|i| {
                format!(
                    r#"{{"event_id":"00000000-0000-4000-8000-{i:012}","type":"org_unit.defined","schema_version":1,"occurred_at":"2026-01-01T00:00:00Z","recorded_at":"2026-01-01T00:00:00Z","source":"test","subject":"u{i}","data":{{"name":"Unit {i}"}}}}"#
                ) + "\n"
            })
            .collect();
        let batch = ing.ingest("test", parse_lines(lines.as_bytes())).unwrap();
        assert_eq!(batch.stored.len(), n, "{:?}", batch.outcomes.first());
        (dir, batch.stored)
    }

    fn seqs(b: &mut Backlog) -> Vec<u64> {
        b.next(usize::MAX).iter().map(|(s, _)| *s).collect()
    }

    #[test]
    fn starts_from_the_cursor_by_reading_the_log() {
        let (dir, _) = stored(5);
        let mut b = Backlog::new(StoreLayout::new(dir.path()), 2, 100);
        assert!(!b.is_empty(), "unread until filled");
        b.fill().unwrap();
        assert_eq!(seqs(&mut b), vec![2, 3, 4]);
        assert_eq!(b.len(), 3);
        b.acknowledge(2);
        assert_eq!((b.next_seq(), b.len()), (4, 1));
        b.acknowledge(1);
        assert!(b.is_empty());
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn events_told_in_order_are_buffered_without_reading_the_log() {
        let (dir, events) = stored(4);
        let mut b = Backlog::new(StoreLayout::new(dir.path()), 0, 100);
        b.fill().unwrap();
        b.acknowledge(4);
        // the log's directory is gone: anything read from it now is a failure
        let layout_dir = dir.path().to_path_buf();
        drop(dir);
        assert!(!layout_dir.exists());
        let next: Vec<_> = events.iter().map(|(s, e)| (s + 4, e.clone())).collect();
        b.accept(next);
        b.fill().unwrap();
        assert_eq!(seqs(&mut b), vec![4, 5, 6, 7]);
        assert_eq!(b.len(), 4);
    }

    #[test]
    fn a_gap_or_an_overflow_sends_it_back_to_the_log() {
        let (dir, events) = stored(6);
        // a gap: told of 9.. while it expects 6
        let mut gap = Backlog::new(StoreLayout::new(dir.path()), 0, 100);
        gap.fill().unwrap();
        gap.acknowledge(6);
        gap.accept(events[3..].iter().map(|(s, e)| (s + 6, e.clone())));
        assert!(!gap.is_empty(), "the gap is remembered, not skipped");
        assert_eq!(gap.len(), 6, "the log is known to be 12 long");
        assert!(gap.next(10).is_empty(), "nothing delivered past the gap");
        // an overflow: a buffer of 2 takes 6 events in three fills
        let mut small = Backlog::new(StoreLayout::new(dir.path()), 0, 2);
        let mut delivered = Vec::new();
        while !small.is_empty() {
            small.fill().unwrap();
            let n = small.next(10).len();
            delivered.extend(seqs(&mut small));
            small.acknowledge(n);
        }
        assert_eq!(delivered, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(small.next_seq(), 6);
    }
}
