//! The OpenStack client: one session's token and the endpoints chosen at login. Every call to
//! OpenStack goes through it; what its answers mean is decided in `crate::upstream`.

use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, RequestRedirect, WorkerGlobalScope};

use super::http::{js_err, read_capped, ApiResult};
use crate::api::{ApiError, MAX_UPSTREAM_BODY};
use crate::session::{Endpoints, Session};
use crate::upstream::{self, no_endpoint, Service};

/// An answer from OpenStack, its body read up to [`MAX_UPSTREAM_BODY`].
pub struct Answer {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

/// OpenStack as one session reaches it. Cheap to clone (for the upload's `waitUntil` task).
#[derive(Clone)]
pub struct OpenStack {
    /// The Keystone token; empty before login.
    pub token: String,
    endpoints: Endpoints,
    /// Keystone's URL (the login's), for calls about the token itself.
    auth_url: String,
    /// Named by the error for a service the catalog lacks.
    region: Option<String>,
}

pub fn global() -> WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

impl OpenStack {
    pub fn of(s: &Session) -> OpenStack {
        OpenStack {
            token: s.token.clone(),
            endpoints: s.endpoints.clone(),
            auth_url: s.auth_url.clone(),
            region: s.region.clone(),
        }
    }

    /// The same endpoints with another token of the same user and project (a migration
    /// credential's: `glue::credential::client`).
    pub fn with_token(&self, token: &str) -> OpenStack {
        OpenStack { token: token.to_string(), ..self.clone() }
    }

    /// Glance at `image` with `token` (the sweep of abandoned uploads: no session).
    pub fn image(auth_url: &str, image: &str, token: &str) -> OpenStack {
        OpenStack {
            token: token.to_string(),
            endpoints: Endpoints { image: Some(image.to_string()), ..Endpoints::default() },
            auth_url: auth_url.to_string(),
            region: None,
        }
    }

    /// Keystone at `auth_url`, with `token` (empty to log in).
    pub fn keystone(auth_url: &str, token: &str) -> OpenStack {
        OpenStack {
            token: token.to_string(),
            endpoints: Endpoints::default(),
            auth_url: auth_url.to_string(),
            region: None,
        }
    }

    /// The URL of `path` under `service`'s root (503 when the catalog has no such service).
    pub fn url(&self, service: Service, path: &str) -> ApiResult<String> {
        let root = service.root(&self.endpoints, &self.auth_url);
        root.map(|r| format!("{r}{path}")).ok_or_else(|| no_endpoint(service, self.region.as_deref()))
    }

    /// A request to `url` with the token, the service's headers and `extra`. Redirects are
    /// never followed (no open proxy to wherever an upstream points).
    pub fn request(
        &self,
        service: Service,
        method: &str,
        url: &str,
        body: Option<&JsValue>,
        extra: &[(&str, &str)],
    ) -> Result<web_sys::Request, String> {
        let h = Headers::new().map_err(js_err)?;
        h.set("Accept", "application/json").map_err(js_err)?;
        if !self.token.is_empty() {
            h.set("X-Auth-Token", &self.token).map_err(js_err)?;
        }
        for (k, v) in service.headers().iter().chain(extra) {
            h.set(k, v).map_err(js_err)?;
        }
        let init = RequestInit::new();
        init.set_method(method);
        init.set_redirect(RequestRedirect::Manual);
        if let Some(b) = body {
            init.set_body(b);
        }
        init.set_headers(&h);
        web_sys::Request::new_with_str_and_init(url, &init).map_err(js_err)
    }

    /// One call to `url` with an optional JSON body. `Err` only when the service cannot be
    /// reached (the text of the failure).
    pub async fn fetch(
        &self,
        service: Service,
        method: &str,
        url: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> Result<Answer, String> {
        let mut hdrs: Vec<(&str, &str)> = extra.to_vec();
        let text = body.map(|b| JsValue::from_str(&b.to_string()));
        if text.is_some() {
            hdrs.push(("Content-Type", "application/json"));
        }
        let req = self.request(service, method, url, text.as_ref(), &hdrs)?;
        let resp: web_sys::Response =
            JsFuture::from(global().fetch_with_request(&req)).await.map_err(js_err)?.unchecked_into();
        let body = match resp.body() {
            Some(stream) => read_capped(&stream, MAX_UPSTREAM_BODY).await?,
            None => Vec::new(),
        };
        Ok(Answer { status: resp.status(), headers: resp.headers(), body })
    }

    /// One call to `path` under `service`, whatever the status (502 when unreachable).
    pub async fn send(
        &self,
        service: Service,
        method: &str,
        path: &str,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> ApiResult<Answer> {
        let url = self.url(service, path)?;
        self.fetch(service, method, &url, body, extra).await.map_err(|e| ApiError::unreachable(service.name(), e))
    }

    /// A call whose status `accepted` takes; any other is OpenStack's error, passed on.
    pub async fn expect(
        &self,
        service: Service,
        method: &str,
        path: &str,
        body: Option<&Value>,
        accepted: fn(u16) -> bool,
    ) -> ApiResult<Answer> {
        let r = self.send(service, method, path, body, &[]).await?;
        upstream::check(service, r.status, &r.body, accepted)?;
        Ok(r)
    }

    /// `GET path` answered 200 with JSON.
    pub async fn get(&self, service: Service, path: &str) -> ApiResult<Value> {
        let r = self.expect(service, "GET", path, None, |s| s == 200).await?;
        upstream::json_body(service, &r.body)
    }

    /// Keystone, about the token itself (`X-Subject-Token`): check it, or revoke it.
    pub async fn token_call(&self, method: &str, path: &str) -> ApiResult<Answer> {
        self.send(Service::Identity, method, path, None, &[("X-Subject-Token", &self.token)]).await
    }

    /// Gives the token back to Keystone (logout; a login whose token is unusable): whether
    /// Keystone confirmed ([`crate::upstream::token_revoked`]).
    pub async fn revoke(&self) -> bool {
        crate::upstream::token_revoked(self.token_call("DELETE", "/auth/tokens").await.ok().map(|a| a.status))
    }
}
