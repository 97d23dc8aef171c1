//! The HTTP API's shape, independent of the runtime: routes, the JSON error body
//! `{error, detail, upstream_status?}` and its headers, the request policy every `/api` call
//! passes (CSRF header, origin, CORS, body limits) and the headers every `/api` answer carries.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::Config;
use crate::keystone::LoginRequest;
use crate::session;

/// Header every state-changing API call must carry (`X-Stackferry: 1`). A cross-origin page
/// cannot add it without a CORS preflight, which the worker refuses unless the origin is
/// configured.
pub const CSRF_HEADER: &str = "X-Stackferry";
/// The upload's length when the browser cannot send `Content-Length` (a streamed body).
pub const UPLOAD_LENGTH_HEADER: &str = "X-Upload-Length";
/// The sealed token of a staged upload (`POST /api/images/{id}/staged` hands it out).
pub const TOKEN_HEADER: &str = "X-Upload-Token";
/// Largest JSON request body (login, image and server creation): 64 KiB.
pub const MAX_JSON_BODY: usize = 64 * 1024;
/// Largest upstream response read into memory (listings, token with catalog): 8 MiB.
pub const MAX_UPSTREAM_BODY: usize = 8 << 20;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Login,
    Logout,
    Session,
    Flavors,
    Networks,
    Keypairs,
    SecurityGroups,
    Images,
    CreateImage,
    Image(String),
    DeleteImage(String),
    UploadImage(String),
    CreateServer,
    Server(String),
    /// A server deleted: the page's clean-up of a launch that ended in ERROR.
    DeleteServer(String),
    Console(String),
    /// Cinder: volume types, volumes made from images (create, state, delete).
    VolumeTypes,
    CreateVolume,
    Volume(String),
    DeleteVolume(String),
    /// The project's quotas (Nova, Cinder, Glance) and Glance's stores.
    Limits,
    Stores,
    /// Staged uploads (the `staged` module): start, a part (1-based), complete, state, cancel.
    StagedStart(String),
    StagedPart(String, u32),
    StagedComplete(String),
    StagedState(String),
    StagedDelete(String),
    /// The staged object, for Glance's `web-download`: signed URL, no session.
    StagedObject(String, String),
    /// CORS preflight for any `/api` path.
    Preflight,
}

/// Why a request matched no route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoRoute {
    /// Not under `/api`: the page's static files.
    Static,
    NotFound,
    /// The path exists with other methods (listed for `Allow`).
    Method(&'static str),
}

impl NoRoute {
    /// The answer to an `/api` path no route takes: 404, or 405 naming the methods it takes.
    pub fn error(&self, path: &str) -> ApiError {
        match self {
            NoRoute::Method(allowed) => ApiError::method_not_allowed(allowed),
            NoRoute::Static | NoRoute::NotFound => ApiError::not_found(format!("no API route {path}")),
        }
    }
}

