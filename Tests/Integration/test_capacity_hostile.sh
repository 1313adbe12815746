#!/usr/bin/env bash
# A hostile relay: a and b announce their capacity; between them r runs planetfault, which
# sends every record it relays with one byte changed (64 GiB more memory). Neither forged
# record is stored anywhere; both ends count it as a bad signature; r itself, whose store is
# honest, holds the genuine two.
source "$(dirname "$0")/lib.sh"
PLANETFAULT="${PLANETFAULT:-$(dirname "$PLANETD")/planetfault}"
[ -x "$PLANETFAULT" ] || skip "planetfault not built (swift build -c release --product planetfault)"

tb_up caphostile line3
dir=/tmp/planet-testbed-$TB_NAME
for n in a r b; do tb stop $n; done
rm -rf "$dir"/*-state
for n in a b; do
  python3 - "$dir/$n.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["capacity"] = {"enabled": True, "location": {"country": "BE"}, "announceInterval": 5, "expiry": 30}
json.dump(c, open(sys.argv[1], "w"))
PY
done
tb start a
tb start b
ip netns exec "$TB_NAME-r" "$PLANETFAULT" tamper-capacity --config "$dir/r.json" >>"$dir/r.log" 2>&1 &
PIDS+=($!)

count() { tb_ctl "$1" --json nodes | json_get "len(d['nodes'])"; }
bad() { tb_ctl "$1" --json stats | json_get "d['drops'].get('capacity-bad-signature', 0)"; }
forged_seen() { [ "$(bad a)" -ge 1 ] && [ "$(bad b)" -ge 1 ]; }
r_holds_both() { [ "$(count r)" = 2 ]; }
wait_for 30 r_holds_both || { dump_logs a r b; fail "the relay holds $(count r) records, not 2"; }
wait_for 30 forged_seen || { dump_logs a r b; fail "forged records not refused: a $(bad a), b $(bad b); a holds $(count a), b holds $(count b); stats of b: $(tb_ctl b --json stats)"; }
# A few more re-announcements pass through r, forged each time.
sleep 6
[ "$(count a)" = 1 ] || fail "a stored a forged record: $(tb_ctl a --json nodes)"
[ "$(count b)" = 1 ] || fail "b stored a forged record: $(tb_ctl b --json nodes)"
ka=$(tb_key a); kb=$(tb_key b)
tb_ctl a --json nodes | json_get "d['nodes'][0]['publicKey']=='$ka'" | grep -q True || fail "a holds something else than its own record"
# r's copies are genuine: the memory it holds for a is what a says of itself.
own=$(tb_ctl a --json nodes show "$ka" | json_get "d['total']['mru']")
relayed=$(tb_ctl r --json nodes show "$ka" | json_get "d['total']['mru']")
[ "$own" = "$relayed" ] || fail "r holds a's record with $relayed bytes, a says $own"
ok "forged records stored nowhere (refused as bad signatures: a $(bad a), b $(bad b))"
