#!/usr/bin/env python3
"""Bulk loader for bench/logship_archive.sh (the bench's, not the product's):
fills a Swift container with HOSTS x LOGS x DAYS small gzip'd objects under
both key layouts (prefix "host/": <host>/<path>; prefix "date/":
<YYYY>/<MM>/<DD>/<host>/<path>).

Default: real objects, as tar archives through Swift's bulk middleware
(PUT <container>?extract-archive=tar), one request per host and layout,
THREADS at once, with the metadata `logship upload` stores
(X-Object-Meta-Stopgap-{Date,Host,Path,Uncompressed-Size}, src/logship/archive.h)
in pax headers ("SCHILY.xattr.user.meta.<name>"), which the middleware turns
into X-Object-Meta-<name>. Swift still spends ~13 ms of CPU per object here
(proxy, object server, container update): ~30 objects/s on the loaded 2-core
machine, hours for the full population.

--rows: the same names go straight into the container's listing database
through Swift's own ContainerBroker (swift.container.backend), each with the
size and ETag its body would have, but no body: the container listing, all
that `ls` reads for names that carry their date, is complete, in seconds.
A GET of such a name answers 404. Needs Debian's python3 (with swift) and the
Swift's own directory (scripts/services/swift.sh start DIR).

usage: archive_load.py STORAGE_URL TOKEN CONTAINER HOSTS LOGS DAYS THREADS
       /usr/bin/python3 archive_load.py --rows SWIFT_DIR CONTAINER HOSTS LOGS DAYS
"""
import datetime
import glob
import gzip
import hashlib
import http.client
import io
import json
import sys
import tarfile
import threading
import time
import urllib.parse

FIRST = datetime.date(2025, 1, 1)


def objects(host, layout, logs, days):
    """(key, gzip'd body, uncompressed size, day, path) of every object of host."""
    for lg in range(logs):
        for d in range(days):
            day = FIRST + datetime.timedelta(days=d)
            path = f"/var/log/app{lg}.log-{day:%Y%m%d}.gz"
            key = (f"{layout}/{host}{path}" if layout == "host" else
                   f"{layout}/{day:%Y/%m/%d}/{host}{path}")
            text = (key + " a log line\n").encode() * 20
            yield key, gzip.compress(text, 1, mtime=0), len(text), day, path


def archive(host, layout, logs, days):
    """One tar of every object of `host` under `layout`, and its member count."""
    buf = io.BytesIO()
    n = 0
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for key, body, size, day, path in objects(host, layout, logs, days):
            info = tarfile.TarInfo(key)
            info.size = len(body)
            info.mtime = 1735689600
            info.pax_headers = {
                "SCHILY.xattr.user.meta.stopgap-date": f"{day:%Y-%m-%d}T00:00:00",
                "SCHILY.xattr.user.meta.stopgap-host": host,
                "SCHILY.xattr.user.meta.stopgap-path": urllib.parse.quote(path, safe=""),
                "SCHILY.xattr.user.meta.stopgap-uncompressed-size": str(size),
                "SCHILY.xattr.user.mime_type": "application/gzip",
            }
            tar.addfile(info, io.BytesIO(body))
            n += 1
    return buf.getvalue(), n


def load_rows(swift_dir, container, hosts, logs, days):
    from swift.common.utils import Timestamp
    from swift.container.backend import ContainerBroker
    brokers = [ContainerBroker(f) for f in
               glob.glob(f"{swift_dir}/srv/*/containers/*/*/*/*.db")]
    brokers = [b for b in brokers if b.get_info()["container"] == container]
    if len(brokers) != 1:
        sys.exit(f"archive_load: container {container} not found once under {swift_dir}")
    broker = brokers[0]
    n = 0
    for h in range(hosts):
        items = []
        for layout in ("host", "date"):
            for key, body, _, _, _ in objects(f"web{h + 1}", layout, logs, days):
                items.append({"name": key, "created_at": Timestamp(time.time()).internal,
                              "size": len(body), "content_type": "application/gzip",
                              "etag": hashlib.md5(body).hexdigest(), "deleted": 0,
                              "storage_policy_index": 0})
        broker.merge_items(items)
        n += len(items)
    count = broker.get_info()["object_count"]
    print(n, "listing rows merged; the container lists", count, "objects")
    return 0 if count >= n else 1


def load_objects(url, token, container, hosts, logs, days, threads):
    u = urllib.parse.urlparse(url)
    lock = threading.Lock()
    began = time.monotonic()
    jobs = [(f"web{h + 1}", layout) for h in range(hosts) for layout in ("host", "date")]
    loaded = [0]
    failed = []

    def work():
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
        while True:
            with lock:
                if not jobs:
                    return
                host, layout = jobs.pop()
            body, n = archive(host, layout, logs, days)
            c.request("PUT", f"{u.path}/{container}?extract-archive=tar", body=body,
                      headers={"X-Auth-Token": token, "Accept": "application/json"})
            r = c.getresponse()
            text = r.read()
            try:
                answer = json.loads(text)
                created = int(answer.get("Number Files Created", 0))
                errors = answer.get("Errors", [])
            except ValueError:
                created, errors = 0, [text[:200]]
            with lock:
                loaded[0] += created
                if r.status != 200 or errors or created != n:
                    failed.append((host, layout, r.status, created, n, errors[:3]))
                if len(jobs) % 20 == 0:
                    rate = loaded[0] / (time.monotonic() - began)
                    print(f"{loaded[0]} objects, {rate:.0f}/s", file=sys.stderr, flush=True)

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(loaded[0], "objects loaded;", len(failed), "archives failed", failed[:3])
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1] == "--rows":
        sys.exit(load_rows(sys.argv[2], sys.argv[3], *(int(x) for x in sys.argv[4:7])))
    sys.exit(load_objects(sys.argv[1], sys.argv[2], sys.argv[3],
                          *(int(x) for x in sys.argv[4:8])))
