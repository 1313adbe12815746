#!/usr/bin/env bash
# A VM on planetd reached from a real Yggdrasil 0.5 network (issue #23), against yggdrasil 0.5.12:
#
#   Y (yggdrasil) ── tcp ── N (planetd) ── veth ── V (a netns "container" VM of N's)
#
# Y dials N's tcp:// listen. Checked: Y pings V's address (in N's /64, 300::/8) and moves a
# SHA-256-checked file to a server in V; `vm policy V --allow key:OTHER` refuses Y (Y's ping
# fails, is told "administratively prohibited", nothing reaches V, N counts vm-policy-refused);
# `--allow key:Y` lets Y in again. Yggdrasil's protocol messages: Y's yggdrasilctl getNodeInfo
# shows our nodeinfo (buildname planetary and the config's yggdrasil.nodeInfo), and
# debug_remoteGetSelf/GetPeers/GetTree answer with our key and Y's. Our admin views: peers
# (Y, yggdrasil-tcp, up), sessions (Y), stats (ygg counters); Y's getPeers and getPaths list us.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
source Tools/lib/common.sh
need_yggdrasil_05 >/dev/null 2>&1 || skip "yggdrasil 0.5.12 unavailable (need_yggdrasil_05 failed)"
[ -x "$PLANETD" ] || fail "planetd not built at $PLANETD"
[ -x "$PLANETCTL" ] || fail "planetctl not built at $PLANETCTL"

TAG=yv$$
Y=$TAG-y; N=$TAG-n; V=$TAG-v
make_ns "$Y" "$N" "$V"
ip link add "$TAG-a" netns "$Y" type veth peer name "$TAG-b" netns "$N" || fail "veth Y-N"
ip -n "$Y" addr add fd00:7b::1/64 dev "$TAG-a" nodad
ip -n "$N" addr add fd00:7b::2/64 dev "$TAG-b" nodad
ip -n "$Y" link set "$TAG-a" up; ip -n "$N" link set "$TAG-b" up
PORT=14710

yctl() { "$YGGDRASILCTL05" -endpoint "unix://$TMP/y.sock" -json "$@"; }
"$YGGDRASIL05" -genconf -json | python3 -c '
import json, sys
c = json.load(sys.stdin)
c.update(Listen=[], Peers=[sys.argv[1]], AdminListen="unix://" + sys.argv[2], MulticastInterfaces=[], IfName="ygg0")
json.dump(c, sys.stdout, indent=2)' "tcp://[fd00:7b::2]:$PORT" "$TMP/y.sock" > "$TMP/y.json"

"$PLANETD" genconf > "$TMP/n-gen.json" || fail "genconf"
python3 - "$TMP/n-gen.json" "$TMP" "$PORT" > "$TMP/n.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
t, port = sys.argv[2], sys.argv[3]
c.update(stateDir=t + "/n-state", tun={"name": "planetv0"}, multicast=[], adminSocket=t + "/n.sock",
         listen=["udp://[::]:8470", "tcp://[fd00:7b::2]:" + port], peers=[],
         yggdrasil={"nodeInfo": {"name": "vm-host-7", "rack": 3}})
json.dump(c, sys.stdout, indent=2)
PY
ip netns exec "$N" "$PLANETD" run --config "$TMP/n.json" > "$TMP/n.log" 2>&1 & PIDS+=($!)
wait_for 10 "$PLANETCTL" --socket "$TMP/n.sock" self || fail "planetd did not start: $(tail -20 "$TMP/n.log")"
ip netns exec "$Y" "$YGGDRASIL05" -useconffile "$TMP/y.json" > "$TMP/y.log" 2>&1 & PIDS+=($!)
wait_for 10 test -S "$TMP/y.sock" || fail "yggdrasil did not start: $(cat "$TMP/y.log")"

nctl() { "$PLANETCTL" --socket "$TMP/n.sock" "$@"; }
diag() { echo "--- planetd log"; tail -40 "$TMP/n.log"; echo "--- yggdrasil log"; tail -20 "$TMP/y.log"; }
N_KEY=$(nctl --json self | json_get 'd["publicKey"]')
Y_KEY=$(yctl getSelf | json_get 'd["key"]')
OTHER_KEY=$(python3 -c 'import os; print(os.urandom(32).hex())')

