#!/usr/bin/env bash
# Nodes of this version and of an older one (PLANETD_OLD: a planetd from before tag-bound
# payloads, frame 0x08) on one line a - r - b: links negotiate the framing both ends know, and
# transfers through the relay stay intact whichever node runs the old binary. Skipped without
# PLANETD_OLD (e.g. PLANETD_OLD=/path/to/main/.build/release/planetd).
source "$(dirname "$0")/lib.sh"
[ -n "${PLANETD_OLD:-}" ] && [ -x "$PLANETD_OLD" ] || skip "set PLANETD_OLD to an older planetd to run this test"
tb_up mixed line3
kr=$(tb_key r)
b=$(tb_addr b)
tb_wait_ping a b 30 || { dump_logs a r b; fail "a cannot reach b"; }
tb_transfer_checked a b 20000000 5001
ok "all new: 20 MB a->b through r, SHA-256 matches"

restart_old() {  # restart_old NODE: the same node (key, config) on the old binary
  tb stop "$1"; sleep 0.5
  PLANETD="$PLANETD_OLD" tb start "$1"
}
restart_new() { tb stop "$1"; sleep 0.5; tb start "$1"; }

new_ciphers=$(tb_cipher a peers "$kr")

restart_old r
wait_for 60 peer_is_up a "$kr" || { dump_logs a r; fail "a-r link not up with an old r"; }
tb_wait_ping a b 60 || { dump_logs a r b; fail "a cannot reach b through an old r"; }
tb_transfer_checked a b 20000000 5002
ok "old relay between new ends: 20 MB intact"
# A binary from before AEGIS-256 ignores its offer bit: with a new node it agrees on
# AES-256-GCM, while the new ends' session keeps AEGIS-256.
if [ "$new_ciphers" = aegis-256 ]; then
  old_link=$(tb_cipher a peers "$kr"); session=$(tb_cipher a sessions "$(tb_key b)")
  case "$old_link" in aes-256-gcm|aegis-256) ;; *) fail "new a - old r link runs '$old_link'";; esac
  [ "$session" = aegis-256 ] || fail "a-b session: expected aegis-256, got '$session'"
  ok "new-old link: $old_link; new-new session across it: $session"
fi

restart_new r
restart_old a
wait_for 60 peer_is_up b "$kr" || { dump_logs b r; fail "r-b link not up"; }
tb_wait_ping a b 60 || { dump_logs a r b; fail "an old a cannot reach b through a new r"; }
tb_transfer_checked a b 20000000 5003
tb_transfer_checked b a 20000000 5004
ok "old end, new relay: 20 MB each way intact"
