//! Keystone v3 (`POST /v3/auth/tokens`): the login request body, the token response and the
//! choice of endpoints from the catalog (region and interface from the deployment settings,
//! never hard-coded URLs).

use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::Interface;
use crate::session::{Endpoints, Named, Session};

/// Longest user name, password, project, domain or credential field accepted (Keystone's own
/// limits are 255 for names and 4096 for passwords with `max_password_length`).
pub const MAX_FIELD_LEN: usize = 4096;

/// `POST /api/login` body: password or application credential.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[serde(default)]
    pub auth_url: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub user_domain: Option<String>,
    #[serde(default)]
    pub project_domain: Option<String>,
    #[serde(default)]
    pub application_credential_id: Option<String>,
    #[serde(default)]
    pub application_credential_secret: Option<String>,
    /// A region of the catalog to use instead of the configured one.
    #[serde(default)]
    pub region: Option<String>,
}

fn field<'a>(v: &'a Option<String>, name: &str) -> Result<Option<&'a str>, String> {
    match v.as_deref() {
        None => Ok(None),
        Some(s) if s.len() > MAX_FIELD_LEN => Err(format!("{name} is too long")),
        Some("") => Ok(None),
        Some(s) => Ok(Some(s)),
    }
}

/// `{"id": "default"}` for the default domain's id, `{"name": ...}` otherwise.
fn domain(v: Option<&str>) -> Value {
    match v.map(str::trim) {
        None | Some("") | Some("default") => json!({"id": "default"}),
        Some(name) => json!({"name": name}),
    }
}

/// The Keystone v3 root of an auth URL: `/v3` appended unless it is there already.
pub fn keystone_url(auth_url: &str) -> String {
    if auth_url.ends_with("/v3") {
        auth_url.to_string()
    } else {
        format!("{auth_url}/v3")
    }
}

impl LoginRequest {
    /// The Keystone request body, or what is missing (400).
    pub fn auth_body(&self) -> Result<Value, String> {
        let app_id = field(&self.application_credential_id, "application_credential_id")?;
        let app_secret = field(&self.application_credential_secret, "application_credential_secret")?;
        let username = field(&self.username, "username")?;
        let password = field(&self.password, "password")?;
        let project = field(&self.project, "project")?;
        field(&self.user_domain, "user_domain")?;
        field(&self.project_domain, "project_domain")?;
        field(&self.region, "region")?;
        if app_id.is_some() || app_secret.is_some() {
            if username.is_some() || password.is_some() {
                return Err("give either username/password or an application credential, not both".into());
            }
            let (Some(id), Some(secret)) = (app_id, app_secret) else {
                return Err("application_credential_id and application_credential_secret are both required".into());
            };
            return Ok(json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"id": id, "secret": secret}}}}));
        }
        let (Some(user), Some(pw)) = (username, password) else {
            return Err(
                "username and password (or application_credential_id and application_credential_secret) are required"
                    .into(),
            );
        };
        let Some(project) = project else {
            return Err("project is required for a password login".into());
        };
        Ok(json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": domain(self.user_domain.as_deref()), "password": pw}}},
            "scope": {"project": {"name": project, "domain": domain(self.project_domain.as_deref())}}}}))
    }

    /// The region to use: the login's choice, else the configured one (`OS_REGION_NAME`).
    pub fn region<'a>(&'a self, configured: Option<&'a str>) -> Option<&'a str> {
        self.region.as_deref().filter(|r| !r.is_empty()).or(configured)
    }

    /// Who is being logged in as, at which Keystone: what the login limit counts per user
    /// (`crate::ratelimit::principal_key`).
    pub fn principal(&self, auth_url: &str) -> String {
        match (&self.application_credential_id, &self.username) {
            (Some(id), _) if !id.is_empty() => format!("{auth_url}|appcred|{id}"),
            (_, u) => format!(
                "{auth_url}|{}|{}",
                self.user_domain.as_deref().unwrap_or("default").to_lowercase(),
                u.as_deref().unwrap_or("").to_lowercase()
            ),
        }
    }
}

#[derive(Debug, Deserialize)]
struct TokenBody {
    token: Token,
}

#[derive(Debug, Deserialize)]
struct Token {
    expires_at: String,
    user: Obj,
    #[serde(default)]
    project: Option<Obj>,
    #[serde(default)]
    roles: Vec<Obj>,
    #[serde(default)]
    catalog: Vec<Service>,
}

#[derive(Debug, Deserialize)]
struct Obj {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    domain: Option<Box<Obj>>,
}

#[derive(Debug, Deserialize)]
pub struct Service {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Deserialize)]
pub struct Endpoint {
    pub interface: String,
    #[serde(default)]
    pub region_id: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    pub url: String,
}

impl Endpoint {
    fn region(&self) -> Option<&str> {
        self.region_id.as_deref().or(self.region.as_deref())
    }
}

