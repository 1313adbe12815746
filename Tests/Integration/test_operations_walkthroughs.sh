#!/usr/bin/env bash
# The walkthroughs of Docs/operations.md that can run in a namespace, run as written: the
# commands are read from the document, so the test follows it.
#   - "Moving a Yggdrasil node": the genconf --from-yggdrasil line, and planetd's address equal
#     to yggdrasil's.
#   - "Running under systemd": the install block line by line (not the build line: the binaries
#     under test are installed instead; not systemctl/journalctl: there is no systemd to talk
#     to), then the node started the way the installed unit says (its User, Group, ambient
#     capabilities, ExecStart, with StateDirectory/RuntimeDirectory made as systemd would): it
#     must come up unprivileged, with the file modes the text promises.
#   - "Admin access": root and members of group planetary may use planetctl (the usermod line,
#     for a user alice), anyone else gets the documented "permission denied" line.
#   - "Metrics": metricsListen set to the example value serves every metric the table names.
#   - "Troubleshooting": a peer nobody answers shows `handshaking`, then `backoff`.
#   - "A qemu guest, step by step", on the unit's node: the "once per host" sysctl, then each
#     numbered step's block as written, except the apt-get line (its packages must be installed
#     here, and they with Debian's required and important packages must provide every command
#     the steps run), and the image's download and checksum (a blank qcow2 of the same name
#     stands in). Checked: user qemu in group kvm; the tap owned by qemu; seed.img labelled
#     cidata with network-config (what `vm cloud-init` prints), user-data and meta-data; the
#     disk a 20 GiB overlay on the image, owned by qemu. Step 4's qemu command then runs as
#     written on the stand-in: it must run as user qemu, open the tap, and its NIC must send
#     from the lease's MAC (iPXE, after the blank disk fails to boot); then it is stopped and
#     the lease detached. Where the machine has no group kvm (Debian's systemd makes one), the
#     test makes it.
#   - The admin-socket rules: a second planetd on the same socket refuses with the documented
#     message; after a crash (SIGKILL) the next start replaces the stale socket.
# Everything runs in a network namespace of its own and a private mount namespace whose /etc and
# /usr/local are writable overlays (useradd, install) and whose /run and /var/lib are empty tmpfs,
# so nothing reaches the host, the internet least of all. `sudo` is a shim that runs its command
# (the test is root).
source "$(dirname "$0")/lib.sh"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
doc="$repo/Docs/operations.md"
command -v unshare >/dev/null || skip "needs unshare (util-linux)"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"

