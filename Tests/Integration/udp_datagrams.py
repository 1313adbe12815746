#!/usr/bin/env python3
"""Checked UDP datagrams for the integration tests.

  udp_datagrams.py serve PORT COUNT SIZE TIMEOUT   prints how many of COUNT datagrams arrived intact
  udp_datagrams.py send ADDR PORT COUNT SIZE [gso] sends COUNT numbered datagrams of SIZE bytes;
                                                   with gso, in runs of 16 as one UDP_SEGMENT send

Every datagram carries its number and a SHA-256-derived body, so the receiver knows each one
whole, in any order: a datagram cut wrong, merged wrong or altered counts as bad.
"""
import hashlib, socket, sys, time

UDP_SEGMENT = 103


def body(i, size):
    head = i.to_bytes(4, "big")
    out = b""
    while len(out) < size - 4:
        out += hashlib.sha256(head + len(out).to_bytes(4, "big")).digest()
    return head + out[:size - 4]


def serve(port, count, size, timeout):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("::", port))
    s.settimeout(timeout)
    good, bad, seen = 0, 0, set()
    try:
        while len(seen) < count:
            d = s.recv(65536)
            i = int.from_bytes(d[:4], "big")
            if len(d) == size and i < count and d == body(i, size) and i not in seen:
                seen.add(i); good += 1
            else:
                bad += 1
            s.settimeout(2)
    except socket.timeout:
        pass
    print(f"good {good} bad {bad}")


def send(addr, port, count, size, gso):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.connect((addr, port))
    if gso:
        s.setsockopt(socket.SOL_UDP, UDP_SEGMENT, size)
        for first in range(0, count, 16):
            s.send(b"".join(body(i, size) for i in range(first, min(count, first + 16))))
            time.sleep(0.002)
    else:
        for i in range(count):
            s.send(body(i, size))
            if i % 16 == 15: time.sleep(0.002)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "serve": serve(int(a[1]), int(a[2]), int(a[3]), float(a[4]))
    else: send(a[1], int(a[2]), int(a[3]), int(a[4]), len(a) > 5 and a[5] == "gso")
