//! Login attempt limiting: a fixed window per key, with one authority for the counts — the
//! `LoginLimiter` Durable Object (`glue::limiter`), one object for the whole deployment, on
//! Cloudflare and on self-hosted workerd alike. This module holds everything it decides: the
//! keys, the rule (every key is checked, then every key counted, in one step the object runs
//! without yielding, so parallel attempts cannot all pass), and the messages between the
//! worker and the object.
//!
//! Keys: the client's address (an IPv6 address by its /64, the block one subscriber gets) and
//! the principal (user, domain and Keystone URL; or the application credential). Both are
//! counted before Keystone is asked; a successful login resets the principal's count. When the
//! worker cannot tell clients apart (no address known), only the principal is counted: one
//! shared address key would let ten wrong passwords lock every user out. Keys are stored as
//! hashes, so the table holds neither addresses nor user names.

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

/// Where windows are kept: the Durable Object's SQLite table. Errors are the store's text.
pub trait Store {
    fn get(&mut self, key: &str) -> Result<Option<Window>, String>;
    fn put(&mut self, key: &str, w: Window) -> Result<(), String>;
    fn remove(&mut self, key: &str) -> Result<(), String>;
    /// Drops every window that began at or before `start` (expired ones), so the table holds
    /// only the attempts of one window.
    fn forget_started_by(&mut self, start: i64) -> Result<(), String>;
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

    /// Counts one attempt under every key of `keys` at `now`, all or none: when any key has
    /// used up its attempts, nothing is counted and the longest wait is the answer.
    pub fn attempt(&self, store: &mut dyn Store, keys: &[String], now: i64) -> Result<Verdict, String> {
        store.forget_started_by(now.saturating_sub(self.window))?;
        let mut windows = Vec::with_capacity(keys.len());
        let mut wait = 0u64;
        for key in keys {
            let w = store.get(key)?.filter(|w| now < w.start.saturating_add(self.window));
            if let Some(w) = w.filter(|w| w.count >= self.max) {
                let left = w.start.saturating_add(self.window).saturating_sub(now);
                wait = wait.max(u64::try_from(left).unwrap_or(1).max(1));
            }
            windows.push(w);
        }
        if wait > 0 {
            return Ok(Verdict::Limited { retry_after: wait });
        }
        for (key, w) in keys.iter().zip(windows) {
            let next = match w {
                Some(w) => Window { start: w.start, count: w.count.saturating_add(1) },
                None => Window { start: now, count: 1 },
            };
            store.put(key, next)?;
        }
        Ok(Verdict::Allowed)
    }
}

/// Runs one message against the store (what the Durable Object does with each request).
pub fn run(store: &mut dyn Store, op: &Op, now: i64) -> Result<Verdict, String> {
    match op {
        Op::Attempt { keys, policy } => policy.attempt(store, keys, now),
        Op::Reset { key } => store.remove(key).map(|_| Verdict::Allowed),
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
    use std::collections::HashMap;

    /// The table as a map, with a failure switch.
    #[derive(Default)]
    struct Map {
        rows: HashMap<String, Window>,
        broken: bool,
    }

    impl Store for Map {
        fn get(&mut self, key: &str) -> Result<Option<Window>, String> {
            if self.broken {
                return Err("storage failed".into());
            }
            Ok(self.rows.get(key).copied())
        }
        fn put(&mut self, key: &str, w: Window) -> Result<(), String> {
            self.rows.insert(key.to_string(), w);
            Ok(())
        }
        fn remove(&mut self, key: &str) -> Result<(), String> {
            self.rows.remove(key);
            Ok(())
        }
        fn forget_started_by(&mut self, start: i64) -> Result<(), String> {
            self.rows.retain(|_, w| w.start > start);
            Ok(())
        }
    }

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

    #[test]
    fn limits_within_a_window_then_resets() {
        let (mut m, p) = (Map::default(), Policy::new(3, 60));
        for _ in 0..3 {
            assert_eq!(p.attempt(&mut m, &keys(&["a"]), 1000), Ok(Verdict::Allowed));
        }
        assert_eq!(p.attempt(&mut m, &keys(&["a"]), 1010), Ok(Verdict::Limited { retry_after: 50 }));
        assert_eq!(p.attempt(&mut m, &keys(&["b"]), 1010), Ok(Verdict::Allowed), "other keys are independent");
        assert_eq!(p.attempt(&mut m, &keys(&["a"]), 1060), Ok(Verdict::Allowed), "a new window starts");
        assert_eq!(m.rows["a"], Window { start: 1060, count: 1 });
    }

    #[test]
    fn all_keys_or_none() {
        let (mut m, p) = (Map::default(), Policy::new(2, 300));
        let both = keys(&["user", "ip"]);
        assert_eq!(p.attempt(&mut m, &both, 0), Ok(Verdict::Allowed));
        assert_eq!(p.attempt(&mut m, &keys(&["ip"]), 100), Ok(Verdict::Allowed));
        // the address is used up: nothing is counted, not even under the user
        assert_eq!(p.attempt(&mut m, &both, 200), Ok(Verdict::Limited { retry_after: 100 }));
        assert_eq!(m.rows["user"].count, 1);
        // the longest wait of the used-up keys
        assert_eq!(p.attempt(&mut m, &keys(&["user"]), 250), Ok(Verdict::Allowed));
        assert_eq!(p.attempt(&mut m, &both, 260), Ok(Verdict::Limited { retry_after: 40 }));
    }

    #[test]
    fn many_attempts_at_once_pass_only_up_to_the_limit() {
        // what the object does with N requests that arrive together: one after the other
        let (mut m, p) = (Map::default(), Policy::new(5, 300));
        let verdicts: Vec<Verdict> =
            (0..50).map(|i| p.attempt(&mut m, &keys(&["user", &format!("ip{i}")]), 7).unwrap()).collect();
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::Allowed).count(), 5);
        assert!(verdicts[5..].iter().all(|v| *v == Verdict::Limited { retry_after: 300 }));
    }

    #[test]
    fn reset_and_expiry_keep_the_table_small() {
        let (mut m, p) = (Map::default(), Policy::new(1, 60));
        assert_eq!(run(&mut m, &Op::Attempt { keys: keys(&["user"]), policy: p }, 0), Ok(Verdict::Allowed));
        assert!(matches!(
            run(&mut m, &Op::Attempt { keys: keys(&["user"]), policy: p }, 1),
            Ok(Verdict::Limited { .. })
        ));
        assert_eq!(run(&mut m, &Op::Reset { key: "user".into() }, 2), Ok(Verdict::Allowed));
        assert_eq!(run(&mut m, &Op::Attempt { keys: keys(&["user"]), policy: p }, 3), Ok(Verdict::Allowed));
        for i in 0..1000 {
            p.attempt(&mut m, &keys(&[&format!("k{i}")]), 10 + i).unwrap();
        }
        assert!(m.rows.len() <= 61, "only one window of keys is kept: {}", m.rows.len());
    }

    #[test]
    fn a_failing_store_is_an_error_not_a_pass() {
        let mut m = Map { broken: true, ..Default::default() };
        assert!(Policy::new(5, 60).attempt(&mut m, &keys(&["a"]), 0).is_err());
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
