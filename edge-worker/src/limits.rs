//! `GET /api/limits`: what the project may still create, from each service's own report, in
//! one shape. Every quota is `Q = {"limit": n, "used": n}` (`limit` -1: unlimited) or `null`
//! when the service does not report it; a whole section is `null` when its service is missing
//! or fails, so one broken service leaves the others' answers usable.
//!
//! - compute: Nova `GET /limits` (`absolute`: `maxTotalInstances`/`totalInstancesUsed`,
//!   `maxTotalCores`/`totalCoresUsed`, `maxTotalRAMSize`/`totalRAMUsed`, MiB);
//! - volume: Cinder `GET /limits` (`maxTotalVolumes`/`totalVolumesUsed`,
//!   `maxTotalVolumeGigabytes`/`totalGigabytesUsed`) and, per volume type, Cinder
//!   `GET /os-quota-sets/{project}?usage=true` (`volumes_<type>`, `gigabytes_<type>`);
//! - image: Glance `GET /v2/info/usage` (unified limits: `image_count_total`,
//!   `image_size_total` in MiB), where the cloud has them.

use serde_json::{json, Map, Value};

use crate::api::ApiError;
use crate::upstream::{check, json_body, Service};

/// Glance reports `image_size_total` in MiB (its `units.Mi`); the page gets bytes.
const MIB: i64 = 1 << 20;

/// `{"limit", "used"}` from a report's two numbers; `null` unless both are integers.
fn quota(limit: &Value, used: Option<i64>) -> Value {
    match (limit.as_i64(), used) {
        (Some(limit), Some(used)) => json!({"limit": limit, "used": used}),
        _ => Value::Null,
    }
}

/// The compute section from Nova's `GET /limits`.
pub fn compute(limits: &Value) -> Value {
    let a = &limits["limits"]["absolute"];
    let q = |max: &str, used: &str| quota(&a[max], a[used].as_i64());
    json!({
        "instances": q("maxTotalInstances", "totalInstancesUsed"),
        "cores": q("maxTotalCores", "totalCoresUsed"),
        "ram_mib": q("maxTotalRAMSize", "totalRAMUsed"),
    })
}

/// The volume section from Cinder's `GET /limits` and the per-type quotas ([`per_type`]).
pub fn volume(limits: &Value, per_type: Value) -> Value {
    let a = &limits["limits"]["absolute"];
    let q = |max: &str, used: &str| quota(&a[max], a[used].as_i64());
    json!({
        "volumes": q("maxTotalVolumes", "totalVolumesUsed"),
        "gigabytes": q("maxTotalVolumeGigabytes", "totalGigabytesUsed"),
        "per_type": per_type,
    })
}

/// The quota-set path of `project_id` (with its usage); `None` for an id that cannot go into
/// a path as it is.
pub fn quota_set_path(project_id: &str) -> Option<String> {
    crate::openstack::valid_id(project_id).then(|| format!("/os-quota-sets/{project_id}?usage=true"))
}

/// The per-type quotas from the quota-set call's answer: 403 (the policy keeps it from
/// members on some clouds) or 404 (no such API) mean "nothing known per type", `{}`, not an
/// error; other failures are Cinder's error.
pub fn per_type_answer(status: u16, body: &[u8]) -> Result<Value, ApiError> {
    if matches!(status, 403 | 404) {
        return Ok(json!({}));
    }
    check(Service::Volume, status, body, |s| s == 200)?;
    Ok(per_type(&json_body(Service::Volume, body)?))
}

