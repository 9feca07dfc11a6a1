#!/usr/bin/env python3
"""A loopback fault proxy for the network-fault tests (docs/reliability.md):
it sits between stopgap and a real service (Swift/S3, carbon, Redmine, or
between Alertmanager and `stopgap serve`) and breaks the connection the way
networks and overloaded stores do, counting every fault it injected.

  fault_proxy.py UPSTREAM_PORT PORT_FILE CONTROL_FILE COUNTERS_FILE [--tcp]

HTTP mode (default): each request on a kept-alive client connection is read
whole (Content-Length or chunked; a 100-continue is answered), and, unless a
fault says otherwise, sent to 127.0.0.1:UPSTREAM_PORT on a fresh connection
and the answer relayed with a Content-Length. CONTROL_FILE (JSON, re-read for
every request) holds a plan: a list of faults, the first of which the next
request whose method is in "methods" (default: all) consumes:
  "pass"          forward it unharmed;
  "reset"         read half its body, then reset the connection (RST) with no
                  answer: a connection reset mid-body;
  "reset_answer"  forward it, relay the status line and half the answer's
                  body, then reset: the service acted, the client saw a reset;
  "ack_reset"     forward it, then reset without a byte of the answer;
  "500"/"503"/"429"  answer that status (503/429 with Retry-After: 1) without
                  forwarding;
  "stall:S"       read it, say nothing for S seconds, then reset;
  "trickle:B"     forward it, relay the answer at B bytes/s.
"down": true resets every request (and connection) until it is false;
"always": "FAULT" applies FAULT to every matching request once the plan is
empty. COUNTERS_FILE (JSON, rewritten after every request) counts requests,
each fault by name, and resets.

TCP mode (--tcp, for carbon, and PostgreSQL in tests/cluster/postgres_fence.sh):
bytes are pumped both ways; "down": true resets every connection (the new
ones at once, the open ones within 0.2 s); "refuse": true resets the open ones
too and closes the listening socket, so new connections are refused
(ECONNREFUSED) until it is false again and the same port listens anew;
"blackhole": true accepts and never reads. Counts connections, resets and
bytes forwarded.

Listens on 127.0.0.1 only; a thread per connection; bodies in memory (the
tests' objects are small). The test stops it by its pid.
"""
import http.client
import json
import os
import select
import socket
import struct
import sys
import threading
import time

UP_PORT = int(sys.argv[1])
PORT_FILE, CONTROL, COUNTERS = sys.argv[2], sys.argv[3], sys.argv[4]
TCP = "--tcp" in sys.argv[5:]
LOCK = threading.Lock()
COUNTS = {"requests": 0, "connections": 0, "resets": 0, "bytes": 0}


def control():
    try:
        with open(CONTROL) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def count(name, n=1):
    with LOCK:
        COUNTS[name] = COUNTS.get(name, 0) + n
        tmp = COUNTERS + ".tmp"
        with open(tmp, "w") as f:
            json.dump(COUNTS, f)
        os.rename(tmp, COUNTERS)


def next_fault(method):
    """The fault for this request (consumes the plan's head under LOCK)."""
    with LOCK:
        c = control()
        if c.get("down"):
            return "down"
        methods = c.get("methods")
        if methods and method not in methods:
            return "pass"
        plan = c.get("plan") or []
        if plan:
            f = str(plan.pop(0))
            c["plan"] = plan
            tmp = CONTROL + ".tmp"
            with open(tmp, "w") as fh:
                json.dump(c, fh)
            os.rename(tmp, CONTROL)
            return f
        return str(c.get("always", "pass"))


def rst(sock):
    """Close with a TCP reset (SO_LINGER 0), not a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass
    count("resets")


class Conn:
    """Buffered reading of one client socket."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise EOFError
            self.fill()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def exactly(self, n):
        while len(self.buf) < n:
            self.fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d


def read_request(c):
    """(method, target, headers list, body callback) of the next request."""
    start = c.line()
    while not start:  # stray CRLF between requests
        start = c.line()
    method, target, _ = start.decode("latin-1").split(" ", 2)
    headers = []
    while True:
        ln = c.line()
        if not ln:
            break
        k, _, v = ln.decode("latin-1").partition(":")
        headers.append((k.strip(), v.strip()))
    return method, target, headers


def read_body(c, headers, limit=None):
    """The body (or its first `limit` bytes, for a reset mid-body)."""
    h = {k.lower(): v for k, v in headers}
    if h.get("expect", "").lower() == "100-continue":
        c.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in h.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size = int(c.line().split(b";")[0], 16)
            if size == 0:
                while c.line():
                    pass
                return body
            body += c.exactly(size)
            c.line()
            if limit is not None and len(body) >= limit:
                return body
    n = int(h.get("content-length", "0") or 0)
    if limit is not None:
        n = min(n, limit)
    return c.exactly(n)


