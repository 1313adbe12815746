#!/usr/bin/env bash
# The README's "A short tour", run as written. The commands are read from README.md (every line
# of the section's sh blocks), not copied here, so the test follows the README: a command that
# stops working fails it. First the binaries are installed as a new user gets them, by the
# install step of `./Tools/run` (`Tools/run --install-only`, from a shell with nothing but a
# fresh root login's PATH, where `planetd` is not found before it); then each line runs as a new
# user types it in another terminal: with that PATH and nothing else in the environment, so
# `planetd` and `planetctl` are the ones in /usr/local/bin, which must be the binaries under
# test. Each line must succeed, and where the README says what a command prints (its comment)
# the output is checked against that. The bad-config line the README shows must be exactly what
# planetd prints, with exit code 2.
#
# The install and the `planetd` lines run in a sandbox: a network namespace of their own and a
# private mount namespace where /usr/local is an overlay kept in $TMP (the install lands there,
# not on the host), /run and /var/lib are empty tmpfs for the tour's lines (so `planetd run`
# with a genconf config, whose admin socket and state live there, touches nothing of the
# host's), and /etc/yggdrasil.conf, if the host has none, is a fresh `yggdrasil -genconf` laid
# over /etc. The `Tools/testbed` lines run from the repository root, with the fresh PATH too,
# under a testbed name of this test's own ($TESTBED_NAME), which the cleanup takes down, and with
# PLANETD and PLANETCTL naming the binaries under test (a user's testbed finds the same build).
source "$(dirname "$0")/lib.sh"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
readme="$repo/README.md"
command -v unshare >/dev/null || skip "needs unshare (util-linux)"

# The PATH of a fresh root login shell on Debian (/etc/profile), and nothing else.
fresh_env=(env -i "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/root)
mkdir -p "$TMP/tour" "$TMP/etc" "$TMP/usr-up" "$TMP/usr-work"
export TESTBED_NAME="readme$$"
TB_NAME=$TESTBED_NAME
trap 'tb_down; cleanup' EXIT

# --- the README's tour: sh lines, and the block that shows planetd's answer to a bad config ---
python3 - "$readme" > "$TMP/tour.tsv" <<'PY' || fail "could not read the tour from README.md"
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"^## A short tour\n(.*?)(?=^## )", text, re.S | re.M)
if not m:
    sys.exit("README.md has no '## A short tour' section")
for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", m.group(1), re.S | re.M):
    for line in body.splitlines():
        if line.strip():
            print(("sh" if lang == "sh" else "shown") + "\t" + line)
PY
grep -q "^sh	planetd genconf" "$TMP/tour.tsv" || fail "the tour has no 'planetd genconf' line"
grep -q "^sh	Tools/testbed up" "$TMP/tour.tsv" || fail "the tour has no 'Tools/testbed up' line"

ns="rtour$$"
ip netns add "$ns" || fail "ip netns add $ns"
NAMESPACES+=("$ns")
ip -n "$ns" link set lo up
overlay_etc=""
if [ ! -e /etc/yggdrasil.conf ]; then
  yggdrasil -genconf > "$TMP/etc/yggdrasil.conf" 2>/dev/null || fail "yggdrasil -genconf"
  overlay_etc="mount -t overlay overlay -o lowerdir=$TMP/etc:/etc /etc || exit 97;"
fi
overlay_usr="mount -t overlay overlay -o lowerdir=/usr/local,upperdir=$TMP/usr-up,workdir=$TMP/usr-work /usr/local || exit 97;"
# in_sandbox SCRIPT: runs SCRIPT with bash in the sandbox, in $TMP/tour, with a fresh login's PATH.
in_sandbox() {
  ip netns exec "$ns" unshare -m --propagation private bash -c \
    "$overlay_etc $overlay_usr mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib || exit 97;
     cd '$TMP/tour' && exec ${fresh_env[*]} bash -c $(printf %q "$1")"
}

# --- the binaries, as a new user gets them: `./Tools/run`'s install step. (Its own sandbox keeps
# the host's /var/lib: it asks dpkg what is installed. Whatever the host has in /usr/local/bin
# is removed from the overlay first, so nothing but the install step can put planetd there.)
ip netns exec "$ns" unshare -m --propagation private bash -c \
  "$overlay_usr rm -f /usr/local/bin/planetd /usr/local/bin/planetctl /usr/local/bin/planetsim;
   ${fresh_env[*]} bash -c 'command -v planetd' && exit 98;
   cd '$repo' && ${fresh_env[*]} ./Tools/run --install-only" </dev/null >"$TMP/install.out" 2>&1