wait_for 20 sh -c "'$YGGDRASILCTL05' -endpoint 'unix://$TMP/y.sock' -json getPeers | grep -q '$N_KEY'" || { diag; fail "Y never linked to planetd"; }

expect_exit 0 nctl vm attach v1 --netns "$V"
VADDR=$(nctl --json vm show v1 | json_get "d['address']")
case "$VADDR" in 3*) ;; *) fail "the VM's address $VADDR is not in 300::/8";; esac
ok "Y linked to planetd ($N_KEY); VM v1 attached at $VADDR"

# 1. Y reaches the VM: ping, then a hash-checked TCP transfer.
wait_for 20 ip netns exec "$Y" ping -6 -c1 -W2 "$VADDR" || { diag; fail "Y cannot ping the VM at $VADDR"; }
head -c 5000000 /dev/urandom > "$TMP/payload"
want=$(sha256sum "$TMP/payload" | cut -d' ' -f1)
ip netns exec "$V" python3 Tests/Integration/tcp_transfer.py serve 5001 "$TMP/received" > "$TMP/serve.out" & PIDS+=($!)
sleep 0.5
ip netns exec "$Y" python3 Tests/Integration/tcp_transfer.py send "$VADDR" 5001 "$TMP/payload" > /dev/null || { diag; fail "Y could not send to the VM"; }
wait_for 30 test -s "$TMP/serve.out" || { diag; fail "the server in the VM did not finish"; }
[ "$(cut -d' ' -f1 "$TMP/serve.out")" = "$want" ] || fail "the file the VM received differs from what Y sent"
ok "Y pings the VM and moves a SHA-256-checked 5 MB file to it over Yggdrasil"

# 2. The VM's inbound policy applies to Yggdrasil senders, by the Yggdrasil key.
refused() { nctl --json stats | json_get "d['drops'].get('vm-policy-refused', 0)"; }
before=$(refused)
expect_exit 0 nctl vm policy v1 --allow "key:$OTHER_KEY"
ip netns exec "$V" python3 -c "
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6); s.settimeout(6)
n = 0
end = time.time() + 6
try:
    while time.time() < end:
        data, src = s.recvfrom(2000)
        if data and data[0] == 128: n += 1
except socket.timeout: pass
open('$TMP/v-echo.count', 'w').write(str(n))
" & PIDS+=($!)
sleep 0.5
ip netns exec "$Y" ping -6 -c2 -W2 "$VADDR" > "$TMP/ping-refused" 2>&1 && { diag; fail "Y pinged the VM through a policy that names another key"; }
grep -qi "prohibited" "$TMP/ping-refused" || fail "Y's ping was not told 'administratively prohibited': $(cat "$TMP/ping-refused")"
wait_for 10 test -s "$TMP/v-echo.count" || fail "the VM's listener did not finish"
[ "$(cat "$TMP/v-echo.count")" = 0 ] || fail "$(cat "$TMP/v-echo.count") echo requests reached the VM past its policy"
after=$(refused)
[ "$after" -gt "$before" ] || fail "planetd did not count vm-policy-refused ($before, then $after)"
ok "--allow key:<other>: Y's ping is 'administratively prohibited', nothing reaches the VM, vm-policy-refused $before -> $after"

expect_exit 0 nctl vm policy v1 --allow "key:$Y_KEY"
ip netns exec "$Y" ping -6 -c1 -W2 "$VADDR" > /dev/null || { diag; fail "Y cannot ping the VM under --allow key:<Y>"; }
ok "--allow key:<Y>: Y reaches the VM again"

# 3. Yggdrasil's protocol messages, asked by the real node's yggdrasilctl.
yctl getNodeInfo key="$N_KEY" > "$TMP/nodeinfo.json" || fail "getNodeInfo failed: $(cat "$TMP/nodeinfo.json")"
python3 - "$TMP/nodeinfo.json" "$N_KEY" <<'PY' || fail "getNodeInfo: $(cat "$TMP/nodeinfo.json")"
import json, sys
d = json.load(open(sys.argv[1]))[sys.argv[2]]
assert d["buildname"] == "planetary" and d["buildversion"] and d["buildplatform"] == "linux", d
assert d["name"] == "vm-host-7" and d["rack"] == 3, d
PY
ok "yggdrasilctl getNodeInfo: $(tr -d '\n ' < "$TMP/nodeinfo.json")"
yctl debug_remoteGetSelf key="$N_KEY" > "$TMP/rself.json" || fail "debug_remoteGetSelf: $(cat "$TMP/rself.json")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=list(d.values())[0]; assert v["key"]==sys.argv[2] and int(v["routing_entries"])>=2, d' \
  "$TMP/rself.json" "$N_KEY" || fail "debug_remoteGetSelf: $(cat "$TMP/rself.json")"
