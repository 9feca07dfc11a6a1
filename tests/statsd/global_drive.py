#!/usr/bin/env python3
"""Driver for global_test.sh: sends bounded, recorded StatsD load to the local
nodes, talks to admin ports, hand-builds forward frames (uncompressed, flags 0)
for the duplicate check, and compares carbon's whisper data with what was sent.
Every sample sent is kept in a JSON file so the checks compute from all of them."""
import json, math, random, socket, struct, subprocess, sys, time


def admin(port, cmd):
    s = socket.create_connection(("127.0.0.1", int(port)), 2)
    s.sendall((cmd + "\n").encode())
    buf = b""
    while not buf.endswith(b"END\n\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    out = {}
    for line in buf.decode().splitlines():
        if ": " in line:
            k, v = line.split(": ", 1)
            out[k] = v
    return out


def send_lines(port, lines, per_packet=20):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(0, len(lines), per_packet):
        s.sendto("\n".join(lines[i:i + per_packet]).encode(), ("127.0.0.1", int(port)))
        if (i // per_packet) % 20 == 19:
            time.sleep(0.002)  # bounded pace: loopback buffers never overflow


def wait_flush(port):
    """Returns right after the node's next flush reached Graphite (admin
    graphite.last_flush, seconds since the last flush, falls back to 0)."""
    prev = None
    deadline = time.time() + 30
    while time.time() < deadline:
        v = int(admin(port, "stats").get("graphite.last_flush", "-1"))
        if prev is not None and prev >= 1 and v == 0:
            return
        prev = v
        time.sleep(0.05)
    sys.exit("no flush seen on admin port %s" % port)


def burst(ports, out):
    rng = random.Random(17)
    rec = {"lat": [], "small": [], "hits": 0}
    for i, p in enumerate(ports.split(",")):
        lines = []
        for _ in range(3000):
            v = round(rng.lognormvariate(3.0, 1.0), 3)
            rec["lat"].append(v)
            lines.append("gtest.lat:%s|ms" % v)
        for k in range(5):
            v = i * 100 + k * 7
            rec["small"].append(v)
            lines.append("gtest.small:%d|ms" % v)
        for k in range(400):
            n = rng.randint(1, 9)
            rec["hits"] += n
            lines.append("gtest.hits:%d|c" % n)
        lines.append("gtest.temp:%d|g" % (i + 1))
        send_lines(p, lines)
    json.dump(rec, open(out, "w"))


def counters(ports, name, rounds, gap, out):
    rng = random.Random(int(time.time()))
    total = 0
    for _ in range(int(rounds)):
        for p in ports.split(","):
            lines = []
            for _ in range(200):
                n = rng.randint(1, 5)
                total += n
                lines.append("%s:%d|c" % (name, n))
            send_lines(p, lines)
        time.sleep(float(gap))
    prev = 0
    try:
        prev = int(open(out).read())
    except OSError:
        pass
    open(out, "w").write(str(prev + total))


def frame(node, session, seq, counters_):
    def bytes_(b):
        out = b""
        n = len(b)
        while n >= 0x80:
            out += bytes([(n & 0x7F) | 0x80])
            n >>= 7
        return out + bytes([n]) + b
    p = bytes_(node.encode()) + struct.pack("<QQq", session, seq, int(time.time() * 1000))
    p += bytes([0x90, 0x4E])  # interval 10000 ms as a varint
    p += bytes([len(counters_)])
    for name, v in counters_:
        p += bytes_(name.encode()) + struct.pack("<d", v)
    p += b"\x00\x00\x00"  # no gauges, timers, sets
    return b"SGFW" + bytes([1, 0, 0, 0]) + struct.pack("<II", len(p), len(p)) + p


def dedupe(port):
    """Seq 1 on one connection; then, on a new one, seq 1 again and seq 2:
    the global node must merge 5 + 7, not 5 + 5 + 7."""
    a = socket.create_connection(("127.0.0.1", int(port)), 2)
    a.sendall(frame("dedupe-node", 99, 1, [("gtest.dedupe", 5.0)]))
    time.sleep(0.3)
    a.close()
    b = socket.create_connection(("127.0.0.1", int(port)), 2)
    b.sendall(frame("dedupe-node", 99, 1, [("gtest.dedupe", 5.0)]) +
              frame("dedupe-node", 99, 2, [("gtest.dedupe", 7.0)]))
    time.sleep(0.3)
    b.close()


def fetch(path):
    t0 = int(time.time()) - 3600
    try:
        out = subprocess.run(["whisper-fetch", "--from=%d" % t0, path], capture_output=True,
                             text=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return {}
    pts = {}
    for line in out.splitlines():
        ts, v = line.split()
        if v != "None":
            pts[int(ts)] = float(v)
    return pts


def wsp_sum(wsp, expect, timeout):
    """Polls until the sum over every stored point equals expect (or timeout)."""
    deadline = time.time() + float(timeout)
    got = None
    while time.time() < deadline:
        got = sum(fetch(wsp).values())
        if abs(got - float(expect)) < 1e-6:
            print("ok: %s sums to %s" % (wsp.split("whisper/")[-1], expect))
            return
        time.sleep(0.3)
    sys.exit("FAIL: %s sums to %s, expected %s" % (wsp, got, expect))


def check_timers(wsp, rec_file):
    rec = json.load(open(rec_file))
    lat = sorted(rec["lat"])
    n = len(lat)
    want = {
        "upper_90": lat[int(math.floor(0.9 * n + 0.5)) - 1],
        "median": (lat[n // 2 - 1] + lat[n // 2]) / 2 if n % 2 == 0 else lat[n // 2],
        "upper": lat[-1],
        "lower": lat[0],
    }
    deadline = time.time() + 20
    while True:
        counts = fetch(wsp + "/gtest/lat/count.wsp")
        ts = [t for t, v in counts.items() if v == n]
        if ts or time.time() > deadline:
            break
        time.sleep(0.3)
    if not ts:
        sys.exit("FAIL: no interval holds all %d gtest.lat samples: %s" % (n, counts))
    t = ts[0]
    rc = 0
    for stat, w in want.items():
        got = fetch(wsp + "/gtest/lat/%s.wsp" % stat).get(t)
        err = abs(got - w) / w if got is not None else None
        ok = err is not None and err <= 0.01
        print("%s: gtest.lat.%s = %s, exact %s (error %s)" % ("ok" if ok else "FAIL", stat, got, w,
                                                            "%.3f%%" % (err * 100) if err is not None else "-"))
        rc |= 0 if ok else 1
    small = sorted(rec["small"])
    got = fetch(wsp + "/gtest/small/upper_90.wsp").get(t)
    w = small[int(math.floor(0.9 * len(small) + 0.5)) - 1]
    print("%s: gtest.small.upper_90 = %s, exact %s (sent exactly)" % ("ok" if got == w else "FAIL", got, w))
    rc |= 0 if got == w else 1
    sys.exit(rc)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "stat":
        print(admin(args[0], "stats").get(args[1], ""))
    else:
        {"wait_flush": wait_flush, "burst": burst, "counters": counters, "dedupe": dedupe,
         "wsp_sum": wsp_sum, "check_timers": check_timers}[cmd](*args)
