#!/usr/bin/env bash
# Our Yggdrasil 0.5 link layer (YggdrasilTransport + YggdrasilLink, driven by planetyggpeer, which
# answers SigReqs) against a real yggdrasil 0.5.12, over tcp:// and tls://, in both directions:
#   - P (ours) dials Y's tcp, tls and password-protected tcp listeners with ?key= pinned to Y;
#     Y dials P's tcp and tls listeners with ?key= pinned to P: Y's getPeers lists P's key up on
#     all five links, with a latency (Y measured it from our SigRes, whose signature it checks and
#     would close the link over) and an uptime over 10 s (keepalives and read deadlines agree);
#   - Y dials P's password listener with the wrong password: P refuses it (password-mismatch) and
#     Y lists that peer down; Y dials P with a wrong ?key= pin: Y refuses it (down, pinned keys);
#   - Q (ours, another key) dials Y with the wrong password and with a wrong ?key= pin: Q counts
#     password-mismatch and key-pin-mismatch, and Y never lists Q up.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
source Tools/lib/common.sh
need_yggdrasil_05 >/dev/null 2>&1 || skip "yggdrasil 0.5.12 unavailable (need_yggdrasil_05 failed)"
PEER="${PLANETYGGPEER:-$(dirname "${PLANETD:-.build/release/planetd}")/planetyggpeer}"
[ -x "$PEER" ] || fail "no planetyggpeer at $PEER (swift build -c release --product planetyggpeer)"

NS_Y=ygglink-y-$$ NS_P=ygglink-p-$$
ip netns add "$NS_Y" && NAMESPACES+=("$NS_Y") || fail "netns add"
ip netns add "$NS_P" && NAMESPACES+=("$NS_P") || fail "netns add"
ip link add ygl-y-$$ type veth peer name ygl-p-$$ || fail "veth"
ip link set ygl-y-$$ netns "$NS_Y"
ip link set ygl-p-$$ netns "$NS_P"
ip -n "$NS_Y" addr add fd00:7968::1/64 dev ygl-y-$$ nodad
ip -n "$NS_P" addr add fd00:7968::2/64 dev ygl-p-$$ nodad
for ns in "$NS_Y" "$NS_P"; do ip -n "$ns" link set lo up; done
ip -n "$NS_Y" link set ygl-y-$$ up
ip -n "$NS_P" link set ygl-p-$$ up

keypair() { "$YGGDRASIL05" -genconf -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["PrivateKey"])'; }
KY=$(keypair) KP=$(keypair) KQ=$(keypair) KW=$(keypair)
pub() { echo "${1:64:64}"; }
PY=$(pub "$KY") PP=$(pub "$KP") PQ=$(pub "$KQ") PW=$(pub "$KW")

# Y: three listeners; dials P four times (good tcp, good tls, wrong password, wrong pin).
"$YGGDRASIL05" -genconf -json | python3 -c '
import json, sys
c = json.load(sys.stdin)
y, pp, pw, sock = sys.argv[1:5]
c.update(PrivateKey=y, IfName="none", MulticastInterfaces=[], AdminListen="unix://" + sock,
         Listen=["tcp://[fd00:7968::1]:19201", "tls://[fd00:7968::1]:19202", "tcp://[fd00:7968::1]:19203?password=right"],
         Peers=["tcp://[fd00:7968::2]:19101?key=" + pp, "tls://[fd00:7968::2]:19102?key=" + pp,
                "tcp://[fd00:7968::2]:19103?password=wrong", "tcp://[fd00:7968::2]:19104?key=" + pw])
json.dump(c, sys.stdout, indent=2)' "$KY" "$PP" "$PW" "$TMP/y.sock" >"$TMP/y.json"
ip netns exec "$NS_Y" "$YGGDRASIL05" -useconffile "$TMP/y.json" -loglevel debug >"$TMP/y.log" 2>&1 &
PIDS+=($!)

