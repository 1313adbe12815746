#!/usr/bin/env bash
# planetd and planetctl whose stdout or stderr is a pipe nobody reads any more (`… | head -1`)
# lose that output, never the process: every case ends with the program's own exit code, not
# a death by signal (SIGILL 132 from a trapping write, SIGABRT 134, SIGSEGV 139, SIGPIPE 141).
source "$(dirname "$0")/lib.sh"
[ -x "$PLANETD" ] || fail "planetd not built at $PLANETD"
[ -x "$PLANETCTL" ] || fail "planetctl not built at $PLANETCTL"

# closed_status CMD...: runs CMD with stdout and stderr into a pipe whose reader has already
# left (`true` exits at once; CMD starts 0.3 s later), so every write it makes meets EPIPE.
# Prints CMD's exit code.
closed_status() {
  ( sleep 0.3; exec "$@" ) 2>&1 | true
  echo "${PIPESTATUS[0]}"
}
# head_status CMD...: the case as users write it, `CMD 2>&1 | head -1`; prints CMD's exit code.
head_status() {
  "$@" 2>&1 | head -1 >/dev/null
  echo "${PIPESTATUS[0]}"
}
# expect_status WANT GOT WHAT: GOT must be WANT, and in any case no death by signal.
expect_status() {
  [ "$2" -lt 128 ] || fail "$3 died of signal $(( $2 - 128 )) (exit $2)"
  [ "$2" -eq "$1" ] || fail "$3 exited $2, expected $1"
}

# planetd: help, a generated config, usage and config errors.
expect_status 0 "$(closed_status "$PLANETD" --help)" "planetd --help"
expect_status 0 "$(closed_status "$PLANETD" genconf)" "planetd genconf"
expect_status 2 "$(closed_status "$PLANETD" bogus)" "planetd bogus"
expect_status 2 "$(closed_status "$PLANETD" run --config "$TMP/nonexistent.json")" "planetd run with a missing config"
echo '{"peer": []}' > "$TMP/bad.json"
expect_status 2 "$(closed_status "$PLANETD" run --config "$TMP/bad.json")" "planetd run with a bad config"
expect_status 2 "$(head_status "$PLANETD" run --config "$TMP/bad.json")" "planetd run with a bad config | head -1"
ok "planetd's help, genconf and config errors into a closed pipe exit 0 and 2"

# A node whose stdout and stderr are a closed pipe from the start keeps running: its log lines
# are lost, it still answers planetctl, and SIGTERM stops it cleanly.
ns="planet-pipe-$$"
ip netns add "$ns" || fail "ip netns add $ns"
NAMESPACES+=("$ns")
ip -n "$ns" link set lo up
node_config() {  # node_config NAME: a node in $ns with the TUN planetpipe0
  cat > "$TMP/$1.json" <<JSON
{"stateDir": "$TMP/$1-state", "tun": {"name": "planetpipe0"}, "multicast": [], "listen": [], "adminSocket": "$TMP/$1.sock"}
JSON
}
node_config a
node_config b
exec {dead}> >(true)
sleep 0.3  # the reader has gone
ip netns exec "$ns" "$PLANETD" run --config "$TMP/a.json" >&"$dead" 2>&"$dead" &
pid=$!; PIDS+=("$pid")
exec {dead}>&-
wait_for 10 "$PLANETCTL" --socket "$TMP/a.sock" self || fail "node a with a closed stderr did not come up"
kill -0 "$pid" || fail "node a died"

# A second node asking for the same TUN fails to start (exit 1) and says so into the closed pipe.
expect_exit 1 ip netns exec "$ns" "$PLANETD" run --config "$TMP/b.json"
grep -q "planetpipe0" "$TMP/stderr" || fail "the failed start does not name the TUN: $(cat "$TMP/stderr")"
expect_status 1 "$(closed_status ip netns exec "$ns" "$PLANETD" run --config "$TMP/b.json")" "a start that fails"
expect_status 1 "$(head_status ip netns exec "$ns" "$PLANETD" run --config "$TMP/b.json")" "a start that fails | head -1"
ok "a start that fails (TUN taken) into a closed pipe exits 1"

# planetctl: help, usage errors, an unreachable daemon, and replies longer than one line.
expect_status 0 "$(closed_status "$PLANETCTL" --help)" "planetctl --help"
expect_status 0 "$(head_status "$PLANETCTL" --help)" "planetctl --help | head -1"
expect_status 2 "$(closed_status "$PLANETCTL" bogus)" "planetctl bogus"
expect_status 1 "$(closed_status "$PLANETCTL" --socket "$TMP/nonexistent.sock" peers)" "planetctl with no daemon"
for cmd in stats "--json stats" self "--json peers"; do
  # shellcheck disable=SC2086
  expect_status 0 "$(closed_status "$PLANETCTL" --socket "$TMP/a.sock" $cmd)" "planetctl $cmd"
  # shellcheck disable=SC2086
  expect_status 0 "$(head_status "$PLANETCTL" --socket "$TMP/a.sock" $cmd)" "planetctl $cmd | head -1"
done
ok "planetctl's help, errors and long replies into a closed pipe exit 0, 1 and 2"

kill -TERM "$pid"
wait "$pid"; rc=$?
expect_status 0 "$rc" "node a, stopped by SIGTERM with its log going to a closed pipe"
ok "a node logging into a closed pipe runs, answers and stops cleanly (exit 0)"
