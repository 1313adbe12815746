#!/usr/bin/env bash
# Issue 14: h1 masquerades with fully-random ports (a new public port per destination, like a
# symmetric NAT). Punching cannot work, so the traffic between u and n keeps flowing through p
# (a hash-checked transfer runs while the first attempt fails), and the attempts back off
# instead of repeating.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nat_lib.sh"
command -v nft >/dev/null || skip "nft (nftables) not installed"
nat_topology random preserve true
wait_for 30 nat_route_to u n || { nat_log u; nat_log p; fail "u has no route to n through p"; }
t0=$(date +%s)
nat_transfer u n "$(nat_addr n)" 3000000 300000 5201
nat_transfer_check 5201
ok "a 3 MB transfer at 300 kB/s during the first punch attempt arrived with the right SHA-256"
# Traffic until ~100 s after the first: every ping must get through p.
lost=0 pings=0
naddr=$(nat_addr n)
until [ "$(awk -v a="$t0" -v b="$(date +%s)" 'BEGIN {print (b - a >= 100)}')" = 1 ]; do
  nat_exec u ping -6 -c1 -W1 "$naddr" >/dev/null || lost=$((lost + 1))
  pings=$((pings + 1))
  sleep 0.5
done
[ "$lost" -le 2 ] || fail "$lost of $pings pings lost while punching failed"
nat_linked u n && fail "u and n linked directly through a fully-random NAT (unexpected: the test's NAT is wrong)"
path=$(nat_session u n path)
[ "$path" = relayed ] || fail "u's session with n runs '$path'"
for x in u n; do
  a=$(nat_stat "$x" "d['punch']['attempts']"); f=$(nat_stat "$x" "d['punch']['failed']"); s=$(nat_stat "$x" "d['punch']['succeeded']")
  [ "$f" -ge 1 ] || fail "$x counts no failed punch (attempts $a)"
  [ "$s" = 0 ] || fail "$x counts a successful punch"
  # Runs at ~0 s and ~48 s (the next waits 20 s · 2^failures after a failed ~8 s run, so the
  # third comes at ~136 s): retried, but backed off; a 1 s check without backoff would have
  # made dozens in these ~100 s.
  [ "$a" -ge 2 ] || fail "$x made $a punch attempts in ~100 s: never retried"
  [ "$a" -le 3 ] || fail "$x made $a punch attempts in ~100 s: no backoff"
  ok "$x: $a punch attempts, $f failed, $s succeeded; traffic stayed on p ($lost of $pings pings lost)"
done
ok "u's public endpoint as p sees it: $(nat_ctl u --json self | json_get "d['publicEndpoints']")"
