#!/usr/bin/env bash
# Every planetctl command against a live daemon, in table and JSON form; peers add/remove
# change the live link set; bad requests; socket permissions.
source "$(dirname "$0")/lib.sh"
tb_up ctl line3
tb_wait_ping a b 30 || { dump_logs a r b; fail "no connectivity"; }
ka=$(tb_key a); kr=$(tb_key r); kb=$(tb_key b)

# self
tb_ctl a self > "$TMP/self.txt" || fail "planetctl self"
grep -q "$(tb_addr a)" "$TMP/self.txt" || fail "self table lacks the address: $(cat "$TMP/self.txt")"
tb_ctl a --json self | json_get "d['publicKey']=='$ka' and d['address']=='$(tb_addr a)' and d['subnet'].endswith('::/64') and d['uptimeSeconds']>=0 and len(d['version'])>0" | grep -q True || fail "self --json"
ok "self"

# peers
tb_ctl r peers > "$TMP/peers.txt" || fail "planetctl peers"
grep -q " up " "$TMP/peers.txt" || grep -qw up "$TMP/peers.txt" || fail "peers table: $(cat "$TMP/peers.txt")"
tb_ctl r --json peers | json_get "sorted(p['publicKey'] for p in d['peers'] if p['state']=='up')==sorted(['$ka','$kb']) and all(set(['publicKey','address','endpoint','state','rttMs','rxBytes','txBytes','uptimeSeconds','inbound'])<=set(p) for p in d['peers'])" | grep -q True || fail "peers --json: $(tb_ctl r --json peers)"
ok "peers"

# routes: a knows b's prefix with r as next hop
tb_ctl a routes > "$TMP/routes.txt" || fail "planetctl routes"
tb_ctl a --json routes | json_get "any(x['publicKey']=='$kb' and x['nextHop']=='$kr' and x['prefix']=='$("$PLANETD" subnet --config /tmp/planet-testbed-$TB_NAME/b.json)' for x in d['routes'])" | grep -q True || fail "routes --json: $(tb_ctl a --json routes)"
ok "routes"

# sessions: a has one to b after the ping
tb_ctl a sessions > "$TMP/sessions.txt" || fail "planetctl sessions"
tb_ctl a --json sessions | json_get "any(s['publicKey']=='$kb' and s['txBytes']>0 for s in d['sessions'])" | grep -q True || fail "sessions --json: $(tb_ctl a --json sessions)"
ok "sessions"

# stats
tb_ctl a stats > "$TMP/stats.txt" || fail "planetctl stats"
tb_ctl a --json stats | json_get "d['txPackets']>0 and d['rxPackets']>0 and isinstance(d['drops'],dict) and d['peersUp']==1" | grep -q True || fail "stats --json: $(tb_ctl a --json stats)"
ok "stats"

# Prometheus metrics on the namespace's loopback
tb_exec a python3 -c "import urllib.request; print(urllib.request.urlopen('http://[::1]:9464/metrics', timeout=5).read().decode())" > "$TMP/metrics" || fail "metrics endpoint"
grep -q '^planetary_peers_up 1$' "$TMP/metrics" || fail "metrics: peers_up: $(grep peers_up "$TMP/metrics")"
grep -qE '^planetary_tx_packets_total [1-9]' "$TMP/metrics" || fail "metrics: tx_packets_total"
grep -q '^# TYPE planetary_drops_total counter' "$TMP/metrics" || fail "metrics: drops_total type"
ok "Prometheus metrics"

# peers remove / add change the live link set (a's only peer is r)
tb_ctl a peers remove "udp://[fd7a:1:1::2]:8470" || fail "peers remove"
ping_fails() { ! tb_exec a ping -6 -c1 -W1 "$(tb_addr b)" >/dev/null 2>&1; }
wait_for 20 ping_fails || fail "traffic still flows after removing the only peer"
tb_ctl a peers add "udp://[fd7a:1:1::2]:8470?key=$kr" || fail "peers add"
tb_wait_ping a b 30 || fail "no traffic after adding the peer back"
ok "peers remove/add"

