#!/usr/bin/env bash
# The explorer page (webListen) in a real browser: headless Chromium loads it from r1 of a line
# a - r1 - r2 - b whose four nodes announce capacity (Belgium, Belgium, the Netherlands,
# Belgium; 11, 3, 11 and 8 GiB free) and checks the DOM it rendered: the page has asked every
# section (body data-state="ready"), the peers table has exactly r1's peers (a and r2, by
# overlay address, as planetctl lists them), the directory table holds all four records, and
# with ?country=BE&free-mru=8G in the address bar (the names of `planetctl nodes find`) it
# and the map hold exactly a and b, the nodes `planetctl nodes find --country BE --free-mru 8G`
# names; a link to b (#ADDRESS, what clicking a node puts there) opens b's details.
# Screenshots are saved as artifacts in $ARTIFACT_DIR (default /tmp/planetary-artifacts).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../../Tools/lib/common.sh"
mem_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
[ "$mem_kib" -ge $((12 * 1024 * 1024)) ] || skip "needs 12 GiB of memory to offer (the offers are checked against the machine)"
if ! command -v chromium >/dev/null; then
  need_packages chromium >/dev/null 2>&1 || true
  command -v chromium >/dev/null || skip "Debian's chromium is not installed and could not be (apt-get install chromium failed)"
fi
artifacts="${ARTIFACT_DIR:-/tmp/planetary-artifacts}"
mkdir -p "$artifacts" || fail "cannot make the artifact directory $artifacts"