/// `{"<type>": {"volumes": Q, "gigabytes": Q}}` from Cinder's quota set with usage
/// (`volumes_<type>`, `gigabytes_<type>`: `{limit, in_use, reserved}`; used = in_use +
/// reserved, what Cinder itself counts against the limit).
pub fn per_type(quota_set: &Value) -> Value {
    let mut types: Map<String, Value> = Map::new();
    let Some(set) = quota_set["quota_set"].as_object() else { return Value::Object(types) };
    for (key, v) in set {
        let (what, name) = match (key.strip_prefix("volumes_"), key.strip_prefix("gigabytes_")) {
            (Some(t), _) => ("volumes", t),
            (_, Some(t)) => ("gigabytes", t),
            _ => continue,
        };
        if name.is_empty() {
            continue;
        }
        let used = v["in_use"].as_i64().zip(v["reserved"].as_i64().or(Some(0))).map(|(u, r)| u + r);
        let entry = types.entry(name.to_string()).or_insert_with(|| json!({"volumes": null, "gigabytes": null}));
        entry[what] = quota(&v["limit"], used);
    }
    Value::Object(types)
}

/// The image section from Glance's `GET /v2/info/usage` answer: `null` when the cloud has no
/// unified limits for images (404, or neither field reported).
pub fn image(usage: &Value) -> Value {
    let u = &usage["usage"];
    let count = quota(&u["image_count_total"]["limit"], u["image_count_total"]["usage"].as_i64());
    let size = &u["image_size_total"];
    let bytes = |v: &Value| v.as_i64().and_then(|n| if n < 0 { Some(n) } else { n.checked_mul(MIB) });
    let size = match (bytes(&size["limit"]), bytes(&size["usage"])) {
        (Some(limit), Some(used)) => json!({"limit": limit, "used": used}),
        _ => Value::Null,
    };
    if count.is_null() && size.is_null() {
        Value::Null
    } else {
        json!({"count": count, "size_bytes": size})
    }
}

/// The image section from `GET /v2/info/usage`'s answer: 404 (a Glance without the call) is
/// `null`, other failures Glance's error.
pub fn image_answer(status: u16, body: &[u8]) -> Result<Value, ApiError> {
    if status == 404 {
        return Ok(Value::Null);
    }
    check(Service::Image, status, body, |s| s == 200)?;
    Ok(image(&json_body(Service::Image, body)?))
}

/// One section's outcome in the answer: a failure is `null`, except an expired session,
/// which is the answer (the page must log in again, whatever the other sections say).
pub fn section(r: Result<Value, ApiError>) -> Result<Value, ApiError> {
    match r {
        Ok(v) => Ok(v),
        Err(e) if e.error == "session_expired" => Err(e),
        Err(_) => Ok(Value::Null),
    }
}

