#!/usr/bin/env bash
# Builds what the real-guest test boots: Debian's kernel (from the linux-image-amd64 package's
# versioned dependency, downloaded once into a cache directory) and a busybox initramfs made
# here, with the virtio-net driver and its dependencies from the same package. Nothing of it is
# committed. Source it; `vm_guest_build DIR` leaves DIR/vmlinuz and DIR/initrd.gz, or returns 1
# with the reason in $VM_GUEST_WHY.
# shellcheck shell=bash

VM_GUEST_CACHE="${VM_GUEST_CACHE:-/var/cache/planetary-test}"
VM_GUEST_WHY=""

vm_guest_build() {
  local out=$1
  command -v qemu-system-x86_64 >/dev/null || { VM_GUEST_WHY="qemu-system-x86_64 is not installed (package qemu-system-x86)"; return 1; }
  [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || { VM_GUEST_WHY="no static busybox (package busybox-static)"; return 1; }
  command -v cpio >/dev/null || { VM_GUEST_WHY="cpio is not installed"; return 1; }
  mkdir -p "$VM_GUEST_CACHE" || { VM_GUEST_WHY="cannot create $VM_GUEST_CACHE"; return 1; }
  local pkg; pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  local deb; deb=$(ls "$VM_GUEST_CACHE"/"${pkg:-linux-image-*-amd64}"_*.deb 2>/dev/null | tail -n 1)
  if [ -z "$deb" ]; then
    [ -n "$pkg" ] || { VM_GUEST_WHY="apt knows no linux-image-amd64 (apt-get update?)"; return 1; }
    (cd "$VM_GUEST_CACHE" && apt-get download "$pkg" >/dev/null 2>&1) || { VM_GUEST_WHY="cannot download $pkg"; return 1; }
    deb=$(ls "$VM_GUEST_CACHE"/"$pkg"_*.deb | tail -n 1)
  fi
  local x="$VM_GUEST_CACHE/$(basename "$deb" .deb)"
  if [ ! -d "$x/boot" ]; then
    rm -rf "$x.tmp" && mkdir -p "$x.tmp" && dpkg-deb -x "$deb" "$x.tmp" && mv "$x.tmp" "$x" || { VM_GUEST_WHY="cannot unpack $deb"; return 1; }
  fi
  cp "$x"/boot/vmlinuz-* "$out/vmlinuz"
  local root="$out/initramfs"
  mkdir -p "$root"/{bin,proc,sys,dev,tmp,lib/modules}
  cp /bin/busybox "$root/bin/busybox"
  # The NIC driver and what it needs, in load order (depends= read from each module's .modinfo).
  python3 - "$x" "$root/lib/modules" <<'PY' || { VM_GUEST_WHY="virtio_net not found in $deb"; return 1; }
import glob, os, re, shutil, sys
x, dest = sys.argv[1], sys.argv[2]
idx = {os.path.basename(p)[:-3].replace('-', '_'): p for p in glob.glob(x + '/lib/modules/*/kernel/**/*.ko', recursive=True)}
order = []
def visit(n):
    if n in order: return
    m = re.search(rb'\x00depends=([^\x00]*)\x00', open(idx[n], 'rb').read())
    for d in (m.group(1).decode().split(',') if m else []):
        if d: visit(d.replace('-', '_'))
    order.append(n)
for n in ('virtio_pci', 'virtio_net'): visit(n)
for n in order: shutil.copy(idx[n], dest)
open(dest + '/order', 'w').write('\n'.join(n + '.ko' for n in order) + '\n')
PY
  # The guest's init: its network from the kernel command line (the test takes the values from
  # `planetctl vm cloud-init`), then a TCP receiver that reports the SHA-256 of what it got.
  cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for pass in 1 2 3; do for m in $(cat /lib/modules/order); do insmod /lib/modules/$m 2>/dev/null; done; done
for kv in $(cat /proc/cmdline); do case "$kv" in planet.*=*) k=${kv%%=*}; eval "${k#planet.}='${kv#*=}'";; esac; done
dev=$(for d in /sys/class/net/*; do [ "$(cat $d/address)" = "$mac" ] && basename $d; done)
ip link set lo up
ip link set "$dev" mtu "$mtu" up
echo 0 > "/proc/sys/net/ipv6/conf/$dev/accept_dad"
ip -6 addr add "$addr/128" dev "$dev"
ip -6 route add 200::/7 via "$gw" dev "$dev"
ip -6 route add 300::/8 via "$gw" dev "$dev"
echo "PLANET-GUEST-READY dev=$dev addr=$addr"
# Path MTU discovery from inside: a connection to port 5002 makes the guest raise its own MTU
# past the overlay's and ping $peer with 1400 bytes (the node must answer "packet too big").
printf '#!/bin/busybox sh\nip link set dev %s mtu 1500\nping -c 2 -W 2 -s 1400 %s > /dev/console 2>&1\nip link set dev %s mtu %s\n' \
  "$dev" "$peer" "$dev" "$mtu" > /bin/bigping; chmod +x /bin/bigping
(while true; do nc -l -p 5002 -e /bin/bigping; done) &
# busybox's nc does not end on the peer's EOF while its stdin is open; a program behind -e does.
printf '#!/bin/busybox sh\ncat > /tmp/received\n' > /bin/receive; chmod +x /bin/receive
while true; do
  nc -l -p 5001 -e /bin/receive
  echo "PLANET-GUEST-RECEIVED $(sha256sum < /tmp/received | cut -d' ' -f1) $(wc -c < /tmp/received)"
done
INIT
  chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$out/initrd.gz") || { VM_GUEST_WHY="cannot pack the initramfs"; return 1; }
}
