//! The decisions of `PUT /api/images/{id}/file`, apart from the streams `glue::upload` moves:
//! which image takes data, how long the body is, how much of it the check reads, and what
//! each way an upload can end answers. Once the image is known, every refusal comes with the
//! image deleted (no orphans): the glue deletes it and sets `image_deleted`.

use serde_json::{json, Value};
use stackferry::qcow2::probe;

use crate::api::ApiError;
use crate::upstream::{success, Service};

/// The image's `disk_format` when it takes data: only a new (`queued`) image does (409 else;
/// an active image is never touched).
pub fn queued_format(id: &str, meta: &Value) -> Result<String, ApiError> {
    let status = meta["status"].as_str().unwrap_or("");
    if status != "queued" {
        return Err(ApiError::new(
            409,
            "conflict",
            format!("image {id} is {status}; only a new (queued) image takes data"),
        ));
    }
    Ok(meta["disk_format"].as_str().unwrap_or("").to_string())
}

/// The body's length from the `Content-Length` header, else `X-Upload-Length` (`api::UPLOAD_LENGTH_HEADER`) (a browser
/// streaming the body cannot set `Content-Length`, a forbidden header). Either way the body is
/// then held to exactly that many bytes. 411 without one, 400 when empty, not a number, or when
/// both are sent and disagree (which one would the body be held to?), 413 over `max`.
pub fn declared_length(content_length: Option<&str>, upload_length: Option<&str>, max: u64) -> Result<u64, ApiError> {
    let parse = |name: &str, h: Option<&str>| match h {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("{name} is not a byte count: {v:.40}"))),
    };
    let content = parse("Content-Length", content_length)?;
    let upload = parse(crate::api::UPLOAD_LENGTH_HEADER, upload_length)?;
    let declared = match (content, upload) {
        (Some(c), Some(u)) if c != u => {
            return Err(ApiError::bad_request(format!(
                "Content-Length {c} and {} {u} disagree: send the upload's length once",
                crate::api::UPLOAD_LENGTH_HEADER
            )))
        }
        (c, u) => c.or(u),
    };
    match declared {
        None => Err(ApiError::new(
            411,
            "length_required",
            "send the image with a Content-Length (or, for a streamed body, X-Upload-Length)",
        )),
        Some(0) => Err(ApiError::bad_request("the upload is empty")),
        Some(n) if n > max => Err(ApiError::new(
            413,
            "too_large",
            format!("uploads are limited to {max} bytes (UPLOAD_MAX_BYTES); this one is {n}"),
        )),
        Some(n) => Ok(n),
    }
}

/// How many first bytes of a `len`-byte upload the check reads: [`probe::PROBE_LEN`], or the
/// whole of a shorter upload.
pub fn head_len(len: u64) -> usize {
    usize::try_from(len.min(probe::PROBE_LEN as u64)).unwrap_or(probe::PROBE_LEN)
}

/// The answer when the converter core's upload check (`probe::check_upload`) refuses the
/// first bytes: 415 with its reason; no byte went to Glance.
pub fn refused(e: &stackferry::Error) -> ApiError {
    ApiError::new(415, "unsupported_media_type", e.to_string())
}

/// How the two halves of a streamed upload ended: Glance's answer to the `PUT` (`Ok(status,
/// body)`, or `Err` when Glance could not be reached) and the pump of the client's body into
/// it (`Err` when the client's stream failed or was cut). `None`: the upload went through.
pub fn stream_failure(glance: Result<(u16, Vec<u8>), String>, pumped: Result<(), String>) -> Option<ApiError> {
    match (glance, pumped) {
        (Ok((status, _)), Ok(())) if success(status) => None,
        // Glance's refusal is the reason, whether or not it cut the pump short
        (Ok((status, body)), _) if !success(status) => {
            Some(ApiError::upstream(Service::Image.name(), status, &body, false))
        }
        (Ok(_), _) => Some(ApiError::new(400, "upload_aborted", "the upload ended before its Content-Length")),
        (Err(_), Err(pump_err)) => {
            Some(ApiError::new(400, "upload_aborted", format!("the upload stream failed: {pump_err}")))
        }
        (Err(fetch_err), Ok(())) => Some(ApiError::unreachable(Service::Image.name(), fetch_err)),
    }
}

/// The answer once Glance has the data: the image's id, status, size and hash (the SHA-512 the
/// page compares with its own); 502 when Glance stored another length than was sent.
pub fn stored(image: &Value, len: u64) -> Result<Value, ApiError> {
    if image["size"].as_u64().is_some_and(|s| s != len) {
        return Err(ApiError::new(502, "upstream_error", format!("Glance stored {} bytes of {len}", image["size"])));
    }
    Ok(json!({"id": image["id"], "status": image["status"], "size": image["size"],
        "os_hash_algo": image["os_hash_algo"], "os_hash_value": image["os_hash_value"]}))
}

/// Waits before each try at deleting a failed upload's image: at once, then backing off over
/// about half a minute, long enough for a Glance that is restarting to answer again (a failed
/// upload during a restart must not leave its image behind).
pub const DELETE_RETRY_MS: [u32; 6] = [0, 1000, 2000, 4000, 8000, 16000];

