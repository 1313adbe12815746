#!/usr/bin/env bash
# A line of four nodes, each peering only with its neighbours: a - r1 - r2 - b.
# ping6 end to end, a 50 MB TCP transfer whose SHA-256 must match, traceroute6 through the
# relays, big pings, and an ICMPv6 error for an address no node has.
source "$(dirname "$0")/lib.sh"
tb_up line4 line4
b=$(tb_addr b); r1=$(tb_addr r1); r2=$(tb_addr r2)
tb_wait_ping a b 30 || { dump_logs a r1 r2 b; fail "a cannot ping b within 30 s"; }
ok "a reaches b over two relays"

tb_exec a ping -6 -c3 -i0.2 -W2 "$b" >/dev/null || fail "ping a->b"
tb_exec b ping -6 -c3 -i0.2 -W2 "$(tb_addr a)" >/dev/null || fail "ping b->a"

mtu=$(tb_exec a cat /sys/class/net/planet0/mtu)
tb_exec a ping -6 -c2 -W2 -s 1232 "$b" >/dev/null || fail "ping with 1232-byte payload"
tb_exec a ping -6 -c2 -W2 -M do -s $((mtu - 48)) "$b" >/dev/null || fail "ping with a maximum-MTU payload ($((mtu - 48)) bytes at MTU $mtu)"
ok "1232-byte and maximum-MTU ($mtu) pings"

tb_transfer_checked a b 50000000 5001
ok "50 MB over TCP, SHA-256 matches"

if command -v traceroute6 >/dev/null || command -v traceroute >/dev/null; then
  tr=$(tb_exec a traceroute -6 -n -q1 -w2 -m 8 "$b" 2>&1)
  echo "$tr"
  echo "$tr" | grep -q "$r1" || fail "traceroute does not show r1 ($r1)"
  echo "$tr" | grep -q "$r2" || fail "traceroute does not show r2 ($r2)"
  ok "traceroute6 shows r1 and r2"
fi

# An address in 200::/7 that no node has: an ICMPv6 error, not silence.
out=$(tb_exec a ping -6 -c1 -W3 "200:dead:beef::1" 2>&1)
echo "$out" | grep -qiE "unreachable|no route" || fail "no ICMPv6 error for an unknown address: $out"
ok "unknown address gets an ICMPv6 error"