python3 - "$doc" "$TMP" <<'PY' || fail "could not read the walkthroughs from Docs/operations.md"
import re, shlex, sys
text, out = open(sys.argv[1]).read(), sys.argv[2]
def section(title):
    m = re.search(r"^## " + re.escape(title) + r"\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not m:
        sys.exit("operations.md has no '## %s' section" % title)
    return m.group(1)
ygg = section("Moving a Yggdrasil node")
spans = re.findall(r"`([^`]+)`", ygg)
open(out + "/ygg-genconf", "w").write(next(s for s in spans if "--from-yggdrasil" in s) + "\n")
open(out + "/ygg-address", "w").write(next(s for s in spans if s.startswith("planetd address")) + "\n")
open(out + "/ygg-theirs", "w").write(next(s for s in spans if s.startswith("yggdrasil ")) + "\n")
unit = section("Running under systemd")
block = re.search(r"^```\w*\n(.*?)^```", unit, re.S | re.M)
if not block:
    sys.exit("'Running under systemd' has no code block")
open(out + "/systemd-block", "w").write(block.group(1))
refuse = re.search(r"refuses to start \(`([^`]+)`\)", unit)
open(out + "/refusal", "w").write(refuse.group(1) + "\n" if refuse else "")
admin = section("Admin access")
denied = re.search(r"gets\s+`([^`]+)`", admin)
open(out + "/denied", "w").write(denied.group(1) + "\n" if denied else "")
usermod = re.search(r"`(sudo usermod [^`]+)`", admin)
open(out + "/usermod", "w").write(usermod.group(1) + "\n" if usermod else "")
metrics = section("Metrics")
names = set()
for row in re.findall(r"^\| (`planetary_[^|]+)\|", metrics, re.M):
    names.update(re.findall(r"`(planetary_[a-z_]+)", row))
open(out + "/metrics", "w").write("\n".join(sorted(names)) + "\n")
example = re.search(r'for example `"([^"]+)"`', metrics)
open(out + "/metrics-listen", "w").write(example.group(1) + "\n" if example else "")
vms = section("Hosting VMs and containers")
sysctl = re.search(r"`(sysctl -w [^`]+)`", vms)
open(out + "/vm-sysctl", "w").write(sysctl.group(1) + "\n" if sysctl else "")
qemu = re.search(r"^### A qemu guest, step by step\n(.*?)(?=^##|\Z)", vms, re.S | re.M)
if not qemu:
    sys.exit("operations.md has no '### A qemu guest, step by step'")
# The numbered steps, each a paragraph "N. ..." and the code block after it.
steps = re.findall(r"^(\d+)\. .*?^```\w*\n(.*?)^```", qemu.group(1), re.S | re.M)
if [int(n) for n, _ in steps] != list(range(1, len(steps) + 1)) or len(steps) < 4:
    sys.exit("the qemu walkthrough's steps are not numbered 1, 2, ... with a code block each (found %s)" % [n for n, _ in steps])
packages, commands, image = [], set(), None
for n, body in steps:
    script, heredoc = [], None
    for line in body.splitlines():
        if heredoc is not None:              # a here-document's body: text, not commands
            script.append(line)
            if line.strip() == heredoc:
                heredoc = None
            continue
        h = re.search(r"<<-?\s*'?\"?(\w+)", line)
        if h:
            heredoc = h.group(1)
        # Command names: first words of each command in the line, and what runuser runs.
        for piece in re.split(r"&&|\|\||\||;|\$\(", line.split(" #")[0].rstrip("\\")):
            w = piece.split()
            while w and re.fullmatch(r"\w+=\S*", w[0]):
                w = w[1:]
            if w and re.fullmatch(r"[a-z][\w.+-]*", w[0]) and not piece.startswith(" -"):
                commands.add(w[0])
            if w and w[0] == "runuser" and "--" in w:
                commands.add(w[w.index("--") + 1])
        words = line.split()
        if words[:2] == ["apt-get", "install"]:
            packages += [w for w in words[2:] if not w.startswith("-")]
            script.append("echo " + shlex.quote("not run (the test checks the packages instead): " + line))
        elif words[:1] in (["wget"], ["curl"]) and words[-1].endswith(".qcow2"):
            image = words[-1].rsplit("/", 1)[1]  # the image: a blank one of the same name stands in
            script.append("echo " + shlex.quote("not run (a blank image stands in): " + line))
            script.append("qemu-img create -q -f qcow2 %s 2G" % shlex.quote(image))
        elif words[:1] in (["wget"], ["curl"], ["sha512sum"], ["sha256sum"]):
            script.append("echo " + shlex.quote("not run (the download, or its check): " + line))
        else:
            script.append(line)
    open(out + "/qemu-step-" + n, "w").write("\n".join(script) + "\n")
open(out + "/qemu-steps", "w").write(str(len(steps)) + "\n")
open(out + "/qemu-packages", "w").write(" ".join(packages) + "\n" if packages else "")
open(out + "/qemu-commands", "w").write("\n".join(sorted(commands)) + "\n")
open(out + "/qemu-image", "w").write(image + "\n" if image else "")
trouble = section("Troubleshooting")
states = re.search(r"`resolving` \(DNS\), `(\w+)` \(no answer.*?`(\w+)` \(failed", trouble)
open(out + "/states", "w").write(" ".join(states.groups()) + "\n" if states else "")
PY
for f in refusal denied usermod metrics-listen states vm-sysctl qemu-packages qemu-image; do
  [ -s "$TMP/$f" ] || fail "Docs/operations.md no longer says what this test checks ($f); update the test with the text"
done
[ "$(wc -l < "$TMP/metrics")" -ge 5 ] || fail "the metrics table lists only $(wc -l < "$TMP/metrics") metrics"

# The qemu walkthrough's packages (its apt-get line is not run) must be installed here, and with
# what every Debian has (priority required or important) provide each command its steps run.
# (Here, not in the sandbox: the sandbox's /var/lib, dpkg's database with it, is empty.)
for p in $(cat "$TMP/qemu-packages"); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || fail "the qemu walkthrough installs $p, which is not installed here (TEST_PACKAGES in Tools/lib/common.sh lists what the tests need)"
done
# Each command the steps use comes from a package the apt-get line names or from one every
# Debian has (priority required or important). Looked up on a root login's PATH.
(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
while read -r c; do
  case "$c" in planetd|planetctl) continue;; esac   # the binaries under test
  case "$(type -t "$c")" in builtin|keyword) continue;; file) ;; *) fail "the qemu walkthrough runs $c, which is not found";; esac
  path=$(command -v "$c"); real=$(readlink -f "$path")
  pkg=""
  for f in "$path" "$real" "${path#/usr}" "${real#/usr}" "/usr$path"; do
    pkg=$(dpkg-query -S "$f" 2>/dev/null | head -n 1 | cut -d: -f1) && [ -n "$pkg" ] && break
  done
  [ -n "$pkg" ] || fail "no package has $path (the qemu walkthrough runs $c)"
  prio=$(dpkg-query -W -f='${Priority}' "$pkg")
  case " $(cat "$TMP/qemu-packages") " in *" $pkg "*) continue;; esac
  case "$prio" in required|important) continue;; esac
  fail "the qemu walkthrough runs $c (package $pkg, priority $prio), which its apt-get line does not install"
