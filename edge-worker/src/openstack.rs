//! Glance, Nova and Neutron for the page: request bodies (validated before anything is sent),
//! listings trimmed to what the page shows, and the messages of OpenStack's error responses,
//! which reach the page unchanged. Cinder's are in [`crate::cinder`].

use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Nova microversion the worker speaks: 2.37 allows `"networks": "auto"`; remote consoles
/// need 2.6. Old enough for every supported cloud.
pub const NOVA_MICROVERSION: &str = "compute 2.37";
/// Longest upstream error message passed on.
pub const MAX_DETAIL_LEN: usize = 2000;
/// Largest number of custom image properties accepted.
pub const MAX_PROPERTIES: usize = 128;
/// Longest property key (Glance: 255) and value (Glance: 65535).
pub const MAX_PROPERTY_KEY: usize = 255;
pub const MAX_PROPERTY_VALUE: usize = 65535;
/// Image formats the worker uploads: what stackferry produces.
pub const DISK_FORMATS: &[&str] = &["qcow2", "raw"];
/// Image properties the page may not set: Glance's core attributes and reserved names.
pub const RESERVED_PROPERTIES: &[&str] = &[
    "id",
    "name",
    "status",
    "disk_format",
    "container_format",
    "min_disk",
    "min_ram",
    "size",
    "virtual_size",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "owner",
    "locations",
    "direct_url",
    "created_at",
    "updated_at",
    "deleted",
    "deleted_at",
    "file",
    "schema",
    "self",
    "tags",
    "protected",
    "visibility",
    "os_hidden",
];

/// An id from a URL path or body: letters, digits, `-`, `_`, `.` only (UUIDs, flavor ids), so
/// it can be put in an upstream path as is.
pub fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s != "."
        && s != ".."
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A UUID as OpenStack writes ids (`8-4-4-4-12` hex digits): what ids in request bodies that
/// name volumes and images must be.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `base` + `/v2` unless the catalog URL already ends with the version.
pub fn versioned(base: &str, version: &str) -> String {
    let b = base.trim_end_matches('/');
    if b.ends_with(version) {
        b.to_string()
    } else {
        format!("{b}{version}")
    }
}

/// The human message in an OpenStack error body: Keystone `{"error": {"message"}}`, Nova
/// `{"badRequest": {"message"}}`, Neutron `{"NeutronError": {"message"}}`, webob JSON
/// `{"message", "title"}`, or webob's HTML/plain text pages (Glance: "415 Unsupported Media
/// Type ... Image failed safety checks"). Tags stripped, whitespace collapsed, bounded.
pub fn upstream_message(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        if let Some(m) = json_message(&v) {
            return Some(clean(&m)).filter(|s| !s.is_empty());
        }
    }
    let m = html_text(text);
    Some(m).filter(|s| !s.is_empty())
}

fn json_message(v: &Value) -> Option<String> {
    let obj = v.as_object()?;
    for key in ["message", "detail", "description", "faultstring", "title"] {
        if let Some(s) = obj.get(key).and_then(Value::as_str).filter(|s| !s.trim().is_empty()) {
            return Some(s.to_string());
        }
    }
    // {"error": {...}}, {"badRequest": {...}}, {"NeutronError": {...}}: one wrapped object
    obj.values().filter(|x| x.is_object()).find_map(json_message)
}

