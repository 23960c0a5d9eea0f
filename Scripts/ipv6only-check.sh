#!/usr/bin/env bash
# An IPv6-only network ("EnableIPv4": false) on IPv6-only nodes: three hosts whose underlay
# has no IPv4 address at all (fd00:77::/64 inside the lab's namespaces), etcd reached over
# IPv6, the host-gw, vxlan or udp backend, an IPv6-only container behind each host. Checks:
#   - the nodes come up without any IPv4 address (the interface is chosen for IPv6 alone:
#     -iface=eth0 on hosts 1 and 2, the IPv6 default route on host 3);
#   - the leases are stock's IPv6-only ones: key 0.0.0.0-0&<v6>-64, PublicIP 0.0.0.0,
#     PublicIPv6 the node's address;
#   - subnet.env holds the IPv6 lines only; -ip-masq installs ip6tables rules and no
#     iptables ones;
#   - the full IPv6 container ping mesh and the kernel objects as stock's: host-gw one
#     `ip -6 route` per remote via its PublicIPv6; vxlan `flannel-v6.1` alone (no
#     flannel.1), its /128, per remote one neighbour, one FDB entry to its PublicIPv6 and one
#     onlink route, the VtepMAC in the lease's BackendV6Data (no BackendData); udp (beyond
#     stock: over the IPv6 underlay) flannel0 with MTU 1500 − 40 − 8, <subnet>::/128 and the
#     IPv6Network route alone, no IPv4 address, no per-lease route;
#   - udp: 200 MB over TCP/IPv6 between two containers with equal sha256 on both ends, and
#     /metrics shows the packets went through the forwarders (sent as UDP, written into the
#     TUN on the other side);
#   - a SIGKILL and restart loses no ping (udp: flannel0 goes with the daemon, as stock's, so
#     the mesh must come back) and changes no kernel entry;
#   - a lease deleted in etcd leaves the others within 2 s (udp: within 5 s the forwarders
#     answer its subnet with ICMPv6 no route, the route table gauge drops); host-gw: a route deleted by hand
#     is back within 11 s; vxlan: flannel-v6.1 deleted by hand is recreated and the mesh
#     recovers.
# Usage: Scripts/ipv6only-check.sh [--backend host-gw|vxlan|udp] [path/to/flanneld]
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=host-gw
if [ "${1:-}" = --backend ]; then BACKEND=$2; shift 2; fi
case $BACKEND in host-gw | vxlan | udp) ;; *) echo "--backend host-gw|vxlan|udp" >&2; exit 2 ;; esac
source Scripts/lib/lab.sh
lab_use_flanneld "${1:-}"
trap lab_cleanup EXIT

N=3
PREFIX=/coreos.com/network
IPV6_NETWORK=fd10::/56
CONFIG="{\"EnableIPv4\":false,\"EnableIPv6\":true,\"IPv6Network\":\"$IPV6_NETWORK\",\"Backend\":{\"Type\":\"$BACKEND\"}}"
ETCD6=fd00:77::11

lab_underlay $N
lab_containers $N
ip -n "${LAB_ID}ul" -6 addr add fd00:77::1/64 dev br0 nodad
public6_of() { echo "fd00:77::$((10 + $1))"; }
for i in $(seq $N); do
  ns=$(lab_host "$i")
  # No IPv4 on the node: the lab's underlay address and default route go.
  ip -n "$ns" -4 addr flush dev eth0
  ip -n "$ns" -6 addr add "$(public6_of "$i")/64" dev eth0 nodad
  ip -n "$ns" -6 route add default via fd00:77::1
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
done
for i in $(seq $N); do
  [ -z "$(ip -n "$(lab_host "$i")" -4 addr show scope global)" ] || lab_fail "host $i still has a global IPv4 address"
done

# etcd on host 1, on its loopback and its IPv6 underlay address only.
lab_spawn "$(lab_host 1)" "$LAB_DIR/etcd.log" etcd --name lab --data-dir "$LAB_DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:2379,http://[$ETCD6]:2379" \
  --advertise-client-urls "http://[$ETCD6]:2379" \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster lab=http://127.0.0.1:2380 --enable-v2=true --log-level error
