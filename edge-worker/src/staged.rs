//! The decisions of staged uploads (issue 10), apart from the streams `glue::staged` moves:
//! an image too large for one request body goes into an R2 multipart upload in parts, then
//! Glance imports the completed object with the interoperable-import `web-download` method
//! from a short-lived URL the worker itself signs and serves.
//!
//! Decided here: the part plan ([`PartPlan`]), the sealed upload token the page keeps
//! ([`UploadToken`]: the part table itself stays with the page, which sends the etags at
//! completion, since an R2 binding cannot list parts), the completion's part list, the signed
//! download URL ([`UrlSigner`]), and the upload's state from Glance's image fields.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::api::ApiError;
use crate::config::Config;
use crate::credential::Credential;
use crate::seal::Sealer;

/// Smallest part but the last. R2's multipart limit (as S3's): "each part must be at least
/// 5 MiB in size, except for the last part".
pub const MIN_PART: u64 = 5 << 20;
/// Most parts in one upload. R2's multipart limit (as S3's).
pub const MAX_PARTS: u64 = 10_000;
/// The part size chosen when the body limit and the part count allow it: large enough for few
/// requests, small enough that a retried part costs little.
pub const TARGET_PART: u64 = 64 << 20;
/// Part sizes are whole MiB when the body limit allows it.
pub const PART_ALIGN: u64 = 1 << 20;
/// Associated data of a sealed upload token: it never opens as a session cookie, nor a cookie
/// as a token.
pub const TOKEN_AAD: &[u8] = b"stackferry-staged-upload-v1";
/// HKDF `info` deriving the download URL key from `SESSION_KEY`: its own key, not the cookie's.
pub const URL_KEY_INFO: &[u8] = b"stackferry staged download url v1";
/// How long a download URL is valid: Glance fetches it as soon as its import task runs.
pub const URL_TTL_SECONDS: i64 = 600;
/// R2 keys of staged objects: `staged/{image id}/{object}`.
pub const KEY_PREFIX: &str = "staged/";
/// Length of an object name: 16 random bytes in hex.
pub const OBJECT_NAME_LEN: usize = 32;
/// Longest etag accepted back at completion. R2's part etags are opaque strings; the local
/// bucket of `wrangler dev` makes them 171 characters long.
pub const MAX_ETAG_LEN: usize = 256;
/// Largest completion body: [`MAX_PARTS`] parts, each `{"part": n, "etag": "..."}` with an etag
/// of at most [`MAX_ETAG_LEN`], and the token.
pub const MAX_COMPLETE_BODY: usize = MAX_PARTS as usize * (MAX_ETAG_LEN + 32) + 8192;

/// How an image of `size` bytes is cut: `parts` parts of `part_size` bytes, the last one
/// shorter or equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartPlan {
    pub size: u64,
    pub part_size: u64,
    pub parts: u32,
}

/// The largest image this deployment can stage: [`MAX_PARTS`] parts of the body limit (one
/// part when the limit is under [`MIN_PART`]), and never over `UPLOAD_MAX_BYTES`.
pub fn largest(body_max: Option<u64>, upload_max: u64) -> u64 {
    let by_parts = match body_max {
        None => u64::MAX,
        Some(b) if b < MIN_PART => b,
        Some(b) => b.saturating_mul(MAX_PARTS),
    };
    by_parts.min(upload_max)
}

impl PartPlan {
    /// The plan for `size` bytes when one request body takes at most `body_max` (`None`: no
    /// limit known). 413 `too_large` over `UPLOAD_MAX_BYTES`, 413 `staged_too_large` when no
    /// plan fits the body limit; both name the largest size this deployment takes.
    pub fn new(size: u64, body_max: Option<u64>, upload_max: u64) -> Result<PartPlan, ApiError> {
        if size == 0 {
            return Err(ApiError::bad_request("the upload is empty"));
        }
        let most = largest(body_max, upload_max);
        if size > upload_max {
            return Err(ApiError::new(
                413,
                "too_large",
                format!("uploads are limited to {upload_max} bytes (UPLOAD_MAX_BYTES); this one is {size}"),
            ));
        }
        let cap = body_max.unwrap_or(u64::MAX);
        if size > most {
            return Err(ApiError::new(
                413,
                "staged_too_large",
                format!(
                    "this deployment takes at most {most} bytes ({MAX_PARTS} parts of at most {cap} bytes, \
                     its request body limit REQUEST_BODY_MAX_BYTES, and parts of at least {MIN_PART}); \
                     this image is {size}: run the worker self-hosted for larger images"
                ),
            ));
        }
        let need = size.div_ceil(MAX_PARTS).div_ceil(PART_ALIGN) * PART_ALIGN;
        let part_size = need.max(TARGET_PART).min(cap).min(size);
        let parts = size.div_ceil(part_size);
        Ok(PartPlan { size, part_size, parts: parts as u32 })
    }

