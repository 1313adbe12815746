#!/usr/bin/env bash
# The golden bytes of the PlanetYggdrasil tests stay true: Tools/capture-yggdrasil runs two real
# yggdrasil 0.5.12 nodes again (network namespaces of its own) into a scratch directory, and
# each side's meta handshake (deterministic: fixed keys, ed25519) must equal the committed
# fixture byte for byte; each stream must still open with SigReq then the empty Bloom.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
source Tools/lib/common.sh
need_yggdrasil_05 >/dev/null 2>&1 || skip "yggdrasil 0.5.12 unavailable (need_yggdrasil_05 failed)"
fixtures=Tests/PlanetYggdrasilTests/Fixtures/yggdrasil-0.5.12
Tools/capture-yggdrasil "$TMP/out" >"$TMP/capture.log" 2>&1 || { cat "$TMP/capture.log"; fail "capture"; }
for run in plain password traffic; do
  for side in listener dialer; do
    cmp -n 123 "$fixtures/$run/$side.bin" "$TMP/out/$run/$side.bin" || fail "$run $side: handshake differs from the fixture"
    python3 - "$TMP/out/$run/$side.bin" <<'PY' || fail "$run $side: stream does not open with SigReq, empty Bloom"
import sys
b = open(sys.argv[1], "rb").read()[123:]
# frame 1: length 12 or so, type 2; frame 2: length 33, type 5, 16 x ff, 16 x 00
n = b[0]
assert b[1] == 2, b[:4].hex()
f2 = b[1 + n:]
assert f2[0] == 33 and f2[1] == 5 and f2[2:34] == b"\xff" * 16 + b"\x00" * 16, f2[:4].hex()
PY
  done
done
ok "yggdrasil 0.5.12 still sends the committed handshakes and opens with SigReq, empty Bloom"
