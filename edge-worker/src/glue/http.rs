//! HTTP in and out: building responses, reading bodies with a cap, JavaScript errors as text.

use js_sys::{Reflect, Uint8Array};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortSignal, Headers, ReadableStream, ReadableStreamDefaultReader, ResponseInit, StreamPipeOptions, WritableStream,
};

use crate::api::{self, ApiError, MAX_JSON_BODY};

pub type ApiResult<T> = Result<T, ApiError>;

/// A thrown JavaScript value as text (its message when it is an `Error`).
pub fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .unwrap_or_else(|| "JavaScript error".into())
}

/// A runtime failure the worker cannot explain better: 500.
pub fn internal(e: JsValue) -> ApiError {
    ApiError::internal(js_err(e))
}

/// A request header's value, if sent.
pub fn header(req: &worker::Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

pub fn response(status: u16, body: Option<&str>, headers: &[(&str, String)]) -> web_sys::Response {
    let h = Headers::new().expect("Headers");
    for (k, v) in headers {
        let _ = h.append(k, v);
    }
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&h);
    web_sys::Response::new_with_opt_str_and_init(body, &init).expect("Response")
}

pub fn json_response(status: u16, v: &Value, extra: &[(&str, String)]) -> web_sys::Response {
    let mut h = vec![("Content-Type", "application/json".to_string())];
    h.extend(extra.iter().cloned());
    response(status, Some(&v.to_string()), &h)
}

/// 200 with a JSON body.
pub fn ok_json(v: &Value) -> ApiResult<web_sys::Response> {
    Ok(json_response(200, v, &[]))
}

pub fn error_response(e: &ApiError) -> web_sys::Response {
    response(e.status, Some(&e.json()), &e.headers())
}

/// Sets `headers` on `resp`, replacing any of the same name.
pub fn set_headers<K: AsRef<str>, V: AsRef<str>>(resp: &web_sys::Response, headers: &[(K, V)]) {
    let h = resp.headers();
    for (k, v) in headers {
        let _ = h.set(k.as_ref(), v.as_ref());
    }
}

/// Reads a whole stream, refusing more than `cap` bytes.
pub async fn read_capped(stream: &ReadableStream, cap: usize) -> Result<Vec<u8>, String> {
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut out = Vec::new();
    while let Some(chunk) = read_chunk(&reader).await? {
        if out.len() + chunk.length() as usize > cap {
            let _ = reader.cancel();
            return Err(format!("body larger than {cap} bytes"));
        }
        let start = out.len();
        out.resize(start + chunk.length() as usize, 0);
        chunk.copy_to(&mut out[start..]);
    }
    Ok(out)
}

/// The next chunk of a stream, `None` at its end.
pub async fn read_chunk(reader: &ReadableStreamDefaultReader) -> Result<Option<Uint8Array>, String> {
    let r = JsFuture::from(reader.read()).await.map_err(js_err)?;
    if Reflect::get(&r, &"done".into()).map(|d| d.is_truthy()).unwrap_or(true) {
        return Ok(None);
    }
    Ok(Some(Reflect::get(&r, &"value".into()).map_err(js_err)?.unchecked_into()))
}

/// The first `need` bytes of a stream (fewer if it ends first), and the chunks they came in,
/// kept whole to be written on first (see [`refill`]).
pub async fn read_head(
    reader: &ReadableStreamDefaultReader,
    need: usize,
) -> Result<(Vec<u8>, Vec<Uint8Array>), String> {
    let mut head = Vec::with_capacity(need);
    let mut chunks = Vec::new();
    while head.len() < need {
        let Some(chunk) = read_chunk(reader).await? else { break };
        let take = (need - head.len()).min(chunk.length() as usize);
        let start = head.len();
        head.resize(start + take, 0);
        chunk.subarray(0, take as u32).copy_to(&mut head[start..]);
        chunks.push(chunk);
    }
    Ok((head, chunks))
}

/// A `FixedLengthStream` of `len` bytes: what goes in comes out as a stream of known length,
/// which `fetch` sends with a `Content-Length` and R2 takes as a part.
pub fn fixed_length(len: u64) -> ApiResult<worker::worker_sys::FixedLengthStream> {
    if len < u64::from(u32::MAX) {
        worker::worker_sys::FixedLengthStream::new(len as u32)
    } else {
        worker::worker_sys::FixedLengthStream::new_big_int(js_sys::BigInt::from(len))
    }
    .map_err(internal)
}

/// Writes `chunks` (read off `body` before, see [`read_head`]) into `writable`, then pipes the
/// rest of `body` after them; `signal` stops the pipe.
pub async fn refill(
    writable: &WritableStream,
    chunks: &[Uint8Array],
    body: &ReadableStream,
    signal: Option<&AbortSignal>,
) -> Result<(), String> {
    let writer = writable.get_writer().map_err(js_err)?;
    for c in chunks {
        JsFuture::from(writer.write_with_chunk(c)).await.map_err(js_err)?;
    }
    writer.release_lock();
    let opts = StreamPipeOptions::new();
    if let Some(s) = signal {
        opts.set_signal(s);
    }
    JsFuture::from(body.pipe_to_with_options(writable, &opts)).await.map_err(js_err)?;
    Ok(())
}

/// A JSON request body, at most [`MAX_JSON_BODY`] bytes (413 beyond).
pub async fn read_body(req: &worker::Request) -> ApiResult<Vec<u8>> {
    read_body_up_to(req, MAX_JSON_BODY).await
}

/// A request body of at most `cap` bytes (413 beyond).
pub async fn read_body_up_to(req: &worker::Request, cap: usize) -> ApiResult<Vec<u8>> {
    api::check_json_length(header(req, "Content-Length").as_deref(), cap)?;
    match req.inner().body() {
        Some(s) => read_capped(&s, cap).await.map_err(|_| api::body_too_large(cap)),
        None => Ok(Vec::new()),
    }
}

/// A JSON request body parsed into `T` (400 naming the problem, never a value).
pub async fn read_json<T: serde::de::DeserializeOwned>(req: &worker::Request) -> ApiResult<T> {
    api::parse_json(&read_body(req).await?)
}
