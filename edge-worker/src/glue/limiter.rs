//! The login limiter's runtime half: the `LoginLimiter` Durable Object, one object
//! ([`OBJECT_NAME`]) holding every count in its SQLite table, and the worker's calls to it.
//! The rules are `crate::ratelimit`'s. Each request to the object runs its SQL without
//! awaiting anything, so the object takes attempts strictly one after another.
//!
//! Fails closed: without the binding, or when the object cannot answer, a login is refused
//! (a limit that lets attempts through whenever it is unavailable is a limit an attacker can
//! switch off by overloading it).

use worker::{durable_object, DurableObject, Env, SqlStorage, SqlStorageValue, State};

use super::now_secs;
use crate::api::ApiError;
use crate::config::Config;
use crate::ratelimit::{self, Op, Policy, Store, Verdict, Window};

/// The binding of the `LoginLimiter` namespace (wrangler.toml, workerd.capnp).
pub const BINDING: &str = "LOGIN_LIMITER";
/// The one object every login is counted by.
const OBJECT_NAME: &str = "login";

/// The Durable Object: a table of windows, one row per key.
#[durable_object(fetch)]
pub struct LoginLimiter {
    sql: SqlStorage,
}

impl DurableObject for LoginLimiter {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        for ddl in [
            "CREATE TABLE IF NOT EXISTS login_windows (key TEXT PRIMARY KEY, start INTEGER NOT NULL, count INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS login_windows_start ON login_windows (start)",
        ] {
            // a failure here shows again, as an error, on the first request
            let _ = sql.exec(ddl, None);
        }
        LoginLimiter { sql }
    }

    async fn fetch(&self, mut req: worker::Request) -> worker::Result<worker::Response> {
        let op: Op = req.json().await?;
        match ratelimit::run(&mut Table(&self.sql), &op, now_secs()) {
            Ok(v) => worker::Response::from_json(&v),
            Err(e) => worker::Response::error(e, 500),
        }
    }
}

/// The object's SQLite table as the limiter's [`Store`].
struct Table<'a>(&'a SqlStorage);

#[derive(serde::Deserialize)]
struct Row {
    start: i64,
    count: u32,
}

impl Table<'_> {
    fn exec(&self, query: &str, args: Vec<SqlStorageValue>) -> Result<worker::SqlCursor, String> {
        self.0.exec(query, args).map_err(|e| e.to_string())
    }
}

impl Store for Table<'_> {
    fn get(&mut self, key: &str) -> Result<Option<Window>, String> {
        let rows: Vec<Row> = self
            .exec("SELECT start, count FROM login_windows WHERE key = ?", vec![key.into()])?
            .to_array()
            .map_err(|e| e.to_string())?;
        Ok(rows.first().map(|r| Window { start: r.start, count: r.count }))
    }

    fn put(&mut self, key: &str, w: Window) -> Result<(), String> {
        self.exec(
            "INSERT INTO login_windows (key, start, count) VALUES (?, ?, ?) \
             ON CONFLICT (key) DO UPDATE SET start = excluded.start, count = excluded.count",
            vec![key.into(), w.start.into(), i64::from(w.count).into()],
        )
        .map(drop)
    }

    fn remove(&mut self, key: &str) -> Result<(), String> {
        self.exec("DELETE FROM login_windows WHERE key = ?", vec![key.into()]).map(drop)
    }

    fn forget_started_by(&mut self, start: i64) -> Result<(), String> {
        self.exec("DELETE FROM login_windows WHERE start <= ?", vec![start.into()]).map(drop)
    }
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
