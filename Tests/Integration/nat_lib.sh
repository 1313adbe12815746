# NAT topology for the test_nat_*.sh tests. Source after lib.sh.
#
#                       wan (bridge, 198.51.100.0/24: the "internet")
#          .1 |                 .11 |                         .12 |
#             p               h1 (masquerade)               h2 (masquerade)
#                        10.1.0.1 | lan bridge            10.2.0.1 | lan bridge
#                        u 10.1.0.2   u2 10.1.0.3         n 10.2.0.2 -- vm (n's /64)
#
# p is a public planetd; u, u2 and n run planetd behind the home routers h1 and h2 with p as
# their one peer (multicast discovery off, so only punching can link them directly). The
# underlay is IPv4 (a home router's NAT); everything stays inside the namespaces made here.
# shellcheck shell=bash

NAT=nat$$           # namespace prefix, unique per run
NAT_DIR=$TMP/nat
mkdir -p "$NAT_DIR"
nat_ns() { echo "$NAT-$1"; }
nat_exec() { local n=$1; shift; ip netns exec "$(nat_ns "$n")" "$@"; }
nat_ctl() { local n=$1; shift; "$PLANETCTL" --socket "$NAT_DIR/$n.sock" "$@"; }
nat_addr() { "$PLANETD" address --config "$NAT_DIR/$1.json"; }
nat_key() { nat_ctl "$1" --json self | json_get "d['publicKey']"; }
nat_log() { echo "--- log of $1"; tail -n 60 "$NAT_DIR/$1.log"; }

nat_mkns() {
  ip netns add "$(nat_ns "$1")"; NAMESPACES+=("$(nat_ns "$1")")
  nat_exec "$1" ip link set lo up
  nat_exec "$1" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
}

# nat_veth A IFA B IFB: a veth between namespaces A and B, both ends up.
nat_veth() {
  ip link add "$2" netns "$(nat_ns "$1")" type veth peer name "$4" netns "$(nat_ns "$3")"
  nat_exec "$1" ip link set "$2" up
  nat_exec "$3" ip link set "$4" up
}

# nat_router H LANNET WANADDR MODE: H routes LANNET.0/24 to the wan and masquerades it; MODE is
# "preserve" (Linux keeps the source port when it can: an endpoint-independent mapping for a
# single host) or "random" (masquerade fully-random: a new port per destination, symmetric).
nat_router() {
  local h=$1 lan=$2 wan=$3 mode=$4
  nat_mkns "$h"
  nat_veth "$h" wan wan "$h"
  nat_exec wan ip link set "$h" master br0
  nat_exec "$h" ip addr add "$wan/24" dev wan
  nat_exec "$h" ip link add lan type bridge
  nat_exec "$h" ip link set lan up
  nat_exec "$h" ip addr add "$lan.1/24" dev lan
  nat_exec "$h" sysctl -qw net.ipv4.ip_forward=1
  local flags=""; [ "$mode" = random ] && flags=" fully-random"
  # As a home router does, it drops what arrives unsolicited from the wan for itself. That
  # matters here: a packet it accepted would leave a conntrack entry (peer -> router:8470) that
  # makes masquerade pick another port for the host's own later packet to that peer.
  nat_exec "$h" nft -f - <<NFT || fail "nft on $h"
table inet filter {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "wan" ct state new drop
  }
}
table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" ip saddr $lan.0/24 masquerade$flags
  }
}
NFT
}

# nat_host N H ADDR: a host namespace N on router H's LAN at ADDR, default route via H.
nat_host() {
  local n=$1 h=$2 addr=$3
  nat_mkns "$n"
  nat_veth "$n" eth0 "$h" "l-$n"
  nat_exec "$h" ip link set "l-$n" master lan
  nat_exec "$n" ip addr add "$addr/24" dev eth0
  nat_exec "$n" ip route add default via "${addr%.*}.1"
}

# nat_config N PUNCH [PEER]: writes N's config (peer p unless N is p).
nat_config() {
  local n=$1 punch=$2 peers='"udp://198.51.100.1:8470"'
  [ "$n" = p ] && peers=''
  local key; key=$("$PLANETD" genconf | grep -o '"privateKey": "[0-9a-f]*"' | cut -d'"' -f4)
  cat > "$NAT_DIR/$n.json" <<JSON
{
  "privateKey": "$key",
  "listen": ["udp://[::]:8470"],
  "peers": [$peers],
  "tun": {"enabled": true, "name": "planet0"},
  "adminSocket": "$NAT_DIR/$n.sock",
  "multicast": [],
  "stateDir": "$NAT_DIR/$n-state",
  "logLevel": "debug",
  "nat": {"punch": $punch}
}
JSON
}

nat_start() {
  local n=$1
  nat_exec "$n" "$PLANETD" run --config "$NAT_DIR/$n.json" >>"$NAT_DIR/$n.log" 2>&1 &
  PIDS+=($!)
  wait_for 10 test -S "$NAT_DIR/$n.sock" || { nat_log "$n"; fail "planetd on $n did not start"; }
}

