//! The OpenStack services the worker calls, and how their answers become the API's: where each
//! service's API root is, the headers every call to it carries, which statuses a call accepts,
//! and what the page gets otherwise. The calls themselves are `glue::upstream`'s; everything it
//! decides is here, so `cargo test` sees it.

use serde_json::{json, Value};

use crate::api::ApiError;
use crate::cinder::{volume_root, CINDER_MICROVERSION};
use crate::egress::short_reason;
use crate::keystone::keystone_url;
use crate::openstack::{trim_stores, upstream_message, versioned, NOVA_MICROVERSION};
use crate::session::{Endpoints, Session};

/// An OpenStack service the worker calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// Keystone, at the URL the session logged in to (not the catalog's identity endpoint).
    Identity,
    Compute,
    Image,
    Network,
    /// Cinder (block storage v3).
    Volume,
}

impl Service {
    /// The service's project name, as error messages name it ("glance could not be reached").
    pub fn name(self) -> &'static str {
        match self {
            Service::Identity => "keystone",
            Service::Compute => "nova",
            Service::Image => "glance",
            Service::Network => "neutron",
            Service::Volume => "cinder",
        }
    }

    /// The catalog's service type, as the missing-endpoint error names it.
    pub fn kind(self) -> &'static str {
        match self {
            Service::Identity => "identity",
            Service::Compute => "compute",
            Service::Image => "image",
            Service::Network => "network",
            Service::Volume => "block-storage",
        }
    }

    /// Headers every call to the service carries: Nova's and Cinder's microversions.
    pub fn headers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Service::Compute => &[("OpenStack-API-Version", NOVA_MICROVERSION)],
            Service::Volume => &[("OpenStack-API-Version", CINDER_MICROVERSION)],
            _ => &[],
        }
    }

    /// The root the worker's paths are relative to: Keystone's `/v3` from the login URL, the
    /// catalog's compute URL as it is (it carries its version), Glance's `/v2` and Neutron's
    /// `/v2.0` appended unless the catalog URL has them, Cinder's `/v3` as
    /// [`crate::cinder::volume_root`] makes it. `None` when the catalog had no endpoint for the
    /// service.
    pub fn root(self, endpoints: &Endpoints, auth_url: &str) -> Option<String> {
        match self {
            Service::Identity => Some(keystone_url(auth_url)),
            Service::Compute => endpoints.compute.clone(),
            Service::Image => endpoints.image.as_deref().map(|u| versioned(u, "/v2")),
            Service::Network => endpoints.network.as_deref().map(|u| versioned(u, "/v2.0")),
            Service::Volume => endpoints.volume.as_deref().map(volume_root),
        }
    }
}

/// The error for a service the session's catalog does not offer.
pub fn no_endpoint(service: Service, region: Option<&str>) -> ApiError {
    ApiError::new(
        503,
        "no_endpoint",
        format!("the catalog has no {} endpoint in region {}", service.kind(), region.unwrap_or("(none)")),
    )
}

/// Any 2xx.
pub fn success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// An answer whose status `accepted` takes is `Ok`; any other is OpenStack's error, passed on.
pub fn check(service: Service, status: u16, body: &[u8], accepted: fn(u16) -> bool) -> Result<(), ApiError> {
    if accepted(status) {
        Ok(())
    } else {
        Err(ApiError::upstream(service.name(), status, body, false))
    }
}

/// A body the worker reads fields from: 502 when it is not JSON.
pub fn json_body(service: Service, body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(502, "upstream_error", format!("{} sent a response that is not JSON: {e}", service.name()))
    })
}

/// The body of a success answer whose few fields are passed on (a created image or server):
/// `null` where it is not JSON, so the fields come out `null`.
pub fn lenient_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// Keystone's answer to checking the session's own token (`GET /v3/auth/tokens`): 401 or 404
/// mean it was revoked or has expired, so the page must log in again.
pub fn token_check(status: u16, body: &[u8]) -> Result<(), ApiError> {
    match status {
        200 => Ok(()),
        401 | 404 => Err(ApiError::new(401, "session_expired", "the OpenStack token is no longer valid; log in again")),
        st => Err(ApiError::upstream(Service::Identity.name(), st, body, false)),
    }
}

