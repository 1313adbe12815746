# Shared by the Tools/ scripts: finding Swift and installing what is missing from Debian.
# shellcheck shell=bash

# Swift lives in /opt/swift on the project's machines; put it on PATH if a shell lacks it.
if ! command -v swift >/dev/null 2>&1; then
  for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    [ -x "$d/swift" ] && PATH="$d:$PATH"
  done
  export PATH
fi

# need_packages PKG...: apt-get installs the ones dpkg doesn't list as installed.
need_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# What building and running a node needs (libssl-dev: tls:// Yggdrasil links; nftables: the VM
# source filters, `planetctl vm`).
RUNTIME_PACKAGES=(libsodium-dev libssl-dev pkg-config iproute2 nftables)
# What the tests add: traffic tools, the real yggdrasil for address checks, captures, qemu,
# busybox and cpio for the real-guest VM test (its kernel comes from apt-get download),
# conntrack for the NAT tests (nftables routers, already a runtime package), what the qemu
# walkthrough of Docs/operations.md installs (qemu-img, cloud-localds, jq, wget), which
# test_operations_walkthroughs runs, lintian, which test_package runs on the package, and
# chromium (headless) for test_explorer, which loads the explorer page in a real browser.
TEST_PACKAGES=(iputils-ping traceroute iperf3 tcpdump yggdrasil procps psmisc qemu-system-x86 busybox-static cpio conntrack
  qemu-utils cloud-image-utils jq wget lintian chromium)

# What Tools/package adds: dpkg-shlibdeps (dpkg-dev, with binutils' strip), patchelf for the
# binaries' RUNPATH, python3 for the man pages.
PACKAGE_PACKAGES=(dpkg-dev binutils patchelf python3)

require_swift() {
  command -v swift >/dev/null 2>&1 || { echo "swift not found (expected in /opt/swift/usr/bin)" >&2; exit 1; }
}

# need_yggdrasil_05: makes yggdrasil 0.5.12 (Debian bookworm-backports) available beside the
# installed 0.4.7 package, which Tools/bench compares against and must stay the `yggdrasil` on
# PATH. The .deb is fetched with `apt-get download` and unpacked with `dpkg-deb -x` into a
# private directory, so dpkg never sees it installed. Exports YGGDRASIL05 and YGGDRASILCTL05
# (the two binaries). A second run finds the unpacked binaries and returns at once.
YGGDRASIL05_VERSION=0.5.12
YGGDRASIL05_DIR=/var/cache/planetary-test/yggdrasil-$YGGDRASIL05_VERSION
need_yggdrasil_05() {
  local bin="$YGGDRASIL05_DIR/usr/sbin"  # Debian installs both under sbin
  if [ ! -x "$bin/yggdrasil" ] || [ ! -x "$bin/yggdrasilctl" ]; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    local list=/etc/apt/sources.list.d/bookworm-backports.list
    # Only the suite is added: apt never prefers backports on its own (NotAutomatic), so the
    # installed packages stay where they are.
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      echo "deb http://deb.debian.org/debian bookworm-backports main" | $sudo tee "$list" >/dev/null
    fi
    local cache=/var/cache/planetary-test/debs
    $sudo mkdir -p "$cache" "$YGGDRASIL05_DIR"
    # apt's download runs as _apt when that user can write the directory (else it warns).
    id _apt >/dev/null 2>&1 && $sudo chown _apt "$cache"
    local deb
    deb=$(ls "$cache"/yggdrasil_"$YGGDRASIL05_VERSION"-*_*.deb 2>/dev/null | head -n 1)
    if [ -z "$deb" ]; then
      $sudo apt-get update -qq >&2 || true
      (cd "$cache" && $sudo apt-get download -qq "yggdrasil=$YGGDRASIL05_VERSION-*" >&2) \
        || (cd "$cache" && $sudo apt-get download -qq -t bookworm-backports yggdrasil >&2) \
        || { echo "need_yggdrasil_05: cannot download yggdrasil from bookworm-backports" >&2; return 1; }
      deb=$(ls "$cache"/yggdrasil_"$YGGDRASIL05_VERSION"-*_*.deb 2>/dev/null | head -n 1)
      [ -n "$deb" ] || { echo "need_yggdrasil_05: backports no longer has $YGGDRASIL05_VERSION: $(ls "$cache")" >&2; return 1; }
    fi
    $sudo dpkg-deb -x "$deb" "$YGGDRASIL05_DIR" || return 1
  fi
  YGGDRASIL05="$bin/yggdrasil"
  YGGDRASILCTL05="$bin/yggdrasilctl"
  export YGGDRASIL05 YGGDRASILCTL05
}
