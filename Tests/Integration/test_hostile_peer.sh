#!/usr/bin/env bash
# A hostile neighbour (planethostile flood: a real link handshake, then misbehaviour) linked to
# the hub of a star (a, b and c each linked to the hub only; r below is the hub): 100,000
# genuinely signed capacity records for fresh keys, malformed inner frames of every type,
# retractions and absurd-metric refreshes for other origins, a replayed signed update, 100,000
# genuinely signed fake origins, a session-init flood. After each: r is alive, a reaches b
# through r again (within 10 s), r's memory stays within the bound in Docs/security.md, and r
# counts what it dropped; during the records and the fake origins, pings a -> b keep being
# answered. During each of those two floods an honest newcomer (c, with a fresh key each time)
# joins through another of r's neighbours: r's fair shares (Docs/security.md, "Fair shares")
# must have it in r's capacity directory and reachable from a within 10 s, while the hostile
# neighbour fills only its own share.
source "$(dirname "$0")/lib.sh"
HOSTILE="${PLANETHOSTILE:-$(dirname "$PLANETD")/planethostile}"
[ -x "$HOSTILE" ] || fail "no planethostile at $HOSTILE (swift build -c release --product planethostile)"
tb_up hostile star
# Capacity records: a, b and c announce theirs, and every node holds at most 5,000 (for the
# records flood below). c stays down until it joins as the newcomer.
dir=/tmp/planet-testbed-$TB_NAME
for n in a hub b c; do tb stop $n; done
for n in a hub b c; do
  python3 - "$dir/$n.json" "$n" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["capacity"] = {"enabled": sys.argv[2] != "hub", "location": {"country": "BE"}, "maxRecords": 5000}
json.dump(c, open(sys.argv[1], "w"))
PY
done
for n in a hub b; do tb start $n; done
r_pid=$(cat "$dir/hub.pid")
records() { tb_ctl "$1" --json nodes | json_get "len(d['nodes'])"; }
r_holds_a_and_b() { [ "$(records hub)" -ge 2 ] && r_holds "$(tb_key a)" && r_holds "$(tb_key b)"; }
r_holds() { tb_ctl hub --json nodes | json_get "any(x['publicKey'] == '$1' for x in d['nodes'])" | grep -q True; }
tb_wait_ping a b 30 || fail "a cannot reach b after the restart with capacity records"
wait_for 30 r_holds_a_and_b || fail "r holds $(records hub) records, not a's and b's"

# The newcomer: c with a key nobody has seen, started now; prints the seconds until r holds
# its capacity record (when WAIT_RECORD is 1) and a reaches it, or fails after 10 s.
newcomer_joins() {  # newcomer_joins WHAT
  tb stop c >/dev/null 2>&1 || true
  local key; key=$("$PLANETD" genconf | grep -o '"privateKey": "[0-9a-f]*"' | cut -d'"' -f4)
  python3 - "$dir/c.json" "$key" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["privateKey"] = sys.argv[2]
json.dump(c, open(sys.argv[1], "w"))
PY
  rm -rf "$dir/c-state"
  local t0; t0=$(date +%s.%N)
  tb start c >/dev/null
  local ck; ck=$(tb_key c)
  if [ "${WAIT_RECORD:-1}" = 1 ]; then
    wait_for 10 r_holds "$ck" || fail "the newcomer c's record is not in r's directory 10 s after it started during the $1"
  fi
  local stored="not awaited"
  [ "${WAIT_RECORD:-1}" = 1 ] && stored="$(awk -v s="$t0" -v n="$(date +%s.%N)" 'BEGIN {printf "%.1f", n - s}') s"
  tb_wait_ping a c 10 || { dump_logs hub c; fail "a cannot reach the newcomer c 10 s after it started during the $1"; }
  local reached; reached=$(awk -v s="$t0" -v n="$(date +%s.%N)" 'BEGIN {printf "%.1f", n - s}')
  echo "newcomer c during the $1: record at r after ${stored}, a reached it after ${reached} s (hostile still sending: $(kill -0 "$hostile_pid" 2>/dev/null && echo yes || echo no))"
}
rss() { awk '/VmRSS/{print $2}' "/proc/$r_pid/status"; }
drops() { tb_ctl hub --json stats | json_get "sum(d['drops'].values())"; }
drop_reasons() { tb_ctl hub --json stats | json_get "', '.join('%s %d' % kv for kv in sorted(d['drops'].items()))"; }
rss0=$(rss)

