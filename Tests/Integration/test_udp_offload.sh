#!/usr/bin/env bash
# UDP through a line of three with the TUN's UDP offload: numbered, hash-derived datagrams sent
# one by one (merged into UDP_L4 super-packets on b's TUN by UDPCoalescer) and sent as
# UDP_SEGMENT runs (one super-packet into a's TUN, cut by UDPSegmenter) must all arrive, each
# whole and unaltered, at a program on b that reads them one by one.
source "$(dirname "$0")/lib.sh"
tb_up udpo line3
b=$(tb_addr b)
tb_wait_ping a b 30 || { dump_logs a r b; fail "a cannot ping b within 30 s"; }
py="$(dirname "$0")/udp_datagrams.py"
# On a kernel without UDP offload on TUN (before 6.2) the kernel cuts and sends one by one, and
# the datagrams must arrive all the same; say which path ran.
if tb_log a | grep -q 'tun offloads.*udp=on'; then ok "the TUNs took UDP segmentation offload"; else echo "note: no UDP offload on this kernel"; fi

run() {  # run MODE PORT COUNT SIZE
  tb_exec b python3 "$py" serve "$2" "$3" "$4" 15 > "$TMP/serve-$1.out" &
  local srv=$!
  sleep 0.5
  tb_exec a python3 "$py" send "$b" "$2" "$3" "$4" "$1" || fail "$1: the sender failed"
  wait "$srv"
  local got; got=$(cat "$TMP/serve-$1.out")
  echo "$1: $got"
  # A datagram or two lost is UDP; a bad one is a bug. With pacing nothing should be lost.
  [ "$(echo "$got" | awk '{print $4}')" = 0 ] || fail "$1: datagrams arrived altered: $got"
  [ "$(echo "$got" | awk '{print $2}')" -ge $(( $3 * 98 / 100 )) ] || fail "$1: too few arrived: $got of $3"
}

run plain 6001 3000 1200
ok "3000 datagrams of 1200 bytes, sent one by one, arrived intact"
run gso 6002 3000 1000
ok "3000 datagrams of 1000 bytes sent as UDP_SEGMENT runs of 16 arrived intact, one by one"

drops=$(tb_ctl a --json stats | json_get "d.get('drops', {}).get('io-tun-offload-malformed', 0)")
[ "$drops" = 0 ] || fail "a dropped $drops super-packets as malformed"
ok "no offload drops on the sender"
