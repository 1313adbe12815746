#!/usr/bin/env bash
# a links to r1 and r2, both link to b. Kill r1 while a TCP transfer runs: it must complete
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
# Slow the sender down so r1 dies mid-transfer: send in the background, kill r1 after 1 s.
tb_exec a python3 "$(dirname "$0")/tcp_transfer.py" send "$b" 5002 "$TMP/payload" > "$TMP/send.out" &
send_pid=$!
PIDS+=($send_pid)
sleep 1
tb stop r1
wait "$send_pid" || fail "transfer failed after r1 died"
wait_for 60 test -s "$TMP/serve.out" || fail "receiver did not finish"
got=$(cut -d' ' -f1 "$TMP/serve.out")
[ "$got" = "$want" ] || fail "SHA-256 differs after failover"
sleep 1
kill "$ping_pid" 2>/dev/null
# Longest gap between consecutive echo replies, in seconds.
gap=$(grep -o '^\[[0-9.]*\].*icmp_seq' "$TMP/ping.out" | tr -d '[]' | awk '{print $1}' | awk 'NR>1{d=$1-p; if(d>m)m=d} {p=$1} END{printf "%.2f", m+0}')
echo "longest interruption: ${gap}s"
ok "transfer survived r1's death; traffic stopped for at most ${gap}s"
