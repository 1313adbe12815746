#!/usr/bin/env bash
# A real guest: qemu boots Debian's kernel with a busybox initramfs (TCG: on the test machines
# /dev/kvm opens but guests crash under it) on a tap that `planetctl vm attach --tap` made on
# node b; the guest takes its address, gateway and MTU from `planetctl vm cloud-init`, and a
# (two hops away, through r) pings it and sends it a hash-checked file over TCP; the guest,
# sending more than the overlay's MTU, gets "packet too big" from b.
source "$(dirname "$0")/lib.sh"
dir=$(dirname "$0")
source "$dir/vm_guest.sh"
vm_guest_build "$TMP" || skip "qemu guest cannot run here: $VM_GUEST_WHY"
tb_up vmqemu line3
tb_wait_ping a b 30 || { dump_logs a r b; fail "a cannot reach b"; }
expect_exit 0 tb_ctl b vm attach guest1 --tap vmtap0 --owner nobody --memory 256M --cpu 1
tb_ctl b vm cloud-init guest1 > "$TMP/network-config"
mac=$(sed -n 's/.*macaddress: "\(.*\)"/\1/p' "$TMP/network-config")
addr=$(sed -n 's/.*- "\(.*\)\/128"/\1/p' "$TMP/network-config")
mtu=$(sed -n 's/^ *mtu: //p' "$TMP/network-config")
gw=$(sed -n 's/.*via: "\(.*\)"/\1/p' "$TMP/network-config" | head -n 1)
[ -n "$mac" ] && [ -n "$addr" ] && [ -n "$mtu" ] && [ -n "$gw" ] || fail "cannot read the cloud-init document: $(cat "$TMP/network-config")"
[ "$(tb_ctl b --json vm show guest1 | json_get "d['address']")" = "$addr" ] || fail "cloud-init's address differs from the lease's"
tb_exec b ip -d link show dev vmtap0 | grep "tun type tap" >/dev/null || fail "vmtap0 is not a tap"
# An unprivileged hypervisor (here: nobody) may open it. (qemu itself runs as root below: on the
# test machines /dev/net/tun is root's alone.)
[ "$(tb_exec b cat /sys/class/net/vmtap0/owner)" = "$(id -u nobody)" ] || fail "vmtap0's owner is not nobody"

peer=$(tb_addr a)
tb_exec b qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot -nodefaults -serial stdio \
  -kernel "$TMP/vmlinuz" -initrd "$TMP/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet planet.addr=$addr planet.gw=$gw planet.mtu=$mtu planet.mac=$mac planet.peer=$peer" \
  -netdev tap,id=n0,ifname=vmtap0,script=no,downscript=no -device virtio-net-pci,netdev=n0,mac="$mac" \
  > "$TMP/console" 2>&1 < /dev/null & PIDS+=($!)
qemu=$!
guest_up() { kill -0 "$qemu" 2>/dev/null || { echo "qemu exited"; return 2; }; [ -f "$TMP/console" ] && grep -q PLANET-GUEST-READY "$TMP/console"; }
for _ in $(seq 1 450); do guest_up; rc=$?; [ "$rc" -ne 1 ] && break; sleep 0.2; done
[ "$rc" -eq 0 ] || { tail -n 30 "$TMP/console"; fail "the guest did not come up in 90 s"; }
ok "qemu guest booted on tap vmtap0: $(grep -o 'PLANET-GUEST-READY.*' "$TMP/console")"

wait_for 30 tb_exec a ping -6 -c1 -W2 "$addr" || { tail -n 20 "$TMP/console"; dump_logs b; fail "a cannot ping the guest at $addr"; }
ok "a pings the guest at $addr through r and b"

head -c 2000000 /dev/urandom > "$TMP/payload"
want=$(sha256sum "$TMP/payload" | cut -d' ' -f1)
tb_exec a python3 "$dir/tcp_transfer.py" send "$addr" 5001 "$TMP/payload" >/dev/null || fail "a could not send to the guest"
wait_for 60 grep -q PLANET-GUEST-RECEIVED "$TMP/console" || fail "the guest did not report what it received"
got=$(grep -o 'PLANET-GUEST-RECEIVED.*' "$TMP/console" | head -n 1 | awk '{print $2}')
[ "$got" = "$want" ] || fail "the guest received something else: $(grep PLANET-GUEST-RECEIVED "$TMP/console")"
rx=$(tb_ctl b --json vm show guest1 | json_get "int(d['rxBytes'])")
[ "$rx" -ge 2000000 ] || fail "the guest's rxBytes ($rx) did not count the transfer"
ok "a moved a hash-checked 2 MB file to the guest over TCP ($rx bytes counted for it)"

# The guest raises its MTU to 1500 and pings a with 1400 bytes: b must answer "packet too big"
# with the overlay's MTU, seen on the tap, and the guest's next pings (fragmented) get through.
tb_exec b tcpdump -i vmtap0 -n -c 1 -w "$TMP/ptb.pcap" 'icmp6 and ip6[40] == 2' > /dev/null 2>&1 & PIDS+=($!)
tcpdump_pid=$!
sleep 1
tb_exec a python3 -c "
import socket; socket.create_connection(('$addr', 5002), timeout=5).close()" || fail "cannot trigger the guest's big ping"
wait_for 20 test -s "$TMP/ptb.pcap" && ! kill -0 "$tcpdump_pid" 2>/dev/null || fail "no packet too big reached the guest"
ptb_mtu=$(tcpdump -r "$TMP/ptb.pcap" -n -v 2>/dev/null | grep -o 'mtu [0-9]*' | head -n 1)
[ "$ptb_mtu" = "mtu $mtu" ] || fail "the packet too big says '$ptb_mtu', expected mtu $mtu"
wait_for 20 grep -q "bytes from" "$TMP/console" || fail "the guest's pings after packet too big got no reply: $(tail -n 5 "$TMP/console")"
ok "the guest sending 1448-byte packets gets packet too big ($ptb_mtu) from b, and its pings then get through"
