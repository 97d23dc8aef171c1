//! Glance, Nova and Neutron for the page: request bodies (validated before anything is sent),
//! listings trimmed to what the page shows, and the messages of OpenStack's error responses,
//! which reach the page unchanged.

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

fn pick(v: &Value, keys: &[&str]) -> Value {
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerCreate {
    pub name: String,
    pub image_id: String,
    pub flavor_id: String,
    #[serde(default)]
    pub network_id: Option<String>,
    #[serde(default)]
    pub key_name: Option<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
}

impl ServerCreate {
    /// Nova `POST /servers` body. Without a network: `"auto"` (the project's only network,
    /// or Nova's auto-allocated one).
    pub fn nova_body(&self) -> Result<Value, String> {
        if self.name.trim().is_empty() || self.name.len() > 255 {
            return Err("name must be 1 to 255 characters".into());
        }
        for (what, id) in [("image_id", &self.image_id), ("flavor_id", &self.flavor_id)] {
            if !valid_id(id) {
                return Err(format!("{what} {id:?} is not a valid id"));
            }
        }
        let mut server = Map::new();
        server.insert("name".into(), json!(self.name));
        server.insert("imageRef".into(), json!(self.image_id));
        server.insert("flavorRef".into(), json!(self.flavor_id));
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

/// Nova's answer to creating a server, for the page: its id (not the admin password).
pub fn trim_created_server(v: &Value) -> Value {
    json!({"id": v["server"]["id"]})
}

/// `GET /servers/{id}` for the page: status, addresses and the fault (without Nova's
/// traceback `details`, which only admins see anyway).
pub fn trim_server(v: &Value) -> Value {
    let s = v.get("server").unwrap_or(v);
    let mut o = pick(s, &["id", "name", "status", "created", "updated"]);
    o["task_state"] = s.get("OS-EXT-STS:task_state").cloned().unwrap_or(Value::Null);
    o["power_state"] = s.get("OS-EXT-STS:power_state").cloned().unwrap_or(Value::Null);
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
