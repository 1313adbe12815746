#!/usr/bin/env bash
# Issue 14: with hole punching off, u (behind h1) reaches n and n's VM (behind h2) through the
# public node p alone: ping6 and hash-checked transfers. Then h2 forgets every NAT mapping
# (conntrack -F) while traffic flows, and n is reachable again within 15 s. h2 masquerades with
# fully-random ports, so n's new mapping has a new public port: p must follow n there.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nat_lib.sh"
command -v nft >/dev/null || skip "nft (nftables) not installed"
command -v conntrack >/dev/null || skip "conntrack not installed"
nat_topology preserve random false
nat_vm; vm=$NAT_VM
wait_for 30 nat_route_to u n || { nat_log u; nat_log p; fail "u has no route to n through p"; }
nat_exec u ping -6 -c3 -W2 "$(nat_addr n)" >/dev/null || { nat_log u; nat_log n; fail "u cannot ping n through p"; }
nat_exec u ping -6 -c3 -W2 "$vm" >/dev/null || fail "u cannot ping n's VM at $vm"
nat_transfer u n "$(nat_addr n)" 3000000 0 5101
nat_transfer_check 5101
nat_transfer u vm "$vm" 3000000 0 5102
nat_transfer_check 5102
path=$(nat_session u n path); hop=$(nat_session u n nextHop)
[ "$path" = relayed ] && [ "$hop" = "$(nat_key p)" ] || fail "u's session with n: path '$path' via $hop, expected relayed via p"
nat_linked u n && fail "u and n linked directly with punching off"
[ "$(nat_stat u "d['punch']['offersSent']")" = 0 ] || fail "u sent offers with nat.punch false"
ok "u reaches n and its VM at $vm through p: ping6 and 3 MB hash-checked transfers, session relayed via p"

# n's home router forgets its mappings while u pings n.
nkey=$(nat_key n)
endpoint_at_p() { nat_ctl p --json peers | json_get "next(p['endpoint'] for p in d['peers'] if p['publicKey']=='$nkey')"; }
before=$(endpoint_at_p)
nat_exec u ping -6 -i0.2 -w40 "$(nat_addr n)" > "$TMP/flush-ping" 2>&1 &
PIDS+=($!)
sleep 2
nat_exec h2 conntrack -F >/dev/null 2>&1 || fail "conntrack -F on h2"
t0=$(date +%s.%N)
back() { nat_exec u ping -6 -c1 -W1 "$(nat_addr n)" >/dev/null; }
wait_for 15 back || { nat_log n; nat_log p; fail "n is not reachable 15 s after h2's NAT state was flushed"; }
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
after=$(endpoint_at_p)
[ "$after" != "$before" ] || fail "n's public endpoint at p did not change after the flush ($before): the test's NAT is wrong"
ok "h2's NAT state flushed during traffic: n reachable again after ${took} s (at p, n moved from $before to $after)"
sleep 5
nat_exec u ping -6 -c5 -i0.2 -W1 "$(nat_addr n)" >/dev/null || fail "n unreachable again 5 s later"
ok "and it stays reachable"

# Once more with no traffic at all: n's next keepalive (at most 10 s away) makes a new mapping
# and p follows it, so a ping from u gets through within 15 s.
sleep 3
before=$(endpoint_at_p)
nat_exec h2 conntrack -F >/dev/null 2>&1 || fail "conntrack -F on h2"
t0=$(date +%s.%N)
wait_for 15 back || { nat_log n; nat_log p; fail "n is not reachable 15 s after an idle flush of h2's NAT state"; }
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
ok "h2's NAT state flushed while idle: n reachable again after ${took} s (at p, n moved from $before to $(endpoint_at_p))"
