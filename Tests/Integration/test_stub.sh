#!/usr/bin/env bash
# A stub node (routing.stub: true) behind a real hub: a - r - b, a a stub peering only with r.
# a keeps no routing table, yet reaches b (resolving b's origin through r) and is reached by
# it; planetctl self says so; r sends a no table.
source "$(dirname "$0")/lib.sh"
tb_up stub line3
dir="/tmp/planet-testbed-$TB_NAME"
b=$(tb_addr b); a=$(tb_addr a)

# Restart a as a stub (the testbed writes plain configs).
tb stop a
python3 - "$dir/a.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["routing"] = {"stub": True}
json.dump(c, open(p, "w"), indent=2)
PY
tb start a
for _ in $(seq 1 50); do [ -S "$dir/a.sock" ] && break; sleep 0.1; done

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
