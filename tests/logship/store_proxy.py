#!/usr/bin/env python3
"""A loopback HTTP proxy between `stopgap logship` and the test's Swift, for
archive_it.sh: it records every request (method, path, query, answer) as a
JSON line, and on demand damages requests or answers the way other stores
and networks do:
  - corrupt_puts N: flips one byte in the body of the next N PUTs with a body;
  - rewrite_complete: renames the CompleteMultipartUploadResult root element
    to CompleteMultipartUploadResponse (a store seen in the wild does so).
Control: a JSON file re-read on every request. Listens on 127.0.0.1 only;
single-threaded per connection (ThreadingHTTPServer), bodies held in memory
(the test's objects are small).

usage: store_proxy.py UPSTREAM_PORT PORT_FILE CONTROL_FILE LOG_FILE
"""
import http.client
import http.server
import json
import sys
import threading

UP_PORT = int(sys.argv[1])
PORT_FILE, CONTROL, LOG = sys.argv[2], sys.argv[3], sys.argv[4]
LOCK = threading.Lock()


def control():
    try:
        with open(CONTROL) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def spend_corruption():
    """True when this PUT is to be damaged (and counts it down)."""
    with LOCK:
        c = control()
        n = int(c.get("corrupt_puts", 0))
        if n <= 0:
            return False
        c["corrupt_puts"] = n - 1
        with open(CONTROL, "w") as f:
            json.dump(c, f)
        return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def relay(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        damaged = False
        if self.command == "PUT" and body and spend_corruption():
            mid = len(body) // 2
            body = body[:mid] + bytes([body[mid] ^ 0xFF]) + body[mid + 1:]
            damaged = True
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("expect", "connection", "content-length")}
        headers["Content-Length"] = str(len(body))
        up = http.client.HTTPConnection("127.0.0.1", UP_PORT, timeout=60)
        up.request(self.command, self.path, body=body, headers=headers)
        r = up.getresponse()
        data = r.read()
        path, _, query = self.path.partition("?")
        rewritten = False
        if (self.command == "POST" and "uploadId=" in query and
                control().get("rewrite_complete") and b"CompleteMultipartUploadResult" in data):
            data = data.replace(b"CompleteMultipartUploadResult", b"CompleteMultipartUploadResponse")
            rewritten = True
        with LOCK, open(LOG, "a") as f:
            f.write(json.dumps({"method": self.command, "path": path, "query": query,
                                "status": r.status, "damaged": damaged, "rewritten": rewritten,
                                "error": data[:300].decode("latin-1") if r.status >= 400 else ""})
                    + "\n")
        self.send_response_only(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length", r.getheader("Content-Length") or "0")
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        up.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os  # noqa: E402  (rename last: the port file appears complete)
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