    /// The length of part `n` (1-based); 400 `staged_part_out_of_range` outside 1..=parts.
    pub fn part_len(&self, n: u32) -> Result<u64, ApiError> {
        if n == 0 || n > self.parts {
            return Err(ApiError::new(
                400,
                "staged_part_out_of_range",
                format!("part {n} is not one of this upload's parts 1..={}", self.parts),
            ));
        }
        Ok(if n < self.parts { self.part_size } else { self.size - self.part_size * u64::from(n - 1) })
    }

    /// Part `n`'s length when the request's `Content-Length` is exactly it: 411 without one,
    /// 400 `staged_part_length` otherwise.
    pub fn check_part(&self, n: u32, content_length: Option<&str>) -> Result<u64, ApiError> {
        let want = self.part_len(n)?;
        match content_length.and_then(|l| l.trim().parse::<u64>().ok()) {
            None => {
                Err(ApiError::new(411, "length_required", format!("send part {n} with a Content-Length of {want}")))
            }
            Some(got) if got != want => Err(ApiError::new(
                400,
                "staged_part_length",
                format!("part {n} is {want} bytes long; this request sends {got}"),
            )),
            Some(_) => Ok(want),
        }
    }
}

/// `POST /api/images/{id}/staged`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    pub size: u64,
    pub sha512: String,
}

impl StartRequest {
    /// The image's SHA-512 as 128 lower-case hex digits (400 otherwise).
    pub fn sha512(&self) -> Result<String, ApiError> {
        let h = self.sha512.trim().to_ascii_lowercase();
        if h.len() != 128 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(ApiError::bad_request("sha512: expected 128 hex digits"));
        }
        Ok(h)
    }
}

/// One uploaded part, as the page reports it at completion.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartDone {
    pub part: u32,
    pub etag: String,
}

/// `POST /api/images/{id}/staged/complete`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    pub upload: String,
    pub parts: Vec<PartDone>,
}

/// The parts to complete with, in order: 400 `staged_parts_missing` naming the first missing
/// part, 400 for a part out of range, given twice, or without an etag.
pub fn completion(plan: &PartPlan, parts: &[PartDone]) -> Result<Vec<(u16, String)>, ApiError> {
    let mut etags: Vec<Option<&str>> = vec![None; plan.parts as usize];
    for p in parts {
        plan.part_len(p.part)?;
        let etag = p.etag.trim();
        if etag.is_empty() || etag.len() > MAX_ETAG_LEN {
            return Err(ApiError::bad_request(format!("part {}: the etag is empty or too long", p.part)));
        }
        let slot = &mut etags[p.part as usize - 1];
        if slot.is_some() {
            return Err(ApiError::bad_request(format!("part {} is listed twice", p.part)));
        }
        *slot = Some(etag);
    }
    etags
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let n = i + 1;
            e.map(|e| (n as u16, e.to_string())).ok_or_else(|| {
                ApiError::new(
                    400,
                    "staged_parts_missing",
                    format!("part {n} of {} is missing; send it, then complete again", plan.parts),
                )
            })
        })
        .collect()
}

/// What the page keeps to send parts, complete, follow and cancel the upload; sealed by the
/// worker ([`TOKEN_AAD`]), opaque to the page, and no credential: every call with it also needs
/// the session cookie.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadToken {
    /// The Glance image.
    #[serde(rename = "i")]
    pub image: String,
    /// The staged object's name (its R2 key is [`object_key`]).
    #[serde(rename = "o")]
    pub object: String,
    /// R2's multipart upload id.
    #[serde(rename = "u")]
    pub upload_id: String,
    #[serde(rename = "s")]
    pub size: u64,
    #[serde(rename = "p")]
    pub part_size: u64,
    /// The image's `disk_format`, which part 1's head is checked against.
    #[serde(rename = "f")]
    pub disk_format: String,
    /// The SHA-512 the page declared.
    #[serde(rename = "h")]
    pub sha512: String,
    /// Unix seconds.
    #[serde(rename = "c")]
    pub created: i64,
    /// The upload's migration credential, when it may outlive the session's token.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<Credential>,
}

