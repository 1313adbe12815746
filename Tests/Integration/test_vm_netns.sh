#!/usr/bin/env bash
# VMs as containers: node b hosts namespace VMs v1 and v2 (`planetctl vm attach --netns`); a
# reaches b through the hub (star: a, b and c around hub). a pings v1 and moves a hash-checked
# file to a server inside v1, v1 reaches a; v2 cannot send as v1 or from outside b's /64 (nothing
# arrives at a, b counts both); inbound policy by key and by port, changed live; b restarts and
# v1 is back at the same address; detach leaves nothing behind; bad input exits 2.
source "$(dirname "$0")/lib.sh"
dir=$(dirname "$0")
tb_up vmns star
tb_wait_ping a b 30 || { dump_logs a hub b; fail "a cannot reach b"; }
tb_wait_ping c b 30 || { dump_logs c hub b; fail "c cannot reach b"; }
v1="$TB_NAME-v1"; v2="$TB_NAME-v2"
ip netns add "$v1"; NAMESPACES+=("$v1")
ip netns add "$v2"; NAMESPACES+=("$v2")
subnet=$("$PLANETD" subnet --config "/tmp/planet-testbed-$TB_NAME/b.json")
prefix=${subnet%::/64}
key_a=$(tb_ctl a --json self | json_get "d['publicKey']")
state="/tmp/planet-testbed-$TB_NAME/b-state"

expect_exit 0 tb_ctl b vm attach v1 --netns "$v1" --cpu 1 --memory 256M
expect_exit 0 tb_ctl b vm attach v2 --netns "$v2"
addr1=$(tb_ctl b --json vm show v1 | json_get "d['address']")
addr2=$(tb_ctl b --json vm show v2 | json_get "d['address']")
case "$addr1" in "$prefix":*) ;; *) fail "v1's address $addr1 is not in b's subnet $subnet";; esac
[ "$addr1" != "$addr2" ] || fail "v1 and v2 got the same address"
ip -n "$v1" -6 addr show dev planet0 > "$TMP/v1-addr"; grep "$addr1/128" "$TMP/v1-addr" >/dev/null || fail "v1 has no $addr1/128 inside its namespace: $(cat "$TMP/v1-addr")"
tun_mtu=$(tb_exec b ip link show dev planet0 | grep -o 'mtu [0-9]*')
[ "$(ip -n "$v1" link show dev planet0 | grep -o 'mtu [0-9]*')" = "$tun_mtu" ] || fail "v1's MTU is not the overlay's ($tun_mtu)"
tb_ctl b vm list | grep "^v1 " >/dev/null || fail "vm list does not show v1: $(tb_ctl b vm list)"
[ "$(tb_ctl b --json vm list | json_get "[v['state'] for v in d['vms']]")" = "['up', 'up']" ] || fail "VMs are not up: $(tb_ctl b vm list)"
ok "v1 at $addr1 and v2 at $addr2 attached in b's $subnet"

# a reaches v1 through the hub, v1 reaches a.
wait_for 20 tb_exec a ping -6 -c1 -W1 "$addr1" || { dump_logs a hub b; fail "a cannot ping v1 at $addr1"; }
ip netns exec "$v1" ping -6 -c2 -W2 "$(tb_addr a)" >/dev/null || fail "v1 cannot reach a"
head -c 3000000 /dev/urandom > "$TMP/payload"
want=$(sha256sum "$TMP/payload" | cut -d' ' -f1)
ip netns exec "$v1" python3 "$dir/tcp_transfer.py" serve 5001 "$TMP/received" > "$TMP/serve.out" & PIDS+=($!)
sleep 0.5
tb_exec a python3 "$dir/tcp_transfer.py" send "$addr1" 5001 "$TMP/payload" >/dev/null || fail "a could not send to v1"
wait_for 30 test -s "$TMP/serve.out" || fail "the server in v1 did not finish"
[ "$(cut -d' ' -f1 "$TMP/serve.out")" = "$want" ] || fail "the file v1 received differs from what a sent"
rx=$(tb_ctl b --json vm show v1 | json_get "int(d['rxBytes'])")
[ "$rx" -ge 3000000 ] || fail "v1's rxBytes ($rx) did not count the transfer"
ok "a pings v1 through the hub and moves a hash-checked 3 MB file to it; v1 reaches a"

