//! Cinder (block storage, API v3) for the page: where its API root is, volume creation from an
//! image (validated before anything is sent), and volumes and volume types trimmed to what the
//! page shows.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::openstack::{is_uuid, pick};

/// Cinder microversion the worker speaks: 3.3 is the lowest with the user messages API
/// (`GET /messages`), which says why a volume went to `error`. Everything else used is 3.0.
pub const CINDER_MICROVERSION: &str = "volume 3.3";
/// Catalog service types of Cinder v3, the first found wins: the current name, then the
/// legacy ones still registered by many deployments.
pub const CATALOG_TYPES: &[&str] = &["block-storage", "volumev3", "volume"];
/// Largest volume accepted, GiB: 64 TiB, above the largest VMDK vSphere makes (62 TB).
pub const MAX_VOLUME_GIB: u64 = 65536;
/// Longest volume name, type name and description (Cinder's columns: 255).
pub const MAX_NAME_LEN: usize = 255;

/// The v3 root of a catalog URL: a version segment (`/v3`, or a legacy `/v2`, `/v1`) becomes
/// `/v3` and what follows it (the project id older deployments put there) stays; without
/// one, `/v3` is appended (like Glance's `/v2`).
pub fn volume_root(url: &str) -> String {
    let u = url.trim_end_matches('/');
    let (scheme, rest) = u.split_once("://").unwrap_or(("", u));
    let mut parts: Vec<&str> = rest.split('/').collect();
    let is_version = |s: &&str| {
        s.strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.split('.').all(|d| d.bytes().all(|c| c.is_ascii_digit())))
    };
    match parts.iter().skip(1).position(is_version) {
        Some(i) => parts[i + 1] = "v3",
        None => parts.push("v3"),
    }
    let path = parts.join("/");
    if scheme.is_empty() {
        path
    } else {
        format!("{scheme}://{path}")
    }
}

/// `POST /api/volumes`: a volume made from a (Glance) image.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeCreate {
    pub name: String,
    pub image_id: String,
    /// Kept as JSON so that a fraction or a negative number gets the same clear answer.
    pub size_gib: Value,
    #[serde(default)]
    pub volume_type: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

impl VolumeCreate {
    /// Cinder `POST /volumes` body; a missing or empty `volume_type` is the cloud's default.
    pub fn cinder_body(&self) -> Result<Value, String> {
        let chars = |s: &str| s.chars().count();
        if self.name.trim().is_empty() || chars(&self.name) > MAX_NAME_LEN {
            return Err(format!("name must be 1 to {MAX_NAME_LEN} characters"));
        }
        if !is_uuid(&self.image_id) {
            return Err("image_id is not a UUID".into());
        }
        let size = self.size_gib.as_u64().filter(|s| (1..=MAX_VOLUME_GIB).contains(s));
        let Some(size) = size else {
            return Err(format!("size_gib must be a whole number from 1 to {MAX_VOLUME_GIB}"));
        };
        let mut volume = Map::new();
        volume.insert("name".into(), json!(self.name));
        volume.insert("size".into(), json!(size));
        volume.insert("imageRef".into(), json!(self.image_id));
        if let Some(t) = self.volume_type.as_deref().filter(|t| !t.is_empty()) {
            if chars(t) > MAX_NAME_LEN {
                return Err(format!("volume_type must be at most {MAX_NAME_LEN} characters"));
            }
            volume.insert("volume_type".into(), json!(t));
        }
        if let Some(d) = self.description.as_deref().filter(|d| !d.is_empty()) {
            if chars(d) > MAX_NAME_LEN {
                return Err(format!("description must be at most {MAX_NAME_LEN} characters"));
            }
            volume.insert("description".into(), json!(d));
        }
        Ok(json!({"volume": volume}))
    }
}

/// Cinder's answer to creating a volume, for the page: its id.
pub fn trim_created_volume(v: &Value) -> Value {
    json!({"id": v["volume"]["id"]})
}

/// Whether a volume's status is one of Cinder's failures (`error`, `error_deleting`,
/// `error_extending`, ...): then the messages API may say why.
pub fn failed(volume: &Value) -> bool {
    volume["volume"]["status"].as_str().is_some_and(|s| s.starts_with("error"))
}

