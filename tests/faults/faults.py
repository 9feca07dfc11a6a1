#!/usr/bin/env python3
"""Tools of the fault-injection tests in tests/faults (docs/reliability.md).

  faults.py load URL TOKEN_FILE OUT --rate 500 --seconds 2 [--match 0.1] [--tag k1]
      Posts generic alerts at RATE/s for SECONDS from a few keep-alive
      connections (bounded in count and time). Every alert id of a 202 is
      appended to OUT (one per line, flushed at once: a 202 is an
      acknowledgement); prints {"sent","acked","refused503","errors",...}.
  faults.py check DB ACKED MARKERS [--quiet]
      The promises after a crash or fault: every acknowledged alert is in the
      ledger, no execution is left unfinished (the ledger was re-opened),
      every action ran at most once and only after its execution was durably
      "acting", every bundle of an execution that acted has a readable
      manifest naming files that exist, PRAGMA integrity_check is ok. Prints
      the figures as JSON; exit 1 when a promise is broken.

Markers: the test catalogs' action writes MARKERS/<execution id>.<pid> when it
starts, so runs are counted from outside stopgap.
"""
import argparse
import http.client
import json
import os
import random
import sqlite3
import sys
import threading
import time
import urllib.parse


def load(a):
    u = urllib.parse.urlparse(a.url)
    token = open(a.token_file).read().strip()
    out = open(a.out, "a", buffering=1)
    lock = threading.Lock()
    stats = {"sent": 0, "acked": 0, "refused503": 0, "errors": 0, "other": 0, "matched": 0}
    codes = {}
    deadline = time.monotonic() + a.seconds
    threads = max(1, min(a.threads, int(a.rate) or 1))
    per_thread = a.rate / threads
    run_id = "%s%d" % (a.tag, os.getpid())

    def worker(n):
        conn = None
        i = 0
        start = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            due = start + i / per_thread
            if due > now:
                time.sleep(min(due - now, deadline - now))
                continue
            i += 1
            matched = random.random() < a.match
            fp = "%s-%d-%d" % (run_id, n, i)
            body = json.dumps({"name": "FaultLoad" if matched else "FaultNoise",
                               "fingerprint": fp, "status": "firing",
                               "labels": {"severity": "critical", "n": str(i)}})
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
                conn.request("POST", "/api/v1/alerts", body,
                             {"Authorization": "Bearer " + token,
                              "Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException):
                with lock:
                    stats["sent"] += 1
                    stats["errors"] += 1
                if conn:
                    conn.close()
                conn = None
                time.sleep(0.01)
                continue
            with lock:
                stats["sent"] += 1
                codes[r.status] = codes.get(r.status, 0) + 1
                if r.status == 202:
                    d = json.loads(data)
                    for aid in d.get("alert_ids", []):
                        out.write("%d\n" % aid)
                    stats["acked"] += len(d.get("alert_ids", []))
                    stats["matched"] += len(d.get("executions", []))
                elif r.status == 503:
                    stats["refused503"] += 1
                else:
                    stats["other"] += 1
                    if stats["other"] <= 3:
                        sys.stderr.write("load: HTTP %d %s\n" % (r.status, data[:200]))
        if conn:
            conn.close()

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.close()
    stats["codes"] = {str(k): v for k, v in sorted(codes.items())}
    print(json.dumps(stats))


NON_TERMINAL = ("matched", "diagnosing", "acting", "verifying")


def check(a):
    problems = []
    db = sqlite3.connect("file:%s?mode=ro" % a.db, uri=True, timeout=10)
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        problems.append("integrity_check: " + integrity)
    # The acknowledged ids go into a temporary table (the soak acknowledges
    # millions: two Python sets of them would cost hundreds of MB).
    db.execute("CREATE TEMP TABLE acked (id INTEGER PRIMARY KEY)")
    if os.path.exists(a.acked):
        with open(a.acked) as f:
            db.executemany("INSERT OR IGNORE INTO temp.acked VALUES (?)",
                           ((int(x),) for x in f if x.strip()))
    n_acked = db.execute("SELECT COUNT(*) FROM temp.acked").fetchone()[0]
    n_alerts = db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
    lost = [r[0] for r in db.execute(
        "SELECT id FROM temp.acked WHERE id NOT IN (SELECT id FROM main.alerts) ORDER BY id")]
    if lost:
        problems.append("acknowledged alerts missing from the ledger: %s" % lost[:10])
    rows = db.execute("SELECT id, state, bundle_dir FROM executions").fetchall()
    states = {}
    for _, s, _ in rows:
        states[s] = states.get(s, 0) + 1
    unfinished = [r[0] for r in rows if r[1] in NON_TERMINAL]
    if unfinished and not a.live:
        problems.append("executions left unfinished after a restart: %s" % unfinished[:10])
    acted = {r[0] for r in db.execute(
        "SELECT DISTINCT execution_id FROM transitions WHERE state = 'acting'")}
    runs = {}
    for name in os.listdir(a.markers) if os.path.isdir(a.markers) else []:
        eid = int(name.split(".")[0])
        runs[eid] = runs.get(eid, 0) + 1
    twice = sorted(e for e, n in runs.items() if n > 1)
    if twice:
        problems.append("actions that ran more than once: %s" % twice[:10])
    early = sorted(e for e in runs if e not in acted)
    if early:
        problems.append("actions that ran without a durable 'acting' record: %s" % early[:10])
    by_id = {r[0]: r for r in rows}
    bad_bundles = []
    for eid in acted:
        if eid not in by_id:
            continue
        bdir = by_id[eid][2]
        try:
            m = json.load(open(os.path.join(bdir, "manifest.json")))
            for step in m.get("steps", []):
                for f in step.get("files", []):
                    if not os.path.exists(os.path.join(bdir, f)):
                        raise ValueError("missing " + f)
        except (OSError, ValueError) as e:
            bad_bundles.append((eid, str(e)[:80]))
    if bad_bundles:
        problems.append("bundles not intact: %s" % bad_bundles[:5])
    figures = {
        "acked": n_acked, "acked_lost": len(lost), "alerts": n_alerts,
        "executions": len(rows), "states": states, "unfinished": len(unfinished),
        "acted": len(acted), "action_runs": sum(runs.values()), "ran_twice": len(twice),
        "ran_early": len(early), "bundles_bad": len(bad_bundles), "integrity": integrity,
    }
    if not a.quiet or problems:
        print(json.dumps(figures))
    for p in problems:
        print("PROBLEM: " + p, file=sys.stderr)
    return 1 if problems else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    l = sub.add_parser("load")
    l.add_argument("url")
    l.add_argument("token_file")
    l.add_argument("out")
    l.add_argument("--rate", type=float, default=100)
    l.add_argument("--seconds", type=float, default=1)
    l.add_argument("--match", type=float, default=0.1)
    l.add_argument("--threads", type=int, default=8)
    l.add_argument("--tag", default="f")
    c = sub.add_parser("check")
    c.add_argument("db")
    c.add_argument("acked")
    c.add_argument("markers")
    c.add_argument("--quiet", action="store_true")
    c.add_argument("--live", action="store_true", help="the daemon runs: unfinished is fine")
    a = p.parse_args()
    if a.cmd == "load":
        load(a)
        return 0
    return check(a)


if __name__ == "__main__":
    sys.exit(main())