done < "$TMP/qemu-commands") || exit 1
ok "qemu walkthrough: its apt-get line ($(cat "$TMP/qemu-packages")) installs every command the steps use that Debian lacks"

# A source tree as the install block expects it: the binaries under test where a release build
# puts them, and the repository's unit file.
mkdir -p "$TMP/src/.build/release" "$TMP/shim" "$TMP/yetc" "$TMP/etc-up" "$TMP/etc-work" "$TMP/usr-up" "$TMP/usr-work"
cp "$PLANETD" "$PLANETCTL" "$TMP/src/.build/release/"
ln -s "$repo/Configs" "$TMP/src/Configs"
printf '#!/bin/sh\nexec "$@"\n' > "$TMP/shim/sudo"; chmod +x "$TMP/shim/sudo"
[ -e /etc/yggdrasil.conf ] || { yggdrasil -genconf > "$TMP/yetc/yggdrasil.conf" 2>/dev/null || fail "yggdrasil -genconf"; }
chmod 755 "$TMP"   # the unprivileged users below must reach the sandbox's files

ns="opsw$$"
ip netns add "$ns" || fail "ip netns add $ns"
NAMESPACES+=("$ns")
ip -n "$ns" link set lo up

cat > "$TMP/sandbox.sh" <<'SANDBOX'
set -uo pipefail
T=$1
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
mount -t overlay overlay -o "lowerdir=$T/yetc:/etc,upperdir=$T/etc-up,workdir=$T/etc-work" /etc || fail "overlay /etc"
mount -t overlay overlay -o "lowerdir=/usr/local,upperdir=$T/usr-up,workdir=$T/usr-work" /usr/local || fail "overlay /usr/local"
mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib || fail "tmpfs /run, /var/lib"
# A planetd the host has in /usr/local/bin (./Tools/run puts one there) is not the one under test.
rm -f /usr/local/bin/planetd /usr/local/bin/planetctl
# Debian's /dev/net/tun is mode 0666 (the capability, not the file mode, guards TUN creation);
# a container may have it 0600. Here only, give the sandbox a 0666 one like a host's.
if [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
  mount -t tmpfs tmpfs /dev/net && mknod -m 0666 /dev/net/tun c 10 200 || fail "a 0666 /dev/net/tun"
fi
# planetd and planetctl are the binaries under test: from the source tree until the install
# block puts them into /usr/local/bin.
export PATH="$T/shim:/usr/local/bin:$T/src/.build/release:/usr/sbin:/usr/bin:/sbin:/bin"
cd "$T/src"

# --- Moving a Yggdrasil node
bash -c "$(cat "$T/ygg-genconf")" || fail "$(cat "$T/ygg-genconf")"
mine=$(bash -c "$(cat "$T/ygg-address")"); theirs=$(bash -c "$(cat "$T/ygg-theirs")")
[ -n "$theirs" ] && [ "$mine" = "$theirs" ] || fail "planetd says $mine, yggdrasil says $theirs"
ok "Yggdrasil move: $(cat "$T/ygg-address") prints yggdrasil's address ($mine)"

# --- Running under systemd: the install block, line by line
while IFS= read -r -u 3 line; do
  [ -n "$line" ] || continue
  case "$line" in
    "swift build "*) echo "not run (the binaries under test stand in for the build): $line"; continue;;
    "sudo systemctl "*|"journalctl "*) echo "not run (no systemd here; the unit is started below as systemd would): $line"; continue;;
  esac
  bash -c "$line" </dev/null || fail "install step failed: $line"
