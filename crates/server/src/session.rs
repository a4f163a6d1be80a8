//! Dashboard sessions: the sign-in form exchanges a token for a random
//! session id kept in an HttpOnly cookie; the token itself never travels in
//! a cookie. Sessions live in memory, expire after eight hours, and end at
//! sign-out (or at a restart: sign in again). Failed sign-ins are throttled
//! per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a session lasts.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// Failed sign-ins allowed per client address in [`FAILURE_WINDOW`].
const MAX_FAILURES: u32 = 5;
/// The window failed sign-ins are counted in.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// The sessions of signed-in browsers.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    open: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

#[derive(Debug)]
struct Session {
    token: String,
    expires: Instant,
}

impl Sessions {
    /// Opens a session for a valid token; returns its id for the cookie.
    pub(crate) fn open(&self, token: &str) -> String {
        let id = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = Instant::now();
        let mut open = self.open.lock().expect("sessions lock");
        open.retain(|_, s| s.expires > now);
        open.insert(
            id.clone(),
            Session {
                token: token.to_string(),
                expires: now + SESSION_TTL,
            },
        );
        id
    }

    /// The token behind a session id, unless it expired or was closed.
    pub(crate) fn token(&self, id: &str) -> Option<String> {
        let open = self.open.lock().expect("sessions lock");
        open.get(id)
            .filter(|s| s.expires > Instant::now())
            .map(|s| s.token.clone())
    }

    /// Ends a session.
    pub(crate) fn close(&self, id: &str) {
        self.open.lock().expect("sessions lock").remove(id);
    }

    /// Seconds to wait before this address may try to sign in again, if it
    /// failed too often lately.
    pub(crate) fn throttled(&self, from: Option<IpAddr>) -> Option<f64> {
        let from = from?;
        let failures = self.failures.lock().expect("failures lock");
        let (n, since) = failures.get(&from)?;
        let left = FAILURE_WINDOW.saturating_sub(since.elapsed());
        (*n >= MAX_FAILURES && !left.is_zero()).then_some(left.as_secs_f64())
    }

    /// Counts a failed sign-in from an address.
    pub(crate) fn failed(&self, from: Option<IpAddr>) {
        let Some(from) = from else { return };
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("failures lock");
        failures.retain(|_, (_, since)| now.duration_since(*since) < FAILURE_WINDOW);
        let entry = failures.entry(from).or_insert((0, now));
        entry.0 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_gives_its_token_until_closed() {
        let s = Sessions::default();
        let id = s.open("secret-token");
        assert_eq!(id.len(), 64);
        assert!(!id.contains("secret"));
        assert_eq!(s.token(&id).as_deref(), Some("secret-token"));
        assert_eq!(s.token("not-a-session"), None);
        s.close(&id);
        assert_eq!(s.token(&id), None);
    }

    #[test]
    fn an_address_is_throttled_after_five_failures_and_others_are_not() {
        let s = Sessions::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..4 {
            s.failed(Some(a));
        }
        assert_eq!(s.throttled(Some(a)), None, "four failures are allowed");
        s.failed(Some(a));
        let wait = s.throttled(Some(a)).expect("the fifth failure throttles");
        assert!(wait > 0.0 && wait <= 60.0);
        assert_eq!(s.throttled(Some(b)), None);
    }
}
