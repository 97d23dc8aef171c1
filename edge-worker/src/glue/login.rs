//! `POST /api/login`, `POST /api/logout`, `GET /api/session`: the Keystone token in and out of
//! the sealed cookie.

use std::cell::RefCell;

use js_sys::Reflect;
use serde_json::json;
use worker::Env;

use super::http::{header, json_response, ok_json, read_body, ApiResult};
use super::now_secs;
use super::upstream::OpenStack;
use crate::api::{self, ApiError};
use crate::config::Config;
use crate::keystone::{self, WRONG_CREDENTIALS};
use crate::ratelimit::Limiter;
use crate::seal::Sealer;
use crate::session::{self, Session};
use crate::upstream::{self, Service};

thread_local! {
    /// Login attempts per client address (all attempts count).
    static LOGIN_CLIENTS: RefCell<Limiter> = RefCell::new(Limiter::new(1, 1));
    /// Failed logins per user being logged in as.
    static LOGIN_FAILURES: RefCell<Limiter> = RefCell::new(Limiter::new(1, 1));
}

/// Runs `f` on a limiter with the current settings.
fn limiter<T>(
    l: &'static std::thread::LocalKey<RefCell<Limiter>>,
    cfg: &Config,
    f: impl FnOnce(&mut Limiter) -> T,
) -> T {
    l.with(|l| {
        let mut l = l.borrow_mut();
        l.configure(cfg.login_max_attempts, cfg.login_window_seconds);
        f(&mut l)
    })
}

/// Checks the limits, asks Keystone for a token, and seals it with the endpoints of the
/// chosen region into the session cookie.
pub async fn login(req: &worker::Request, env: &Env, cfg: &Config, sealer: &Sealer) -> ApiResult<web_sys::Response> {
    let now = now_secs();
    let client = api::client_key(cfg, on_cloudflare(req), &|n| header(req, n));
    limiter(&LOGIN_CLIENTS, cfg, |l| l.attempt(&client, now)).map_err(ApiError::too_many)?;
    if let Ok(rl) = env.rate_limiter("LOGIN_RATE_LIMITER") {
        if let Ok(o) = rl.limit(client.clone()).await {
            if !o.success {
                return Err(ApiError::too_many(cfg.login_window_seconds.min(60)));
            }
        }
    }
    let body = api::parse_login(&read_body(req).await?)?;
    let auth_url = cfg.resolve_auth_url(body.auth_url.as_deref()).map_err(ApiError::bad_request)?;
    let principal = body.principal(&auth_url);
    limiter(&LOGIN_FAILURES, cfg, |l| l.check(&principal, now)).map_err(ApiError::too_many)?;
    let auth = body.auth_body().map_err(ApiError::bad_request)?;
    let r =
        OpenStack::keystone(&auth_url, "").send(Service::Identity, "POST", "/auth/tokens", Some(&auth), &[]).await?;
    if r.status != 201 {
        if r.status == WRONG_CREDENTIALS {
            LOGIN_FAILURES.with(|l| l.borrow_mut().hit(&principal, now));
        }
        return Err(ApiError::upstream(Service::Identity.name(), r.status, &r.body, true));
    }
    let token = r
        .headers
        .get("X-Subject-Token")
        .ok()
        .flatten()
        .ok_or_else(|| ApiError::new(502, "upstream_error", "Keystone sent no X-Subject-Token"))?;
    let region = body.region(cfg.region.as_deref());
    let s = match keystone::session_from_token(token.clone(), &r.body, &auth_url, cfg.interface, region) {
        Ok(s) => s,
        Err(e) => {
            // a token we cannot use is given back at once
            OpenStack::keystone(&auth_url, &token).revoke().await;
            return Err(ApiError::bad_request(e));
        }
    };
    let sealed = s.seal(sealer).map_err(ApiError::internal)?;
    let cookie = session::set_cookie(&sealed, s.remaining(now));
    Ok(json_response(200, &s.summary_json(), &[("Set-Cookie", cookie)]))
}

/// Whether the request came through Cloudflare's edge: its `cf` object names the data center.
/// (workerd gives no `cf`, or one without `colo`; there `CF-Connecting-IP` could be forged.)
fn on_cloudflare(req: &worker::Request) -> bool {
    Reflect::get(req.inner(), &"cf".into())
        .ok()
        .filter(|cf| cf.is_object())
        .and_then(|cf| Reflect::get(&cf, &"colo".into()).ok())
        .is_some_and(|c| c.as_string().is_some_and(|c| !c.is_empty()))
}

/// Revokes the token (when the cookie holds a session) and clears the cookie; `revoked` says
/// whether Keystone confirmed (when not, the token stays valid until it expires: the page says
/// so rather than pretend).
pub async fn logout(session: Option<&Session>) -> ApiResult<web_sys::Response> {
    let revoked = match session {
        Some(s) => OpenStack::of(s).revoke().await,
        None => true,
    };
    Ok(json_response(200, &json!({"logged_out": true, "revoked": revoked}), &[("Set-Cookie", session::clear_cookie())]))
}

/// The login answer again, once Keystone confirms the token is still valid.
pub async fn session(os: &OpenStack, s: &Session) -> ApiResult<web_sys::Response> {
    let r = os.token_call("GET", "/auth/tokens?nocatalog").await?;
    upstream::token_check(r.status, &r.body)?;
    ok_json(&s.summary_json())
}
