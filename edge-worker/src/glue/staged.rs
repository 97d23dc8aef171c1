//! Staged uploads (`crate::staged` decides): parts into an R2 multipart upload, completion,
//! Glance's `web-download` import from a signed URL this worker serves, state and cancel. The
//! upload's migration credential (`crate::credential`) rides in its sealed token: the calls to
//! Glance after the session's token has expired use fresh tokens from it.

use serde_json::json;
use wasm_bindgen::JsCast;
use web_sys::{Headers, ReadableStreamDefaultReader, ResponseInit};
use worker::{Bucket, Data, Env, ResponseBody, UploadedPart};

use super::http::{
    fixed_length, header, internal, json_response, ok_json, read_body_up_to, read_head, read_json, refill, ApiResult,
};
use super::upstream::OpenStack;
use super::{env_str, now_secs};
use crate::api::TOKEN_HEADER;
use crate::api::{self, ApiError};
use crate::config::Config;
use crate::credential;
use crate::openstack::trim_image;
use crate::reaper;
use crate::seal::Sealer;
use crate::session::{self, Session};
use crate::staged::{self, CompleteRequest, PartPlan, StartRequest, State, UploadToken, UrlSigner};
use crate::upload;
use crate::upstream::{image_gone, Service};
use stackferry::qcow2::probe;

type Answer = ApiResult<web_sys::Response>;

/// Name of the R2 binding.
/// What every staged route of a session works with.
pub struct Staging<'a> {
    bucket: Bucket,
    cfg: &'a Config,
    sealer: &'a Sealer,
    os: &'a OpenStack,
    session: &'a Session,
}

impl<'a> Staging<'a> {
    /// 501 `staging_off` without the binding.
    pub fn of(
        env: &Env,
        cfg: &'a Config,
        sealer: &'a Sealer,
        os: &'a OpenStack,
        session: &'a Session,
    ) -> ApiResult<Staging<'a>> {
        Ok(Staging { bucket: super::bucket::staging(env).ok_or_else(staged::off)?, cfg, sealer, os, session })
    }

    /// OpenStack for a call of upload `t`: the session's token, or a fresh one from its
    /// credential.
    async fn client(&self, t: &UploadToken) -> ApiResult<OpenStack> {
        super::credential::client(self.os, self.session, t.credential.as_ref()).await
    }

    /// Deletes `t`'s credential once its upload has ended and the bucket's record of it; sets
    /// the answer's `credential` when the credential could not be deleted.
    async fn ended(&self, t: &UploadToken, answer: &mut serde_json::Value) {
        super::reaper::untrack(&self.bucket, &t.image).await;
        let Some(c) = &t.credential else { return };
        if let Some(failed) = credential::report(Some(c), super::credential::delete(self.os, self.session, c).await) {
            answer["credential"] = failed;
        }
    }

    fn open(&self, token: Option<&str>, id: &str) -> ApiResult<UploadToken> {
        UploadToken::open(self.sealer, token, id, now_secs(), self.cfg.staging_max_age_seconds)
    }

    fn token(&self, req: &worker::Request, id: &str) -> ApiResult<UploadToken> {
        self.open(header(req, TOKEN_HEADER).as_deref(), id)
    }

    fn upload(&self, t: &UploadToken) -> ApiResult<worker::MultipartUpload> {
        self.bucket.resume_multipart_upload(t.key(), &t.upload_id).map_err(|e| staged::staging_failed("resume", e))
    }
}