/// The session a request may use: 401 without one, or when its token's expiry has passed
/// (`now`, Unix seconds).
pub fn live_session(session: Option<Session>, now: i64) -> Result<Session, ApiError> {
    let s = session.ok_or_else(|| ApiError::new(401, "no_session", "not logged in"))?;
    if s.remaining(now) == 0 {
        return Err(ApiError::new(401, "session_expired", "the OpenStack token has expired; log in again"));
    }
    Ok(s)
}

/// Whether Keystone has the token revoked after `DELETE /v3/auth/tokens` answered `status`
/// (`None`: no answer at all): 204, or 404 (already revoked or expired). Anything else means
/// the token may still be valid until it expires, which the user must be told at logout.
pub fn token_revoked(status: Option<u16>) -> bool {
    matches!(status, Some(s) if success(s) || s == 404)
}

/// Whether a failed upload's image is gone after a `DELETE` answered `status` (404: already).
pub fn image_gone(status: u16) -> bool {
    success(status) || status == 404
}

/// Whether a volume is deleted after Cinder's `DELETE` answered `status`: the rule of
/// [`image_gone`] (Cinder answers 202; 404: already gone).
/// Whether Nova's answer to `DELETE /servers/{id}` leaves the server going or gone: 204, or
/// 404 (already gone).
pub fn server_gone(status: u16) -> bool {
    matches!(status, 204 | 404)
}

pub fn volume_gone(status: u16) -> bool {
    image_gone(status)
}

/// Whether `GET /v2/info/stores/detail` answering `status` sends the worker to the plain
/// `GET /v2/info/stores`: 403 (the detail is for admins by Glance's default policy) or 404 (a
/// Glance older than the call, or one store only: the plain call says which).
pub fn stores_fallback(status: u16) -> bool {
    matches!(status, 403 | 404)
}

/// `GET /api/stores` from Glance's store listing: 404 (multi-store off: one store, nothing to
/// choose) is an empty list; other failures are Glance's error, passed on.
pub fn stores_answer(status: u16, body: &[u8]) -> Result<Value, ApiError> {
    match status {
        200 => Ok(trim_stores(&json_body(Service::Image, body)?)),
        404 => Ok(json!({"stores": []})),
        _ => Err(ApiError::upstream(Service::Image.name(), status, body, false)),
    }
}

/// `GET /api/servers/{id}/console`: Nova is asked for each of [`crate::openstack::CONSOLES`] in turn, and the
/// first it hands out is the answer. A refusal of one type moves on to the next (its reason
/// kept short: the answer lists them all); 401 and 404 (the session or the server is gone) end
/// the search with Nova's error.
#[derive(Debug, Default)]
pub struct ConsoleSearch {
    reasons: Vec<String>,
    last_status: u16,
}

impl ConsoleSearch {
    /// The `POST /servers/{id}/remote-consoles` body for one console type.
    pub fn request(protocol: &str, kind: &str) -> Value {
        json!({"remote_console": {"protocol": protocol, "type": kind}})
    }

    /// Nova's answer for console type `kind`: `Some` ends the search (the console, or the
    /// error), `None` tries the next type.
    pub fn answer(&mut self, kind: &str, status: u16, body: &[u8]) -> Option<Result<Value, ApiError>> {
        if status == 200 {
            let v = lenient_json(body);
            let c = &v["remote_console"];
            return Some(Ok(json!({"url": c["url"], "protocol": c["protocol"], "type": c["type"]})));
        }
        if matches!(status, 401 | 404) {
            return Some(Err(ApiError::upstream(Service::Compute.name(), status, body, false)));
        }
        self.last_status = status;
        let why = upstream_message(body).map_or_else(|| format!("HTTP {status}"), |m| short_reason(&m));
        self.reasons.push(format!("{kind}: {why}"));
        None
    }

