#!/usr/bin/env bash
# Issue 14: two laptops u and u2 behind the same home router h1 (multicast discovery off), each
# with only the public p as peer. Their first traffic goes through p; the local candidates they
# trade make a direct link over the LAN, without the router having to hairpin.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nat_lib.sh"
command -v nft >/dev/null || skip "nft (nftables) not installed"
nat_topology preserve preserve true u2
wait_for 30 nat_route_to u u2 || { nat_log u; nat_log p; fail "u has no route to u2 through p"; }
nat_linked u u2 && fail "u and u2 were linked before any traffic"
nat_exec u ping -6 -i0.2 -w15 "$(nat_addr u2)" > "$TMP/lan-ping" 2>&1 &
PIDS+=($!)
either() { nat_punched u u2 || nat_punched u2 u; }
wait_for 10 either || { nat_log u; nat_log u2; fail "u and u2 did not punch a direct link within 10 s"; }
key=$(nat_key u2)
endpoint=$(nat_ctl u --json peers | json_get "next(p['endpoint'] for p in d['peers'] if p['publicKey']=='$key')")
case "$endpoint" in 10.1.0.3:*) ;; *) fail "u's link to u2 uses $endpoint, not u2's LAN address";; esac
ok "u and u2 behind one NAT linked directly over the LAN ($endpoint)"
path=""; for _ in $(seq 1 25); do path=$(nat_session u u2 path); [ "$path" = direct-punched ] && break; sleep 0.2; done
[ "$path" = direct-punched ] || fail "u's session with u2 runs '$path'"
nat_exec u ping -6 -c3 -W2 "$(nat_addr u2)" >/dev/null || fail "u cannot ping u2 over the direct link"
ok "u's session with u2 runs direct-punched"