rc=$?
[ "$rc" -ne 97 ] || fail "could not set up the sandbox for the install step"
[ "$rc" -ne 98 ] || fail "planetd is on a fresh PATH before the install step"
[ "$rc" -eq 0 ] || fail "'./Tools/run --install-only' exited $rc: $(tail -n 20 "$TMP/install.out")"
grep -q "installed planetd, planetctl and planetsim into /usr/local/bin" "$TMP/install.out" \
  || fail "'./Tools/run --install-only' does not say where it installed the binaries: $(tail -n 5 "$TMP/install.out")"
in_sandbox "command -v planetd planetctl planetsim" </dev/null >"$TMP/which" 2>&1
[ "$(cat "$TMP/which")" = "$(printf '/usr/local/bin/%s\n' planetd planetctl planetsim)" ] \
  || fail "after the install step a fresh shell finds: $(cat "$TMP/which")"
cmp -s "$TMP/usr-up/bin/planetd" "$PLANETD" && cmp -s "$TMP/usr-up/bin/planetctl" "$PLANETCTL" \
  && cmp -s "$TMP/usr-up/bin/planetsim" "$(dirname "$PLANETD")/planetsim" \
  || fail "the install step installed other binaries than those under test (beside $PLANETD)"
ok "'./Tools/run --install-only' puts planetd, planetctl and planetsim (the binaries under test) on a fresh root login's PATH, where they were not before"

# run_line WHERE LINE: runs LINE exactly as written; stdout in $TMP/out, stderr in $TMP/err, $rc.
run_line() {
  if [ "$1" = sandbox ]; then
    in_sandbox "timeout 120 bash -c $(printf %q "$2")" </dev/null >"$TMP/out" 2>"$TMP/err"
  else
    (cd "$repo" && "${fresh_env[@]}" PLANETD="$PLANETD" PLANETCTL="$PLANETCTL" TESTBED_NAME="$TESTBED_NAME" \
      timeout 120 bash -c "$2") </dev/null >"$TMP/out" 2>"$TMP/err"
  fi
  rc=$?
  [ "$rc" -ne 97 ] || fail "could not set up the sandbox for: $2"
}
must_succeed() { [ "$rc" -eq 0 ] || fail "'$1' exited $rc; stdout: $(cat "$TMP/out"); stderr: $(cat "$TMP/err")"; }
out_has() { grep -qE -- "$2" "$TMP/out" || fail "'$1' does not print what the README says ($3); it printed: $(cat "$TMP/out")"; }
addr_of() { (cd "$repo" && Tools/testbed addr "$1"); }

checked=0 plain=0
while IFS=$'\t' read -r -u 3 kind line; do
  cmd=$(echo "$line" | sed -E 's/[[:space:]]+#[[:space:]].*$//')
  if [ "$kind" = shown ]; then
    # The README shows planetd's answer to a config with a misspelt key: it must be exact.
    case "$line" in
      "planetd: node.json: config: peer: unknown key"*)
        mkdir -p "$TMP/tour/bad"
        in_sandbox "planetd genconf | sed 's/\"peers\"/\"peer\"/' > bad/node.json" </dev/null || fail "planetd genconf"
        in_sandbox "cd bad && planetd run --config node.json" </dev/null >/dev/null 2>"$TMP/err"
        rc=$?
        [ "$rc" -eq 2 ] || fail "a misspelt key exits $rc, the README says 2"
        [ "$(cat "$TMP/err")" = "$line" ] || fail "a misspelt key prints '$(cat "$TMP/err")', the README shows '$line'"
        ok "README's bad-config line is what planetd prints, exit code 2"
        checked=$((checked + 1));;
      *) fail "the tour shows output this test does not know how to produce: $line";;
    esac
    continue
  fi
  case "$cmd" in
    planetd\ run\ *)
      # Runs until stopped: it must come up (and stay up) for 4 s, then SIGTERM stops it cleanly.
      in_sandbox "timeout -s TERM 4 bash -c $(printf %q "$line")" </dev/null >"$TMP/out" 2>"$TMP/err"
      rc=$?
      [ "$rc" -eq 124 ] || fail "'$cmd' exited $rc before it was stopped: $(tail -n 5 "$TMP/err")"
      grep -q 'msg="starting planetd"' "$TMP/err" || fail "'$cmd' did not log its start: $(tail -n 5 "$TMP/err")"
      grep -q 'msg="admin socket ready"' "$TMP/err" || fail "'$cmd' opened no admin socket: $(tail -n 5 "$TMP/err")"
      want=$(in_sandbox "planetd address --config node.json")
      grep -q "address=$want " "$TMP/err" || fail "'$cmd' runs with another address than 'planetd address' prints ($want)"
      ok "$cmd: starts, serves, stops on SIGTERM";;
    planetd\ *|Tools/testbed\ *)
      where=repo; case "$cmd" in planetd\ *) where=sandbox;; esac
      run_line "$where" "$line"
      must_succeed "$cmd"
      case "$cmd" in
        "planetd genconf > node.json")
          python3 - "$TMP/tour/node.json" "$repo/Configs/planetd.json" <<'PY' || fail "'$cmd' did not write a complete config"