/// Regions named by the catalog's endpoints of `interface`, sorted, without duplicates.
pub fn regions(catalog: &[Service], interface: Interface) -> Vec<String> {
    let mut r: Vec<String> = catalog
        .iter()
        .flat_map(|s| &s.endpoints)
        .filter(|e| e.interface == interface.as_str())
        .filter_map(|e| e.region().map(String::from))
        .collect();
    r.sort();
    r.dedup();
    r
}

/// The URL of the first endpoint of service `kind` with `interface` in `region` (any region
/// when `None`), without a trailing slash. Only http(s) URLs count.
pub fn endpoint(catalog: &[Service], kind: &str, interface: Interface, region: Option<&str>) -> Option<String> {
    catalog
        .iter()
        .filter(|s| s.kind == kind)
        .flat_map(|s| &s.endpoints)
        .filter(|e| e.interface == interface.as_str())
        .find(|e| region.is_none() || e.region() == region)
        .and_then(|e| crate::config::normalize_url(&e.url))
}

/// Builds the session from Keystone's 201 response. `region`: the login's choice, else the
/// configured one, else the catalog's only (or first) region; it must exist in the catalog.
pub fn session_from_token(
    token: String,
    body: &[u8],
    auth_url: &str,
    interface: Interface,
    region: Option<&str>,
) -> Result<Session, String> {
    let TokenBody { token: t } =
        serde_json::from_slice(body).map_err(|e| format!("unexpected Keystone token response: {e}"))?;
    let expires = crate::time::parse_iso8601(&t.expires_at)
        .ok_or_else(|| format!("unexpected Keystone expires_at {:?}", t.expires_at))?;
    let all = regions(&t.catalog, interface);
    let region = match region {
        Some(r) if all.iter().any(|x| x == r) => Some(r.to_string()),
        Some(r) => {
            return Err(format!(
                "region {r:?} has no {} endpoints in the catalog (regions: {})",
                interface.as_str(),
                if all.is_empty() { "none".to_string() } else { all.join(", ") }
            ))
        }
        None => all.first().cloned(),
    };
    let project = t.project.ok_or_else(|| "the token is not scoped to a project; name a project".to_string())?;
    let ep = |kind: &str| endpoint(&t.catalog, kind, interface, region.as_deref());
    let named = |o: Obj| Named {
        id: o.id,
        name: o.name,
        domain: o.domain.map(|d| if d.name.is_empty() { d.id } else { d.name }),
    };
    Ok(Session {
        token,
        expires,
        expires_at: t.expires_at,
        auth_url: auth_url.to_string(),
        endpoints: Endpoints {
            identity: ep("identity"),
            compute: ep("compute"),
            image: ep("image"),
            network: ep("network"),
            volume: crate::cinder::CATALOG_TYPES.iter().find_map(|kind| ep(kind)),
        },
        region,
        regions: all,
        user: named(t.user),
        project: named(project),
        roles: t.roles.into_iter().map(|r| r.name).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(v: Value) -> LoginRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn password_body() {
        let b = login(json!({"username": "admin", "password": "secret", "project": "admin"})).auth_body().unwrap();
        assert_eq!(b["auth"]["identity"]["methods"][0], "password");
        assert_eq!(b["auth"]["identity"]["password"]["user"]["domain"], json!({"id": "default"}));
        assert_eq!(b["auth"]["scope"]["project"], json!({"name": "admin", "domain": {"id": "default"}}));
        let b = login(
            json!({"username": "u", "password": "p", "project": "x", "user_domain": "Corp", "project_domain": "Other"}),
        )
        .auth_body()
        .unwrap();
        assert_eq!(b["auth"]["identity"]["password"]["user"]["domain"], json!({"name": "Corp"}));
        assert_eq!(b["auth"]["scope"]["project"]["domain"], json!({"name": "Other"}));
    }

    #[test]
    fn application_credential_body() {
        let b = login(json!({"application_credential_id": "abc", "application_credential_secret": "s"}))
            .auth_body()
            .unwrap();
        assert_eq!(
            b,
            json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": "abc", "secret": "s"}}}})
        );
    }

    #[test]
    fn incomplete_logins_are_refused() {
        for v in [
            json!({}),
            json!({"username": "a"}),
            json!({"username": "a", "password": "b"}),
            json!({"application_credential_id": "a"}),
            json!({"application_credential_id": "a", "application_credential_secret": "s", "username": "u"}),
            json!({"username": "a", "password": "x".repeat(5000), "project": "p"}),
        ] {
            assert!(login(v.clone()).auth_body().is_err(), "{v}");
        }
        assert!(serde_json::from_value::<LoginRequest>(json!({"username": "a", "extra": 1})).is_err());
    }

    #[test]
    fn keystone_urls() {
        assert_eq!(keystone_url("http://127.0.0.1:5000/v3"), "http://127.0.0.1:5000/v3");
        assert_eq!(keystone_url("https://keystone.example.com"), "https://keystone.example.com/v3");
        assert_eq!(keystone_url("https://keystone.example.com/identity"), "https://keystone.example.com/identity/v3");
    }

    #[test]
    fn region_choice() {
        let chosen = login(json!({"username": "u", "region": "RegionTwo"}));
        assert_eq!(chosen.region(Some("RegionOne")), Some("RegionTwo"));
        let empty = login(json!({"username": "u", "region": ""}));
        assert_eq!(empty.region(Some("RegionOne")), Some("RegionOne"), "an empty choice is no choice");
        assert_eq!(login(json!({"username": "u"})).region(None), None);
    }

    const TOKEN: &str = r#"{"token": {"methods": ["password"], "user": {"domain": {"id": "default", "name": "Default"}, "id": "u1", "name": "admin"},
      "expires_at": "2026-11-26T10:00:00.000000Z", "project": {"domain": {"id": "default", "name": "Default"}, "id": "p1", "name": "admin"},
      "roles": [{"id": "r1", "name": "admin"}, {"id": "r2", "name": "member"}],
      "catalog": [
        {"type": "compute", "name": "nova", "endpoints": [
          {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": "http://127.0.0.1:8774/v2.1/"},
          {"interface": "internal", "region_id": "RegionOne", "url": "http://nova.internal:8774/v2.1"},
          {"interface": "public", "region_id": "RegionTwo", "url": "https://nova.two.example/v2.1"}]},
        {"type": "image", "name": "glance", "endpoints": [
          {"interface": "public", "region_id": "RegionOne", "url": "http://127.0.0.1:9292"},
          {"interface": "public", "region_id": "RegionTwo", "url": "javascript:alert(1)"}]},
        {"type": "identity", "name": "keystone", "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": "http://127.0.0.1:5000/v3/"}]},
        {"type": "volume", "name": "cinder-legacy", "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": "http://127.0.0.1:8776/v1/p1"}]},
        {"type": "volumev3", "name": "cinderv3", "endpoints": [
          {"interface": "public", "region_id": "RegionOne", "url": "http://127.0.0.1:8776/v3/p1"},
          {"interface": "public", "region_id": "RegionTwo", "url": "https://cinder.two.example/v3"}]},
        {"type": "block-storage", "name": "cinder", "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": "http://127.0.0.1:8776/v3"}]}
      ]}}"#;

    #[test]
    fn session_from_catalog() {
        let s = session_from_token("tok".into(), TOKEN.as_bytes(), "http://127.0.0.1:5000/v3", Interface::Public, None)
            .unwrap();
        assert_eq!(s.region.as_deref(), Some("RegionOne"));
        assert_eq!(s.regions, vec!["RegionOne", "RegionTwo"]);
        assert_eq!(s.endpoints.compute.as_deref(), Some("http://127.0.0.1:8774/v2.1"));
        assert_eq!(s.endpoints.image.as_deref(), Some("http://127.0.0.1:9292"));
        assert_eq!(s.endpoints.identity.as_deref(), Some("http://127.0.0.1:5000/v3"));
        assert_eq!(s.endpoints.network, None);
        assert_eq!(s.endpoints.volume.as_deref(), Some("http://127.0.0.1:8776/v3"), "block-storage first");
        assert_eq!(s.user, Named { id: "u1".into(), name: "admin".into(), domain: Some("Default".into()) });
        assert_eq!(s.roles, vec!["admin", "member"]);
        assert_eq!(s.expires, crate::time::parse_iso8601("2026-11-26T10:00:00Z").unwrap());

        let s = session_from_token("tok".into(), TOKEN.as_bytes(), "x", Interface::Internal, None).unwrap();
        assert_eq!(s.endpoints.compute.as_deref(), Some("http://nova.internal:8774/v2.1"));
        assert_eq!(s.endpoints.image, None);
        assert_eq!(s.endpoints.volume, None, "no internal Cinder endpoint");

        let s = session_from_token("tok".into(), TOKEN.as_bytes(), "x", Interface::Public, Some("RegionTwo")).unwrap();
        assert_eq!(s.endpoints.compute.as_deref(), Some("https://nova.two.example/v2.1"));
        assert_eq!(s.endpoints.image, None, "a non-http catalog URL is never used");
        assert_eq!(s.endpoints.volume.as_deref(), Some("https://cinder.two.example/v3"), "then volumev3");

        let e =
            session_from_token("tok".into(), TOKEN.as_bytes(), "x", Interface::Public, Some("Nowhere")).unwrap_err();
        assert!(e.contains("RegionOne, RegionTwo"), "{e}");
    }

    #[test]
    fn unscoped_or_garbage_tokens() {
        let unscoped = r#"{"token": {"expires_at": "2026-11-26T10:00:00Z", "user": {"id": "u", "name": "n"}}}"#;
        assert!(session_from_token("t".into(), unscoped.as_bytes(), "x", Interface::Public, None)
            .unwrap_err()
            .contains("not scoped"));
        assert!(session_from_token("t".into(), b"<html>", "x", Interface::Public, None).is_err());
    }
}
