//! What the sealed session cookie carries: the Keystone token, its expiry, the endpoints chosen
//! from the catalog at login (so later calls need no catalog lookup and can reach nothing
//! else) and the identity shown to the page. Short serde names keep the cookie small.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::seal::Sealer;

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "sf_session";
/// The cookie is only sent to the API.
pub const COOKIE_PATH: &str = "/api";
/// Largest `Set-Cookie` value browsers keep (RFC 6265 suggests at least 4096 bytes per
/// cookie, name and attributes included); we stay under it with room for the attributes.
pub const MAX_COOKIE_VALUE: usize = 3800;

/// The service endpoints of one region and interface, from the token's catalog.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<String>,
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Cinder ([`crate::cinder::CATALOG_TYPES`]).
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
}

/// A named OpenStack object (user, project, domain) as shown to the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The Keystone token (X-Subject-Token). Never leaves the worker unsealed.
    #[serde(rename = "t")]
    pub token: String,
    /// Expiry, Unix seconds.
    #[serde(rename = "e")]
    pub expires: i64,
    /// Expiry as Keystone wrote it, shown to the page.
    #[serde(rename = "x")]
    pub expires_at: String,
    /// Keystone URL the token came from (for logout/validation).
    #[serde(rename = "a")]
    pub auth_url: String,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(rename = "rs", default)]
    pub regions: Vec<String>,
    #[serde(rename = "p")]
    pub endpoints: Endpoints,
    #[serde(rename = "u")]
    pub user: Named,
    #[serde(rename = "j")]
    pub project: Named,
    #[serde(rename = "o", default)]
    pub roles: Vec<String>,
}

/// What the page learns about a session (`POST /api/login`, `GET /api/session`): everything
/// but the token.
#[derive(Clone, Debug, Serialize)]
pub struct Summary<'a> {
    pub user: &'a Named,
    pub project: &'a Named,
    pub roles: &'a [String],
    pub expires_at: &'a str,
    pub region: Option<&'a str>,
    pub regions: &'a [String],
    pub services: Services,
    /// Whether the catalog offered Cinder: volumes can be made and attached.
    pub volumes: bool,
}

/// Which services the catalog offered in the session's region.
#[derive(Clone, Debug, Serialize)]
pub struct Services {
    pub compute: bool,
    pub image: bool,
    pub network: bool,
}

impl Session {
    pub fn summary(&self) -> Summary<'_> {
        Summary {
            user: &self.user,
            project: &self.project,
            roles: &self.roles,
            expires_at: &self.expires_at,
            region: self.region.as_deref(),
            regions: &self.regions,
            services: Services {
                compute: self.endpoints.compute.is_some(),
                image: self.endpoints.image.is_some(),
                network: self.endpoints.network.is_some(),
            },
            volumes: self.endpoints.volume.is_some(),
        }
    }

    /// [`Session::summary`] as the JSON the page gets.
    pub fn summary_json(&self) -> Value {
        serde_json::to_value(self.summary()).unwrap_or(Value::Null)
    }

    /// The sealed cookie value.
    pub fn seal(&self, sealer: &Sealer) -> Result<String, String> {
        let json = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        let v = sealer.seal(&json)?;
        if v.len() > MAX_COOKIE_VALUE {
            return Err(format!(
                "the session does not fit in a cookie ({} bytes sealed; the Keystone token is {} bytes)",
                v.len(),
                self.token.len()
            ));
        }
        Ok(v)
    }

    pub fn unseal(sealer: &Sealer, value: &str) -> Option<Session> {
        serde_json::from_slice(&sealer.unseal(value)?).ok()
    }

    /// Seconds the session has left at `now` (Unix seconds), 0 when expired.
    pub fn remaining(&self, now: i64) -> i64 {
        (self.expires - now).max(0)
    }
}

/// `Set-Cookie` for a new session, living as long as the token.
pub fn set_cookie(value: &str, max_age: i64) -> String {
    format!("{COOKIE_NAME}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict")
}

/// `Set-Cookie` removing the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE_NAME}=; Path={COOKIE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

/// The session cookie's value from a `Cookie` header, if present.
pub fn cookie_value(cookie_header: &str) -> Option<&str> {
    cookie_header.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k.trim() == COOKIE_NAME).then(|| v.trim()).filter(|v| !v.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Session {
        Session {
            token: "gAAAAABn".to_string() + &"x".repeat(200),
            expires: 2_000_000_000,
            expires_at: "2033-05-18T03:33:20.000000Z".into(),
            auth_url: "http://127.0.0.1:5000/v3".into(),
            region: Some("RegionOne".into()),
            regions: vec!["RegionOne".into()],
            endpoints: Endpoints {
                identity: Some("http://127.0.0.1:5000/v3".into()),
                compute: Some("http://127.0.0.1:8774/v2.1".into()),
                image: Some("http://127.0.0.1:9292".into()),
                network: None,
                volume: Some("http://127.0.0.1:8776/v3".into()),
            },
            user: Named { id: "u1".into(), name: "admin".into(), domain: Some("Default".into()) },
            project: Named { id: "p1".into(), name: "admin".into(), domain: None },
            roles: vec!["admin".into(), "member".into()],
        }
    }

    #[test]
    fn cookie_round_trip_and_no_token_in_summary() {
        let sealer = Sealer::new("YSB2ZXJ5IHNlY3JldCBrZXkgb2YgbW9yZSB0aGFuIDMyIGNoYXJz", None).unwrap();
        let s = sample();
        let v = s.seal(&sealer).unwrap();
        assert!(!v.contains("gAAAAABn"));
        let header = format!("other=1; {COOKIE_NAME}={v}; x=y");
        let back = Session::unseal(&sealer, cookie_value(&header).unwrap()).unwrap();
        assert_eq!(back, s);
        let summary = serde_json::to_string(&s.summary()).unwrap();
        assert!(!summary.contains("gAAAAABn"), "{summary}");
        assert!(summary.contains("\"services\":{\"compute\":true,\"image\":true,\"network\":false}"), "{summary}");
        assert_eq!(s.summary_json()["volumes"], true);
        let mut no_cinder = s.clone();
        no_cinder.endpoints.volume = None;
        assert_eq!(no_cinder.summary_json()["volumes"], false);
        let json = s.summary_json();
        assert_eq!((json["user"]["name"].as_str(), json["region"].as_str()), (Some("admin"), Some("RegionOne")));
        assert!(!json.to_string().contains("gAAAAABn"));
    }

    #[test]
    fn oversized_session_is_refused() {
        let sealer = Sealer::new("YSB2ZXJ5IHNlY3JldCBrZXkgb2YgbW9yZSB0aGFuIDMyIGNoYXJz", None).unwrap();
        let mut s = sample();
        s.token = "x".repeat(4000);
        assert!(s.seal(&sealer).unwrap_err().contains("does not fit"));
    }

    #[test]
    fn cookie_attributes() {
        let c = set_cookie("v1.abc", 3600);
        for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api", "Max-Age=3600"] {
            assert!(c.contains(attr), "{c}");
        }
        assert!(clear_cookie().contains("Max-Age=0"));
        assert_eq!(cookie_value("a=b"), None);
        assert_eq!(cookie_value("sf_session="), None);
        assert_eq!(cookie_value("xsf_session=1; sf_session=v1.z"), Some("v1.z"));
    }
}