attack_start() {  # attack_start MODE COUNT: starts planethostile from a's namespace against r
  ATTACK_BEFORE=$(drops)
  tb_exec a "$HOSTILE" flood --listen 8471 --peer "[fd7a:1:1::2]:8470" "$1" "$2" > "$TMP/hostile.out" 2>&1 &
  hostile_pid=$!
  PIDS+=($hostile_pid)
}
attack() {  # attack MODE COUNT [SECONDS]: runs planethostile from a's namespace against r, then checks r
  attack_start "$1" "$2"
  attack_finish "$@"
}
attack_finish() {  # attack_finish MODE COUNT [SECONDS]: waits for planethostile, then checks r
  local mode=$1 patience=${3:-10} before=$ATTACK_BEFORE
  wait "$hostile_pid" || fail "planethostile $mode: $(cat "$TMP/hostile.out")"
  kill -0 "$r_pid" || fail "r died under $mode"
  local t0; t0=$(date +%s.%N)
  tb_wait_ping a b "$patience" || { dump_logs hub; fail "a cannot reach b through r within $patience s after $mode"; }
  REACHED=$(awk -v s="$t0" -v n="$(date +%s.%N)" 'BEGIN {printf "%.1f", n - s}')
  local after; after=$(drops)
  echo "$mode: $(cat "$TMP/hostile.out"); a reached b after ${REACHED} s; r RSS $(( $(rss) - rss0 )) KiB over the start; drops +$((after - before))"
  ATTACK_DROPS=$((after - before))
}

# During the floods the honest path a - r - b keeps carrying traffic: a ping every 0.2 s from
# before the flood until 15 s after the hostile is done (r, a and b may still be working off
# their verification backlogs then) loses at most 5% and never goes 3 s without an answer.
# Docs/security.md has the measured figures: before the verification backlog, 42-45% of the
# pings went unanswered during the origin flood and gaps reached 8-11 s; with it, 0-2.7% and
# 0.3-1.3 s on a machine loaded to 4-5 (the bounds are about twice the worst seen, and far
# below what the old behaviour gave).
pings_start() {
  ip netns exec "$TB_NAME-a" ping -6 -i 0.2 -W 1 -D -O "$(tb_addr b)" > "$TMP/flood-ping.txt" 2>&1 &
  ping_pid=$!
  PIDS+=($ping_pid)
  sleep 1
}
pings_check() {  # pings_check WHAT: stops the pings and applies the bound
  sleep 15
  kill "$ping_pid"; sleep 0.5
  local flood_ping
  flood_ping=$(python3 - "$TMP/flood-ping.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
# ping -O says "no answer yet" for each request unanswered when the next one leaves; sent is
# the highest sequence number seen, answered the distinct ones that got a reply.
replies = re.findall(r'^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)', text, re.M)
sent = max([int(n) for n in re.findall(r'icmp_seq=(\d+)', text)], default=0)
got = len({int(n) for _, n in replies})
times = [float(t) for t, _ in replies]
gap = max((b - a for a, b in zip(times, times[1:])), default=99)
print("%d %d %.1f %.2f" % (sent, got, 100.0 * (sent - got) / max(sent, 1), gap))
PY
)
  local sent got loss gap
  read -r sent got loss gap <<< "$flood_ping"
  echo "pings a -> b during the $1: $sent sent, $got answered ($loss% lost), longest gap ${gap} s"
  awk -v l="$loss" 'BEGIN {exit !(l <= 5)}' || fail "a -> b lost $loss% of its pings during the $1"
  awk -v g="$gap" 'BEGIN {exit !(g <= 3)}' || fail "a -> b went ${gap} s without an answer during the $1"
}

