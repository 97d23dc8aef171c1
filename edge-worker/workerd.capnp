# Self-hosted workerd configuration for the stackferry edge worker.
#
#   workerd serve edge-worker/workerd.capnp \
#     --socket-addr http=127.0.0.1:8787 --directory-path assets=$PWD/web/dist
#
# (edge-worker/serve.sh does exactly this.) Settings come from the process environment: the
# same names as the [vars] in wrangler.toml, plus the SESSION_KEY secret. An unset variable is
# an unset setting. See edge-worker/README.md.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .stackferry),
    # the page (web/dist); the path is given with --directory-path assets=...
    (name = "assets", disk = (writable = false)),
    # outbound fetch: the OpenStack APIs. "private" and "local" let the worker reach a cloud on
    # a private network or on this host; drop what your deployment does not need.
    (name = "openstack", network = (allow = ["public", "private", "local"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:8787", http = (), service = "main"),
  ],
);

const stackferry :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "build/index.js"),
    (name = "index_bg.wasm", wasm = embed "build/index_bg.wasm"),
  ],
  compatibilityDate = "2026-04-01",
  bindings = [
    (name = "ASSETS", service = "assets"),
    (name = "SESSION_KEY", fromEnvironment = "SESSION_KEY"),
    (name = "SESSION_KEY_PREVIOUS", fromEnvironment = "SESSION_KEY_PREVIOUS"),
    (name = "OS_AUTH_URL", fromEnvironment = "OS_AUTH_URL"),
    (name = "ALLOWED_AUTH_URLS", fromEnvironment = "ALLOWED_AUTH_URLS"),
    (name = "OS_REGION_NAME", fromEnvironment = "OS_REGION_NAME"),
    (name = "OS_INTERFACE", fromEnvironment = "OS_INTERFACE"),
    (name = "ALLOWED_ORIGINS", fromEnvironment = "ALLOWED_ORIGINS"),
    (name = "UPLOAD_MAX_BYTES", fromEnvironment = "UPLOAD_MAX_BYTES"),
    (name = "LOGIN_MAX_ATTEMPTS", fromEnvironment = "LOGIN_MAX_ATTEMPTS"),
    (name = "LOGIN_WINDOW_SECONDS", fromEnvironment = "LOGIN_WINDOW_SECONDS"),
    (name = "CLIENT_IP_HEADER", fromEnvironment = "CLIENT_IP_HEADER"),
  ],
  globalOutbound = "openstack",
);
