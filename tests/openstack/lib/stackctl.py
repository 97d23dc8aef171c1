"""Helpers for start.sh / smoke.sh, run with the environment's venv python.

  stackctl.py keystone-setup      create service project/users/roles, services
                                  and endpoints (idempotent; fixes changed URLs)
  stackctl.py wait-compute SECS T0  wait until nova-compute has reported after
                                  epoch T0 and its host is mapped to cell1
  stackctl.py token               print an admin token
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

E = os.environ
H = "http://127.0.0.1"
KS = "%s:%s/v3" % (H, E.get("KEYSTONE_PORT", "5000"))
REGION = E.get("REGION", "RegionOne")


def req(method, url, token=None, body=None, headers=None):
    h = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        h["X-Auth-Token"] = token
    h.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else {}), resp.headers
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw), e.headers
        except ValueError:
            return e.code, {"raw": raw.decode(errors="replace")}, e.headers


def token(user="admin", password=None, project="admin"):
    password = password or E.get("ADMIN_PASSWORD", "secret")
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    code, data, headers = req("POST", KS + "/auth/tokens", body=body)
    if code != 201:
        sys.exit("keystone token request failed: %s %s" % (code, data))
    return headers["X-Subject-Token"]


def ensure(tok, coll, key, match, body):
    """GET /v3/<coll>?name=..; POST if missing; return the object."""
    code, data, _ = req("GET", "%s/%s?%s" % (KS, coll, match), tok)
    items = data.get(coll, [])
    if items:
        return items[0]
    code, data, _ = req("POST", "%s/%s" % (KS, coll), tok, {key: body})
    if code not in (200, 201):
        sys.exit("keystone: creating %s %s failed: %s %s" % (key, body, code, data))
    return data[key]


def keystone_setup():
    tok = token()
    spw = E.get("SERVICE_PASSWORD", "secret")
    svc_proj = ensure(tok, "projects", "project", "name=service",
                      {"name": "service", "domain_id": "default",
                       "description": "service users"})
    roles = {r: ensure(tok, "roles", "role", "name=" + r, {"name": r})
             for r in ("admin", "service")}
    # (service user, service name, service type, port, path); Cinder v3 is
    # registered under both its current type and the legacy "volumev3".
    services = [
        ("glance", "glance", "image", E["GLANCE_PORT"], ""),
        ("placement", "placement", "placement", E["PLACEMENT_PORT"], ""),
        ("nova", "nova", "compute", E["NOVA_PORT"], "/v2.1"),
        ("neutron", "neutron", "network", E["NEUTRON_PORT"], ""),
    ]
    if E.get("STACK_CINDER") == "1" and E.get("CINDER_PORT"):
        services += [
            ("cinder", "cinder", "block-storage", E["CINDER_PORT"], "/v3"),
            ("cinder", "cinderv3", "volumev3", E["CINDER_PORT"], "/v3"),
        ]
    for uname, name, stype, port, path in services:
        user = ensure(tok, "users", "user", "name=" + uname,
                      {"name": uname, "domain_id": "default", "password": spw,
                       "default_project_id": svc_proj["id"]})
        for r in roles.values():
            req("PUT", "%s/projects/%s/users/%s/roles/%s"
                % (KS, svc_proj["id"], user["id"], r["id"]), tok)
        svc = ensure(tok, "services", "service", "type=" + stype,
                     {"name": name, "type": stype, "enabled": True})
        url = "%s:%s%s" % (H, port, path)
        _, data, _ = req("GET", "%s/endpoints?service_id=%s" % (KS, svc["id"]), tok)
        have = {e["interface"]: e for e in data.get("endpoints", [])}
        for iface in ("public", "internal", "admin"):
            e = have.get(iface)
            if e is None:
                req("POST", KS + "/endpoints", tok, {"endpoint": {
                    "service_id": svc["id"], "interface": iface, "url": url,
                    "region_id": REGION, "enabled": True}})
            elif e["url"] != url:
                req("PATCH", "%s/endpoints/%s" % (KS, e["id"]), tok,
                    {"endpoint": {"url": url}})
    # keystone's own endpoints were made by "keystone-manage bootstrap"; fix a changed port
    _, data, _ = req("GET", KS + "/services?type=identity", tok)
    for svc in data.get("services", []):
        _, eps, _ = req("GET", "%s/endpoints?service_id=%s" % (KS, svc["id"]), tok)
        for e in eps.get("endpoints", []):
            if e["url"].rstrip("/") != KS:
                req("PATCH", "%s/endpoints/%s" % (KS, e["id"]), tok,
                    {"endpoint": {"url": KS}})
    print("keystone: service users, services and endpoints in place")


def wait_compute(timeout, t0):
    import datetime
    import pymysql
    since = datetime.datetime.fromtimestamp(float(t0), datetime.timezone.utc).replace(tzinfo=None)
    pidfile = os.path.join(E["STACK_DIR"], "run", "nova-compute.pid")
    deadline = time.time() + float(timeout)
    state = "no compute node yet"
    discovered = False
    while time.time() < deadline:
        try:
            os.kill(int(open(pidfile).read()), 0)
        except (OSError, ValueError):
            sys.exit("nova-compute is not running")
        try:
            c = pymysql.connect(host="127.0.0.1", port=int(E["DB_PORT"]),
                                user=E.get("DB_USER", "stack"),
                                password=E.get("DB_PASSWORD", "secret"),
                                connect_timeout=5)
            with c.cursor() as cur:
                cur.execute("SELECT updated_at, created_at FROM nova.services "
                            "WHERE `binary`='nova-compute' AND deleted=0")
                svc = cur.fetchone()
                cur.execute("SELECT COUNT(*) FROM nova.compute_nodes WHERE deleted=0")
                nodes = cur.fetchone()[0]
                cur.execute("SELECT COUNT(*) FROM nova_api.host_mappings")
                mapped = cur.fetchone()[0]
            c.close()
            seen = svc and max(x for x in svc if x is not None) > since
            if seen and nodes and mapped:
                print("nova-compute: reporting, node registered and mapped to a cell")
                return
            if seen and nodes and not discovered:
                # the scheduler's periodic discovery can take a minute; do it now
                discovered = True
                subprocess.run([os.path.join(E["STACK_DIR"], "venv", "bin", "nova-manage"),
                                "--config-file", os.path.join(E["STACK_DIR"], "etc", "nova", "nova.conf"),
                                "cell_v2", "discover_hosts"],
                               stdout=subprocess.DEVNULL, timeout=120, check=False)
                continue
            state = "service seen=%s nodes=%s mapped hosts=%s" % (bool(seen), nodes, mapped)
        except pymysql.MySQLError as e:
            state = "db: %s" % e
        time.sleep(1)
    sys.exit("nova-compute not ready after %ss (%s)" % (timeout, state))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "keystone-setup":
        keystone_setup()
    elif cmd == "wait-compute":
        wait_compute(sys.argv[2], sys.argv[3])
    elif cmd == "token":
        print(token())
    else:
        sys.exit(__doc__)
