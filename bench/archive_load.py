#!/usr/bin/env python3
"""Bulk loader for bench/logship_archive.sh (the bench's, not the product's):
PUTs HOSTS x LOGS x DAYS small gzip'd objects into a Swift container, under
both key layouts (prefix "host/": <host>/<path>; prefix "date/":
<YYYY>/<MM>/<DD>/<host>/<path>), with THREADS keep-alive connections.

usage: archive_load.py STORAGE_URL TOKEN CONTAINER HOSTS LOGS DAYS THREADS
"""
import datetime
import gzip
import http.client
import sys
import threading
import urllib.parse

url, token, container = sys.argv[1], sys.argv[2], sys.argv[3]
hosts, logs, days, threads = (int(x) for x in sys.argv[4:8])
u = urllib.parse.urlparse(url)
first = datetime.date(2025, 1, 1)
jobs = []
for h in range(hosts):
    for lg in range(logs):
        for d in range(days):
            day = first + datetime.timedelta(days=d)
            path = f"var/log/app{lg}.log-{day:%Y%m%d}.gz"
            host = f"web{h + 1}"
            jobs.append(f"host/{host}/{path}")
            jobs.append(f"date/{day:%Y/%m/%d}/{host}/{path}")
lock = threading.Lock()
failed = []


def work(mine):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    for key in mine:
        body = gzip.compress((key + " a log line\n").encode() * 20, 1)
        c.request("PUT", f"{u.path}/{container}/{urllib.parse.quote(key)}", body=body,
                  headers={"X-Auth-Token": token, "Content-Type": "application/gzip"})
        r = c.getresponse()
        r.read()
        if r.status != 201:
            with lock:
                failed.append((key, r.status))


ts = [threading.Thread(target=work, args=(jobs[i::threads],)) for i in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(len(jobs) - len(failed), "objects loaded,", len(failed), "failed")
sys.exit(1 if failed else 0)
