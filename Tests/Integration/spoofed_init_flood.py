"""Sends well-formed link handshake inits (msg1) to one UDP endpoint from forged source
addresses, as fast as one process can, until killed or --seconds pass. Raw IPv6 packets
(the kernel takes our header as is), sources spread over 16,384 /48 prefixes of
2001:db8::/32 with random ports, each with its own index and ephemeral key bytes.
Only for the test's own namespaces. Prints the packets sent and the rate on exit."""
import os, random, signal, socket, struct, sys, time
from inet_checksum import checksum

def packet(src, dst, sport, dport, payload):
    length = 8 + len(payload)
    udp = struct.pack("!HHHH", sport, dport, length, 0) + payload
    pseudo = src + dst + struct.pack("!I", length) + b"\0\0\0\x11"
    c = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    header = struct.pack("!IHBB", 6 << 28, length, 17, 64) + src + dst
    return header + udp

def init_message(rnd):
    # [0x01] version 2, senderIndex, eI (32), ciphers offered (ChaCha20-Poly1305), zeros to 153.
    body = bytes([2]) + rnd.getrandbits(32).to_bytes(4, "big") + rnd.getrandbits(256).to_bytes(32, "big") + bytes([1])
    return bytes([1]) + body + bytes(153 - len(body))

def main():
    dst_text, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    dst = socket.inet_pton(socket.AF_INET6, dst_text)
    rnd = random.Random(15)
    pool = []
    for i in range(16384):
        src = bytes([0x20, 0x01, 0x0D, 0xB8]) + i.to_bytes(2, "big") + rnd.getrandbits(80).to_bytes(10, "big")
        pool.append(packet(src, dst, rnd.randrange(1024, 65535), port, init_message(rnd)))
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    start = time.monotonic()
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    send = s.sendto
    target = (dst_text, 0)
    while not stop[0] and time.monotonic() - start < seconds:
        for p in pool:
            try:
                send(p, target)
            except OSError:
                pass
        sent += len(pool)
    elapsed = time.monotonic() - start
    print("sent %d forged inits in %.1f s: %d/s" % (sent, elapsed, sent / elapsed), flush=True)

main()