    /// The answer when no type worked: no URL, each type's refusal, Nova's last status.
    pub fn none_offered(self) -> Value {
        let reason = format!("this cloud offers no console for the server ({})", self.reasons.join("; "));
        json!({"url": null, "reason": reason, "upstream_status": self.last_status})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Named;

    fn endpoints() -> Endpoints {
        Endpoints {
            identity: Some("http://127.0.0.1:5000/v3".into()),
            compute: Some("http://127.0.0.1:8774/v2.1".into()),
            image: Some("http://127.0.0.1:9292".into()),
            network: Some("http://127.0.0.1:9696/v2.0".into()),
            volume: Some("http://127.0.0.1:8776".into()),
        }
    }

    #[test]
    fn revocation_told_as_it_is() {
        assert!(token_revoked(Some(204)) && token_revoked(Some(404)));
        for failed in [Some(401), Some(403), Some(500), Some(503), None] {
            assert!(!token_revoked(failed), "{failed:?}");
        }
    }

    #[test]
    fn roots_and_headers() {
        let e = endpoints();
        let auth = "http://keystone.example.com:5000";
        assert_eq!(Service::Identity.root(&e, auth).as_deref(), Some("http://keystone.example.com:5000/v3"));
        assert_eq!(Service::Compute.root(&e, auth).as_deref(), Some("http://127.0.0.1:8774/v2.1"));
        assert_eq!(Service::Image.root(&e, auth).as_deref(), Some("http://127.0.0.1:9292/v2"));
        assert_eq!(Service::Network.root(&e, auth).as_deref(), Some("http://127.0.0.1:9696/v2.0"));
        assert_eq!(Service::Volume.root(&e, auth).as_deref(), Some("http://127.0.0.1:8776/v3"));
        assert_eq!(Service::Image.root(&Endpoints::default(), auth), None);
        assert_eq!(Service::Volume.root(&Endpoints::default(), auth), None);
        assert_eq!(Service::Volume.headers(), &[("OpenStack-API-Version", "volume 3.3")]);
        assert_eq!(
            no_endpoint(Service::Volume, None).detail,
            "the catalog has no block-storage endpoint in region (none)"
        );
        assert_eq!(Service::Identity.root(&Endpoints::default(), auth).as_deref(), Some(&*keystone_url(auth)));
        assert_eq!(Service::Compute.headers(), &[("OpenStack-API-Version", NOVA_MICROVERSION)]);
        assert!(Service::Image.headers().is_empty() && Service::Identity.headers().is_empty());
        let e = no_endpoint(Service::Network, Some("RegionOne"));
        assert_eq!(
            (e.status, e.error.as_str(), e.detail.as_str()),
            (503, "no_endpoint", "the catalog has no network endpoint in region RegionOne")
        );
        assert!(no_endpoint(Service::Image, None).detail.ends_with("region (none)"));
    }

    #[test]
    fn statuses_accepted_or_passed_on() {
        assert!(check(Service::Image, 201, b"", |s| s == 201).is_ok());
        let e = check(Service::Image, 200, b"", |s| s == 201).unwrap_err();
        assert_eq!((e.status, e.error.as_str(), e.upstream_status), (502, "upstream_error", Some(200)));
        let e = check(Service::Compute, 400, br#"{"badRequest": {"message": "Image x is not active."}}"#, success)
            .unwrap_err();
        assert_eq!((e.status, e.detail.as_str()), (400, "Image x is not active."));
        assert_eq!(check(Service::Network, 401, b"", success).unwrap_err().error, "session_expired");
        assert!(success(204) && !success(304) && !success(199));
        assert!(image_gone(204) && image_gone(404) && !image_gone(409) && !image_gone(500));
        assert!(volume_gone(202) && volume_gone(404) && !volume_gone(400) && !volume_gone(503));
        assert!(server_gone(204) && server_gone(404) && !server_gone(409) && !server_gone(500));
    }

    #[test]
    fn bodies() {
        assert_eq!(json_body(Service::Image, br#"{"a": 1}"#).unwrap(), json!({"a": 1}));
        let e = json_body(Service::Network, b"<html>").unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (502, "upstream_error"));
        assert!(e.detail.starts_with("neutron sent a response that is not JSON"), "{}", e.detail);
        assert_eq!(lenient_json(b"<html>"), Value::Null);
        assert_eq!(lenient_json(br#"{"id": "x"}"#)["id"], "x");
    }

    #[test]
    fn stores() {
        assert!(stores_fallback(403) && stores_fallback(404) && !stores_fallback(200) && !stores_fallback(500));
        let listed = stores_answer(200, br#"{"stores": [{"id": "fs", "default": "true", "type": "file"}]}"#).unwrap();
        assert_eq!(listed, json!({"stores": [{"id": "fs", "default": true, "type": "file"}]}));
        assert_eq!(stores_answer(404, b"").unwrap(), json!({"stores": []}), "multi-store off");
        let e = stores_answer(503, b"").unwrap_err();
        assert_eq!((e.status, e.upstream_status), (502, Some(503)));
        assert_eq!(stores_answer(200, b"<html>").unwrap_err().status, 502);
    }

    #[test]
    fn token_checks() {
        assert!(token_check(200, b"").is_ok());
        for st in [401, 404] {
            let e = token_check(st, b"").unwrap_err();
            assert_eq!((e.status, e.error.as_str(), e.upstream_status), (401, "session_expired", None));
        }
        let e = token_check(503, b"").unwrap_err();
        assert_eq!((e.status, e.detail.as_str()), (502, "keystone answered HTTP 503"));
    }

    #[test]
    fn sessions_live_until_their_token_expires() {
        let s = Session {
            token: "t".into(),
            expires: 1000,
            expires_at: String::new(),
            auth_url: String::new(),
            region: None,
            regions: vec![],
            endpoints: Endpoints::default(),
            user: Named::default(),
            project: Named::default(),
            roles: vec![],
        };
        assert_eq!(live_session(None, 0).unwrap_err().error, "no_session");
        assert_eq!(live_session(Some(s.clone()), 999).unwrap(), s);
        let e = live_session(Some(s), 1000).unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (401, "session_expired"));
    }

    #[test]
    fn console_search() {
        assert_eq!(
            ConsoleSearch::request("vnc", "novnc"),
            json!({"remote_console": {"protocol": "vnc", "type": "novnc"}})
        );
        let mut c = ConsoleSearch::default();
        assert!(c.answer("novnc", 400, br#"{"badRequest": {"message": "VNC is disabled"}}"#).is_none());
        let found = c
            .answer(
                "spice-html5",
                200,
                br#"{"remote_console": {"protocol": "spice", "type": "spice-html5", "url": "http://h/s"}}"#,
            )
            .unwrap()
            .unwrap();
        assert_eq!(found, json!({"url": "http://h/s", "protocol": "spice", "type": "spice-html5"}));

        let mut c = ConsoleSearch::default();
        let e = c.answer("novnc", 404, br#"{"itemNotFound": {"message": "no such server"}}"#).unwrap().unwrap_err();
        assert_eq!((e.status, e.upstream_status, e.detail.as_str()), (404, Some(404), "no such server"));

        let mut c = ConsoleSearch::default();
        assert!(c.answer("novnc", 400, br#"{"badRequest": {"message": "VNC is disabled"}}"#).is_none());
        assert!(c.answer("serial", 409, b"").is_none());
        let mut long = ConsoleSearch::default();
        let body = format!(r#"{{"badRequest": {{"message": "{}"}}}}"#, "x".repeat(5000));
        assert!(long.answer("novnc", 400, body.as_bytes()).is_none());
        let reason = long.none_offered()["reason"].as_str().unwrap().len();
        assert!(reason < 300, "each type's refusal is cut short: {reason}");
        assert_eq!(
            c.none_offered(),
            json!({"url": null, "upstream_status": 409,
                "reason": "this cloud offers no console for the server (novnc: VNC is disabled; serial: HTTP 409)"})
        );
    }
}
