#!/usr/bin/python3
"""Hostile HTTP clients against a running `stopgap serve` (driven by
http_front_door.sh): chunked and gzip-bomb bodies, an oversize Content-Length,
slowloris and idle floods, header floods. After each case the daemon must
still answer /healthz and acknowledge (202) an alert posted with the token,
and that alert must be listed by GET /api/v1/alerts. Prints a table of cases
(tried, refused, lost) and exits non-zero on the first broken expectation.

Sockets only, every loop bounded in count and time. Single-threaded.
Usage: http_front_door.py PORT TOKEN_FILE SERVER_PID
"""
import gzip
import json
import resource
import select
import socket
import sys
import time

PORT = int(sys.argv[1])
TOKEN = open(sys.argv[2]).read().strip()
PID = int(sys.argv[3])
HOST = "127.0.0.1"
INTAKE = "/api/v1/alerts/alertmanager"
MIB = 1 << 20

results = []  # (case, tried, refused, lost, note)
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr, flush=True)
    return ok


def rss_kib():
    for line in open(f"/proc/{PID}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def connect(src=HOST, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((HOST, PORT))
    return s


def read_response(s, timeout=5.0):
    """One response: (status, headers text, body) or (0, '', '') on close/timeout."""
    s.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            head = data[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            if len(data) >= end + 4 + length:
                return int(head.split(" ")[1]), head, data[end + 4:end + 4 + length]
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionError):
            break
        if not chunk:
            break
        data += chunk
    if data.startswith(b"HTTP/1.1 "):
        return int(data[9:12]), data.decode("latin-1"), b""
    return 0, "", b""


def request(method, path, body=b"", headers=None, src=HOST, timeout=5.0):
    s = connect(src, timeout)
    try:
        h = {"Host": f"{HOST}:{PORT}", "Connection": "close"}
        if body or method == "POST":
            h["Content-Length"] = str(len(body))
        h.update(headers or {})
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
        s.sendall(head.encode() + b"\r\n" + body)
        return read_response(s, timeout)
    finally:
        s.close()


AUTH = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
seq = [0]


def alert_body(tag):
    seq[0] += 1
    labels = {"alertname": "FrontDoor", "case": tag, "n": str(seq[0])}
    return json.dumps({"version": "4", "status": "firing", "receiver": "stopgap",
                       "alerts": [{"status": "firing", "labels": labels, "annotations": {},
                                   "startsAt": "2026-01-01T00:00:00Z"}]}).encode(), labels


def post_alert(tag, src=HOST, timeout=5.0):
    body, labels = alert_body(tag)
    t0 = time.monotonic()
    status, _, _ = request("POST", INTAKE, body, AUTH, src, timeout)
    return status, time.monotonic() - t0, labels


def still_serving(case):
    """After a case: /healthz answers, an authorised alert is acknowledged and
    listed. Returns the number of acknowledged alerts lost (0 or 1)."""
    status, _, _ = request("GET", "/healthz")
    check(status == 200, f"{case}: /healthz answered {status} afterwards")
    status, _, labels = post_alert(case + "-after")
    check(status == 202, f"{case}: authorised alert answered {status}, want 202")
    if status != 202:
        return 1
    st, _, body = request("GET", "/api/v1/alerts?limit=1000", headers=AUTH)
    listed = st == 200 and any(a.get("labels", {}).get("n") == labels["n"] and
                               a.get("labels", {}).get("case") == labels["case"]
                               for a in json.loads(body).get("alerts", []))
    check(listed, f"{case}: acknowledged alert n={labels['n']} missing from GET /api/v1/alerts")
    return 0 if listed else 1


def pump_chunked(s, total, max_rss_kib):
    """Sends a chunked body of up to `total` bytes while watching for an early
    answer. Returns (status, body bytes sent, peak RSS KiB seen)."""
    chunk = b"10000\r\n" + b"a" * 65536 + b"\r\n"
    sent, peak, got = 0, rss_kib(), b""
    s.setblocking(False)
    deadline = time.monotonic() + 30
    pending = b""
    while time.monotonic() < deadline:
        if not pending and sent < total:
            pending = chunk
        r, w, _ = select.select([s], [s] if pending else [], [], 0.05)
        if r:
            try:
                data = s.recv(65536)
            except (BlockingIOError, ConnectionError):
                data = b""
            if not data:
                break
            got += data
            if b"\r\n\r\n" in got:
                break
            continue
        if w:
            try:
                n = s.send(pending)
            except BlockingIOError:
                continue
            except (ConnectionError, OSError):
                pending = b""
                sent = total  # closed by the server: stop sending, keep reading
                continue
            pending = pending[n:]
            if not pending:
                sent += 65536
                if sent % (4 * MIB) == 0:
                    peak = max(peak, rss_kib())
        if not pending and sent >= total and not r:
            # Everything sent (or the server closed): wait for the answer.
            s.setblocking(True)
            st, _, _ = read_response(s, 5)
            return st, sent, max(peak, rss_kib())
    peak = max(peak, rss_kib())
    st = int(got[9:12]) if got.startswith(b"HTTP/1.1 ") else 0
    return st, sent, peak


def case_chunked_no_token():
    case = "chunked 64 MiB, no token"
    rss0 = rss_kib()
    s = connect()
    s.sendall(f"POST {INTAKE} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nContent-Type: application/json\r\n"
              "Transfer-Encoding: chunked\r\n\r\n".encode())
    status, sent, peak = pump_chunked(s, 64 * MIB, 0)
    s.close()
    grew = (peak - rss0) / 1024
    # The daemon authenticates in the pre-body check: 401 before any body
    # byte is read, long before 64 MiB.
    check(status == 401, f"{case}: answered {status}, want 401")
    check(sent < 32 * MIB, f"{case}: the client got {sent / MIB:.1f} MiB out before the answer")
    check(grew < 16, f"{case}: server RSS grew {grew:.1f} MB")
    lost = still_serving(case)
    results.append((case, 1, int(status == 401), lost,
                    f"{status}; body sent before refusal {sent / MIB:.1f} MiB; RSS +{grew:.1f} MB"))


def case_gzip_bomb():
    case = "gzip bomb (64 KiB -> 64 MiB)"
    bomb = gzip.compress(b"\0" * (64 * MIB), 9)
    rss0 = rss_kib()
    refused = 0
    for headers in (AUTH, {"Content-Type": "application/json"}):
        h = dict(headers)
        h["Content-Encoding"] = "gzip"
        s = connect()
        head = (f"POST {INTAKE} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nContent-Length: {len(bomb)}\r\n" +
                "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n")
        s.sendall(head.encode())  # the answer must come before the body
        status, _, _ = read_response(s, 3)
        s.close()
        check(status == 415, f"{case}: answered {status}, want 415")
        refused += status == 415
    grew = (rss_kib() - rss0) / 1024
    check(grew < 16, f"{case}: server RSS grew {grew:.1f} MB")
    lost = still_serving(case)
    results.append((case, 2, refused, lost, f"415 before the body ({len(bomb) // 1024} KiB); "
                    f"RSS +{grew:.1f} MB"))


def case_oversize_length():
    case = "Content-Length 100 MiB"
    refused = 0
    for headers in (AUTH, {}):
        s = connect()
        head = (f"POST {INTAKE} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nContent-Length: {100 * MIB}\r\n" +
                "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n")
        s.sendall(head.encode())
        status, _, _ = read_response(s, 3)
        s.close()
        check(status == 413, f"{case}: answered {status}, want 413")
        refused += status == 413
    lost = still_serving(case)
    results.append((case, 2, refused, lost, "413 before the body"))


def case_header_floods():
    case = "header floods"
    tries = [
        ("500 fields", "".join(f"X-F{i}: v\r\n" for i in range(500))),
        ("one 64 KiB field", "X-Big: " + "b" * (64 * 1024) + "\r\n"),
        ("100 KiB request line", None),
    ]
    refused = 0
    for name, extra in tries:
        s = connect()
        if extra is None:
            head = f"GET /healthz?{'q' * (100 * 1024)} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n\r\n"
        else:
            head = f"POST {INTAKE} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n{extra}Content-Length: 2\r\n\r\n{{}}"
        try:
            s.sendall(head.encode())
        except ConnectionError:
            pass  # answered and closed before everything was sent
        status, _, _ = read_response(s, 3)
        s.close()
        check(status == 431, f"{case}: {name} answered {status}, want 431")
        refused += status == 431
    lost = still_serving(case)
    results.append((case, len(tries), refused, lost, "431"))


def timed_checks(case, n=5):
    """/healthz and authorised alert posts while a flood is open; each < 1 s."""
    worst = 0.0
    lost = 0
    for _ in range(n):
        t0 = time.monotonic()
        status, _, _ = request("GET", "/healthz", timeout=3)
        dt = time.monotonic() - t0
        worst = max(worst, dt)
        check(status == 200 and dt < 1.0, f"{case}: /healthz {status} in {dt * 1000:.0f} ms")
        status, dt, _ = post_alert(case + "-during", timeout=3)
        worst = max(worst, dt)
        check(status == 202 and dt < 1.0, f"{case}: alert {status} in {dt * 1000:.0f} ms")
        lost += status != 202
    return worst, lost


def case_slowloris(total=1000, addresses=16):
    """1,000 connections over 16 client addresses (under the per-address cap):
    half trickle one header line every 2 s, half stay idle."""
    case = f"slowloris+idle {total} conns"
    socks = []
    for i in range(total):
        src = f"127.0.0.{2 + i % addresses}"
        try:
            s = connect(src, 5)
        except OSError as e:
            check(False, f"{case}: connect {i} from {src}: {e}")
            break
        if i % 2 == 0:
            s.sendall(f"POST {INTAKE} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n".encode())
        socks.append(s)
    worst = 0.0
    lost = 0
    for step in range(3):  # about 6 s of trickling
        for j, s in enumerate(socks):
            if j % 2 == 0:
                try:
                    s.sendall(f"X-Slow-{step}: 1\r\n".encode())
                except OSError:
                    pass
        w, l = timed_checks(case, 2)
        worst, lost = max(worst, w), lost + l
        time.sleep(2)
    for s in socks:
        s.close()
    lost += still_serving(case)
    results.append((case, len(socks), 0, lost,
                    f"held open; /healthz and alert worst {worst * 1000:.0f} ms"))


def case_one_address_flood(total=300):
    """Idle connections from one address past the per-address cap (64):
    the rest are accepted and closed; other addresses are served."""
    case = f"idle flood {total} conns, one address"
    socks, refused = [], 0
    for _ in range(total):
        s = connect("127.0.0.99", 5)
        socks.append(s)
    time.sleep(0.3)
    for s in socks:
        r, _, _ = select.select([s], [], [], 0)
        if r:
            try:
                data = s.recv(4096)
            except ConnectionError:
                data = b""
            if data.startswith(b"HTTP/1.1 503") or not data:
                refused += 1
    check(refused >= total - 64, f"{case}: only {refused} refused past the cap")
    worst, lost = timed_checks(case, 3)
    for s in socks:
        s.close()
    lost += still_serving(case)
    results.append((case, total, refused, lost,
                    f"503+close past 64; others worst {worst * 1000:.0f} ms"))


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    lost = still_serving("baseline")
    results.append(("baseline", 1, 0, lost, "authorised alert acknowledged and listed"))
    for f in (case_chunked_no_token, case_gzip_bomb, case_oversize_length, case_header_floods,
              case_slowloris, case_one_address_flood):
        f()
    print("| case | tried | refused | lost | detail |")
    print("|---|---|---|---|---|")
    for case, tried, refused, lost, note in results:
        print(f"| {case} | {tried} | {refused} | {lost} | {note} |")
    total_lost = sum(r[3] for r in results)
    check(total_lost == 0, f"{total_lost} acknowledged alerts lost")
    if failures:
        print(f"{len(failures)} failure(s)", file=sys.stderr)
        sys.exit(1)


main()
