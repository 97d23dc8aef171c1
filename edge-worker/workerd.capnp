# Self-hosted workerd configuration for the stackferry edge worker.
#
#   workerd serve edge-worker/workerd.capnp \
#     --socket-addr http=127.0.0.1:8787 --directory-path assets=$PWD/web/dist
#
# Settings come from the process environment: the same names as the [vars] in wrangler.toml,
# plus the SESSION_KEY secret. An unset variable is an unset setting. See edge-worker/README.md.
#
# The worker reaches public addresses only. workerd applies the list to the addresses a name
# resolves to as well, so a name that resolves into a private network is not reached either. A
# cloud on a private network: add its blocks to `allow` (e.g. "10.20.0.0/16"), or "private" for
# all of them. workerd.dev.capnp is this configuration plus this host's loopback, where the test
# cloud of tests/openstack and `npm start`'s demo cloud listen (serve.sh and the tests use it).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    .main,
    .assets,
    (name = "openstack", network = (allow = ["public"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [.http],
);

const main :Workerd.Service = (name = "main", worker = .stackferry);
# the page (web/dist); the path is given with --directory-path assets=...
const assets :Workerd.Service = (name = "assets", disk = (writable = false));
const http :Workerd.Socket = (name = "http", address = "127.0.0.1:8787", http = (), service = "main");

const stackferry :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "build/index.js"),
    (name = "index_bg.wasm", wasm = embed "build/index_bg.wasm"),
  ],
  compatibilityDate = "2026-04-01",
  bindings = [
    (name = "ASSETS", service = "assets"),
    # the login limiter: one object counts every login of this process (edge-worker/README.md)
    (name = "LOGIN_LIMITER", durableObjectNamespace = "LoginLimiter"),
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
  durableObjectNamespaces = [
    (className = "LoginLimiter", uniqueKey = "stackferry-login-limiter"),
  ],
  # counts live as long as the process: a restart forgets them, as a window's end would
  durableObjectStorage = (inMemory = void),
  globalOutbound = "openstack",
);
