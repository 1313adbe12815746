#!/usr/bin/env bash
# Capacity records over a line of seven real nodes: six announce different (configured)
# locations, farms and memory offers; the seventh starts last and must hold all six within
# seconds; `nodes find` answers the question a user asks, ordered by route metric; a node
# whose config changes is seen with its new values after a restart; a stopped node's record
# expires everywhere (the test config uses a 5 s interval and 12 s expiry); a VM attached with
# --memory 2G shows as 2 GiB less free memory, and its detach gives them back; one declaring more
# than is free is refused unless forced.
source "$(dirname "$0")/lib.sh"
mem_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
[ "$mem_kib" -ge $((12 * 1024 * 1024)) ] || skip "needs 12 GiB of memory to offer (the offers are checked against the machine)"

tb_up capdir line7
dir=/tmp/planet-testbed-$TB_NAME
for n in 1 2 3 4 5 6 7; do tb stop n$n; done
rm -rf "$dir"/n*-state

# country, city, farm, memory offered (1 GiB of it reserved), tags; n7 announces nothing.
set_capacity() {  # set_capacity NODE COUNTRY FARM OFFER_MRU TAG
  python3 - "$dir/$1.json" "$2" "$3" "$4" "$5" <<'PY'
import json, sys
path, country, farm, mru, tag = sys.argv[1:]
c = json.load(open(path))
c["capacity"] = {"enabled": True, "farm": {"id": int(farm), "name": "farm-" + farm},
                 "location": {"country": country, "city": "Somewhere"},
                 "offer": {"mru": mru}, "reserved": {"mru": "1G", "cru": 0},
                 "tags": [tag], "announceInterval": 5, "expiry": 12}
json.dump(c, open(path, "w"), indent=2)
PY
}
set_capacity n1 BE 1 12G alpha
set_capacity n2 BE 1 4G beta
set_capacity n3 NL 2 11G gamma
set_capacity n4 BE 2 10G delta
set_capacity n5 DE 3 12G epsilon
set_capacity n6 be 3 9G zeta     # exactly 8 GiB free: "at least" includes it
# A global IPv4 on n1's loopback (no traffic goes to it): only n1 says it has a public IPv4.
tb_exec n1 ip addr add 11.22.33.44/32 dev lo

for n in 1 2 3 4 5 6; do tb start n$n; done
count() { tb_ctl "$1" --json nodes | json_get "len(d['nodes'])"; }
has() { [ "$(count "$1")" = "$2" ]; }
wait_for 30 has n1 6 || { dump_logs n1 n6; fail "n1 holds $(count n1) records, not 6"; }
wait_for 10 has n6 6 || { dump_logs n6; fail "n6 holds $(count n6) records, not 6"; }
ok "six records reached both ends of the line"

# The seventh starts now and must get the whole directory by reconciliation from n6. It dials
# n6 itself (the testbed has n6 dial n7, and n6's redial backoff would be what we measured).
python3 - "$dir/n7.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["peers"] = ["udp://[fd7a:1:6::1]:8470"]; json.dump(c, open(sys.argv[1], "w"))
PY
start=$(date +%s.%N)
tb start n7
wait_for 10 has n7 6 || { dump_logs n7 n6; fail "the late joiner holds $(count n7) records after 10 s"; }
took=$(python3 -c "import time; print(round(time.time() - $start, 1))")
ok "the late joiner n7 held all six records ${took}s after it started"

k() { tb_key "$1"; }
# Belgium, 8 GiB free, by route metric from n7: n6 (1 hop), n4 (3), n1 (6). n2 has too little
# free memory; n3 and n5 are elsewhere.
tb_ctl n7 --json nodes find --country BE --free-mru 8G --sort metric > "$TMP/find.json" || fail "nodes find: $(cat "$TMP/stderr" 2>/dev/null)"
got=$(json_get "' '.join(x['publicKey'] for x in d['nodes'])" < "$TMP/find.json")
[ "$got" = "$(k n6) $(k n4) $(k n1)" ] || fail "find BE 8G from n7: got $(json_get "[(x['address'], x['metric']) for x in d['nodes']]" < "$TMP/find.json")"
json_get "all(a['metric'] < b['metric'] for a, b in zip(d['nodes'], d['nodes'][1:])) and all(x['address'] for x in d['nodes'])" < "$TMP/find.json" | grep -q True \
  || fail "rows not in increasing metric: $(cat "$TMP/find.json")"
ok "nodes find --country BE --free-mru 8G --sort metric from n7: n6, n4, n1 by route metric"
# From the other end the same question has the opposite order.
got=$(tb_ctl n1 --json nodes find --country BE --free-mru 8G | json_get "' '.join(x['publicKey'] for x in d['nodes'])")
[ "$got" = "$(k n1) $(k n4) $(k n6)" ] || fail "find from n1 is not nearest first: $got"
# The done-when question: Belgium, 8 GB free, public IPv4, nearest first — one command.
got=$(tb_ctl n4 --json nodes find --country BE --free-mru 8G --ipv4 | json_get "' '.join(x['publicKey'] for x in d['nodes'])")
[ "$got" = "$(k n1)" ] || fail "find BE 8G --ipv4 from n4: $got"
tb_ctl n4 nodes find --country BE --free-mru 8G --ipv4 > "$TMP/table.txt" || fail "nodes find table"
grep -q "^$(tb_addr n1) " "$TMP/table.txt" || fail "the table row does not lead with n1's address: $(cat "$TMP/table.txt")"
got=$(tb_ctl n7 --json nodes find --farm 2,3 --tag zeta | json_get "' '.join(x['publicKey'] for x in d['nodes'])")
[ "$got" = "$(k n6)" ] || fail "find --farm 2,3 --tag zeta: $got"
tb_ctl n7 nodes show "$(tb_addr n3)" > "$TMP/show.txt" || fail "nodes show by address"
grep -q "location *Somewhere, NL" "$TMP/show.txt" || fail "nodes show: $(cat "$TMP/show.txt")"
expect_exit 2 "$PLANETCTL" --socket "$dir/n7.sock" nodes find --free-mru lots
grep -q -- "--free-mru" "$TMP/stderr" || fail "a bad size does not name the option: $(cat "$TMP/stderr")"
ok "filters, nodes show, and a bad filter (exit 2, names --free-mru)"