/// Whether `path` is the API's (`/api` and below); everything else is the page.
pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Matches `method` and `path` (no query) to a route.
pub fn route(method: &str, path: &str) -> Result<Route, NoRoute> {
    if !is_api_path(path) {
        return Err(NoRoute::Static);
    }
    let rest = &path["/api".len()..];
    if method == "OPTIONS" {
        return Ok(Route::Preflight);
    }
    let parts: Vec<&str> = rest.trim_start_matches('/').trim_end_matches('/').split('/').collect();
    let id = |s: &str| crate::openstack::valid_id(s).then(|| s.to_string());
    use Route::*;
    let (allowed, r): (&'static str, Option<Route>) = match parts.as_slice() {
        ["login"] => ("POST", (method == "POST").then_some(Login)),
        ["logout"] => ("POST", (method == "POST").then_some(Logout)),
        ["session"] => ("GET", (method == "GET").then_some(Session)),
        ["flavors"] => ("GET", (method == "GET").then_some(Flavors)),
        ["networks"] => ("GET", (method == "GET").then_some(Networks)),
        ["keypairs"] => ("GET", (method == "GET").then_some(Keypairs)),
        ["security-groups"] => ("GET", (method == "GET").then_some(SecurityGroups)),
        ["volume-types"] => ("GET", (method == "GET").then_some(VolumeTypes)),
        ["limits"] => ("GET", (method == "GET").then_some(Limits)),
        ["stores"] => ("GET", (method == "GET").then_some(Stores)),
        ["volumes"] => ("POST", (method == "POST").then_some(CreateVolume)),
        ["volumes", i] => {
            let Some(i) = id(i) else { return Err(NoRoute::NotFound) };
            (
                "GET, DELETE",
                match method {
                    "GET" => Some(Volume(i)),
                    "DELETE" => Some(DeleteVolume(i)),
                    _ => None,
                },
            )
        }
        ["images"] => (
            "GET, POST",
            match method {
                "GET" => Some(Images),
                "POST" => Some(CreateImage),
                _ => None,
            },
        ),
        ["images", i] => {
            let Some(i) = id(i) else { return Err(NoRoute::NotFound) };
            (
                "GET, DELETE",
                match method {
                    "GET" => Some(Image(i)),
                    "DELETE" => Some(DeleteImage(i)),
                    _ => None,
                },
            )
        }
        ["images", i, "file"] => {
            let Some(i) = id(i) else { return Err(NoRoute::NotFound) };
            ("PUT", (method == "PUT").then_some(UploadImage(i)))
        }
        ["images", i, "staged"] => {
            let Some(i) = id(i) else { return Err(NoRoute::NotFound) };
            (
                "GET, POST, DELETE",
                match method {
                    "GET" => Some(StagedState(i)),
                    "POST" => Some(StagedStart(i)),
                    "DELETE" => Some(StagedDelete(i)),
                    _ => None,
                },
            )
        }
        ["images", i, "staged", "complete"] => {
            let Some(i) = id(i) else { return Err(NoRoute::NotFound) };
            ("POST", (method == "POST").then_some(StagedComplete(i)))
        }
        ["images", i, "staged", n] => {
            let Some(i) = id(i) else { return Err(NoRoute::NotFound) };
            let Some(n) = n.parse::<u32>().ok().filter(|_| n.bytes().all(|c| c.is_ascii_digit())) else {
                return Err(NoRoute::NotFound);
            };
            ("PUT", (method == "PUT").then_some(StagedPart(i, n)))
        }
        ["staged", i, o] => {
            // The object name is checked by its handler (`staged::valid_object`): this module
            // sits below `staged` and must not call it.
            let Some(i) = id(i) else { return Err(NoRoute::NotFound) };
            ("GET", (method == "GET").then(|| StagedObject(i, o.to_string())))
        }
        ["servers"] => ("POST", (method == "POST").then_some(CreateServer)),
        ["servers", i] => {
            let Some(i) = id(i) else { return Err(NoRoute::NotFound) };
            (
                "GET, DELETE",
                match method {
                    "GET" => Some(Server(i)),
                    "DELETE" => Some(DeleteServer(i)),
                    _ => None,
                },
            )
        }
        ["servers", i, "console"] => {
            let Some(i) = id(i) else { return Err(NoRoute::NotFound) };
            ("GET", (method == "GET").then_some(Console(i)))
        }
        _ => return Err(NoRoute::NotFound),
    };
    r.ok_or(NoRoute::Method(allowed))
}

impl Route {
    /// Whether the route needs a session cookie (everything but login and preflight).
    pub fn needs_session(&self) -> bool {
        !matches!(self, Route::Login | Route::Preflight | Route::StagedObject(..))
    }
}