/// Text of a webob error page without its `<title>`/`<h1>` status line.
fn html_text(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    let lower = s.to_ascii_lowercase();
    let mut skip_until: Option<&str> = None;
    let mut pos = 0;
    while let Some(lt) = rest.find('<') {
        if skip_until.is_none() {
            out.push_str(&rest[..lt]);
        }
        out.push(' ');
        let Some(gt) = rest[lt..].find('>') else { break };
        let tag = &lower[pos + lt..pos + lt + gt + 1];
        match skip_until {
            Some(end) if tag.starts_with(end) => skip_until = None,
            Some(_) => {}
            None if tag.starts_with("<title") => skip_until = Some("</title"),
            None if tag.starts_with("<h1") => skip_until = Some("</h1"),
            None if tag.starts_with("<style") => skip_until = Some("</style"),
            None if tag.starts_with("<script") => skip_until = Some("</script"),
            None => {}
        }
        pos += lt + gt + 1;
        rest = &rest[lt + gt + 1..];
    }
    if skip_until.is_none() {
        out.push_str(rest);
    }
    let mut t = clean(&out);
    // webob plain text: "415 Unsupported Media Type  Image failed safety checks"
    if t.len() > 4 && t.as_bytes()[..3].iter().all(u8::is_ascii_digit) && t.as_bytes()[3] == b' ' {
        let words = [
            "Bad Request",
            "Unauthorized",
            "Forbidden",
            "Not Found",
            "Conflict",
            "Request Entity Too Large",
            "Unsupported Media Type",
            "Internal Server Error",
            "Service Unavailable",
            "Gone",
            "Method Not Allowed",
            "Length Required",
            "Not Acceptable",
            "Gateway Timeout",
            "Bad Gateway",
        ];
        if let Some(w) = words.iter().find(|w| t[4..].starts_with(*w)) {
            let after = t[4 + w.len()..].trim().to_string();
            if !after.is_empty() {
                t = after;
            }
        }
    }
    t
}

/// Tags removed, entities `&lt; &gt; &amp; &quot; &#39;` decoded, whitespace collapsed,
/// length bounded.
fn clean(s: &str) -> String {
    let no_tags = if s.contains('<') {
        let mut o = String::new();
        let mut in_tag = false;
        for c in s.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => {
                    in_tag = false;
                    o.push(' ');
                }
                _ if !in_tag => o.push(c),
                _ => {}
            }
        }
        o
    } else {
        s.to_string()
    };
    let decoded = no_tags
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let mut out: String = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.len() > MAX_DETAIL_LEN {
        let mut cut = MAX_DETAIL_LEN;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

// ------------------------------------------------------------------ images

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageCreate {
    pub name: String,
    pub disk_format: String,
    #[serde(default = "bare")]
    pub container_format: String,
    #[serde(default)]
    pub min_disk: Option<u64>,
    #[serde(default)]
    pub min_ram: Option<u64>,
    #[serde(default)]
    pub properties: Map<String, Value>,
}

fn bare() -> String {
    "bare".into()
}

impl ImageCreate {
    /// Glance `POST /v2/images` body (custom properties are top-level keys in Glance v2).
    pub fn glance_body(&self) -> Result<Value, String> {
        if self.name.trim().is_empty() || self.name.len() > 255 {
            return Err("name must be 1 to 255 characters".into());
        }
        if !DISK_FORMATS.contains(&self.disk_format.as_str()) {
            return Err(format!("disk_format {:?} is not one stackferry uploads (qcow2, raw)", self.disk_format));
        }
        if self.container_format != "bare" {
            return Err(format!("container_format {:?}: only \"bare\" is supported", self.container_format));
        }
        let mut body = Map::new();
        body.insert("name".into(), json!(self.name));
        body.insert("disk_format".into(), json!(self.disk_format));
        body.insert("container_format".into(), json!(self.container_format));
        if let Some(d) = self.min_disk {
            body.insert("min_disk".into(), json!(d));
        }
        if let Some(r) = self.min_ram {
            body.insert("min_ram".into(), json!(r));
        }
        if self.properties.len() > MAX_PROPERTIES {
            return Err(format!("at most {MAX_PROPERTIES} properties"));
        }
        for (k, v) in &self.properties {
            if k.is_empty()
                || k.len() > MAX_PROPERTY_KEY
                || RESERVED_PROPERTIES.contains(&k.as_str())
                || k.starts_with("os_glance")
            {
                return Err(format!("property {k:?} cannot be set"));
            }
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(format!("property {k:?}: values must be strings")),
            };
            if s.len() > MAX_PROPERTY_VALUE {
                return Err(format!("property {k:?} is too long"));
            }
            body.insert(k.clone(), Value::String(s));
        }
        Ok(Value::Object(body))
    }
}

/// Glance's answer to creating an image, for the page: its id and status.
pub fn trim_created_image(v: &Value) -> Value {
    json!({"id": v["id"], "status": v["status"]})
}

