//! The Workers runtime shell (wasm32 only): HTTP in, OpenStack calls out, streams. Every
//! decision (routes, policy, bodies, errors, the upload check) is made by the plain-Rust
//! modules; this file only moves bytes and headers.
//!
//! Never logged or returned: the Keystone token, cookies, request or response bodies. Each
//! request logs one line: method, path, status, milliseconds.

use std::cell::RefCell;

use futures::channel::oneshot;
use js_sys::{Promise, Reflect, Uint8Array};
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, ReadableStream, ReadableStreamDefaultReader, RequestInit, RequestRedirect, ResponseInit,
    StreamPipeOptions, WorkerGlobalScope, WritableStream,
};
use worker::{console_log, event, Context, Env};

use crate::api::{self, ApiError, Incoming, NoRoute, Route, MAX_JSON_BODY, MAX_UPSTREAM_BODY};
use crate::config::Config;
use crate::keystone::{self, LoginRequest};
use crate::openstack::{self, versioned, ImageCreate, ServerCreate, NOVA_MICROVERSION};
use crate::ratelimit::Limiter;
use crate::seal::Sealer;
use crate::session::{self, Session};
use stackferry::qcow2::probe;

thread_local! {
    /// Login attempts per client address (all attempts count).
    static LOGIN_CLIENTS: RefCell<Limiter> = RefCell::new(Limiter::new(1, 1));
    /// Failed logins per user being logged in as.
    static LOGIN_FAILURES: RefCell<Limiter> = RefCell::new(Limiter::new(1, 1));
}

type ApiResult<T> = Result<T, ApiError>;

fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .unwrap_or_else(|| "JavaScript error".into())
}

fn internal(e: JsValue) -> ApiError {
    ApiError::internal(js_err(e))
}

fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

fn env_str(env: &Env, name: &str) -> Option<String> {
    Reflect::get(env, &JsValue::from_str(name)).ok().and_then(|v| v.as_string())
}

#[event(fetch)]
async fn fetch(req: worker::Request, env: Env, ctx: Context) -> worker::Result<worker::Response> {
    let t0 = js_sys::Date::now();
    let method = req.method().to_string();
    let path = req.path();
    let resp = match handle(&req, &env, &ctx).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    };
    let resp = with_api_headers(&req, &env, &path, resp);
    console_log!("{} {} {} {}ms", method, path, resp.status(), (js_sys::Date::now() - t0) as u64);
    Ok(resp.into())
}

// ------------------------------------------------------------------ responses

fn response(status: u16, body: Option<&str>, headers: &[(&str, String)]) -> web_sys::Response {
    let h = Headers::new().expect("Headers");
    for (k, v) in headers {
        let _ = h.append(k, v);
    }
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&h);
    web_sys::Response::new_with_opt_str_and_init(body, &init).expect("Response")
}

fn json_response(status: u16, v: &Value, extra: &[(&str, String)]) -> web_sys::Response {
    let mut h = vec![("Content-Type", "application/json".to_string())];
    h.extend(extra.iter().cloned());
    response(status, Some(&v.to_string()), &h)
}

fn error_response(e: &ApiError) -> web_sys::Response {
    let mut h = vec![("Content-Type", "application/json".to_string())];
    if let Some(s) = e.retry_after {
        h.push(("Retry-After", s.to_string()));
    }
    if matches!(e.error.as_str(), "session_expired" | "no_session") {
        h.push(("Set-Cookie", session::clear_cookie()));
    }
    if e.status == 405 {
        h.push(("Allow", e.detail.trim_start_matches("allowed: ").to_string()));
    }
    response(e.status, Some(&e.json()), &h)
}

/// `/api` responses: never cached, never sniffed, CORS for configured origins.
fn with_api_headers(req: &worker::Request, env: &Env, path: &str, resp: web_sys::Response) -> web_sys::Response {
    if !(path == "/api" || path.starts_with("/api/")) {
        return resp;
    }
    let h = resp.headers();
    let _ = h.set("Cache-Control", "no-store");
    let _ = h.set("X-Content-Type-Options", "nosniff");
    if let Ok(cfg) = Config::from_lookup(&|k| env_str(env, k)) {
        let origin = req.headers().get("Origin").ok().flatten();
        for (k, v) in api::cors_headers(&cfg, origin.as_deref(), req.method().to_string() == "OPTIONS") {
            let _ = h.set(k, &v);
        }
    }
    resp
}

