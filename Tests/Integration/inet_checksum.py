"""The Internet checksum (RFC 1071) the integration tests' raw-packet tools put in the UDP and
ICMPv6 headers they build (spoofed_init_flood.py, tap_guest.py)."""
import struct


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
