#!/usr/bin/env bash
# The Debian package (Tools/package; Docs/operations.md, "Installing the Debian package"):
#   - Tools/package builds planetary_<version>_amd64.deb, version that of the source; its
#     Depends has what the binaries need from Debian and nothing of Swift; lintian reports no
#     error and no warning.
#   - dpkg -i installs it: every file it lists is there; the binaries load the Swift runtime
#     from /usr/lib/planetary; the man pages carry Docs/cli.md's commands and config keys; the
#     bash completion offers cli.md's planetctl commands and filters; the user and group
#     planetary; /etc/planetary/planetd.json 0600 planetary with a key, and `planetd address`
#     on it; systemd-analyze verify accepts the unit (where systemd-analyze is installed).
#   - the installed unit's ExecStart, run as the unit runs it (its User, Group, ambient
#     capabilities, RuntimeDirectory as systemd makes it) in a network namespace, brings up its
#     TUN with the config's address, and the installed planetctl reaches it; SIGTERM stops it.
#   - reinstalling (an upgrade) and removing keep the config, key and user; purging removes every
#     file of the package, /etc/planetary, /var/lib/planetary, /run/planetary, the user and the
#     group.
# The install is the host's own (dpkg's database, /usr/bin, /etc): the test runs only where no
# package, user, group or directory named planetary exists, and purges what it installed even
# when it fails. The node runs in a namespace of its own and a private mount namespace (an
# empty /run), so it meets nothing of the host's network.
source "$(dirname "$0")/lib.sh"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
for c in dpkg-deb unshare setpriv; do command -v "$c" >/dev/null || skip "needs $c"; done
[ "$(dpkg --print-architecture)" = amd64 ] || skip "Tools/package builds amd64 packages only"
command -v lintian >/dev/null || fail "lintian is not installed (TEST_PACKAGES in Tools/lib/common.sh lists it; ./Tools/test installs it)"

# Someone else's planetary is never touched.
status=$(dpkg-query -W -f='${Status}' planetary 2>/dev/null)
case "$status" in
  ""|*" not-installed") ;;
  *) skip "dpkg has a package planetary here ($status); not touching it";;
esac
getent passwd planetary >/dev/null && skip "a user planetary exists here (not from this package); not touching it"
getent group planetary >/dev/null && skip "a group planetary exists here; not touching it"
for p in /etc/planetary /var/lib/planetary /usr/lib/planetary /usr/bin/planetd /usr/bin/planetctl /usr/bin/planetsim; do
  [ -e "$p" ] && skip "$p exists here (not from this package); not touching it"
done

# dpkg_do OUT ARGS...: dpkg ARGS with its output in OUT, waiting up to 120 s while another dpkg
# or apt holds dpkg's lock (a shared machine installing something).
dpkg_do() {
  local out=$1; shift
  for _ in $(seq 1 120); do
    LC_ALL=C dpkg "$@" >"$out" 2>&1 && return 0
    grep -q "locked by another process" "$out" || return 1
    sleep 1
  done
  return 1
}
installed=0
purge() {
  [ "$installed" -eq 1 ] || return 0
  # The user cannot be deleted while a process of it runs: the node cleanup killed must be gone.
  for _ in $(seq 1 50); do pgrep -u planetary >/dev/null 2>&1 || break; sleep 0.1; done
  local out; out=$(mktemp)
  dpkg_do "$out" --purge planetary || { cat "$out"; echo "could not purge planetary: run dpkg --purge planetary"; }
  rm -f "$out"
}
trap 'cleanup; purge' EXIT   # cleanup first: it kills the node, which runs as user planetary

# --- build
version=$(sed -n 's/^ *public static let string = "\(.*\)"$/\1/p' "$repo/Sources/PlanetCore/Support/Version.swift")
[ -n "$version" ] || fail "no version in Sources/PlanetCore/Support/Version.swift"
mkdir -p "$TMP/out"
"$repo/Tools/package" --output "$TMP/out" >"$TMP/package.out" 2>"$TMP/package.err" || { tail -n 20 "$TMP/package.err"; fail "Tools/package failed"; }
deb="$TMP/out/planetary_${version}_amd64.deb"
[ "$(tail -n 1 "$TMP/package.out")" = "$deb" ] || fail "Tools/package printed '$(tail -n 1 "$TMP/package.out")', expected $deb"
[ -f "$deb" ] || fail "no $deb"
[ "$(dpkg-deb -f "$deb" Package)" = planetary ] && [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] \
  && [ "$(dpkg-deb -f "$deb" Architecture)" = amd64 ] || fail "control: $(dpkg-deb -f "$deb" Package Version Architecture)"
