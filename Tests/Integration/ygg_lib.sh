# Helpers for the tests that run a real yggdrasil 0.5.12 beside planetd. Sourcing it sources
# lib.sh, moves to the project's root, and skips the test when yggdrasil 0.5.12 cannot be had
# (need_yggdrasil_05 sets YGGDRASIL05 and YGGDRASILCTL05) or fails it when planetd is not built.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source Tools/lib/common.sh
need_yggdrasil_05 >/dev/null 2>&1 || skip "yggdrasil 0.5.12 unavailable (need_yggdrasil_05 failed)"
[ -x "$PLANETD" ] || fail "planetd not built at $PLANETD"
[ -x "$PLANETCTL" ] || fail "planetctl not built at $PLANETCTL"

# ygg_config LISTEN_JSON PEERS_JSON ADMIN_SOCKET [PRIVATE_KEY_HEX]: a fresh yggdrasil config on
# stdout (no multicast, TUN ygg0), with the given key if one is given.
ygg_config() {
  "$YGGDRASIL05" -genconf -json | python3 -c '
import json, sys
c = json.load(sys.stdin)
c.update(Listen=json.loads(sys.argv[1]), Peers=json.loads(sys.argv[2]), AdminListen="unix://" + sys.argv[3],
         MulticastInterfaces=[], IfName="ygg0")
if len(sys.argv) > 4: c["PrivateKey"] = sys.argv[4]
json.dump(c, sys.stdout, indent=2)' "$@"
}

# planet_config NAME LISTEN_JSON PEERS_JSON [PRIVATE_KEY_HEX]: $TMP/NAME.json, a fresh planetd
# config with its state and admin socket under $TMP, TUN planetv0, no multicast, and nothing
# said about Yggdrasil (the default, via auto), with the given key if one is given.
planet_config() {
  "$PLANETD" genconf > "$TMP/$1-gen.json" || fail "genconf"
  python3 - "$TMP/$1-gen.json" "$TMP" "$@" > "$TMP/$1.json" <<'PY' || fail "planet_config $1"
import json, sys
c = json.load(open(sys.argv[1])); c.pop("yggdrasil", None)  # the default: auto
t, n = sys.argv[2], sys.argv[3]
c.update(stateDir=t + "/" + n + "-state", tun={"name": "planetv0"}, multicast=[], adminSocket=t + "/" + n + ".sock",
         listen=json.loads(sys.argv[4]), peers=json.loads(sys.argv[5]))
if len(sys.argv) > 6: c["privateKey"] = sys.argv[6]
json.dump(c, sys.stdout, indent=2)
PY
}

# yctl SOCKET COMMAND...: yggdrasilctl on that admin socket, JSON out.
yctl() { local sock=$1; shift; "$YGGDRASILCTL05" -endpoint "unix://$sock" -json "$@"; }
ygg_address() { yctl "$1" getSelf | json_get 'd["address"]'; }
ygg_key() { yctl "$1" getSelf | json_get 'd["key"]'; }
# ygg_peer_up SOCKET KEY: that yggdrasil lists KEY as an up peer.
ygg_peer_up() { yctl "$1" getPeers | python3 -c 'import json,sys; p=json.load(sys.stdin)["peers"]; sys.exit(0 if any(x.get("up") and x.get("key")==sys.argv[1] for x in p) else 1)' "$2"; }
# ygg_has_session SOCKET KEY: that yggdrasil has a session with KEY.
ygg_has_session() { yctl "$1" getSessions | python3 -c 'import json,sys; s=json.load(sys.stdin)["sessions"]; sys.exit(0 if any(x.get("key")==sys.argv[1] for x in s) else 1)' "$2"; }

# transfer FROM_NS TO_NS TO_ADDR BYTES PORT: a TCP transfer checked by SHA-256 (the caller
# defines diag, printed on failure).
transfer() {
  local from=$1 to=$2 addr=$3 bytes=$4 port=$5
  head -c "$bytes" /dev/urandom > "$TMP/payload"
  local want; want=$(sha256sum "$TMP/payload" | cut -d' ' -f1)
  rm -f "$TMP/serve.out"
  ip netns exec "$to" python3 Tests/Integration/tcp_transfer.py serve "$port" "$TMP/received" > "$TMP/serve.out" & PIDS+=($!)
  sleep 0.5
  ip netns exec "$from" python3 Tests/Integration/tcp_transfer.py send "$addr" "$port" "$TMP/payload" > "$TMP/send.out" \
    || { diag; fail "transfer $from -> $addr failed"; }
  wait_for 60 test -s "$TMP/serve.out" || { diag; fail "receiver $to did not finish"; }
  local got; got=$(cut -d' ' -f1 "$TMP/serve.out")
  [ "$got" = "$want" ] || { diag; fail "SHA-256 differs $from -> $to: sent $want received $got"; }
}