/// True for methods that change state: they need the CSRF header.
pub fn is_state_changing(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The JSON error every failing API call returns.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    /// Short machine-readable code (`unauthorized`, `upstream_error`, ...).
    pub error: String,
    /// Human-readable reason; OpenStack's own message when it comes from upstream.
    pub detail: String,
    /// The HTTP status OpenStack answered with, when the error comes from upstream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<u16>,
    /// Seconds to wait (429).
    #[serde(skip)]
    pub retry_after: Option<u64>,
    /// Whether an image was deleted because of this failure (uploads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_deleted: Option<bool>,
    /// The methods the path takes (405).
    #[serde(skip)]
    pub allow: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: u16, error: &str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            detail: detail.into(),
            upstream_status: None,
            retry_after: None,
            image_deleted: None,
            allow: None,
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        Self::new(400, "bad_request", detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        Self::new(401, "unauthorized", detail)
    }
    pub fn forbidden(error: &str, detail: impl Into<String>) -> ApiError {
        Self::new(403, error, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        Self::new(404, "not_found", detail)
    }
    pub fn method_not_allowed(allowed: &'static str) -> ApiError {
        let mut e = Self::new(405, "method_not_allowed", format!("allowed: {allowed}"));
        e.allow = Some(allowed);
        e
    }
    pub fn internal(detail: impl Into<String>) -> ApiError {
        Self::new(500, "internal_error", detail)
    }
    pub fn misconfigured(detail: impl Into<String>) -> ApiError {
        Self::new(500, "misconfigured", detail)
    }
    pub fn too_many(retry_after: u64) -> ApiError {
        let mut e =
            Self::new(429, "too_many_attempts", format!("too many login attempts; try again in {retry_after} s"));
        e.retry_after = Some(retry_after);
        e
    }

    /// An OpenStack error response, passed on: 4xx keep their status (401 becomes
    /// `session_expired` unless it is the login itself), 5xx become 502. `detail` is
    /// OpenStack's own message.
    pub fn upstream(service: &str, status: u16, body: &[u8], during_login: bool) -> ApiError {
        let msg =
            crate::openstack::upstream_message(body).unwrap_or_else(|| format!("{service} answered HTTP {status}"));
        let (code, err) = match status {
            401 if during_login => (401, "unauthorized"),
            401 => (401, "session_expired"),
            403 => (403, "forbidden"),
            404 => (404, "not_found"),
            409 => (409, "conflict"),
            413 => (413, "too_large"),
            415 => (415, "unsupported_media_type"),
            400..=499 => (status, "bad_request"),
            _ => (502, "upstream_error"),
        };
        let mut e = Self::new(code, err, msg);
        e.upstream_status = Some(status);
        e
    }

    /// A failed connection to an OpenStack service.
    pub fn unreachable(service: &str, err: impl std::fmt::Display) -> ApiError {
        Self::new(502, "upstream_unreachable", format!("{service} could not be reached: {err}"))
    }

    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"error":"internal_error","detail":""}"#.into())
    }

    /// The headers of the error's answer: JSON, `Retry-After` (429), `Allow` (405), and the
    /// session cookie cleared when the error says the session is gone.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![("Content-Type", "application/json".to_string())];
        if let Some(s) = self.retry_after {
            h.push(("Retry-After", s.to_string()));
        }
        if matches!(self.error.as_str(), "session_expired" | "no_session") {
            h.push(("Set-Cookie", session::clear_cookie()));
        }
        if let Some(allowed) = self.allow {
            h.push(("Allow", allowed.to_string()));
        }
        h
    }
}

/// A JSON request body over `cap` ([`MAX_JSON_BODY`] but for a staged upload's completion): 413.
pub fn body_too_large(cap: usize) -> ApiError {
    ApiError::new(413, "too_large", format!("request bodies are limited to {cap} bytes"))
}

/// A JSON body's declared `Content-Length`, refused before reading when over `cap` (a body
/// without one is capped while it is read).
pub fn check_json_length(content_length: Option<&str>, cap: usize) -> Result<(), ApiError> {
    match content_length.and_then(|l| l.parse::<u64>().ok()) {
        Some(len) if len > cap as u64 => Err(body_too_large(cap)),
        _ => Ok(()),
    }
}

/// A JSON request body: 400 naming the problem (the field and what was expected), never
/// echoing a value (a login body holds a password).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
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