# Path MTU discovery from inside: v1 raises its own MTU past the overlay's and sends a big
# packet that must not be fragmented; the node answers "packet too big" with the overlay's MTU.
ip -n "$v1" link set dev planet0 mtu 1500
ip netns exec "$v1" ping -6 -c1 -W2 -M do -s 1400 "$(tb_addr a)" > "$TMP/ping-big" 2>&1
grep -qi "too big.*${tun_mtu#mtu }" "$TMP/ping-big" || fail "v1 got no packet too big: $(cat "$TMP/ping-big")"
ip netns exec "$v1" ping -6 -c1 -W2 -M do -s 1400 "$(tb_addr a)" > "$TMP/ping-big2" 2>&1
grep -qi "too long\|too big" "$TMP/ping-big2" || fail "v1's kernel did not learn the path MTU: $(cat "$TMP/ping-big2")"
ip -n "$v1" link set dev planet0 mtu "${tun_mtu#mtu }"
ok "v1 sending more than the overlay's MTU gets packet too big (${tun_mtu#mtu }): PMTU discovery works inside it"

# No spoofing: v2 sends UDP to a with v1's source and with one outside b's /64; a listener on a
# records what arrives. v2's own source is the control: it must arrive.
tb_exec a python3 -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(('::', 9999)); s.settimeout(8)
with open('$TMP/udp.got', 'w') as f:
    try:
        while True:
            data, src = s.recvfrom(100); f.write(src[0] + ' ' + data.decode() + '\n'); f.flush()
    except socket.timeout: pass
" & PIDS+=($!)
sleep 0.5
ip -n "$v2" -6 addr add "$addr1/128" dev planet0 nodad
ip -n "$v2" -6 addr add 2001:db8::99/128 dev planet0 nodad
send_udp() { ip netns exec "$v2" python3 -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(('$1', 0))
for _ in range(3): s.sendto(b'$2', ('$(tb_addr a)', 9999))"; }
spoofed_before=$(tb_ctl b --json vm show v2 | json_get "int(d['spoofedPackets'])")
send_udp "$addr1" as-v1
send_udp 2001:db8::99 outside
send_udp "$addr2" genuine
wait_for 10 grep -q genuine "$TMP/udp.got" || fail "v2's genuine packet did not reach a (the check proves nothing)"
grep -q "as-v1\|outside" "$TMP/udp.got" && fail "a spoofed packet reached a: $(cat "$TMP/udp.got")"
spoofed=$(tb_ctl b --json vm show v2 | json_get "int(d['spoofedPackets'])")
[ $((spoofed - spoofed_before)) -ge 6 ] || fail "b counted $((spoofed - spoofed_before)) spoofed packets from v2, expected 6"
ip -n "$v2" -6 addr del "$addr1/128" dev planet0
ip -n "$v2" -6 addr del 2001:db8::99/128 dev planet0
ok "v2 sending as v1 or from outside the /64: nothing reaches a, b counted $((spoofed - spoofed_before)) for v2"

# No way into the underlay through b: v1 routes fd7a::/16 (the testbed's underlay) via its
# gateway and sends UDP to the hub's underlay address; a listener on the hub must see only the
# control packet b itself sends.
b_underlay=$(ip -n "$TB_NAME-b" -6 addr show | sed -n 's/.*inet6 \(fd7a:[0-9a-f:]*::1\)\/64.*/\1/p' | head -n 1)
hub_underlay=${b_underlay%::1}::2   # the hub's end of b's link (Tools/testbed: left ::1, right ::2)
tb_exec hub python3 -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(('::', 9998)); s.settimeout(6)
with open('$TMP/underlay.got', 'w') as f:
    try:
        while True:
            data, src = s.recvfrom(100); f.write(data.decode() + '\n'); f.flush()
    except socket.timeout: pass
" & PIDS+=($!)
sleep 0.5
ip -n "$v1" -6 route add fd7a::/16 via fe80::1 dev planet0
ip netns exec "$v1" python3 -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for _ in range(3): s.sendto(b'from-v1', ('$hub_underlay', 9998))" 2>/dev/null
tb_exec b python3 -c "
import socket
socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b'from-b', ('$hub_underlay', 9998))"
wait_for 10 grep -q from-b "$TMP/underlay.got" || fail "the hub's listener got nothing from b (the check proves nothing)"
grep -q from-v1 "$TMP/underlay.got" && fail "v1 reached the hub's underlay address $hub_underlay through b"
ip -n "$v1" -6 route del fd7a::/16 via fe80::1 dev planet0
ok "v1 cannot reach the underlay through b ($hub_underlay)"

