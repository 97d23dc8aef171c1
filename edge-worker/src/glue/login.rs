//! `POST /api/login`, `POST /api/logout`, `GET /api/session`: the Keystone token in and out of
//! the sealed cookie.

use js_sys::Reflect;
use serde_json::{json, Value};
use worker::Env;

use super::http::{header, json_response, ok_json, read_body, ApiResult};
use super::limiter;
use super::now_secs;
use super::upstream::OpenStack;
use crate::api::{self, ApiError};
use crate::config::Config;
use crate::egress;
use crate::keystone;
use crate::ratelimit;
use crate::seal::Sealer;
use crate::session::{self, Session};
use crate::staged;
use crate::upstream::{self, Service};

/// Checks the request and the Keystone URL, counts the attempt (client address and principal,
/// before Keystone is asked; a request refused earlier counts nothing), asks Keystone for a
/// token, and seals it with the endpoints of the chosen region into the session cookie. A
/// Keystone the operator did not name (`*`) must be a public host, and so must the endpoints of
/// its catalog; its refusals are passed on short.
pub async fn login(req: &worker::Request, env: &Env, cfg: &Config, sealer: &Sealer) -> ApiResult<web_sys::Response> {
    let body = api::parse_login(&read_body(req).await?)?;
    let target = egress::login_target(cfg, body.auth_url.as_deref())?;
    let auth_url = target.url.as_str();
    let auth = body.auth_body().map_err(ApiError::bad_request)?;
    let who = body.principal(auth_url);
    let address = api::client_address(cfg, on_cloudflare(req), &|n| header(req, n));
    limiter::attempt(env, cfg, ratelimit::login_keys(address.as_deref(), &who)).await?;
    let r = OpenStack::keystone(auth_url, "").send(Service::Identity, "POST", "/auth/tokens", Some(&auth), &[]).await?;
    if r.status != 201 {
        let e = ApiError::upstream(Service::Identity.name(), r.status, &r.body, true);
        return Err(if target.named { e } else { egress::from_unnamed_host(e) });
    }
    limiter::reset(env, ratelimit::principal_key(&who)).await;
    let token = r
        .headers
        .get("X-Subject-Token")
        .ok()
        .flatten()
        .ok_or_else(|| ApiError::new(502, "upstream_error", "Keystone sent no X-Subject-Token"))?;
    let region = body.region(cfg.region.as_deref());
    let s = keystone::session_from_token(token.clone(), &r.body, auth_url, cfg.interface, region)
        .map_err(ApiError::bad_request)
        .and_then(|s| if target.named { Ok(s) } else { egress::check_endpoints(&s.endpoints).map(|_| s) });
    let s = match s {
        Ok(s) => s,
        Err(e) => {
            // a token we cannot use is given back at once
            OpenStack::keystone(auth_url, &token).revoke().await;
            return Err(e);
        }
    };
    // credentials of ended uploads that an expired token could not delete
    super::credential::sweep_ended(&OpenStack::of(&s), &s).await;
    let sealed = s.seal(sealer).map_err(ApiError::internal)?;
    let cookie = session::set_cookie(&sealed, s.remaining(now_secs()));
    Ok(json_response(200, &summary(s.summary_json(), env, cfg), &[("Set-Cookie", cookie)]))
}

/// Whether the request came through Cloudflare's edge: its `cf` object names the data center.
/// (workerd gives no `cf`, or one without `colo`; there `CF-Connecting-IP` could be forged.)
pub fn on_cloudflare(req: &worker::Request) -> bool {
    Reflect::get(req.inner(), &"cf".into())
        .ok()
        .filter(|cf| cf.is_object())
        .and_then(|cf| Reflect::get(&cf, &"colo".into()).ok())
        .is_some_and(|c| c.as_string().is_some_and(|c| !c.is_empty()))
}

/// Deletes the migration credentials the worker made for the user, revokes the token (when the
/// cookie holds a session) and clears the cookie; `revoked` says whether Keystone confirmed
/// (when not, the token stays valid until it expires: the page says so rather than pretend),
/// `credentials` how many were deleted and how many could not be.
pub async fn logout(session: Option<&Session>) -> ApiResult<web_sys::Response> {
    let (revoked, (deleted, left)) = match session {
        Some(s) => {
            let os = OpenStack::of(s);
            let creds = super::credential::delete_all(&os, s).await;
            (os.revoke().await, creds)
        }
        None => (true, (0, 0)),
    };
    Ok(json_response(
        200,
        &json!({"logged_out": true, "revoked": revoked, "credentials": {"deleted": deleted, "left": left}}),
        &[("Set-Cookie", session::clear_cookie())],
    ))
}

/// The login answer again, once Keystone confirms the token is still valid.
pub async fn session(os: &OpenStack, s: &Session, env: &Env, cfg: &Config) -> ApiResult<web_sys::Response> {
    let r = os.token_call("GET", "/auth/tokens?nocatalog").await?;
    upstream::token_check(r.status, &r.body)?;
    ok_json(&summary(s.summary_json(), env, cfg))
}

/// The session's summary with what uploads may be (body limit, staging).
fn summary(mut v: Value, env: &Env, cfg: &Config) -> Value {
    v["upload"] = staged::upload_info(cfg, super::bucket::staging(env).is_some());
    v
}
