#!/usr/bin/env bash
# planetd as a member of a real Yggdrasil 0.5 network (issue #23), against yggdrasil 0.5.12:
#
#   Y3 (yggdrasil) ── tcp ── Y1 (yggdrasil) ── tcp ── P (planetd) ── tcp ── Y2 (yggdrasil)
#
# P dials Y1 (tcp://, from `peers`) and Y2 dials P (P's tcp:// `listen`); Y3 dials Y1. Y1 and
# Y2 have no other link, so everything between them crosses P's ironwood router (transit
# through planetd), and P reaches Y3 only through Y1 (transit through yggdrasil). Checked: the
# real nodes list P as an up peer; ping both ways between P and Y1; 20 MB both ways checked by
# SHA-256; Y1 ↔ Y2 through P both ways (ping, 20 MB each way); P → Y3 through Y1 (ping, 20 MB);
# Y1's getSessions and getPaths list P's key; over 75 s of continuous traffic both ways (the
# session keys rotate) with the link never restarting; a restarted planetd, then a restarted
# yggdrasil, link again and carry traffic. (A wrong password or pin: test_yggdrasil05_link.sh.)
source "$(dirname "$0")/ygg_lib.sh"

TAG=yi$$
Y1=$TAG-y1; P=$TAG-p; Y2=$TAG-y2; Y3=$TAG-y3
make_ns "$Y1" "$P" "$Y2" "$Y3"
ip link add "$TAG-a" netns "$Y1" type veth peer name "$TAG-b" netns "$P" || fail "veth Y1-P"
ip link add "$TAG-c" netns "$P" type veth peer name "$TAG-d" netns "$Y2" || fail "veth P-Y2"
ip -n "$Y1" addr add fd00:79::1/64 dev "$TAG-a" nodad
ip -n "$P" addr add fd00:79::2/64 dev "$TAG-b" nodad
ip -n "$P" addr add fd00:7a::1/64 dev "$TAG-c" nodad
ip -n "$Y2" addr add fd00:7a::2/64 dev "$TAG-d" nodad
ip link add "$TAG-e" netns "$Y1" type veth peer name "$TAG-f" netns "$Y3" || fail "veth Y1-Y3"
ip -n "$Y1" addr add fd00:7b::1/64 dev "$TAG-e" nodad
ip -n "$Y3" addr add fd00:7b::2/64 dev "$TAG-f" nodad
ip -n "$Y1" link set "$TAG-e" up; ip -n "$Y3" link set "$TAG-f" up
ip -n "$Y1" link set "$TAG-a" up; ip -n "$P" link set "$TAG-b" up; ip -n "$P" link set "$TAG-c" up; ip -n "$Y2" link set "$TAG-d" up
PORT=14700

# ygg_config LISTEN PEERS SOCKET: a fresh yggdrasil config, TUN on, no multicast.
# ygg_peer_up SOCKET KEY: the real node lists KEY as an up peer.
ygg_peer_uptime() { yctl "$1" getPeers | python3 -c 'import json,sys; p=json.load(sys.stdin)["peers"]; print(int(max([x.get("uptime",0) for x in p if x.get("key")==sys.argv[1]] or [0])))' "$2"; }

ygg_config "[\"tcp://[fd00:79::1]:$PORT\", \"tcp://[fd00:7b::1]:$PORT\"]" '[]' "$TMP/y1.sock" > "$TMP/y1.json"
ygg_config '[]' "[\"tcp://[fd00:7a::1]:$PORT\"]" "$TMP/y2.sock" > "$TMP/y2.json"
ygg_config '[]' "[\"tcp://[fd00:7b::1]:$PORT\"]" "$TMP/y3.sock" > "$TMP/y3.json"
start_y1() { ip netns exec "$Y1" "$YGGDRASIL05" -useconffile "$TMP/y1.json" >> "$TMP/y1.log" 2>&1 & Y1PID=$!; PIDS+=("$Y1PID"); }
start_y1
wait_for 10 test -S "$TMP/y1.sock" || fail "yggdrasil Y1 did not start: $(cat "$TMP/y1.log")"
ip netns exec "$Y3" "$YGGDRASIL05" -useconffile "$TMP/y3.json" > "$TMP/y3.log" 2>&1 & PIDS+=($!)
wait_for 10 test -S "$TMP/y3.sock" || fail "yggdrasil Y3 did not start: $(cat "$TMP/y3.log")"

"$PLANETD" genconf > "$TMP/p-gen.json" || fail "genconf"
python3 - "$TMP/p-gen.json" "$TMP" "$PORT" > "$TMP/p.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
t, port = sys.argv[2], sys.argv[3]
c.update(stateDir=t + "/p-state", tun={"name": "planety0"}, multicast=[], adminSocket=t + "/p.sock",
         listen=["udp://[::]:8470", "tcp://[fd00:7a::1]:" + port], peers=["tcp://[fd00:79::1]:" + port])
json.dump(c, sys.stdout, indent=2)
PY
start_p() { ip netns exec "$P" "$PLANETD" run --config "$TMP/p.json" >> "$TMP/p.log" 2>&1 & PPID_=$!; PIDS+=("$PPID_"); }
start_p
wait_for 10 "$PLANETCTL" --socket "$TMP/p.sock" self || fail "planetd did not start: $(tail -20 "$TMP/p.log")"
ip netns exec "$Y2" "$YGGDRASIL05" -useconffile "$TMP/y2.json" > "$TMP/y2.log" 2>&1 & PIDS+=($!)
wait_for 10 test -S "$TMP/y2.sock" || fail "yggdrasil Y2 did not start: $(cat "$TMP/y2.log")"