depends=$(dpkg-deb -f "$deb" Depends)
for d in libc6 libsodium23 libstdc++6 adduser iproute2 nftables; do
  [[ ", $depends," == *", $d "* || ", $depends," == *", $d,"* ]] || fail "Depends lacks $d: $depends"
done
[[ "$depends" != *swift* ]] || fail "Depends names a Swift package (the runtime is shipped): $depends"
ok "Tools/package: $(basename "$deb") ($(( $(stat -c %s "$deb") / 1048576 )) MiB), Depends: $depends"

lintian --fail-on error,warning "$deb" >"$TMP/lintian.out" 2>&1 || { cat "$TMP/lintian.out"; fail "lintian reports errors or warnings"; }
ok "lintian: no errors, no warnings"

# --- install
installed=1
dpkg_do "$TMP/dpkg.out" -i "$deb" || { cat "$TMP/dpkg.out"; fail "dpkg -i failed"; }
[ "$(dpkg-query -W -f='${Status}' planetary)" = "install ok installed" ] || fail "planetary not installed: $(dpkg-query -W -f='${Status}' planetary)"
dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's#^\./#/#' | grep -v '/$' > "$TMP/files"
[ "$(wc -l < "$TMP/files")" -ge 20 ] || fail "the package has only $(wc -l < "$TMP/files") files"
while read -r f; do [ -f "$f" ] || fail "$f (in the package) is not installed"; done < "$TMP/files"
for f in /usr/bin/planetd /usr/bin/planetctl /usr/bin/planetsim /usr/lib/planetary/libswiftCore.so \
  /usr/lib/planetary/libFoundation.so /lib/systemd/system/planetd.service /usr/share/man/man8/planetd.8.gz \
  /usr/share/man/man8/planetctl.8.gz /usr/share/man/man1/planetsim.1.gz /usr/share/bash-completion/completions/planetd \
  /usr/share/bash-completion/completions/planetctl /usr/share/doc/planetary/copyright /usr/share/doc/planetary/changelog.gz \
  /usr/share/doc/planetary/operations.md.gz /usr/share/doc/planetary/cli.md.gz /usr/share/doc/planetary/README.md.gz; do
  grep -qx "$f" "$TMP/files" || fail "the package lacks $f"
done
for b in planetd planetctl planetsim; do
  [ "$(stat -c %a "/usr/bin/$b")" = 755 ] || fail "/usr/bin/$b is mode $(stat -c %a "/usr/bin/$b")"
  ldd "/usr/bin/$b" > "$TMP/ldd" || fail "ldd /usr/bin/$b"
  ! grep -q "not found" "$TMP/ldd" || fail "/usr/bin/$b: $(grep "not found" "$TMP/ldd")"
  grep -q "libswiftCore.so => /usr/lib/planetary/libswiftCore.so" "$TMP/ldd" || fail "/usr/bin/$b does not load the packaged Swift runtime: $(cat "$TMP/ldd")"
  ! grep -q /opt/swift "$TMP/ldd" || fail "/usr/bin/$b loads from the toolchain: $(grep /opt/swift "$TMP/ldd")"
done
[ "$(env -i /usr/bin/planetd --version)" = "planetd $version" ] || fail "installed planetd --version: $(env -i /usr/bin/planetd --version 2>&1)"
[ "$(env -i /usr/bin/planetctl --version)" = "planetctl $version" ] || fail "installed planetctl --version"
env -i /usr/bin/planetsim --nodes 20 --steady 0 --json > "$TMP/sim.json" || fail "installed planetsim"
[ "$(json_get "d['loopsObserved']" < "$TMP/sim.json")" = 0 ] || fail "planetsim: $(cat "$TMP/sim.json")"
ok "dpkg -i: all $(wc -l < "$TMP/files") files; planetd, planetctl, planetsim run on the Swift runtime in /usr/lib/planetary"

# The unit: the repository's, with the package's paths.
unit=/lib/systemd/system/planetd.service
grep -qx "ExecStart=/usr/bin/planetd run --config /etc/planetary/planetd.json" "$unit" || fail "unit ExecStart: $(grep ExecStart "$unit")"
! grep -q /usr/local "$unit" || fail "the unit names /usr/local: $(grep /usr/local "$unit")"
diff <(grep -v -e '^#' -e '^Documentation=' -e '^ExecStart=' "$repo/Configs/planetd.service") \
     <(grep -v -e '^#' -e '^Documentation=' -e '^ExecStart=' "$unit") >/dev/null \
  || fail "the installed unit differs from Configs/planetd.service in more than paths"