// ------------------------------------------------------------------ dispatch

async fn handle(req: &worker::Request, env: &Env, ctx: &Context) -> ApiResult<web_sys::Response> {
    let method = req.method().to_string();
    let path = req.path();
    let route = match api::route(&method, &path) {
        Ok(r) => r,
        Err(NoRoute::Static) => return serve_static(req, env, &method, &path).await,
        Err(NoRoute::NotFound) => return Err(ApiError::not_found(format!("no API route {path}"))),
        Err(NoRoute::Method(allowed)) => {
            return Err(ApiError::new(405, "method_not_allowed", format!("allowed: {allowed}")))
        }
    };
    let cfg = Config::from_lookup(&|k| env_str(env, k)).map_err(|e| ApiError::misconfigured(e.0))?;
    let header = |n: &str| req.headers().get(n).ok().flatten();
    let url = req.url().map(|u| u.to_string()).unwrap_or_default();
    let (origin, sfs, csrf, ct) =
        (header("Origin"), header("Sec-Fetch-Site"), header(api::CSRF_HEADER), header("Content-Type"));
    let incoming = Incoming {
        method: &method,
        url: &url,
        origin: origin.as_deref(),
        sec_fetch_site: sfs.as_deref(),
        csrf: csrf.as_deref(),
        content_type: ct.as_deref(),
    };
    api::check_request(&cfg, &incoming, &route)?;
    if route == Route::Preflight {
        return Ok(response(204, None, &[]));
    }
    let sealer =
        Sealer::new(&env_str(env, "SESSION_KEY").unwrap_or_default(), env_str(env, "SESSION_KEY_PREVIOUS").as_deref())
            .map_err(ApiError::misconfigured)?;
    if route == Route::Login {
        return login(req, env, &cfg, &sealer).await;
    }
    let cookie = header("Cookie").unwrap_or_default();
    let session = session::cookie_value(&cookie).and_then(|v| Session::unseal(&sealer, v));
    if route == Route::Logout {
        if let Some(s) = &session {
            revoke(s).await;
        }
        return Ok(json_response(200, &json!({"logged_out": true}), &[("Set-Cookie", session::clear_cookie())]));
    }
    let s = session.ok_or_else(|| ApiError::new(401, "no_session", "not logged in"))?;
    if s.remaining(now_secs()) == 0 {
        return Err(ApiError::new(401, "session_expired", "the OpenStack token has expired; log in again"));
    }
    match route {
        Route::Session => session_info(&s).await,
        Route::Flavors => {
            let v = get_json(&s, "nova", &compute(&s)?, "/flavors/detail").await?;
            Ok(json_response(200, &openstack::trim_flavors(&v), &[]))
        }
        Route::Keypairs => {
            let v = get_json(&s, "nova", &compute(&s)?, "/os-keypairs").await?;
            Ok(json_response(200, &openstack::trim_keypairs(&v), &[]))
        }
        Route::Networks => {
            let v = get_json(&s, "neutron", &network(&s)?, "/networks").await?;
            // the project's own, shared and external networks (an admin would see all)
            let mut list = openstack::trim_networks(&v);
            if let (Some(arr), Some(raw)) = (list.as_array_mut(), v.get("networks").and_then(Value::as_array)) {
                let keep: Vec<bool> = raw
                    .iter()
                    .map(|n| {
                        let owner = n.get("project_id").or_else(|| n.get("tenant_id")).and_then(Value::as_str);
                        owner == Some(s.project.id.as_str())
                            || n["shared"] == json!(true)
                            || n["router:external"] == json!(true)
                    })
                    .collect();
                let mut i = 0;
                arr.retain(|_| {
                    i += 1;
                    keep.get(i - 1).copied().unwrap_or(false)
                });
            }
            Ok(json_response(200, &list, &[]))
        }
        Route::SecurityGroups => {
            let q = format!("/security-groups?project_id={}", s.project.id);
            let v = get_json(&s, "neutron", &network(&s)?, &q).await?;
            Ok(json_response(200, &openstack::trim_security_groups(&v), &[]))
        }
        Route::Images => {
            let v = get_json(&s, "glance", &image(&s)?, "/images?limit=1000&sort=created_at:desc").await?;
            Ok(json_response(200, &openstack::trim_images(&v), &[]))
        }
        Route::Image(id) => {
            let v = get_json(&s, "glance", &image(&s)?, &format!("/images/{id}")).await?;
            Ok(json_response(200, &openstack::trim_image(&v), &[]))
        }
        Route::DeleteImage(id) => {
            let r = call(&s.token, "DELETE", &format!("{}/images/{id}", image(&s)?), None, &[])
                .await
                .map_err(|e| ApiError::unreachable("glance", e))?;
            if !(200..300).contains(&r.status) {
                return Err(ApiError::upstream("glance", r.status, &r.body, false));
            }
            Ok(json_response(200, &json!({"id": id, "deleted": true}), &[]))
        }
        Route::CreateImage => {
            let c: ImageCreate = read_json(req).await?;
            let body = c.glance_body().map_err(ApiError::bad_request)?;
            let r = call(&s.token, "POST", &format!("{}/images", image(&s)?), Some(&body), &[])
                .await
                .map_err(|e| ApiError::unreachable("glance", e))?;
            if r.status != 201 {
                return Err(ApiError::upstream("glance", r.status, &r.body, false));
            }
            let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            Ok(json_response(201, &json!({"id": v["id"], "status": v["status"]}), &[]))
        }
        Route::UploadImage(id) => upload(req, ctx, &cfg, &s, &id).await,
        Route::CreateServer => {
            let c: ServerCreate = read_json(req).await?;
            let body = c.nova_body().map_err(ApiError::bad_request)?;
            let r = call(
                &s.token,
                "POST",
                &format!("{}/servers", compute(&s)?),
                Some(&body),
                &[("OpenStack-API-Version", NOVA_MICROVERSION)],
            )
            .await
            .map_err(|e| ApiError::unreachable("nova", e))?;
            if r.status != 202 && r.status != 200 {
                return Err(ApiError::upstream("nova", r.status, &r.body, false));
            }
            let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            Ok(json_response(202, &json!({"id": v["server"]["id"]}), &[]))
        }
        Route::Server(id) => {
            let v = get_json(&s, "nova", &compute(&s)?, &format!("/servers/{id}")).await?;
            Ok(json_response(200, &openstack::trim_server(&v), &[]))
        }
        Route::Console(id) => console(&s, &id).await,
        Route::Login | Route::Logout | Route::Preflight => Err(ApiError::internal("unreachable route")),
    }
}

