#!/usr/bin/env bash
# Two nodes on a shared veth with no peers configured find each other by multicast beacons.
source "$(dirname "$0")/lib.sh"
tb_up linkdisc pair --no-peers --multicast
tb_wait_ping a b 30 || { dump_logs a b; fail "discovery did not link a and b"; }
tb_wait_ping b a 10 || fail "b cannot reach a"
ok "linked by discovery alone"