impl UploadToken {
    pub fn seal(&self, sealer: &Sealer) -> Result<String, ApiError> {
        let json = serde_json::to_vec(self).map_err(|e| ApiError::internal(e.to_string()))?;
        sealer.seal_for(TOKEN_AAD, &json).map_err(ApiError::internal)
    }

    /// The token of an upload to `image`: 403 `staged_token_invalid` when absent, forged or
    /// altered, `staged_token_other_image` for another image, `staged_token_expired` when older
    /// than `max_age` seconds (the upload is abandoned).
    pub fn open(
        sealer: &Sealer,
        token: Option<&str>,
        image: &str,
        now: i64,
        max_age: u64,
    ) -> Result<UploadToken, ApiError> {
        let t: UploadToken = token
            .and_then(|t| sealer.unseal_for(TOKEN_AAD, t.trim()))
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .ok_or_else(|| ApiError::forbidden("staged_token_invalid", "the upload token is not valid"))?;
        if t.image != image {
            return Err(ApiError::forbidden("staged_token_other_image", "the upload token is for another image"));
        }
        if now.saturating_sub(t.created) > i64::try_from(max_age).unwrap_or(i64::MAX) {
            return Err(ApiError::forbidden(
                "staged_token_expired",
                format!("the upload was started over {max_age} s ago (STAGING_MAX_AGE_SECONDS) and is abandoned"),
            ));
        }
        Ok(t)
    }

    pub fn plan(&self) -> PartPlan {
        PartPlan { size: self.size, part_size: self.part_size, parts: self.size.div_ceil(self.part_size) as u32 }
    }

    pub fn key(&self) -> String {
        object_key(&self.image, &self.object)
    }
}

/// The R2 key of a staged object.
pub fn object_key(image: &str, object: &str) -> String {
    format!("{KEY_PREFIX}{image}/{object}")
}

/// A new object name from 16 random bytes.
pub fn object_name(random: &[u8; 16]) -> String {
    hex(random)
}

/// Whether `s` is an object name [`object_name`] makes.
pub fn valid_object(s: &str) -> bool {
    s.len() == OBJECT_NAME_LEN && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

/// Signs and checks the download URLs Glance fetches the staged object from: HMAC-SHA256 over
/// image id, object name and expiry, under a key derived from `SESSION_KEY` with HKDF-SHA256
/// ([`URL_KEY_INFO`]). A URL grants that one object until its expiry, minutes away.
pub struct UrlSigner {
    key: [u8; 32],
}

/// Never prints key material.
impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner")
    }
}

impl UrlSigner {
    /// The signer of `session_key` (the secret as given, like the cookie's key).
    pub fn new(session_key: &str) -> UrlSigner {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, session_key.trim().as_bytes())
            .expand(URL_KEY_INFO, &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 length");
        UrlSigner { key }
    }

    fn mac(&self, image: &str, object: &str, exp: i64) -> Hmac<Sha256> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(format!("{image}\n{object}\n{exp}").as_bytes());
        m
    }

    /// The signature of `image`/`object` until `exp` (Unix seconds), in hex.
    pub fn sign(&self, image: &str, object: &str, exp: i64) -> String {
        hex(&self.mac(image, object, exp).finalize().into_bytes())
    }

    /// The URL under `origin` (the worker's own, `scheme://host[:port]`) valid from `now` for
    /// [`URL_TTL_SECONDS`].
    pub fn url(&self, origin: &str, image: &str, object: &str, now: i64) -> String {
        let exp = now + URL_TTL_SECONDS;
        format!("{origin}/api/staged/{image}/{object}?exp={exp}&sig={}", self.sign(image, object, exp))
    }

    /// Checks a download request's query (`exp` and `sig`, each once): 403
    /// `signed_url_invalid` for anything but a valid signature of this image and object, 403
    /// `signed_url_expired` after its expiry. The signature is compared in constant time and
    /// never echoed.
    pub fn verify(&self, image: &str, object: &str, query: &str, now: i64) -> Result<(), ApiError> {
        let invalid = || ApiError::forbidden("signed_url_invalid", "the download URL is not valid");
        let (mut exp, mut sig) = (None, None);
        for pair in query.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').ok_or_else(invalid)?;
            let slot = match name {
                "exp" => &mut exp,
                "sig" => &mut sig,
                _ => return Err(invalid()),
            };
            if slot.replace(value).is_some() {
                return Err(invalid());
            }
        }
        let exp: i64 = exp.and_then(|e| e.parse().ok()).ok_or_else(invalid)?;
        let sig = sig.and_then(unhex).ok_or_else(invalid)?;
        self.mac(image, object, exp).verify_slice(&sig).map_err(|_| invalid())?;
        if exp < now {
            return Err(ApiError::forbidden("signed_url_expired", "the download URL has expired"));
        }
        if exp > now + URL_TTL_SECONDS + 60 {
            return Err(invalid());
        }
        Ok(())
    }
}

