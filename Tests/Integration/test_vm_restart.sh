#!/usr/bin/env bash
# A restart never opens a hole. Node b hosts a container c1 (`vm attach --netns`, policy: only
# b's own key may reach it) and a tap VM t1 (`vm attach --tap`, a minimal guest on the tap:
# tap_guest.py). After planetd on b stops with SIGTERM, and again after SIGKILL, and after the
# host's `nft flush ruleset` behind planetd's back: both VMs are up, reachable (a pings t1, c1
# reaches a), c1's policy still refuses a, and a datagram either VM sends from another address
# of b's /64 is counted as spoofed and never reaches a, while one from its own address does.
# (The container sorts first: before the fix, its failed re-apply took the shared filter table
# with it, and both VMs forwarded unfiltered.)
source "$(dirname "$0")/lib.sh"
dir=$(dirname "$0")
tb_up vmrst pair
tb_wait_ping a b 30 || { dump_logs a b; fail "a cannot reach b"; }
c1="$TB_NAME-c1"
ip netns add "$c1"; NAMESPACES+=("$c1")
subnet=$("$PLANETD" subnet --config "/tmp/planet-testbed-$TB_NAME/b.json")
prefix=${subnet%::/64}
key_b=$(tb_ctl b --json self | json_get "d['publicKey']")
pidfile="/tmp/planet-testbed-$TB_NAME/b.pid"

expect_exit 0 tb_ctl b vm attach c1 --netns "$c1" --allow "key:$key_b"
expect_exit 0 tb_ctl b vm attach t1 --tap vmrt0
addr1=$(tb_ctl b --json vm show c1 | json_get "d['address']")
addrt=$(tb_ctl b --json vm show t1 | json_get "d['address']")
mact=$(tb_ctl b --json vm show t1 | json_get "d['mac']")
mkfifo "$TMP/guest.cmd"
tb_exec b python3 "$dir/tap_guest.py" vmrt0 "$addrt" "$mact" "$TMP/guest.cmd" > "$TMP/guest.out" 2>&1 & PIDS+=($!)
wait_for 10 grep -q ready "$TMP/guest.out" || fail "the tap guest did not attach: $(cat "$TMP/guest.out")"
# A second address for each VM to spoof from: inside b's /64, not the VM's.
spoof1="$prefix::5f:1"; spooft="$prefix::5f:2"
ip -n "$c1" -6 addr add "$spoof1/128" dev planet0 nodad
peer=$(tb_addr a)

# listen SECONDS FILE: records on a what arrives at UDP 9999, a line "SOURCE TEXT" each.
listener=""
listen() {
  # One listener at a time: two sockets on one port would share what arrives.
  [ -n "$listener" ] && wait "$listener" 2>/dev/null
  tb_exec a python3 -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('::', 9999)); s.settimeout($1)
with open('$2', 'w') as f:
    try:
        while True:
            data, src = s.recvfrom(100); f.write(src[0] + ' ' + data.decode() + '\n'); f.flush()
    except socket.timeout: pass
