#!/usr/bin/env python3
"""Keystone v3 admin calls for scripts/services/keystone.sh (stdlib only).

  keystone_admin.py ENV_FILE setup             projects, users and roles
  keystone_admin.py ENV_FILE add-swift URL     the object-store service and
                                               its public endpoint URL/v1/AUTH_%(project_id)s
"""
import json
import sys
import time
import urllib.error
import urllib.request


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export ") and "=" in line:
                k, v = line[len("export "):].split("=", 1)
                env[k] = v
    return env


class Admin:
    def __init__(self, env):
        self.url = env["KS_URL"]
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": env["KS_ADMIN_PASSWORD"]}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        req = urllib.request.Request(self.url + "/auth/tokens", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            self.token = r.headers["X-Subject-Token"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(10):
            req = urllib.request.Request(self.url + path, data, {
                "Content-Type": "application/json", "X-Auth-Token": self.token}, method=method)
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    text = r.read()
                    return json.loads(text) if text else {}
            except urllib.error.HTTPError as e:
                # Keystone on SQLite answers 500 "database is locked" now and
                # then while another request commits: try again.
                if e.code != 500 or attempt == 9:
                    raise
                time.sleep(0.5)

    def find(self, kind, name):
        got = self.call("GET", "/%s?name=%s" % (kind, name))[kind]
        return got[0]["id"] if got else None

    def project(self, name):
        return self.find("projects", name) or self.call(
            "POST", "/projects", {"project": {"name": name, "domain_id": "default"}})["project"]["id"]

    def user(self, name, password, project_id):
        return self.find("users", name) or self.call("POST", "/users", {"user": {
            "name": name, "password": password, "domain_id": "default",
            "default_project_id": project_id}})["user"]["id"]

    def grant(self, project_id, user_id, role):
        self.call("PUT", "/projects/%s/users/%s/roles/%s" % (project_id, user_id,
                                                           self.find("roles", role)))


def main():
    env = read_env(sys.argv[1])
    admin = Admin(env)
    if sys.argv[2] == "setup":
        service = admin.project("service")
        admin.grant(service, admin.user(env["KS_SWIFT_USER"], env["KS_SWIFT_PASSWORD"], service),
                    "admin")
        logs = admin.project(env["OS_PROJECT_NAME"])
        admin.grant(logs, admin.user(env["OS_USERNAME"], env["OS_PASSWORD"], logs), "member")
    elif sys.argv[2] == "add-swift":
        url = sys.argv[3].rstrip("/")
        sid = admin.find("services", "swift") or admin.call("POST", "/services", {"service": {
            "name": "swift", "type": "object-store"}})["service"]["id"]
        admin.call("POST", "/endpoints", {"endpoint": {
            "service_id": sid, "interface": "public", "region_id": "RegionOne",
            "url": url + "/v1/AUTH_%(project_id)s"}})
    else:
        sys.exit("usage: keystone_admin.py ENV_FILE setup | add-swift URL")


if __name__ == "__main__":
    main()
