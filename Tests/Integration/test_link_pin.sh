#!/usr/bin/env bash
# A peer URI pinned to the wrong key never links, and the dialer logs why; the right key links.
source "$(dirname "$0")/lib.sh"
tb_up linkpin pair
tb_wait_ping a b 30 || { dump_logs a b; fail "no link"; }
kb=$(tb_key b)
wrong=$("$PLANETD" genconf | grep -o '"privateKey": "[0-9a-f]*"' | cut -d'"' -f4 | tail -c 65)
tb_ctl a peers remove "udp://[fd7a:1:1::2]:8470" || fail "peers remove"
ping_fails() { ! tb_exec a ping -6 -c1 -W1 "$(tb_addr b)" >/dev/null 2>&1; }
wait_for 60 ping_fails || fail "link stayed up after removing the peer"
tb_ctl a peers add "udp://[fd7a:1:1::2]:8470?key=$wrong" || fail "peers add"
sleep 5
tb_exec a ping -6 -c1 -W1 "$(tb_addr b)" >/dev/null 2>&1 && fail "linked to a peer whose key does not match the pin"
tb_log a | grep -i "key mismatch" || { dump_logs a; fail "no log line says the pinned key did not match"; }
[ "$(peer_state a "$kb")" != up ] || fail "planetctl shows b up despite the pin"
ok "wrong pin refused and logged"
tb_ctl a peers remove "udp://[fd7a:1:1::2]:8470" || fail "peers remove"
tb_ctl a peers add "udp://[fd7a:1:1::2]:8470?key=$kb" || fail "peers add"
tb_wait_ping a b 30 || { dump_logs a b; fail "the right pin did not link"; }
ok "right pin links"
