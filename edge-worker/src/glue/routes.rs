//! One `async fn` per OpenStack route: call, trim, answer. The statuses each call accepts and
//! the trimming are decided in `crate::upstream` and `crate::openstack`.

use serde_json::json;

use super::http::{json_response, ok_json, read_json, ApiResult};
use super::upstream::OpenStack;
use crate::api::ApiError;
use crate::openstack::{self, ImageCreate, ServerCreate, CONSOLES};
use crate::upstream::{self, lenient_json, success, ConsoleSearch, Service};

type Answer = ApiResult<web_sys::Response>;

/// `GET /api/flavors`
pub async fn flavors(os: &OpenStack) -> Answer {
    ok_json(&openstack::trim_flavors(&os.get(Service::Compute, "/flavors/detail").await?))
}

/// `GET /api/keypairs`
pub async fn keypairs(os: &OpenStack) -> Answer {
    ok_json(&openstack::trim_keypairs(&os.get(Service::Compute, "/os-keypairs").await?))
}

/// `GET /api/networks`: the project's own, shared and external networks.
pub async fn networks(os: &OpenStack, project_id: &str) -> Answer {
    ok_json(&openstack::visible_networks(&os.get(Service::Network, "/networks").await?, project_id))
}

/// `GET /api/security-groups`: the project's.
pub async fn security_groups(os: &OpenStack, project_id: &str) -> Answer {
    let v = os.get(Service::Network, &format!("/security-groups?project_id={project_id}")).await?;
    ok_json(&openstack::trim_security_groups(&v))
}

/// `GET /api/images`: the newest first.
pub async fn images(os: &OpenStack) -> Answer {
    ok_json(&openstack::trim_images(&os.get(Service::Image, "/images?limit=1000&sort=created_at:desc").await?))
}

/// `GET /api/stores`: Glance's stores with their types when Glance tells this user, else
/// without; none when Glance has one store (multi-store off).
pub async fn stores(os: &OpenStack) -> Answer {
    let mut r = os.send(Service::Image, "GET", "/info/stores/detail", None, &[]).await?;
    if upstream::stores_fallback(r.status) {
        r = os.send(Service::Image, "GET", "/info/stores", None, &[]).await?;
    }
    ok_json(&upstream::stores_answer(r.status, &r.body)?)
}

/// `GET /api/images/{id}`
pub async fn image(os: &OpenStack, id: &str) -> Answer {
    ok_json(&openstack::trim_image(&os.get(Service::Image, &format!("/images/{id}")).await?))
}

/// `DELETE /api/images/{id}`
pub async fn delete_image(os: &OpenStack, id: &str) -> Answer {
    os.expect(Service::Image, "DELETE", &format!("/images/{id}"), None, success).await?;
    ok_json(&json!({"id": id, "deleted": true}))
}

/// `POST /api/images`: 201 with the new image's id.
pub async fn create_image(os: &OpenStack, req: &worker::Request) -> Answer {
    let c: ImageCreate = read_json(req).await?;
    let body = c.glance_body().map_err(ApiError::bad_request)?;
    let r = os.expect(Service::Image, "POST", "/images", Some(&body), |s| s == 201).await?;
    Ok(json_response(201, &openstack::trim_created_image(&lenient_json(&r.body)), &[]))
}

/// `POST /api/servers`: 202 with the new server's id. With `volumes`, a block device mapping
/// (refused before Nova when it is not one server can boot with).
pub async fn create_server(os: &OpenStack, req: &worker::Request) -> Answer {
    let c: ServerCreate = read_json(req).await?;
    let body = c.nova_body().map_err(ApiError::bad_request)?;
    let r = os.expect(Service::Compute, "POST", "/servers", Some(&body), |s| s == 202 || s == 200).await?;
    Ok(json_response(202, &openstack::trim_created_server(&lenient_json(&r.body)), &[]))
}

/// `GET /api/servers/{id}`
pub async fn server(os: &OpenStack, id: &str) -> Answer {
    ok_json(&openstack::trim_server(&os.get(Service::Compute, &format!("/servers/{id}")).await?))
}

/// `DELETE /api/servers/{id}` (a server already gone counts as deleted; Nova deletes it
/// asynchronously: the page follows `GET` until 404).
pub async fn delete_server(os: &OpenStack, id: &str) -> Answer {
    os.expect(Service::Compute, "DELETE", &format!("/servers/{id}"), None, upstream::server_gone).await?;
    ok_json(&json!({"id": id, "deleted": true}))
}

/// `GET /api/servers/{id}/console`: the first console type Nova hands out.
pub async fn console(os: &OpenStack, id: &str) -> Answer {
    let path = format!("/servers/{id}/remote-consoles");
    let mut search = ConsoleSearch::default();
    for (protocol, kind) in CONSOLES {
        let body = ConsoleSearch::request(protocol, kind);
        let r = os.send(Service::Compute, "POST", &path, Some(&body), &[]).await?;
        if let Some(answer) = search.answer(kind, r.status, &r.body) {
            return ok_json(&answer?);
        }
    }
    ok_json(&search.none_offered())
}