/// An image as the page sees it.
pub fn trim_image(v: &Value) -> Value {
    pick(
        v,
        &[
            "id",
            "name",
            "status",
            "disk_format",
            "container_format",
            "size",
            "virtual_size",
            "min_disk",
            "min_ram",
            "visibility",
            "created_at",
            "os_hash_algo",
            "os_hash_value",
            "checksum",
        ],
    )
}

/// The object with only `keys` of `v` (those it has).
pub(crate) fn pick(v: &Value, keys: &[&str]) -> Value {
    let mut m = Map::new();
    for k in keys {
        if let Some(x) = v.get(*k) {
            m.insert(k.to_string(), x.clone());
        }
    }
    Value::Object(m)
}

fn list<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

pub fn trim_images(v: &Value) -> Value {
    Value::Array(list(v, "images").map(trim_image).collect())
}

/// Glance's stores (`GET /v2/info/stores/detail`, or `/v2/info/stores` without `type`) for the
/// page: `default` as a bool (Glance writes the string "true"), `type` null when not listed.
pub fn trim_stores(v: &Value) -> Value {
    let stores: Vec<Value> = list(v, "stores")
        .map(|s| {
            let default = matches!(&s["default"], Value::Bool(true))
                || s["default"].as_str().is_some_and(|d| d.eq_ignore_ascii_case("true"));
            json!({"id": s.get("id"), "default": default, "type": s.get("type")})
        })
        .collect();
    json!({"stores": stores})
}

pub fn trim_flavors(v: &Value) -> Value {
    Value::Array(
        list(v, "flavors")
            .map(|f| {
                let mut o = pick(f, &["id", "name", "vcpus", "ram", "disk"]);
                o["ephemeral"] = f.get("OS-FLV-EXT-DATA:ephemeral").cloned().unwrap_or(json!(0));
                o["is_public"] = f.get("os-flavor-access:is_public").cloned().unwrap_or(json!(true));
                o
            })
            .collect(),
    )
}

/// The networks a server of `project_id` can use: the project's own, shared and external
/// ones (Neutron lists every project's to an admin).
pub fn visible_networks(v: &Value, project_id: &str) -> Value {
    let visible = |n: &&Value| {
        let owner = n.get("project_id").or_else(|| n.get("tenant_id")).and_then(Value::as_str);
        owner == Some(project_id) || n["shared"] == json!(true) || n["router:external"] == json!(true)
    };
    Value::Array(
        list(v, "networks")
            .filter(visible)
            .map(|n| {
                let mut o = pick(n, &["id", "name", "status", "shared", "subnets", "mtu"]);
                o["external"] = n.get("router:external").cloned().unwrap_or(json!(false));
                o
            })
            .collect(),
    )
}

pub fn trim_keypairs(v: &Value) -> Value {
    Value::Array(
        list(v, "keypairs").map(|k| pick(k.get("keypair").unwrap_or(k), &["name", "type", "fingerprint"])).collect(),
    )
}

pub fn trim_security_groups(v: &Value) -> Value {
    Value::Array(list(v, "security_groups").map(|g| pick(g, &["id", "name", "description"])).collect())
}

// ------------------------------------------------------------------ servers

/// Most volumes one server takes: one device letter each, `vda` to `vdz` (Nova names the
/// disks by letter; past `z` the names take two, which guests' tools do not all expect).
pub const MAX_SERVER_VOLUMES: usize = 26;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerCreate {
    pub name: String,
    /// The image to boot from; absent when a volume has `boot: true`.
    #[serde(default)]
    pub image_id: Option<String>,
    pub flavor_id: String,
    #[serde(default)]
    pub network_id: Option<String>,
    #[serde(default)]
    pub key_name: Option<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// Cinder volumes, in the order they are attached.
    #[serde(default)]
    pub volumes: Vec<ServerVolume>,
}

/// A volume of `POST /api/servers`: the boot volume, or a data volume.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerVolume {
    pub id: String,
    #[serde(default)]
    pub boot: bool,
    #[serde(default)]
    pub delete_on_termination: bool,
}

