//! Fixed-window rate limits on failed password checks, per client address and per login name:
//! a key over its limit gets no password check at all until its window ends, while successful
//! checks cost nothing (a user who signs in often is never stopped). The counters live in memory on each node: with N nodes behind a balancer an attacker gets up to
//! N times the limit (the lockout policy, stored in the database, still bounds guesses per user).

use std::collections::HashMap;
use std::sync::Mutex;

/// Counts hits per key in one-minute windows.
pub struct Limiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

/// Entries kept before stale windows are dropped.
const PRUNE_AT: usize = 10_000;

impl Limiter {
    pub fn new(per_minute: u32) -> Self {
        Limiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` may still be checked at `now_secs` (fewer hits than the limit this window).
    pub fn allows(&self, key: &str, now_secs: u64) -> bool {
        let window = now_secs / 60;
        let m = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        m.get(key)
            .is_none_or(|(w, n)| *w != window || *n < self.per_minute)
    }

    /// Records a hit (a failed check) of `key` at `now_secs`.
    pub fn hit(&self, key: &str, now_secs: u64) {
        let window = now_secs / 60;
        let mut m = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= PRUNE_AT {
            m.retain(|_, (w, _)| *w == window);
        }
        let e = m.entry(key.to_string()).or_insert((window, 0));
        if e.0 != window {
            *e = (window, 0);
        }
        e.1 = e.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_window() {
        let l = Limiter::new(2);
        assert!(l.allows("a", 60));
        l.hit("a", 60);
        assert!(l.allows("a", 61));
        l.hit("a", 61);
        assert!(!l.allows("a", 62));
        assert!(l.allows("b", 62));
        assert!(l.allows("a", 120));
    }
}
