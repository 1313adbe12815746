# Helpers for integration tests. Source it; it sets a cleanup trap that kills the processes
# started with `spawn` (by PID) and deletes namespaces made with `make_ns`.
# shellcheck shell=bash
set -uo pipefail

PIDS=()
NAMESPACES=()
TMP=$(mktemp -d /tmp/planet-it.XXXXXX)

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.2
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

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
