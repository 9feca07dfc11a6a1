#!/usr/bin/env python3
"""A hostile object store on 127.0.0.1 for tests/security/files_and_stores.sh.

Poses as Swift (TempAuth v1: GET /auth/v1.0, then /v1/AUTH_test/<container>)
and as S3 (path style: /<bucket>?prefix=..., /<bucket>/<key>). The container or
bucket name picks the scenario, so one server answers every case:

  traversal   listing with keys that try to leave --out (.., absolute, empty
              components, NUL), plus one good key
  badjson     Swift listing that is not JSON          (S3: not XML)
  wrongshape  Swift listing that is a JSON object     (S3: no ListBucketResult)
  badsize     sizes that are not sizes ("abc", -5; S3: "abc", 10^23)
  overflow    a Swift size of 1e400 (not representable)
  huge        a listing body of 80 MiB (the client caps in-memory bodies)
  hugeobject  a good listing; the object itself is 80 MiB (streams to a file)
  badexpiry   Swift auth answers a non-numeric X-Auth-Token-Expires

Prints "port N" on stdout once listening. Stops after --seconds (bounded).
"""
import http.server
import json
import socketserver
import sys
import threading
import urllib.parse

GOOD = "web1/var/log/app.log-20261125.gz"
TRAVERSAL_KEYS = [
    GOOD,
    "../escaped1.gz",
    "web1/../../escaped2.gz",
    "web1/var/../../../escaped3.gz",
    "web1/var/log/../../../../../tmp/escaped4.gz",
    "/abs/escaped5.gz",
    "web1//escaped6.gz",
    "web1/./escaped7.gz",
    "..",
    "web1/a\u0000b.gz",
    "../../../../../../../../../../tmp/escaped8.gz",
]
BIG = 80 << 20


def s3_listing(keys, sizes=None):
    out = ['<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>']
    out.append("<IsTruncated>false</IsTruncated>")
    for i, k in enumerate(keys):
        size = sizes[i] if sizes else "4"
        k = k.replace("&", "&amp;").replace("<", "&lt;")
        out.append(f"<Contents><Key>{k}</Key><Size>{size}</Size><ETag>\"x\"</ETag></Contents>")
    out.append("</ListBucketResult>")
    return "".join(out).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, code, body, ctype="application/octet-stream", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_big(self, ctype, head=b"", fill=b" "):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(BIG))
        self.end_headers()
        chunk = fill * (1 << 20)
        try:
            self.wfile.write(head)
            left = BIG - len(head)
            while left > 0:
                n = min(left, len(chunk))
                self.wfile.write(chunk[:n])
                left -= n
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up at its cap: what we want
        self.close_connection = True

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
        if url.path == "/auth/v1.0":
            host = self.headers.get("Host")
            extra = {"X-Auth-Token": "tok", "X-Storage-Url": f"http://{host}/v1/AUTH_test"}
            extra["X-Auth-Token-Expires"] = "3600"
            if self.headers.get("X-Auth-User", "").endswith("badexpiry"):
                extra["X-Auth-Token-Expires"] = "99999999999999999999999999"
            return self.send_body(200, b"", extra=extra)
        swift = len(parts) >= 3 and parts[0] == "v1"
        if swift:
            scenario, rest = parts[2], "/".join(parts[3:])
        else:
            scenario, rest = parts[0], "/".join(parts[1:])
        listing = rest == "" and ("format" in q or "prefix" in q or not swift)
        if listing:
            if "marker" in q and swift:
                return self.send_body(200, b"[]", "application/json")
            return self.listing(swift, scenario)
        # An object download.
        if scenario == "hugeobject":
            return self.send_big("application/octet-stream", fill=b"z")
        return self.send_body(200, b"data")

    def listing(self, swift, scenario):
        if scenario == "traversal":
            if swift:
                body = json.dumps([{"name": k, "bytes": 4, "hash": "x"} for k in TRAVERSAL_KEYS])
                return self.send_body(200, body.encode(), "application/json")
            keys = [k for k in TRAVERSAL_KEYS if "\u0000" not in k]  # XML cannot carry NUL
            return self.send_body(200, s3_listing(keys), "application/xml")
        if scenario in ("badjson",):
            return self.send_body(200, b'[{"name": "web1/x", "bytes": 4' if swift else b"<ListBucketResult><Contents>", "application/json")
        if scenario == "wrongshape":
            return self.send_body(200, b'{"name": "web1/x"}' if swift else b"<Other/>", "application/json")
        if scenario == "badsize":
            if swift:
                body = b'[{"name": "web1/a.log-20261125.gz", "bytes": "abc"}, {"name": "web1/b.log-20261125.gz", "bytes": -5}]'
                return self.send_body(200, body, "application/json")
            return self.send_body(200, s3_listing([GOOD, "web1/b.log-20261125.gz"], ["abc", "99999999999999999999999"]), "application/xml")
        if scenario == "overflow":
            return self.send_body(200, b'[{"name": "web1/a.log-20261125.gz", "bytes": 1e400}]', "application/json")
        if scenario == "huge":
            if swift:
                return self.send_big("application/json", head=b"[")
            return self.send_big("application/xml", head=b"<ListBucketResult>")
        if scenario in ("hugeobject", "badexpiry"):
            if swift:
                body = json.dumps([{"name": GOOD, "bytes": BIG if scenario == "hugeobject" else 4}])
                return self.send_body(200, body.encode(), "application/json")
            return self.send_body(200, s3_listing([GOOD], [str(BIG)]), "application/xml")
        return self.send_body(404, b"no such scenario")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 300
    srv = Server(("127.0.0.1", 0), Handler)
    print(f"port {srv.server_address[1]}", flush=True)
    timer = threading.Timer(seconds, srv.shutdown)
    timer.daemon = True
    timer.start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