# n4's operator lowers its offer to 6G (5 GiB free); after a restart everyone sees it, and n4
# itself starts with the directory it saved.
tb stop n4
python3 - "$dir/n4.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["capacity"]["offer"]["mru"] = "6G"; json.dump(c, open(sys.argv[1], "w"))
PY
tb start n4
# It did not start empty: the directory it saved at shutdown came back (records=6).
wait_for 5 grep -q 'capacity directory restored.*records=6' "$dir/n4.log" || fail "n4 did not restore its directory: $(grep capacity "$dir/n4.log")"
free_n4() { tb_ctl n7 --json nodes show "$(k n4)" | json_get "d['free']['mru']"; }
n4_changed() { [ "$(free_n4)" = $((5 * 1024 * 1024 * 1024)) ]; }
wait_for 20 n4_changed || fail "n7 still sees n4 with $(free_n4) bytes free"
got=$(tb_ctl n7 --json nodes find --country BE --free-mru 8G | json_get "' '.join(x['publicKey'] for x in d['nodes'])")
[ "$got" = "$(k n6) $(k n1)" ] || fail "after n4's change find BE 8G gives $got"
ok "n4's new offer is seen after its restart, and n4 restarted with its saved directory"

# What a VM declares is used capacity: a container attached on n5 with --memory 2G takes 2 GiB
# off n5's free memory as n7 sees it (after the 5 s debounce), and detaching it gives them back.
vm="$TB_NAME-vm"
ip netns add "$vm"; NAMESPACES+=("$vm")
free_n5() { tb_ctl n7 --json nodes show "$(k n5)" | json_get "d['free']['mru']"; }
n5_free_is() { [ "$(free_n5)" = "$1" ]; }
gib=$((1024 * 1024 * 1024))
n5_free_is $((11 * gib)) || fail "n5 (12G offered, 1G reserved) shows $(free_n5) bytes free before any VM"
expect_exit 0 tb_ctl n5 vm attach capvm --netns "$vm" --memory 2G
wait_for 20 n5_free_is $((9 * gib)) || fail "after attaching a 2G VM on n5, n7 sees $(free_n5) bytes free"
expect_exit 0 tb_ctl n5 vm detach capvm
wait_for 20 n5_free_is $((11 * gib)) || fail "after detaching the VM, n7 sees $(free_n5) bytes free on n5"
ok "a VM attached with --memory 2G lowers n5's announced free memory by 2 GiB; detaching restores it"

# More than is free is refused naming the resource (exit 2, nothing attached); --force attaches
# it with a warning on stderr.
expect_exit 2 tb_ctl n5 vm attach capbig --netns "$vm" --memory 12G
grep -q "^planetctl: memory: the VM declares 12G but this node has 11G free; --force attaches it anyway$" "$TMP/stderr" \
  || fail "over-declaring VM: $(cat "$TMP/stderr")"
[ "$(tb_ctl n5 --json vm list | json_get "len(d['vms'])")" = 0 ] || fail "the refused VM was attached: $(tb_ctl n5 vm list)"
expect_exit 0 tb_ctl n5 vm attach capbig --netns "$vm" --memory 12G --force
grep -q "^planetctl: warning: memory: the VM declares 12G but this node has 11G free$" "$TMP/stderr" || fail "no warning: $(cat "$TMP/stderr")"
expect_exit 0 tb_ctl n5 vm detach capbig
ok "a VM declaring more memory than n5 has free is refused (exit 2) unless --force, which warns"

# A stopped node's record expires everywhere (12 s after its last announcement).
tb stop n1
gone() { ! tb_ctl n7 --json nodes | json_get "[x['publicKey'] for x in d['nodes']]" | grep -q "$(k n1)"; }
wait_for 25 gone || fail "n1's record is still held by n7 25 s after n1 stopped"
wait_for 5 has n6 5 || fail "n6 holds $(count n6) records"
ok "the stopped node's record expired"

# Nobody refused anything: the honest mesh produces no rejections. Counters are in stats.
tb_ctl n7 --json stats | json_get "[k for k in d['drops'] if k.startswith('capacity-')]" | grep -q '^\[\]$' \
  || fail "rejections in an honest mesh: $(tb_ctl n7 --json stats)"
tb_exec n7 curl -s "http://[::1]:9464/metrics" 2>/dev/null | grep -q "^planetary_capacity_records 5$" || \
  tb_exec n7 python3 -c "import urllib.request; print(urllib.request.urlopen('http://[::1]:9464/metrics').read().decode())" | grep -q "^planetary_capacity_records 5$" \
  || fail "/metrics does not export the directory's size"
ok "/metrics exports planetary_capacity_records"