if command -v systemd-analyze >/dev/null; then
  man=yes; command -v man >/dev/null || man=no
  systemd-analyze verify --man="$man" "$unit" >"$TMP/verify" 2>&1 || { cat "$TMP/verify"; fail "systemd-analyze verify $unit"; }
  [ ! -s "$TMP/verify" ] || { cat "$TMP/verify"; fail "systemd-analyze verify complains about $unit"; }
  ok "unit: Configs/planetd.service with /usr/bin; systemd-analyze verify (man=$man) accepts it"
else
  ok "unit: Configs/planetd.service with /usr/bin; systemd-analyze is not installed here, so the unit is not verified"
fi

# Man pages and completion against Docs/cli.md.
python3 - "$repo/Docs/cli.md" "$TMP" <<'PY' || fail "could not read Docs/cli.md"
import re, sys
text = open(sys.argv[1]).read()
def section(title):
    m = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(title), text, re.S | re.M)
    if not m:
        sys.exit("cli.md has no '## %s'" % title)
    return m.group(1)
def first_cells(body):
    return [c for c in re.findall(r"^\| `([^`]+)`", body, re.M)]
out = sys.argv[2]
keys = [k for k in first_cells(section("Config file"))]
open(out + "/keys", "w").write("\n".join(keys) + "\n")
ctl = section("planetctl")
# planetctl's command words (`planetctl vm attach NAME …` gives vm and attach) and its options.
words = set()
for cmd in re.findall(r"^\| `planetctl ([^`]+)`", ctl, re.M):
    for w in cmd.split():
        if re.fullmatch(r"[a-z][a-z-]*", w):
            words.add(w)
opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", ctl))
open(out + "/ctl-words", "w").write("\n".join(sorted(words)) + "\n")
open(out + "/ctl-options", "w").write("\n".join(sorted(opts)) + "\n")
PY
[ "$(wc -l < "$TMP/keys")" -ge 15 ] && [ "$(wc -l < "$TMP/ctl-words")" -ge 10 ] && [ "$(wc -l < "$TMP/ctl-options")" -ge 20 ] \
  || fail "read too little from cli.md: $(wc -l < "$TMP/keys") keys, $(wc -l < "$TMP/ctl-words") command words, $(wc -l < "$TMP/ctl-options") options"
zcat /usr/share/man/man8/planetd.8.gz | sed 's/\\-/-/g; s/\\f[BIR]//g' > "$TMP/planetd.8"
zcat /usr/share/man/man8/planetctl.8.gz | sed 's/\\-/-/g; s/\\f[BIR]//g' > "$TMP/planetctl.8"
head -n 1 "$TMP/planetd.8" | grep -q "^\.TH PLANETD 8 .*planetary $version" || fail "planetd.8 header: $(head -n 1 "$TMP/planetd.8")"
while read -r k; do grep -qF -- "$k" "$TMP/planetd.8" || fail "planetd(8) lacks the config key $k of cli.md"; done < "$TMP/keys"
while read -r w; do grep -qF -- "planetctl $w" "$TMP/planetctl.8" || grep -qE -- "planetctl .*\b$w\b" "$TMP/planetctl.8" || fail "planetctl(8) lacks '$w' of cli.md"; done < "$TMP/ctl-words"
while read -r o; do grep -qF -- "$o" "$TMP/planetctl.8" || fail "planetctl(8) lacks $o of cli.md"; done < "$TMP/ctl-options"
grep -qF -- "--from-yggdrasil" "$TMP/planetd.8" || fail "planetd(8) lacks genconf --from-yggdrasil"
if command -v man >/dev/null; then  # rendered without a warning from groff
  for m in man8/planetd.8.gz:genconf man8/planetctl.8.gz:"nodes find" man1/planetsim.1.gz:--topology; do
    MANWIDTH=80 man --warnings -l "/usr/share/man/${m%%:*}" >"$TMP/man.out" 2>"$TMP/man.err" || fail "man -l ${m%%:*}: $(cat "$TMP/man.err")"
    [ ! -s "$TMP/man.err" ] || fail "man warns about ${m%%:*}: $(cat "$TMP/man.err")"
    grep -qF -- "${m#*:}" "$TMP/man.out" || fail "${m%%:*} rendered lacks '${m#*:}'"
  done
