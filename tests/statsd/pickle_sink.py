#!/usr/bin/env python3
"""A Graphite pickle sink for tests: accepts TCP connections on 127.0.0.1 and
checks that each connection's bytes are exactly what the reference statsd's
graphite backend sends with graphiteProtocol "pickle" (a 4-byte big-endian
length of the rest, then "(l" + "(S'name'\\n(L<ts>L\\nS'<value>'\\ntta" per
metric + "."), and that Python's unpickler (what carbon uses) reads the same
list. It appends the metrics as plaintext lines "name value ts" and a "#END"
line per connection, as graphite_sink.py does, so the same comparison
applies; a payload that breaks the format is written as one "MALFORMED" line.
Prints the bound port, then serves until killed. Usage: pickle_sink.py OUTFILE"""
import io
import pickle
import re
import socket
import struct
import sys
import threading

out_path = sys.argv[1]
lock = threading.Lock()
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
print(srv.getsockname()[1], flush=True)

METRIC = re.compile(rb"\(S'([^'\n]*)'\n\(L(\d+)L\nS'([^'\n]*)'\ntta")


class NoClasses(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError("global %s.%s" % (module, name))


def decode(data):
    if len(data) < 4:
        return None, "short payload"
    (n,) = struct.unpack(">I", data[:4])
    body = data[4:]
    if n != len(body):
        return None, "length header %d, body %d bytes" % (n, len(body))
    if not (body.startswith(b"(l") and body.endswith(b".")):
        return None, "not (l ... ."
    inner = body[2:-1]
    metrics = [m.groups() for m in METRIC.finditer(inner)]
    if b"".join(m.group(0) for m in METRIC.finditer(inner)) != inner:
        return None, "bytes outside the metric grammar"
    unpickled = NoClasses(io.BytesIO(body)).load()
    want = [(name.decode(), (int(ts), value.decode())) for name, ts, value in metrics]
    if unpickled != want:
        return None, "unpickler disagrees"
    return [b"%s %s %s" % (name, value, ts) for name, ts, value in metrics], None


def serve(conn):
    chunks = []
    with conn:
        while True:
            b = conn.recv(1 << 20)
            if not b:
                break
            chunks.append(b)
    lines, err = decode(b"".join(chunks))
    with lock, open(out_path, "ab") as f:
        if err:
            f.write(b"MALFORMED pickle: " + err.encode() + b"\n")
        else:
            f.write(b"".join(l + b"\n" for l in lines))
        f.write(b"#END\n")


while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
