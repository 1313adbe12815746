#!/usr/bin/env bash
# planetd as the transit between two real yggdrasil 0.5.12, with a newcomer joining (issue 23):
#
#   Ya (yggdrasil, joins last, smallest key: the new root) ── tcp ── R (planetd) ── tcp ── Yb (yggdrasil)
#
# Ya can find Yb as soon as R's bloom to Ya names Yb; Yb finds Ya only once R's bloom to Yb
# names Ya. Were Ya first, Yb's first lookup for Ya (sent with its Ack to Ya's first Init) would
# go nowhere and, both ends being ironwood, the session would stay half open for a minute. R
# holds back what it tells a newcomer until the newcomer's own bloom is in (IronwoodBlooms,
# Docs/protocol.md). Checked: three fresh lines, each started as Tools/bench starts one; Ya pings
# Yb within 20 s of starting (ironwood alone needs the minute), and Yb pings Ya.
source "$(dirname "$0")/ygg_lib.sh"

TAG=yt$$
YA=$TAG-ya; R=$TAG-r; YB=$TAG-yb
make_ns "$YA" "$R" "$YB"
ip link add "$TAG-a" netns "$YA" type veth peer name "$TAG-b" netns "$R" || fail "veth Ya-R"
ip link add "$TAG-c" netns "$R" type veth peer name "$TAG-d" netns "$YB" || fail "veth R-Yb"
ip -n "$YA" addr add fd00:91::1/64 dev "$TAG-a" nodad; ip -n "$R" addr add fd00:91::2/64 dev "$TAG-b" nodad
ip -n "$R" addr add fd00:92::1/64 dev "$TAG-c" nodad; ip -n "$YB" addr add fd00:92::2/64 dev "$TAG-d" nodad
for pair in "$YA $TAG-a" "$R $TAG-b" "$R $TAG-c" "$YB $TAG-d"; do set -- $pair; ip -n "$1" link set "$2" up; done
PORT=14700

# Keys: per round a fresh line in the order of the bench that found it (Tools/bench, relay
# yggdrasil 0.5.12 – planetd – yggdrasil 0.5.12: no connectivity in 30 s, one run in five):
# Ya's the smallest (the root), R's in the middle, Yb's the largest.
new_keys() {
  local k=() _
  for _ in 1 2 3; do k+=("$("$PLANETD" genconf | json_get 'd["privateKey"]')"); done
  mapfile -t KEYS < <(printf "%s\n" "${k[@]}" | LC_ALL=C sort -k1.65)
}
r_config() {
  "$PLANETD" genconf > "$TMP/r-gen.json" || fail "genconf"
  python3 - "$TMP/r-gen.json" "$TMP" "$1" "$PORT" > "$TMP/r.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); t = sys.argv[2]
c.update(stateDir=t + "/r-state", tun={"name": "planett0"}, multicast=[], adminSocket=t + "/r.sock", privateKey=sys.argv[3],
         listen=["tcp://[fd00:91::2]:" + sys.argv[4]], peers=["tcp://[fd00:92::2]:" + sys.argv[4]])
json.dump(c, sys.stdout, indent=2)
PY
}
diag() { echo "--- R log"; tail -30 "$TMP/r.log"; echo "--- ya"; tail -20 "$TMP/ya.log"; echo "--- yb"; tail -20 "$TMP/yb.log"; yctl "$TMP/yb.sock" getSessions; yctl "$TMP/yb.sock" getPaths; }

times=()
for round in 1 2 3; do
  new_keys
  rm -rf "$TMP"/ya.sock "$TMP"/yb.sock "$TMP"/r.sock "$TMP"/r-state
  ygg_config "[\"tcp://[fd00:92::2]:$PORT\"]" '[]' "$TMP/yb.sock" "${KEYS[2]}" > "$TMP/yb.json"
  ygg_config '[]' "[\"tcp://[fd00:91::2]:$PORT\"]" "$TMP/ya.sock" "${KEYS[0]}" > "$TMP/ya.json"
  r_config "${KEYS[1]}"
  # As the bench starts a line: b, then r once b listens, then a once r listens; a pings at once.
  ip netns exec "$YB" "$YGGDRASIL05" -useconffile "$TMP/yb.json" > "$TMP/yb.log" 2>&1 & YBPID=$!; PIDS+=("$YBPID")
  wait_for 10 test -S "$TMP/yb.sock" || fail "yggdrasil Yb did not start: $(cat "$TMP/yb.log")"
  ip netns exec "$R" "$PLANETD" run --config "$TMP/r.json" > "$TMP/r.log" 2>&1 & RPID=$!; PIDS+=("$RPID")
  wait_for 10 test -S "$TMP/r.sock" || fail "R did not start: $(tail -20 "$TMP/r.log")"
  ip netns exec "$YA" "$YGGDRASIL05" -useconffile "$TMP/ya.json" > "$TMP/ya.log" 2>&1 & YAPID=$!; PIDS+=("$YAPID")
  YB_ADDR=$("$YGGDRASIL05" -useconffile "$TMP/yb.json" -address)
  start=$(date +%s)
  wait_for 20 ip netns exec "$YA" ping -6 -c1 -W1 "$YB_ADDR" || { diag; fail "round $round: Ya cannot ping Yb through R within 20 s"; }
  times+=("$(( $(date +%s) - start )) s")
  YA_ADDR=$("$YGGDRASIL05" -useconffile "$TMP/ya.json" -address)
  wait_for 10 ip netns exec "$YB" ping -6 -c1 -W1 "$YA_ADDR" || { diag; fail "round $round: Yb cannot ping Ya"; }
  for pid in "$YAPID" "$RPID" "$YBPID"; do kill "$pid"; wait "$pid" 2>/dev/null; done
done
ok "three fresh lines yggdrasil – planetd – yggdrasil, the newcomer the root: it reached the far end after ${times[*]}, and was reached back"