tb_up explorer line4
dir=/tmp/planet-testbed-$TB_NAME
nodes="a r1 r2 b"
for n in $nodes; do tb stop $n; done
rm -rf "$dir"/*-state

set_capacity() {  # set_capacity NODE COUNTRY CITY LAT LON OFFER_MRU (1 GiB of it reserved)
  python3 - "$dir/$1.json" "$2" "$3" "$4" "$5" "$6" <<'PY'
import json, sys
path, country, city, lat, lon, mru = sys.argv[1:]
c = json.load(open(path))
c["capacity"] = {"enabled": True, "farm": {"id": 1, "name": "farm-1"},
                 "location": {"country": country, "city": city, "latitude": float(lat), "longitude": float(lon)},
                 "offer": {"mru": mru}, "reserved": {"mru": "1G", "cru": 0}, "announceInterval": 5, "expiry": 30}
json.dump(c, open(path, "w"), indent=2)
PY
}
set_capacity a BE Brussels 50.85 4.35 12G
set_capacity r1 BE Ghent 51.05 3.72 4G
set_capacity r2 NL Amsterdam 52.37 4.90 12G
set_capacity b be Liege 50.63 5.57 9G   # exactly 8 GiB free: "at least" includes it
for n in $nodes; do tb start $n; done

count() { tb_ctl "$1" --json nodes | json_get "len(d['nodes'])"; }
has() { [ "$(count "$1")" = "$2" ]; }
wait_for 30 has r1 4 || { dump_logs r1; fail "r1 holds $(count r1) records, not 4"; }
peers_up() { [ "$(tb_ctl r1 --json peers | json_get "sum(p['state'] == 'up' for p in d['peers'])")" = 2 ]; }
wait_for 20 peers_up || fail "r1 has not both its peers up: $(tb_ctl r1 peers)"
# The page answers on r1's loopback (the default webListen) before the browser comes in.
page_up() { tb_exec r1 python3 -c "import urllib.request; urllib.request.urlopen('http://[::1]:8472/api/self', timeout=2)"; }
wait_for 10 page_up || { dump_logs r1; fail "no explorer page on r1's [::1]:8472"; }
ok "four records at r1, both its peers up, its page answering on [::1]:8472"

# A second planetd in r1's namespace with the default webListen cannot have the port: it refuses
# to start (exit 1) naming webListen, as Docs/cli.md says.
cat > "$TMP/second.json" <<JSON
{"stateDir": "$TMP/second-state", "tun": {"enabled": false}, "multicast": [], "listen": [], "adminSocket": "$TMP/second.sock"}
JSON
expect_exit 1 tb_exec r1 "$PLANETD" run --config "$TMP/second.json"
grep -q 'webListen.*or "" to turn the page off' "$TMP/stderr" || fail "the second planetd's refusal does not name webListen: $(cat "$TMP/stderr")"
ok "a second planetd whose webListen is taken refuses to start (exit 1, names webListen)"

# What planetctl says, to hold the page to.
sorted() { tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' '; }
want_peers=$(echo "$(tb_addr a) $(tb_addr r2)" | sorted)
ctl_peers=$(tb_ctl r1 --json peers | json_get "' '.join(p['address'] for p in d['peers'])" | sorted)
[ "$ctl_peers" = "$want_peers" ] || fail "planetctl peers on r1 lists $ctl_peers, not a and r2 ($want_peers)"
want_all=$(for n in $nodes; do tb_addr $n; done | sorted)
want_be8=$(echo "$(tb_addr a) $(tb_addr b)" | sorted)
ctl_be8=$(tb_ctl r1 --json nodes find --country BE --free-mru 8G | json_get "' '.join(x['address'] for x in d['nodes'])" | sorted)
[ "$ctl_be8" = "$want_be8" ] || fail "planetctl nodes find --country BE --free-mru 8G gives $ctl_be8, not a and b ($want_be8)"

# browser URL OUT [ARGS...]: headless Chromium in r1's namespace; --virtual-time-budget lets the
# page's fetches and first refreshes finish before the DOM is written out.
browser() {
  local url=$1 out=$2; shift 2
  rm -rf "$TMP/chrome"
  timeout 90 ip netns exec "$TB_NAME-r1" chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --disable-extensions --disable-sync --disable-background-networking --disable-component-update \
    --user-data-dir="$TMP/chrome" --virtual-time-budget=15000 "$@" "$url" > "$out" 2> "$TMP/chrome.err"
}
# dom FILE WHAT: from the dumped DOM, WHAT = a table's id: the data-address of each row of its
# body; state: body's data-state; query: the nodes table's applied query; dots: the map's
# circles' data-address; details: the details panel's address ("hidden" while it is).
dom() {
  python3 - "$1" "$2" <<'PY'
import sys
from html.parser import HTMLParser
path, want = sys.argv[1:]
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.table = None; self.body = False; self.rows = []; self.state = ""; self.query = None
        self.dots = []; self.details_hidden = None; self.in_address = False; self.details_address = ""
    def handle_data(self, data):
        if self.in_address: self.details_address += data
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "circle" and "data-address" in a: self.dots.append(a["data-address"])
        if tag == "aside" and a.get("id") == "details": self.details_hidden = "hidden" in a
        self.in_address = a.get("id") == "details-address"
        if tag == "body": self.state = a.get("data-state", "")
        if tag == "table": self.table = a.get("id")
        if tag == "tbody": self.body = True
        if tag == "table" and a.get("id") == "nodes": self.query = a.get("data-query")
        if tag == "tr" and self.body and self.table == want and "data-address" in a: self.rows.append(a["data-address"])
    def handle_endtag(self, tag):
        self.in_address = False
        if tag == "tbody": self.body = False
        if tag == "table": self.table = None
p = P(); p.feed(open(path, encoding="utf-8").read())
if want == "state": print(p.state)
elif want == "query": print(p.query)
elif want == "dots": print(" ".join(sorted(p.dots)))
elif want == "details": print("hidden" if p.details_hidden else p.details_address.strip())
else: print(" ".join(sorted(p.rows)))
PY
}
sorted_rows() { dom "$1" "$2" | sorted; }

browser "http://[::1]:8472/" "$TMP/all.html" --dump-dom || fail "chromium failed: $(tail -n 5 "$TMP/chrome.err")"
[ "$(dom "$TMP/all.html" state)" = ready ] || fail "the page never got ready: $(head -c 2000 "$TMP/all.html"); chromium: $(tail -n 5 "$TMP/chrome.err")"
got=$(sorted_rows "$TMP/all.html" peers)
[ "$got" = "$want_peers" ] || fail "the peers table has [$got], planetctl has [$want_peers]"
got=$(sorted_rows "$TMP/all.html" nodes)
[ "$got" = "$want_all" ] || fail "the unfiltered nodes table has [$got], not the four nodes [$want_all]"
ok "the page in Chromium: the peers table has exactly r1's peers a and r2; the directory all four nodes"

url="http://[::1]:8472/?country=BE&free-mru=8G"
browser "$url" "$TMP/be8.html" --dump-dom || fail "chromium failed: $(tail -n 5 "$TMP/chrome.err")"
[ "$(dom "$TMP/be8.html" state)" = ready ] || fail "the filtered page never got ready"
# (The page writes the filters in the finder's order, the order of `planetctl nodes find --help`.)
[ "$(dom "$TMP/be8.html" query)" = "free-mru=8G&country=BE" ] || fail "the page applied '$(dom "$TMP/be8.html" query)', not the address bar's filters"
got=$(sorted_rows "$TMP/be8.html" nodes)
[ "$got" = "$want_be8" ] || fail "?country=BE&free-mru=8G leaves [$got], planetctl nodes find leaves [$want_be8]"
got=$(dom "$TMP/be8.html" dots | sorted)
[ "$got" = "$want_be8" ] || fail "the map plots [$got], not a and b [$want_be8]"
ok "?country=BE&free-mru=8G narrows the page's node list and its map to exactly a and b, as nodes find does"

# A link to a node (#ADDRESS, what a click puts in the address bar) opens its details.
browser "$url#$(tb_addr b)" "$TMP/b.html" --dump-dom || fail "chromium failed: $(tail -n 5 "$TMP/chrome.err")"
got=$(dom "$TMP/b.html" details)
[ "$got" = "$(tb_addr b)" ] || fail "#$(tb_addr b) opened the details of '$got'"
ok "a link to b (#ADDRESS) opens b's details with its overlay address"

browser "$url" /dev/null --screenshot="$artifacts/explorer.png" --window-size=1280,900 \
  && [ -s "$artifacts/explorer.png" ] || fail "no screenshot: $(tail -n 5 "$TMP/chrome.err")"
browser "$url#$(tb_addr a)" /dev/null --screenshot="$artifacts/explorer-full.png" --window-size=1280,2400 \
  && [ -s "$artifacts/explorer-full.png" ] || fail "no full-page screenshot: $(tail -n 5 "$TMP/chrome.err")"
ok "screenshots saved: $artifacts/explorer.png (1280x900) and $artifacts/explorer-full.png (1280x2400, a's details open)"
