#!/usr/bin/env python3
"""A stand-in for systemd's end of the sd_notify protocol: binds a unix
datagram socket (NOTIFY_SOCKET) and appends each message to a log file as one
line, "<CLOCK_MONOTONIC seconds> <message with newlines as |>", until killed.
Usage: notify_listener.py SOCKET LOG"""
import os
import socket
import sys
import time

path, log = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", buffering=1) as out:
    while True:
        data = s.recv(65536)
        out.write("%.3f %s\n" % (time.monotonic(), data.decode(errors="replace").replace("\n", "|")))