impl ServerCreate {
    /// Nova `POST /servers` body. Without a network: `"auto"` (the project's only network,
    /// or Nova's auto-allocated one). With volumes: `block_device_mapping_v2`.
    pub fn nova_body(&self) -> Result<Value, String> {
        if self.name.trim().is_empty() || self.name.len() > 255 {
            return Err("name must be 1 to 255 characters".into());
        }
        if !valid_id(&self.flavor_id) {
            return Err(format!("flavor_id {:?} is not a valid id", self.flavor_id));
        }
        let image = self.image_id.as_deref().filter(|s| !s.is_empty());
        if let Some(i) = image.filter(|i| !valid_id(i)) {
            return Err(format!("image_id {i:?} is not a valid id"));
        }
        let mut server = Map::new();
        server.insert("name".into(), json!(self.name));
        if let Some(i) = image {
            server.insert("imageRef".into(), json!(i));
        }
        server.insert("flavorRef".into(), json!(self.flavor_id));
        if let Some(bdm) = block_device_mapping(image, &self.volumes)? {
            server.insert("block_device_mapping_v2".into(), bdm);
        }
        match self.network_id.as_deref().filter(|s| !s.is_empty()) {
            Some(n) if valid_id(n) => server.insert("networks".into(), json!([{"uuid": n}])),
            Some(n) => return Err(format!("network_id {n:?} is not a valid id")),
            None => server.insert("networks".into(), json!("auto")),
        };
        if let Some(k) = self.key_name.as_deref().filter(|s| !s.is_empty()) {
            if k.len() > 255 {
                return Err("key_name is too long".into());
            }
            server.insert("key_name".into(), json!(k));
        }
        if self.security_groups.len() > 64 || self.security_groups.iter().any(|g| g.is_empty() || g.len() > 255) {
            return Err("security_groups: at most 64 non-empty names or ids".into());
        }
        if !self.security_groups.is_empty() {
            server.insert(
                "security_groups".into(),
                Value::Array(self.security_groups.iter().map(|g| json!({"name": g})).collect()),
            );
        }
        Ok(json!({"server": server}))
    }
}

/// Nova's `block_device_mapping_v2` for a server booted from `image` or from the volume with
/// `boot: true` (exactly one of the two), the data volumes after the root in their order
/// (`boot_index: -1`). `None` for an image and no volumes: the body Nova has always taken.
fn block_device_mapping(image: Option<&str>, volumes: &[ServerVolume]) -> Result<Option<Value>, String> {
    if volumes.len() > MAX_SERVER_VOLUMES {
        return Err(format!("at most {MAX_SERVER_VOLUMES} volumes"));
    }
    for (i, v) in volumes.iter().enumerate() {
        if !is_uuid(&v.id) {
            return Err(format!("volumes[{i}].id is not a UUID"));
        }
        if volumes[..i].iter().any(|w| w.id.eq_ignore_ascii_case(&v.id)) {
            return Err(format!("volume {} is given twice", v.id));
        }
    }
    let mut boot = volumes.iter().filter(|v| v.boot);
    let root = match (image, boot.next(), boot.next()) {
        (_, Some(_), Some(_)) => return Err("only one volume can have boot: true".into()),
        (Some(_), Some(_), None) => return Err("give image_id or a volume with boot: true, not both".into()),
        (None, None, _) => return Err("image_id is required unless a volume has boot: true".into()),
        (Some(_), None, _) if volumes.is_empty() => return Ok(None),
        (Some(i), None, _) => json!({"boot_index": 0, "source_type": "image", "destination_type": "local",
            "uuid": i, "delete_on_termination": true}),
        (None, Some(v), None) => volume_mapping(v, 0),
    };
    let data = volumes.iter().filter(|v| !v.boot).map(|v| volume_mapping(v, -1));
    Ok(Some(Value::Array(std::iter::once(root).chain(data).collect())))
}

fn volume_mapping(v: &ServerVolume, boot_index: i32) -> Value {
    json!({"boot_index": boot_index, "source_type": "volume", "destination_type": "volume",
        "uuid": v.id, "delete_on_termination": v.delete_on_termination})
}

/// Nova's answer to creating a server, for the page: its id (not the admin password).
pub fn trim_created_server(v: &Value) -> Value {
    json!({"id": v["server"]["id"]})
}

