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

# What building and running a node needs (nftables: the VM source filters, `planetctl vm`).
RUNTIME_PACKAGES=(libsodium-dev pkg-config iproute2 nftables)
# What the tests add: traffic tools, the real yggdrasil for address checks, captures, qemu,
# busybox and cpio for the real-guest VM test (its kernel comes from apt-get download),
# conntrack for the NAT tests (nftables routers, already a runtime package), what the qemu
# walkthrough of Docs/operations.md installs (qemu-img, cloud-localds, jq, wget), which
# test_operations_walkthroughs runs, and chromium (headless) for test_explorer, which
# loads the explorer page in a real browser.
TEST_PACKAGES=(iputils-ping traceroute iperf3 tcpdump yggdrasil procps psmisc qemu-system-x86 busybox-static cpio conntrack
  qemu-utils cloud-image-utils jq wget chromium)

require_swift() {
  command -v swift >/dev/null 2>&1 || { echo "swift not found (expected in /opt/swift/usr/bin)" >&2; exit 1; }
}