fi
# The completions, with the two helpers of the bash-completion package stubbed.
complete_words() {  # complete_words CMD WORD... : what TAB offers after the words (the last may be partial)
  bash -c '
    _init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${words[cword]}; prev=${words[cword-1]:-}; }
    _filedir() { :; }
    source "/usr/share/bash-completion/completions/$1" || exit 1
    shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    "_${COMP_WORDS[0]}"; echo "${COMPREPLY[*]}"' _ "$@"
}
offered=$(complete_words planetctl planetctl "") || fail "planetctl completion"
for w in self peers routes sessions stats vm nodes; do [[ " $offered " == *" $w "* ]] || fail "completion of 'planetctl ' lacks $w: $offered"; done
all_ctl="$offered $(complete_words planetctl planetctl peers "") $(complete_words planetctl planetctl vm "") $(complete_words planetctl planetctl nodes "")"
all_ctl="$all_ctl $(complete_words planetctl planetctl vm attach web -) $(complete_words planetctl planetctl nodes find -) $(complete_words planetctl planetctl --)"
while read -r w; do [[ " $all_ctl " == *" $w "* ]] || fail "the planetctl completion never offers '$w' (cli.md has it)"; done < "$TMP/ctl-words"
while read -r o; do [[ " $all_ctl " == *" $o "* ]] || fail "the planetctl completion never offers $o (cli.md has it)"; done < "$TMP/ctl-options"
offered=$(complete_words planetd planetd "") || fail "planetd completion"
for w in run genconf address subnet; do [[ " $offered " == *" $w "* ]] || fail "completion of 'planetd ' lacks $w: $offered"; done
[ "$(complete_words planetd planetd run -)" = "--config --help" ] || fail "completion of 'planetd run -': $(complete_words planetd planetd run -)"
ok "man pages carry cli.md's $(wc -l < "$TMP/keys") config keys, $(wc -l < "$TMP/ctl-words") planetctl words and $(wc -l < "$TMP/ctl-options") options; the completions offer them"

# --- user, directories, config
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd planetary) || fail "no user planetary"
[ "$uid" -lt 1000 ] && [ "$home" = /var/lib/planetary ] && [ "$shell" = /usr/sbin/nologin ] || fail "user planetary: uid $uid home $home shell $shell"
[ "$(getent group planetary | cut -d: -f3)" = "$gid" ] || fail "user planetary's group is not planetary"
[ "$(stat -c '%a %U %G' /etc/planetary)" = "750 root planetary" ] || fail "/etc/planetary is $(stat -c '%a %U %G' /etc/planetary)"
[ "$(stat -c '%a %U %G' /var/lib/planetary)" = "700 planetary planetary" ] || fail "/var/lib/planetary is $(stat -c '%a %U %G' /var/lib/planetary)"
config=/etc/planetary/planetd.json
[ "$(stat -c '%a %U %G' "$config")" = "600 planetary planetary" ] || fail "$config is $(stat -c '%a %U %G' "$config")"
key=$(json_get "d['privateKey']" < "$config") || fail "$config is not JSON"
[[ "$key" =~ ^[0-9a-f]{128}$ ]] || fail "$config has no fresh key: '$key'"
/usr/bin/planetd genconf > "$TMP/defaults.json"
[ "$(json_get "sorted(d)" < "$config")" = "$(json_get "sorted(d)" < "$TMP/defaults.json")" ] || fail "$config lacks keys genconf writes"
addr=$(/usr/bin/planetd address --config "$config") || fail "planetd address --config $config"
[[ "$addr" == 2* ]] || fail "address $addr not in 200::/7"
grep -q "generated $config (node address $addr)" "$TMP/dpkg.out" || fail "the postinst did not say what it generated: $(cat "$TMP/dpkg.out")"
ok "user planetary (uid $uid, nologin), /etc/planetary 0750, $config 0600 planetary with a fresh key: address $addr"

