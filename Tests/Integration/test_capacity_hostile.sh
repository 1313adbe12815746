#!/usr/bin/env bash
# A hostile relay: a and b announce their capacity; between them, in r's place, runs
# planethostile tamper-capacity, which sends every record it relays with one byte changed (64 GiB
# more memory). Neither forged record is stored anywhere; both ends count it as a bad
# signature; the relay itself, whose directory is honest, holds the genuine two.
source "$(dirname "$0")/lib.sh"
HOSTILE="${PLANETHOSTILE:-$(dirname "$PLANETD")/planethostile}"
[ -x "$HOSTILE" ] || fail "no planethostile at $HOSTILE (swift build -c release --product planethostile)"

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
# The relay takes a's link on r's port and dials b as r would (r's peer in its config); it
# reports each genuine record its directory takes in r's log: "holds KEY seqno N mru BYTES".
b_peer=$(json_get "d['peers'][0].removeprefix('udp://')" < "$dir/r.json")
tb_exec r "$HOSTILE" tamper-capacity --listen 8470 --peer "$b_peer" >>"$dir/r.log" 2>&1 &
PIDS+=($!)

ka=$(tb_key a); kb=$(tb_key b)
count() { tb_ctl "$1" --json nodes | json_get "len(d['nodes'])"; }
bad() { tb_ctl "$1" --json stats | json_get "d['drops'].get('capacity-bad-signature', 0)"; }
forged_seen() { [ "$(bad a)" -ge 1 ] && [ "$(bad b)" -ge 1 ]; }
relay_mru() { grep -o "tamper-capacity: holds $1 seqno [0-9]* mru [0-9]*" "$dir/r.log" | tail -n 1 | awk '{print $NF}'; }
r_holds_both() { [ -n "$(relay_mru "$ka")" ] && [ -n "$(relay_mru "$kb")" ]; }
wait_for 30 r_holds_both || { dump_logs a r b; fail "the relay does not hold both a's and b's records"; }
wait_for 30 forged_seen || { dump_logs a r b; fail "forged records not refused: a $(bad a), b $(bad b); a holds $(count a), b holds $(count b); stats of b: $(tb_ctl b --json stats)"; }
# A few more re-announcements pass through r, forged each time.
sleep 6
[ "$(count a)" = 1 ] || fail "a stored a forged record: $(tb_ctl a --json nodes)"
[ "$(count b)" = 1 ] || fail "b stored a forged record: $(tb_ctl b --json nodes)"
tb_ctl a --json nodes | json_get "d['nodes'][0]['publicKey']=='$ka'" | grep -q True || fail "a holds something else than its own record"
# The relay's copies are genuine: the memory it holds for a is what a says of itself.
own=$(tb_ctl a --json nodes show "$ka" | json_get "d['total']['mru']")
relayed=$(relay_mru "$ka")
[ "$own" = "$relayed" ] || fail "the relay holds a's record with $relayed bytes, a says $own"
ok "forged records stored nowhere (refused as bad signatures: a $(bad a), b $(bad b))"