def send_status(sock, status):
    reason = {500: "Internal Server Error", 503: "Service Unavailable",
              429: "Too Many Requests"}.get(status, "Error")
    body = ("<Error><Code>Injected%d</Code><Message>fault proxy</Message></Error>"
            % status).encode()
    extra = "Retry-After: 1\r\n" if status in (429, 503) else ""
    sock.sendall(("HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n%s\r\n"
                  % (status, reason, len(body), extra)).encode() + body)


def forward(method, target, headers, body):
    up = http.client.HTTPConnection("127.0.0.1", UP_PORT, timeout=120)
    hs = {}
    for k, v in headers:
        if k.lower() in ("expect", "connection", "content-length", "transfer-encoding",
                         "keep-alive"):
            continue
        hs[k] = v
    if body or method in ("PUT", "POST"):
        hs["Content-Length"] = str(len(body))
    up.request(method, target, body=body, headers=hs)
    r = up.getresponse()
    data = r.read()
    up.close()
    return r, data


def answer_head(method, r, data):
    out = "HTTP/1.1 %d %s\r\n" % (r.status, r.reason)
    for k, v in r.getheaders():
        if k.lower() in ("transfer-encoding", "connection", "content-length", "keep-alive"):
            continue
        out += "%s: %s\r\n" % (k, v)
    n = (r.getheader("Content-Length") or "0") if method == "HEAD" else str(len(data))
    out += "Content-Length: %s\r\n\r\n" % n
    return out.encode("latin-1")


def http_client(sock):
    c = Conn(sock)
    try:
        while True:
            method, target, headers = read_request(c)
            fault = next_fault(method)
            count("requests")
            count("fault." + fault.split(":")[0] if fault != "pass" else "passed")
            if fault in ("down", "reset"):
                if fault == "reset":
                    h = {k.lower(): v for k, v in headers}
                    half = int(h.get("content-length", "0") or 0) // 2
                    read_body(c, headers, limit=half)
                rst(sock)
                return
            body = read_body(c, headers)
            if fault in ("500", "503", "429"):
                send_status(sock, int(fault))
                continue
            if fault.startswith("stall:"):
                time.sleep(float(fault.split(":")[1]))
                rst(sock)
                return
            r, data = forward(method, target, headers, body)
            if fault == "ack_reset":
                rst(sock)
                return
            head = answer_head(method, r, data)
            if fault == "reset_answer":
                sock.sendall(head + data[: len(data) // 2])
                rst(sock)
                return
            if fault.startswith("trickle:"):
                bps = max(1, int(float(fault.split(":")[1])))
                out = head + (b"" if method == "HEAD" else data)
                step = max(1, bps // 10)
                for i in range(0, len(out), step):
                    sock.sendall(out[i:i + step])
                    time.sleep(0.1)
            else:
                sock.sendall(head + (b"" if method == "HEAD" else data))
    except (EOFError, OSError, ValueError, http.client.HTTPException):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def tcp_client(sock):
    count("connections")
    c = control()
    if c.get("down"):
        rst(sock)
        return
    if c.get("blackhole"):
        while control().get("blackhole"):
            time.sleep(0.2)
        rst(sock)
        return
    try:
        up = socket.create_connection(("127.0.0.1", UP_PORT), timeout=5)
    except OSError:
        rst(sock)
        return
    up.settimeout(None)
    pair = {sock: up, up: sock}
    last_check = time.monotonic()
    try:
        while True:
            r, _, _ = select.select(list(pair), [], [], 0.2)
            if time.monotonic() - last_check >= 0.2:
                last_check = time.monotonic()
                c = control()
                if c.get("down") or c.get("refuse"):
                    rst(sock)
                    up.close()
                    return
            for s in r:
                d = s.recv(65536)
                if not d:
                    raise EOFError
                pair[s].sendall(d)
                if s is sock:
                    count("bytes", len(d))
    except (EOFError, OSError):
        pass
    finally:
        for s in (sock, up):
            try:
                s.close()
            except OSError:
                pass


def listen(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    return ls


def main():
    ls = listen(0)
    port = ls.getsockname()[1]
    count("requests", 0)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    handler = tcp_client if TCP else http_client
    while True:
        # "refuse" (TCP mode): no listening socket, so connecting is refused.
        if TCP and control().get("refuse"):
            if ls:
                ls.close()
                ls = None
                count("refusing")
            time.sleep(0.05)
            continue
        if not ls:
            ls = listen(port)
        r, _, _ = select.select([ls], [], [], 0.1)
        if r:
            s, _ = ls.accept()
            threading.Thread(target=handler, args=(s,), daemon=True).start()


if __name__ == "__main__":
    main()