/// `GET /servers/{id}` for the page: status, addresses, attached volumes (ids, in Nova's
/// order) and the fault (without Nova's
/// traceback `details`, which only admins see anyway).
pub fn trim_server(v: &Value) -> Value {
    let s = v.get("server").unwrap_or(v);
    let mut o = pick(s, &["id", "name", "status", "created", "updated"]);
    o["task_state"] = s.get("OS-EXT-STS:task_state").cloned().unwrap_or(Value::Null);
    o["power_state"] = s.get("OS-EXT-STS:power_state").cloned().unwrap_or(Value::Null);
    o["volumes"] =
        Value::Array(list(s, "os-extended-volumes:volumes_attached").filter_map(|a| a.get("id")).cloned().collect());
    let mut addrs = Map::new();
    if let Some(a) = s.get("addresses").and_then(Value::as_object) {
        for (net, list) in a {
            let l: Vec<Value> = list
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| json!({"addr": x.get("addr"), "version": x.get("version"), "type": x.get("OS-EXT-IPS:type")}))
                .collect();
            addrs.insert(net.clone(), Value::Array(l));
        }
    }
    o["addresses"] = Value::Object(addrs);
    if let Some(f) = s.get("fault").filter(|f| f.is_object()) {
        o["fault"] = pick(f, &["code", "message", "created"]);
    }
    o
}

