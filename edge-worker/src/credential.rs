//! Migrations that outlive the user's Keystone token (issue 17, finding 6). Keystone cannot
//! extend a token (re-scoping keeps its expiry), so when an upload may outlive the session's
//! token, the worker creates an application credential for it — in the token's project, with
//! the token's roles, restricted, expiring a bounded time ahead, named `stackferry-<image id>` —
//! keeps it sealed with the upload (the staged upload's token; the direct upload's request
//! only), gets fresh tokens with it for the calls that finish the migration, and deletes it
//! when the upload ends.
//!
//! A restricted application credential cannot delete itself (Keystone: "using method
//! 'application_credential' is not allowed for managing additional application credentials"),
//! so it is deleted with the user's token while that is valid; otherwise it expires on its
//! own, and the user's next login deletes those whose upload has ended ([`sweep`]).
//!
//! Everything decided here: when to create one ([`needed`]), its lifetime ([`lifetime`]), its
//! Keystone bodies, which token a call uses ([`choose`]), and which credentials a login sweeps.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api::{ApiError, Route};
use crate::session::Session;
use crate::time::{format_iso8601, parse_iso8601};

/// Names of the credentials the worker makes: `stackferry-<image id>`.
pub const NAME_PREFIX: &str = "stackferry-";
/// A token with less than this left (seconds) is replaced before a call: a call started just
/// before the expiry must not see it expire in the middle (a `web-download` import, a delete).
pub const RENEW_MARGIN: i64 = 60;
/// The slow uplink an upload's duration is estimated with (bytes per second): an estimate on
/// the long side only costs a credential that lives longer.
pub const SLOW_RATE: u64 = 1 << 20;
/// Added to every estimate (seconds): Glance's checks and import, retried parts.
pub const SLACK: i64 = 600;
/// Shortest credential lifetime (seconds).
pub const MIN_LIFETIME: i64 = 3600;
/// Longest credential lifetime (seconds): a credential nobody deletes (a closed tab, a worker
/// gone) stops working after this at the latest.
pub const MAX_LIFETIME: i64 = 7 * 86_400;
/// Most credentials one login sweeps (each costs a Glance and a Keystone call).
pub const MAX_SWEEP: usize = 20;

/// An application credential of one upload. Sealed only (an upload token); never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    #[serde(rename = "i")]
    pub id: String,
    #[serde(rename = "s")]
    pub secret: String,
    /// Unix seconds.
    #[serde(rename = "e")]
    pub expires: i64,
}

/// Never prints the secret.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential").field("id", &self.id).field("expires", &self.expires).finish()
    }
}

/// How long an upload of `size` bytes may take at [`SLOW_RATE`], with [`SLACK`].
pub fn estimate(size: u64) -> i64 {
    i64::try_from(size / SLOW_RATE).unwrap_or(i64::MAX).saturating_add(SLACK)
}

/// The credential's lifetime for an upload expected to need `duration` seconds, never over
/// `cap` (a staged upload's `STAGING_MAX_AGE_SECONDS`) nor [`MAX_LIFETIME`].
pub fn lifetime(duration: i64, cap: u64) -> i64 {
    let cap = i64::try_from(cap).unwrap_or(i64::MAX).min(MAX_LIFETIME);
    duration.max(MIN_LIFETIME).min(cap)
}

/// Whether an upload that may need `duration` seconds from `now` outlives a token expiring at
/// `token_expires`: then it gets a credential.
pub fn needed(token_expires: i64, now: i64, duration: i64) -> bool {
    token_expires.saturating_sub(now) < duration.saturating_add(RENEW_MARGIN)
}

/// The credential's name for `image`.
pub fn name(image: &str) -> String {
    format!("{NAME_PREFIX}{image}")
}