/// Where a staged upload stands, from Glance's image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not yet imported: parts still coming (or completion not yet asked).
    Uploading,
    Importing,
    Active,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Uploading => "uploading",
            State::Importing => "importing",
            State::Active => "active",
            State::Failed => "failed",
        }
    }

    /// Whether the import has ended: the staged object is no longer needed.
    pub fn ended(self) -> bool {
        matches!(self, State::Active | State::Failed)
    }
}

fn listed(v: &Value) -> Option<&str> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// The state from Glance's image: `active`; a failed import (`os_glance_failed_import` names
/// stores: Glance put the image back to `queued`); `importing` (or stores listed in
/// `os_glance_importing_to_stores`); a queued image with neither is still uploading. An image
/// that is killed, deleted or deactivated has failed. The reason, when failed, says why as far
/// as the image tells (the import task's message is better: [`task_failure`]).
pub fn state(image: &Value) -> (State, Option<String>) {
    let status = image["status"].as_str().unwrap_or("");
    if status == "active" {
        return (State::Active, None);
    }
    if let Some(stores) = listed(&image["os_glance_failed_import"]) {
        return (State::Failed, Some(format!("Glance could not import the image into store(s) {stores}")));
    }
    match status {
        "importing" | "uploading" => (State::Importing, None),
        "queued" if listed(&image["os_glance_importing_to_stores"]).is_some() => (State::Importing, None),
        "queued" => (State::Uploading, None),
        other => (State::Failed, Some(format!("the image is {other}"))),
    }
}

/// What Glance's import tasks say when they say nothing (the cause is only in Glance's log).
const OPAQUE_TASK_MESSAGE: &str = "Task failed due to Internal Error";

/// The message of the newest failed task in `GET /v2/images/{id}/tasks`. Glance hides most
/// causes behind `OPAQUE_TASK_MESSAGE` (seen for data that fails its safety checks): then the
/// likely causes are named.
pub fn task_failure(tasks: &Value) -> Option<String> {
    let message = tasks["tasks"]
        .as_array()?
        .iter()
        .filter(|t| t["status"] == "failure")
        .max_by(|a, b| a["updated_at"].as_str().unwrap_or("").cmp(b["updated_at"].as_str().unwrap_or("")))
        .and_then(|t| listed(&t["message"]))?;
    if message.trim_end_matches('.') != OPAQUE_TASK_MESSAGE {
        return Some(message.to_string());
    }
    Some(format!(
        "{message} (Glance names no cause; most often the data failed Glance's safety checks, e.g. a QCOW2 \
         with a backing file or an external data file, or is not of the image's disk_format; \
         Glance's log has the cause)"
    ))
}

/// The `upload` field of the session answers: the body limit the page plans with and whether
/// staging is on (the `STAGING` binding exists).
pub fn upload_info(cfg: &Config, staging: bool) -> Value {
    json!({"body_max": cfg.request_body_max_bytes, "staged": staging})
}

/// Glance's interoperable import of the staged object from `uri`.
pub fn import_body(uri: &str) -> Value {
    json!({"method": {"name": "web-download", "uri": uri}})
}

/// A failed call to the staging bucket: 502 `staging_error` naming the step.
pub fn staging_failed(step: &str, err: impl std::fmt::Display) -> ApiError {
    ApiError::new(502, "staging_error", format!("the staging bucket failed to {step}: {err}"))
}

/// The answer when this deployment has no `STAGING` bucket: 501 `staging_off`.
pub fn off() -> ApiError {
    ApiError::new(501, "staging_off", "staged uploads are off: this deployment has no STAGING bucket")
}