# --- the installed unit's node, as systemd would run it, in a namespace; the installed planetctl
ns="pkg$$"
ip netns add "$ns" || fail "ip netns add $ns"
NAMESPACES+=("$ns")
ip -n "$ns" link set lo up
cat > "$TMP/sandbox.sh" <<'SANDBOX'
set -uo pipefail
T=$1 unit=$2 addr=$3
pid=""
fail() { echo "FAIL: $*"; [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; exit 1; }
mount -t tmpfs tmpfs /run || fail "tmpfs /run"
# Debian's /dev/net/tun is mode 0666 (the capability, not the file mode, guards TUN creation);
# a container may have it 0600. Here only, a 0666 one like a host's.
if [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
  mount -t tmpfs tmpfs /dev/net && mknod -m 0666 /dev/net/tun c 10 200 || fail "a 0666 /dev/net/tun"
fi
key() { sed -n "s/^$1=//p" "$unit" | head -n 1; }
user=$(key User); group=$(key Group); exec_start=$(key ExecStart)
caps=$(key AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
install -d -m "$(key RuntimeDirectoryMode)" -o "$user" -g "$group" "/run/$(key RuntimeDirectory)"
setpriv --reuid "$user" --regid "$group" --init-groups --inh-caps="-all,$caps" --ambient-caps="-all,$caps" \
  --bounding-set="-all,$caps" --no-new-privs $exec_start >"$T/node.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q 'msg="admin socket ready"' "$T/node.log" && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
grep -q 'msg="admin socket ready"' "$T/node.log" || fail "the unit's planetd did not start: $(tail -n 5 "$T/node.log")"
[ "$(stat -c %U /proc/$pid)" = "$user" ] || fail "planetd runs as $(stat -c %U /proc/$pid), not $user"
sock=/run/planetary/planetd.sock
[ "$(stat -c '%a %U %G' "$sock")" = "660 $user $group" ] || fail "admin socket is $(stat -c '%a %U %G' "$sock")"
/usr/bin/planetctl --socket "$sock" self > "$T/self" || fail "planetctl self"
grep -qF "$addr" "$T/self" || fail "planetctl self does not show $addr: $(cat "$T/self")"
/usr/bin/planetctl self > "$T/self-default" || fail "planetctl self on the default socket"
[ "$(/usr/bin/planetctl --json self | python3 -c 'import json,sys; print(json.load(sys.stdin)["address"])')" = "$addr" ] || fail "planetctl --json self"
tun=$(ip -6 addr show dev planet0)
[[ "$tun" == *"inet6 $addr/"* ]] || fail "planet0 lacks $addr: $tun"
kill -TERM $pid; wait $pid; rc=$?
[ "$rc" -eq 0 ] || fail "planetd exited $rc on SIGTERM: $(tail -n 5 "$T/node.log")"
[ ! -e "$sock" ] || fail "the admin socket is left after a clean stop"
echo "ran as $user, socket 0660 $user:$group, planet0 has $addr"
SANDBOX
chmod 755 "$TMP"
timeout 60 ip netns exec "$ns" unshare -m --propagation private bash "$TMP/sandbox.sh" "$TMP" "$unit" "$addr" >"$TMP/sandbox.out" 2>&1 \
  || { cat "$TMP/sandbox.out"; echo "--- node log"; tail -n 20 "$TMP/node.log" 2>/dev/null; fail "the installed node in a namespace"; }
ok "the unit's ExecStart in a namespace: $(tail -n 1 "$TMP/sandbox.out"); installed planetctl reached it; SIGTERM stopped it"

# --- upgrade (the same version again) and remove keep the config; purge leaves nothing
sum=$(sha256sum "$config")
dpkg_do "$TMP/dpkg2.out" -i "$deb" || { cat "$TMP/dpkg2.out"; fail "dpkg -i over the installed package"; }
[ "$(sha256sum "$config")" = "$sum" ] || fail "reinstalling changed $config"
! grep -q generated "$TMP/dpkg2.out" || fail "reinstalling generated a config: $(cat "$TMP/dpkg2.out")"
dpkg_do "$TMP/remove.out" -r planetary || { cat "$TMP/remove.out"; fail "dpkg -r"; }
[ ! -e /usr/bin/planetd ] && [ ! -e /usr/lib/planetary ] || fail "dpkg -r left the programs"
[ "$(sha256sum "$config" 2>/dev/null)" = "$sum" ] || fail "dpkg -r did not keep $config"
[ -d /var/lib/planetary ] && getent passwd planetary >/dev/null || fail "dpkg -r did not keep /var/lib/planetary and the user"
ok "reinstalling and dpkg -r keep $config, /var/lib/planetary and the user"

dpkg_do "$TMP/purge.out" --purge planetary || { cat "$TMP/purge.out"; fail "dpkg --purge"; }
installed=0
case "$(dpkg-query -W -f='${Status}' planetary 2>/dev/null)" in ""|*" not-installed") ;; *) false;; esac || fail "dpkg still knows planetary: $(dpkg-query -W -f='${Status}' planetary)"
while read -r f; do [ ! -e "$f" ] || fail "$f is left after purge"; done < "$TMP/files"
for p in /etc/planetary /var/lib/planetary /run/planetary /usr/lib/planetary /usr/share/doc/planetary \
  /etc/systemd/system/multi-user.target.wants/planetd.service; do
  [ ! -e "$p" ] || fail "$p is left after purge"
done
! getent passwd planetary >/dev/null || fail "user planetary is left after purge"
! getent group planetary >/dev/null || fail "group planetary is left after purge"
ok "dpkg --purge: no file of the package, no /etc/planetary, /var/lib/planetary, user or group left"
