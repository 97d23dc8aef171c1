//! Login attempt limiting: a fixed window per key, with one authority for the counts — the
//! `LoginLimiter` Durable Object (`glue::limiter`), one object for the whole deployment, on
//! Cloudflare and on self-hosted workerd alike. This module holds everything it decides: the
//! keys, the rule (every key is checked, then every key counted, in one step that no other
//! request to the object interleaves with, so parallel attempts cannot all pass), and the
//! messages between the worker and the object.
//!
//! Keys: the client's address (an IPv6 address by its /64, the block one subscriber gets) and
//! the principal (user, domain and Keystone URL; or the application credential). Both are
//! counted before Keystone is asked; a successful login resets the principal's count. When the
//! worker cannot tell clients apart (no address known), only the principal is counted: one
//! shared address key would let ten wrong passwords lock every user out. Keys are stored as
//! hashes, so the table holds neither addresses nor user names.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bits of an IPv6 address that name one client: a /64 is the smallest block an ISP hands a
/// subscriber (RFC 6177), and a host picks addresses within it freely (RFC 4941).
pub const IPV6_CLIENT_PREFIX: u32 = 64;

/// One key's window: when it began (Unix seconds) and the attempts counted in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: i64,
    pub count: u32,
}

/// `LOGIN_MAX_ATTEMPTS` per `LOGIN_WINDOW_SECONDS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub max: u32,
    pub window: i64,
}

/// The windows one request to the limiter touches: loaded from its storage before the rule
/// runs, the changes written back after (the object's storage calls are asynchronous; the rule
/// between them is not, so nothing else runs in the object meanwhile).
#[derive(Debug, Default)]
pub struct Batch {
    windows: HashMap<String, Window>,
    /// What to write back: a key's new window, or `None` to delete it.
    pub changes: Vec<(String, Option<Window>)>,
}

impl Batch {
    pub fn loaded(windows: impl IntoIterator<Item = (String, Window)>) -> Batch {
        Batch { windows: windows.into_iter().collect(), changes: Vec::new() }
    }

    fn put(&mut self, key: &str, w: Window) {
        self.windows.insert(key.to_string(), w);
        self.changes.push((key.to_string(), Some(w)));
    }
}

/// The answer to an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Allowed,
    /// A key has used up its attempts: seconds until its window ends.
    Limited {
        retry_after: u64,
    },
}

/// A message from the worker to the limiter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Counts one attempt under every key, or none when any is used up.
    Attempt { keys: Vec<String>, policy: Policy },
    /// Forgets a key's window (a successful login resets its principal).
    Reset { key: String },
}

impl Policy {
    pub fn new(max: u32, window_seconds: u64) -> Policy {
        Policy { max: max.max(1), window: i64::try_from(window_seconds.max(1)).unwrap_or(i64::MAX / 4) }
    }

    fn live(&self, w: &Window, now: i64) -> bool {
        now < w.start.saturating_add(self.window)
    }

    /// Counts one attempt under every key of `keys` at `now`, all or none: when any key has
    /// used up its attempts, nothing is counted and the longest wait is the answer.
    pub fn attempt(&self, batch: &mut Batch, keys: &[String], now: i64) -> Verdict {
        let mut windows = Vec::with_capacity(keys.len());
        let mut wait = 0u64;
        for key in keys {
            let w = batch.windows.get(key).copied().filter(|w| self.live(w, now));
            if let Some(w) = w.filter(|w| w.count >= self.max) {
                let left = w.start.saturating_add(self.window).saturating_sub(now);
                wait = wait.max(u64::try_from(left).unwrap_or(1).max(1));
            }
            windows.push(w);
        }
        if wait > 0 {
            return Verdict::Limited { retry_after: wait };
        }
        for (key, w) in keys.iter().zip(windows) {
            let next = match w {
                Some(w) => Window { start: w.start, count: w.count.saturating_add(1) },
                None => Window { start: now, count: 1 },
            };
            batch.put(key, next);
        }
        Verdict::Allowed
    }

    /// The keys among `stored` whose windows have ended: the object deletes them as it goes
    /// (a slice of its storage per attempt), so it keeps about one window of keys.
    pub fn expired<'a>(&self, stored: impl IntoIterator<Item = (&'a str, Window)>, now: i64) -> Vec<String> {
        stored.into_iter().filter(|(_, w)| !self.live(w, now)).map(|(k, _)| k.to_string()).collect()
    }
}

