#!/usr/bin/env python3
"""Sends the compatibility corpus to a StatsD server right after its first
flush reached the sink file, then waits until two more flushes arrived.
Usage: compat_send.py HOST:PORT SINKFILE TIMEOUT_S"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compat_corpus import PACKETS  # noqa: E402

host, port = sys.argv[1].rsplit(":", 1)
sink = sys.argv[2]
deadline = time.time() + float(sys.argv[3])


def flushes():
    try:
        with open(sink, "rb") as f:
            return f.read().count(b"#END\n")
    except FileNotFoundError:
        return 0


def wait_for(n):
    while flushes() < n:
        if time.time() > deadline:
            sys.exit("timed out waiting for flush %d in %s" % (n, sink))
        time.sleep(0.01)


wait_for(1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in PACKETS:
    s.sendto(p, (host, int(port)))
    time.sleep(0.0005)
wait_for(3)
