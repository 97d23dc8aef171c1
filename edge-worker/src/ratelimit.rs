//! Login attempt limiting: a fixed window per key (client address, or user being logged in
//! as). Held in the worker's memory, so it is per isolate: exact for self-hosted workerd (one
//! process), best effort on Cloudflare, where a `LOGIN_RATE_LIMITER` binding (Cloudflare's
//! rate-limiting API) can be added on top (see README.md).
//!
//! Memory is bounded by [`MAX_KEYS`] windows; when full, expired windows are dropped, then the
//! oldest.

use std::collections::HashMap;

/// Most keys tracked at once (each a few dozen bytes).
pub const MAX_KEYS: usize = 10_000;

#[derive(Clone, Copy, Debug)]
struct Window {
    start: i64,
    count: u32,
}

#[derive(Debug)]
pub struct Limiter {
    max: u32,
    window: i64,
    entries: HashMap<String, Window>,
}

impl Limiter {
    pub fn new(max: u32, window_seconds: u64) -> Limiter {
        Limiter {
            max: max.max(1),
            window: i64::try_from(window_seconds.max(1)).unwrap_or(i64::MAX / 2),
            entries: HashMap::new(),
        }
    }

    /// Applies new settings (they come from the environment on every request).
    pub fn configure(&mut self, max: u32, window_seconds: u64) {
        self.max = max.max(1);
        self.window = i64::try_from(window_seconds.max(1)).unwrap_or(i64::MAX / 2);
    }

    fn live(&self, key: &str, now: i64) -> Option<Window> {
        self.entries.get(key).copied().filter(|w| now < w.start.saturating_add(self.window))
    }

    /// `Err(seconds until the window ends)` when `key` has used up its attempts.
    pub fn check(&self, key: &str, now: i64) -> Result<(), u64> {
        match self.live(key, now) {
            Some(w) if w.count >= self.max => {
                Err(u64::try_from(w.start.saturating_add(self.window) - now).unwrap_or(1).max(1))
            }
            _ => Ok(()),
        }
    }

    /// Counts one attempt for `key`.
    pub fn hit(&mut self, key: &str, now: i64) {
        let w = match self.live(key, now) {
            Some(w) => Window { start: w.start, count: w.count.saturating_add(1) },
            None => Window { start: now, count: 1 },
        };
        if !self.entries.contains_key(key) && self.entries.len() >= MAX_KEYS {
            let window = self.window;
            self.entries.retain(|_, w| now < w.start.saturating_add(window));
            if self.entries.len() >= MAX_KEYS {
                if let Some(oldest) = self.entries.iter().min_by_key(|(_, w)| w.start).map(|(k, _)| k.clone()) {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.entries.insert(key.to_string(), w);
    }

    /// [`check`](Self::check), then [`hit`](Self::hit) when allowed.
    pub fn attempt(&mut self, key: &str, now: i64) -> Result<(), u64> {
        self.check(key, now)?;
        self.hit(key, now);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_within_a_window_then_resets() {
        let mut l = Limiter::new(3, 60);
        for _ in 0..3 {
            assert!(l.attempt("ip:1", 1000).is_ok());
        }
        assert_eq!(l.attempt("ip:1", 1010), Err(50));
        assert!(l.attempt("ip:2", 1010).is_ok(), "other keys are independent");
        assert!(l.attempt("ip:1", 1060).is_ok(), "a new window starts");
    }

    #[test]
    fn check_does_not_count() {
        let mut l = Limiter::new(1, 60);
        for _ in 0..5 {
            assert!(l.check("u", 0).is_ok());
        }
        l.hit("u", 0);
        assert!(l.check("u", 59).is_err());
    }

    #[test]
    fn memory_is_bounded() {
        let mut l = Limiter::new(5, 60);
        for i in 0..(MAX_KEYS + 100) {
            l.hit(&format!("k{i}"), i as i64 / 1000);
        }
        assert!(l.len() <= MAX_KEYS);
    }
}