lab_wait 30 "etcd" ip netns exec "$(lab_host 1)" curl -sf http://127.0.0.1:2379/health
etcdctl_() { ip netns exec "$(lab_host 1)" env ETCDCTL_API=3 etcdctl "$@"; }
etcdctl_ put $PREFIX/config "$CONFIG" >/dev/null

MTU=1500
[ "$BACKEND" = vxlan ] && MTU=1450 # stock's FLANNEL_MTU: (MTU) − 50 whatever the family
[ "$BACKEND" = udp ] && MTU=1452   # the IPv6 underlay: − 40 (IPv6) − 8 (UDP)
# udp: each daemon serves /metrics (the forwarders' counters are read).
PROBE=()
[ "$BACKEND" = udp ] && PROBE=(-healthz-ip=127.0.0.1 -healthz-port=10256)

declare -a PIDS
start_node() { # I
  local i=$1 iface=(-iface=eth0)
  [ "$i" = 3 ] && iface=() # host 3: the interface of the IPv6 default route
  # udp: hosts 1 and 2 with two workers (an AF_INET6 SO_REUSEPORT group steered by inner
  # flow, worker 1 sending from an ephemeral port), host 3 with one.
  local workers=()
  [ "$BACKEND" = udp ] && [ "$i" != 3 ] && workers=(-udp-workers=2)
  mkdir -p "$LAB_DIR/h$i"
  lab_flanneld "$(lab_host "$i")" "flanneld-h$i" \
    "-etcd-endpoints=http://[$ETCD6]:2379" -etcd-prefix=$PREFIX "${iface[@]}" -ip-masq \
    -subnet-file="$LAB_DIR/h$i/subnet.env" -v=1 "${PROBE[@]}" "${workers[@]}"
  PIDS[$i]=$LAB_LAST_PID
}
stop_node() { # I [SIGNAL]
  local i=$1 sig=${2:-TERM}
  kill -"$sig" "${PIDS[$i]}"
  wait "${PIDS[$i]}" 2>/dev/null || true
  lab_forget_pid "${PIDS[$i]}" 2>/dev/null || true
}
fail() { for i in $(seq $N); do echo "--- flanneld h$i"; tail -30 "$LAB_DIR/flanneld-h$i.log" || true; done; lab_fail "$*"; }

for i in $(seq $N); do start_node "$i"; done
prefix6_of() { sed -n 's/^FLANNEL_IPV6_SUBNET=\(.*\)::1\/64$/\1/p' "$LAB_DIR/h$1/subnet.env"; }
subnet6_of() { echo "$(prefix6_of "$1")::/64"; }
container6_ip() { echo "$(prefix6_of "$1")::2"; }
for i in $(seq $N); do
  lab_wait 30 "subnet.env on host $i" test -s "$LAB_DIR/h$i/subnet.env" || fail "no subnet.env on host $i"
  f="$LAB_DIR/h$i/subnet.env"
  [ "$(sed -n 1p "$f")" = "FLANNEL_IPV6_NETWORK=$IPV6_NETWORK" ] || fail "host $i: subnet.env line 1: $(cat "$f")"
  sed -n 2p "$f" | grep -qx 'FLANNEL_IPV6_SUBNET=fd10:0:0:[0-9a-f]*::1/64' || fail "host $i: subnet.env line 2"
  [ "$(sed -n '3,$p' "$f")" = "$(printf 'FLANNEL_MTU=%s\nFLANNEL_IPMASQ=true' "$MTU")" ] || fail "host $i: subnet.env lines 3-4"
  # The container: IPv6 only, <subnet>::2 behind <subnet>::1 on the host's veth (link-local
  # addresses on both ends: the kernel solicits neighbours for forwarded packets from one).
  p=$(prefix6_of "$i")
  ip -n "$(lab_host "$i")" -6 addr add fe80::1/64 dev "veth-c$i" nodad
  ip -n "$(lab_container "$i")" -6 addr add fe80::2/64 dev eth0 nodad
  ip -n "$(lab_host "$i")" -6 addr add "$p::1/64" dev "veth-c$i" nodad
  ip -n "$(lab_container "$i")" -6 addr add "$p::2/64" dev eth0 nodad
  ip -n "$(lab_container "$i")" -6 route replace default via "$p::1" dev eth0