/// `POST /api/images/{id}/staged`: plans the parts and opens the multipart upload.
pub async fn start(req: &worker::Request, st: &Staging<'_>, id: &str) -> Answer {
    let body: StartRequest = read_json(req).await?;
    let sha512 = body.sha512()?;
    let plan = PartPlan::new(body.size, st.cfg.request_body_max_bytes, st.cfg.upload_max_bytes)?;
    let disk_format = upload::queued_format(id, &st.os.get(Service::Image, &format!("/images/{id}")).await?)?;
    let mut random = [0u8; 16];
    getrandom::getrandom(&mut random).map_err(|e| ApiError::internal(format!("no random numbers: {e}")))?;
    let object = staged::object_name(&random);
    // a staged upload may be paused and resumed until it is abandoned; then the sweep
    // (`crate::reaper`) needs the credential a while longer
    let age = i64::try_from(st.cfg.staging_max_age_seconds).unwrap_or(i64::MAX).saturating_add(reaper::SWEEP_GRACE);
    let age_limit = u64::try_from(age).unwrap_or(u64::MAX);
    let mp = st
        .bucket
        .create_multipart_upload(staged::object_key(id, &object))
        .execute()
        .await
        .map_err(|e| staged::staging_failed("start the upload", e))?;
    let t = UploadToken {
        image: id.to_string(),
        object,
        upload_id: mp.upload_id().await,
        size: plan.size,
        part_size: plan.part_size,
        disk_format,
        sha512,
        created: now_secs(),
        credential: super::credential::create(st.os, st.session, id, age, age_limit).await,
    };
    super::reaper::track(&st.bucket, st.sealer, st.session, &t).await;
    // the browser keeps the session cookie while the credential can carry the upload
    let cookie = match &t.credential {
        Some(c) => vec![(
            "Set-Cookie",
            session::set_cookie(
                &st.session.seal(st.sealer).map_err(ApiError::internal)?,
                credential::cookie_max_age(st.session.remaining(now_secs()), now_secs(), c.expires),
            ),
        )],
        None => Vec::new(),
    };
    Ok(json_response(
        201,
        &json!({"upload": t.seal(st.sealer)?, "part_size": plan.part_size, "parts": plan.parts,
            "credential": t.credential.is_some()}),
        &cookie,
    ))
}

/// `PUT /api/images/{id}/staged/{n}`: the body, exactly the part's length, into R2 (part 1's
/// head checked as the direct path checks it). After the session's token has expired, only an
/// upload whose credential can carry it takes parts.
pub async fn part(req: &worker::Request, st: &Staging<'_>, id: &str, n: u32) -> Answer {
    let t = st.token(req, id)?;
    credential::choose(st.session.expires, now_secs(), t.credential.as_ref())?;
    let len = t.plan().check_part(n, header(req, "Content-Length").as_deref())?;
    let body = req.inner().body().ok_or_else(|| ApiError::bad_request("the part has no body"))?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let need = if n == 1 { upload::head_len(t.size).min(len as usize) } else { 0 };
    let (head, chunks) =
        read_head(&reader, need).await.map_err(|e| ApiError::bad_request(format!("reading part {n} failed: {e}")))?;
    if n == 1 {
        if let Err(e) = probe::check_upload(&format!("image {id}"), &t.disk_format, &head, t.size) {
            let _ = reader.cancel();
            return Err(upload::refused(&e));
        }
    }
    reader.release_lock();
    let fixed = fixed_length(len)?;
    let mp = st.upload(&t)?;
    let store = async {
        mp.upload_part(n as u16, Data::ReadableStream(fixed.readable()))
            .await
            .map(|p| p.etag())
            .map_err(|e| e.to_string())
    };
    let writable = fixed.writable();
    let (stored, pumped) = futures::join!(store, refill(&writable, &chunks, &body, None));
    ok_json(&staged::part_outcome(n, stored, pumped)?)
}

