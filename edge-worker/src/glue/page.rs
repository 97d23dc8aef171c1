//! The page: files of `web/dist/` through the `ASSETS` binding (Cloudflare's static assets, or
//! a workerd disk service). Which file answers is `crate::page`'s decision.

use web_sys::{Headers, ResponseInit};
use worker::Env;

use super::http::{internal, response, set_headers, ApiResult};
use crate::api::ApiError;
use crate::page::{self, Missing, NOT_BUILT, PAGE_HEADERS, PAGE_METHODS};

/// The file a page path names, the page itself for its views, or "not built".
pub async fn serve(req: &worker::Request, env: &Env, method: &str, path: &str) -> ApiResult<web_sys::Response> {
    if !page::method_allowed(method) {
        let h = [("Allow", PAGE_METHODS.to_string()), ("Content-Type", "text/plain".into())];
        return Ok(with_page_headers(response(405, Some("method not allowed\n"), &h)));
    }
    let Ok(assets) = env.assets("ASSETS") else {
        return Ok(not_built());
    };
    let Some(file) = page::file_for(path) else {
        return Ok(with_page_headers(response(404, Some("not found\n"), &[("Content-Type", "text/plain".into())])));
    };
    let mut resp = fetch_asset(&assets, req, method, &file).await?;
    if resp.status() == 404 {
        match page::when_missing(&file) {
            Missing::Index => {
                resp = fetch_asset(&assets, req, method, "/index.html").await?;
                if resp.status() == 404 {
                    return Ok(not_built());
                }
            }
            Missing::NotBuilt => return Ok(not_built()),
            Missing::NotFound => {}
        }
    }
    let headers = Headers::new_with_headers(&resp.headers()).map_err(internal)?;
    let served = headers.get("Content-Type").ok().flatten().unwrap_or_default();
    if let Some(ct) = page::content_type(&file, &served) {
        let _ = headers.set("Content-Type", ct);
    }
    let init = ResponseInit::new();
    init.set_status(resp.status());
    init.set_headers(&headers);
    Ok(with_page_headers(
        web_sys::Response::new_with_opt_readable_stream_and_init(resp.body().as_ref(), &init).map_err(internal)?,
    ))
}

fn with_page_headers(resp: web_sys::Response) -> web_sys::Response {
    set_headers(&resp, PAGE_HEADERS);
    resp
}

/// `file` from the file service, passing on the request's cache validators.
async fn fetch_asset(
    assets: &worker::Fetcher,
    req: &worker::Request,
    method: &str,
    file: &str,
) -> ApiResult<web_sys::Response> {
    let mut url = req.url().map_err(|e| ApiError::internal(e.to_string()))?;
    url.set_path(file);
    url.set_query(None);
    let h = worker::Headers::new();
    for name in ["If-None-Match", "If-Modified-Since", "Accept-Encoding"] {
        if let Ok(Some(v)) = req.headers().get(name) {
            let _ = h.set(name, &v);
        }
    }
    let mut init = worker::RequestInit::new();
    init.with_method(if method == "HEAD" { worker::Method::Head } else { worker::Method::Get }).with_headers(h);
    let r = assets.fetch(url.to_string(), Some(init)).await.map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(r.into())
}

fn not_built() -> web_sys::Response {
    with_page_headers(response(404, Some(NOT_BUILT), &[("Content-Type", "text/html; charset=utf-8".into())]))
}
