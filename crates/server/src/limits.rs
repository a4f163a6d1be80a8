//! Request limits on ingest: body size, events per request, and a rate per
//! token, so that one client cannot exhaust the server for the others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// The `[server]` table of the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body accepted by `POST /v1/events`, in bytes.
    pub max_body_bytes: usize,
    /// Most events in one request.
    pub max_batch_events: usize,
    /// Events per second each token may post, on average; 0 for no limit.
    /// A token may post up to `max(events_per_second, max_batch_events)`
    /// at once after a quiet spell.
    pub events_per_second: f64,
    /// Seconds a client has to send a request's headers before the
    /// connection is closed (slow clients cannot hold connections open).
    pub header_timeout_secs: f64,
    /// Seconds an authenticated client has to send a whole `POST /v1/events`
    /// body once its headers are in; a body still arriving then is refused
    /// (408) and nothing in it is stored.
    pub body_timeout_secs: f64,
    /// Most `POST /v1/events` bodies read at once; one more is told to
    /// retry (429), so stalled uploads cannot take all of the memory.
    pub max_uploads: usize,
    /// Most PDF reports printed at once (each starts a headless Chromium);
    /// one more is told to retry (429).
    pub max_pdf_renders: usize,
    /// Most analytical requests (gaps, heatmap, queries, profiles, the
    /// report) one token may have under way at once; one more is told to
    /// retry (429), so one client cannot queue work ahead of everyone.
    pub max_queries_per_token: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 * 1024 * 1024,
            max_batch_events: 10_000,
            events_per_second: 50_000.0,
            header_timeout_secs: 10.0,
            body_timeout_secs: 30.0,
            max_uploads: 8,
            max_pdf_renders: 2,
            max_queries_per_token: 4,
        }
    }
}

/// Analytical requests under way, per token holder.
#[derive(Debug, Default)]
pub(crate) struct QueryGate {
    running: Mutex<HashMap<String, usize>>,
}

/// A token holder's place among the analytical requests under way, given
/// back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    gate: Arc<QueryGate>,
    who: String,
}

impl QueryGate {
    /// A place for `who`, or the number they may have under way when they
    /// have that many already.
    pub(crate) fn enter(self: &Arc<Self>, who: &str, max: usize) -> Result<Slot, usize> {
        let max = max.max(1);
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let n = running.entry(who.to_string()).or_default();
        if *n >= max {
            return Err(max);
        }
        *n += 1;
        Ok(Slot {
            gate: self.clone(),
            who: who.to_string(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self.gate.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = running.get_mut(&self.who) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.who);
            }
        }
    }
}

/// Token buckets, one per token holder.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Takes `n` events from `who`'s bucket, or says how many seconds to wait.
    pub(crate) fn take(&self, limits: &Limits, who: &str, n: usize) -> Result<(), f64> {
        let rate = limits.events_per_second;
        if rate <= 0.0 {
            return Ok(());
        }
        let capacity = rate.max(limits.max_batch_events as f64);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, at) = buckets.entry(who.to_string()).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(capacity);
        *at = now;
        let n = n as f64;
        if *tokens >= n {
            *tokens -= n;
            Ok(())
        } else {
            Err((n - *tokens) / rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_burst_then_the_rate() {
        let limits = Limits {
            max_batch_events: 10,
            events_per_second: 5.0,
            ..Limits::default()
        };
        let r = RateLimiter::default();
        assert!(r.take(&limits, "a", 10).is_ok(), "a full batch at once");
        let wait = r.take(&limits, "a", 5).unwrap_err();
        assert!(
            wait > 0.9 && wait <= 1.0,
            "5 more take about a second: {wait}"
        );
        assert!(
            r.take(&limits, "b", 10).is_ok(),
            "each token has its own bucket"
        );
        let off = Limits {
            events_per_second: 0.0,
            ..limits
        };
        assert!(r.take(&off, "a", 1_000_000).is_ok());
    }
}
