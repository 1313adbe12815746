# Helpers for integration tests. Source it; it sets a cleanup trap that kills the processes whose
# PIDs are in PIDS and deletes the namespaces made with `make_ns` (or listed in NAMESPACES).
# shellcheck shell=bash
set -uo pipefail

PIDS=()
NAMESPACES=()
TMP=$(mktemp -d /tmp/planet-it.XXXXXX)

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.2
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for ns in "${NAMESPACES[@]}"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# make_ns NAME...: network namespaces with lo up, deleted (and their processes killed) on exit.
make_ns() {
  local ns
  for ns in "$@"; do
    ip netns add "$ns" || fail "ip netns add $ns"
    NAMESPACES+=("$ns")
    ip -n "$ns" link set lo up
  done
}

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "$*"; exit 77; }
ok() { echo "ok: $*"; }

# expect_exit CODE CMD...: runs CMD, checks its exit code, leaves its stderr in $TMP/stderr.
expect_exit() {
  local want=$1; shift
  "$@" >"$TMP/stdout" 2>"$TMP/stderr"
  local got=$?
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; stderr: $(cat "$TMP/stderr")"
}

# wait_for SECONDS CMD...: polls CMD until it succeeds.
wait_for() {
  local secs=$1; shift
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

# Testbed helpers: every test uses its own testbed name so a leftover can't collide.
TESTBED="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/Tools/testbed"
TB_NAME=""
# `Tools/testbed up` returns once every node pings every other (or fails naming the pairs that
# do not); the trap is set first so a failed `up` is torn down too.
tb_up() {  # tb_up NAME TOPOLOGY [OPTIONS]
  TB_NAME=$1; shift
  trap 'tb_down; cleanup' EXIT
  "$TESTBED" up "$@" --name "$TB_NAME" >"$TMP/testbed.out" 2>&1 || { cat "$TMP/testbed.out"; fail "testbed up $*"; }
}
# tb_converged: the seconds `up` reported from the last planetd start to all-pairs reachability.
tb_converged() { sed -n 's/.*, \([0-9.]*\) s after the last planetd started.*/\1/p' "$TMP/testbed.out"; }
tb_down() { [ -n "$TB_NAME" ] && "$TESTBED" down --name "$TB_NAME" >/dev/null 2>&1; }
tb() { "$TESTBED" "$@" --name "$TB_NAME"; }
tb_exec() { local n=$1; shift; ip netns exec "$TB_NAME-$n" "$@"; }
tb_addr() { "$PLANETD" address --config "/tmp/planet-testbed-$TB_NAME/$1.json"; }
tb_log() { cat "/tmp/planet-testbed-$TB_NAME/$1.log"; }
tb_ctl() { local n=$1; shift; "$PLANETCTL" --socket "/tmp/planet-testbed-$TB_NAME/$n.sock" "$@"; }
# tb_wait_ping FROM TO SECONDS: until one ping gets through.
tb_wait_ping() { wait_for "$3" tb_exec "$1" ping -6 -c1 -W1 "$(tb_addr "$2")"; }
dump_logs() { for n in "$@"; do echo "--- log of $n"; tb_log "$n" | tail -n 40; done; }

# json_get EXPR: evaluates a Python expression on the JSON document read from stdin (as `d`).
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# peer_state NODE KEY: the state planetctl reports for the peer with that public key ("" if none).
peer_state() {
  tb_ctl "$1" --json peers 2>/dev/null | json_get "next((p['state'] for p in d['peers'] if p['publicKey']=='$2'), '')"
}
tb_key() { grep -o '"privateKey": "[0-9a-f]*"' "/tmp/planet-testbed-$TB_NAME/$1.json" | cut -d'"' -f4 | tail -c 65; }
peer_is_up() { [ "$(peer_state "$1" "$2")" = up ]; }
# tb_cipher NODE KIND KEY: the transport cipher of NODE's link (KIND peers) or session (KIND
# sessions) with KEY, empty when there is none.
tb_cipher() {
  tb_ctl "$1" --json "$2" | json_get "next((p['cipher'] for p in d['$2'] if p['publicKey']=='$3'), '')"
}

# tb_transfer_checked FROM TO BYTES PORT: sends BYTES of random data over TCP from node FROM to
# node TO's overlay address and fails unless the receiver's SHA-256 matches the sender's.
tb_transfer_checked() {
  local from=$1 to=$2 bytes=$3 port=$4 dir; dir=$(dirname "${BASH_SOURCE[0]}")
  head -c "$bytes" /dev/urandom > "$TMP/payload"
  local want; want=$(sha256sum "$TMP/payload" | cut -d' ' -f1)
  tb_exec "$to" python3 "$dir/tcp_transfer.py" serve "$port" "$TMP/received" > "$TMP/serve.out" &
  PIDS+=($!)
  sleep 0.5
  tb_exec "$from" python3 "$dir/tcp_transfer.py" send "$(tb_addr "$to")" "$port" "$TMP/payload" > "$TMP/send.out" || fail "transfer $from->$to failed"
  wait_for 30 test -s "$TMP/serve.out" || fail "receiver $to did not finish"
  local got; got=$(cut -d' ' -f1 "$TMP/serve.out")
  [ "$got" = "$want" ] || fail "SHA-256 differs: sent $want received $got ($(cut -d' ' -f2 "$TMP/serve.out") bytes)"
}
