#!/usr/bin/env bash
# Links and sessions pick AEGIS-256 when both ends run it, AES-256-GCM with a peer that does
# not offer AEGIS-256 (PLANETARY_NO_AEGIS=1, as a node from before it), ChaCha20-Poly1305 when
# one end opts out of AES altogether (PLANETARY_NO_AES=1), and traffic is intact either way: a
# line a - r - b where r offers ChaCha only, so a-r and r-b links are ChaCha while the a-b
# session is AEGIS-256.
source "$(dirname "$0")/lib.sh"
grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo || skip "no AES-NI/PCLMUL on this CPU: only ChaCha20-Poly1305 can be offered"
tb_up cipher line3
ka=$(tb_key a); kr=$(tb_key r); kb=$(tb_key b)
wait_for 30 peer_is_up a "$kr" || { dump_logs a r; fail "a-r link not up"; }
wait_for 30 peer_is_up b "$kr" || { dump_logs b r; fail "r-b link not up"; }
[ "$(tb_cipher a peers "$kr")" = aegis-256 ] || fail "a-r: expected aegis-256, got '$(tb_cipher a peers "$kr")'"
ok "both ends with hardware AES: the link runs aegis-256"

cipher_is() { [ "$(tb_cipher "$1" peers "$2")" = "$3" ]; }
tb stop r; sleep 0.5
PLANETARY_NO_AEGIS=1 tb start r
wait_for 60 cipher_is a "$kr" aes-256-gcm || { dump_logs a r; fail "a-r: expected aes-256-gcm, got '$(tb_cipher a peers "$kr")'"; }
[ "$(tb_cipher r peers "$ka")" = aes-256-gcm ] || fail "r's view of a-r: '$(tb_cipher r peers "$ka")'"
ok "a peer without AEGIS-256: the link falls back to aes-256-gcm, both sides agree"

tb stop r; sleep 0.5
PLANETARY_NO_AES=1 tb start r
# The links re-handshake with the restarted r (a notices r's silence, or r dials b again).
wait_for 60 cipher_is a "$kr" chacha20-poly1305 || { dump_logs a r; fail "a-r: expected chacha20-poly1305, got '$(tb_cipher a peers "$kr")'"; }
wait_for 60 cipher_is b "$kr" chacha20-poly1305 || { dump_logs b r; fail "r-b: expected chacha20-poly1305, got '$(tb_cipher b peers "$kr")'"; }
[ "$(tb_cipher r peers "$ka")" = chacha20-poly1305 ] || fail "r's view of a-r: '$(tb_cipher r peers "$ka")'"
[ "$(tb_cipher b peers "$kr")" = chacha20-poly1305 ] || fail "r-b: '$(tb_cipher b peers "$kr")'"
ok "one end without AES: its links fall back to chacha20-poly1305, both sides agree"

b=$(tb_addr b)
tb_wait_ping a b 30 || { dump_logs a r b; fail "a cannot reach b through r"; }
[ "$(tb_cipher a sessions "$kb")" = aegis-256 ] || fail "a-b session: expected aegis-256, got '$(tb_cipher a sessions "$kb")'"
tb_transfer_checked a b 20000000 5001
ok "20 MB a->b over ChaCha links inside an AEGIS-256 session, SHA-256 matches"
