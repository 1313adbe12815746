#!/usr/bin/env bash
# A Planetary-only planetd that reaches Yggdrasil through a dual node moves to another dual
# node when the first one dies (issue #23), against a real yggdrasil 0.5.12:
#
#        ┌── tcp ── D1 (planetd, dual) ── udp ──┐
#   Y1 ──┤                                      ├── P (planetd, Planetary-only)
#        └── tcp ── D2 (planetd, dual) ── udp ──┘
#
# P's config names its two udp:// peers and nothing about Yggdrasil. P picks one dual node
# (the nearer; a tie goes by key), links to it through the overlay and pings Y1. That node is
# killed (SIGKILL: no goodbye); P must notice (its Yggdrasil link dies, the Planetary route to
# the node goes), link to the other and reach Y1 again, with no configuration change, and Y1
# must see the same key P (its session is end to end with P, not with either dual node).
source "$(dirname "$0")/ygg_lib.sh"

TAG=yf$$
Y1=$TAG-y1; D1=$TAG-d1; D2=$TAG-d2; P=$TAG-p
make_ns "$Y1" "$D1" "$D2" "$P"
# link A B NET: a veth between namespaces A (NET::1) and B (NET::2).
link() {
  local a=$1 b=$2 net=$3 n=$4
  ip link add "$TAG-${n}a" netns "$a" type veth peer name "$TAG-${n}b" netns "$b" || fail "veth $a-$b"
  ip -n "$a" addr add "$net::1/64" dev "$TAG-${n}a" nodad; ip -n "$b" addr add "$net::2/64" dev "$TAG-${n}b" nodad
  ip -n "$a" link set "$TAG-${n}a" up; ip -n "$b" link set "$TAG-${n}b" up
}
link "$Y1" "$D1" fd00:81 1
link "$Y1" "$D2" fd00:82 2
link "$D1" "$P" fd00:83 3
link "$D2" "$P" fd00:84 4
PORT=14700

ygg_config "[\"tcp://[::]:$PORT\"]" '[]' "$TMP/y1.sock" > "$TMP/y1.json"
ip netns exec "$Y1" "$YGGDRASIL05" -useconffile "$TMP/y1.json" > "$TMP/y1.log" 2>&1 & PIDS+=($!)
wait_for 10 test -S "$TMP/y1.sock" || fail "yggdrasil Y1 did not start: $(cat "$TMP/y1.log")"

planet_config d1 '["udp://[::]:8470"]' "[\"tcp://[fd00:81::1]:$PORT\"]"
planet_config d2 '["udp://[::]:8470"]' "[\"tcp://[fd00:82::1]:$PORT\"]"
planet_config p '["udp://[::]:8470"]' '["udp://[fd00:83::1]:8470", "udp://[fd00:84::1]:8470"]'
declare -A NS=([d1]=$D1 [d2]=$D2 [p]=$P) PID=()
for n in d1 d2 p; do
  ip netns exec "${NS[$n]}" "$PLANETD" run --config "$TMP/$n.json" >> "$TMP/$n.log" 2>&1 & PID[$n]=$!; PIDS+=("${PID[$n]}")
done
for n in d1 d2 p; do
  wait_for 10 "$PLANETCTL" --socket "$TMP/$n.sock" self || fail "$n did not start: $(tail -20 "$TMP/$n.log")"
done
for n in d1 d2; do  # each dual node offers itself (its overlay address was usable at once)
  grep -q "accepting links from Planetary-only nodes" "$TMP/$n.log" || fail "$n does not accept links from Planetary-only nodes: $(grep -i yggdrasil "$TMP/$n.log" | tail -3)"
done
declare -A KEY=()
for n in d1 d2 p; do KEY[$n]=$("$PLANETCTL" --socket "$TMP/$n.sock" --json self | json_get 'd["publicKey"]'); done
P_ADDR=$("$PLANETD" address --config "$TMP/p.json")
Y1_ADDR=$(ygg_address "$TMP/y1.sock")
diag() {
  for n in d1 d2 p; do echo "--- $n log"; tail -25 "$TMP/$n.log"; done
  echo "--- p peers"; "$PLANETCTL" --socket "$TMP/p.sock" peers
  echo "--- p via log"; grep -E 'dual node|Yggdrasil link|link (up|down)' "$TMP/p.log"
  echo "--- p routes"; "$PLANETCTL" --socket "$TMP/p.sock" routes
  echo "--- p nodes (capacity directory)"; "$PLANETCTL" --socket "$TMP/p.sock" --json nodes
  for n in p d1 d2; do echo "--- $n drops"; "$PLANETCTL" --socket "$TMP/$n.sock" --json stats 2>/dev/null | json_get 'd["drops"]'; done
  echo "--- y1"; tail -20 "$TMP/y1.log"; yctl "$TMP/y1.sock" getPeers; yctl "$TMP/y1.sock" getSessions
}

