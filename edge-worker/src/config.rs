//! Deployment settings: `[vars]` in wrangler.toml (or bindings in a workerd config) and secrets.
//! Parsed once per request from a lookup function, so the parsing is testable natively.
//! See edge-worker/README.md for the meaning of each setting.

/// Default cap on an image upload: 1 TiB, Glance's own default `image_size_cap`.
pub const DEFAULT_UPLOAD_MAX_BYTES: u64 = 1 << 40;
/// Default number of login attempts per client address and per principal in a window.
pub const DEFAULT_LOGIN_MAX_ATTEMPTS: u32 = 10;
/// Default login rate-limit window, seconds.
pub const DEFAULT_LOGIN_WINDOW_SECONDS: u64 = 300;
/// Default age after which an unfinished staged upload is abandoned: one day, as the R2
/// lifecycle rule README.md suggests (incomplete multipart uploads aborted after 1 day).
pub const DEFAULT_STAGING_MAX_AGE_SECONDS: u64 = 86_400;
/// Least entropy of a session secret: 32 random bytes, given in base64 (`openssl rand -base64
/// 32`). Length in characters proves nothing (32 letters of a pass phrase are far weaker).
pub const MIN_SESSION_KEY_BYTES: usize = 32;

/// Which catalog endpoint interface the worker talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interface {
    Public,
    Internal,
    Admin,
}

impl Interface {
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        }
    }
}

/// Which Keystone URLs a login may name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthUrls {
    /// `*` among `ALLOWED_AUTH_URLS`: any http(s) URL whose host is public
    /// (`egress.rs`), and the public endpoints of its catalog.
    pub any: bool,
    /// The URLs the operator named (normalised: no trailing slash): `ALLOWED_AUTH_URLS`
    /// besides `*`, and `OS_AUTH_URL`. Reached whatever their host, and so is their catalog.
    pub named: Vec<String>,
}

/// The Keystone a login goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthTarget {
    pub url: String,
    /// Whether the operator named it (else it came in through `*`: only public hosts, and only
    /// a short reason from its answers, see `egress.rs`).
    pub named: bool,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// `OS_AUTH_URL`: the Keystone v3 URL used when a login names none.
    pub auth_url: Option<String>,
    /// `ALLOWED_AUTH_URLS`: comma-separated URLs, and `*` for any public one. Unset: only
    /// `OS_AUTH_URL`.
    pub allowed_auth_urls: AuthUrls,
    /// `OS_REGION_NAME`: region whose endpoints are used (unset: the catalog's only region, or
    /// the first in name order; a login may choose another from the catalog).
    pub region: Option<String>,
    /// `OS_INTERFACE`: public (default), internal or admin.
    pub interface: Interface,
    /// `ALLOWED_ORIGINS`: comma-separated origins allowed to call the API cross-origin
    /// (CORS with credentials). Empty: CORS closed, same origin only.
    pub allowed_origins: Vec<String>,
    /// `UPLOAD_MAX_BYTES`: largest image upload accepted.
    pub upload_max_bytes: u64,
    /// `REQUEST_BODY_MAX_BYTES`: the largest request body the deployment accepts (Cloudflare's
    /// plan caps it); `None` (empty or 0) when no limit is known (self-hosted workerd).
    pub request_body_max_bytes: Option<u64>,
    /// `STAGING_MAX_AGE_SECONDS`: an unfinished staged upload older than this is abandoned
    /// (its token refused).
    pub staging_max_age_seconds: u64,
    /// `LOGIN_MAX_ATTEMPTS` per `LOGIN_WINDOW_SECONDS`.
    pub login_max_attempts: u32,
    pub login_window_seconds: u64,
    /// `CLIENT_IP_HEADER`: header naming the client address when a trusted reverse proxy sits
    /// in front of self-hosted workerd (e.g. `X-Forwarded-For`, last entry used). On
    /// Cloudflare `CF-Connecting-IP` is used and this is ignored.
    pub client_ip_header: Option<String>,
}

