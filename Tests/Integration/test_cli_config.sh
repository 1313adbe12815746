#!/usr/bin/env bash
# planetd as a new user meets it: genconf, address/subnet, bad configs, first start, signals.
source "$(dirname "$0")/lib.sh"
[ -x "$PLANETD" ] || fail "planetd not built at $PLANETD"

expect_exit 0 "$PLANETD" --version
grep -q "planetd" "$TMP/stdout" || fail "--version printed nothing useful"
for cmd in run genconf address subnet; do
  expect_exit 0 "$PLANETD" "$cmd" --help
  grep -q "usage: planetd $cmd" "$TMP/stdout" || fail "$cmd --help"
done
expect_exit 0 "$PLANETCTL" --help
# Every planetctl command's own help after it, and no command run in place of a mistyped one.
for cmd in self peers "peers add" "peers remove" routes sessions stats vm "vm attach" "vm policy" "vm detach" nodes "nodes show" "nodes find"; do
  # shellcheck disable=SC2086
  expect_exit 0 "$PLANETCTL" $cmd --help
  grep -q "usage: planetctl $cmd" "$TMP/stdout" || fail "planetctl $cmd --help: $(head -1 "$TMP/stdout")"
done
expect_exit 0 "$PLANETCTL" vm attach web -h
grep -q "usage: planetctl vm attach" "$TMP/stdout" || fail "planetctl vm attach web -h"
expect_exit 2 "$PLANETCTL" peer
grep -q "unknown command 'peer' (did you mean 'peers'?)" "$TMP/stderr" || fail "planetctl peer: $(cat "$TMP/stderr")"

# genconf: every key, a fresh key each time, and the address it prints matches yggdrasil's.
"$PLANETD" genconf > "$TMP/a.json" || fail "genconf"
"$PLANETD" genconf > "$TMP/b.json" || fail "genconf"
cmp -s "$TMP/a.json" "$TMP/b.json" && fail "two genconf runs gave the same key"
for key in privateKey listen peers allowedPublicKeys tun adminSocket adminGroup multicast stateDir logLevel metricsListen webListen capacity; do
  grep -q "\"$key\"" "$TMP/a.json" || fail "genconf lacks $key"
done
# ... sub-keys too, a default that means "not set" as null: coordinates, offer and reserve.
python3 - "$TMP/a.json" <<'PY' || fail "genconf lacks a capacity sub-key"
import json, sys
c = json.load(open(sys.argv[1]))["capacity"]
assert c["location"]["latitude"] is None and c["location"]["longitude"] is None, c["location"]
for section in ("offer", "reserved"):
    assert c[section] == {"cru": None, "mru": None, "sru": None, "hru": None}, c[section]
PY
addr=$("$PLANETD" address --config "$TMP/a.json") || fail "address"
subnet=$("$PLANETD" subnet --config "$TMP/a.json") || fail "subnet"
[[ "$addr" == 2* ]] || fail "address $addr not in 200::/7"
[[ "$subnet" == 3*::/64 ]] || fail "subnet $subnet not a /64 in 300::/8"
if command -v yggdrasil >/dev/null; then
  key=$(grep -o '"privateKey": "[0-9a-f]*"' "$TMP/a.json" | cut -d'"' -f4)
  echo "{\"PrivateKey\": \"$key\"}" > "$TMP/ygg.json"
  [ "$(yggdrasil -useconffile "$TMP/ygg.json" -address)" = "$addr" ] || fail "address differs from yggdrasil's"
  [ "$(yggdrasil -useconffile "$TMP/ygg.json" -subnet)" = "$subnet" ] || fail "subnet differs from yggdrasil's"
  # A Yggdrasil HJSON config keeps its address through genconf --from-yggdrasil.
  yggdrasil -genconf > "$TMP/y.hjson"
  "$PLANETD" genconf --from-yggdrasil "$TMP/y.hjson" > "$TMP/from.json" || fail "genconf --from-yggdrasil"
  [ "$("$PLANETD" address --config "$TMP/from.json")" = "$(yggdrasil -useconffile "$TMP/y.hjson" -address)" ] || fail "converted key lost its address"
  # Used directly as a config it is refused with a hint.
  expect_exit 2 "$PLANETD" run --config "$TMP/y.hjson"
  grep -q "from-yggdrasil" "$TMP/stderr" || fail "no hint for a Yggdrasil config: $(cat "$TMP/stderr")"