" & PIDS+=($!)
  listener=$!
  sleep 0.5
}
c1_send() { ip netns exec "$c1" python3 -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(('$1', 0))
for _ in range(3): s.sendto(b'$2', ('$peer', 9999))"; }
t1_send() { echo "udp $1 $peer 9999 $2 3" > "$TMP/guest.cmd"; }
spoofed() { tb_ctl b --json vm show "$1" | json_get "int(d['spoofedPackets'])"; }
states() { tb_ctl b --json vm list 2>/dev/null | json_get "' '.join(v['state'] for v in d['vms'])" 2>/dev/null; }
all_up() { [ "$(states)" = "up up" ]; }
# repaired N [VM]: every VM (or VM) has been repaired at least N times.
repaired() { [ "$(tb_ctl b --json vm list | json_get "min(int(v['repairs']) for v in d['vms'] if '${2:-}' in ('', v['name']))")" -ge "$1" ]; }

# check WHEN: everything this test promises, after WHEN.
check() {
  local when=$1 got="$TMP/udp-${1// /-}"
  wait_for 20 all_up || { dump_logs b; fail "after $when the VMs are not up: $(tb_ctl b vm list)"; }
  wait_for 45 tb_exec a ping -6 -c1 -W1 "$addrt" || { dump_logs b; cat "$TMP/guest.out"; fail "after $when a cannot ping t1 at $addrt"; }
  wait_for 20 ip netns exec "$c1" ping -6 -c1 -W1 -I "$addr1" "$peer" || { dump_logs b; fail "after $when c1 cannot reach a"; }
  tb_exec a ping -6 -c1 -W2 "$addr1" > "$TMP/ping-a" 2>&1 && fail "after $when a reached c1 past its key:b policy"
  grep -qi prohibited "$TMP/ping-a" || fail "after $when a was not told 'administratively prohibited': $(cat "$TMP/ping-a")"
  local before1 beforet; before1=$(spoofed c1); beforet=$(spoofed t1)
  listen 6 "$got"
  c1_send "$spoof1" c1-spoofed; t1_send "$spooft" t1-spoofed
  arrived() { "$1"_send "$2" "$1"-genuine; sleep 0.2; grep -q "$1"-genuine "$got"; }
  wait_for 10 arrived c1 "$addr1" || fail "after $when c1's genuine datagram did not reach a (the check proves nothing)"
  wait_for 10 arrived t1 "$addrt" || fail "after $when t1's genuine datagram did not reach a (the check proves nothing)"
  sleep 1
  grep -q spoofed "$got" && fail "after $when a spoofed datagram reached a: $(cat "$got")"
  local d1 dt; d1=$(( $(spoofed c1) - before1 )); dt=$(( $(spoofed t1) - beforet ))
  [ "$d1" -ge 3 ] && [ "$dt" -ge 3 ] || fail "after $when b counted $d1 spoofed datagrams from c1 and $dt from t1, expected 3 each"
  ok "after $when: c1 and t1 up, a pings t1, c1 reaches a, a refused by c1's policy, spoofed datagrams counted (c1 $d1, t1 $dt) and never delivered"
}

check "attach"
if1=$(tb_ctl b --json vm show c1 | json_get "d['interface']")
for signal in TERM KILL; do
  pid=$(cat "$pidfile")
  kill -"$signal" "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "planetd on b did not stop on SIG$signal"
  # While planetd is down the VMs' interfaces and filters stay; nothing spoofed passes.
  tb_exec b ip link show dev "$if1" > /dev/null || fail "c1's interface went with planetd (SIG$signal)"
  tb start b
  # (after SIGKILL the old socket file is still there: wait for an answer, not the file)
  wait_for 20 tb_ctl b self || fail "b did not come back after SIG$signal"
  grep -q "vm not re-applied" "/tmp/planet-testbed-$TB_NAME/b.log" && { dump_logs b; fail "after SIG$signal a lease was not re-applied"; }
  check "a restart after SIG$signal"
done

# Behind planetd's back: the host's whole ruleset flushed. Until the watch notices (every 5 s),
# the routing rules alone keep spoofed datagrams from being forwarded (nothing counts them then);
# then the watch makes the filters again (both VMs repaired, counted in vm show).
listen 4 "$TMP/udp-flushed"
tb_exec b nft flush ruleset
c1_send "$spoof1" c1-spoofed-unfiltered
before_repair=$(tb_ctl b --json vm show c1 | json_get "int(d['repairs'])")
# (a repair cuts the interface off for a moment: the control is sent until it arrives)
genuine_arrived() { c1_send "$addr1" c1-genuine-unfiltered; grep -q c1-genuine-unfiltered "$TMP/udp-flushed"; }
wait_for 10 genuine_arrived || fail "c1's genuine datagram did not reach a after the flush"
sleep 1
grep -q spoofed "$TMP/udp-flushed" && fail "with the ruleset flushed a spoofed datagram reached a: $(cat "$TMP/udp-flushed")"
[ "$before_repair" -eq 0 ] && ok "ruleset flushed, not yet repaired: the routing rules alone stopped c1's spoofed datagrams"
wait_for 20 repaired 1 || {
  dump_logs b; fail "the flushed ruleset was not repaired: $(tb_ctl b --json vm list)"; }
tb_exec b nft list table inet planetary > /dev/null || fail "the filter table is not back"
grep -q "lost behind planetd's back" "/tmp/planet-testbed-$TB_NAME/b.log" || fail "the repair was not logged"
check "nft flush ruleset"

# And the policy rules: deleted by hand, made again.
repairs_before=$(tb_ctl b --json vm show c1 | json_get "int(d['repairs'])")
tb_exec b ip -6 rule del iif "$if1" pref 1001
tb_exec b ip -6 rule del iif "$if1" pref 1000
wait_for 20 repaired $((repairs_before + 1)) c1 || fail "c1's deleted rules were not repaired"
# (the watch may have run between the two deletions and repaired only the first: the next one,
# 5 s later, repairs the second, and a repair in progress briefly swaps the rules; so wait for
# both rules to be in force together rather than read them once)
rules_back() { local r; r=$(tb_exec b ip -6 rule show); grep -q "iif $if1 prohibit" <<<"$r" && grep -q "iif $if1 lookup 8471" <<<"$r"; }
wait_for 15 rules_back || fail "c1's source rules are not back: $(tb_exec b ip -6 rule show)"
check "ip rule del"

# A lease file planetd cannot read: vm list says so and fails, instead of "(no VMs)".
tb stop b
state="/tmp/planet-testbed-$TB_NAME/b-state"
cp "$state/vms.json" "$TMP/vms.json"
echo '{"vms": [{"name": 1}]}' > "$state/vms.json"
tb start b
wait_for 10 test -S "/tmp/planet-testbed-$TB_NAME/b.sock" || fail "b did not come back"
expect_exit 1 tb_ctl b vm list
grep -q "lease file" "$TMP/stderr" || fail "vm list did not say why: $(cat "$TMP/stderr")"
grep -q "no VMs" "$TMP/stdout" && fail "vm list said (no VMs) over an unreadable lease file"
ok "vm list over an unreadable lease file: exit 1, '$(head -c 100 "$TMP/stderr")'"