/// How a part upload ended: R2's answer (the part's etag, or why it failed) and the pump of
/// the client's body into it. The client's stream is the cause when both failed.
pub fn part_outcome(n: u32, stored: Result<String, String>, pumped: Result<(), String>) -> Result<Value, ApiError> {
    match (stored, pumped) {
        (Ok(etag), Ok(())) => Ok(json!({"part": n, "etag": etag})),
        (_, Err(e)) => Err(ApiError::new(400, "upload_aborted", format!("part {n}: the upload stream failed: {e}"))),
        (Err(e), Ok(())) => Err(staging_failed(&format!("store part {n}"), e)),
    }
}

/// The completed object's size against the declared one (400 `staged_size_mismatch`; the
/// parts' lengths are checked one by one, so this only catches a bucket gone wrong).
pub fn check_size(t: &UploadToken, stored: u64) -> Result<(), ApiError> {
    if stored != t.size {
        return Err(ApiError::new(
            400,
            "staged_size_mismatch",
            format!("the staged object is {stored} bytes; the upload declared {}", t.size),
        ));
    }
    Ok(())
}

/// R2 refused to complete: the part list the page sent does not match what R2 holds (a part
/// re-sent after its etag was recorded, an etag mistyped), or the upload is gone.
pub fn complete_refused(err: impl std::fmt::Display) -> ApiError {
    ApiError::new(400, "staged_complete_failed", format!("the staged parts could not be joined: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const K: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const IMG: &str = "0b5c1c0e-4f38-4a57-9a0c-1e7e3c6f2a10";
    const OBJ: &str = "00112233445566778899aabbccddeeff";

    fn check(p: &PartPlan) {
        assert!(p.parts as u64 <= MAX_PARTS);
        assert!(p.parts == 1 || p.part_size >= MIN_PART, "{p:?}");
        let total: u64 = (1..=p.parts).map(|n| p.part_len(n).unwrap()).sum();
        assert_eq!(total, p.size, "{p:?}");
        let last = p.part_len(p.parts).unwrap();
        assert!(last > 0 && last <= p.part_size, "{p:?}");
    }

    #[test]
    fn part_plans() {
        // the tests' 8 MiB limit: a 100 MB image in 12 parts of 8 MiB
        let p = PartPlan::new(100_000_000, Some(8 * MIB), 1 << 40).unwrap();
        assert_eq!((p.part_size, p.parts), (8 * MIB, 12));
        check(&p);
        // Cloudflare Free (100 MB) or no limit: the target size while the part count allows
        for body_max in [Some(100_000_000), None] {
            let p = PartPlan::new(10 << 30, body_max, 1 << 40).unwrap();
            assert_eq!((p.part_size, p.parts), (TARGET_PART, 160));
            check(&p);
        }
        // 900 GB under Free: parts at the body limit itself (whole MiB would exceed it)
        let p = PartPlan::new(999_000_000_000, Some(100_000_000), 1 << 40).unwrap();
        assert_eq!((p.part_size, p.parts), (100_000_000, 9990));
        check(&p);
        // 2 TB under Enterprise's 500 MB: parts of at least 200 MB, whole MiB
        let p = PartPlan::new(2_000_000_000_000, Some(500_000_000), 1 << 41).unwrap();
        assert_eq!(p.part_size, 191 * MIB);
        assert!(p.parts as u64 <= MAX_PARTS);
        check(&p);
        // small images: one part, whatever the limit
        let p = PartPlan::new(3 * MIB, Some(8 * MIB), 1 << 40).unwrap();
        assert_eq!((p.part_size, p.parts), (3 * MIB, 1));
        check(&p);
        let p = PartPlan::new(1000, Some(512), 1 << 40);
        assert_eq!(p.unwrap_err().error, "staged_too_large", "a limit under 5 MiB takes one part only");
        // exactly at the edge
        let p = PartPlan::new(8 * MIB * MAX_PARTS, Some(8 * MIB), u64::MAX).unwrap();
        assert_eq!((p.part_size, p.parts as u64), (8 * MIB, MAX_PARTS));
        check(&p);
    }

    #[test]
    fn impossible_sizes_say_the_largest() {
        let e = PartPlan::new(100_000_000 * MAX_PARTS + 1, Some(100_000_000), u64::MAX).unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (413, "staged_too_large"));
        assert!(e.detail.contains("at most 1000000000000 bytes"), "{}", e.detail);
        assert!(e.detail.contains("self-hosted"), "{}", e.detail);
        let e = PartPlan::new(2 << 40, None, 1 << 40).unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (413, "too_large"));
        assert!(e.detail.contains("UPLOAD_MAX_BYTES"), "{}", e.detail);
        assert_eq!(largest(Some(100_000_000), 1 << 40), 1_000_000_000_000, "10,000 parts of 100 MB");
        assert_eq!(largest(Some(500_000_000), 1 << 40), 1 << 40, "UPLOAD_MAX_BYTES is lower");
        assert_eq!(largest(Some(4 * MIB), 1 << 40), 4 * MIB);
        assert_eq!(PartPlan::new(0, None, 1).unwrap_err().status, 400);
    }

    #[test]
    fn part_lengths_are_exact() {
        let p = PartPlan::new(20 * MIB + 7, Some(8 * MIB), 1 << 40).unwrap();
        assert_eq!(p.parts, 3);
        assert_eq!(p.check_part(1, Some("8388608")), Ok(8 * MIB));
        assert_eq!(p.check_part(3, Some(&(4 * MIB + 7).to_string())), Ok(4 * MIB + 7));
        let e = p.check_part(3, Some("8388608")).unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (400, "staged_part_length"));
        assert_eq!(e.detail, "part 3 is 4194311 bytes long; this request sends 8388608");
        assert_eq!(p.check_part(2, None).unwrap_err().status, 411);
        for n in [0, 4] {
            let e = p.check_part(n, Some("1")).unwrap_err();
            assert_eq!((e.status, e.error.as_str()), (400, "staged_part_out_of_range"));
        }
    }

    fn done(list: &[(u32, &str)]) -> Vec<PartDone> {
        list.iter().map(|&(part, etag)| PartDone { part, etag: etag.into() }).collect()
    }

    #[test]
    fn completion_needs_every_part_once() {
        let p = PartPlan::new(20 * MIB, Some(8 * MIB), 1 << 40).unwrap();
        assert_eq!(
            completion(&p, &done(&[(3, "c"), (1, "a"), (2, "b")])).unwrap(),
            vec![(1, "a".to_string()), (2, "b".into()), (3, "c".into())]
        );
        let e = completion(&p, &done(&[(1, "a"), (3, "c")])).unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (400, "staged_parts_missing"));
        assert_eq!(e.detail, "part 2 of 3 is missing; send it, then complete again");
        assert_eq!(completion(&p, &[]).unwrap_err().detail, "part 1 of 3 is missing; send it, then complete again");
        assert!(completion(&p, &done(&[(1, "a"), (1, "a"), (2, "b"), (3, "c")])).unwrap_err().detail.contains("twice"));
        assert_eq!(completion(&p, &done(&[(4, "d")])).unwrap_err().error, "staged_part_out_of_range");
        assert!(completion(&p, &done(&[(1, " "), (2, "b"), (3, "c")])).unwrap_err().detail.contains("etag"));
        let long = "e".repeat(MAX_ETAG_LEN + 1);
        assert!(completion(&p, &done(&[(1, &long), (2, "b"), (3, "c")])).unwrap_err().detail.contains("etag"));
        let local = "e".repeat(171);
        assert!(completion(&p, &done(&[(1, &local), (2, "b"), (3, "c")])).is_ok(), "wrangler dev's etags");
    }

    fn token(created: i64) -> UploadToken {
        UploadToken {
            image: IMG.into(),
            object: OBJ.into(),
            upload_id: "r2-upload-id".into(),
            size: 20 * MIB,
            part_size: 8 * MIB,
            disk_format: "qcow2".into(),
            sha512: "ab".repeat(64),
            created,
            credential: None,
        }
    }

    #[test]
    fn tokens_open_for_their_image_only_and_expire() {
        let s = Sealer::new(K, None).unwrap();
        let t = token(1_000).seal(&s).unwrap();
        let opened = UploadToken::open(&s, Some(&t), IMG, 1_000 + 86_400, 86_400).unwrap();
        assert_eq!(opened, token(1_000));
        assert_eq!(opened.plan(), PartPlan { size: 20 * MIB, part_size: 8 * MIB, parts: 3 });
        assert_eq!(opened.key(), format!("staged/{IMG}/{OBJ}"));
        let code = |r: Result<UploadToken, ApiError>| {
            let e = r.unwrap_err();
            assert_eq!(e.status, 403);
            e.error
        };
        assert_eq!(code(UploadToken::open(&s, Some(&t), "other", 1_000, 86_400)), "staged_token_other_image");
        assert_eq!(code(UploadToken::open(&s, Some(&t), IMG, 1_000 + 86_401, 86_400)), "staged_token_expired");
        assert_eq!(code(UploadToken::open(&s, None, IMG, 1_000, 86_400)), "staged_token_invalid");
        let mut forged = t.clone();
        forged.replace_range(10..11, if &t[10..11] == "A" { "B" } else { "A" });
        assert_eq!(code(UploadToken::open(&s, Some(&forged), IMG, 1_000, 86_400)), "staged_token_invalid");
        // another key, and a session cookie, are no tokens; a token is no session cookie
        let other = Sealer::new("YW5vdGhlciBrZXkgb2YgYXQgbGVhc3QgdGhpcnR5LXR3byBieXRlcw", None).unwrap();
        assert_eq!(code(UploadToken::open(&other, Some(&t), IMG, 1_000, 86_400)), "staged_token_invalid");
        let cookie = s.seal(&serde_json::to_vec(&token(1_000)).unwrap()).unwrap();
        assert_eq!(code(UploadToken::open(&s, Some(&cookie), IMG, 1_000, 86_400)), "staged_token_invalid");
        assert_eq!(s.unseal(&t), None);
        // the migration credential travels sealed only
        let mut with = token(1_000);
        with.credential =
            Some(Credential { id: "app-cred-id-0001".into(), secret: "app-cred-secret".into(), expires: 5_000 });
        let sealed = with.seal(&s).unwrap();
        assert!(!sealed.contains("app-cred-secret") && !sealed.contains("app-cred-id"));
        assert_eq!(UploadToken::open(&s, Some(&sealed), IMG, 1_000, 86_400).unwrap(), with);
    }

    #[test]
    fn object_names() {
        let n = object_name(&[0xab; 16]);
        assert_eq!(n, "ab".repeat(16));
        assert!(valid_object(&n) && valid_object(OBJ));
        for bad in ["", "AB".repeat(16).as_str(), "../etc/passwd", &"a".repeat(33), &"g".repeat(32)] {
            assert!(!valid_object(bad), "{bad}");
        }
    }

    #[test]
    fn signed_urls() {
        let s = UrlSigner::new(K);
        let now = 1_700_000_000;
        let url = s.url("http://127.0.0.1:8787", IMG, OBJ, now);
        let query = url.split_once('?').unwrap().1;
        assert!(url.starts_with(&format!("http://127.0.0.1:8787/api/staged/{IMG}/{OBJ}?exp={}&sig=", now + 600)));
        assert_eq!(s.verify(IMG, OBJ, query, now), Ok(()));
        assert_eq!(s.verify(IMG, OBJ, query, now + 600), Ok(()), "valid up to its expiry");
        let code = |r: Result<(), ApiError>| {
            let e = r.unwrap_err();
            assert_eq!(e.status, 403);
            assert!(!e.detail.contains("sig="), "never echoed");
            e.error
        };
        assert_eq!(code(s.verify(IMG, OBJ, query, now + 601)), "signed_url_expired");
        assert_eq!(code(s.verify("11111111-2222-3333-4444-555555555555", OBJ, query, now)), "signed_url_invalid");
        assert_eq!(code(s.verify(IMG, &"0".repeat(32), query, now)), "signed_url_invalid");
        assert_eq!(code(UrlSigner::new("YW5vdGhlcg==").verify(IMG, OBJ, query, now)), "signed_url_invalid");
        // an expiry moved later does not match its signature
        let sig = s.sign(IMG, OBJ, now + 600);
        assert_eq!(code(s.verify(IMG, OBJ, &format!("exp={}&sig={sig}", now + 6000), now)), "signed_url_invalid");
        // a correctly signed expiry too far ahead is refused too
        let far = now + 3600;
        assert_eq!(
            code(s.verify(IMG, OBJ, &format!("exp={far}&sig={}", s.sign(IMG, OBJ, far)), now)),
            "signed_url_invalid"
        );
        for q in
            ["", "exp=1", &format!("sig={sig}"), &format!("{query}&exp=1"), &format!("{query}&x=1"), "exp=a&sig=zz"]
        {
            assert_eq!(code(s.verify(IMG, OBJ, q, now)), "signed_url_invalid", "{q}");
        }
        assert_ne!(UrlSigner::new(K).sign(IMG, OBJ, 1), s.sign(IMG, OBJ, 2));
    }

    /// The derivation the node tests repeat (hkdfSync('sha256', key, '', info, 32)).
    #[test]
    fn signature_known_answer() {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, K.as_bytes()).expand(URL_KEY_INFO, &mut key).unwrap();
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
        m.update(format!("{IMG}\n{OBJ}\n5").as_bytes());
        assert_eq!(UrlSigner::new(K).sign(IMG, OBJ, 5), hex(&m.finalize().into_bytes()));
        assert_eq!(unhex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(unhex("0"), None);
    }

    #[test]
    fn states_from_glance() {
        let st = |v: Value| state(&v);
        assert_eq!(st(json!({"status": "active"})), (State::Active, None));
        assert_eq!(st(json!({"status": "queued", "os_glance_importing_to_stores": ""})), (State::Uploading, None));
        assert_eq!(st(json!({"status": "queued", "os_glance_importing_to_stores": "fs"})), (State::Importing, None));
        assert_eq!(st(json!({"status": "importing"})), (State::Importing, None));
        let (s, reason) =
            st(json!({"status": "queued", "os_glance_failed_import": "fs", "os_glance_importing_to_stores": ""}));
        assert_eq!((s, reason.as_deref()), (State::Failed, Some("Glance could not import the image into store(s) fs")));
        assert_eq!(st(json!({"status": "killed"})), (State::Failed, Some("the image is killed".into())));
        assert!(State::Active.ended() && State::Failed.ended() && !State::Importing.ended());
        let tasks = json!({"tasks": [
            {"status": "failure", "message": "old", "updated_at": "2026-01-01T00:00:00Z"},
            {"status": "failure", "message": "403 Forbidden", "updated_at": "2026-01-02T00:00:00Z"},
            {"status": "success", "message": "", "updated_at": "2026-01-03T00:00:00Z"}]});
        assert_eq!(task_failure(&tasks).as_deref(), Some("403 Forbidden"));
        assert_eq!(task_failure(&json!({"tasks": []})), None);
        assert_eq!(task_failure(&json!({})), None);
        let opaque = json!({"tasks": [{"status": "failure", "message": "Task failed due to Internal Error", "updated_at": "1"}]});
        let m = task_failure(&opaque).unwrap();
        assert!(m.starts_with("Task failed due to Internal Error (") && m.contains("safety checks"), "{m}");
    }

    #[test]
    fn answers() {
        let m = std::collections::HashMap::from([("REQUEST_BODY_MAX_BYTES".to_string(), "8388608".to_string())]);
        let cfg = Config::from_lookup(&|k| m.get(k).cloned()).unwrap();
        assert_eq!(upload_info(&cfg, true), json!({"body_max": 8388608, "staged": true}));
        let cfg = Config::from_lookup(&|_| None).unwrap();
        assert_eq!(upload_info(&cfg, false), json!({"body_max": null, "staged": false}));
        assert_eq!(import_body("http://x/y"), json!({"method": {"name": "web-download", "uri": "http://x/y"}}));
        let e = staging_failed("store part 2", "boom");
        assert_eq!(
            (e.status, e.error.as_str(), e.detail.as_str()),
            (502, "staging_error", "the staging bucket failed to store part 2: boom")
        );
        assert_eq!(complete_refused("x").error, "staged_complete_failed");
        assert_eq!(off().status, 501);
        assert_eq!(part_outcome(2, Ok("e".into()), Ok(())).unwrap(), json!({"part": 2, "etag": "e"}));
        let e = part_outcome(2, Err("stream ended".into()), Err("reset".into())).unwrap_err();
        assert_eq!(
            (e.status, e.error.as_str(), e.detail.as_str()),
            (400, "upload_aborted", "part 2: the upload stream failed: reset")
        );
        assert_eq!(part_outcome(2, Err("R2 down".into()), Ok(())).unwrap_err().error, "staging_error");
        assert_eq!(check_size(&token(0), 20 * MIB), Ok(()));
        assert_eq!(check_size(&token(0), 20 * MIB - 1).unwrap_err().error, "staged_size_mismatch");
    }
}