fi
ok "genconf, address, subnet"

# Bad configs: one line naming the field, exit 2.
check_bad() {
  local json=$1 field=$2
  echo "$json" > "$TMP/bad.json"
  expect_exit 2 "$PLANETD" run --config "$TMP/bad.json"
  [ "$(wc -l < "$TMP/stderr")" -eq 1 ] || fail "error for $json is not one line: $(cat "$TMP/stderr")"
  grep -q "$field" "$TMP/stderr" || fail "error for $json does not name $field: $(cat "$TMP/stderr")"
}
check_bad '{"peer": []}' "did you mean 'peers'"
check_bad '{"peers": ["udp://[::1]:notaport"]}' "peers\[0\]"
check_bad "{\"privateKey\": \"$(printf '%0126d' 0)\"}" "privateKey: must be 64 bytes"
check_bad '{"tun": {"mtu": 100}}' "tun.mtu"
check_bad '{"listen": "udp://[::]:1"}' "listen: must be a list"
check_bad '{"webListen": "::1:8472"}' "webListen: must be HOST:PORT"
check_bad '{"capacity": {"location": {"country": "Belgium"}}}' "capacity.location.country"
check_bad '{"capacity": {"announceInterval": "soon"}}' "capacity.announceInterval"
# An offer beyond what the machine has is refused before anything starts.
check_bad '{"capacity": {"enabled": true, "offer": {"mru": "64P"}}}' "capacity.offer.mru: offers"
grep -qE "^planetd: $TMP/bad.json: config: capacity.offer.mru: offers 64P but this machine has [0-9.]+[GT]$" "$TMP/stderr" \
  || fail "offer error not in the form of other config errors: $(cat "$TMP/stderr")"
expect_exit 2 "$PLANETD" run --config "$TMP/nonexistent.json"
grep -q "does not exist" "$TMP/stderr" || fail "missing file error"
expect_exit 2 "$PLANETD" run --confg x
expect_exit 2 "$PLANETD" bogus
ok "bad configs and arguments exit 2 with the field named"

# First start without a key: the state dir (0700) and key file (0600) appear, the key is reused.
state="$TMP/state"
# (No explorer page: this node runs in the host's namespace, where [::1]:8472 is not ours to take.)
cat > "$TMP/run.json" <<JSON
{"stateDir": "$state", "tun": {"enabled": false}, "multicast": [], "listen": [], "adminSocket": "$TMP/admin.sock", "webListen": ""}
JSON
"$PLANETD" run --config "$TMP/run.json" 2>"$TMP/run.log" &
pid=$!; PIDS+=("$pid")
wait_for 10 test -s "$state/private.key" || fail "no key file created; log: $(cat "$TMP/run.log")"
[ "$(stat -c %a "$state")" = 700 ] || fail "state dir mode $(stat -c %a "$state")"
[ "$(stat -c %a "$state/private.key")" = 600 ] || fail "key file mode $(stat -c %a "$state/private.key")"
wait_for 10 grep -q "address=" "$TMP/run.log" || fail "identity not logged: $(cat "$TMP/run.log")"
kill -TERM "$pid"
wait "$pid"; rc=$?
[ "$rc" -eq 0 ] || fail "planetd exited $rc on SIGTERM"
first=$("$PLANETD" address --config "$TMP/run.json") || fail "address from key file"
grep -q "$first" "$TMP/run.log" || fail "logged address differs from 'planetd address'"
"$PLANETD" run --config "$TMP/run.json" 2>"$TMP/run2.log" &
pid=$!; PIDS+=("$pid")
wait_for 10 grep -q "address=" "$TMP/run2.log" || fail "second start"
kill -INT "$pid"; wait "$pid" || fail "planetd exited non-zero on SIGINT"
grep -q "$first" "$TMP/run2.log" || fail "key not reused on second start"
ok "first start creates the key, later starts reuse it, signals stop cleanly"