for n in d1 d2; do
  wait_for 20 ygg_peer_up "$TMP/y1.sock" "${KEY[$n]}" || { diag; fail "Y1 does not list $n as an up peer"; }
done
# via_node: which dual node P's Yggdrasil link is up to (d1, d2 or nothing).
via_node() {
  local up
  up=$("$PLANETCTL" --socket "$TMP/p.sock" --json peers | python3 -c 'import json,sys; d=json.load(sys.stdin); p=d.get("peers", d) if isinstance(d, dict) else d; print(" ".join(x["publicKey"] for x in p if x.get("cipher")=="yggdrasil-tcp" and x.get("state")=="up"))')
  for n in d1 d2; do [[ " $up " == *" ${KEY[$n]} "* ]] && echo "$n"; done
}
via_is() { [ "$(via_node)" = "$1" ]; }
via_any() { [ -n "$(via_node)" ]; }
wait_for 60 via_any || { diag; fail "P has no Yggdrasil link to a dual node through the overlay"; }
FIRST=$(via_node)
[ "$(echo "$FIRST" | wc -w)" -eq 1 ] || { diag; fail "P linked to more than one dual node: $FIRST"; }
wait_for 30 ip netns exec "$P" ping -6 -c1 -W2 "$Y1_ADDR" || { diag; fail "P cannot ping Y1 through $FIRST"; }
ok "P linked to one dual node ($FIRST) through the overlay and pings Y1"

[ "$FIRST" = d1 ] && SECOND=d2 || SECOND=d1
killed_at=$(date +%s)
kill -9 "${PID[$FIRST]}"; wait "${PID[$FIRST]}" 2>/dev/null
# facts: one line on what P knows of the dual nodes (the last thing printed on a failure).
facts() {
  local tagged routed last
  tagged=$("$PLANETCTL" --socket "$TMP/p.sock" --json nodes | json_get "' '.join(x['publicKey'][:8] for x in d['nodes'] if 'yggdrasil-via' in x.get('tags', []))")
  routed=$("$PLANETCTL" --socket "$TMP/p.sock" --json routes | json_get "' '.join(x['publicKey'][:8] + '/' + str(x.get('metric')) for x in d['routes'])")
  last=$(grep -E 'dual node|Yggdrasil link' "$TMP/p.log" | tail -3 | sed -E 's/.*msg="([^"]*)"(.*)/\1\2/' | cut -c1-90 | paste -sd'|')
  echo "d1=${KEY[d1]:0:8} d2=${KEY[d2]:0:8}; P's directory tags yggdrasil-via on: [$tagged]; P's routes: [$routed]; P's log: $last"
}
wait_for 90 via_is "$SECOND" || { diag; fail "P did not move its Yggdrasil link to $SECOND after $FIRST died: $(facts)"; }
linked_after=$(( $(date +%s) - killed_at ))
wait_for 30 ip netns exec "$P" ping -6 -c1 -W2 "$Y1_ADDR" || { diag; fail "P cannot ping Y1 through $SECOND"; }
reached_after=$(( $(date +%s) - killed_at ))
wait_for 20 ip netns exec "$Y1" ping -6 -c1 -W2 "$P_ADDR" || { diag; fail "Y1 cannot ping P through $SECOND"; }
transfer "$P" "$Y1" "$Y1_ADDR" 2000000 5001
transfer "$Y1" "$P" "$P_ADDR" 2000000 5002
ygg_has_session "$TMP/y1.sock" "${KEY[p]}" || { diag; fail "Y1's getSessions does not list P"; }
ok "$FIRST killed: P linked to $SECOND after ${linked_after} s, pinged Y1 after ${reached_after} s; Y1 pings P, 2 MB each way checked, Y1's session is with P's key"
kill -0 "${PID[p]}" || fail "P died"