done 3< "$T/systemd-block"
[ -x /usr/local/bin/planetd ] && [ -x /usr/local/bin/planetctl ] || fail "planetd, planetctl not installed"
id planetary >/dev/null || fail "no user planetary"
[ "$(stat -c '%a %U %G' /etc/planetary)" = "750 root planetary" ] || fail "/etc/planetary is $(stat -c '%a %U %G' /etc/planetary)"
[ "$(stat -c '%a %G' /etc/planetary/planetd.json)" = "640 planetary" ] || fail "planetd.json is $(stat -c '%a %G' /etc/planetary/planetd.json), the text says 0640 group planetary"
unit=/etc/systemd/system/planetd.service
[ -f "$unit" ] || fail "unit not installed"
ok "install block: binaries, user, /etc/planetary 0750, planetd.json 0640 group planetary, unit"

# Metrics on, as the Metrics section says.
listen=$(cat "$T/metrics-listen")
python3 - "$listen" <<'PY' || fail "could not set metricsListen"
import json, sys
p = "/etc/planetary/planetd.json"
c = json.load(open(p)); c["metricsListen"] = sys.argv[1]
open(p, "w").write(json.dumps(c, indent=2))
PY

# --- the unit, started as systemd would: its user and group, ambient capabilities only.
key() { sed -n "s/^$1=//p" "$unit" | head -n 1; }
user=$(key User); group=$(key Group); exec_start=$(key ExecStart)
caps=$(key AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
for d in "StateDirectory /var/lib" "RuntimeDirectory /run"; do
  set -- $d
  dir="$2/$(key "$1")"; mode=$(key "$1Mode")
  install -d -m "${mode:-0755}" -o "$user" -g "$group" "$dir"
done
start_unit() {
  setpriv --reuid "$user" --regid "$group" --init-groups --inh-caps="-all,$caps" --ambient-caps="-all,$caps" \
    --bounding-set="-all,$caps" --no-new-privs $exec_start >>"$T/unit.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do grep -q 'msg="admin socket ready"' "$T/unit.log" && return 0; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  fail "the unit's planetd did not start: $(tail -n 5 "$T/unit.log")"
}
start_unit
sock=/run/planetary/planetd.sock
[ "$(stat -c '%U' /proc/$pid)" = "$user" ] || fail "planetd does not run as $user"
# Exactly the unit's capabilities are effective (bits: NET_BIND_SERVICE 10, NET_ADMIN 12, NET_RAW 13).
want_mask=0
for c in $(key AmbientCapabilities); do
  case "$c" in
    CAP_NET_BIND_SERVICE) want_mask=$((want_mask | 1 << 10));;
    CAP_NET_ADMIN) want_mask=$((want_mask | 1 << 12));;
    CAP_NET_RAW) want_mask=$((want_mask | 1 << 13));;
    *) fail "the unit names $c, which this test does not know";;
  esac
