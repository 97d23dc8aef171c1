//! The Workers runtime shell (wasm32 only): HTTP in, OpenStack calls out, streams. Every
//! decision (routes, policy, bodies, statuses, errors, the upload's rules, the page's files) is
//! made by the plain-Rust modules; each file here is the runtime half of one of them:
//! - [`http`]: responses, capped body reads;
//! - [`upstream`]: the OpenStack client (`crate::upstream` decides what its answers mean);
//! - [`login`]: login, logout, the session check; [`limiter`]: the login limiter's Durable
//!   Object; [`routes`]: one `async fn` per other route, Cinder's in [`cinder`], the quotas in
//!   [`limits`];
//! - [`upload`]: the streamed upload (`crate::upload`); [`staged`]: staged uploads through R2
//!   (`crate::staged`); [`credential`]: the credentials that let them outlive the token
//!   (`crate::credential`); [`reaper`]: the sweep of abandoned staged uploads (`crate::reaper`)
//!   and the scheduled handler; [`page`]: the page's files (`crate::page`).
//!
//! Never logged or returned: the Keystone token, cookies, request or response bodies. Each
//! request logs one line: method, path, status, milliseconds.

mod bucket;
mod cinder;
mod credential;
mod http;
mod limiter;
mod limits;
mod login;
mod page;
mod reaper;
mod routes;
mod staged;
mod upload;
mod upstream;

use std::sync::atomic::{AtomicBool, Ordering};

use js_sys::Reflect;
use wasm_bindgen::JsValue;
use worker::{console_log, event, Context, Env, ScheduleContext, ScheduledEvent};

use self::http::{error_response, header, response, set_headers, ApiResult};
use self::staged::Staging;
use self::upstream::OpenStack;
use crate::api::{self, ApiError, Incoming, NoRoute, Route};
use crate::config::{Config, ConfigError};
use crate::egress;
use crate::seal::Sealer;
use crate::session::{self, Session};

fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

fn env_str(env: &Env, name: &str) -> Option<String> {
    Reflect::get(env, &JsValue::from_str(name)).ok().and_then(|v| v.as_string())
}

/// Whether this isolate has logged the settings' warning (once, at its first request).
static WARNED: AtomicBool = AtomicBool::new(false);

#[event(fetch)]
async fn fetch(req: worker::Request, env: Env, ctx: Context) -> worker::Result<worker::Response> {
    let t0 = js_sys::Date::now();
    let method = req.method().to_string();
    let path = req.path();
    let cfg = Config::from_lookup(&|k| env_str(&env, k));
    if let Some(w) = cfg.as_ref().ok().and_then(|c| c.client_address_warning(login::on_cloudflare(&req))) {
        if !WARNED.swap(true, Ordering::Relaxed) {
            console_log!("warning: {}", w);
        }
    }
    let resp = handle(&req, &env, &ctx, &cfg, &method, &path).await.unwrap_or_else(|e| error_response(&e));
    let origin = header(&req, "Origin");
    set_headers(&resp, &api::response_headers(cfg.as_ref().ok(), &path, &method, origin.as_deref()));
    console_log!("{} {} {} {}ms", method, path, resp.status(), (js_sys::Date::now() - t0) as u64);
    Ok(resp.into())
}

/// The cron trigger of `wrangler.toml`: the sweep of abandoned staged uploads (each staged
/// start runs it too).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let reaped = reaper::sweep(&env).await;
    console_log!("sweep: {} abandoned upload(s) cleaned up", reaped);
}