done
grep -q "No IPv4 interface to use" "$LAB_DIR/flanneld-h3.log" || fail "host 3 did not note the missing IPv4 interface"
grep -q "Using interface with name eth0 and v6 address $(public6_of 3)" "$LAB_DIR/flanneld-h3.log" || fail "host 3 did not choose eth0 by its IPv6 default route"
lab_log "$BACKEND IPv6-only: leases $(for i in $(seq $N); do printf '%s ' "$(subnet6_of "$i")"; done)"
lab_log "ok: subnet.env with the IPv6 lines only on every host"

# The leases as stock writes them on an IPv6-only network.
for i in $(seq $N); do
  key="$PREFIX/subnets/0.0.0.0-0&$(prefix6_of "$i")::-64"
  value=$(etcdctl_ get --print-value-only "$key")
  # udp writes no BackendType (as stock's udp backend).
  jq -e --arg p "$(public6_of "$i")" --arg b "$([ "$BACKEND" = udp ] || echo "$BACKEND")" '.PublicIP == "0.0.0.0" and .PublicIPv6 == $p and (.BackendType // "") == $b' <<<"$value" >/dev/null || fail "host $i: lease $key = $value"
  if [ "$BACKEND" = vxlan ]; then
    mac=$(ip -n "$(lab_host "$i")" -j link show flannel-v6.1 | jq -r '.[0].address')
    jq -e --arg m "$mac" '.BackendV6Data == {"VNI": 1, "VtepMAC": $m} and (has("BackendData") | not)' <<<"$value" >/dev/null || fail "host $i: lease $key = $value (want BackendV6Data with $mac, no BackendData)"
  fi
done
[ "$(etcdctl_ get --prefix --keys-only "$PREFIX/subnets/" | grep -c .)" = $N ] || fail "not exactly $N lease keys"
lab_log "ok: stock's IPv6-only leases (0.0.0.0-0&<v6>-64, PublicIP 0.0.0.0)"

# -ip-masq: ip6tables rules, no iptables ones.
for i in $(seq $N); do
  ns=$(lab_host "$i")
  lab_wait 10 "ip6tables rules on host $i" bash -c "ip netns exec $ns ip6tables -t nat -S | grep -q FLANNEL-POSTRTG" || fail "host $i: no ip6tables masquerade chain"
  rules4=$(ip netns exec "$ns" iptables-save) || fail "host $i: iptables-save failed"
  if grep -q FLANNEL <<<"$rules4"; then fail "host $i: iptables (IPv4) rules on an IPv6-only network"; fi
done
lab_log "ok: ip6tables masquerade and forward rules, no iptables ones"

ping_mesh() {
  local i j
  for i in $(seq $N); do
    for j in $(seq $N); do
      [ "$i" = "$j" ] && continue
      ip netns exec "$(lab_container "$i")" ping -6 -q -c 2 -i 0.2 -W 2 "$(container6_ip "$j")" >/dev/null || return 1
    done
  done
}
mesh_ok() {
  local deadline=$((SECONDS + $1))
  until ping_mesh; do [ "$SECONDS" -lt "$deadline" ] || return 1; sleep 0.2; done
}
mesh_ok 20 || fail "IPv6 container ping mesh incomplete"
lab_log "ok: full IPv6 ping mesh ($((N * (N - 1))) pairs)"

