#!/usr/bin/env bash
# A stub node (routing.stub: true) behind a real hub: a - r - b, a a stub peering only with r.
# a keeps no routing table, yet reaches b (resolving b's origin through r) and is reached by
# it; planetctl self says so; r sends a no table. With capacity on, a holds its own record only,
# which reaches b, and `planetctl nodes` on a is answered by r (Docs/cli.md, "On a stub").
source "$(dirname "$0")/lib.sh"
tb_up stub line3
dir="/tmp/planet-testbed-$TB_NAME"
b=$(tb_addr b); a=$(tb_addr a)

# Restart a as a stub (the testbed writes plain configs), and a and b with capacity records.
tb stop a
tb stop b
python3 - "$dir/a.json" "$dir/b.json" <<'PY'
import json, sys
for p, country in ((sys.argv[1], "BE"), (sys.argv[2], "NL")):
    c = json.load(open(p))
    if p == sys.argv[1]:
        c["routing"] = {"stub": True}
    c["capacity"] = {"enabled": True, "location": {"country": country}}
    json.dump(c, open(p, "w"), indent=2)
PY
tb start b
tb start a
for n in a b; do for _ in $(seq 1 50); do [ -S "$dir/$n.sock" ] && break; sleep 0.1; done; done

wait_for 30 tb_exec a ping -6 -c1 -W1 "$b" || { dump_logs a r b; fail "stub a cannot reach b within 30 s"; }
ok "the stub reaches a third node"
tb_exec b ping -6 -c3 -i0.2 -W2 "$a" >/dev/null || { dump_logs a r b; fail "b cannot reach the stub"; }
ok "the third node reaches the stub"

self=$(tb_ctl a --json self) || fail "planetctl self"
echo "$self" | json_get 'd["routing"]["stub"]' | grep -qx True || fail "self does not say stub: $self"
up=$(echo "$self" | json_get 'd["routing"]["upstream"]')
rkey=$(tb_ctl r --json self | json_get 'd["publicKey"]')
[ "$up" = "$rkey" ] || fail "upstream is $up, expected r ($rkey)"
tb_ctl a self | grep -q "^routing .*stub, upstream" || fail "planetctl self's table does not show the stub"
ok "planetctl self shows stub and upstream"

routes=$(tb_ctl a --json routes | json_get 'len(d["routes"])')
[ "$routes" = 0 ] || fail "the stub holds $routes routes"
ok "the stub holds no routing table"

tb_transfer_checked a b 5000000 5001
ok "5 MB over TCP from the stub, SHA-256 matches"

# Capacity on the stub: its own record only; it reaches b; `nodes` on a is asked of r.
akey=$(tb_ctl a --json self | json_get 'd["publicKey"]'); bkey=$(tb_ctl b --json self | json_get 'd["publicKey"]')
has_record() { tb_ctl "$1" --json nodes 2>/dev/null | json_get '[n["publicKey"] for n in d["nodes"]]' | grep -q "$2"; }
wait_for 30 has_record b "$akey" || { dump_logs a r b; fail "the stub's record did not reach b"; }
ok "the stub's capacity record reaches a third node"
wait_for 30 has_record a "$bkey" || { dump_logs a r b; fail "planetctl nodes on the stub does not list b: $(tb_ctl a nodes 2>&1)"; }
found=$(tb_ctl a --json nodes find --country NL | json_get '[n["publicKey"] for n in d["nodes"]]')
[ "$found" = "['$bkey']" ] || fail "nodes find --country NL on the stub gave $found, expected b"
held=$(tb_ctl a --json stats | json_get 'd["capacityRecords"]')
[ "$held" = 1 ] || fail "the stub holds $held capacity records"
ok "nodes find on the stub is answered by its upstream; the stub holds 1 record"
tb stop r
out=$(tb_ctl a nodes 2>&1) && fail "nodes on the stub answered with its upstream stopped: $out"
echo "$out" | grep -q "upstream did not answer" || fail "nodes with the upstream stopped: $out"
ok "with its upstream stopped: $out"