import json, re, sys
got, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert set(got) == set(ref), "keys differ: %s" % sorted(set(got) ^ set(ref))
assert re.fullmatch(r"[0-9a-f]{64}|[0-9a-f]{128}", got["privateKey"]), "no fresh private key"
PY
          ok "$cmd: a complete config with a fresh key";;
        "planetd address --config node.json")
          out_has "$cmd" '^2[0-9a-f]{2}:[0-9a-f:]+$' "an address in 200::/7"
          address=$(cat "$TMP/out")
          ok "$cmd: $address";;
        "planetd subnet --config node.json")
          out_has "$cmd" '^3[0-9a-f]{2}:[0-9a-f:]*::/64$' "a /64 in 300::/8"
          # The /64 is the address's first 64 bits with 0x02 turned into 0x03.
          a4=$(echo "$address" | cut -d: -f1-4); s4=$(cut -d: -f1-4 "$TMP/out")
          [ "3${a4#2}" = "$s4" ] || fail "subnet $(cat "$TMP/out") does not belong to address $address"
          ok "$cmd: $(cat "$TMP/out")";;
        "planetd genconf --from-yggdrasil /etc/yggdrasil.conf > node.json")
          got=$(in_sandbox "planetd address --config node.json && planetd subnet --config node.json")
          want=$(in_sandbox "yggdrasil -useconffile /etc/yggdrasil.conf -address && yggdrasil -useconffile /etc/yggdrasil.conf -subnet")
          [ -n "$want" ] && [ "$got" = "$want" ] || fail "'$cmd' does not keep the Yggdrasil node's address: planetd says '$got', yggdrasil '$want'"
          ok "$cmd: the node keeps its Yggdrasil address and subnet ($(echo $got))";;
        "Tools/testbed up "*)
          out_has "$cmd" 'all [0-9]+ pairs reach each other' "returns once every node reaches every other"
          ok "$cmd: $(grep -E 'all [0-9]+ pairs' "$TMP/out")";;
        "Tools/testbed exec a ping -6 -c3 \$(Tools/testbed addr b)")
          out_has "$cmd" '^3 packets transmitted, 3 received' "a reaches b"
          ok "$cmd: 3 of 3 answered";;
        "Tools/testbed exec a traceroute -6 \$(Tools/testbed addr b)")
          r=$(addr_of r); b=$(addr_of b)
          hop_r=$(grep -nF " $r " "$TMP/out" | head -n 1 | cut -d: -f1)
          hop_b=$(grep -nF " $b " "$TMP/out" | tail -n 1 | cut -d: -f1)
          [ -n "$hop_r" ] && [ -n "$hop_b" ] && [ "$hop_r" -lt "$hop_b" ] \
            || fail "'$cmd' does not show r's address ($r), then b ($b): $(cat "$TMP/out")"
          ok "$cmd: r, then b";;
        "Tools/testbed ctl a peers")
          r=$(addr_of r)
          grep -F "$r" "$TMP/out" | grep -qw up || fail "'$cmd' does not show the link to r ($r) up: $(cat "$TMP/out")"
          grep -q "RTT" "$TMP/out" && grep -q "RX" "$TMP/out" || fail "'$cmd' shows no RTT and traffic columns"
          ok "$cmd: linked to r, with RTT and traffic";;
        "Tools/testbed ctl a routes")
          for n in r b; do grep -qF "$(addr_of $n)" "$TMP/out" || fail "'$cmd' has no route to $n: $(cat "$TMP/out")"; done
          ok "$cmd: routes to r and b";;
        "Tools/testbed ctl a --json sessions")
          b=$(addr_of b)
          python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert any(s['address']==sys.argv[2] for s in d['sessions'])" \
            "$TMP/out" "$b" || fail "'$cmd' is not JSON with a session to b ($b): $(cat "$TMP/out")"
          ok "$cmd: JSON, with the session to b the ping made";;
        "Tools/testbed down")
          ip netns list | grep -q "^$TESTBED_NAME-" && fail "'$cmd' left namespaces: $(ip netns list | grep "^$TESTBED_NAME-")"
          ok "$cmd: nothing left";;
        *)
          plain=$((plain + 1))
          ok "$cmd: exits 0 (the test checks no output for it)"
          continue;;
      esac;;
    *) fail "the tour has a line this test cannot run as written: $line";;
  esac
  checked=$((checked + 1))
done 3< "$TMP/tour.tsv"
[ "$checked" -ge 10 ] || fail "only $checked README lines checked; has the tour lost its commands?"
ok "README tour: $checked lines checked, $plain only for their exit status"