/// The answer of `GET /api/limits`.
pub fn answer(
    compute: Result<Value, ApiError>,
    volume: Result<Value, ApiError>,
    image: Result<Value, ApiError>,
) -> Result<Value, ApiError> {
    Ok(json!({"compute": section(compute)?, "volume": section(volume)?, "image": section(image)?}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nova() {
        let v = json!({"limits": {"rate": [], "absolute": {"maxTotalCores": 20, "maxTotalInstances": 10,
            "maxTotalRAMSize": 51200, "totalRAMUsed": 128, "totalCoresUsed": 2, "totalInstancesUsed": 1, "maxTotalKeypairs": 100}}});
        assert_eq!(
            compute(&v),
            json!({"instances": {"limit": 10, "used": 1}, "cores": {"limit": 20, "used": 2},
                "ram_mib": {"limit": 51200, "used": 128}})
        );
        let partial =
            json!({"limits": {"absolute": {"maxTotalCores": -1, "totalCoresUsed": 4, "maxTotalInstances": 5}}});
        assert_eq!(
            compute(&partial),
            json!({"instances": null, "cores": {"limit": -1, "used": 4}, "ram_mib": null}),
            "unlimited passed on; a quota without its usage is not reported"
        );
    }

    #[test]
    fn cinder() {
        let limits = json!({"limits": {"rate": [], "absolute": {"maxTotalVolumes": 10, "maxTotalVolumeGigabytes": 1000,
            "totalVolumesUsed": 2, "totalGigabytesUsed": 5, "maxTotalSnapshots": 10}}});
        let set = json!({"quota_set": {"id": "p", "volumes": {"limit": 10, "in_use": 2, "reserved": 0},
            "gigabytes": {"limit": 1000, "in_use": 5, "reserved": 0},
            "per_volume_gigabytes": {"limit": -1, "in_use": 0, "reserved": 0},
            "backup_gigabytes": {"limit": 1000, "in_use": 0, "reserved": 0},
            "volumes___DEFAULT__": {"limit": -1, "in_use": 2, "reserved": 0},
            "gigabytes___DEFAULT__": {"limit": -1, "in_use": 5, "reserved": 0},
            "snapshots___DEFAULT__": {"limit": -1, "in_use": 0, "reserved": 0},
            "volumes_ceph-ssd": {"limit": 4, "in_use": 1, "reserved": 1},
            "gigabytes_ceph-ssd": {"limit": 100, "in_use": 20, "reserved": 10},
            "volumes_lonely": {"limit": 3, "in_use": 0}}});
        assert_eq!(
            volume(&limits, per_type(&set)),
            json!({"volumes": {"limit": 10, "used": 2}, "gigabytes": {"limit": 1000, "used": 5}, "per_type": {
                "__DEFAULT__": {"volumes": {"limit": -1, "used": 2}, "gigabytes": {"limit": -1, "used": 5}},
                "ceph-ssd": {"volumes": {"limit": 4, "used": 2}, "gigabytes": {"limit": 100, "used": 30}},
                "lonely": {"volumes": {"limit": 3, "used": 0}, "gigabytes": null}}})
        );
        assert_eq!(per_type(&json!({"forbidden": {}})), json!({}));
        assert_eq!(per_type_answer(200, set.to_string().as_bytes()).unwrap(), per_type(&set));
        assert_eq!(per_type_answer(403, br#"{"forbidden": {"message": "Policy doesn't allow"}}"#).unwrap(), json!({}));
        assert_eq!(per_type_answer(404, b"").unwrap(), json!({}));
        assert_eq!(per_type_answer(500, b"").unwrap_err().upstream_status, Some(500));
        assert_eq!(quota_set_path("26c7cc0f").as_deref(), Some("/os-quota-sets/26c7cc0f?usage=true"));
        assert_eq!(quota_set_path("../x"), None);
    }

    #[test]
    fn glance() {
        let v = json!({"usage": {"image_count_total": {"limit": 100, "usage": 3},
            "image_size_total": {"limit": 1024, "usage": 3}, "image_stage_total": {"limit": 10, "usage": 0}}});
        assert_eq!(
            image(&v),
            json!({"count": {"limit": 100, "used": 3}, "size_bytes": {"limit": 1073741824i64, "used": 3145728}})
        );
        let unlimited = json!({"usage": {"image_size_total": {"limit": -1, "usage": 2}}});
        assert_eq!(image(&unlimited), json!({"count": null, "size_bytes": {"limit": -1, "used": 2097152}}));
        assert_eq!(image(&json!({"usage": {}})), Value::Null, "no unified limits");
        let huge = json!({"usage": {"image_size_total": {"limit": i64::MAX, "usage": 0}}});
        assert_eq!(image(&huge), Value::Null, "an overflow is not reported");
        assert_eq!(image_answer(200, v.to_string().as_bytes()).unwrap(), image(&v));
        assert_eq!(image_answer(200, br#"{"usage": {}}"#).unwrap(), Value::Null);
        assert_eq!(image_answer(404, b"").unwrap(), Value::Null, "no /v2/info/usage");
        assert_eq!(image_answer(403, b"").unwrap_err().status, 403);
    }

    #[test]
    fn failed_sections() {
        let down = ApiError::upstream("cinder", 503, b"", false);
        let missing = ApiError::new(503, "no_endpoint", "the catalog has no block-storage endpoint");
        let a = answer(Ok(json!({"instances": null})), Err(down), Err(missing)).unwrap();
        assert_eq!(a, json!({"compute": {"instances": null}, "volume": null, "image": null}));
        let expired = ApiError::upstream("nova", 401, b"", false);
        let e = answer(Err(expired), Ok(Value::Null), Ok(Value::Null)).unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (401, "session_expired"));
    }
}