for call in debug_remoteGetPeers debug_remoteGetTree; do
  yctl "$call" key="$N_KEY" > "$TMP/$call.json" || fail "$call: $(cat "$TMP/$call.json")"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=list(d.values())[0]; assert sys.argv[2] in v["keys"], d' \
    "$TMP/$call.json" "$Y_KEY" || fail "$call does not list Y: $(cat "$TMP/$call.json")"
done
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=list(d.values())[0]; assert sys.argv[2] in v["keys"], d' \
  "$TMP/debug_remoteGetTree.json" "$N_KEY" || fail "debug_remoteGetTree does not list us: $(cat "$TMP/debug_remoteGetTree.json")"
ok "debug_remoteGetSelf/GetPeers/GetTree answered (our key, Y among our peers, both in our tree)"

# 4. Our admin views and the real node's.
nctl --json peers | python3 -c 'import json,sys; p=json.load(sys.stdin)["peers"]; sys.exit(0 if any(x.get("publicKey")==sys.argv[1] and x.get("cipher")=="yggdrasil-tcp" and x.get("state")=="up" for x in p) else 1)' "$Y_KEY" \
  || fail "planetctl peers does not list Y as yggdrasil-tcp, up: $(nctl peers)"
nctl --json sessions | python3 -c 'import json,sys; s=json.load(sys.stdin)["sessions"]; sys.exit(0 if any(x.get("publicKey")==sys.argv[1] for x in s) else 1)' "$Y_KEY" \
  || fail "planetctl sessions does not list Y: $(nctl sessions)"
nctl --json stats > "$TMP/stats.json"
python3 - "$TMP/stats.json" <<'PY' || fail "planetctl stats lacks the Yggdrasil counters: $(cat "$TMP/stats.json")"
import json, sys
d = json.load(open(sys.argv[1]))
y = d["yggdrasil"]
assert y.get("protocol-nodeinfo", 0) >= 1 and y.get("protocol-get-self", 0) >= 1 and y.get("protocol-get-peers", 0) >= 1 and y.get("protocol-get-tree", 0) >= 1, y
assert d["drops"].get("vm-policy-refused", 0) >= 1, d["drops"]
PY
nctl stats | grep -q "yggdrasil protocol-nodeinfo" || fail "planetctl stats (text) does not show the Yggdrasil counters: $(nctl stats)"
yctl getPeers | python3 -c 'import json,sys; p=json.load(sys.stdin)["peers"]; sys.exit(0 if any(x.get("up") and x.get("key")==sys.argv[1] for x in p) else 1)' "$N_KEY" \
  || fail "Y's getPeers does not list us as up"
yctl getPaths | python3 -c 'import json,sys; p=json.load(sys.stdin)["paths"]; sys.exit(0 if any(x.get("key")==sys.argv[1] for x in p) else 1)' "$N_KEY" \
  || fail "Y's getPaths does not list us: $(yctl getPaths)"
ok "planetctl peers (Y: yggdrasil-tcp, up), sessions (Y), stats (yggdrasil protocol-*, vm-policy-refused); Y's getPeers and getPaths list us"

expect_exit 0 nctl vm detach v1

