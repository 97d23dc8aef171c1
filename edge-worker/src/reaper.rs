//! Abandoned uploads (issue 17, finding 6): a staged upload whose tab was closed leaves a
//! queued Glance image nobody deletes. Each staged upload with a migration credential leaves a
//! sealed [`Record`] in the `STAGING` bucket (`uploads/<image id>`), removed when the upload
//! ends; a sweep (the scheduled handler on Cloudflare, `POST /api/sweep` where no cron runs)
//! deletes the image of every record older than `STAGING_MAX_AGE_SECONDS` — the age past which
//! the upload's token is refused anyway — with a fresh token from the record's credential.
//!
//! Decided here: the record, its key and seal, and what the sweep does with each record.

use serde::{Deserialize, Serialize};

use crate::api::ApiError;
use crate::credential::Credential;
use crate::seal::Sealer;

/// R2 keys of the records: `uploads/{image id}`.
pub const RECORD_PREFIX: &str = "uploads/";
/// Associated data of a sealed record: it never opens as a cookie or an upload token.
pub const RECORD_AAD: &[u8] = b"stackferry-upload-record-v1";
/// How long a credential outlives its upload's age limit (seconds): the time the sweep has to
/// find the abandoned upload (Cloudflare's cron runs every few minutes at most; see
/// `wrangler.toml`).
pub const SWEEP_GRACE: i64 = 3600;
/// Most records one sweep handles (each costs a Keystone and two Glance calls).
pub const MAX_PER_SWEEP: usize = 50;

/// What the sweep needs to delete an abandoned upload's image without the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    #[serde(rename = "i")]
    pub image: String,
    /// The staged object's R2 key.
    #[serde(rename = "o")]
    pub object_key: String,
    /// Keystone, where the credential gets tokens.
    #[serde(rename = "a")]
    pub auth_url: String,
    /// Glance's root (from the session's catalog).
    #[serde(rename = "g")]
    pub image_endpoint: String,
    #[serde(rename = "k")]
    pub credential: Credential,
    /// Unix seconds.
    #[serde(rename = "c")]
    pub created: i64,
}

/// The record's R2 key.
pub fn key(image: &str) -> String {
    format!("{RECORD_PREFIX}{image}")
}

impl Record {
    pub fn seal(&self, sealer: &Sealer) -> Result<String, ApiError> {
        let json = serde_json::to_vec(self).map_err(|e| ApiError::internal(e.to_string()))?;
        sealer.seal_for(RECORD_AAD, &json).map_err(ApiError::internal)
    }

    /// `None` for anything this worker's key did not seal as a record.
    pub fn open(sealer: &Sealer, sealed: &str) -> Option<Record> {
        serde_json::from_slice(&sealer.unseal_for(RECORD_AAD, sealed.trim())?).ok()
    }
}

/// What a sweep does with one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not abandoned yet.
    Wait,
    /// Abandoned: delete the image (unless it became active) and the staged object, then the
    /// record.
    Reap,
    /// Its credential has expired (or the record does not open): nothing can act for the user;
    /// the record goes.
    Forget,
}

/// The verdict on `record` (`None`: it did not open) at `now` when uploads are abandoned after
/// `max_age` seconds.
pub fn verdict(record: Option<&Record>, now: i64, max_age: u64) -> Verdict {
    let Some(r) = record else { return Verdict::Forget };
    let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
    if now.saturating_sub(r.created) <= max_age {
        Verdict::Wait
    } else if r.credential.expires <= now {
        Verdict::Forget
    } else {
        Verdict::Reap
    }
}

/// Whether the sweep deletes an abandoned upload's image from Glance's status (`None`: gone
/// already): every state but `active` (the user's image, finished after all).
pub fn delete_image(status: Option<&str>) -> bool {
    matches!(status, Some(s) if s != "active")
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const IMG: &str = "0b5c1c0e-4f38-4a57-9a0c-1e7e3c6f2a10";

    fn record(created: i64, expires: i64) -> Record {
        Record {
            image: IMG.into(),
            object_key: format!("staged/{IMG}/00"),
            auth_url: "http://127.0.0.1:5000/v3".into(),
            image_endpoint: "http://127.0.0.1:9292".into(),
            credential: Credential { id: "c1".into(), secret: "record-secret".into(), expires },
            created,
        }
    }

    #[test]
    fn records_seal_for_their_use_only() {
        let s = Sealer::new(K, None).unwrap();
        let sealed = record(1, 2).seal(&s).unwrap();
        assert!(!sealed.contains("record-secret") && !sealed.contains(IMG));
        assert_eq!(Record::open(&s, &sealed), Some(record(1, 2)));
        assert_eq!(s.unseal(&sealed), None, "no cookie");
        assert_eq!(s.unseal_for(crate::staged::TOKEN_AAD, &sealed), None, "no upload token");
        let other = Sealer::new("YW5vdGhlciBrZXkgb2YgYXQgbGVhc3QgdGhpcnR5LXR3byBieXRlcw", None).unwrap();
        assert_eq!(Record::open(&other, &sealed), None);
        assert_eq!(key(IMG), format!("uploads/{IMG}"));
    }

    #[test]
    fn verdicts() {
        let r = record(1000, 1000 + 86_400 + SWEEP_GRACE);
        assert_eq!(verdict(Some(&r), 1000 + 86_400, 86_400), Verdict::Wait);
        assert_eq!(verdict(Some(&r), 1001 + 86_400, 86_400), Verdict::Reap);
        assert_eq!(verdict(Some(&r), 1000 + 86_400 + SWEEP_GRACE, 86_400), Verdict::Forget, "credential expired");
        assert_eq!(verdict(None, 0, 86_400), Verdict::Forget);
        assert_eq!(verdict(Some(&r), 0, u64::MAX), Verdict::Wait);
        for (status, delete) in [
            (Some("queued"), true),
            (Some("importing"), true),
            (Some("killed"), true),
            (Some("active"), false),
            (None, false),
        ] {
            assert_eq!(delete_image(status), delete, "{status:?}");
        }
    }
}
