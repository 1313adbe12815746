#!/usr/bin/env bash
# Two nodes link up from config; the dialing side restarts and the link returns on its own;
# the dialing side's address changes (roaming) and the link holds.
source "$(dirname "$0")/lib.sh"
tb_up linkbasic pair
ka=$(tb_key a); kb=$(tb_key b)
wait_for 20 peer_is_up a "$kb" || { dump_logs a b; fail "a does not report b as up"; }
[ "$(peer_state b "$ka")" = up ] || fail "b does not report a as up"
tb_wait_ping a b 10 || fail "no traffic over the link"
ok "link up from config, both sides"

# The overlay address goes on the TUN with IFA_F_NODAD, so it is never "tentative": a listener
# on it (a dual node's Yggdrasil port 8473, a metricsListen there) can bind the moment planetd
# has configured it. Added without the flag it was tentative for a moment, and such a bind
# failed about one start in ten (EADDRNOTAVAIL).
line=$(tb_exec a ip -6 -o addr show | grep " $(tb_addr a)/7 ") || fail "a's TUN does not hold $(tb_addr a)/7"
[[ "$line" == *nodad* && "$line" != *tentative* ]] || fail "a's overlay address is not added with nodad: $line"
ok "the overlay address is on the TUN with nodad: usable at once"

tb stop a; sleep 1; tb start a
wait_for 30 peer_is_up a "$kb" || { dump_logs a b; fail "link did not return after the dialer restarted"; }
tb_wait_ping a b 15 || fail "no traffic after the dialer restarted"
ok "dialer restart: link returned"

# Roaming: move a to a new underlay address; b must follow it without a new configuration.
dev=$(tb_exec a ip -o link show | awk -F': ' '/v1-a/{print $2}' | cut -d@ -f1)
tb_exec a ip addr add fd7a:1:1::11/64 dev "$dev" nodad
tb_exec a ip addr del fd7a:1:1::1/64 dev "$dev"
tb_exec a ping -6 -c1 -W1 "$(tb_addr b)" >/dev/null 2>&1 || true
b_sees_new_address() { tb_ctl b --json peers | grep -q 'fd7a:1:1::11'; }
wait_for 30 b_sees_new_address || { dump_logs a b; tb_ctl b --json peers; fail "b did not follow a to its new address"; }
tb_wait_ping a b 15 || fail "no traffic after roaming"
tb_wait_ping b a 15 || fail "b cannot reach a after roaming"
ok "roaming: link held across an address change"
