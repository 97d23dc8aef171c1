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
//! - [`cinder`]: Cinder's API root, volume bodies, volumes and volume types for the page;
//! - [`limits`]: the project's quotas from Nova, Cinder and Glance, in one shape;
//! - [`api`]: routes, the JSON error shape and its headers, request policy (CSRF header, CORS,
//!   body caps), JSON request bodies;
//! - [`upstream`]: the OpenStack services called, their roots and headers, which statuses a call
//!   accepts and what the page gets otherwise (the session check, the console search);
//! - [`upload`]: the upload's rules (queued image, declared length, the outcome of the stream);
//!   the check itself is the converter core's `stackferry::qcow2::probe`;
//! - [`page`]: the page's static files;
//! - [`ratelimit`]: the login attempt limiter: its keys and its rules;
//! - [`egress`]: which hosts a login through `ALLOWED_AUTH_URLS="*"` may reach;
//! - [`credential`]: uploads that outlive the Keystone token (an application credential per
//!   upload: when, how long, which token a call uses);
//! - [`reaper`]: the sweep of abandoned staged uploads (their records, the verdict);
//! - [`staged`]: staged uploads through R2 into Glance's `web-download` import (part plan,
//!   upload token, signed download URL, state from Glance's image).
//!
//! Only `glue` (compiled for wasm32 only) touches the Workers runtime: HTTP in and out,
//! streams, secrets. It stays a thin shell over the modules above: one `async fn` per route.

pub mod api;
pub mod cinder;
pub mod config;
pub mod credential;
pub mod egress;
pub mod keystone;
pub mod limits;
pub mod openstack;
pub mod page;
pub mod ratelimit;
pub mod reaper;
pub mod seal;
pub mod session;
pub mod staged;
pub mod time;
pub mod upload;
pub mod upstream;

#[cfg(target_arch = "wasm32")]
mod glue;
