#!/usr/bin/env bash
# planetsim drives the real router code: 1,000 nodes on a random graph (mean degree 4) converge, lose 20 links
# at once, converge again, and no packet walk ever loops; everyone reaches everyone.
source "$(dirname "$0")/lib.sh"
sim="$(dirname "$PLANETD")/planetsim"
[ -x "$sim" ] || fail "planetsim not built at $sim"
for topo in random; do
  "$sim" --nodes 1000 --topology "$topo" --degree 4 --seed 7 --fail-links 20 --steady 5 --json > "$TMP/sim.json" 2>"$TMP/sim.err" || fail "planetsim $topo: $(cat "$TMP/sim.err")"
  python3 - "$TMP/sim.json" "$topo" <<'PY' || fail "planetsim $topo result: $(cat "$TMP/sim.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["nodes"] == 1000, d["nodes"]
assert d["loopsObserved"] == 0, "loops: %s" % d["loopsObserved"]
assert d["unreachablePairs"] == 0, "unreachable pairs: %s" % d["unreachablePairs"]
assert d["convergedSeconds"] > 0
print("ok: %s, 1000 nodes: converged in %.1f s of virtual time, failover %s, 0 loops, 0 unreachable pairs" % (
    sys.argv[2], d["convergedSeconds"], json.dumps(d.get("failoverSeconds"))))
PY
done
# Bad arguments: one line, exit 2.
expect_exit 2 "$sim" --nodes abc
expect_exit 2 "$sim" --topology moebius
expect_exit 2 "$sim" --nodes 10 --origins 11
expect_exit 2 "$sim" --nodes 10 --origins 0
ok "bad arguments exit 2"