P_KEY=$("$PLANETCTL" --socket "$TMP/p.sock" --json self | json_get 'd["publicKey"]')
P_ADDR=$("$PLANETD" address --config "$TMP/p.json")
Y1_ADDR=$(ygg_address "$TMP/y1.sock"); Y2_ADDR=$(ygg_address "$TMP/y2.sock"); Y3_ADDR=$(ygg_address "$TMP/y3.sock")
diag() { echo "--- planetd log"; tail -40 "$TMP/p.log"; echo "--- y1"; tail -20 "$TMP/y1.log"; echo "--- y2"; tail -20 "$TMP/y2.log"; }

wait_for 20 ygg_peer_up "$TMP/y1.sock" "$P_KEY" || { diag; fail "Y1 does not list planetd as an up peer"; }
wait_for 20 ygg_peer_up "$TMP/y2.sock" "$P_KEY" || { diag; fail "Y2 does not list planetd as an up peer"; }
ok "both real yggdrasil nodes list planetd ($P_KEY) as an up peer"

wait_for 20 ip netns exec "$P" ping -6 -c1 -W2 "$Y1_ADDR" || { diag; fail "planetd cannot ping Y1 $Y1_ADDR"; }
wait_for 20 ip netns exec "$Y1" ping -6 -c1 -W2 "$P_ADDR" || { diag; fail "Y1 cannot ping planetd $P_ADDR"; }
ok "ping both ways between planetd and Y1"

transfer "$P" "$Y1" "$Y1_ADDR" 20000000 5001
transfer "$Y1" "$P" "$P_ADDR" 20000000 5002
ok "20 MB each way between planetd and Y1, SHA-256 equal"

wait_for 20 ip netns exec "$Y1" ping -6 -c1 -W2 "$Y2_ADDR" || { diag; fail "Y1 cannot ping Y2 through planetd"; }
transfer "$Y1" "$Y2" "$Y2_ADDR" 20000000 5003
transfer "$Y2" "$Y1" "$Y1_ADDR" 20000000 5004
ok "Y1 and Y2 (no link of their own) reach each other through planetd: ping, 20 MB each way checked"

wait_for 20 ip netns exec "$P" ping -6 -c1 -W2 "$Y3_ADDR" || { diag; fail "planetd cannot ping Y3 through Y1"; }
transfer "$P" "$Y3" "$Y3_ADDR" 20000000 5005
ok "planetd reaches Y3 through the real Y1 (transit in yggdrasil): ping, 20 MB checked"

ygg_has_session "$TMP/y1.sock" "$P_KEY" \
  || fail "Y1's getSessions does not list planetd"
yctl "$TMP/y1.sock" getPaths | python3 -c 'import json,sys; s=json.load(sys.stdin)["paths"]; sys.exit(0 if any(x.get("key")==sys.argv[1] for x in s) else 1)' "$P_KEY" \
  || fail "Y1's getPaths does not list planetd"
ok "Y1's getSessions and getPaths list planetd"

# Continuous traffic both ways for the whole wait (5 pings a second each way): the sessions
# rotate their keys (at most once a minute, when both sides send) and must lose nothing.
ip netns exec "$P" ping -6 -i 0.2 -w 80 -W 2 "$Y1_ADDR" > "$TMP/ping-p.log" 2>&1 & PPING=$!; PIDS+=("$PPING")
ip netns exec "$Y1" ping -6 -i 0.2 -w 80 -W 2 "$P_ADDR" > "$TMP/ping-y.log" 2>&1 & YPING=$!; PIDS+=("$YPING")

# The link's uptime on Y1 must only grow until it passes 75 s: a keep-alive or deadline
# mismatch would close it (yggdrasil's read deadline is a few seconds) and restart the count.
last=0
deadline=$(( $(date +%s) + 100 ))
while :; do
  up=$(ygg_peer_uptime "$TMP/y1.sock" "$P_KEY")
  [ "$up" -ge "$last" ] || { diag; fail "Y1's link to planetd restarted (uptime $last s, then $up s)"; }
  last=$up
  [ "$up" -ge 75 ] && break
  [ "$(date +%s)" -lt "$deadline" ] || { diag; fail "Y1's link to planetd is only $up s old"; }
  sleep 2
done
wait "$PPING" "$YPING" 2>/dev/null
for f in ping-p ping-y; do
  loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$TMP/$f.log")
  [ -n "$loss" ] || { cat "$TMP/$f.log"; fail "$f: no ping summary"; }
  python3 -c "import sys; sys.exit(0 if float('$loss') <= 1.0 else 1)" || { diag; tail -3 "$TMP/$f.log"; fail "$f: $loss % lost over 80 s of continuous traffic"; }
  echo "  $f: $(grep -o '[0-9]* packets transmitted, [0-9]* received' "$TMP/$f.log"), $loss % lost"
done
ok "the link stayed up for $up s under continuous traffic both ways (keep-alives, key rotation)"

kill "$PPID_"; wait "$PPID_" 2>/dev/null
start_p
wait_for 30 ygg_peer_up "$TMP/y1.sock" "$P_KEY" || { diag; fail "a restarted planetd did not link to Y1 again"; }
wait_for 30 ip netns exec "$P" ping -6 -c1 -W2 "$Y1_ADDR" || { diag; fail "no ping after planetd restarted"; }
ok "a restarted planetd links again and carries traffic"

kill "$Y1PID"; wait "$Y1PID" 2>/dev/null
start_y1
wait_for 30 ygg_peer_up "$TMP/y1.sock" "$P_KEY" || { diag; fail "planetd did not link to a restarted Y1"; }
wait_for 30 ip netns exec "$Y1" ping -6 -c1 -W2 "$P_ADDR" || { diag; fail "a restarted Y1 cannot ping planetd"; }
transfer "$Y1" "$P" "$P_ADDR" 5000000 5006
ok "a restarted yggdrasil links to planetd again and carries traffic"