/// The image id of a credential the worker made, from its name.
pub fn image_of(name: &str) -> Option<&str> {
    name.strip_prefix(NAME_PREFIX).filter(|id| id.len() == 36 && id.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-'))
}

/// `POST /v3/users/{user}/application_credentials`: restricted (it cannot make credentials or
/// trusts), with the token's roles, expiring `lifetime` seconds after `now`.
pub fn create_body(image: &str, roles: &[String], now: i64, lifetime: i64) -> Value {
    let roles: Vec<Value> = roles.iter().map(|r| json!({"name": r})).collect();
    json!({"application_credential": {
        "name": name(image),
        "description": format!("stackferry: the upload of image {image}; deleted when it ends"),
        "expires_at": format_iso8601(now + lifetime),
        "roles": roles,
        "unrestricted": false,
    }})
}

/// The credential from Keystone's 201 answer.
pub fn created(body: &[u8]) -> Result<Credential, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("unexpected Keystone answer: {e}"))?;
    let c = &v["application_credential"];
    let text = |k: &str| c[k].as_str().filter(|s| !s.is_empty()).map(String::from);
    match (text("id"), text("secret"), c["expires_at"].as_str().and_then(parse_iso8601)) {
        (Some(id), Some(secret), Some(expires)) => Ok(Credential { id, secret, expires }),
        _ => Err("Keystone's application credential has no id, secret or expiry".into()),
    }
}

/// `POST /v3/auth/tokens` with the credential (scoped to its project by Keystone).
pub fn auth_body(c: &Credential) -> Value {
    json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": c.id, "secret": c.secret}}}})
}

/// Which token a call of an upload uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// The session's: more than [`RENEW_MARGIN`] left, or no credential to do better.
    Session,
    /// A fresh one from the upload's credential.
    Renew,
}

/// The token for a call at `now` of an upload whose session token expires at `session_expires`:
/// 401 `session_expired` when it has expired and no live credential can replace it.
pub fn choose(session_expires: i64, now: i64, credential: Option<&Credential>) -> Result<Token, ApiError> {
    let left = session_expires - now;
    if left > RENEW_MARGIN {
        return Ok(Token::Session);
    }
    match credential {
        Some(c) if c.expires - now > RENEW_MARGIN => Ok(Token::Renew),
        _ if left > 0 => Ok(Token::Session),
        _ => Err(expired()),
    }
}

/// Whether `route` carries on an upload already started: it may come after the session's token
/// has expired (the upload's credential, [`choose`], decides).
pub fn continues_upload(route: &Route) -> bool {
    matches!(route, Route::StagedPart(..) | Route::StagedComplete(_) | Route::StagedState(_) | Route::StagedDelete(_))
}

/// The session a request works with: any valid cookie for a route that [`continues_upload`]
/// (the cookie outlives the token while such an upload runs: [`cookie_max_age`]), else one
/// whose token is still valid (`crate::upstream::live_session`).
pub fn session_for(route: &Route, session: Option<Session>, now: i64) -> Result<Session, ApiError> {
    match session {
        Some(s) if continues_upload(route) => Ok(s),
        s => crate::upstream::live_session(s, now),
    }
}

/// The session cookie's `Max-Age` once an upload with a credential expiring at
/// `credential_expires` has started: the browser keeps sending it until then.
pub fn cookie_max_age(session_remaining: i64, now: i64, credential_expires: i64) -> i64 {
    session_remaining.max(credential_expires - now)
}

/// The answer when neither the token nor a credential can finish the upload.
pub fn expired() -> ApiError {
    ApiError::new(
        401,
        "session_expired",
        "the OpenStack token has expired and this upload has no usable migration credential; log in again to finish or cancel it",
    )
}

/// The answer when the credential was refused (deleted or expired in Keystone), as
/// [`expired`] says it.
pub fn refused(status: u16) -> ApiError {
    let mut e = expired();
    e.detail = format!("{} (Keystone refused the migration credential: HTTP {status})", e.detail);
    e
}

/// Whether Keystone has the credential deleted after `DELETE` answered `status` (404: already).
pub fn deleted(status: u16) -> bool {
    status == 204 || status == 404
}

/// Whether the session's own token (expiring at `session_expires`) can still delete a
/// credential at `now`.
pub fn can_delete(session_expires: i64, now: i64) -> bool {
    session_expires > now
}

/// What an upload's answer says about its credential (its `credential` field): nothing when
/// there was none or it is deleted; when it could not be deleted, that, and when it stops
/// working by itself.
pub fn report(credential: Option<&Credential>, deleted: bool) -> Option<Value> {
    match credential {
        Some(c) if !deleted => Some(json!({"deleted": false, "expires_at": format_iso8601(c.expires),
            "note": "the session's token had expired: the credential expires by itself, or your next login deletes it"})),
        _ => None,
    }
}