/// `POST /api/images/{id}/staged/complete`: joins the parts, then asks Glance to import the
/// object from a signed URL on this worker.
pub async fn complete(req: &worker::Request, env: &Env, st: &Staging<'_>, id: &str) -> Answer {
    let c: CompleteRequest = api::parse_json(&read_body_up_to(req, staged::MAX_COMPLETE_BODY).await?)?;
    let t = st.open(Some(&c.upload), id)?;
    let parts = staged::completion(&t.plan(), &c.parts)?;
    let joined = st.upload(&t)?.complete(parts.into_iter().map(|(n, etag)| UploadedPart::new(n, etag))).await;
    let size = match joined {
        Ok(object) => object.size(),
        // `complete` is not idempotent: a second call (the first answer was lost) finds the object
        Err(e) => match st.bucket.head(t.key()).await {
            Ok(Some(object)) => object.size(),
            _ => return Err(staged::complete_refused(e)),
        },
    };
    if let Err(e) = staged::check_size(&t, size) {
        let _ = st.bucket.delete(t.key()).await;
        return Err(e);
    }
    let url = req.url().map_err(|e| ApiError::internal(e.to_string()))?.to_string();
    let origin = api::origin_of(&url).ok_or_else(|| ApiError::internal("the request has no origin"))?;
    let uri = UrlSigner::new(&env_str(env, "SESSION_KEY").unwrap_or_default()).url(&origin, id, &t.object, now_secs());
    let path = format!("/images/{id}/import");
    st.client(&t).await?.expect(Service::Image, "POST", &path, Some(&staged::import_body(&uri)), |s| s == 202).await?;
    Ok(json_response(202, &json!({"state": State::Importing.as_str()}), &[]))
}

/// `GET /api/images/{id}/staged`: the state from Glance's image (the failed import task's
/// message as the reason); the staged object is deleted once the import has ended.
pub async fn state(req: &worker::Request, st: &Staging<'_>, id: &str) -> Answer {
    let t = st.token(req, id)?;
    let os = st.client(&t).await?;
    let image = os.get(Service::Image, &format!("/images/{id}")).await?;
    let (state, mut reason) = staged::state(&image);
    if state == State::Failed {
        if let Ok(tasks) = os.get(Service::Image, &format!("/images/{id}/tasks")).await {
            reason = staged::task_failure(&tasks).or(reason);
        }
    }
    let mut answer = json!({"state": state.as_str(), "reason": reason, "image": trim_image(&image)});
    if state.ended() {
        st.bucket.delete(t.key()).await.map_err(|e| staged::staging_failed("delete the staged object", e))?;
        st.ended(&t, &mut answer).await;
    }
    ok_json(&answer)
}

/// `DELETE /api/images/{id}/staged`: aborts the multipart upload, deletes the object and the
/// Glance image.
pub async fn delete(req: &worker::Request, st: &Staging<'_>, id: &str) -> Answer {
    let t = st.token(req, id)?;
    // completed or aborted before: nothing left to abort
    let _ = st.upload(&t)?.abort().await;
    st.bucket.delete(t.key()).await.map_err(|e| staged::staging_failed("delete the staged object", e))?;
    st.client(&t).await?.expect(Service::Image, "DELETE", &format!("/images/{id}"), None, image_gone).await?;
    let mut answer = json!({"deleted": true});
    st.ended(&t, &mut answer).await;
    ok_json(&answer)
}

/// `GET /api/staged/{id}/{object}?exp=..&sig=..`: the staged object for Glance, on a valid
/// signature only.
pub async fn object(req: &worker::Request, env: &Env, id: &str, object: &str) -> Answer {
    if !staged::valid_object(object) {
        return Err(ApiError::not_found("no such staged object"));
    }
    let bucket = super::bucket::staging(env).ok_or_else(staged::off)?;
    let url = req.url().map_err(|e| ApiError::internal(e.to_string()))?;
    let signer = UrlSigner::new(&env_str(env, "SESSION_KEY").unwrap_or_default());
    signer.verify(id, object, url.query().unwrap_or(""), now_secs())?;
    let found = bucket
        .get(staged::object_key(id, object))
        .execute()
        .await
        .map_err(|e| staged::staging_failed("read the staged object", e))?
        .ok_or_else(|| ApiError::not_found("no such staged object"))?;
    let size = found.size();
    let Some(Ok(ResponseBody::Stream(stream))) = found.body().map(|b| b.response_body()) else {
        return Err(ApiError::internal("the staged object has no body"));
    };
    let h = Headers::new().map_err(internal)?;
    h.set("Content-Type", "application/octet-stream").map_err(internal)?;
    h.set("Content-Length", &size.to_string()).map_err(internal)?;
    let init = ResponseInit::new();
    init.set_status(200);
    init.set_headers(&h);
    web_sys::Response::new_with_opt_readable_stream_and_init(Some(&stream), &init).map_err(internal)
}