ip netns exec "$NS_P" "$PEER" --key "$KP" \
  --listen "tcp://[fd00:7968::2]:19101" --listen "tls://[fd00:7968::2]:19102" \
  --listen "tcp://[fd00:7968::2]:19103?password=right" --listen "tcp://[fd00:7968::2]:19104" \
  --peer "tcp://[fd00:7968::1]:19201?key=$PY" --peer "tls://[fd00:7968::1]:19202?key=$PY" \
  --peer "tcp://[fd00:7968::1]:19203?key=$PY&password=right" >"$TMP/p.out" 2>"$TMP/p.err" &
PIDS+=($!)
ip netns exec "$NS_P" "$PEER" --key "$KQ" \
  --peer "tcp://[fd00:7968::1]:19203?password=wrong" --peer "tcp://[fd00:7968::1]:19201?key=$PW" >"$TMP/q.out" 2>"$TMP/q.err" &
PIDS+=($!)

peers_json() { "$YGGDRASILCTL05" -endpoint "unix://$TMP/y.sock" -json getPeers 2>/dev/null; }
# count_up KEY MIN_UPTIME: Y's links with that key up for at least MIN_UPTIME s and with a latency.
count_up() {
  peers_json | python3 -c '
import json, sys
key, least = sys.argv[1], float(sys.argv[2])
p = json.load(sys.stdin)["peers"]
print(sum(1 for x in p if x.get("key") == key and x.get("up") and x.get("uptime", 0) >= least and x.get("latency", 0) > 0))' "$1" "$2"
}
show() { echo "--- Y getPeers"; peers_json; echo "--- P"; cat "$TMP/p.out"; tail -n 20 "$TMP/p.err"; echo "--- Q"; cat "$TMP/q.out"; echo "--- Y log"; tail -n 30 "$TMP/y.log"; }
five_up() { [ "$(count_up "$PP" "$1")" = 5 ]; }

wait_for 30 five_up 0 || { show; fail "Y does not list P's key up (with a latency) on 5 links"; }
ok "yggdrasil 0.5.12 lists our key up on tcp:// and tls:// links both ways, with a latency from our SigRes"
wait_for 30 five_up 12 || { show; fail "P's links did not stay up 12 s"; }
ok "the five links stay up over 12 s (keepalives and read deadlines as ironwood's)"
grep -q '^sigres ' "$TMP/p.out" || { show; fail "P answered no SigReq"; }
[ "$(grep -c '^up ' "$TMP/p.out")" -ge 5 ] || { show; fail "P saw fewer than 5 links up"; }

# Refusals. Y -> P:19103 with the wrong password: P refuses, Y lists that peer down.
grep -q '^closed password-mismatch' "$TMP/p.out" || { show; fail "P did not refuse Y's wrong password"; }
y_peer_down() {  # y_peer_down PORT: Y's outbound peer on fd00:7968::2:PORT is down (prints its last error)
  peers_json | python3 -c '
import json, sys
port = sys.argv[1]
p = [x for x in json.load(sys.stdin)["peers"] if not x.get("inbound") and (":" + port) in x.get("remote", "")]
assert p and not any(x.get("up") for x in p), p
print(p[0].get("last_error", ""))' "$1"
}
y_peer_down 19103 >"$TMP/e1" || { show; fail "Y lists its wrong-password link to P up"; }
y_peer_down 19104 >"$TMP/e2" || { show; fail "Y lists its wrong-pin link to P up"; }
grep -qi "pinned" "$TMP/e2" || { show; fail "Y's wrong-pin link failed for another reason: $(cat "$TMP/e2")"; }
ok "Y's wrong password refused by us ($(cat "$TMP/e1")), Y's wrong ?key= pin refused by Y ($(cat "$TMP/e2"))"

# Q -> Y with the wrong password and a wrong pin: Q refuses both, Y never lists Q up.
wait_for 10 grep -q '^closed password-mismatch' "$TMP/q.out" || { show; fail "Q did not refuse the wrong password"; }
wait_for 10 grep -q '^closed key-pin-mismatch' "$TMP/q.out" || { show; fail "Q did not refuse the wrong pin"; }
[ "$(count_up "$PQ" 0)" = 0 ] || { show; fail "Y lists Q up"; }
grep -q '^up ' "$TMP/q.out" && { show; fail "Q brought a link up"; }
ok "our wrong password and wrong ?key= pin are refused (password-mismatch, key-pin-mismatch), Y never lists that key up"
