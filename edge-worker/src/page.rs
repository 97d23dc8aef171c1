//! The page's static files (`web/dist/` behind the `ASSETS` binding): which file a path names,
//! what a missing file is answered with, content types for file services that set none, and
//! the headers every page response carries. `glue::page` fetches the files.

/// The page's Content-Security-Policy, as a header: unlike the `<meta>` copy in index.html it
/// also covers the Web Workers (their scripts are separate responses; `'wasm-unsafe-eval'`
/// lets them compile the converter, nothing else may be evaluated) and can forbid framing
/// (`frame-ancestors`). The page's own dev server (web/serve.mjs) sends the same string, so
/// the page tests run under it (a test here checks the two agree).
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Headers on everything the page gets: its CSP; no MIME sniffing; no referrer to the cloud's
/// console links; no framing (old browsers); HTTPS only once seen over HTTPS (browsers ignore
/// HSTS over plain HTTP, so a local `npm start` is unaffected); a browsing context group of its
/// own (COOP: no other window keeps a handle on the page that holds the session).
pub const PAGE_HEADERS: &[(&str, &str)] = &[
    ("Content-Security-Policy", PAGE_CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Strict-Transport-Security", "max-age=31536000"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
];

/// Methods the page answers.
pub const PAGE_METHODS: &str = "GET, HEAD";

/// The answer when `web/dist/` has no page (not built, or no `ASSETS` binding).
pub const NOT_BUILT: &str = "<!doctype html><title>stackferry</title><p>The stackferry page is not built yet (web/dist/ is empty). The API is under /api.</p>\n";

/// Whether the page answers `method` (else 405 with `Allow:` [`PAGE_METHODS`]).
pub fn method_allowed(method: &str) -> bool {
    method == "GET" || method == "HEAD"
}

/// The file a path names: `index.html` for a directory (`/`, `/x/`); `None` (404) for a path
/// with a `..` or hidden (`.name`) segment.
pub fn file_for(path: &str) -> Option<String> {
    if path.split('/').any(|seg| seg.starts_with('.')) {
        return None;
    }
    Some(if path.ends_with('/') { format!("{path}index.html") } else { path.to_string() })
}

/// What a file the file service does not have is answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// A path without an extension is one of the page's own views: `/index.html` (and
    /// [`Missing::NotBuilt`] when that is missing too).
    Index,
    /// `/index.html` itself: the page is not built.
    NotBuilt,
    /// Any other file: the file service's 404.
    NotFound,
}

/// What answers a missing `file` (from [`file_for`]).
pub fn when_missing(file: &str) -> Missing {
    if !file.rsplit('/').next().unwrap_or("").contains('.') {
        Missing::Index
    } else if file == "/index.html" {
        Missing::NotBuilt
    } else {
        Missing::NotFound
    }
}

/// The `Content-Type` to set on a served `file` whose file service sent `served` (empty when
/// none): by extension when it sent none or a generic one, else `None` (keep it).
pub fn content_type(file: &str, served: &str) -> Option<&'static str> {
    (served.is_empty() || served.starts_with("application/octet-stream")).then(|| content_type_for(file))
}

/// Content type for a static file of the page, by extension (for runtimes whose file service
/// sets none).
pub fn content_type_for(path: &str) -> &'static str {
    let ext = path.rsplit('/').next().and_then(|f| f.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("html") | Some("htm") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") | Some("map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_types() {
        assert_eq!(content_type_for("/index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type_for("/pkg/stackferry_bg.wasm"), "application/wasm");
        assert_eq!(content_type_for("/a.b/c"), "application/octet-stream");
        assert_eq!(content_type("/pkg/x.wasm", ""), Some("application/wasm"));
        assert_eq!(content_type("/pkg/x.wasm", "application/octet-stream; charset=binary"), Some("application/wasm"));
        assert_eq!(content_type("/x.js", "text/javascript"), None, "the file service's type is kept");
    }

    #[test]
    fn files_of_paths() {
        assert_eq!(file_for("/").as_deref(), Some("/index.html"));
        assert_eq!(file_for("/docs/").as_deref(), Some("/docs/index.html"));
        assert_eq!(file_for("/pkg/stackferry.js").as_deref(), Some("/pkg/stackferry.js"));
        for hidden in ["/../etc/passwd", "/.env", "/a/.git/config", "/a/../b"] {
            assert_eq!(file_for(hidden), None, "{hidden}");
        }
        assert!(method_allowed("GET") && method_allowed("HEAD") && !method_allowed("POST"));
    }

    #[test]
    fn csp_is_the_dev_servers() {
        // web/serve.mjs serves the page in the page tests: the policy they pass under must be
        // the one the worker sends.
        let serve = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/serve.mjs")).unwrap();
        assert!(serve.contains(&format!("\"{PAGE_CSP}\"")), "web/serve.mjs sends PAGE_CSP");
        let names: Vec<&str> = PAGE_HEADERS.iter().map(|(k, _)| *k).collect();
        for h in
            ["Content-Security-Policy", "Strict-Transport-Security", "Cross-Origin-Opener-Policy", "X-Frame-Options"]
        {
            assert!(names.contains(&h), "{h}");
        }
    }

    #[test]
    fn missing_files() {
        assert_eq!(when_missing("/launch"), Missing::Index, "a view of the page");
        assert_eq!(when_missing("/a.b/launch"), Missing::Index);
        assert_eq!(when_missing("/index.html"), Missing::NotBuilt);
        assert_eq!(when_missing("/docs/index.html"), Missing::NotFound);
        assert_eq!(when_missing("/pkg/gone.js"), Missing::NotFound);
    }
}