# Inbound policy by key: a passes, c is told "administratively prohibited".
pid_b=$(cat "/tmp/planet-testbed-$TB_NAME/b.pid")
expect_exit 0 tb_ctl b vm policy v1 --allow "key:$key_a"
tb_exec a ping -6 -c1 -W2 "$addr1" >/dev/null || fail "a (allowed key) cannot ping v1"
tb_exec c ping -6 -c1 -W2 "$addr1" > "$TMP/ping-c" 2>&1 && fail "c pinged v1 through a key:a policy"
grep -qi "prohibited" "$TMP/ping-c" || fail "c was not told 'administratively prohibited': $(cat "$TMP/ping-c")"
refused=$(tb_ctl b --json vm show v1 | json_get "int(d['refusedPackets'])")
[ "$refused" -ge 1 ] || fail "b did not count the refused ping"
ok "--allow key:<a>: a reaches v1, c gets 'administratively prohibited' ($refused refused)"

# By port: only TCP 22 passes; v1's own connection out still gets its answers.
ip netns exec "$v1" python3 -c "
import socket, threading
def serve(p):
    s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('::', p)); s.listen(8)
    while True:
        c, _ = s.accept(); c.sendall(b'port %d\n' % p); c.close()
for p in (22, 23): threading.Thread(target=serve, args=(p,), daemon=True).start()
threading.Event().wait(60)
" & PIDS+=($!)
sleep 0.5
expect_exit 0 tb_ctl b vm policy v1 --allow tcp:22
connect() { tb_exec "$1" python3 -c "
import socket
c = socket.create_connection(('$2', $3), timeout=3); print(c.recv(20).decode().strip())" 2>/dev/null; }
[ "$(connect a "$addr1" 22)" = "port 22" ] || fail "tcp:22 did not pass from a"
[ "$(connect c "$addr1" 22)" = "port 22" ] || fail "tcp:22 did not pass from c"
connect a "$addr1" 23 && fail "tcp:23 passed a tcp:22 policy"
tb_exec a ping -6 -c1 -W2 "$addr1" >/dev/null && fail "a ping passed a tcp:22 policy"
ip netns exec "$v1" ping -6 -c1 -W2 "$(tb_addr a)" >/dev/null || fail "v1's own ping got no answer under tcp:22"
[ "$(cat "/tmp/planet-testbed-$TB_NAME/b.pid")" = "$pid_b" ] || fail "planetd on b restarted during the policy changes"
ok "--allow tcp:22: only port 22 passes; v1's own traffic gets answers; changed live, nothing restarted"
expect_exit 0 tb_ctl b vm policy v1 --allow any

# VM to VM on b goes through b and v1's policy.
ip netns exec "$v2" ping -6 -c1 -W2 "$addr1" >/dev/null || fail "v2 cannot ping v1 under 'any'"
expect_exit 0 tb_ctl b vm policy v1 --allow "key:$key_a"
ip netns exec "$v2" ping -6 -c1 -W2 "$addr1" > "$TMP/ping-v2" 2>&1 && fail "v2 reached v1 past its key:a policy (bypassing planetd)"
grep -qi "prohibited" "$TMP/ping-v2" || fail "v2 was not told 'administratively prohibited': $(cat "$TMP/ping-v2")"
expect_exit 0 tb_ctl b vm policy v1 --allow any
ok "v2 -> v1 on one node passes b's policy for v1"

# Restart: v1 keeps its address and is reachable again; its policy came back too.
expect_exit 0 tb_ctl b vm policy v1 --allow "key:$key_a"
tb stop b; sleep 1; tb start b
wait_for 10 test -S "/tmp/planet-testbed-$TB_NAME/b.sock" || fail "b did not come back"
wait_for 45 tb_exec a ping -6 -c1 -W1 "$addr1" || { dump_logs b; fail "v1 unreachable after b restarted"; }
[ "$(tb_ctl b --json vm show v1 | json_get "d['address']")" = "$addr1" ] || fail "v1's address changed across the restart"
tb_exec c ping -6 -c1 -W2 "$addr1" >/dev/null 2>&1 && fail "v1's policy was lost in the restart"
ok "b restarted: v1 is back at $addr1 with its policy"

# Bad input: one line naming the argument, exit 2, nothing made.
expect_exit 2 tb_ctl b vm attach v3 --netns "$TB_NAME-nope"; grep -q "netns" "$TMP/stderr" || fail "unknown netns: $(cat "$TMP/stderr")"
expect_exit 2 tb_ctl b vm attach v3 --netns "$v2" --address "$addr1"; grep -q "address.*taken" "$TMP/stderr" || fail "taken address: $(cat "$TMP/stderr")"
expect_exit 2 tb_ctl b vm attach v3 --netns "$v2" --address 300:1:2:3::4; grep -q "address.*outside" "$TMP/stderr" || fail "outside /64: $(cat "$TMP/stderr")"
expect_exit 2 tb_ctl b vm attach v3 --netns "$v2" --allow tcp:99999; grep -q "allow" "$TMP/stderr" || fail "bad rule: $(cat "$TMP/stderr")"
expect_exit 2 tb_ctl b vm policy v1 --allow key:abc; grep -q "allow" "$TMP/stderr" || fail "bad key: $(cat "$TMP/stderr")"
[ "$(wc -l < "$TMP/stderr")" -eq 1 ] || fail "the error is not one line: $(cat "$TMP/stderr")"
[ "$(tb_ctl b --json vm list | json_get "len(d['vms'])")" = 2 ] || fail "a refused attach left a lease"
ok "unknown netns, taken address, address outside the /64, malformed rules: exit 2 naming the argument"

# A namespace that vanishes is a state in vm list, not an error; its VM still detaches cleanly.
ip netns del "$v2"
[ "$(tb_ctl b --json vm show v2 | json_get "d['state']")" = netns-missing ] || fail "a vanished namespace is not reported: $(tb_ctl b vm list)"
tb_exec a ping -6 -c1 -W2 "$addr1" >/dev/null || fail "v1 stopped working when v2's namespace vanished"
ok "v2's namespace vanished: vm list says netns-missing, v1 runs on"

# Detach leaves no interface, route, rule, filter or lease.
if1=$(tb_ctl b --json vm show v1 | json_get "d['interface']")
expect_exit 0 tb_ctl b vm detach v1
expect_exit 0 tb_ctl b vm detach v2
tb_exec b ip link show dev "$if1" >/dev/null 2>&1 && fail "v1's interface $if1 is still there"
ip -n "$v1" link show dev planet0 >/dev/null 2>&1 && fail "v1's namespace still has planet0"
tb_exec b ip -6 route show table all | grep "$addr1" >/dev/null && fail "a route to $addr1 is left: $(tb_exec b ip -6 route show table all | grep "$addr1")"
tb_exec b ip -6 route show table 8471 | grep . >/dev/null && fail "the VM route table is left: $(tb_exec b ip -6 route show table 8471)"
tb_exec b ip -6 rule show | grep "iif" >/dev/null && fail "a policy rule is left: $(tb_exec b ip -6 rule show)"
tb_exec b nft list table inet planetary >/dev/null 2>&1 && fail "the nftables table is left"
grep -q '"v1"' "$state/vms.json" && fail "v1's lease is left in vms.json"
ok "detach left no interface, route, rule, filter or lease"