done
eff=$((16#$(awk '/^CapEff:/ {print $2}' /proc/$pid/status)))
[ "$eff" -eq "$want_mask" ] || fail "planetd's effective capabilities are $(printf %x $eff), the unit gives $(printf %x $want_mask)"
[ "$(stat -c '%a %U %G' "$sock")" = "660 $user $group" ] || fail "admin socket is $(stat -c '%a %U %G' "$sock")"
planetctl --socket "$sock" self >/dev/null || fail "root cannot use planetctl"
ok "the unit's planetd runs as $user with $(key AmbientCapabilities), socket 0660 $user:$group"

# --- Admin access: alice after the usermod line may; nobody may not, with the documented line.
useradd --no-create-home alice || fail "useradd alice"
bash -c "$(cat "$T/usermod")" || fail "$(cat "$T/usermod")"
as() { local u=$1; shift; setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups "$@"; }
as alice planetctl --socket "$sock" self >/dev/null 2>"$T/err" || fail "alice in group planetary cannot use planetctl: $(cat "$T/err")"
as nobody planetctl --socket "$sock" self >/dev/null 2>"$T/err"; rc=$?
[ "$rc" -ne 0 ] || fail "nobody may use planetctl"
grep -qF "$(cat "$T/denied")" "$T/err" || fail "nobody is told '$(cat "$T/err")', the text says '$(cat "$T/denied")'"
ok "admin access: alice (after '$(cat "$T/usermod")') may, nobody gets '$(cat "$T/denied")'"

# --- Metrics: every metric in the table is served.
body=$(curl -sf "http://$(echo "$listen" | sed 's/^\[\(.*\)\]/[\1]/')/metrics") || fail "no metrics at $listen"
while read -r m; do
  echo "$body" | grep -q "^$m" || fail "metric $m (in the table) is not served"
done < "$T/metrics"
ok "metrics at $listen: all $(wc -l < "$T/metrics") metrics of the table"

# --- Troubleshooting: a peer nobody answers is handshaking, then in backoff.
read -r handshaking backoff < "$T/states"
planetctl --socket "$sock" peers add "udp://[fd7a:99::1]:8470" >/dev/null || fail "peers add"
planetctl --socket "$sock" peers | grep -q "$handshaking" || fail "an unanswered peer is not shown as $handshaking: $(planetctl --socket "$sock" peers)"
seen=0
for _ in $(seq 1 100); do planetctl --socket "$sock" peers | grep -q "$backoff" && { seen=1; break; }; sleep 0.1; done
[ "$seen" -eq 1 ] || fail "an unanswered peer never shows $backoff: $(planetctl --socket "$sock" peers)"
ok "troubleshooting: an unanswered peer shows $handshaking, then $backoff"

# --- A qemu guest, step by step, on the unit's node: the "once per host" sysctl, steps 1 to 3
# as one root shell would run them (the apt-get line, the download and its check not run: see
# the extraction above), then step 4's qemu command in the background on the blank stand-in.
bash -c "$(cat "$T/vm-sysctl")" >/dev/null || fail "$(cat "$T/vm-sysctl")"
if ! getent group kvm >/dev/null; then
  # Debian's systemd creates group kvm (and udev gives it /dev/kvm); this container has none.
  echo "not in the walkthrough: groupadd --system kvm (a Debian host has it; this machine does not)"
  groupadd --system kvm || fail "groupadd kvm"
fi
steps=$(cat "$T/qemu-steps")
for n in $(seq 1 $((steps - 1))); do cat "$T/qemu-step-$n"; done > "$T/qemu-setup.sh"
(set -e; source "$T/qemu-setup.sh") </dev/null >"$T/qemu-setup.out" 2>&1 \
  || fail "the qemu walkthrough's steps 1 to $((steps - 1)) failed: $(tail -n 15 "$T/qemu-setup.out")"
grep '^not run' "$T/qemu-setup.out"
# Step 1: the user qemu, in group kvm, with the home that holds the images.
[ "$(getent passwd qemu | cut -d: -f6,7)" = "/var/lib/vms:/usr/sbin/nologin" ] || fail "user qemu is $(getent passwd qemu)"
id -nG qemu | grep -qw kvm || fail "qemu is not in group kvm: $(id -nG qemu)"
# Step 3: the lease's tap belongs to qemu; the seed holds the three documents; the disk is an
# overlay on the image, as big as the lease declares.
vmdir=/var/lib/vms/web
mac=$(planetctl --json vm show web | jq -r .mac)
addr=$(planetctl --json vm show web | jq -r .address)
[ "$(cat /sys/class/net/tapweb/owner)" = "$(id -u qemu)" ] || fail "tapweb does not belong to qemu"
planetctl vm cloud-init web | cmp -s - "$vmdir/network-config" || fail "network-config is not what 'planetctl vm cloud-init web' prints"
grep -q "macaddress: \"$mac\"" "$vmdir/network-config" && grep -q "\"$addr/128\"" "$vmdir/network-config" \
  || fail "network-config does not name the lease's MAC $mac and address $addr: $(cat "$vmdir/network-config")"
isoinfo -d -i "$vmdir/seed.img" | grep -q "^Volume id: cidata$" || fail "seed.img is not labelled cidata: $(isoinfo -d -i "$vmdir/seed.img")"
for doc in network-config user-data meta-data; do
  isoinfo -R -i "$vmdir/seed.img" -x "/$doc" | cmp -s - "$vmdir/$doc" || fail "seed.img does not hold $doc as written"
done
head -n 1 "$vmdir/user-data" | grep -qx '#cloud-config' || fail "user-data does not start with #cloud-config"
python3 - "$vmdir/disk.qcow2" "$(cat "$T/qemu-image")" <<'QCOW' || fail "disk.qcow2 is not the overlay the text says"
import json, os, subprocess, sys
info = json.loads(subprocess.check_output(["qemu-img", "info", "--output=json", sys.argv[1]]))
assert info["format"] == "qcow2" and info["backing-filename-format"] == "qcow2", info
assert os.path.basename(info["backing-filename"]) == sys.argv[2], info["backing-filename"]
assert info["virtual-size"] == 20 * 1024**3, info["virtual-size"]
QCOW
[ "$(stat -c %U "$vmdir/disk.qcow2") $(stat -c %U "$vmdir/seed.img")" = "qemu qemu" ] || fail "disk.qcow2 and seed.img do not belong to qemu"
ok "qemu steps 1-3: user qemu (group kvm), lease web ($addr, tap tapweb owned by qemu), seed.img (cidata: network-config, user-data, meta-data), disk.qcow2 (20 GiB over $(cat "$T/qemu-image"))"
# Step 4: qemu as written, on the stand-in: it must run as qemu, open the tap (carrier on) and
# the disks, and its NIC must send from the lease's MAC (iPXE, once the blank disk fails to boot).
timeout 90 tcpdump -i tapweb -n -e -c 1 "ether src $mac" >"$T/qemu-frame" 2>/dev/null & dump=$!
sleep 1
setsid bash "$T/qemu-step-$steps" </dev/null >"$T/qemu.console" 2>&1 & qemu=$!
stop_qemu() { kill -- -"$qemu" 2>/dev/null; wait "$qemu" 2>/dev/null; }
for _ in $(seq 1 100); do [ "$(cat /sys/class/net/tapweb/carrier 2>/dev/null)" = 1 ] && break; kill -0 $qemu 2>/dev/null || break; sleep 0.2; done
kill -0 $qemu 2>/dev/null || fail "step 4's qemu exited: $(tail -n 10 "$T/qemu.console")"
[ "$(cat /sys/class/net/tapweb/carrier)" = 1 ] || { stop_qemu; fail "step 4's qemu did not open tapweb: $(tail -n 10 "$T/qemu.console")"; }
ps -o user=,comm= --sid $qemu | grep -q "^qemu *qemu-system-x86" || { stop_qemu; fail "qemu does not run as user qemu: $(ps -o user=,comm= --sid $qemu)"; }
wait $dump; got=$?
stop_qemu
[ "$got" -eq 0 ] && [ -s "$T/qemu-frame" ] || fail "no frame from the lease's MAC $mac on tapweb: $(tail -n 10 "$T/qemu.console")"
ok "qemu step 4 on the stand-in image: runs as qemu, opens tapweb, the guest's NIC sends from the lease's MAC $mac"
planetctl vm detach web >/dev/null || fail "planetctl vm detach web"
[ ! -e /sys/class/net/tapweb ] || fail "tapweb is still there after vm detach"

# --- A second planetd on the same socket refuses; after a crash the next start takes over.
want=$(cat "$T/refusal")
# (In a network namespace of its own, so its TUN and port do not clash first: the socket is what
# is shared.)
unshare -n /usr/local/bin/planetd run --config /etc/planetary/planetd.json >/dev/null 2>"$T/err" & second=$!
for _ in $(seq 1 50); do kill -0 $second 2>/dev/null || break; sleep 0.1; done
kill -0 $second 2>/dev/null && { kill $second; fail "a second planetd on the same socket started"; }
grep -qF "$want" "$T/err" || fail "the second planetd says '$(cat "$T/err")', the text says '$want'"
kill -9 $pid; wait $pid 2>/dev/null
[ -S "$sock" ] || fail "a crashed planetd left no socket (the text says it does)"
: > "$T/unit.log"
start_unit
planetctl --socket "$sock" self >/dev/null || fail "the restarted node does not answer on $sock"
kill $pid; wait $pid 2>/dev/null
ok "a second planetd refuses ('$want'); after a crash the next start replaces the socket"
SANDBOX
ip netns exec "$ns" unshare -m --propagation private bash "$TMP/sandbox.sh" "$TMP" > "$TMP/sandbox.out" 2>&1
rc=$?
cat "$TMP/sandbox.out"
[ "$rc" -eq 0 ] || fail "a walkthrough of Docs/operations.md failed (above)"