fn no_endpoint(s: &Session, kind: &str) -> ApiError {
    ApiError::new(
        503,
        "no_endpoint",
        format!("the catalog has no {kind} endpoint in region {}", s.region.as_deref().unwrap_or("(none)")),
    )
}

fn compute(s: &Session) -> ApiResult<String> {
    s.endpoints.compute.clone().ok_or_else(|| no_endpoint(s, "compute"))
}
fn network(s: &Session) -> ApiResult<String> {
    s.endpoints.network.as_deref().map(|n| versioned(n, "/v2.0")).ok_or_else(|| no_endpoint(s, "network"))
}
fn image(s: &Session) -> ApiResult<String> {
    s.endpoints.image.as_deref().map(|n| versioned(n, "/v2")).ok_or_else(|| no_endpoint(s, "image"))
}

// ------------------------------------------------------------------ upstream calls

struct Upstream {
    status: u16,
    headers: Headers,
    body: Vec<u8>,
}

fn global() -> WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn upstream_request(
    token: &str,
    method: &str,
    url: &str,
    body: Option<&JsValue>,
    extra: &[(&str, &str)],
) -> Result<web_sys::Request, String> {
    let h = Headers::new().map_err(js_err)?;
    h.set("Accept", "application/json").map_err(js_err)?;
    if !token.is_empty() {
        h.set("X-Auth-Token", token).map_err(js_err)?;
    }
    for (k, v) in extra {
        h.set(k, v).map_err(js_err)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    // no open proxy: never follow a redirect to wherever an upstream points
    init.set_redirect(RequestRedirect::Manual);
    if let Some(b) = body {
        init.set_body(b);
    }
    init.set_headers(&h);
    web_sys::Request::new_with_str_and_init(url, &init).map_err(js_err)
}

/// One OpenStack call with an optional JSON body; the response body read up to
/// [`MAX_UPSTREAM_BODY`]. `Err` only when the service cannot be reached.
async fn call(
    token: &str,
    method: &str,
    url: &str,
    body: Option<&Value>,
    extra: &[(&str, &str)],
) -> Result<Upstream, String> {
    let mut hdrs: Vec<(&str, &str)> = extra.to_vec();
    let text = body.map(|b| JsValue::from_str(&b.to_string()));
    if text.is_some() {
        hdrs.push(("Content-Type", "application/json"));
    }
    let req = upstream_request(token, method, url, text.as_ref(), &hdrs)?;
    let resp: web_sys::Response =
        JsFuture::from(global().fetch_with_request(&req)).await.map_err(js_err)?.unchecked_into();
    let body = match resp.body() {
        Some(stream) => read_capped(&stream, MAX_UPSTREAM_BODY).await?,
        None => Vec::new(),
    };
    Ok(Upstream { status: resp.status(), headers: resp.headers(), body })
}

async fn get_json(s: &Session, service: &str, base: &str, path: &str) -> ApiResult<Value> {
    let extra: &[(&str, &str)] = if service == "nova" { &[("OpenStack-API-Version", NOVA_MICROVERSION)] } else { &[] };
    let r = call(&s.token, "GET", &format!("{base}{path}"), None, extra)
        .await
        .map_err(|e| ApiError::unreachable(service, e))?;
    if r.status != 200 {
        return Err(ApiError::upstream(service, r.status, &r.body, false));
    }
    serde_json::from_slice(&r.body)
        .map_err(|e| ApiError::new(502, "upstream_error", format!("{service} sent a response that is not JSON: {e}")))
}

/// Reads a whole stream, refusing more than `cap` bytes.
async fn read_capped(stream: &ReadableStream, cap: usize) -> Result<Vec<u8>, String> {
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut out = Vec::new();
    loop {
        let r = JsFuture::from(reader.read()).await.map_err(js_err)?;
        if Reflect::get(&r, &"done".into()).map(|d| d.is_truthy()).unwrap_or(true) {
            break;
        }
        let chunk: Uint8Array = Reflect::get(&r, &"value".into()).map_err(js_err)?.unchecked_into();
        if out.len() + chunk.length() as usize > cap {
            let _ = reader.cancel();
            return Err(format!("body larger than {cap} bytes"));
        }
        let start = out.len();
        out.resize(start + chunk.length() as usize, 0);
        chunk.copy_to(&mut out[start..]);
    }
    Ok(out)
}

/// A JSON request body, at most [`MAX_JSON_BODY`] bytes. Parse errors name the problem but
/// never echo values (a login body holds a password).
async fn read_json<T: serde::de::DeserializeOwned>(req: &worker::Request) -> ApiResult<T> {
    if let Some(len) = req.headers().get("Content-Length").ok().flatten().and_then(|l| l.parse::<u64>().ok()) {
        if len > MAX_JSON_BODY as u64 {
            return Err(ApiError::new(
                413,
                "too_large",
                format!("request bodies are limited to {MAX_JSON_BODY} bytes"),
            ));
        }
    }
    let body = match req.inner().body() {
        Some(s) => read_capped(&s, MAX_JSON_BODY).await.map_err(|_| {
            ApiError::new(413, "too_large", format!("request bodies are limited to {MAX_JSON_BODY} bytes"))
        })?,
        None => Vec::new(),
    };
    serde_json::from_slice(&body).map_err(|e| {
        let msg = e.to_string();
        let what = match e.classify() {
            serde_json::error::Category::Data => {
                msg.split(" at line").next().unwrap_or("").split(": ").next().unwrap_or("").to_string()
                    + ": "
                    + msg.rsplit(", expected").next().unwrap_or("")
            }
            _ => "the body is not valid JSON".into(),
        };
        ApiError::bad_request(what)
    })
}

// ------------------------------------------------------------------ Keystone

fn keystone_url(auth_url: &str) -> String {
    if auth_url.ends_with("/v3") {
        auth_url.to_string()
    } else {
        format!("{auth_url}/v3")
    }
}

async fn login(req: &worker::Request, env: &Env, cfg: &Config, sealer: &Sealer) -> ApiResult<web_sys::Response> {
    let now = now_secs();
    let on_cloudflare = on_cloudflare(req);
    let client = api::client_key(cfg, on_cloudflare, &|n| req.headers().get(n).ok().flatten());
    LOGIN_CLIENTS
        .with(|l| {
            let mut l = l.borrow_mut();
            l.configure(cfg.login_max_attempts, cfg.login_window_seconds);
            l.attempt(&client, now)
        })
        .map_err(ApiError::too_many)?;
    if let Ok(rl) = env.rate_limiter("LOGIN_RATE_LIMITER") {
        if let Ok(o) = rl.limit(client.clone()).await {
            if !o.success {
                return Err(ApiError::too_many(cfg.login_window_seconds.min(60)));
            }
        }
    }
    let body: LoginRequest = read_json(req).await.map_err(|e| {
        if e.status == 400 {
            ApiError::bad_request(format!("malformed login request ({}); expected username, password, project or application_credential_id, application_credential_secret", e.detail))
        } else {
            e
        }
    })?;
    let auth_url = cfg.resolve_auth_url(body.auth_url.as_deref()).map_err(ApiError::bad_request)?;
    let principal = body.principal(&auth_url);
    LOGIN_FAILURES
        .with(|l| {
            let mut l = l.borrow_mut();
            l.configure(cfg.login_max_attempts, cfg.login_window_seconds);
            l.check(&principal, now)
        })
        .map_err(ApiError::too_many)?;
    let auth = body.auth_body().map_err(ApiError::bad_request)?;
    let r = call("", "POST", &format!("{}/auth/tokens", keystone_url(&auth_url)), Some(&auth), &[])
        .await
        .map_err(|e| ApiError::unreachable("keystone", e))?;
    if r.status != 201 {
        if r.status == 401 {
            LOGIN_FAILURES.with(|l| l.borrow_mut().hit(&principal, now));
        }
        return Err(ApiError::upstream("keystone", r.status, &r.body, true));
    }
    let token = r
        .headers
        .get("X-Subject-Token")
        .ok()
        .flatten()
        .ok_or_else(|| ApiError::new(502, "upstream_error", "Keystone sent no X-Subject-Token"))?;
    let region = body.region.as_deref().filter(|r| !r.is_empty()).or(cfg.region.as_deref());
    let s = match keystone::session_from_token(token.clone(), &r.body, &auth_url, cfg.interface, region) {
        Ok(s) => s,
        Err(e) => {
            // a token we cannot use is given back at once
            let url = format!("{}/auth/tokens", keystone_url(&auth_url));
            let _ = call(&token, "DELETE", &url, None, &[("X-Subject-Token", &token)]).await;
            return Err(ApiError::bad_request(e));
        }
    };
    let sealed = s.seal(sealer).map_err(ApiError::internal)?;
    let cookie = session::set_cookie(&sealed, s.remaining(now));
    let summary = serde_json::to_value(s.summary()).unwrap_or(Value::Null);
    Ok(json_response(200, &summary, &[("Set-Cookie", cookie)]))
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

async fn revoke(s: &Session) {
    let url = format!("{}/auth/tokens", keystone_url(&s.auth_url));
    let _ = call(&s.token, "DELETE", &url, None, &[("X-Subject-Token", &s.token)]).await;
}

async fn session_info(s: &Session) -> ApiResult<web_sys::Response> {
    let url = format!("{}/auth/tokens?nocatalog", keystone_url(&s.auth_url));
    let r = call(&s.token, "GET", &url, None, &[("X-Subject-Token", &s.token)])
        .await
        .map_err(|e| ApiError::unreachable("keystone", e))?;
    match r.status {
        200 => Ok(json_response(200, &serde_json::to_value(s.summary()).unwrap_or(Value::Null), &[])),
        401 | 404 => Err(ApiError::new(401, "session_expired", "the OpenStack token is no longer valid; log in again")),
        st => Err(ApiError::upstream("keystone", st, &r.body, false)),
    }
}

// ------------------------------------------------------------------ Nova console

async fn console(s: &Session, id: &str) -> ApiResult<web_sys::Response> {
    let url = format!("{}/servers/{id}/remote-consoles", compute(s)?);
    let mut reasons = Vec::new();
    let mut last_status = 0;
    for (protocol, kind) in openstack::CONSOLES {
        let body = json!({"remote_console": {"protocol": protocol, "type": kind}});
        let r = call(&s.token, "POST", &url, Some(&body), &[("OpenStack-API-Version", NOVA_MICROVERSION)])
            .await
            .map_err(|e| ApiError::unreachable("nova", e))?;
        if r.status == 200 {
            let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            let c = &v["remote_console"];
            return Ok(json_response(
                200,
                &json!({"url": c["url"], "protocol": c["protocol"], "type": c["type"]}),
                &[],
            ));
        }
        if matches!(r.status, 401 | 404) {
            return Err(ApiError::upstream("nova", r.status, &r.body, false));
        }
        last_status = r.status;
        reasons.push(format!(
            "{kind}: {}",
            openstack::upstream_message(&r.body).unwrap_or_else(|| format!("HTTP {}", r.status))
        ));
    }
    let reason = format!("this cloud offers no console for the server ({})", reasons.join("; "));
    Ok(json_response(200, &json!({"url": null, "reason": reason, "upstream_status": last_status}), &[]))
}

// ------------------------------------------------------------------ upload

/// Deletes a failed upload's image (a few tries: it runs after errors, when connections may
/// be going away). True when the image is gone.
async fn delete_image(token: &str, glance: &str, id: &str) -> bool {
    for attempt in 1..=3 {
        match call(token, "DELETE", &format!("{glance}/images/{id}"), None, &[]).await {
            Ok(r) if (200..300).contains(&r.status) || r.status == 404 => return true,
            Ok(r) => console_log!("image {}: delete attempt {} answered HTTP {}", id, attempt, r.status),
            Err(e) => console_log!("image {}: delete attempt {} failed: {}", id, attempt, e),
        }
    }
    false
}

/// Length of a streamed upload whose body has no `Content-Length` (browsers cannot set it on a
/// streamed request body).
const UPLOAD_LENGTH_HEADER: &str = "X-Upload-Length";

/// `PUT /api/images/{id}/file`: checks the image is queued, reads the first bytes, runs the
/// upload check, then streams the request body into Glance through a `FixedLengthStream` (so
/// Glance gets a `Content-Length`) without it passing through Rust. The streaming and the
/// clean-up run under `waitUntil`, so a client that disconnects still gets its image deleted.
async fn upload(
    req: &worker::Request,
    ctx: &Context,
    cfg: &Config,
    s: &Session,
    id: &str,
) -> ApiResult<web_sys::Response> {
    let glance = image(s)?;
    let meta = get_json(s, "glance", &glance, &format!("/images/{id}")).await?;
    let status = meta["status"].as_str().unwrap_or("");
    if status != "queued" {
        return Err(ApiError::new(
            409,
            "conflict",
            format!("image {id} is {status}; only a new (queued) image takes data"),
        ));
    }
    let disk_format = meta["disk_format"].as_str().unwrap_or("").to_string();
    // from here on, a refused upload deletes the (empty) image: no orphans
    // A browser streaming the body (fetch with a ReadableStream, HTTP/2) cannot set
    // Content-Length (a forbidden header): it declares the length in X-Upload-Length instead.
    // Either way the FixedLengthStream below holds the body to exactly that many bytes.
    let declared = |name: &str| req.headers().get(name).ok().flatten().and_then(|l| l.trim().parse::<u64>().ok());
    let len = match declared("Content-Length").or_else(|| declared(UPLOAD_LENGTH_HEADER)) {
        None => Err(ApiError::new(
            411,
            "length_required",
            "send the image with a Content-Length (or, for a streamed body, X-Upload-Length)",
        )),
        Some(0) => Err(ApiError::bad_request("the upload is empty")),
        Some(n) if n > cfg.upload_max_bytes => Err(ApiError::new(
            413,
            "too_large",
            format!("uploads are limited to {} bytes (UPLOAD_MAX_BYTES); this one is {n}", cfg.upload_max_bytes),
        )),
        Some(n) => Ok(n),
    };
    let len = match len {
        Ok(n) => n,
        Err(mut e) => {
            e.image_deleted = Some(delete_image(&s.token, &glance, id).await);
            return Err(e);
        }
    };
    let body = req.inner().body().ok_or_else(|| ApiError::bad_request("the upload has no body"))?;

    // the first bytes, for the check; kept as they came to be written upstream first
    let need = usize::try_from(len.min(probe::PROBE_LEN as u64)).unwrap_or(probe::PROBE_LEN);
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut head = Vec::with_capacity(need);
    let mut chunks: Vec<Uint8Array> = Vec::new();
    while head.len() < need {
        let r = JsFuture::from(reader.read())
            .await
            .map_err(|e| ApiError::bad_request(format!("reading the upload failed: {}", js_err(e))))?;
        if Reflect::get(&r, &"done".into()).map(|d| d.is_truthy()).unwrap_or(true) {
            break;
        }
        let chunk: Uint8Array = Reflect::get(&r, &"value".into()).map_err(internal)?.unchecked_into();
        let take = (need - head.len()).min(chunk.length() as usize);
        let start = head.len();
        head.resize(start + take, 0);
        chunk.subarray(0, take as u32).copy_to(&mut head[start..]);
        chunks.push(chunk);
    }
    if let Err(e) = probe::check_upload(&format!("image {id}"), &disk_format, &head, len) {
        let _ = reader.cancel();
        let deleted = delete_image(&s.token, &glance, id).await;
        console_log!("upload {}: refused before Glance ({}), image deleted: {}", id, e.message, deleted);
        let mut err = ApiError::new(415, "unsupported_media_type", e.to_string());
        err.image_deleted = Some(deleted);
        return Err(err);
    }
    reader.release_lock();

    let fixed = if len < u64::from(u32::MAX) {
        worker::worker_sys::FixedLengthStream::new(len as u32)
    } else {
        worker::worker_sys::FixedLengthStream::new_big_int(js_sys::BigInt::from(len))
    }
    .map_err(internal)?;
    let writable: WritableStream = fixed.writable();
    let readable: ReadableStream = fixed.readable();
    let upstream = upstream_request(
        &s.token,
        "PUT",
        &format!("{glance}/images/{id}/file"),
        Some(&readable),
        &[("Content-Type", "application/octet-stream")],
    )
    .map_err(ApiError::internal)?;
    let fetch_promise: Promise = global().fetch_with_request(&upstream);

    let (tx, rx) = oneshot::channel::<ApiResult<Value>>();
    let (token, glance2, id2) = (s.token.clone(), glance.clone(), id.to_string());
    ctx.wait_until(async move {
        let out = stream_upload(fetch_promise, writable, chunks, body, &token, &glance2, &id2, len).await;
        if let Err(e) = &out {
            console_log!("upload {}: failed ({}: {}), image deleted: {:?}", id2, e.error, e.detail, e.image_deleted);
        }
        let _ = tx.send(out);
    });
    match rx.await {
        Ok(Ok(v)) => Ok(json_response(200, &v, &[])),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ApiError::internal("the upload task ended without a result")),
    }
}

#[allow(clippy::too_many_arguments)]
async fn stream_upload(
    fetch_promise: Promise,
    writable: WritableStream,
    chunks: Vec<Uint8Array>,
    body: ReadableStream,
    token: &str,
    glance: &str,
    id: &str,
    len: u64,
) -> ApiResult<Value> {
    let abort = AbortController::new().map_err(internal)?;
    let fetch_side = async {
        let r = JsFuture::from(fetch_promise).await;
        let ok = matches!(&r, Ok(v) if v.unchecked_ref::<web_sys::Response>().ok());
        if !ok {
            // Glance gave up: stop pumping the client's bytes
            abort.abort();
        }
        r
    };
    let pump_side = async {
        let writer = writable.get_writer().map_err(js_err)?;
        for c in &chunks {
            JsFuture::from(writer.write_with_chunk(c)).await.map_err(js_err)?;
        }
        writer.release_lock();
        let opts = StreamPipeOptions::new();
        opts.set_signal(&abort.signal());
        JsFuture::from(body.pipe_to_with_options(&writable, &opts)).await.map_err(js_err)?;
        Ok::<(), String>(())
    };
    let (fetched, pumped) = futures::join!(fetch_side, pump_side);

    let failure = match (fetched, pumped) {
        (Ok(resp), Ok(())) => {
            let resp: web_sys::Response = resp.unchecked_into();
            if resp.ok() {
                None
            } else {
                let body = match resp.body() {
                    Some(b) => read_capped(&b, MAX_UPSTREAM_BODY).await.unwrap_or_default(),
                    None => Vec::new(),
                };
                Some(ApiError::upstream("glance", resp.status(), &body, false))
            }
        }
        (Ok(resp), Err(_)) => {
            let resp: web_sys::Response = resp.unchecked_into();
            let body = match resp.body() {
                Some(b) => read_capped(&b, MAX_UPSTREAM_BODY).await.unwrap_or_default(),
                None => Vec::new(),
            };
            Some(if resp.ok() {
                ApiError::new(400, "upload_aborted", "the upload ended before its Content-Length")
            } else {
                ApiError::upstream("glance", resp.status(), &body, false)
            })
        }
        (Err(_), Err(pump_err)) => {
            Some(ApiError::new(400, "upload_aborted", format!("the upload stream failed: {pump_err}")))
        }
        (Err(fetch_err), Ok(())) => Some(ApiError::unreachable("glance", js_err(fetch_err))),
    };
    if let Some(mut e) = failure {
        e.image_deleted = Some(delete_image(token, glance, id).await);
        return Err(e);
    }
    let r = call(token, "GET", &format!("{glance}/images/{id}"), None, &[])
        .await
        .map_err(|e| ApiError::unreachable("glance", e))?;
    if r.status != 200 {
        return Err(ApiError::upstream("glance", r.status, &r.body, false));
    }
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    if v["size"].as_u64().is_some_and(|s| s != len) {
        let mut e = ApiError::new(502, "upstream_error", format!("Glance stored {} bytes of {len}", v["size"]));
        e.image_deleted = Some(delete_image(token, glance, id).await);
        return Err(e);
    }
    Ok(
        json!({"id": v["id"], "status": v["status"], "size": v["size"], "os_hash_algo": v["os_hash_algo"], "os_hash_value": v["os_hash_value"]}),
    )
}

// ------------------------------------------------------------------ the page

/// Files of `web/dist/` through the `ASSETS` binding (Cloudflare's static assets, or a workerd
/// disk service). `/` and extension-less paths fall back to `/index.html`.
async fn serve_static(req: &worker::Request, env: &Env, method: &str, path: &str) -> ApiResult<web_sys::Response> {
    if method != "GET" && method != "HEAD" {
        return Ok(page_headers(response(
            405,
            Some("method not allowed\n"),
            &[("Allow", "GET, HEAD".into()), ("Content-Type", "text/plain".into())],
        )));
    }
    let Ok(assets) = env.assets("ASSETS") else {
        return Ok(not_built());
    };
    if path.split('/').any(|seg| seg == ".." || seg.starts_with('.')) && path != "/" {
        return Ok(page_headers(response(404, Some("not found\n"), &[("Content-Type", "text/plain".into())])));
    }
    let file = if path.ends_with('/') { format!("{path}index.html") } else { path.to_string() };
    let mut resp = fetch_asset(&assets, req, method, &file).await?;
    let last = file.rsplit('/').next().unwrap_or("");
    if resp.status() == 404 && !last.contains('.') {
        resp = fetch_asset(&assets, req, method, "/index.html").await?;
        if resp.status() == 404 {
            return Ok(not_built());
        }
    } else if resp.status() == 404 && file == "/index.html" {
        return Ok(not_built());
    }
    let headers = Headers::new_with_headers(&resp.headers()).map_err(internal)?;
    let ct = headers.get("Content-Type").ok().flatten().unwrap_or_default();
    if ct.is_empty() || ct.starts_with("application/octet-stream") {
        let _ = headers.set("Content-Type", api::content_type_for(&file));
    }
    let init = ResponseInit::new();
    init.set_status(resp.status());
    init.set_headers(&headers);
    Ok(page_headers(
        web_sys::Response::new_with_opt_readable_stream_and_init(resp.body().as_ref(), &init).map_err(internal)?,
    ))
}

/// Headers on everything the page gets: no MIME sniffing, no referrer to the cloud's
/// console links, no framing.
fn page_headers(resp: web_sys::Response) -> web_sys::Response {
    let h = resp.headers();
    let _ = h.set("X-Content-Type-Options", "nosniff");
    let _ = h.set("Referrer-Policy", "no-referrer");
    let _ = h.set("X-Frame-Options", "DENY");
    resp
}

async fn fetch_asset(
    assets: &worker::Fetcher,
    req: &worker::Request,
    method: &str,
    file: &str,
) -> ApiResult<web_sys::Response> {
    let mut url = req.url().map_err(|e| ApiError::internal(e.to_string()))?;
    url.set_path(file);
    url.set_query(None);
    let h = worker::Headers::new();
    for name in ["If-None-Match", "If-Modified-Since", "Accept-Encoding"] {
        if let Ok(Some(v)) = req.headers().get(name) {
            let _ = h.set(name, &v);
        }
    }
    let mut init = worker::RequestInit::new();
    init.with_method(if method == "HEAD" { worker::Method::Head } else { worker::Method::Get }).with_headers(h);
    let r = assets.fetch(url.to_string(), Some(init)).await.map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(r.into())
}

fn not_built() -> web_sys::Response {
    page_headers(response(
        404,
        Some("<!doctype html><title>stackferry</title><p>The stackferry page is not built yet (web/dist/ is empty). The API is under /api.</p>\n"),
        &[("Content-Type", "text/html; charset=utf-8".into())],
    ))
}
