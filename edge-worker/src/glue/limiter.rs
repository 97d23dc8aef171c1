//! The login limiter's runtime half: the `LoginLimiter` Durable Object, one object
//! ([`OBJECT_NAME`]) holding every count in its SQLite table, and the worker's calls to it.
//! The rules are `crate::ratelimit`'s. Each request to the object runs its SQL without
//! awaiting anything, so the object takes attempts strictly one after another.
//!
//! Fails closed: without the binding, or when the object cannot answer, a login is refused
//! (a limit that lets attempts through whenever it is unavailable is a limit an attacker can
//! switch off by overloading it).

use std::cell::RefCell;

use js_sys::Reflect;
use wasm_bindgen::JsValue;
use worker::{durable_object, DurableObject, Env, ListOptions, State, Storage};

use super::now_secs;
use crate::api::ApiError;
use crate::config::Config;
use crate::ratelimit::{self, Batch, Op, Policy, Verdict, Window};

/// The binding of the `LoginLimiter` namespace (wrangler.toml, workerd.capnp).
pub const BINDING: &str = "LOGIN_LIMITER";
/// The one object every login is counted by.
const OBJECT_NAME: &str = "login";
/// Stored windows each attempt looks through for expired ones (more than the two keys an
/// attempt adds, so the sweep keeps up).
const SWEEP_SLICE: usize = 64;

/// The Durable Object: one stored window per key, and where its sweep goes on.
#[durable_object(fetch)]
pub struct LoginLimiter {
    state: State,
    /// The key the next sweep starts after (memory only: a fresh object starts over).
    sweep_from: RefCell<String>,
}

impl DurableObject for LoginLimiter {
    fn new(state: State, _env: Env) -> Self {
        LoginLimiter { state, sweep_from: RefCell::new(String::new()) }
    }

    async fn fetch(&self, mut req: worker::Request) -> worker::Result<worker::Response> {
        let op: Op = req.json().await?;
        match self.run(&op).await {
            Ok(v) => worker::Response::from_json(&v),
            Err(e) => worker::Response::error(e.to_string(), 500),
        }
    }
}

impl LoginLimiter {
    /// Loads the windows `op` touches, runs the rule, writes the changes back, then sweeps a
    /// slice of the storage. Only storage calls are awaited, and the runtime delivers no other
    /// request to the object while one is in flight, so requests run one after the other.
    async fn run(&self, op: &Op) -> worker::Result<Verdict> {
        let storage = self.state.storage();
        let now = now_secs();
        let mut loaded = Vec::new();
        for key in ratelimit::keys_of(op) {
            if let Some(w) = storage.get::<Window>(&key).await? {
                loaded.push((key, w));
            }
        }
        let mut batch = Batch::loaded(loaded);
        let verdict = ratelimit::run(&mut batch, op, now);
        for (key, w) in batch.changes {
            match w {
                Some(w) => storage.put(&key, w).await?,
                None => storage.delete(&key).await.map(drop)?,
            }
        }
        if let Op::Attempt { policy, .. } = op {
            self.sweep(&storage, policy, now).await?;
        }
        Ok(verdict)
    }

    /// Deletes the expired windows among the next [`SWEEP_SLICE`] stored keys.
    async fn sweep(&self, storage: &Storage, policy: &Policy, now: i64) -> worker::Result<()> {
        let from = self.sweep_from.borrow().clone();
        let slice = storage.list_with_options(ListOptions::new().start(&from).limit(SWEEP_SLICE)).await?;
        let mut stored = Vec::new();
        slice.for_each(&mut |value, key| {
            if let (Some(k), Some(w)) = (key.as_string(), window_of(&value)) {
                stored.push((k, w));
            }
        });
        // the next slice starts after this one's last key; a short slice was the end
        *self.sweep_from.borrow_mut() = match stored.last() {
            Some((k, _)) if stored.len() == SWEEP_SLICE => format!("{k}\0"),
            _ => String::new(),
        };
        let expired = policy.expired(stored.iter().map(|(k, w)| (k.as_str(), *w)), now);
        if !expired.is_empty() {
            storage.delete_multiple(expired).await?;
        }
        Ok(())
    }
}

/// A stored window as the storage lists it (`{start, count}`).
fn window_of(v: &JsValue) -> Option<Window> {
    let num = |name: &str| Reflect::get(v, &JsValue::from_str(name)).ok().and_then(|n| n.as_f64());
    Some(Window { start: num("start")? as i64, count: num("count")? as u32 })
}

/// Sends `op` to the object: its verdict, or 503 `rate_limit_unavailable` (500 `misconfigured`
/// without the binding).
async fn send(env: &Env, op: &Op) -> Result<Verdict, ApiError> {
    let ns = env.durable_object(BINDING).map_err(|_| {
        ApiError::misconfigured(format!("the {BINDING} Durable Object binding is missing (see edge-worker/README.md)"))
    })?;
    let unavailable = |e: String| {
        ApiError::new(503, "rate_limit_unavailable", format!("the login limiter could not be asked ({e}); try again"))
    };
    let stub = ns.get_by_name(OBJECT_NAME).map_err(|e| unavailable(e.to_string()))?;
    let body = serde_json::to_string(op).map_err(|e| unavailable(e.to_string()))?;
    let init = worker::RequestInit { method: worker::Method::Post, body: Some(body.into()), ..Default::default() };
    let req = worker::Request::new_with_init("https://limiter/", &init).map_err(|e| unavailable(e.to_string()))?;
    let mut resp = stub.fetch_with_request(req).await.map_err(|e| unavailable(e.to_string()))?;
    if resp.status_code() != 200 {
        let why = resp.text().await.unwrap_or_default();
        return Err(unavailable(crate::egress::short_reason(&why)));
    }
    resp.json().await.map_err(|e| unavailable(e.to_string()))
}

/// Counts one login attempt under `keys` (before Keystone is asked): 429 when a key has used
/// up its attempts.
pub async fn attempt(env: &Env, cfg: &Config, keys: Vec<String>) -> Result<(), ApiError> {
    let policy = Policy::new(cfg.login_max_attempts, cfg.login_window_seconds);
    match send(env, &Op::Attempt { keys, policy }).await? {
        Verdict::Allowed => Ok(()),
        Verdict::Limited { retry_after } => Err(ApiError::too_many(retry_after)),
    }
}

/// Forgets `key`'s count (a successful login). A failure only leaves the count as it was.
pub async fn reset(env: &Env, key: String) {
    let _ = send(env, &Op::Reset { key }).await;
}