routes6() { ip -n "$(lab_host "$1")" -6 -j route show | jq -c 'map(select(.dst | startswith("fd10:"))) | sort_by(.dst) | map({dst, gateway, dev})'; }
gw6_of() { echo "$(prefix6_of "$1")::"; }
kernel_state() { # I: what flannel owns on host I
  local ns; ns=$(lab_host "$1")
  routes6 "$1"
  if [ "$BACKEND" = udp ]; then
    ip -n "$ns" -j addr show dev flannel0 | jq -c '[.[0].addr_info[] | select(.scope == "global") | {family, local, prefixlen}]' # the link-local one is new with each TUN
    ip -n "$ns" -j link show flannel0 | jq -c '[.[0].mtu]'
  fi
  if [ "$BACKEND" = vxlan ]; then
    ip -n "$ns" -j -6 neigh show dev flannel-v6.1 | jq -c 'map(select(.state | index("PERMANENT"))) | sort_by(.dst) | map({dst, lladdr})'
    bridge -n "$ns" -j fdb show dev flannel-v6.1 | jq -c 'map(select(.dst != null)) | sort_by(.mac) | map({mac, dst})'
  fi
}
for i in $(seq $N); do
  ns=$(lab_host "$i")
  for j in $(seq $N); do
    [ "$i" = "$j" ] && continue
    case $BACKEND in
      host-gw)
        ip -n "$ns" -6 -j route show | jq -e --arg s "$(subnet6_of "$j")" --arg p "$(public6_of "$j")" 'any(.[]; .dst==$s and .gateway==$p and .dev=="eth0")' >/dev/null || fail "host $i: IPv6 route to host $j" ;;
      vxlan)
        mac=$(ip -n "$(lab_host "$j")" -j link show flannel-v6.1 | jq -r '.[0].address')
        ip -n "$ns" -6 -j neigh show dev flannel-v6.1 | jq -e --arg d "$(gw6_of "$j")" --arg m "$mac" 'any(.[]; .dst==$d and .lladdr==$m and (.state|index("PERMANENT")))' >/dev/null || fail "host $i: IPv6 neighbour for host $j"
        bridge -n "$ns" -j fdb show dev flannel-v6.1 | jq -e --arg m "$mac" --arg p "$(public6_of "$j")" 'any(.[]; .mac==$m and .dst==$p and (.flags|index("self")) and .state=="permanent")' >/dev/null || fail "host $i: fdb for host $j"
        ip -n "$ns" -6 -j route show dev flannel-v6.1 | jq -e --arg s "$(subnet6_of "$j")" --arg g "$(gw6_of "$j")" 'any(.[]; .dst==$s and .gateway==$g and (.flags|index("onlink")))' >/dev/null || fail "host $i: IPv6 route to host $j" ;;
      udp) ;; # no kernel object per lease: the forwarders' table (checked through the mesh)
    esac
  done
  if [ "$BACKEND" = udp ]; then
    [ "$(ip -n "$ns" -j link show flannel0 | jq '.[0].mtu')" = "$MTU" ] || fail "host $i: flannel0 MTU is not $MTU"
    ip -n "$ns" -j addr show dev flannel0 | jq -e --arg a "$(gw6_of "$i")" '[.[0].addr_info[] | select(.scope=="global") | "\(.local)/\(.prefixlen)"] == ["\($a)/128"]' >/dev/null || fail "host $i: flannel0's global addresses are not $(gw6_of "$i")/128 alone: $(ip -n "$ns" addr show dev flannel0)"
    routes6 "$i" | jq -e --arg n "$IPV6_NETWORK" 'any(.[]; .dst==$n and .dev=="flannel0") and all(.[]; .gateway == null)' >/dev/null || fail "host $i: IPv6 routes are not $IPV6_NETWORK dev flannel0 without per-lease ones: $(routes6 "$i")"
    grep -q "IPv6-only network: IPv6 underlay, MTU $MTU" "$LAB_DIR/flanneld-h$i.log" || fail "host $i: no IPv6 underlay log line"
    [ "$i" = 3 ] || grep -q "udp backend: 2 workers .*UDP port 8285 shared with SO_REUSEPORT (steered by inner flow)" "$LAB_DIR/flanneld-h$i.log" || fail "host $i: not 2 workers steered by inner flow"
  elif [ "$BACKEND" = vxlan ]; then
    ! ip -n "$ns" link show flannel.1 >/dev/null 2>&1 || fail "host $i: flannel.1 exists on an IPv6-only network"
    ip -n "$ns" -6 -j addr show dev flannel-v6.1 | jq -e --arg a "$(gw6_of "$i")" '[.[0].addr_info[] | select(.scope=="global") | "\(.local)/\(.prefixlen)"] == ["\($a)/128"]' >/dev/null || fail "host $i: flannel-v6.1 address is not $(gw6_of "$i")/128 alone"
    [ "$(ip -n "$ns" -j link show flannel-v6.1 | jq '.[0].mtu')" = 1430 ] || fail "host $i: flannel-v6.1 MTU"
  fi
  if [ "$BACKEND" != udp ]; then
    [ "$(routes6 "$i" | jq --arg d "$([ "$BACKEND" = vxlan ] && echo flannel-v6.1 || echo eth0)" '[.[] | select(.dev == $d and .gateway != null)] | length')" = $((N - 1)) ] || fail "host $i: extra IPv6 routes: $(routes6 "$i")"
  fi
  [ "$(ip -n "$ns" -4 -j route show | jq length)" = 0 ] || fail "host $i: IPv4 routes on an IPv6-only node: $(ip -n "$ns" -4 route show)"
