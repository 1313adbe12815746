#!/usr/bin/env bash
# 100,000 random datagrams at the listening port leave the daemon alive, linked and within
# bounded memory; the drops are counted.
source "$(dirname "$0")/lib.sh"
tb_up linkjunk pair
tb_wait_ping a b 30 || { dump_logs a b; fail "no link"; }
pid=$(cat /tmp/planet-testbed-$TB_NAME/b.pid)
rss0=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
tb_exec a python3 - <<'PY'
import os, random, socket, struct
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
rnd = random.Random(7)
for i in range(100000):
    n = rnd.choice([1, 2, 13, 29, 30, 100, 160, 1400, rnd.randrange(0, 1500)])
    data = os.urandom(n)
    if i % 3 == 0 and n > 0:      # look like our frame types to get past the first byte check
        data = bytes([rnd.randrange(0, 8)]) + data[1:]
    s.sendto(data, ("fd7a:1:1::2", 8470))
PY
sleep 1
kill -0 "$pid" || fail "planetd died under garbage"
rss1=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
echo "RSS before ${rss0} KiB, after ${rss1} KiB"
[ $((rss1 - rss0)) -lt 30000 ] || fail "RSS grew by $((rss1 - rss0)) KiB"
tb_wait_ping a b 10 || fail "link lost after the flood"
drops=$(tb_ctl b --json stats | json_get "sum(d['drops'].values())")
[ "$drops" -gt 50000 ] || fail "only $drops drops counted for 100k junk datagrams"
ok "alive, linked, RSS +$((rss1 - rss0)) KiB, $drops drops counted"
