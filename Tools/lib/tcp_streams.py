#!/usr/bin/env python3
"""Reassembles the two byte streams of the one TCP connection to PORT in a tcpdump pcap.

usage: tcp_streams.py CAPTURE.pcap PORT FROM_LISTENER.bin TO_LISTENER.bin

Written for Tools/capture-yggdrasil: classic pcap (what `tcpdump -w` writes), Ethernet
frames, IPv6 without extension headers, one connection. Bytes are placed by sequence number
relative to the SYN, so a retransmitted or reordered segment lands where it belongs; a gap
(a segment tcpdump dropped) is an error rather than silently wrong fixtures.
"""
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        sys.exit("not a classic pcap file (pcapng? use tcpdump -w)")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit(f"link type {linktype}, expected Ethernet (1)")
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        yield data[off:off + incl]
        off += incl


def main():
    path, port, out_from, out_to = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    streams = {}  # sport -> {"isn": int, "chunks": {offset: bytes}}
    for frame in packets(path):
        if len(frame) < 14 + 40 + 20 or struct.unpack("!H", frame[12:14])[0] != 0x86DD:
            continue
        ip = frame[14:]
        payload_len, next_header = struct.unpack("!HB", ip[4:7])
        if next_header != 6:
            continue
        tcp = ip[40:40 + payload_len]
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        if port not in (sport, dport):
            continue
        data_offset = (tcp[12] >> 4) * 4
        flags = tcp[13]
        s = streams.setdefault(sport, {"isn": None, "chunks": {}})
        if flags & 0x02:  # SYN: the stream's first byte has sequence number ISN + 1
            s["isn"] = seq
            continue
        body = tcp[data_offset:]
        if body:
            if s["isn"] is None:
                sys.exit("data before the SYN: start tcpdump before the nodes")
            s["chunks"][(seq - s["isn"] - 1) % (1 << 32)] = body
    for want_sport, out in ((True, out_from), (False, out_to)):
        keys = [k for k in streams if (k == port) == want_sport]
        if len(keys) != 1:
            sys.exit(f"expected one stream {'from' if want_sport else 'to'} port {port}, found {len(keys)}")
        buf = bytearray()
        for offset in sorted(streams[keys[0]]["chunks"]):
            chunk = streams[keys[0]]["chunks"][offset]
            if offset > len(buf):
                sys.exit(f"gap in the stream at byte {len(buf)} (tcpdump dropped a segment?)")
            buf[offset:offset + len(chunk)] = chunk
        with open(out, "wb") as f:
            f.write(bytes(buf))


if __name__ == "__main__":
    main()
