#!/usr/bin/env bash
# A relay and then an end node restart; links and sessions come back with no manual action.
source "$(dirname "$0")/lib.sh"
tb_up restart line3
b=$(tb_addr b)
tb_wait_ping a b 30 || { dump_logs a r b; fail "a cannot reach b"; }
tb stop r; sleep 1; tb start r
tb_wait_ping a b 45 || { dump_logs a r b; fail "no traffic after the relay restarted"; }
ok "relay restart recovered"
tb stop b; sleep 1; tb start b
tb_wait_ping a b 45 || { dump_logs a r b; fail "no traffic after b restarted"; }
tb_exec b ping -6 -c1 -W2 "$(tb_addr a)" >/dev/null || fail "b cannot reach a after its restart"
ok "end node restart recovered"
