#!/usr/bin/env bash
# Issue 14: u and n sit behind two home routers that masquerade, keeping the source port (an
# endpoint-independent mapping, like most home routers); p is their only public peer. The
# first traffic between them goes through p; within 10 s they punch a direct link, routing
# moves the traffic onto it, p stops forwarding it, and a hash-checked transfer running across
# the switch arrives whole. Then n's VM (a namespace in n's /64) is reached the same way.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nat_lib.sh"
command -v nft >/dev/null || skip "nft (nftables) not installed"
nat_topology preserve preserve true
nat_vm; vm=$NAT_VM
wait_for 30 nat_route_to u n || { nat_log u; nat_log p; fail "u has no route to n through p"; }
nat_linked u n && fail "u and n were linked before any traffic"
either_punched() { nat_punched u n || nat_punched n u; }

# The transfer is the first traffic: 6 MB at 600 kB/s, about 10 s, so it runs across the switch.
fwd0=$(nat_stat p "d['forwardedPackets']")
t0=$(date +%s.%N)
nat_transfer u n "$(nat_addr n)" 6000000 600000 5001
wait_for 10 either_punched || { nat_log u; nat_log n; fail "no punched u-n link within 10 s of the first traffic"; }
t1=$(date +%s.%N)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
ok "u and n punched a direct link ${took} s after the first traffic"
path=""; for _ in $(seq 1 25); do path=$(nat_session u n path); [ "$path" = direct-punched ] && break; sleep 0.2; done
[ "$path" = direct-punched ] || fail "u's session with n runs '$path', not direct-punched"
hop=$(nat_session u n nextHop)
[ "$hop" = "$(nat_key n)" ] || fail "u's session with n goes through $hop, not n itself"
ok "planetctl sessions on u: path direct-punched, next hop n"
nat_ctl u peers | grep -q "/punched" || fail "planetctl peers on u does not mark the punched link"
fwd1=$(nat_stat p "d['forwardedPackets']")
[ "$fwd1" -gt "$fwd0" ] || fail "p forwarded nothing: the traffic never went through the relay (fwd $fwd0 -> $fwd1)"
sleep 3
fwd2=$(nat_stat p "d['forwardedPackets']")
[ $((fwd2 - fwd1)) -le 5 ] || fail "p still forwards the u-n transfer: $fwd1 -> $fwd2 in 3 s"
ok "p forwarded $((fwd1 - fwd0)) packets before the switch and $((fwd2 - fwd1)) in the 3 s after"
nat_transfer_check 5001
ok "the 6 MB transfer that ran across the switch arrived with the right SHA-256"

self=$(nat_ctl u --json self)
echo "$self" | json_get "d['publicEndpoints']" | grep -q "198.51.100.11:8470" || fail "u's public endpoints: $(echo "$self" | json_get "d['publicEndpoints']")"
mapping=$(echo "$self" | json_get "d['natMapping']")
[ "$mapping" = endpoint-independent ] || fail "u's NAT mapping reads '$mapping'"
ok "planetctl self on u: public endpoint 198.51.100.11:8470, mapping $mapping"

nat_exec u ping -6 -c3 -W2 "$vm" >/dev/null || fail "u cannot ping n's VM at $vm"
nat_transfer u vm "$vm" 2000000 0 5002
nat_transfer_check 5002
ok "u reaches n's VM at $vm over the direct link (ping6, 2 MB hash-checked)"
attempts=$(nat_stat u "d['punch']['attempts']"); failed=$(nat_stat u "d['punch']['failed']")
ok "u's punch counters: attempts $attempts, failed $failed, succeeded $(nat_stat u "d['punch']['succeeded']")"

# h2 forgets its mappings while u pings n over the punched link: n is reachable again within
# 15 s (the direct link's next packet from n remaps it; failing that, the relay carries it).
nat_exec u ping -6 -i0.2 -w30 "$(nat_addr n)" > "$TMP/flush-ping" 2>&1 &
PIDS+=($!)
sleep 2
nat_exec h2 conntrack -F >/dev/null 2>&1 || fail "conntrack -F on h2"
t0=$(date +%s.%N)
back() { nat_exec u ping -6 -c1 -W1 "$(nat_addr n)" >/dev/null; }
wait_for 15 back || { nat_log n; nat_log u; fail "n is not reachable 15 s after h2's NAT state was flushed"; }
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
ok "h2's NAT state flushed during direct traffic: n reachable again after ${took} s (session now $(nat_session u n path))"
nat_keep_logs