# First (so that r's memory is measured from a clean start): 100,000 genuinely signed
# capacity records for fresh keys and 100 re-announcements of one key: r keeps at most
# maxRecords (5,000); once full the flood evicts only its own oldest (capacity-evicted), so
# a's and b's records stay and the newcomer c, joining through another neighbour while the
# flood goes on, is stored; r stays within 2 KiB a record.
rss_records0=$(rss)
pings_start
attack_start records 100000
r_full() { [ "$(records hub)" -ge 4990 ]; }
wait_for 60 r_full || fail "r's directory never filled during the records flood ($(records hub) records)"
newcomer_joins "records flood"
attack_finish records 100000 10
pings_check "records flood"
# The bound (Docs/security.md): 2 KiB per record the directory may hold, 10 MB for 5,000,
# and as much again for the records queued to a and b. Measured before planetctl lists the
# records below: a 5,000-record JSON reply alone leaves r's RSS ~18 MB higher.
rss_records=$(( $(rss) - rss_records0 ))
echo "r's RSS after the records flood: +$rss_records KiB"
[ "$rss_records" -lt 20480 ] || fail "r's RSS grew by $rss_records KiB with a directory of 5,000 records"
held=$(records hub)
echo "r holds $held capacity records; its capacity drops: $(tb_ctl hub --json stats | json_get "', '.join('%s %d' % kv for kv in sorted(d['drops'].items()) if kv[0].startswith('capacity'))")"
[ "$held" -le 5000 ] || fail "r holds $held capacity records, beyond maxRecords 5000"
for n in a b c; do
  r_holds "$(tb_key $n)" || fail "r no longer holds $n's capacity record after the flood"
done
evicted=$(tb_ctl hub --json stats | json_get "d['drops'].get('capacity-evicted', 0)")
limited=$(tb_ctl hub --json stats | json_get "d['drops'].get('capacity-rate-limited', 0)")
[ "$evicted" -gt 50000 ] || fail "only $evicted records counted evicted: the flood did not churn its own share"
[ "$limited" -gt 0 ] || fail "100 re-announcements of one key and none rate limited"

attack malformed 20000
[ "$ATTACK_DROPS" -gt 1000 ] || fail "only $ATTACK_DROPS drops counted for 20,000 malformed frames"

attack replay 2000
attack retract 20000
routes_before=$(tb_ctl hub --json routes | json_get "len(d['routes'])")
# While r, a and b check and pass on 100,000 new origins, the same bound on the pings.
pings_start
attack_start origins 100000
r_flooded() { [ "$(tb_ctl hub --json routes | json_get "len(d['routes'])")" -gt $((routes_before + 5000)) ]; }
wait_for 60 r_flooded || fail "r never saw the fake origins"
WAIT_RECORD=0 newcomer_joins "fake-origin flood"
attack_finish origins 100000 10
pings_check "fake-origin flood"
echo "r's drops by reason after the fake origins: $(drop_reasons)"
# The bound is on what the origins cost r's tables: measured before planetctl lists 100,000
# routes, whose reply is built and encoded in r's memory and leaves its RSS higher (printed).
rss1=$(rss)
routes=$(tb_ctl hub --json routes | json_get "len(d['routes'])")
echo "r holds $routes routes ($routes_before before the fake origins); r's RSS after listing them: +$(( $(rss) - rss0 )) KiB"
[ "$routes" -le 200003 ] || fail "r holds $routes routes, beyond maxOrigins"
# The bound (Docs/security.md): 2 KB per origin the router holds, tables and queued output
# together, so 100,000 fake origins cost r less than 200 MB.
[ $((rss1 - rss0)) -lt 200000 ] || fail "r's RSS grew by $((rss1 - rss0)) KiB with 100,000 fake origins"

attack sessions 5000
limited=$(tb_ctl hub --json stats | json_get "d['drops'].get('session-handshake-rate-limited', 0)")
[ "$limited" -gt 0 ] || fail "5,000 session inits and none rate limited"
echo "r's drops by reason: $(drop_reasons)"
ok "r alive and a reaches b after every attack; RSS +$(( $(rss) - rss0 )) KiB; $routes routes"