/// A setting that does not parse: names the variable and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `https://keystone.example.com:5000/v3/` → `https://keystone.example.com:5000/v3`; refuses
/// anything but http(s) URLs with a host, and URLs carrying credentials, queries or fragments.
pub fn normalize_url(raw: &str) -> Option<String> {
    let s = raw.trim();
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"))?;
    let host_end = rest.find('/').unwrap_or(rest.len());
    let host = &rest[..host_end];
    if host.is_empty() || host.contains('@') || s.contains(['?', '#', ' ', '\\']) || s.chars().any(|c| c.is_control()) {
        return None;
    }
    Some(s.trim_end_matches('/').to_string())
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn list(v: Option<String>) -> Vec<String> {
    non_empty(v)
        .map(|s| s.split([',', ' ', '\n']).map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect())
        .unwrap_or_default()
}

fn number<T: std::str::FromStr>(name: &str, v: Option<String>, default: T) -> Result<T, ConfigError> {
    match non_empty(v) {
        None => Ok(default),
        Some(s) => s.replace('_', "").parse().map_err(|_| ConfigError(format!("{name}={s:?} is not a number"))),
    }
}

impl Config {
    /// Reads every setting through `get` (a var or secret by name; `None` when unset).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let auth_url = match non_empty(get("OS_AUTH_URL")) {
            None => None,
            Some(u) => {
                Some(normalize_url(&u).ok_or_else(|| ConfigError(format!("OS_AUTH_URL={u:?} is not an http(s) URL")))?)
            }
        };
        let mut allowed_auth_urls = AuthUrls { any: false, named: auth_url.iter().cloned().collect() };
        for u in list(get("ALLOWED_AUTH_URLS")) {
            if u == "*" {
                allowed_auth_urls.any = true;
                continue;
            }
            let n = normalize_url(&u)
                .ok_or_else(|| ConfigError(format!("ALLOWED_AUTH_URLS: {u:?} is not an http(s) URL (or *)")))?;
            allowed_auth_urls.named.push(n);
        }
        let interface =
            match non_empty(get("OS_INTERFACE")).as_deref().map(|s| s.trim_end_matches("URL").to_ascii_lowercase()) {
                None => Interface::Public,
                Some(s) if s == "public" => Interface::Public,
                Some(s) if s == "internal" => Interface::Internal,
                Some(s) if s == "admin" => Interface::Admin,
                Some(s) => return Err(ConfigError(format!("OS_INTERFACE={s:?}: expected public, internal or admin"))),
            };
        let mut allowed_origins = Vec::new();
        for o in list(get("ALLOWED_ORIGINS")) {
            let n = normalize_url(&o).filter(|n| n.matches('/').count() == 2).ok_or_else(|| {
                ConfigError(format!("ALLOWED_ORIGINS: {o:?} is not an origin like https://app.example.com"))
            })?;
            allowed_origins.push(n.to_ascii_lowercase());
        }
        let login_max_attempts = number("LOGIN_MAX_ATTEMPTS", get("LOGIN_MAX_ATTEMPTS"), DEFAULT_LOGIN_MAX_ATTEMPTS)?;
        let login_window_seconds =
            number("LOGIN_WINDOW_SECONDS", get("LOGIN_WINDOW_SECONDS"), DEFAULT_LOGIN_WINDOW_SECONDS)?;
        let staging_max_age_seconds =
            number("STAGING_MAX_AGE_SECONDS", get("STAGING_MAX_AGE_SECONDS"), DEFAULT_STAGING_MAX_AGE_SECONDS)?;
        if login_max_attempts == 0 || login_window_seconds == 0 || staging_max_age_seconds == 0 {
            return Err(ConfigError(
                "LOGIN_MAX_ATTEMPTS, LOGIN_WINDOW_SECONDS and STAGING_MAX_AGE_SECONDS must be at least 1".into(),
            ));
        }
        Ok(Config {
            auth_url,
            allowed_auth_urls,
            region: non_empty(get("OS_REGION_NAME")),
            interface,
            allowed_origins,
            upload_max_bytes: number("UPLOAD_MAX_BYTES", get("UPLOAD_MAX_BYTES"), DEFAULT_UPLOAD_MAX_BYTES)?,
            request_body_max_bytes: Some(number("REQUEST_BODY_MAX_BYTES", get("REQUEST_BODY_MAX_BYTES"), 0u64)?)
                .filter(|&n| n > 0),
            staging_max_age_seconds,
            login_max_attempts,
            login_window_seconds,
            client_ip_header: non_empty(get("CLIENT_IP_HEADER")),
        })
    }

    /// The warning to log when the worker cannot tell clients apart (self-hosted without
    /// `CLIENT_IP_HEADER`): the login limit then counts per principal only, since one shared
    /// address key would let ten wrong passwords lock every user out.
    pub fn client_address_warning(&self, on_cloudflare: bool) -> Option<&'static str> {
        (!on_cloudflare && self.client_ip_header.is_none()).then_some(
            "CLIENT_IP_HEADER is not set: the worker cannot tell clients apart, so the login limit counts \
             attempts per user only (not per address); behind a reverse proxy, set CLIENT_IP_HEADER",
        )
    }

    /// Whether the operator named `auth_url` (`OS_AUTH_URL` or listed in `ALLOWED_AUTH_URLS`).
    pub fn names(&self, auth_url: &str) -> bool {
        self.allowed_auth_urls.named.iter().any(|u| u == auth_url)
    }

    /// The Keystone a login goes to: the one it names (if allowed) or `OS_AUTH_URL`. The error
    /// text is what the client sees (400). One that came in through `*` still has to pass
    /// `egress::login_target`'s public-host check.
    pub fn resolve_auth_url(&self, requested: Option<&str>) -> Result<AuthTarget, String> {
        let requested = requested.map(str::trim).filter(|s| !s.is_empty());
        let url = match requested {
            None => {
                return self
                    .auth_url
                    .clone()
                    .map(|url| AuthTarget { url, named: true })
                    .ok_or_else(|| "no auth_url given and OS_AUTH_URL is not configured".to_string())
            }
            Some(r) => normalize_url(r).ok_or_else(|| format!("auth_url {r:?} is not an http(s) URL"))?,
        };
        let named = self.names(&url);
        if !named && !self.allowed_auth_urls.any {
            return Err(format!("auth_url {url} is not allowed by this deployment (ALLOWED_AUTH_URLS)"));
        }
        Ok(AuthTarget { url, named })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(&|k| m.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.auth_url, None);
        assert_eq!(c.interface, Interface::Public);
        assert_eq!(c.upload_max_bytes, DEFAULT_UPLOAD_MAX_BYTES);
        assert!(c.allowed_origins.is_empty());
        assert_eq!(c.request_body_max_bytes, None, "no body limit known");
        assert_eq!(c.staging_max_age_seconds, DEFAULT_STAGING_MAX_AGE_SECONDS);
        assert_eq!(c.resolve_auth_url(None).unwrap_err(), "no auth_url given and OS_AUTH_URL is not configured");
        // nothing configured: no URL at all is allowed
        assert!(c.resolve_auth_url(Some("https://evil.example")).is_err());
    }

    fn url(c: &Config, requested: Option<&str>) -> Result<(String, bool), String> {
        c.resolve_auth_url(requested).map(|t| (t.url, t.named))
    }

    #[test]
    fn auth_url_pinned_to_os_auth_url_unless_listed() {
        let c = cfg(&[("OS_AUTH_URL", "http://127.0.0.1:5000/v3/")]).unwrap();
        let pinned = ("http://127.0.0.1:5000/v3".to_string(), true);
        assert_eq!(url(&c, None).unwrap(), pinned);
        assert_eq!(url(&c, Some("http://127.0.0.1:5000/v3")).unwrap(), pinned);
        let e = url(&c, Some("http://169.254.169.254/v3")).unwrap_err();
        assert!(e.contains("not allowed"), "{e}");
        let c = cfg(&[
            ("OS_AUTH_URL", "https://a.example/v3"),
            ("ALLOWED_AUTH_URLS", "https://a.example/v3, https://b.example/identity/v3"),
        ])
        .unwrap();
        assert_eq!(
            url(&c, Some("https://b.example/identity/v3/")).unwrap(),
            ("https://b.example/identity/v3".into(), true)
        );
        assert!(url(&c, Some("https://c.example/v3")).is_err());
        let c = cfg(&[("ALLOWED_AUTH_URLS", "*")]).unwrap();
        assert_eq!(url(&c, Some("https://c.example/v3")).unwrap(), ("https://c.example/v3".into(), false));
        assert!(url(&c, Some("file:///etc/passwd")).is_err());
        assert!(url(&c, Some("https://user:pw@c.example/v3")).is_err());
    }

    #[test]
    fn star_and_named_urls() {
        let c =
            cfg(&[("OS_AUTH_URL", "http://10.1.0.5:5000/v3"), ("ALLOWED_AUTH_URLS", "*, http://127.0.0.1:5000/v3/")])
                .unwrap();
        assert_eq!(url(&c, Some("http://127.0.0.1:5000/v3")).unwrap(), ("http://127.0.0.1:5000/v3".into(), true));
        assert_eq!(url(&c, None).unwrap(), ("http://10.1.0.5:5000/v3".into(), true), "OS_AUTH_URL is named");
        assert!(url(&c, Some("http://10.1.0.5:5000/v3")).unwrap().1);
        assert!(!url(&c, Some("http://127.0.0.1:5001/v3")).unwrap().1, "another port is not named");
        assert_eq!(url(&c, Some("https://public.example/v3")).unwrap(), ("https://public.example/v3".into(), false));
        assert!(cfg(&[("ALLOWED_AUTH_URLS", "*, 127.0.0.1")]).unwrap_err().0.contains("ALLOWED_AUTH_URLS"));
    }

    #[test]
    fn shared_client_address_is_warned_about() {
        let c = cfg(&[]).unwrap();
        assert!(c.client_address_warning(false).unwrap().contains("CLIENT_IP_HEADER"));
        assert_eq!(c.client_address_warning(true), None, "Cloudflare names the client");
        let c = cfg(&[("CLIENT_IP_HEADER", "X-Forwarded-For")]).unwrap();
        assert_eq!(c.client_address_warning(false), None);
    }

    #[test]
    fn bad_settings_are_named() {
        assert!(cfg(&[("OS_AUTH_URL", "keystone:5000")]).unwrap_err().0.contains("OS_AUTH_URL"));
        assert!(cfg(&[("OS_INTERFACE", "private")]).unwrap_err().0.contains("OS_INTERFACE"));
        assert!(cfg(&[("UPLOAD_MAX_BYTES", "10G")]).unwrap_err().0.contains("UPLOAD_MAX_BYTES"));
        assert!(cfg(&[("ALLOWED_ORIGINS", "https://a.example/path")]).unwrap_err().0.contains("ALLOWED_ORIGINS"));
        assert!(cfg(&[("LOGIN_MAX_ATTEMPTS", "0")]).is_err());
        assert!(cfg(&[("STAGING_MAX_AGE_SECONDS", "0")]).unwrap_err().0.contains("STAGING_MAX_AGE_SECONDS"));
        assert!(cfg(&[("REQUEST_BODY_MAX_BYTES", "100MB")]).unwrap_err().0.contains("REQUEST_BODY_MAX_BYTES"));
        assert_eq!(cfg(&[("REQUEST_BODY_MAX_BYTES", "0")]).unwrap().request_body_max_bytes, None, "0: no limit");
        assert_eq!(cfg(&[("REQUEST_BODY_MAX_BYTES", "100000000")]).unwrap().request_body_max_bytes, Some(100_000_000));
        let c = cfg(&[
            ("OS_INTERFACE", "internalURL"),
            ("UPLOAD_MAX_BYTES", "104_857_600"),
            ("ALLOWED_ORIGINS", "https://App.example.com/"),
        ])
        .unwrap();
        assert_eq!(c.interface, Interface::Internal);
        assert_eq!(c.upload_max_bytes, 104_857_600);
        assert_eq!(c.allowed_origins, vec!["https://app.example.com".to_string()]);
    }
}
