#!/usr/bin/env python3
"""A Graphite plaintext sink for tests and benchmarks: accepts TCP connections
on 127.0.0.1 and appends what each connection sent to a file, followed by a
"#END" line per connection (one connection = one flush for both the reference
statsd and stopgap statsd). Prints the bound port on stdout, then serves until
killed. Usage: graphite_sink.py OUTFILE [PORT]"""
import socket
import sys
import threading

out_path = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
lock = threading.Lock()
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(64)
print(srv.getsockname()[1], flush=True)


def serve(conn):
    chunks = []
    with conn:
        while True:
            b = conn.recv(1 << 20)
            if not b:
                break
            chunks.append(b)
    data = b"".join(chunks)
    with lock, open(out_path, "ab") as f:
        f.write(data)
        if data and not data.endswith(b"\n"):
            f.write(b"\n")
        f.write(b"#END\n")


while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