/// Console types tried in order: noVNC, SPICE HTML5, serial.
pub const CONSOLES: &[(&str, &str)] = &[("vnc", "novnc"), ("spice", "spice-html5"), ("serial", "serial")];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_each_service() {
        let ks = br#"{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}"#;
        assert_eq!(upstream_message(ks).unwrap(), "The request you have made requires authentication.");
        let nova = br#"{"badRequest": {"code": 400, "message": "Image 1234 is not active."}}"#;
        assert_eq!(upstream_message(nova).unwrap(), "Image 1234 is not active.");
        let neutron = br#"{"NeutronError": {"type": "NetworkNotFound", "message": "Network x could not be found.", "detail": ""}}"#;
        assert_eq!(upstream_message(neutron).unwrap(), "Network x could not be found.");
        let webob_json = br#"{"message": "Image failed safety checks<br /><br />\n\n\n", "code": "415 Unsupported Media Type", "title": "Unsupported Media Type"}"#;
        assert_eq!(upstream_message(webob_json).unwrap(), "Image failed safety checks");
        let html = b"<html>\n <head>\n  <title>415 Unsupported Media Type</title>\n </head>\n <body>\n  <h1>415 Unsupported Media Type</h1>\n  Image disk_format qcow2 does not match stream data raw<br /><br />\n\n\n\n </body>\n</html>";
        assert_eq!(upstream_message(html).unwrap(), "Image disk_format qcow2 does not match stream data raw");
        let text = b"415 Unsupported Media Type\n\nImage failed safety checks\n\n   ";
        assert_eq!(upstream_message(text).unwrap(), "Image failed safety checks");
        assert_eq!(upstream_message(b"  "), None);
        assert_eq!(upstream_message(b"<html><head><title>502</title></head><body></body></html>"), None);
        assert!(upstream_message("x".repeat(10_000).as_bytes()).unwrap().len() <= MAX_DETAIL_LEN + 3);
        assert_eq!(upstream_message(b"a &lt;b&gt; &amp; c").unwrap(), "a <b> & c");
    }

    #[test]
    fn image_body() {
        let c: ImageCreate = serde_json::from_value(json!({"name": "vm", "disk_format": "qcow2", "min_disk": 2,
            "properties": {"os_type": "linux", "hw_disk_bus": "virtio", "hw_cpu_cores": 2}}))
        .unwrap();
        let b = c.glance_body().unwrap();
        assert_eq!(b["container_format"], "bare");
        assert_eq!(b["min_disk"], 2);
        assert_eq!(b["hw_cpu_cores"], "2");
        assert_eq!(b["os_type"], "linux");
        for bad in [
            json!({"name": "vm", "disk_format": "vmdk"}),
            json!({"name": "", "disk_format": "raw"}),
            json!({"name": "vm", "disk_format": "raw", "container_format": "ova"}),
            json!({"name": "vm", "disk_format": "raw", "properties": {"owner": "x"}}),
            json!({"name": "vm", "disk_format": "raw", "properties": {"os_glance_import_task": "x"}}),
            json!({"name": "vm", "disk_format": "raw", "properties": {"a": {"b": 1}}}),
        ] {
            let c: ImageCreate = serde_json::from_value(bad.clone()).unwrap();
            assert!(c.glance_body().is_err(), "{bad}");
        }
        assert!(serde_json::from_value::<ImageCreate>(json!({"name": "vm", "disk_format": "raw", "status": "active"}))
            .is_err());
    }

    #[test]
    fn server_body() {
        let c: ServerCreate =
            serde_json::from_value(json!({"name": "vm", "image_id": "9b1c", "flavor_id": "stack-tiny",
            "network_id": "n-1", "key_name": "k", "security_groups": ["default"]}))
            .unwrap();
        assert_eq!(
            c.nova_body().unwrap(),
            json!({"server": {"name": "vm", "imageRef": "9b1c", "flavorRef": "stack-tiny",
            "networks": [{"uuid": "n-1"}], "key_name": "k", "security_groups": [{"name": "default"}]}})
        );
        let c: ServerCreate =
            serde_json::from_value(json!({"name": "vm", "image_id": "9b1c", "flavor_id": "1"})).unwrap();
        assert_eq!(c.nova_body().unwrap()["server"]["networks"], "auto");
        let c: ServerCreate =
            serde_json::from_value(json!({"name": "vm", "image_id": "../../os-keypairs", "flavor_id": "1"})).unwrap();
        assert!(c.nova_body().is_err());
    }

    const V1: &str = "11111111-2222-4333-8444-555555555555";
    const V2: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    const V3: &str = "0b6e4d36-95a4-4a0c-9b3c-2f4ddc3c8d1e";

    fn server(v: Value) -> Result<Value, String> {
        serde_json::from_value::<ServerCreate>(v).map_err(|e| e.to_string())?.nova_body()
    }

    #[test]
    fn server_with_data_volumes() {
        let b = server(json!({"name": "vm", "image_id": "9b1c", "flavor_id": "1", "volumes": [
            {"id": V2, "boot": false, "delete_on_termination": false},
            {"id": V1, "boot": false, "delete_on_termination": true}]}))
        .unwrap();
        assert_eq!(b["server"]["imageRef"], "9b1c");
        assert_eq!(
            b["server"]["block_device_mapping_v2"],
            json!([
                {"boot_index": 0, "source_type": "image", "destination_type": "local", "uuid": "9b1c", "delete_on_termination": true},
                {"boot_index": -1, "source_type": "volume", "destination_type": "volume", "uuid": V2, "delete_on_termination": false},
                {"boot_index": -1, "source_type": "volume", "destination_type": "volume", "uuid": V1, "delete_on_termination": true}])
        );
        let plain = server(json!({"name": "vm", "image_id": "9b1c", "flavor_id": "1", "volumes": []})).unwrap();
        assert!(plain["server"].get("block_device_mapping_v2").is_none(), "no volumes: today's body");
    }

    #[test]
    fn server_booted_from_volume() {
        // the boot volume first, whatever its place in the list; the data volumes in their order
        let b = server(json!({"name": "vm", "flavor_id": "1", "volumes": [
            {"id": V2}, {"id": V1, "boot": true, "delete_on_termination": false}, {"id": V3, "delete_on_termination": true}]}))
        .unwrap();
        assert!(b["server"].get("imageRef").is_none());
        assert_eq!(
            b["server"]["block_device_mapping_v2"],
            json!([
                {"boot_index": 0, "source_type": "volume", "destination_type": "volume", "uuid": V1, "delete_on_termination": false},
                {"boot_index": -1, "source_type": "volume", "destination_type": "volume", "uuid": V2, "delete_on_termination": false},
                {"boot_index": -1, "source_type": "volume", "destination_type": "volume", "uuid": V3, "delete_on_termination": true}])
        );
        let b = server(json!({"name": "vm", "image_id": null, "flavor_id": "1",
            "volumes": [{"id": V1, "boot": true, "delete_on_termination": true}]}))
        .unwrap();
        assert_eq!(b["server"]["block_device_mapping_v2"][0]["delete_on_termination"], true);
    }

    #[test]
    fn server_volumes_refused() {
        let many: Vec<Value> = (0..27).map(|i| json!({"id": format!("00000000-0000-4000-8000-{i:012}")})).collect();
        for (bad, why) in [
            (json!({"name": "vm", "flavor_id": "1"}), "image_id is required unless a volume has boot: true"),
            (json!({"name": "vm", "flavor_id": "1", "volumes": [{"id": V1}]}), "image_id is required"),
            (json!({"name": "vm", "image_id": "", "flavor_id": "1"}), "image_id is required"),
            (
                json!({"name": "vm", "image_id": "9b1c", "flavor_id": "1", "volumes": [{"id": V1, "boot": true}]}),
                "not both",
            ),
            (
                json!({"name": "vm", "flavor_id": "1", "volumes": [{"id": V1, "boot": true}, {"id": V2, "boot": true}]}),
                "only one volume",
            ),
            (
                json!({"name": "vm", "image_id": "9b1c", "flavor_id": "1", "volumes": [{"id": "../../os-keypairs"}]}),
                "volumes[0].id is not a UUID",
            ),
            (
                json!({"name": "vm", "image_id": "9b1c", "flavor_id": "1", "volumes": [{"id": V1}, {"id": "vol-2"}]}),
                "volumes[1].id is not a UUID",
            ),
            (
                json!({"name": "vm", "image_id": "9b1c", "flavor_id": "1", "volumes": [{"id": V1}, {"id": V1.to_uppercase()}]}),
                "given twice",
            ),
            (json!({"name": "vm", "image_id": "9b1c", "flavor_id": "1", "volumes": many}), "at most 26 volumes"),
            (
                json!({"name": "vm", "image_id": "9b1c", "flavor_id": "1", "volumes": [{"id": V1, "size": 1}]}),
                "unknown field `size`",
            ),
        ] {
            let e = server(bad.clone()).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let most: Vec<Value> = (0..26).map(|i| json!({"id": format!("00000000-0000-4000-8000-{i:012}")})).collect();
        let b = server(json!({"name": "vm", "image_id": "9b1c", "flavor_id": "1", "volumes": most})).unwrap();
        assert_eq!(b["server"]["block_device_mapping_v2"].as_array().unwrap().len(), 27, "root + 26");
    }

    #[test]
    fn uuids() {
        assert!(is_uuid(V3) && is_uuid(&V3.to_uppercase()));
        for bad in [
            "",
            "9b1c",
            "0b6e4d36-95a4-4a0c-9b3c-2f4ddc3c8d1",
            "0b6e4d36-95a4-4a0c-9b3c-2f4ddc3c8d1e0",
            "0b6e4d3695a44a0c9b3c2f4ddc3c8d1e",
            "0b6e4d36-95a4-4a0c-9b3c_2f4ddc3c8d1e",
            "0b6e4d36-95a4-4a0c-9b3c-2f4ddc3c8d1g",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }

    #[test]
    fn stores() {
        let detail = json!({"stores": [
            {"id": "fs", "default": "true", "type": "file", "properties": {"data_dir": "/var/lib/glance"}, "weight": 0},
            {"id": "ceph", "type": "rbd", "properties": {"pool": "images"}}]});
        assert_eq!(
            trim_stores(&detail),
            json!({"stores": [{"id": "fs", "default": true, "type": "file"}, {"id": "ceph", "default": false, "type": "rbd"}]})
        );
        let plain = json!({"stores": [{"id": "a", "default": true, "description": "x"}, {"id": "b"}]});
        assert_eq!(
            trim_stores(&plain),
            json!({"stores": [{"id": "a", "default": true, "type": null}, {"id": "b", "default": false, "type": null}]})
        );
        assert_eq!(trim_stores(&json!({})), json!({"stores": []}));
    }

    #[test]
    fn ids_and_versions() {
        assert!(valid_id("0b6e4d36-95a4-4a0c-9b3c-2f4ddc3c8d1e"));
        assert!(valid_id("stack-tiny"));
        for bad in ["", "..", "a/b", "a?b", "a%2fb", "a b"] {
            assert!(!valid_id(bad), "{bad}");
        }
        assert_eq!(versioned("http://h:9292", "/v2"), "http://h:9292/v2");
        assert_eq!(versioned("http://h:9292/v2/", "/v2"), "http://h:9292/v2");
        assert_eq!(versioned("http://h:9696", "/v2.0"), "http://h:9696/v2.0");
    }

    #[test]
    fn trimming() {
        let s = json!({"server": {"id": "s", "name": "n", "status": "ERROR", "adminPass": "pw", "OS-EXT-STS:task_state": null,
            "addresses": {"net": [{"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": "fa:16"}]},
            "fault": {"code": 500, "message": "No valid host was found.", "details": "Traceback ..."}}});
        let t = trim_server(&s);
        assert_eq!(t["fault"], json!({"code": 500, "message": "No valid host was found."}));
        assert_eq!(t["addresses"]["net"][0], json!({"addr": "10.0.0.5", "version": 4, "type": "fixed"}));
        assert!(t.get("adminPass").is_none());
        assert_eq!(t["volumes"], json!([]), "none attached");
        let attached = json!({"server": {"id": "s", "os-extended-volumes:volumes_attached": [
            {"id": "v-boot", "delete_on_termination": false}, {"id": "v-data", "delete_on_termination": false}]}});
        assert_eq!(trim_server(&attached)["volumes"], json!(["v-boot", "v-data"]), "ids in Nova's order");
        let f = trim_flavors(
            &json!({"flavors": [{"id": "1", "name": "m1", "vcpus": 1, "ram": 512, "disk": 1, "links": [], "OS-FLV-EXT-DATA:ephemeral": 0}]}),
        );
        assert_eq!(
            f,
            json!([{"id": "1", "name": "m1", "vcpus": 1, "ram": 512, "disk": 1, "ephemeral": 0, "is_public": true}])
        );
        let k = trim_keypairs(
            &json!({"keypairs": [{"keypair": {"name": "k", "public_key": "ssh-ed25519 AAAA", "fingerprint": "f", "type": "ssh"}}]}),
        );
        assert_eq!(k, json!([{"name": "k", "type": "ssh", "fingerprint": "f"}]));
        assert_eq!(trim_images(&json!({})), json!([]));
        assert_eq!(
            trim_created_image(&json!({"id": "i", "status": "queued", "owner": "p", "file": "/v2/images/i/file"})),
            json!({"id": "i", "status": "queued"})
        );
        assert_eq!(trim_created_server(&json!({"server": {"id": "s", "adminPass": "pw"}})), json!({"id": "s"}));
        assert_eq!(trim_created_server(&Value::Null), json!({"id": null}));
    }

    #[test]
    fn networks_a_project_sees() {
        let v = json!({"networks": [
            {"id": "own", "name": "a", "project_id": "p1", "shared": false, "router:external": false, "subnets": ["s"], "mtu": 1450, "status": "ACTIVE"},
            {"id": "legacy-own", "tenant_id": "p1"},
            {"id": "shared", "project_id": "p2", "shared": true},
            {"id": "external", "project_id": "p2", "router:external": true},
            {"id": "foreign", "project_id": "p2", "shared": false, "router:external": false},
            {"id": "no-owner"}
        ]});
        let ids: Vec<Value> = visible_networks(&v, "p1").as_array().unwrap().iter().map(|n| n["id"].clone()).collect();
        assert_eq!(ids, vec![json!("own"), json!("legacy-own"), json!("shared"), json!("external")]);
        assert_eq!(
            visible_networks(&v, "p1")[0],
            json!({"id": "own", "name": "a", "status": "ACTIVE", "shared": false, "subnets": ["s"], "mtu": 1450, "external": false})
        );
        assert_eq!(visible_networks(&v, "p1")[3]["external"], true);
        assert_eq!(visible_networks(&json!({}), "p1"), json!([]));
    }
}