#[cfg(test)]
mod tests {
    #[test]
    fn delete_retries_span_a_restart() {
        assert_eq!(DELETE_RETRY_MS[0], 0, "the first try is at once");
        assert!(DELETE_RETRY_MS.windows(2).all(|w| w[1] > w[0]), "backing off");
        let total: u32 = DELETE_RETRY_MS.iter().sum();
        assert!((20_000..=60_000).contains(&total), "{total} ms: a restart's length, not minutes");
    }

    use super::*;

    #[test]
    fn only_queued_images_take_data() {
        assert_eq!(queued_format("i", &json!({"status": "queued", "disk_format": "qcow2"})).unwrap(), "qcow2");
        let e = queued_format("i", &json!({"status": "active", "disk_format": "qcow2"})).unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (409, "conflict"));
        assert_eq!(e.detail, "image i is active; only a new (queued) image takes data");
        assert_eq!(queued_format("i", &json!({})).unwrap_err().status, 409);
    }

    #[test]
    fn length_rule() {
        assert_eq!(declared_length(Some("1024"), None, 1 << 20), Ok(1024));
        assert_eq!(declared_length(None, Some(" 2048 "), 1 << 20), Ok(2048), "a streamed body declares its length");
        assert_eq!(declared_length(Some("20"), Some("20"), 1 << 20), Ok(20), "both, agreeing");
        let e = declared_length(Some("10"), Some("20"), 1 << 20).unwrap_err();
        assert_eq!(e.status, 400, "both, disagreeing: which would the body be held to?");
        assert!(e.detail.contains("disagree"), "{}", e.detail);
        let e = declared_length(Some("ten"), Some("20"), 1 << 20).unwrap_err();
        assert!(e.status == 400 && e.detail.contains("Content-Length is not a byte count"), "{}", e.detail);
        let e = declared_length(None, Some("-1"), 1 << 20).unwrap_err();
        assert!(e.status == 400 && e.detail.contains("X-Upload-Length"), "{}", e.detail);
        let e = declared_length(None, None, 1 << 20).unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (411, "length_required"));
        assert_eq!(declared_length(Some("x"), None, 1 << 20).unwrap_err().status, 400);
        let e = declared_length(Some("0"), None, 1 << 20).unwrap_err();
        assert_eq!((e.status, e.detail.as_str()), (400, "the upload is empty"));
        assert_eq!(declared_length(Some("1048576"), None, 1 << 20), Ok(1 << 20));
        let e = declared_length(Some("1048577"), None, 1 << 20).unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (413, "too_large"));
        assert!(e.detail.contains("UPLOAD_MAX_BYTES"), "{}", e.detail);
    }

    #[test]
    fn check_reads_the_head() {
        assert_eq!(head_len(100), 100);
        assert_eq!(head_len(1 << 40), probe::PROBE_LEN);
        let e = probe::check_upload("image i", "qcow2", &[0u8; 512], 4096).unwrap_err();
        let r = refused(&e);
        assert_eq!((r.status, r.error.as_str(), r.upstream_status), (415, "unsupported_media_type", None));
        assert_eq!(r.detail, e.to_string());
    }

    #[test]
    fn how_an_upload_ends() {
        let unsafe_qcow2 = b"415 Unsupported Media Type\n\nImage failed safety checks\n".to_vec();
        assert_eq!(stream_failure(Ok((204, vec![])), Ok(())), None);
        // Glance refused, with or without the pump cut short: Glance's message
        for pumped in [Ok(()), Err("aborted".to_string())] {
            let e = stream_failure(Ok((415, unsafe_qcow2.clone())), pumped).unwrap();
            assert_eq!(
                (e.status, e.upstream_status, e.detail.as_str()),
                (415, Some(415), "Image failed safety checks")
            );
        }
        // Glance took a body that ended early (the client went away)
        let e = stream_failure(Ok((204, vec![])), Err("cut".into())).unwrap();
        assert_eq!((e.status, e.error.as_str()), (400, "upload_aborted"));
        assert_eq!(e.detail, "the upload ended before its Content-Length");
        // both sides failed: the client's stream is the cause
        let e = stream_failure(Err("network".into()), Err("reset".into())).unwrap();
        assert_eq!((e.status, e.detail.as_str()), (400, "the upload stream failed: reset"));
        let e = stream_failure(Err("connection refused".into()), Ok(())).unwrap();
        assert_eq!((e.status, e.error.as_str()), (502, "upstream_unreachable"));
        assert_eq!(e.detail, "glance could not be reached: connection refused");
    }

    #[test]
    fn stored_length_is_checked() {
        let img = json!({"id": "i", "status": "active", "size": 4096, "os_hash_algo": "sha512", "os_hash_value": "ab",
            "checksum": "c", "owner": "p"});
        assert_eq!(
            stored(&img, 4096).unwrap(),
            json!({"id": "i", "status": "active", "size": 4096, "os_hash_algo": "sha512", "os_hash_value": "ab"})
        );
        let e = stored(&img, 8192).unwrap_err();
        assert_eq!(
            (e.status, e.error.as_str(), e.detail.as_str()),
            (502, "upstream_error", "Glance stored 4096 bytes of 8192")
        );
        assert_eq!(stored(&json!({"id": "i"}), 1).unwrap()["size"], Value::Null, "no size: nothing to compare");
    }
}
