// The demo's additions to the local OpenStack of tests/openstack (scripts/serve.sh runs this
// when OS_AUTH_URL is unset): a network `demo-net` with a subnet, so a launched server gets an
// address, and a few flavors `demo.*` for the page to suggest from. Each is made only when
// missing, so a restart costs a few API reads. Talks to the cloud as its admin, with the
// OpenStack helpers of the edge worker's test harness.
import { adminToken, os } from '../tests/lib/edge-worker.mjs';

const FLAVORS = [
  { name: 'demo.small', id: 'demo-small', vcpus: 1, ram: 512, disk: 2 },
  { name: 'demo.medium', id: 'demo-medium', vcpus: 2, ram: 2048, disk: 20 },
  { name: 'demo.large', id: 'demo-large', vcpus: 4, ram: 8192, disk: 80 },
];
const NETWORK = 'demo-net';
const CIDR = '10.42.0.0/24';

function check(r, what, ok = [200, 201]) {
  if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

const admin = await adminToken();
const made = [];
for (const f of FLAVORS) {
  if ((await os(admin, 'GET', `${admin.nova}/flavors/${f.id}`)).status === 404) {
    check(await os(admin, 'POST', `${admin.nova}/flavors`, { flavor: f }), `flavor ${f.name}`);
    made.push(`flavor ${f.name}`);
  }
}
const nets = check(await os(admin, 'GET', `${admin.neutron}/networks?name=${NETWORK}`), 'networks').networks;
let net = nets[0];
if (!net) {
  net = check(await os(admin, 'POST', `${admin.neutron}/networks`, { network: { name: NETWORK } }), `network ${NETWORK}`).network;
  made.push(`network ${NETWORK}`);
}
if (!net.subnets || !net.subnets.length) {
  check(await os(admin, 'POST', `${admin.neutron}/subnets`, { subnet: { network_id: net.id, ip_version: 4, cidr: CIDR, name: `${NETWORK}-subnet` } }), 'subnet');
  made.push(`subnet ${CIDR}`);
}
console.log(`[start] demo cloud: ${made.length ? `made ${made.join(', ')}` : `network ${NETWORK} and flavors ${FLAVORS.map((f) => f.name).join(', ')} present`}`);
