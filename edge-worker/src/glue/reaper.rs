//! The sweep of abandoned staged uploads (`crate::reaper` decides): records in and out of the
//! `STAGING` bucket, and the scheduled handler (`[triggers] crons` in `wrangler.toml`).

use worker::{console_log, Bucket, Env};

use super::upstream::OpenStack;
use super::{env_str, now_secs};
use crate::config::Config;
use crate::reaper::{self, Record, Verdict};
use crate::seal::Sealer;
use crate::session::Session;
use crate::staged::UploadToken;
use crate::upstream::{lenient_json, Service};

/// Leaves the record of staged upload `t` (with a credential) for the sweep; logged when R2
/// refuses (the upload goes on, unswept).
pub async fn track(bucket: &Bucket, sealer: &Sealer, s: &Session, t: &UploadToken) {
    let (Some(credential), Some(image_endpoint)) = (&t.credential, &s.endpoints.image) else { return };
    let record = Record {
        image: t.image.clone(),
        object_key: t.key(),
        auth_url: s.auth_url.clone(),
        image_endpoint: image_endpoint.clone(),
        credential: credential.clone(),
        created: t.created,
    };
    let stored = match record.seal(sealer) {
        Ok(sealed) => bucket.put(reaper::key(&t.image), sealed).execute().await.map(|_| ()).map_err(|e| e.to_string()),
        Err(e) => Err(e.detail),
    };
    if let Err(e) = stored {
        console_log!("image {}: the upload's record was not stored: {}", t.image, e);
    }
}

/// Removes the record once the upload has ended.
pub async fn untrack(bucket: &Bucket, image: &str) {
    if let Err(e) = bucket.delete(reaper::key(image)).await {
        console_log!("image {}: the upload's record was not deleted: {}", image, e);
    }
}

/// One sweep: every record past `STAGING_MAX_AGE_SECONDS` has its image (unless active) and its
/// staged object deleted, with a token from its credential; returns how many were reaped.
pub async fn sweep(env: &Env) -> usize {
    let Some(bucket) = super::bucket::staging(env) else { return 0 };
    let Ok(cfg) = Config::from_lookup(&|k| env_str(env, k)) else { return 0 };
    let Ok(sealer) =
        Sealer::new(&env_str(env, "SESSION_KEY").unwrap_or_default(), env_str(env, "SESSION_KEY_PREVIOUS").as_deref())
    else {
        return 0;
    };
    let listed = match bucket.list().prefix(reaper::RECORD_PREFIX).limit(reaper::MAX_PER_SWEEP as u32).execute().await {
        Ok(l) => l.objects(),
        Err(e) => {
            console_log!("sweep: listing the records failed: {}", e);
            return 0;
        }
    };
    let mut reaped = 0;
    for object in listed {
        let key = object.key();
        let sealed = match bucket.get(&key).execute().await {
            Ok(Some(o)) => match o.body() {
                Some(b) => b.text().await.unwrap_or_default(),
                None => String::new(),
            },
            _ => continue,
        };
        let record = Record::open(&sealer, &sealed);
        match reaper::verdict(record.as_ref(), now_secs(), cfg.staging_max_age_seconds) {
            Verdict::Wait => continue,
            Verdict::Forget => {}
            Verdict::Reap => {
                let Some(r) = record else { continue };
                if !reap(&bucket, &r).await {
                    continue; // asked again at the next sweep
                }
                reaped += 1;
            }
        }
        let _ = bucket.delete(&key).await;
    }
    reaped
}

/// Deletes an abandoned upload's image (unless active) and staged object: whether done.
async fn reap(bucket: &Bucket, r: &Record) -> bool {
    let Some(os) = token(r).await else { return false };
    let path = format!("/images/{}", r.image);
    let status = match os.send(Service::Image, "GET", &path, None, &[]).await {
        Ok(a) if a.status == 200 => lenient_json(&a.body)["status"].as_str().map(String::from),
        Ok(a) if a.status == 404 => None,
        _ => return false,
    };
    if reaper::delete_image(status.as_deref()) {
        match os.send(Service::Image, "DELETE", &path, None, &[]).await {
            Ok(a) if crate::upstream::image_gone(a.status) => {}
            _ => return false,
        }
    }
    let _ = bucket.delete(&r.object_key).await;
    console_log!("sweep: the abandoned upload of image {} is cleaned up", r.image);
    true
}

/// Glance with a fresh token from the record's credential.
async fn token(r: &Record) -> Option<OpenStack> {
    let token = super::credential::fresh_token(&r.auth_url, &r.credential).await.ok()?;
    Some(OpenStack::image(&r.auth_url, &r.image_endpoint, &token))
}