/// Route, policy, session, then the route's handler.
async fn handle(
    req: &worker::Request,
    env: &Env,
    ctx: &Context,
    cfg: &Result<Config, ConfigError>,
    method: &str,
    path: &str,
) -> ApiResult<web_sys::Response> {
    let route = match api::route(method, path) {
        Ok(r) => r,
        Err(NoRoute::Static) => return page::serve(req, env, method, path).await,
        Err(e) => return Err(e.error(path)),
    };
    let cfg = cfg.as_ref().map_err(|e| ApiError::misconfigured(&e.0))?;
    let url = req.url().map(|u| u.to_string()).unwrap_or_default();
    let (origin, sfs, csrf, ct) = (
        header(req, "Origin"),
        header(req, "Sec-Fetch-Site"),
        header(req, api::CSRF_HEADER),
        header(req, "Content-Type"),
    );
    let incoming = Incoming {
        method,
        url: &url,
        origin: origin.as_deref(),
        sec_fetch_site: sfs.as_deref(),
        csrf: csrf.as_deref(),
        content_type: ct.as_deref(),
    };
    api::check_request(cfg, &incoming, &route)?;
    if route == Route::Preflight {
        return Ok(response(204, None, &[]));
    }
    let sealer =
        Sealer::new(&env_str(env, "SESSION_KEY").unwrap_or_default(), env_str(env, "SESSION_KEY_PREVIOUS").as_deref())
            .map_err(ApiError::misconfigured)?;
    if route == Route::Login {
        return login::login(req, env, cfg, &sealer).await;
    }
    if let Route::StagedObject(id, object) = &route {
        return staged::object(req, env, id, object).await;
    }
    let cookie = header(req, "Cookie").unwrap_or_default();
    let session = session::cookie_value(&cookie).and_then(|v| Session::unseal(&sealer, v));
    if route == Route::Logout {
        return login::logout(session.as_ref()).await;
    }
    let s = crate::credential::session_for(&route, session, now_secs())?;
    let os = OpenStack::of(&s);
    let answer = match route {
        Route::Session => login::session(&os, &s, env, cfg).await,
        Route::Flavors => routes::flavors(&os).await,
        Route::Keypairs => routes::keypairs(&os).await,
        Route::Networks => routes::networks(&os, &s.project.id).await,
        Route::SecurityGroups => routes::security_groups(&os, &s.project.id).await,
        Route::Images => routes::images(&os).await,
        Route::Image(id) => routes::image(&os, &id).await,
        Route::DeleteImage(id) => routes::delete_image(&os, &id).await,
        Route::CreateImage => routes::create_image(&os, req).await,
        Route::UploadImage(id) => upload::upload(req, ctx, cfg, &os, &s, &id).await,
        Route::StagedStart(id) => {
            let started = staged::start(req, &Staging::of(env, cfg, &sealer, &os, &s)?, &id).await;
            // where no cron runs (workerd, `wrangler dev`), each new upload sweeps the old ones
            let env = env.clone();
            ctx.wait_until(async move {
                reaper::sweep(&env).await;
            });
            started
        }
        Route::StagedPart(id, n) => staged::part(req, &Staging::of(env, cfg, &sealer, &os, &s)?, &id, n).await,
        Route::StagedComplete(id) => staged::complete(req, env, &Staging::of(env, cfg, &sealer, &os, &s)?, &id).await,
        Route::StagedState(id) => staged::state(req, &Staging::of(env, cfg, &sealer, &os, &s)?, &id).await,
        Route::StagedDelete(id) => staged::delete(req, &Staging::of(env, cfg, &sealer, &os, &s)?, &id).await,
        Route::CreateServer => routes::create_server(&os, req).await,
        Route::Server(id) => routes::server(&os, &id).await,
        Route::DeleteServer(id) => routes::delete_server(&os, &id).await,
        Route::Console(id) => routes::console(&os, &id).await,
        Route::VolumeTypes => cinder::volume_types(&os).await,
        Route::CreateVolume => cinder::create_volume(&os, req).await,
        Route::Volume(id) => cinder::volume(&os, &id).await,
        Route::DeleteVolume(id) => cinder::delete_volume(&os, &id).await,
        Route::Limits => limits::limits(&os, &s.project.id).await,
        Route::Stores => routes::stores(&os).await,
        Route::Login | Route::Logout | Route::Preflight | Route::StagedObject(..) => {
            Err(ApiError::internal("unreachable route"))
        }
    };
    // a cloud the operator did not name (ALLOWED_AUTH_URLS="*") gets its status and a short reason through
    if cfg.names(&s.auth_url) {
        answer
    } else {
        answer.map_err(egress::from_unnamed_host)
    }
}
