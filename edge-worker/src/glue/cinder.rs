//! Cinder's routes: call, trim, answer. Bodies, trimming and what each status means are
//! decided in `crate::cinder` and `crate::upstream`.

use serde_json::json;

use super::http::{json_response, ok_json, read_json, ApiResult};
use super::upstream::OpenStack;
use crate::api::ApiError;
use crate::cinder::{self, VolumeCreate};
use crate::upstream::{lenient_json, volume_gone, Service};

type Answer = ApiResult<web_sys::Response>;

/// `GET /api/volume-types`: the types the project sees, the default marked.
pub async fn volume_types(os: &OpenStack) -> Answer {
    let types = os.get(Service::Volume, "/types").await?;
    let default = match os.send(Service::Volume, "GET", "/types/default", None, &[]).await {
        Ok(r) => cinder::default_type(r.status, &r.body),
        Err(_) => None,
    };
    ok_json(&cinder::trim_volume_types(&types, default.as_deref()))
}

/// `POST /api/volumes`: 202 with the new volume's id (Cinder copies the image in the
/// background; `GET /api/volumes/{id}` says when it is `available`).
pub async fn create_volume(os: &OpenStack, req: &worker::Request) -> Answer {
    let c: VolumeCreate = read_json(req).await?;
    let body = c.cinder_body().map_err(ApiError::bad_request)?;
    let r = os.expect(Service::Volume, "POST", "/volumes", Some(&body), |s| s == 202).await?;
    Ok(json_response(202, &cinder::trim_created_volume(&lenient_json(&r.body)), &[]))
}

/// `GET /api/volumes/{id}`, with Cinder's user message when the volume failed.
pub async fn volume(os: &OpenStack, id: &str) -> Answer {
    let v = os.get(Service::Volume, &format!("/volumes/{id}")).await?;
    let error = if cinder::failed(&v) {
        let path = format!("/messages?resource_uuid={id}");
        os.send(Service::Volume, "GET", &path, None, &[])
            .await
            .ok()
            .and_then(|r| cinder::user_message(r.status, &r.body))
    } else {
        None
    };
    ok_json(&cinder::trim_volume(&v, error))
}

/// `DELETE /api/volumes/{id}` (a volume already gone counts as deleted).
pub async fn delete_volume(os: &OpenStack, id: &str) -> Answer {
    os.expect(Service::Volume, "DELETE", &format!("/volumes/{id}"), None, volume_gone).await?;
    ok_json(&json!({"id": id, "deleted": true}))
}
