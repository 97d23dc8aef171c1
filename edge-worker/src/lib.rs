//! stackferry's edge worker: the only server stackferry needs. It holds the OpenStack session
//! for the page (the Keystone token sealed in an HttpOnly cookie), proxies the converted image
//! into Glance as it arrives, creates the Nova server and serves the page (`web/dist/`).
//!
//! The crate is split so that almost everything is plain Rust, tested natively with
//! `cargo test`:
//! - [`config`]: settings from `wrangler.toml` vars and secrets;
//! - [`seal`]: AEAD sealing of the session cookie (ChaCha20-Poly1305);
//! - [`session`]: what the cookie carries, cookie headers;
//! - [`keystone`]: login request bodies, token responses, catalog endpoint selection;
//! - [`openstack`]: request bodies for Glance/Nova, trimming of listings, upstream errors;
//! - [`api`]: routes, the JSON error shape, request policy (CSRF header, CORS, body caps);
//! - [`ratelimit`]: the login attempt limiter;
//! - the upload check itself is the converter core's `stackferry::qcow2::probe`.
//!
//! Only `worker_glue` (compiled for wasm32 only) touches the Workers runtime: HTTP in and out,
//! streams, secrets. It stays a thin shell over the modules above.

pub mod api;
pub mod config;
pub mod keystone;
pub mod openstack;
pub mod ratelimit;
pub mod seal;
pub mod session;
pub mod time;

#[cfg(target_arch = "wasm32")]
mod worker_glue;
