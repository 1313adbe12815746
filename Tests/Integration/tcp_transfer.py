#!/usr/bin/env python3
"""TCP transfer checked by hash, for the integration tests.

  tcp_transfer.py serve PORT OUTFILE        accept one connection, write what arrives, print its SHA-256
  tcp_transfer.py send HOST PORT FILE [RATE]  connect and send FILE (at most RATE bytes/s), print its SHA-256

Only ever pointed at overlay addresses inside the test's own namespaces.
"""
import hashlib
import socket
import sys
import time


def serve(port, out):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(1)
    s.settimeout(120)
    conn, _ = s.accept()
    conn.settimeout(60)
    h = hashlib.sha256()
    total = 0
    with open(out, "wb") as f:
        while True:
            data = conn.recv(1 << 16)
            if not data:
                break
            h.update(data)
            f.write(data)
            total += len(data)
    print(h.hexdigest(), total, flush=True)


def send(host, port, path, rate=0):
    h = hashlib.sha256()
    start = time.monotonic()
    sent = 0
    s = socket.create_connection((host, port), timeout=30)
    s.settimeout(120)
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 16)
            if not chunk:
                break
            h.update(chunk)
            s.sendall(chunk)
            sent += len(chunk)
            if rate:
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    print(h.hexdigest(), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 0)