/// Runs one message on the windows it touches (what the Durable Object does with each request).
pub fn run(batch: &mut Batch, op: &Op, now: i64) -> Verdict {
    match op {
        Op::Attempt { keys, policy } => policy.attempt(batch, keys, now),
        Op::Reset { key } => {
            batch.windows.remove(key);
            batch.changes.push((key.clone(), None));
            Verdict::Allowed
        }
    }
}

/// The keys a message needs loaded.
pub fn keys_of(op: &Op) -> Vec<String> {
    match op {
        Op::Attempt { keys, .. } => keys.clone(),
        Op::Reset { .. } => Vec::new(),
    }
}

/// The client a login limit counts: an IPv4 address whole, an IPv6 address by its /64, an
/// IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack socket reports) as the IPv4
/// one. Takes what a proxy header may carry: an address, with brackets, with a port. `None`
/// when `text` is not an address (then the client is unknown).
pub fn client_address(text: &str) -> Option<String> {
    let t = text.trim();
    let ip = t
        .parse::<IpAddr>()
        .ok()
        .or_else(|| t.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| t.strip_prefix('[').and_then(|r| r.strip_suffix(']')).and_then(|r| r.parse().ok()))?;
    Some(match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => format!("{}/{IPV6_CLIENT_PREFIX}", prefix64(a)),
        },
    })
}

fn prefix64(a: Ipv6Addr) -> Ipv6Addr {
    let mask = u128::MAX << (128 - IPV6_CLIENT_PREFIX);
    Ipv6Addr::from(u128::from(a) & mask)
}

fn hashed(kind: &str, value: &str) -> String {
    let d = Sha256::new().chain_update(kind).chain_update([0]).chain_update(value).finalize();
    let hex: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{kind}:{hex}")
}

/// The stored key of a client address (as [`client_address`] gives it).
pub fn address_key(address: &str) -> String {
    hashed("ip", address)
}

/// The stored key of a principal (`keystone::LoginRequest::principal`).
pub fn principal_key(principal: &str) -> String {
    hashed("user", principal)
}

