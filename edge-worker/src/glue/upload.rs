//! `PUT /api/images/{id}/file`: the streams. The first bytes are read for the check, then the
//! request body goes into Glance through a `FixedLengthStream` (so Glance gets a
//! `Content-Length`) without passing through Rust. The streaming and the clean-up run under
//! `waitUntil`, so a client that disconnects still gets its image deleted. What each step
//! decides is `crate::upload`'s. An upload that may outlive the session's token gets a
//! migration credential (`crate::credential`) for the calls after the stream.

use futures::channel::oneshot;
use js_sys::{Promise, Uint8Array};
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStream, ReadableStreamDefaultReader, WritableStream};
use worker::{console_log, Context};

use super::http::{fixed_length, header, internal, js_err, ok_json, read_capped, read_head, refill, ApiResult};
use super::upstream::{global, OpenStack};
use crate::api::UPLOAD_LENGTH_HEADER;
use crate::api::{ApiError, MAX_UPSTREAM_BODY};
use crate::config::Config;
use crate::credential::{self, Credential};
use crate::session::Session;
use crate::upload;
use crate::upstream::{self, image_gone, success, Service};
use stackferry::qcow2::probe;

/// Deletes a failed upload's image, trying again after the waits of `upload::DELETE_RETRY_MS`
/// (it runs after errors, when Glance may be going away or restarting). True when the image is
/// gone.
async fn delete_image(os: &OpenStack, id: &str) -> bool {
    let Ok(url) = os.url(Service::Image, &format!("/images/{id}")) else { return false };
    for (attempt, wait) in (1..).zip(upload::DELETE_RETRY_MS) {
        if wait > 0 {
            worker::Delay::from(std::time::Duration::from_millis(wait.into())).await;
        }
        match os.fetch(Service::Image, "DELETE", &url, None, &[]).await {
            Ok(r) if image_gone(r.status) => return true,
            Ok(r) => console_log!("image {}: delete attempt {} answered HTTP {}", id, attempt, r.status),
            Err(e) => console_log!("image {}: delete attempt {} failed: {}", id, attempt, e),
        }
    }
    false
}

/// `e`, with the upload's image deleted (no orphans).
async fn with_image_deleted(os: &OpenStack, id: &str, mut e: ApiError) -> ApiError {
    e.image_deleted = Some(delete_image(os, id).await);
    e
}