/// The user message of the newest of Cinder's messages about a volume
/// (`GET /messages?resource_uuid=`), if the call answered 200 and has one.
pub fn user_message(status: u16, body: &[u8]) -> Option<String> {
    if status != 200 {
        return None;
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    let newest = v["messages"]
        .as_array()?
        .iter()
        .filter(|m| m["user_message"].as_str().is_some_and(|s| !s.trim().is_empty()))
        .max_by(|a, b| a["created_at"].as_str().unwrap_or("").cmp(b["created_at"].as_str().unwrap_or("")))?;
    newest["user_message"].as_str().map(|s| s.trim().to_string())
}

/// `GET /volumes/{id}` for the page, with `error`: Cinder's user message when it failed.
pub fn trim_volume(v: &Value, error: Option<String>) -> Value {
    let vol = v.get("volume").unwrap_or(v);
    // Cinder writes `bootable` as the string "true"/"false".
    let bootable = match &vol["bootable"] {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    let attachments: Vec<Value> = vol["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| json!({"server_id": a.get("server_id"), "device": a.get("device")}))
        .collect();
    json!({
        "id": vol.get("id"),
        "name": vol.get("name"),
        "status": vol.get("status"),
        "size_gib": vol.get("size"),
        "bootable": bootable,
        "volume_type": vol.get("volume_type"),
        "attachments": attachments,
        "error": error,
    })
}

/// The default volume type's id from `GET /types/default`: none unless it answered 200 (a
/// cloud without a default answers 404, which is no error).
pub fn default_type(status: u16, body: &[u8]) -> Option<String> {
    if status != 200 {
        return None;
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    v["volume_type"]["id"].as_str().map(String::from)
}

/// `GET /types` for the page, the default (by id) marked.
pub fn trim_volume_types(v: &Value, default_id: Option<&str>) -> Value {
    let types: Vec<Value> = v["volume_types"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let mut o = pick(t, &["id", "name", "description"]);
            o["default"] = json!(default_id.is_some() && t["id"].as_str() == default_id);
            o
        })
        .collect();
    json!({"volume_types": types})
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: &str = "0b6e4d36-95a4-4a0c-9b3c-2f4ddc3c8d1e";

    #[test]
    fn roots() {
        assert_eq!(volume_root("http://127.0.0.1:8776/v3"), "http://127.0.0.1:8776/v3");
        assert_eq!(volume_root("http://127.0.0.1:8776/v3/"), "http://127.0.0.1:8776/v3");
        assert_eq!(volume_root("http://127.0.0.1:8776"), "http://127.0.0.1:8776/v3");
        assert_eq!(volume_root("https://cloud.example/volume"), "https://cloud.example/volume/v3");
        assert_eq!(volume_root("https://h:8776/v3/26c7cc0f445643d9"), "https://h:8776/v3/26c7cc0f445643d9");
        assert_eq!(volume_root("https://h:8776/v2/26c7cc0f"), "https://h:8776/v3/26c7cc0f", "legacy volumev2 URL");
        assert_eq!(volume_root("https://h/block/v1"), "https://h/block/v3");
        assert_eq!(volume_root("https://v2.example"), "https://v2.example/v3", "a host is no version");
        assert_eq!(volume_root("https://h/volumes"), "https://h/volumes/v3");
    }

    fn create(v: Value) -> Result<Value, String> {
        serde_json::from_value::<VolumeCreate>(v).map_err(|e| e.to_string())?.cinder_body()
    }

    #[test]
    fn volume_body() {
        let b = create(json!({"name": "vm-disk2", "image_id": IMAGE, "size_gib": 3, "volume_type": "ceph",
            "description": "data disk"}))
        .unwrap();
        assert_eq!(
            b,
            json!({"volume": {"name": "vm-disk2", "size": 3, "imageRef": IMAGE, "volume_type": "ceph",
                "description": "data disk"}})
        );
        let b = create(json!({"name": "v", "image_id": IMAGE, "size_gib": 1, "volume_type": null})).unwrap();
        assert_eq!(b, json!({"volume": {"name": "v", "size": 1, "imageRef": IMAGE}}), "the default type");
        let b = create(json!({"name": "v", "image_id": IMAGE, "size_gib": 65536, "volume_type": ""})).unwrap();
        assert!(b["volume"].get("volume_type").is_none());
        let name = "가".repeat(255);
        assert!(create(json!({"name": name, "image_id": IMAGE, "size_gib": 1})).is_ok(), "255 characters, not bytes");
    }

    #[test]
    fn bad_volume_bodies() {
        for (bad, why) in [
            (json!({"name": "v", "image_id": "../images", "size_gib": 1}), "image_id is not a UUID"),
            (json!({"name": "v", "image_id": "stack-tiny", "size_gib": 1}), "image_id is not a UUID"),
            (json!({"name": "", "image_id": IMAGE, "size_gib": 1}), "name must be"),
            (json!({"name": " ", "image_id": IMAGE, "size_gib": 1}), "name must be"),
            (json!({"name": "x".repeat(256), "image_id": IMAGE, "size_gib": 1}), "name must be"),
            (json!({"name": "v", "image_id": IMAGE, "size_gib": 0}), "size_gib must be"),
            (json!({"name": "v", "image_id": IMAGE, "size_gib": 65537}), "size_gib must be"),
            (json!({"name": "v", "image_id": IMAGE, "size_gib": 1.5}), "size_gib must be"),
            (json!({"name": "v", "image_id": IMAGE, "size_gib": -1}), "size_gib must be"),
            (json!({"name": "v", "image_id": IMAGE, "size_gib": "2"}), "size_gib must be"),
            (json!({"name": "v", "image_id": IMAGE, "size_gib": 1, "volume_type": "t".repeat(256)}), "volume_type"),
            (json!({"name": "v", "image_id": IMAGE, "size_gib": 1, "description": "d".repeat(256)}), "description"),
            (json!({"name": "v", "image_id": IMAGE, "size_gib": 1, "size": 2}), "unknown field `size`"),
            (json!({"name": "v", "image_id": IMAGE}), "missing field `size_gib`"),
        ] {
            let e = create(bad.clone()).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn volumes_trimmed() {
        let v = json!({"volume": {"id": "v1", "name": "d", "status": "in-use", "size": 2, "bootable": "true",
            "volume_type": "__DEFAULT__", "os-vol-host-attr:host": "stack@nfs#nfs", "metadata": {},
            "attachments": [{"server_id": "s1", "device": "/dev/vdb", "attachment_id": "a", "host_name": "h"}]}});
        assert_eq!(
            trim_volume(&v, None),
            json!({"id": "v1", "name": "d", "status": "in-use", "size_gib": 2, "bootable": true,
                "volume_type": "__DEFAULT__", "attachments": [{"server_id": "s1", "device": "/dev/vdb"}], "error": null})
        );
        assert!(!failed(&v));
        let e = json!({"volume": {"id": "v2", "status": "error", "size": 1, "bootable": "false", "attachments": []}});
        assert!(failed(&e) && failed(&json!({"volume": {"status": "error_deleting"}})));
        let t = trim_volume(&e, Some("failed to copy the image".into()));
        assert_eq!((t["bootable"].clone(), t["error"].clone()), (json!(false), json!("failed to copy the image")));
        assert_eq!(t["attachments"], json!([]));
        assert_eq!(trim_created_volume(&json!({"volume": {"id": "v3", "status": "creating"}})), json!({"id": "v3"}));
    }

    #[test]
    fn messages() {
        let body = br#"{"messages": [
            {"id": "m1", "user_message": "create volume: old failure", "created_at": "2026-12-06T10:00:00.000000"},
            {"id": "m2", "user_message": "create volume from image: An unknown error occurred.", "created_at": "2026-12-06T11:00:00.000000"},
            {"id": "m3", "user_message": " ", "created_at": "2026-12-06T12:00:00.000000"}]}"#;
        assert_eq!(user_message(200, body).as_deref(), Some("create volume from image: An unknown error occurred."));
        assert_eq!(user_message(200, br#"{"messages": []}"#), None);
        assert_eq!(user_message(404, body), None, "no messages API (microversion, policy)");
        assert_eq!(user_message(200, b"<html>"), None);
    }

    #[test]
    fn volume_types() {
        let types = json!({"volume_types": [
            {"id": "t1", "name": "__DEFAULT__", "description": "Default Volume Type", "extra_specs": {}, "is_public": true},
            {"id": "t2", "name": "ceph", "description": null}]});
        let default = default_type(200, br#"{"volume_type": {"id": "t2", "name": "ceph"}}"#);
        assert_eq!(default.as_deref(), Some("t2"));
        assert_eq!(
            trim_volume_types(&types, default.as_deref()),
            json!({"volume_types": [
                {"id": "t1", "name": "__DEFAULT__", "description": "Default Volume Type", "default": false},
                {"id": "t2", "name": "ceph", "description": null, "default": true}]})
        );
        assert_eq!(default_type(404, b"{}"), None, "no default: no error");
        let none = trim_volume_types(&types, None);
        assert!(none["volume_types"].as_array().unwrap().iter().all(|t| t["default"] == false));
        assert_eq!(trim_volume_types(&json!({}), None), json!({"volume_types": []}));
    }
}
