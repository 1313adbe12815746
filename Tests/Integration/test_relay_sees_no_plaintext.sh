#!/usr/bin/env bash
# A packet capture on the relay's links must not contain the payload of an end-to-end transfer.
source "$(dirname "$0")/lib.sh"
command -v tcpdump >/dev/null || skip "tcpdump not installed"
tb_up capture line3
b=$(tb_addr b)
tb_wait_ping a b 30 || fail "a cannot reach b"
marker="PLANETARY-PLAINTEXT-MARKER-$RANDOM$RANDOM"
for i in $(seq 1 2000); do echo "$marker"; done > "$TMP/payload"
tb_exec r tcpdump -i any -w "$TMP/relay.pcap" -U udp >/dev/null 2>&1 &
PIDS+=($!); dump=$!
sleep 1
tb_exec b python3 "$(dirname "$0")/tcp_transfer.py" serve 5003 "$TMP/received" > "$TMP/serve.out" &
PIDS+=($!)
sleep 0.5
tb_exec a python3 "$(dirname "$0")/tcp_transfer.py" send "$b" 5003 "$TMP/payload" >/dev/null || fail "transfer"
tb_exec a ping -6 -c3 -p 504c414e4554 "$b" >/dev/null || fail "ping"
sleep 1
kill "$dump"; sleep 0.5
[ -s "$TMP/relay.pcap" ] || fail "capture is empty"
packets=$(tcpdump -r "$TMP/relay.pcap" 2>/dev/null | wc -l)
# Bytes, not packets: with UDP GSO/GRO a capture sees runs of datagrams as one large packet.
bytes=$(stat -c %s "$TMP/relay.pcap")
payload=$(stat -c %s "$TMP/payload")
[ "$bytes" -gt "$payload" ] || fail "the capture saw only $bytes bytes in $packets packets; the traffic did not cross the relay"
grep -qa "$marker" "$TMP/relay.pcap" && fail "the relay's capture contains the plaintext marker"
grep -qa "$marker" "$TMP/received" || fail "the receiver did not get the marker"
ok "relay captured $packets UDP packets ($bytes bytes) and none contained the plaintext"