/// Checks the image is queued and the declared length, reads and checks the first bytes, then
/// streams the body into Glance under `waitUntil` and answers with the stored image.
pub async fn upload(
    req: &worker::Request,
    ctx: &Context,
    cfg: &Config,
    os: &OpenStack,
    s: &Session,
    id: &str,
) -> ApiResult<web_sys::Response> {
    let meta = os.get(Service::Image, &format!("/images/{id}")).await?;
    let disk_format = upload::queued_format(id, &meta)?;
    // from here on, a refused upload deletes the (empty) image
    let declared = upload::declared_length(
        header(req, "Content-Length").as_deref(),
        header(req, UPLOAD_LENGTH_HEADER).as_deref(),
        cfg.upload_max_bytes,
    );
    let len = match declared {
        Ok(n) => n,
        Err(e) => return Err(with_image_deleted(os, id, e).await),
    };
    let body = req.inner().body().ok_or_else(|| ApiError::bad_request("the upload has no body"))?;

    // the first bytes, for the check; kept as they came to be written upstream first
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let (head, chunks) = read_head(&reader, upload::head_len(len))
        .await
        .map_err(|e| ApiError::bad_request(format!("reading the upload failed: {e}")))?;
    if let Err(e) = probe::check_upload(&format!("image {id}"), &disk_format, &head, len) {
        let _ = reader.cancel();
        let err = with_image_deleted(os, id, upload::refused(&e)).await;
        console_log!(
            "upload {}: refused before Glance ({}), image deleted: {}",
            id,
            e.message,
            err.image_deleted == Some(true)
        );
        return Err(err);
    }
    reader.release_lock();
    let credential =
        super::credential::create(os, s, id, credential::estimate(len), credential::MAX_LIFETIME as u64).await;

    let fixed = fixed_length(len)?;
    let writable: WritableStream = fixed.writable();
    let readable: ReadableStream = fixed.readable();
    let put = os
        .request(
            Service::Image,
            "PUT",
            &os.url(Service::Image, &format!("/images/{id}/file"))?,
            Some(&readable),
            &[("Content-Type", "application/octet-stream")],
        )
        .map_err(ApiError::internal)?;
    let fetch_promise: Promise = global().fetch_with_request(&put);

    let (tx, rx) = oneshot::channel::<ApiResult<Value>>();
    let (os, s, id) = (os.clone(), s.clone(), id.to_string());
    ctx.wait_until(async move {
        let mut out = stream(fetch_promise, writable, chunks, body, &os, &s, credential.as_ref(), &id, len).await;
        if let Some(c) = &credential {
            let deleted = super::credential::delete(&os, &s, c).await;
            console_log!("upload {}: migration credential deleted: {}", id, deleted);
            if let (Ok(v), Some(failed)) = (&mut out, credential::report(Some(c), deleted)) {
                v["credential"] = failed;
            }
        }
        if let Err(e) = &out {
            console_log!("upload {}: failed ({}: {}), image deleted: {:?}", id, e.error, e.detail, e.image_deleted);
        }
        let _ = tx.send(out);
    });
    match rx.await {
        Ok(Ok(v)) => ok_json(&v),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ApiError::internal("the upload task ended without a result")),
    }
}

/// Writes the first chunks, pipes the rest of the client's body into Glance's `PUT`, and
/// answers with the stored image once both sides have ended (the calls after the stream with
/// a fresh token from `credential` when the session's has expired).
#[allow(clippy::too_many_arguments)]
async fn stream(
    fetch_promise: Promise,
    writable: WritableStream,
    chunks: Vec<Uint8Array>,
    body: ReadableStream,
    os: &OpenStack,
    s: &Session,
    credential: Option<&Credential>,
    id: &str,
    len: u64,
) -> ApiResult<Value> {
    let abort = AbortController::new().map_err(internal)?;
    let fetch_side = async {
        let r = JsFuture::from(fetch_promise).await;
        let ok = matches!(&r, Ok(v) if v.unchecked_ref::<web_sys::Response>().ok());
        if !ok {
            // Glance gave up: stop pumping the client's bytes
            abort.abort();
        }
        r
    };
    let signal = abort.signal();
    let pump_side = refill(&writable, &chunks, &body, Some(&signal));
    let (fetched, pumped) = futures::join!(fetch_side, pump_side);

    // Glance's answer: its body only matters when it refused
    let glance = match fetched {
        Ok(resp) => {
            let resp: web_sys::Response = resp.unchecked_into();
            let refusal = match resp.body() {
                Some(b) if !success(resp.status()) => read_capped(&b, MAX_UPSTREAM_BODY).await.unwrap_or_default(),
                _ => Vec::new(),
            };
            Ok((resp.status(), refusal))
        }
        Err(e) => Err(js_err(e)),
    };
    // the token that can still speak for the user: its image cannot be deleted without one
    let os = &super::credential::client(os, s, credential).await.map_err(|mut e| {
        e.image_deleted = Some(false);
        e
    })?;
    if let Some(e) = upload::stream_failure(glance, pumped) {
        return Err(with_image_deleted(os, id, e).await);
    }
    let r = os.expect(Service::Image, "GET", &format!("/images/{id}"), None, |s| s == 200).await?;
    match upload::stored(&upstream::lenient_json(&r.body), len) {
        Ok(v) => Ok(v),
        Err(e) => Err(with_image_deleted(os, id, e).await),
    }
}
