#!/usr/bin/env bash
# a links to r1 and r2, both link to b. Kill the relay in use while a TCP transfer runs: it must complete
# through r2 with the right hash. Reports how long traffic stopped (from a ping running beside it).
source "$(dirname "$0")/lib.sh"
tb_up diamond diamond
b=$(tb_addr b)
tb_wait_ping a b 30 || { dump_logs a r1 r2 b; fail "a cannot reach b"; }

head -c 30000000 /dev/urandom > "$TMP/payload"
want=$(sha256sum "$TMP/payload" | cut -d' ' -f1)
tb_exec b python3 "$(dirname "$0")/tcp_transfer.py" serve 5002 "$TMP/received" > "$TMP/serve.out" &
PIDS+=($!)
sleep 0.5
# A ping every 50 ms shows the gap.
tb_exec a ping -6 -D -i0.05 -W1 "$b" > "$TMP/ping.out" 2>&1 &
PIDS+=($!)
ping_pid=$!
# Pace the sender (5 MB/s, about 6 s in all) so the relay dies mid-transfer.
tb_exec a python3 "$(dirname "$0")/tcp_transfer.py" send "$b" 5002 "$TMP/payload" 5000000 > "$TMP/send.out" &
send_pid=$!
PIDS+=($send_pid)
sleep 1.5
hs_before=$(tb_ctl a --json stats | json_get "d['handshakesCompleted']")
# Kill the relay the traffic actually crosses (routing may have picked either).
kb=$(tb_key b); kr1=$(tb_key r1)
hop=$(tb_ctl a --json routes | json_get "next(x['nextHop'] for x in d['routes'] if x['publicKey']=='$kb')")
victim=r2; [ "$hop" = "$kr1" ] && victim=r1
echo "traffic crosses $victim; stopping it"
tb stop "$victim"
kill -0 "$send_pid" 2>/dev/null || fail "the transfer ended before the relay died; the test would prove nothing"
wait "$send_pid" || fail "transfer failed after $victim died"
wait_for 60 test -s "$TMP/serve.out" || fail "receiver did not finish"
got=$(cut -d' ' -f1 "$TMP/serve.out")
[ "$got" = "$want" ] || fail "SHA-256 differs after failover"
sleep 1
kill "$ping_pid" 2>/dev/null
# Longest gap between consecutive echo replies, in seconds.
gap=$(grep -o '^\[[0-9.]*\].*icmp_seq' "$TMP/ping.out" | tr -d '[]' | awk '{print $1}' | awk 'NR>1{d=$1-p; if(d>m)m=d} {p=$1} END{printf "%.2f", m+0}')
echo "longest interruption: ${gap}s"
awk -v g="$gap" 'BEGIN{exit !(g > 0.3 && g < 30)}' || fail "ping gap ${gap}s: either the relay was not on the path or failover took too long"
hs_after=$(tb_ctl a --json stats | json_get "d['handshakesCompleted']")
[ "$hs_after" = "$hs_before" ] || fail "a ran $((hs_after - hs_before)) new handshakes during failover; the session should have survived the path change"
ok "the end-to-end session survived the reroute (no new handshake: $hs_before before, $hs_after after)"
ok "transfer survived the death of $victim, the relay it crossed; ping replies stopped for at most ${gap}s"
