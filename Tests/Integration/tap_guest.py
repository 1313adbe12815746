#!/usr/bin/env python3
"""A minimal guest on a tap, for tests that need a tap VM without booting one: it attaches to
an existing tap (as a hypervisor does), answers neighbour solicitations for its address and
echo requests to it, and sends UDP datagrams from any source address it is told to (the way a
hostile guest would spoof), to the gateway's MAC.

usage: tap_guest.py TAP ADDRESS MAC COMMANDS_FIFO
commands, one per line on the FIFO:  udp SRC DST PORT TEXT COUNT
It prints "ready" once attached, and counts what it answered on stdout.
"""
import fcntl, os, select, socket, struct, sys
from inet_checksum import checksum

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def ipv6(src, dst, next_header, payload, hop_limit=64):
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    # The upper-layer checksum covers the pseudo-header; its field sits at a protocol's offset.
    pseudo = s + d + struct.pack("!I3xB", len(payload), next_header)
    offset = 6 if next_header == 17 else 2
    payload = payload[:offset] + b"\0\0" + payload[offset + 2:]
    # A UDP checksum that sums to 0 is sent as 0xFFFF (0 means "none", which IPv6 forbids).
    c = checksum(pseudo + payload) or (0xFFFF if next_header == 17 else 0)
    payload = payload[:offset] + struct.pack("!H", c) + payload[offset + 2:]
    return struct.pack("!IHBB", 6 << 28, len(payload), next_header, hop_limit) + s + d + payload


def main():
    tap, address, mac_text, fifo = sys.argv[1:5]
    mac = bytes.fromhex(mac_text.replace(":", ""))
    me = socket.inet_pton(socket.AF_INET6, address)
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", tap.encode(), IFF_TAP | IFF_NO_PI))
    gateway_mac = bytes.fromhex(open("/sys/class/net/%s/address" % tap).read().strip().replace(":", ""))
    commands = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    print("ready", flush=True)
    answered = {"na": 0, "echo": 0}
    pending = b""

    def send(frame):
        try:
            os.write(fd, frame)
        except OSError:
            pass  # the tap is down (the node cut it off): what a guest's NIC would drop

    while True:
        readable, _, _ = select.select([fd, commands], [], [])
        if commands in readable:
            pending += os.read(commands, 4096)
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                words = line.decode().split()
                if len(words) == 6 and words[0] == "udp":
                    _, src, dst, port, text, count = words
                    udp = struct.pack("!HHHH", 40000, int(port), 8 + len(text), 0) + text.encode()
                    for _ in range(int(count)):
                        send(gateway_mac + mac + b"\x86\xdd" + ipv6(src, dst, 17, udp))
                    print("sent %s from %s" % (text, src), flush=True)
        if fd not in readable:
            continue
        try:
            frame = os.read(fd, 65536)
        except OSError:
            continue
        if len(frame) < 14 + 40 + 8 or frame[12:14] != b"\x86\xdd" or frame[14 + 6] != 58:
            continue
        src_mac, ip = frame[6:12], frame[14:]
        src, dst, icmp = ip[8:24], ip[24:40], ip[40:]
        if icmp[0] == 135 and icmp[8:24] == me:  # neighbour solicitation for our address
            reply_to = src if src != bytes(16) else socket.inet_pton(socket.AF_INET6, "ff02::1")
            na = struct.pack("!BBHI", 136, 0, 0, 0x60000000) + me + b"\x02\x01" + mac
            send(src_mac + mac + b"\x86\xdd" + ipv6(address, socket.inet_ntop(socket.AF_INET6, reply_to), 58, na, 255))
            answered["na"] += 1
        elif icmp[0] == 128 and dst == me:  # echo request
            reply = b"\x81\x00\x00\x00" + icmp[4:]
            send(src_mac + mac + b"\x86\xdd" + ipv6(address, socket.inet_ntop(socket.AF_INET6, src), 58, reply))
            answered["echo"] += 1


if __name__ == "__main__":
    main()
