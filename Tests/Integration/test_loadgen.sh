#!/usr/bin/env bash
# A public hub and 500 stub peers from planetloadgen (Tools/loadgen): a real planetd in a
# namespace, 500 generated nodes (the project's own Node, each with its own key, port and
# 127.x source address) linked to it over real sockets, 100 pings between random pairs through
# it. Asserts every node linked, every ping answered and the hub's memory within the 2,000-peer
# bound (150 MB); prints its idle CPU and the control bytes against Docs/scale.md's figures
# (timings are printed, never asserted).
source "$(dirname "$0")/lib.sh"
LOADGEN="${LOADGEN:-$(dirname "$PLANETD")/planetloadgen}"
[ -x "$LOADGEN" ] || skip "no planetloadgen beside $PLANETD (swift build -c release)"
ns=lg-$$
make_ns "$ns"
cat > "$TMP/hub.json" <<JSON
{"listen": ["udp://127.0.0.1:8470"], "tun": {"enabled": false}, "multicast": [], "webListen": "",
 "adminSocket": "$TMP/hub.sock", "stateDir": "$TMP/hub", "logLevel": "warn"}
JSON
mkdir -p "$TMP/hub"
ip netns exec "$ns" "$PLANETD" run --config "$TMP/hub.json" > "$TMP/hub.log" 2>&1 &
PIDS+=($!); hub=$!
wait_for 10 test -S "$TMP/hub.sock" || { cat "$TMP/hub.log"; fail "the hub did not start"; }

ip netns exec "$ns" "$LOADGEN" --peer udp://127.0.0.1:8470 --nodes 500 --pings 100 --idle 12 --link-timeout 60 \
  --target-pid "$hub" --json > "$TMP/loadgen.json" 2> "$TMP/loadgen.err" &
PIDS+=($!)
wait $! || fail "planetloadgen exited $?: $(cat "$TMP/loadgen.err")"
r=$(cat "$TMP/loadgen.json")
get() { echo "$r" | json_get "d['$1']"; }
kill -0 "$hub" 2>/dev/null || { tail -n 20 "$TMP/hub.log"; fail "the hub died under 500 peers"; }
[ "$(get linked)" = 500 ] || fail "$(get linked) of 500 nodes linked in 60 s: $r"
ok "500 stub peers linked in $(get secondsToLink) s ($(get handshakesPerSecond) handshakes/s)"
[ "$(get pingsSent)" = 100 ] && [ "$(get pingsAnswered)" = 100 ] || fail "$(get pingsAnswered) of $(get pingsSent) pings answered: $r"
ok "100 pings between random pairs through the hub, all answered (slowest $(get pingMaxRTTMilliseconds) ms)"
rss=$(get targetRSSBytes); hwm=$(get targetHWMBytes)
[ "$hwm" -le $((150 * 1024 * 1024)) ] || fail "the hub's peak RSS $((hwm / 1048576)) MB with 500 peers is over 150 MB: $r"
ok "hub RSS $((rss / 1048576)) MB, peak $((hwm / 1048576)) MB (bound: 150 MB at 2,000 peers, 300 MB at 10,000)"
ok "hub idle CPU $(get targetIdleCPUPercent) % of a core (bound 5 %); control traffic $(get controlBytesPerSecond) B/s to and from 500 stubs ($(get controlDatagramsPerSecond) datagrams/s); generator RSS $(( $(get generatorRSSBytes) / 1048576 )) MB"
