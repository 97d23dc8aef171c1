//! `GET /api/limits`: Nova's, Cinder's and Glance's reports asked at once and normalised by
//! `crate::limits`; a section whose service is missing or fails is `null`.

use serde_json::{json, Value};

use super::http::{ok_json, ApiResult};
use super::upstream::OpenStack;
use crate::limits;
use crate::upstream::Service;

/// `GET /api/limits`
pub async fn limits(os: &OpenStack, project_id: &str) -> ApiResult<web_sys::Response> {
    let (compute, volume, image) = futures::join!(compute(os), volume(os, project_id), image(os));
    ok_json(&limits::answer(compute, volume, image)?)
}

async fn compute(os: &OpenStack) -> ApiResult<Value> {
    Ok(limits::compute(&os.get(Service::Compute, "/limits").await?))
}

async fn volume(os: &OpenStack, project_id: &str) -> ApiResult<Value> {
    let totals = os.get(Service::Volume, "/limits").await?;
    let per_type = match limits::quota_set_path(project_id) {
        Some(path) => {
            let r = os.send(Service::Volume, "GET", &path, None, &[]).await?;
            limits::per_type_answer(r.status, &r.body)?
        }
        None => json!({}),
    };
    Ok(limits::volume(&totals, per_type))
}

async fn image(os: &OpenStack) -> ApiResult<Value> {
    let r = os.send(Service::Image, "GET", "/info/usage", None, &[]).await?;
    limits::image_answer(r.status, &r.body)
}