/// The credentials a login deletes, from `GET /v3/users/{user}/application_credentials`: the
/// worker's (named [`NAME_PREFIX`]`<image id>`) in `project` (`None`: any; the image is looked
/// up in the session's project), at most [`MAX_SWEEP`], with their image ids.
pub fn sweep(list: &Value, project: Option<&str>) -> Vec<(String, String)> {
    list["application_credentials"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| project.is_none_or(|p| c["project_id"] == p))
                .filter_map(|c| {
                    let image = image_of(c["name"].as_str()?)?;
                    Some((c["id"].as_str()?.to_string(), image.to_string()))
                })
                .take(MAX_SWEEP)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether an upload has ended, from `GET /v2/images/{id}`'s status (`None`: 404, the image
/// is gone): its credential can go. An image still `queued`, `saving`, `uploading` or
/// `importing` may be an upload in another tab: its credential stays.
pub fn upload_ended(image_status: Option<&str>) -> bool {
    !matches!(image_status, Some("queued" | "saving" | "uploading" | "importing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMG: &str = "0b5c1c0e-4f38-4a57-9a0c-1e7e3c6f2a10";

    fn cred(expires: i64) -> Credential {
        Credential { id: "c1".into(), secret: "very-secret".into(), expires }
    }

    #[test]
    fn when_an_upload_gets_a_credential() {
        // 10 GiB at 1 MiB/s: 10240 s and the slack
        assert_eq!(estimate(10 << 30), 10_240 + SLACK);
        assert_eq!(estimate(0), SLACK);
        assert!(estimate(u64::MAX) > 0);
        // Keystone's default hour is too short for it, a day is not
        assert!(needed(1000 + 3600, 1000, estimate(10 << 30)));
        assert!(!needed(1000 + 86_400, 1000, estimate(10 << 30)));
        // a small image: only when the token is nearly gone (the tests' 120 s tokens)
        assert!(!needed(1000 + 3600, 1000, estimate(20 << 20)));
        assert!(needed(1000 + 120, 1000, estimate(20 << 20)));
        assert!(needed(1000, 2000, 0), "an expired token");
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert_eq!(lifetime(10, 86_400), MIN_LIFETIME);
        assert_eq!(lifetime(20_000, 86_400), 20_000);
        assert_eq!(lifetime(estimate(u64::MAX), u64::MAX), MAX_LIFETIME);
        assert_eq!(lifetime(estimate(u64::MAX), 86_400), 86_400, "a staged upload's age limit");
        assert_eq!(lifetime(10, 600), 600, "the cap wins over the minimum");
    }

    #[test]
    fn keystone_bodies() {
        let b = create_body(IMG, &["member".into(), "reader".into()], 1_795_683_806, 3600);
        let c = &b["application_credential"];
        assert_eq!(c["name"], format!("stackferry-{IMG}"));
        assert_eq!(c["expires_at"], "2026-11-26T10:03:26Z");
        assert_eq!(c["roles"], json!([{"name": "member"}, {"name": "reader"}]));
        assert_eq!(c["unrestricted"], false);
        assert!(c["description"].as_str().unwrap().contains(IMG));

        let answer = br#"{"application_credential": {"id": "a1", "secret": "s3", "expires_at": "2026-11-26T10:03:26.000000", "name": "x"}}"#;
        let got = created(answer).unwrap();
        assert_eq!((got.id.as_str(), got.secret.as_str(), got.expires), ("a1", "s3", 1_795_687_406));
        for bad in [
            &br#"{"application_credential": {"id": "a1", "secret": "", "expires_at": "2026-11-26T10:03:26"}}"#[..],
            br#"{"application_credential": {"id": "a1", "secret": "s", "expires_at": null}}"#,
            b"<html>",
        ] {
            assert!(created(bad).is_err());
        }
        assert_eq!(
            auth_body(&got),
            json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": "a1", "secret": "s3"}}}})
        );
        assert!(!format!("{got:?}").contains("s3"), "Debug hides the secret");
    }

    #[test]
    fn which_token_a_call_uses() {
        let now = 10_000;
        assert_eq!(choose(now + 600, now, None), Ok(Token::Session));
        assert_eq!(choose(now + 600, now, Some(&cred(now + 3600))), Ok(Token::Session));
        // within the margin: renewed when a credential can
        assert_eq!(choose(now + 30, now, Some(&cred(now + 3600))), Ok(Token::Renew));
        assert_eq!(choose(now + 30, now, None), Ok(Token::Session), "still valid: the last chance");
        assert_eq!(choose(now + 30, now, Some(&cred(now + 10))), Ok(Token::Session));
        // expired
        assert_eq!(choose(now - 1, now, Some(&cred(now + 3600))), Ok(Token::Renew));
        for c in [None, Some(cred(now + 30))] {
            let e = choose(now - 1, now, c.as_ref()).unwrap_err();
            assert_eq!((e.status, e.error.as_str()), (401, "session_expired"));
            assert!(e.detail.contains("log in again"), "{}", e.detail);
        }
        assert!(refused(401).detail.contains("HTTP 401"));
    }

    #[test]
    fn expired_sessions_carry_on_uploads_only() {
        let s: Session = serde_json::from_value(json!({"t": "tok", "e": 100, "x": "", "a": "", "p": {},
            "u": {"id": "u", "name": "n"}, "j": {"id": "p", "name": "n"}}))
        .unwrap();
        let id = || IMG.to_string();
        for r in [
            Route::StagedPart(id(), 1),
            Route::StagedComplete(id()),
            Route::StagedState(id()),
            Route::StagedDelete(id()),
        ] {
            assert!(continues_upload(&r));
            assert_eq!(session_for(&r, Some(s.clone()), 200).unwrap(), s);
            assert_eq!(session_for(&r, None, 200).unwrap_err().error, "no_session");
        }
        for r in [Route::StagedStart(id()), Route::UploadImage(id()), Route::Images, Route::Session] {
            assert!(!continues_upload(&r));
            assert_eq!(session_for(&r, Some(s.clone()), 200).unwrap_err().error, "session_expired");
            assert!(session_for(&r, Some(s.clone()), 50).is_ok());
        }
        assert_eq!(cookie_max_age(120, 1000, 1000 + 3600), 3600);
        assert_eq!(cookie_max_age(7200, 1000, 1000 + 3600), 7200);
    }

    #[test]
    fn deletion_and_its_report() {
        assert!(deleted(204) && deleted(404) && !deleted(403) && !deleted(401));
        assert!(can_delete(101, 100) && !can_delete(100, 100));
        assert_eq!(report(None, false), None);
        assert_eq!(report(Some(&cred(1_795_683_806)), true), None);
        let r = report(Some(&cred(1_795_683_806)), false).unwrap();
        assert_eq!((r["deleted"].as_bool(), r["expires_at"].as_str()), (Some(false), Some("2026-11-26T09:03:26Z")));
        assert!(!r.to_string().contains("very-secret"));
    }

    #[test]
    fn what_a_login_sweeps() {
        assert_eq!(image_of(&name(IMG)), Some(IMG));
        for other in ["stackferry-", "stackferry-x", "mine", "stackferry-../../etc/passwd-0000000000000000000"] {
            assert_eq!(image_of(other), None, "{other}");
        }
        let list = json!({"application_credentials": [
            {"id": "c1", "name": name(IMG), "project_id": "p1"}, {"id": "c2", "name": "ci-robot", "project_id": "p1"},
            {"id": "c3", "name": "stackferry-nope", "project_id": "p1"}, {"id": "c4", "name": name(IMG), "project_id": "p2"}]});
        assert_eq!(sweep(&list, Some("p1")), vec![("c1".to_string(), IMG.to_string())]);
        assert_eq!(sweep(&list, None).len(), 2, "logout: every project");
        let many: Vec<Value> = (0..50).map(|i| json!({"id": format!("c{i}"), "name": name(IMG)})).collect();
        assert_eq!(sweep(&json!({"application_credentials": many}), None).len(), MAX_SWEEP);
        assert!(sweep(&json!({}), None).is_empty());
        for (status, ended) in [
            (None, true),
            (Some("active"), true),
            (Some("killed"), true),
            (Some("deleted"), true),
            (Some("queued"), false),
            (Some("importing"), false),
            (Some("saving"), false),
        ] {
            assert_eq!(upload_ended(status), ended, "{status:?}");
        }
    }
}