# 5. Our place in the Yggdrasil tree and our paths, as planetctl self/routes and /metrics
#    show them, against what the real node says: the root is getTree's entry that is its own
#    parent; our coordinates are the path Y's getPaths holds for us; after traffic, routes
#    lists a path to Y (protocol yggdrasil) with Y's address.
Y_ADDR=$(yctl getSelf | json_get 'd["address"]')
ip netns exec "$Y" ping -6 -c2 -W2 "$(nctl --json self | json_get 'd["address"]')" > /dev/null || { diag; fail "Y cannot ping planetd's own address"; }
yctl getTree > "$TMP/y-tree.json"
yctl getPaths > "$TMP/y-paths.json"
yctl getPeers > "$TMP/y-peers.json"
nctl --json self > "$TMP/self.json"
python3 - "$TMP/self.json" "$TMP/y-tree.json" "$TMP/y-paths.json" "$TMP/y-peers.json" "$N_KEY" "$Y_KEY" <<'PY' || { diag; fail "planetctl self's yggdrasil part disagrees with Y: $(cat "$TMP/self.json") / $(cat "$TMP/y-tree.json")"; }
import json, sys
me, tree, paths, peers = (json.load(open(f)) for f in sys.argv[1:5])
n_key, y_key = sys.argv[5], sys.argv[6]
y = me["yggdrasil"]
roots = [e["key"] for e in tree["tree"] if e["key"] == e["parent"]]
assert roots == [y["root"]], ("root", roots, y)
assert y["isRoot"] == (y["root"] == n_key), y
assert y["root"] in (n_key, y_key), y
assert y["parent"] == (n_key if y["isRoot"] else y_key), y
# Y's tree table names the same parent for us, and holds as many entries as ours.
assert [e["parent"] for e in tree["tree"] if e["key"] == n_key] == [y["parent"]], tree
assert y["treeEntries"] == len(tree["tree"]), (y, tree)
# Below Y (the root), our coordinates are the one port Y gave our link.
if not y["isRoot"]:
    assert y["coords"] == [p["port"] for p in peers["peers"] if p["key"] == n_key], (y, peers)
ours = [p["path"] for p in paths["paths"] if p["key"] == n_key]
assert ours == [y["coords"]], ("Y's path to us", ours, "our coords", y["coords"])
assert y["peers"] == 1 and y["treeEntries"] == 2 and y["sessions"] >= 1, y
PY
ROOT=$(json_get 'd["yggdrasil"]["root"]' < "$TMP/self.json")
nctl self | grep -q "^yggdrasil root *$ROOT" || fail "planetctl self (text) does not show the root: $(nctl self)"
ok "planetctl self: yggdrasil root ${ROOT:0:16}… = Y's getTree root, coords $(json_get 'd["yggdrasil"]["coords"]' < "$TMP/self.json") = Y's getPaths path to us"

wait_for 10 sh -c "'$PLANETCTL' --socket '$TMP/n.sock' --json routes | grep -q '\"yggdrasil\"'" || { diag; fail "planetctl routes lists no yggdrasil path: $(nctl routes)"; }
nctl --json routes | python3 -c '
import json, sys
r = [x for x in json.load(sys.stdin)["routes"] if x.get("protocol") == "yggdrasil" and x["publicKey"] == sys.argv[1]]
assert len(r) == 1 and r[0]["address"] == sys.argv[2] and r[0]["nextHop"] == sys.argv[1] and not r[0]["broken"], r
assert r[0]["metric"] == 1 and isinstance(r[0]["path"], list) and r[0]["expiresInSeconds"] > 0, r
# Y at the root has the empty path; below us, one port.
assert len(r[0]["path"]) == (0 if sys.argv[3] == "False" else 1), r
' "$Y_KEY" "$Y_ADDR" "$(json_get 'd["yggdrasil"]["isRoot"]' < "$TMP/self.json")" || { diag; fail "planetctl routes has no good yggdrasil path to Y: $(nctl --json routes)"; }
nctl routes | grep -q "yggdrasil" || fail "planetctl routes (text) shows no yggdrasil row: $(nctl routes)"
ok "planetctl routes: a yggdrasil path to Y ($Y_ADDR), next hop Y, 1 hop"
nctl --json stats | python3 -c '
import json, sys
g = json.load(sys.stdin)["yggdrasilGauges"]
assert g["peers"] == 1 and g["treeEntries"] == 2 and g["paths"] >= 1 and g["sessions"] >= 1 and g["isRoot"] == (sys.argv[1] == "True"), g
' "$(json_get 'd["yggdrasil"]["isRoot"]' < "$TMP/self.json")" || fail "planetctl stats: yggdrasilGauges wrong: $(nctl --json stats)"
ok "planetctl stats: yggdrasilGauges (the numbers /metrics exports as planetary_yggdrasil_*)"
