#!/usr/bin/env python3
"""A stand-in for journald's native socket: binds a unix datagram socket and
appends each entry to a log file as one JSON object of its fields (the native
protocol: "KEY=value\\n", or "KEY\\n<64-bit LE length><value>\\n" for values
with newlines). Usage: journal_listener.py SOCKET LOG"""
import json
import os
import socket
import struct
import sys

path, log = sys.argv[1], sys.argv[2]
os.makedirs(os.path.dirname(path), exist_ok=True)
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)


def parse(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
        fields[k.decode()] = v.decode(errors="replace")
    return fields


with open(log, "a", buffering=1) as out:
    while True:
        out.write(json.dumps(parse(s.recv(1 << 20))) + "\n")