# bad input
expect_exit 2 "$PLANETCTL" --socket "/tmp/planet-testbed-$TB_NAME/a.sock" peers add "udp://[::1]:notaport"
grep -q "notaport" "$TMP/stderr" || fail "bad URI error: $(cat "$TMP/stderr")"
"$PLANETCTL" --socket /tmp/nonexistent-planet.sock self 2>"$TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q "nonexistent-planet.sock" "$TMP/err" || fail "not-running error: rc=$rc $(cat "$TMP/err")"
sock="/tmp/planet-testbed-$TB_NAME/a.sock"
python3 - "$sock" <<'PY' || fail "raw socket checks"
import json, socket, sys
def ask(raw):
    s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
    s.sendall(raw); data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk: break
        data += chunk
    s.close(); return json.loads(data) if data else None
assert ask(b"{not json\n")["status"] == "error"
assert ask(b'{"request": "nope"}\n')["status"] == "error"
assert ask(b'{"request": "addPeer", "uri": 5}\n')["status"] == "error"
r = ask(b'{"request": "getSelf"}\n'); assert r["status"] == "success", r
big = ask(b'{"request": "getSelf", "x": "' + b"a" * 200000 + b'"}\n')
assert big is None or big["status"] == "error"
idle = socket.socket(socket.AF_UNIX); idle.connect(sys.argv[1])   # a silent client must not block others
assert ask(b'{"request": "getPeers"}\n')["status"] == "success"
idle.close()
PY
ok "bad requests answered with errors"

# permissions: mode 0660; an unprivileged user can't connect
[ "$(stat -c %a "$sock")" = 660 ] || fail "socket mode $(stat -c %a "$sock")"
if command -v setpriv >/dev/null; then
  setpriv --reuid=65534 --regid=65534 --clear-groups "$PLANETCTL" --socket "$sock" self 2>"$TMP/perm"; rc=$?
  [ $rc -ne 0 ] && grep -qi "permission" "$TMP/perm" || fail "nobody could use the admin socket: rc=$rc $(cat "$TMP/perm")"
  ok "non-root user refused: $(cat "$TMP/perm")"
fi

# adminGroup: a non-root member of the group may use the socket.
if command -v setpriv >/dev/null && command -v groupadd >/dev/null; then
  group="planettest$$"
  groupadd "$group" || fail "groupadd"
  gid=$(getent group "$group" | cut -d: -f3)
  trap 'groupdel '"$group"' 2>/dev/null; tb_down; cleanup' EXIT
  chmod 755 "$TMP"
  # (No explorer page: this node runs in the host's namespace, where [::1]:8472 is not ours to take.)
  cat > "$TMP/g.json" <<JSON
{"listen": [], "tun": {"enabled": false}, "multicast": [], "adminSocket": "$TMP/g.sock", "adminGroup": "$group", "stateDir": "$TMP/gstate", "webListen": ""}
JSON
  "$PLANETD" run --config "$TMP/g.json" 2>"$TMP/g.log" &
  PIDS+=($!)
  wait_for 10 test -S "$TMP/g.sock" || fail "daemon with adminGroup did not start: $(cat "$TMP/g.log")"
  [ "$(stat -c %G "$TMP/g.sock")" = "$group" ] || fail "socket group is $(stat -c %G "$TMP/g.sock")"
  setpriv --reuid=65534 --regid=65534 --groups="$gid" "$PLANETCTL" --socket "$TMP/g.sock" --json self > "$TMP/g.out" 2>&1 || fail "group member refused: $(cat "$TMP/g.out")"
  grep -q publicKey "$TMP/g.out" || fail "group member got no answer"
  setpriv --reuid=65534 --regid=65534 --clear-groups "$PLANETCTL" --socket "$TMP/g.sock" self >/dev/null 2>&1 && fail "non-member allowed"
  ok "adminGroup member allowed, non-member refused"
fi