# nat_topology H1MODE H2MODE PUNCH [u2]: builds the picture above and starts planetd on p, u, n
# (and u2 when asked), punching on or off.
nat_topology() {
  local m1=$1 m2=$2 punch=$3 with_u2=${4:-}
  nat_mkns wan
  nat_exec wan ip link add br0 type bridge
  nat_exec wan ip link set br0 up
  nat_mkns p
  nat_veth p wan wan p
  nat_exec wan ip link set p master br0
  nat_exec p ip addr add 198.51.100.1/24 dev wan
  nat_router h1 10.1.0 198.51.100.11 "$m1"
  nat_router h2 10.2.0 198.51.100.12 "$m2"
  nat_host u h1 10.1.0.2
  nat_host n h2 10.2.0.2
  [ -n "$with_u2" ] && nat_host u2 h1 10.1.0.3
  nat_exec u ping -c1 -W2 198.51.100.1 >/dev/null || fail "u cannot reach p's public address through h1"
  for n in p u n ${with_u2:+u2}; do nat_config "$n" "$punch"; done
  for n in p u n ${with_u2:+u2}; do nat_start "$n"; done
}

# nat_vm: a namespace "vm" behind n with an address from n's /64, as test_subnet_vm.sh does it
# (a plain namespace on a veth; VMs proper are issue 12's). Sets NAT_VM to the VM's address
# (called as is, not in $(...): the namespace must reach this shell's cleanup list).
nat_vm() {
  local subnet; subnet=$("$PLANETD" subnet --config "$NAT_DIR/n.json")
  local prefix=${subnet%::/64}
  nat_mkns vm
  nat_veth n vmbr0 vm eth0
  nat_exec n ip addr add "$prefix::1/64" dev vmbr0 nodad
  nat_exec n sysctl -qw net.ipv6.conf.all.forwarding=1
  nat_exec vm ip addr add "$prefix::42/64" dev eth0 nodad
  nat_exec vm ip route add 200::/7 via "$prefix::1"
  nat_exec vm ip route add 300::/8 via "$prefix::1"
  NAT_VM="$prefix::42"
}

# nat_route_to FROM TO: FROM has a route to TO's address (no traffic sent).
nat_route_to() {
  local want; want=$(nat_addr "$2")
  nat_ctl "$1" --json routes | json_get "any(r['address']=='$want' and r['nextHop'] for r in d['routes'])" | grep -q True
}

# nat_session FROM TO FIELD: the FIELD of FROM's session with TO ("" if none).
nat_session() {
  local key; key=$(nat_key "$2")
  nat_ctl "$1" --json sessions | json_get "next((str(s.get('$3')) for s in d['sessions'] if s['publicKey']=='$key'), '')"
}
# nat_punched FROM TO: FROM has an up link to TO made by punching.
nat_punched() {
  local key; key=$(nat_key "$2")
  nat_ctl "$1" --json peers | json_get "any(p['publicKey']=='$key' and p['state']=='up' and p['punched'] for p in d['peers'])" | grep -q True
}
nat_linked() {
  local key; key=$(nat_key "$2")
  nat_ctl "$1" --json peers | json_get "any(p['publicKey']=='$key' and p['state']=='up' for p in d['peers'])" | grep -q True
}
nat_stat() { nat_ctl "$1" --json stats | json_get "$2"; }

# nat_transfer FROM DEST_NS DEST_ADDR BYTES RATE PORT: a TCP transfer of random bytes from
# namespace FROM to DEST_ADDR (served in DEST_NS), at most RATE bytes/s; fails unless the
# receiver's SHA-256 matches. Runs in the background when NAT_BG=1 (then nat_transfer_check).
nat_transfer() {
  local from=$1 dns=$2 daddr=$3 bytes=$4 rate=$5 port=$6 dir; dir=$(dirname "${BASH_SOURCE[0]}")
  head -c "$bytes" /dev/urandom > "$TMP/payload-$port"
  sha256sum "$TMP/payload-$port" | cut -d' ' -f1 > "$TMP/want-$port"
  nat_exec "$dns" python3 "$dir/tcp_transfer.py" serve "$port" "$TMP/received-$port" > "$TMP/serve-$port.out" &
  PIDS+=($!)
  sleep 0.5
  nat_exec "$from" python3 "$dir/tcp_transfer.py" send "$daddr" "$port" "$TMP/payload-$port" "$rate" > "$TMP/send-$port.out" 2>&1 &
  NAT_SENDER=$!
  PIDS+=($NAT_SENDER)
}
nat_transfer_check() {
  local port=$1
  wait "$NAT_SENDER" || fail "sender on port $port failed: $(cat "$TMP/send-$port.out")"
  wait_for 30 test -s "$TMP/serve-$port.out" || fail "receiver on port $port did not finish"
  local got want; got=$(cut -d' ' -f1 "$TMP/serve-$port.out"); want=$(cat "$TMP/want-$port")
  [ "$got" = "$want" ] || fail "SHA-256 differs on port $port: sent $want received $got ($(cut -d' ' -f2 "$TMP/serve-$port.out") bytes)"
}

# With NAT_KEEP_LOGS=DIR set, a test that calls this keeps the nodes' logs there.
nat_keep_logs() { [ -n "${NAT_KEEP_LOGS:-}" ] && mkdir -p "$NAT_KEEP_LOGS" && cp "$NAT_DIR"/*.log "$NAT_KEEP_LOGS"/; return 0; }
