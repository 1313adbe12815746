#!/usr/bin/env bash
# A "VM" (a namespace behind node b, on a veth) takes an address from b's /64 and is reachable
# from node a over the overlay without any public address; its own traffic to a goes back out.
source "$(dirname "$0")/lib.sh"
tb_up subnet line3
tb_wait_ping a b 30 || { dump_logs a r b; fail "no connectivity"; }
subnet=$("$PLANETD" subnet --config "/tmp/planet-testbed-$TB_NAME/b.json")
prefix=${subnet%::/64}
vm="$TB_NAME-vm"
ip netns add "$vm"; NAMESPACES+=("$vm")
ip link add vmbr0 netns "$TB_NAME-b" type veth peer name eth0 netns "$vm"
tb_exec b ip link set vmbr0 up
tb_exec b ip addr add "$prefix::1/64" dev vmbr0 nodad
tb_exec b sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n "$vm" link set lo up
ip -n "$vm" link set eth0 up
ip -n "$vm" addr add "$prefix::42/64" dev eth0 nodad
ip -n "$vm" route add 200::/7 via "$prefix::1"
# The VM's own /64 route covers 300::/8 only partly; send all overlay subnets the same way.
ip -n "$vm" route add 300::/8 via "$prefix::1"
wait_for 20 tb_exec a ping -6 -c1 -W1 "$prefix::42" || { dump_logs a r b; fail "a cannot reach the VM at $prefix::42"; }
ip netns exec "$vm" ping -6 -c2 -W2 "$(tb_addr a)" >/dev/null || fail "the VM cannot reach a"
ok "VM at $prefix::42 behind b reachable from a, and it reaches a"
# A VM spoofing an address outside b's /64 is dropped by b (not b's to send).
before=$(tb_ctl b --json stats | json_get "d['drops'].get('tun-bad-source', 0)")
ip -n "$vm" addr add 2001:db8::99/64 dev eth0 nodad
ip netns exec "$vm" ping -6 -c2 -W1 -I 2001:db8::99 "$(tb_addr a)" >/dev/null 2>&1 && fail "a spoofed source got an answer"
after=$(tb_ctl b --json stats | json_get "d['drops'].get('tun-bad-source', 0)")
[ "$after" -gt "$before" ] || fail "spoofed packets were not counted as tun-bad-source ($before -> $after)"
ok "a source outside b's /64 is dropped and counted ($before -> $after)"