/// The `POST /api/login` body; a malformed one is answered with what a login takes.
pub fn parse_login(body: &[u8]) -> Result<LoginRequest, ApiError> {
    parse_json(body).map_err(|e| {
        ApiError::bad_request(format!("malformed login request ({}); expected username, password, project or application_credential_id, application_credential_secret", e.detail))
    })
}

/// The origin (`scheme://host[:port]`, lower case) of a URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

/// The request's own host: `Origin` counts as same-origin when its host matches, whatever the
/// scheme (a TLS-terminating proxy in front of workerd makes the worker see http).
fn host_of(origin: &str) -> &str {
    origin.split_once("://").map(|(_, h)| h).unwrap_or(origin)
}

/// Headers relevant to the policy, as sent.
#[derive(Default, Debug)]
pub struct Incoming<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub origin: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
    pub csrf: Option<&'a str>,
    pub content_type: Option<&'a str>,
}

/// Whether `origin` may call the API: same host as the request, or configured.
pub fn origin_allowed(cfg: &Config, req_url: &str, origin: &str) -> bool {
    let o = origin.trim().to_ascii_lowercase();
    if cfg.allowed_origins.iter().any(|a| a == &o) {
        return true;
    }
    match origin_of(req_url) {
        Some(own) => host_of(&own) == host_of(&o),
        None => false,
    }
}

/// Access-Control-* headers for an allowed cross-origin caller (none for same origin or a
/// refused origin).
pub fn cors_headers(cfg: &Config, origin: Option<&str>, preflight: bool) -> Vec<(&'static str, String)> {
    let Some(o) = origin.map(|o| o.trim().to_ascii_lowercase()) else { return vec![] };
    if !cfg.allowed_origins.iter().any(|a| a == &o) {
        return vec![];
    }
    let mut h = vec![
        ("Access-Control-Allow-Origin", o),
        ("Access-Control-Allow-Credentials", "true".into()),
        ("Vary", "Origin".into()),
    ];
    if preflight {
        h.push(("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE".into()));
        h.push((
            "Access-Control-Allow-Headers",
            format!("Content-Type, {CSRF_HEADER}, {}, {}", UPLOAD_LENGTH_HEADER, TOKEN_HEADER),
        ));
        h.push(("Access-Control-Max-Age", "600".into()));
    }
    h
}

/// Headers on every `/api` answer: never cached, never sniffed, and CORS for a configured
/// origin (`cfg`: `None` when the settings do not parse). None on the page's paths.
pub fn response_headers(
    cfg: Option<&Config>,
    path: &str,
    method: &str,
    origin: Option<&str>,
) -> Vec<(&'static str, String)> {
    if !is_api_path(path) {
        return vec![];
    }
    let mut h = vec![("Cache-Control", "no-store".to_string()), ("X-Content-Type-Options", "nosniff".to_string())];
    if let Some(cfg) = cfg {
        h.extend(cors_headers(cfg, origin, method == "OPTIONS"));
    }
    h
}

/// The checks before any `/api` handler runs: a foreign `Origin` or cross-site fetch is
/// refused unless configured, and state changes need the CSRF header and (for JSON bodies)
/// `Content-Type: application/json`.
pub fn check_request(cfg: &Config, r: &Incoming<'_>, route: &Route) -> Result<(), ApiError> {
    if let Some(o) = r.origin.filter(|o| *o != "null") {
        if !origin_allowed(cfg, r.url, o) {
            return Err(ApiError::forbidden(
                "origin_not_allowed",
                format!("origin {o} may not call this API (ALLOWED_ORIGINS)"),
            ));
        }
    } else if r.origin == Some("null") {
        return Err(ApiError::forbidden("origin_not_allowed", "opaque origin"));
    } else if r.sec_fetch_site == Some("cross-site") {
        return Err(ApiError::forbidden("origin_not_allowed", "cross-site request"));
    }
    if *route == Route::Preflight {
        return match r.origin {
            Some(o) if cfg.allowed_origins.iter().any(|a| a.eq_ignore_ascii_case(o.trim())) => Ok(()),
            _ => Err(ApiError::forbidden("cors_closed", "cross-origin calls are not enabled (ALLOWED_ORIGINS)")),
        };
    }
    if is_state_changing(r.method) && r.csrf.map(str::trim) != Some("1") {
        return Err(ApiError::forbidden("csrf", format!("state-changing calls need the header {CSRF_HEADER}: 1")));
    }
    if matches!(
        route,
        Route::Login
            | Route::CreateImage
            | Route::CreateServer
            | Route::CreateVolume
            | Route::StagedStart(_)
            | Route::StagedComplete(_)
    ) {
        let ct = r.content_type.unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if ct != "application/json" {
            return Err(ApiError::new(415, "unsupported_media_type", "send the body as application/json"));
        }
    }
    Ok(())
}

