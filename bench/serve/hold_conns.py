#!/usr/bin/python3
"""Holds N slow or idle connections open against a server for bench/serve.sh's
"1,000 slow or idle connections" scenario: spread over 16 client addresses
(127.0.0.2-17, under the per-address cap), half send one header line every
2 s (slowloris), half stay idle; any the server closes (header deadline) is
reopened. Runs until SECONDS pass or it is killed. Prints how many it held.
Single-threaded, sockets only. Usage: hold_conns.py PORT N SECONDS
"""
import resource
import socket
import sys
import time

port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 256), hard))


def open_one(i):
    s = socket.socket()
    s.bind((f"127.0.0.{2 + i % 16}", 0))
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        if i % 2 == 0:
            s.sendall(b"POST /api/v1/alerts/alertmanager HTTP/1.1\r\nHost: x\r\n")
    except OSError:
        s.close()
        return None
    return s


socks = [open_one(i) for i in range(n)]
end = time.monotonic() + seconds
step = 0
reopened = 0
while time.monotonic() < end:
    time.sleep(2)
    step += 1
    for i, s in enumerate(socks):
        if s is None:
            socks[i] = open_one(i)
            reopened += 1
            continue
        if i % 2 == 0:
            try:
                s.sendall(f"X-Slow-{step}: 1\r\n".encode())
            except OSError:
                s.close()
                socks[i] = open_one(i)
                reopened += 1
print(f"held {sum(1 for s in socks if s is not None)} of {n}; reopened {reopened}", flush=True)
