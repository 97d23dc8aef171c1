# edge-worker/workerd.capnp for development and the tests: the same worker, plus this host's
# loopback among the networks it may reach (the test cloud of tests/openstack and the demo cloud
# of `npm start` listen on 127.0.0.1). Never deploy this one: the shipped configuration keeps
# the worker off loopback and private networks.
#
#   workerd serve edge-worker/workerd.dev.capnp \
#     --socket-addr http=127.0.0.1:8787 --directory-path assets=$PWD/web/dist
using Workerd = import "/workerd/workerd.capnp";
using Shipped = import "workerd.capnp";

const config :Workerd.Config = (
  services = [
    Shipped.main,
    Shipped.assets,
    (name = "openstack", network = (allow = ["public", "127.0.0.1/32", "::1/128"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [Shipped.http],
);