/// The keys one login attempt is counted under: the principal, and the client address when
/// known.
pub fn login_keys(address: Option<&str>, principal: &str) -> Vec<String> {
    let mut keys = vec![principal_key(principal)];
    keys.extend(address.map(address_key));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn addresses_ipv4_whole_ipv6_by_64() {
        assert_eq!(client_address("203.0.113.9").as_deref(), Some("203.0.113.9"));
        assert_eq!(client_address(" 203.0.113.9:51234 ").as_deref(), Some("203.0.113.9"));
        assert_eq!(client_address("2001:db8:1:2:3:4:5:6").as_deref(), Some("2001:db8:1:2::/64"));
        assert_eq!(client_address("[2001:db8:1:2::ffff]:443").as_deref(), Some("2001:db8:1:2::/64"));
        assert_eq!(client_address("[2001:db8:1:2::1]").as_deref(), Some("2001:db8:1:2::/64"));
        assert_eq!(
            client_address("2001:db8:1:2:aaaa::1"),
            client_address("2001:db8:1:2:bbbb:cccc:dddd:eeee"),
            "one /64, one client"
        );
        assert_ne!(client_address("2001:db8:1:2::1"), client_address("2001:db8:1:3::1"), "the next /64 is another");
        assert_eq!(client_address("::ffff:198.51.100.7").as_deref(), Some("198.51.100.7"), "IPv4-mapped");
        assert_eq!(client_address("[::ffff:c633:6407]:80").as_deref(), Some("198.51.100.7"));
        assert_eq!(client_address("::1").as_deref(), Some("::/64"));
        for junk in ["", "unknown", "shared", "1.2.3", "2001:db8::1::2", "[1.2.3.4]x"] {
            assert_eq!(client_address(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn keys_are_hashes_per_kind() {
        let a = address_key("203.0.113.9");
        assert!(a.starts_with("ip:") && a.len() == 3 + 32 && !a.contains("203"), "{a}");
        assert_ne!(address_key("203.0.113.9"), principal_key("203.0.113.9"), "kinds never collide");
        assert_eq!(principal_key("u"), principal_key("u"));
        assert_eq!(login_keys(None, "p"), vec![principal_key("p")], "an unknown client: the principal only");
        assert_eq!(login_keys(Some("203.0.113.9"), "p"), vec![principal_key("p"), address_key("203.0.113.9")]);
    }

    /// One request after the other against one table, as the object runs them.
    struct Table(HashMap<String, Window>);

    impl Table {
        fn run(&mut self, op: &Op, now: i64) -> Verdict {
            let wanted = keys_of(op);
            let mut batch =
                Batch::loaded(self.0.iter().filter(|(k, _)| wanted.contains(k)).map(|(k, w)| (k.clone(), *w)));
            let v = run(&mut batch, op, now);
            for (k, w) in batch.changes {
                match w {
                    Some(w) => self.0.insert(k, w),
                    None => self.0.remove(&k),
                };
            }
            if let Op::Attempt { policy, .. } = op {
                for k in policy.expired(self.0.iter().map(|(k, w)| (k.as_str(), *w)), now) {
                    self.0.remove(&k);
                }
            }
            v
        }
        fn attempt(&mut self, p: Policy, k: &[&str], now: i64) -> Verdict {
            self.run(&Op::Attempt { keys: keys(k), policy: p }, now)
        }
    }

    fn table() -> Table {
        Table(HashMap::new())
    }

    #[test]
    fn limits_within_a_window_then_resets() {
        let (mut t, p) = (table(), Policy::new(3, 60));
        for _ in 0..3 {
            assert_eq!(t.attempt(p, &["a"], 1000), Verdict::Allowed);
        }
        assert_eq!(t.attempt(p, &["a"], 1010), Verdict::Limited { retry_after: 50 });
        assert_eq!(t.attempt(p, &["b"], 1010), Verdict::Allowed, "other keys are independent");
        assert_eq!(t.attempt(p, &["a"], 1060), Verdict::Allowed, "a new window starts");
        assert_eq!(t.0["a"], Window { start: 1060, count: 1 });
    }

    #[test]
    fn all_keys_or_none() {
        let (mut t, p) = (table(), Policy::new(2, 300));
        assert_eq!(t.attempt(p, &["user", "ip"], 0), Verdict::Allowed);
        assert_eq!(t.attempt(p, &["ip"], 100), Verdict::Allowed);
        // the address is used up: nothing is counted, not even under the user
        assert_eq!(t.attempt(p, &["user", "ip"], 200), Verdict::Limited { retry_after: 100 });
        assert_eq!(t.0["user"].count, 1);
        // the longest wait of the used-up keys
        assert_eq!(t.attempt(p, &["user"], 250), Verdict::Allowed);
        assert_eq!(t.attempt(p, &["user", "ip"], 260), Verdict::Limited { retry_after: 40 });
    }

    #[test]
    fn many_attempts_at_once_pass_only_up_to_the_limit() {
        // N requests that arrive together: the object takes them one after the other
        let (mut t, p) = (table(), Policy::new(5, 300));
        let verdicts: Vec<Verdict> = (0..50).map(|i| t.attempt(p, &["user", &format!("ip{i}")], 7)).collect();
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::Allowed).count(), 5);
        assert!(verdicts[5..].iter().all(|v| *v == Verdict::Limited { retry_after: 300 }));
    }

    #[test]
    fn reset_and_expiry_keep_the_table_small() {
        let (mut t, p) = (table(), Policy::new(1, 60));
        assert_eq!(t.attempt(p, &["user"], 0), Verdict::Allowed);
        assert!(matches!(t.attempt(p, &["user"], 1), Verdict::Limited { .. }));
        assert_eq!(t.run(&Op::Reset { key: "user".into() }, 2), Verdict::Allowed);
        assert!(!t.0.contains_key("user"));
        assert_eq!(t.attempt(p, &["user"], 3), Verdict::Allowed);
        for i in 0..1000 {
            t.attempt(p, &[&format!("k{i}")], 10 + i);
        }
        assert!(t.0.len() <= 60, "only one window of keys is kept: {}", t.0.len());
        let stored = [("old", Window { start: 0, count: 9 }), ("new", Window { start: 50, count: 1 })];
        assert_eq!(p.expired(stored, 60), vec!["old".to_string()]);
    }

    #[test]
    fn messages_round_trip() {
        let op = Op::Attempt { keys: keys(&["user:x"]), policy: Policy::new(10, 300) };
        let text = serde_json::to_string(&op).unwrap();
        assert_eq!(text, r#"{"op":"attempt","keys":["user:x"],"policy":{"max":10,"window":300}}"#);
        assert_eq!(serde_json::from_str::<Op>(&text).unwrap(), op);
        let v = serde_json::to_string(&Verdict::Limited { retry_after: 9 }).unwrap();
        assert_eq!(v, r#"{"verdict":"limited","retry_after":9}"#);
        assert_eq!(Policy::new(0, 0), Policy { max: 1, window: 1 });
    }
}
