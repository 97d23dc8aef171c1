//! Migration credentials in and out of Keystone (`crate::credential` decides): created when an
//! upload starts, traded for fresh tokens, deleted when it ends, swept at login and logout.
//! Neither the secret nor a token from it is ever logged or answered.

use worker::console_log;

use super::now_secs;
use super::upstream::OpenStack;
use crate::api::ApiError;
use crate::credential::{self, Credential, Token};
use crate::session::Session;
use crate::upstream::{self, Service};

type ApiResult<T> = Result<T, ApiError>;

/// The upload's credential when it may need `duration` seconds (capped at `cap`) and the
/// session's token would not last: `None` when not needed, or when Keystone refused (logged:
/// the upload goes on within the token's life).
pub async fn create(os: &OpenStack, s: &Session, image: &str, duration: i64, cap: u64) -> Option<Credential> {
    let now = now_secs();
    if !credential::needed(s.expires, now, duration) {
        return None;
    }
    let body = credential::create_body(image, &s.roles, now, credential::lifetime(duration, cap));
    let path = format!("/users/{}/application_credentials", s.user.id);
    match os.send(Service::Identity, "POST", &path, Some(&body), &[]).await {
        Ok(r) if r.status == 201 => match credential::created(&r.body) {
            Ok(c) => Some(c),
            Err(e) => {
                console_log!("image {}: no migration credential: {}", image, e);
                None
            }
        },
        Ok(r) => {
            console_log!("image {}: no migration credential: Keystone answered HTTP {}", image, r.status);
            None
        }
        Err(e) => {
            console_log!("image {}: no migration credential: {}", image, e.detail);
            None
        }
    }
}

/// The client for a call of an upload now: the session's, or one with a fresh token from the
/// upload's credential ([`credential::choose`]). 401 `session_expired` when neither works.
pub async fn client(os: &OpenStack, s: &Session, credential: Option<&Credential>) -> ApiResult<OpenStack> {
    match (credential::choose(s.expires, now_secs(), credential)?, credential) {
        (Token::Renew, Some(c)) => Ok(os.with_token(&fresh_token(&s.auth_url, c).await?)),
        _ => Ok(os.clone()),
    }
}

/// A fresh token from credential `c` at the Keystone `auth_url`; 401 `session_expired` naming
/// Keystone's answer when it refuses the credential.
pub async fn fresh_token(auth_url: &str, c: &Credential) -> ApiResult<String> {
    let r = OpenStack::keystone(auth_url, "")
        .send(Service::Identity, "POST", "/auth/tokens", Some(&credential::auth_body(c)), &[])
        .await?;
    match r.headers.get("X-Subject-Token").ok().flatten() {
        Some(t) if r.status == 201 => Ok(t),
        _ => Err(credential::refused(r.status)),
    }
}

/// Deletes the credential with the session's token while that is valid (a restricted
/// credential cannot delete itself): whether it is gone.
pub async fn delete(os: &OpenStack, s: &Session, credential: &Credential) -> bool {
    if !credential::can_delete(s.expires, now_secs()) {
        return false;
    }
    delete_id(os, s, &credential.id).await
}

async fn delete_id(os: &OpenStack, s: &Session, id: &str) -> bool {
    let path = format!("/users/{}/application_credentials/{id}", s.user.id);
    match os.send(Service::Identity, "DELETE", &path, None, &[]).await {
        Ok(r) if credential::deleted(r.status) => true,
        Ok(r) => {
            console_log!("migration credential {}: delete answered HTTP {}", id, r.status);
            false
        }
        Err(e) => {
            console_log!("migration credential {}: delete failed: {}", id, e.detail);
            false
        }
    }
}

/// The worker's credentials of the user ([`credential::sweep`]); empty when Keystone does not
/// list them.
async fn listed(os: &OpenStack, s: &Session, project: Option<&str>) -> Vec<(String, String)> {
    let path = format!("/users/{}/application_credentials", s.user.id);
    match os.get(Service::Identity, &path).await {
        Ok(v) => credential::sweep(&v, project),
        Err(e) => {
            console_log!("migration credentials: listing failed: {}", e.detail);
            Vec::new()
        }
    }
}

/// At login: deletes the credentials of the session's project whose upload has ended (those a
/// session could not delete because its token had expired).
pub async fn sweep_ended(os: &OpenStack, s: &Session) {
    for (id, image) in listed(os, s, Some(&s.project.id)).await {
        let status = match os.send(Service::Image, "GET", &format!("/images/{image}"), None, &[]).await {
            Ok(r) if r.status == 200 => upstream::lenient_json(&r.body)["status"].as_str().map(String::from),
            Ok(r) if r.status == 404 => None,
            _ => continue,
        };
        if credential::upload_ended(status.as_deref()) {
            delete_id(os, s, &id).await;
        }
    }
}

/// At logout: deletes every credential the worker made for the user; `(deleted, left)`.
pub async fn delete_all(os: &OpenStack, s: &Session) -> (usize, usize) {
    let mut counts = (0, 0);
    for (id, _) in listed(os, s, None).await {
        if delete_id(os, s, &id).await {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
    }
    counts
}