done
lab_log "ok: kernel objects as stock's on every host$([ "$BACKEND" = vxlan ] && echo " (flannel-v6.1 alone)")$([ "$BACKEND" = udp ] && echo " (udp: flannel0 MTU $MTU, its /128 and $IPV6_NETWORK)"), no IPv4 route"

counter() { # HOST NAME: a udp forwarder counter summed over the workers
  ip netns exec "$(lab_host "$1")" curl -sf --max-time 5 http://127.0.0.1:10256/metrics |
    awk -v n="flannel_udp_forwarder_$2_total{" 'index($1, n) == 1 { s += $2 } END { printf "%.0f", s }'
}
gauge() { # HOST NAME: a udp gauge
  ip netns exec "$(lab_host "$1")" curl -sf --max-time 5 http://127.0.0.1:10256/metrics |
    awk -v n="$2" '$1 == n { printf "%.0f", $2 }'
}
if [ "$BACKEND" = udp ]; then
  # 200 MB over TCP/IPv6, container 1 → container 2, through both forwarders over the IPv6
  # underlay: the same sha256 on both ends.
  sent_before=$(counter 1 udp_packets_sent) received_before=$(counter 2 udp_packets_received)
  lab_tcp6_transfer 1 2 "$(container6_ip 2)" 200000000
  lab_log "ok: 200 MB over TCP/IPv6 container 1 → 2 intact ($(cut -c1-12 "$LAB_DIR/send6.txt"), $LAB_TRANSFER_SECONDS s)"
  # Through the forwarders: host 1 sent the bytes as UDP datagrams to host 2's PublicIPv6,
  # host 2 received them and wrote the IPv6 packets into its TUN (at 1452 bytes a packet,
  # 200 MB is > 137,000 packets; the ACKs went the other way).
  sent=$(($(counter 1 udp_packets_sent) - sent_before)) received=$(($(counter 2 udp_packets_received) - received_before))
  sent6=$(counter 1 ipv6_packets_sent) written6=$(counter 2 ipv6_packets_written)
  [ "$sent" -gt 130000 ] && [ "$received" -gt 130000 ] && [ "${written6:-0}" -gt 130000 ] || fail "udp counters: host 1 sent $sent datagrams (${sent6:-?} IPv6 packets), host 2 received $received and wrote ${written6:-?} IPv6 packets"
  for i in 1 2; do
    for offload in udp-gso udp-gro; do
      [ "$(ip netns exec "$(lab_host "$i")" curl -sf --max-time 5 http://127.0.0.1:10256/metrics | awk -v o="flannel_udp_offload_active{offload=\"$offload\"}" '$1 == o { print $2 }')" = 1 ] || fail "host $i: $offload is not on for the AF_INET6 socket"
    done
  done
  lab_log "ok: UDP GSO and GRO on the AF_INET6 sockets of hosts 1 and 2 (host 1: $(counter 1 udp_sends) sends for $sent datagrams; host 2: $(counter 2 udp_receives) receives for $received)"
  lab_log "ok: the transfer went through the udp forwarders: host 1 sent $sent datagrams ($sent6 IPv6 packets read from flannel0, $(counter 1 tun_super_packets) super-packets split into $(counter 1 tun_split_packets)), host 2 received $received and wrote $written6 into its TUN (merged: $(counter 2 tun_coalesced_packets) into $(counter 2 tun_coalesced_writes) writes); drops: $(counter 2 drop_unknown_source) unknown source, $(counter 2 drop_ipv6_wrong_source) wrong source, $(counter 2 drop_bad_sender_name) bad sender name"
fi

# SIGKILL and restart host 2's daemon under a continuous ping from container 1.
before=$(kernel_state 2)
ip netns exec "$(lab_container 1)" ping -6 -i 0.05 -W 1 "$(container6_ip 2)" >"$LAB_DIR/ping.txt" 2>&1 &
P1=$!; LAB_PIDS+=("$P1")
sleep 1 # pings flowing before the kill: a duration of the scenario, not a synchronization
stop_node 2 KILL
start_node 2
lab_wait 30 "host 2 back" grep -q "Synced" "$LAB_DIR/flanneld-h2.log"
mesh_ok 10 || fail "mesh after restart"
sleep 1
kill -INT "$P1"; wait "$P1" 2>/dev/null || true
lab_forget_pid "$P1"
lost=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$LAB_DIR/ping.txt")
lab_log "continuous IPv6 ping across SIGKILL+restart: $(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$LAB_DIR/ping.txt") sent, loss $lost%"
# udp: flannel0 goes with the daemon (as stock's): the mesh being back is what counts.
[ "$BACKEND" = udp ] || [ "$lost" = 0 ] || fail "packets lost across a daemon restart"
[ "$before" = "$(kernel_state 2)" ] || { diff <(echo "$before") <(kernel_state 2) || true; fail "the restart changed kernel entries"; }
lab_log "ok: $([ "$BACKEND" = udp ] && echo "mesh back" || echo "no packet lost"), no kernel entry changed by the restart"