/// The client address the login limit counts ([`crate::ratelimit::client_address`]: IPv6 by
/// its /64). On Cloudflare (`on_cloudflare`), `CF-Connecting-IP`, which the edge sets and a
/// client cannot forge; elsewhere the header named by `CLIENT_IP_HEADER` (last entry of a
/// list: the one the trusted proxy appended). `None` without either, or when the value is not
/// an address: the client is unknown, and only the principal is counted.
pub fn client_address(cfg: &Config, on_cloudflare: bool, header: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let v = if on_cloudflare {
        header("CF-Connecting-IP")
    } else {
        cfg.client_ip_header
            .as_deref()
            .and_then(header)
            .and_then(|v| v.rsplit(',').next().map(|s| s.trim().to_string()))
    };
    v.as_deref().and_then(crate::ratelimit::client_address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Config {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(&|k| m.get(k).cloned()).unwrap()
    }

    #[test]
    fn routes() {
        assert_eq!(route("POST", "/api/login"), Ok(Route::Login));
        assert_eq!(route("GET", "/api/login"), Err(NoRoute::Method("POST")));
        assert_eq!(route("GET", "/api/security-groups"), Ok(Route::SecurityGroups));
        assert_eq!(route("PUT", "/api/images/abc-1/file"), Ok(Route::UploadImage("abc-1".into())));
        assert_eq!(route("PUT", "/api/images/..%2f/file"), Err(NoRoute::NotFound));
        assert_eq!(route("DELETE", "/api/images/abc"), Ok(Route::DeleteImage("abc".into())));
        assert_eq!(route("GET", "/api/servers/s1/console"), Ok(Route::Console("s1".into())));
        assert_eq!(route("OPTIONS", "/api/anything"), Ok(Route::Preflight));
        assert_eq!(route("GET", "/api/nope"), Err(NoRoute::NotFound));
        assert_eq!(route("GET", "/"), Err(NoRoute::Static));
        assert_eq!(route("GET", "/apidocs.html"), Err(NoRoute::Static));
        let obj = "00112233445566778899aabbccddeeff";
        assert_eq!(route("POST", "/api/images/i-1/staged"), Ok(Route::StagedStart("i-1".into())));
        assert_eq!(route("GET", "/api/images/i-1/staged"), Ok(Route::StagedState("i-1".into())));
        assert_eq!(route("DELETE", "/api/images/i-1/staged"), Ok(Route::StagedDelete("i-1".into())));
        assert_eq!(route("PUT", "/api/images/i-1/staged"), Err(NoRoute::Method("GET, POST, DELETE")));
        assert_eq!(route("PUT", "/api/images/i-1/staged/12"), Ok(Route::StagedPart("i-1".into(), 12)));
        assert_eq!(route("PUT", "/api/images/i-1/staged/+1"), Err(NoRoute::NotFound));
        assert_eq!(route("PUT", "/api/images/i-1/staged/99999999999"), Err(NoRoute::NotFound));
        assert_eq!(route("POST", "/api/images/i-1/staged/complete"), Ok(Route::StagedComplete("i-1".into())));
        assert_eq!(route("GET", &format!("/api/staged/i-1/{obj}")), Ok(Route::StagedObject("i-1".into(), obj.into())));
        assert_eq!(route("GET", &format!("/api/staged/..%2f/{obj}")), Err(NoRoute::NotFound));
        assert_eq!(route("PUT", &format!("/api/staged/i-1/{obj}")), Err(NoRoute::Method("GET")));
        assert!(!Route::StagedObject("i".into(), obj.into()).needs_session(), "Glance has no cookie");
        assert!(Route::StagedPart("i".into(), 1).needs_session());
        assert_eq!(route("GET", "/index.html"), Err(NoRoute::Static));
        assert_eq!(route("GET", "/api/volume-types"), Ok(Route::VolumeTypes));
        assert_eq!(route("GET", "/api/limits"), Ok(Route::Limits));
        assert_eq!(route("POST", "/api/limits"), Err(NoRoute::Method("GET")));
        assert_eq!(route("GET", "/api/stores"), Ok(Route::Stores));
        assert_eq!(route("POST", "/api/volumes"), Ok(Route::CreateVolume));
        assert_eq!(route("GET", "/api/volumes"), Err(NoRoute::Method("POST")));
        assert_eq!(route("GET", "/api/volumes/v-1"), Ok(Route::Volume("v-1".into())));
        assert_eq!(route("DELETE", "/api/volumes/v-1/"), Ok(Route::DeleteVolume("v-1".into())));
        assert_eq!(route("PUT", "/api/volumes/v-1"), Err(NoRoute::Method("GET, DELETE")));
        assert_eq!(route("DELETE", "/api/volumes/..%2fx"), Err(NoRoute::NotFound));
        assert_eq!(route("DELETE", "/api/servers/s-1"), Ok(Route::DeleteServer("s-1".into())));
        assert_eq!(route("PUT", "/api/servers/s-1"), Err(NoRoute::Method("GET, DELETE")));
        assert!(Route::DeleteServer("s".into()).needs_session());
        assert!(Route::CreateVolume.needs_session() && Route::Limits.needs_session());
    }

    fn inc<'a>(method: &'a str, origin: Option<&'a str>, csrf: Option<&'a str>) -> Incoming<'a> {
        Incoming {
            method,
            url: "http://127.0.0.1:8787/api/images",
            origin,
            csrf,
            content_type: Some("application/json"),
            ..Default::default()
        }
    }

    #[test]
    fn csrf_and_origin() {
        let c = cfg(&[]);
        assert!(check_request(&c, &inc("GET", None, None), &Route::Images).is_ok());
        assert_eq!(check_request(&c, &inc("POST", None, None), &Route::CreateImage).unwrap_err().error, "csrf");
        assert_eq!(check_request(&c, &inc("POST", None, Some("0")), &Route::CreateImage).unwrap_err().error, "csrf");
        assert!(check_request(&c, &inc("POST", None, Some("1")), &Route::CreateImage).is_ok());
        assert!(check_request(&c, &inc("POST", Some("http://127.0.0.1:8787"), Some("1")), &Route::CreateImage).is_ok());
        // behind a TLS proxy: same host, other scheme
        assert!(check_request(&c, &inc("POST", Some("https://127.0.0.1:8787"), Some("1")), &Route::CreateImage).is_ok());
        let e =
            check_request(&c, &inc("POST", Some("https://evil.example"), Some("1")), &Route::CreateImage).unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (403, "origin_not_allowed"));
        assert!(check_request(&c, &inc("GET", Some("null"), None), &Route::Images).is_err());
        let mut r = inc("GET", None, None);
        r.sec_fetch_site = Some("cross-site");
        assert!(check_request(&c, &r, &Route::Images).is_err());
        let mut r = inc("POST", None, Some("1"));
        r.content_type = Some("text/plain");
        assert_eq!(check_request(&c, &r, &Route::Login).unwrap_err().status, 415);
        assert_eq!(check_request(&c, &r, &Route::CreateVolume).unwrap_err().status, 415);
        assert_eq!(
            check_request(&c, &inc("DELETE", None, None), &Route::DeleteVolume("v".into())).unwrap_err().error,
            "csrf"
        );
        // uploads are not JSON
        let mut r = inc("PUT", None, Some("1"));
        r.content_type = Some("application/octet-stream");
        assert!(check_request(&c, &r, &Route::UploadImage("x".into())).is_ok());
    }

    #[test]
    fn cors_closed_unless_configured() {
        let closed = cfg(&[]);
        assert!(cors_headers(&closed, Some("https://app.example"), true).is_empty());
        assert_eq!(
            check_request(&closed, &inc("OPTIONS", Some("https://app.example"), None), &Route::Preflight)
                .unwrap_err()
                .status,
            403
        );
        let open = cfg(&[("ALLOWED_ORIGINS", "https://app.example")]);
        assert!(check_request(&open, &inc("OPTIONS", Some("https://app.example"), None), &Route::Preflight).is_ok());
        assert!(check_request(&open, &inc("POST", Some("https://app.example"), Some("1")), &Route::CreateImage).is_ok());
        let h = cors_headers(&open, Some("https://app.example"), true);
        assert!(h.contains(&("Access-Control-Allow-Origin", "https://app.example".into())));
        assert!(h.contains(&("Access-Control-Allow-Credentials", "true".into())));
        assert!(h.iter().any(|(k, v)| *k == "Access-Control-Allow-Headers" && v.contains(CSRF_HEADER)));
        assert!(cors_headers(&open, Some("https://other.example"), false).is_empty());
    }

    #[test]
    fn upstream_errors_keep_openstack_messages() {
        let e = ApiError::upstream("glance", 415, b"415 Unsupported Media Type\n\nImage failed safety checks\n", false);
        assert_eq!((e.status, e.upstream_status, e.detail.as_str()), (415, Some(415), "Image failed safety checks"));
        assert_eq!(
            e.json(),
            r#"{"error":"unsupported_media_type","detail":"Image failed safety checks","upstream_status":415}"#
        );
        let e = ApiError::upstream("nova", 503, b"", false);
        assert_eq!((e.status, e.error.as_str(), e.detail.as_str()), (502, "upstream_error", "nova answered HTTP 503"));
        assert_eq!(ApiError::upstream("keystone", 401, b"{}", true).error, "unauthorized");
        assert_eq!(ApiError::upstream("nova", 401, b"{}", false).error, "session_expired");
        assert_eq!(ApiError::bad_request("x").json(), r#"{"error":"bad_request","detail":"x"}"#);
    }

    #[test]
    fn client_addresses() {
        let h = |name: &str| match name {
            "CF-Connecting-IP" => Some("2001:db8:aa:bb:1:2:3:4".to_string()),
            "X-Forwarded-For" => Some("10.0.0.1, 198.51.100.7".to_string()),
            "X-Real-IP" => Some("unknown".to_string()),
            _ => None,
        };
        let via = |header: &str| cfg(&[("CLIENT_IP_HEADER", header)]);
        assert_eq!(client_address(&cfg(&[]), true, &h).as_deref(), Some("2001:db8:aa:bb::/64"));
        assert_eq!(client_address(&cfg(&[]), false, &h), None, "CF-Connecting-IP is forgeable off Cloudflare");
        assert_eq!(client_address(&via("X-Forwarded-For"), false, &h).as_deref(), Some("198.51.100.7"));
        assert_eq!(client_address(&via("X-Real-IP"), false, &h), None, "not an address: unknown");
        assert_eq!(client_address(&via("X-Client"), false, &h), None, "header missing: unknown");
    }

    #[test]
    fn origins() {
        assert_eq!(origin_of("HTTP://Example.com:8080/x?y"), Some("http://example.com:8080".into()));
    }

    #[test]
    fn no_route_answers() {
        let e = NoRoute::Method("GET, POST").error("/api/images");
        assert_eq!((e.status, e.error.as_str(), e.detail.as_str()), (405, "method_not_allowed", "allowed: GET, POST"));
        assert!(e.headers().contains(&("Allow", "GET, POST".into())));
        let e = NoRoute::NotFound.error("/api/nope");
        assert_eq!((e.status, e.error.as_str(), e.detail.as_str()), (404, "not_found", "no API route /api/nope"));
        assert!(is_api_path("/api") && is_api_path("/api/login") && !is_api_path("/apidocs.html"));
    }

    #[test]
    fn error_headers() {
        let h = ApiError::bad_request("x").headers();
        assert_eq!(h, vec![("Content-Type", "application/json".to_string())]);
        let h = ApiError::too_many(30).headers();
        assert!(h.contains(&("Retry-After", "30".into())));
        for gone in [ApiError::new(401, "no_session", "x"), ApiError::upstream("nova", 401, b"", false)] {
            assert!(gone.headers().contains(&("Set-Cookie", session::clear_cookie())), "{}", gone.error);
        }
        assert!(!ApiError::upstream("keystone", 401, b"", true).headers().iter().any(|(k, _)| *k == "Set-Cookie"));
    }

    #[test]
    fn api_answer_headers() {
        let open = cfg(&[("ALLOWED_ORIGINS", "https://app.example")]);
        assert!(response_headers(Some(&open), "/", "GET", Some("https://app.example")).is_empty(), "the page's own");
        let h = response_headers(Some(&open), "/api/images", "GET", Some("https://app.example"));
        assert!(h.contains(&("Cache-Control", "no-store".into())));
        assert!(h.contains(&("X-Content-Type-Options", "nosniff".into())));
        assert!(h.contains(&("Access-Control-Allow-Origin", "https://app.example".into())));
        assert!(!h.iter().any(|(k, _)| *k == "Access-Control-Max-Age"));
        let h = response_headers(Some(&open), "/api/images", "OPTIONS", Some("https://app.example"));
        assert!(h.iter().any(|(k, _)| *k == "Access-Control-Max-Age"), "a preflight's answer");
        let h = response_headers(None, "/api/images", "GET", Some("https://app.example"));
        assert_eq!(h.len(), 2, "broken settings: no CORS");
    }

    #[test]
    fn json_bodies() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct B {
            name: String,
        }
        assert!(check_json_length(Some("65536"), MAX_JSON_BODY).is_ok());
        assert_eq!(check_json_length(Some("65537"), MAX_JSON_BODY).unwrap_err().status, 413);
        assert!(check_json_length(None, MAX_JSON_BODY).is_ok() && check_json_length(Some("x"), MAX_JSON_BODY).is_ok());
        assert_eq!(body_too_large(MAX_JSON_BODY).detail, "request bodies are limited to 65536 bytes");
        assert_eq!(parse_json::<B>(br#"{"name": "vm"}"#).unwrap().name, "vm");
        assert_eq!(parse_json::<B>(b"{").unwrap_err().detail, "the body is not valid JSON");
        let e = parse_json::<B>(br#"{"name": 1234}"#).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.detail.starts_with("invalid type: ") && e.detail.contains("a string"), "{}", e.detail);
        assert!(!e.detail.contains("1234"), "{}", e.detail);
        let e = parse_login(br#"{"username": "u", "password": "hunter2", "extra": "hunter2"}"#).unwrap_err();
        assert!(e.detail.starts_with("malformed login request (unknown field `extra`"), "{}", e.detail);
        assert!(e.detail.ends_with(
            "expected username, password, project or application_credential_id, application_credential_secret"
        ));
        assert!(!e.detail.contains("hunter2"), "{}", e.detail);
        let e = parse_login(br#"{"username": "u", "password": 1234}"#).unwrap_err();
        assert!(!e.detail.contains("1234"), "{}", e.detail);
        assert!(parse_login(br#"{"username": "u", "password": "p", "project": "x"}"#).is_ok());
    }
}
