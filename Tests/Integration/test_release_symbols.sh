#!/usr/bin/env bash
# Nothing of the tests in the product: the planetd under test (the release build) carries none
# of PlanetTesting (the in-memory doubles, the harnesses) and none of the test hooks that used
# to live in product modules, by name, neither in its symbols (mangled or not) nor in its
# strings. Moving a double back into PlanetRuntime, or a hook back into the core, fails here.
source "$(dirname "$0")/lib.sh"
[ -x "$PLANETD" ] || fail "no planetd at $PLANETD"
command -v nm >/dev/null || skip "nm not installed (binutils)"

names='PlanetTesting|MemoryTransport|MemoryNetwork|MemoryPacketDevice|MemoryHostNetwork|ReadinessQueue|outgoingRecordTransform|testingSetSendCounter|readBatch'
nm "$PLANETD" > "$TMP/symbols" 2>&1
# A stripped binary would pass for nothing: the runtime's own types must be there to be seen.
grep -q NodeRunner "$TMP/symbols" || fail "nm shows no NodeRunner in $PLANETD (stripped?): $(head -c 300 "$TMP/symbols")"
nm -C "$PLANETD" >> "$TMP/symbols" 2>&1
strings -a "$PLANETD" >> "$TMP/symbols"
found=$(grep -oE "$names" "$TMP/symbols" | sort | uniq -c)
[ -z "$found" ] || fail "planetd carries test code: $(echo "$found" | tr -s ' \n' ' ')"
ok "planetd ($(wc -l < "$TMP/symbols") symbol and string lines) names none of $names"