# A lease deleted in etcd (its daemon stopped first, so it does not re-acquire it).
stop_node 3 TERM
gone=$(subnet6_of 3)
deleted_at=$EPOCHREALTIME
etcdctl_ del "$PREFIX/subnets/0.0.0.0-0&${gone%/*}-64" >/dev/null
for i in 1 2; do
  if [ "$BACKEND" = udp ]; then
    # No kernel route per lease: the forwarders forget the subnet and answer ICMPv6 no route.
    lab_wait 5 "host $i to answer $gone with no route" bash -c "ip netns exec $(lab_container "$i") ping -6 -c 1 -W 1 $(container6_ip 3) 2>&1 | grep -q 'No route'"
  else
    lab_wait 2 "host $i to drop $gone" bash -c "! ip -n $(lab_host "$i") -6 -j route show | jq -e --arg s $gone 'any(.[]; .dst==\$s)' >/dev/null"
  fi
done
lab_log "ok: lease $gone deleted in etcd left hosts 1 and 2 within $(awk -v a="$deleted_at" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}') s"
if [ "$BACKEND" = udp ]; then
  [ "$(gauge 1 flannel_udp_route_table_routes)" = 1 ] || fail "host 1's forwarders hold $(gauge 1 flannel_udp_route_table_routes) routes, not 1"
  ip netns exec "$(lab_container 1)" ping -6 -q -c 2 -i 0.2 -W 2 "$(container6_ip 2)" >/dev/null || fail "host 1 lost host 2 with the deleted lease"
else
  [ "$(routes6 1 | jq '[.[] | select(.gateway != null)] | length')" = 1 ] || fail "host 1 lost more than the deleted lease's route: $(routes6 1)"
fi

case $BACKEND in
  host-gw)
    target=$(subnet6_of 2)
    ip -n "$(lab_host 1)" -6 route del "$target"
    lab_wait 11 "host-gw to restore $target" bash -c "ip -n $(lab_host 1) -6 -j route show | jq -e --arg s $target 'any(.[]; .dst==\$s)' >/dev/null"
    lab_log "ok: an IPv6 route deleted by hand was restored" ;;
  vxlan)
    ip -n "$(lab_host 1)" link del flannel-v6.1
    lab_wait 30 "flannel-v6.1 recreated on host 1" ip -n "$(lab_host 1)" link show flannel-v6.1
    deadline=$((SECONDS + 30))
    until ip netns exec "$(lab_container 1)" ping -6 -q -c 1 -W 1 "$(container6_ip 2)" >/dev/null &&
      ip netns exec "$(lab_container 2)" ping -6 -q -c 1 -W 1 "$(container6_ip 1)" >/dev/null; do
      [ "$SECONDS" -lt "$deadline" ] || fail "mesh did not recover after flannel-v6.1 was deleted"
      sleep 0.2
    done
    lab_log "ok: flannel-v6.1 deleted by hand was recreated and traffic recovered" ;;
  udp) ;; # flannel0 lives as long as the daemon's descriptors (the restart above)
esac
for i in 1 2; do stop_node "$i" TERM; done
lab_log "ipv6-only check ok: $BACKEND"
