# The IPv6 arms of Scripts/bench.sh --family 6 (sourced after bench-arms.sh, whose arm
# functions of the same names they replace). The containers talk IPv6: host i's subnet is
# fd10:0:0:i::/64 in the hand-made arms (what flanneld leased in its arms), the container
# <subnet>::2 behind <subnet>::1 on the host's veth. Host i's IPv6 underlay address is
# fd00:77::(10+i); the kernel arms (vxlan, host-gw) and flanneld's vxlan and host-gw
# backends run over it, our udp backend carries the IPv6 packets over its IPv4 underlay (a
# dual-stack network). The baseline forwarder is stock's IPv4-only design and stays IPv4.

BENCH_NETWORK6=fd10::/56
BENCH_ARMS6=underlay,vxlan,host-gw,baseline,udp,udp-ref,flannel-vxlan,flannel-host-gw

bench_host_ip6() { echo "fd00:77::$((10 + $1))"; }
bench_prefix6() { echo "fd10:0:0:$1"; } # hand-made subnet of host i: fd10:0:0:i::/64

# The IPv6 underlay beside the IPv4 one (no DAD: usable at once), forwarding on the hosts.
bench_underlay6() {
  local i host
  ip -n "${LAB_ID}ul" -6 addr add fd00:77::1/64 dev br0 nodad
  for i in 1 2; do
    host=$(lab_host "$i")
    ip -n "$host" -6 addr add "$(bench_host_ip6 "$i")/64" dev eth0 nodad
    ip netns exec "$host" sysctl -qw net.ipv6.conf.all.forwarding=1
  done
}

bench_reset_hosts6() {
  local i host
  bench_reset_hosts
  for i in 1 2; do
    host=$(lab_host "$i")
    ip -n "$host" link del flannel-v6.1 2>/dev/null || true
    ip -n "$host" -6 route flush root "$BENCH_NETWORK6" 2>/dev/null || true
    ip -n "$(lab_container "$i")" -6 route flush default 2>/dev/null || true
    rm -f "$LAB_DIR/container-$i.subnet6"
  done
}

arm_underlay_setup() {
  ARM_SRC_NS=$(lab_host 1)
  ARM_DST_NS=$(lab_host 2)
  ARM_DST_IP=$(bench_host_ip6 2)
  ARM_NOTE="host1 eth0 -> host2 eth0 over the IPv6 underlay; no containers, no forwarding"
}

# The kernel device as stock's vxlan backend configures its IPv6 one: flannel-v6.1 over the
# IPv6 underlay, MTU external - 70, <subnet address>/128, neighbour, FDB and onlink route.
arm_vxlan_setup() {
  local i j host mac p
  local -a macs
  for i in 1 2; do
    host=$(lab_host "$i")
    p=$(bench_prefix6 "$i")
    ip -n "$host" link add flannel-v6.1 type vxlan id 1 local "$(bench_host_ip6 "$i")" dev eth0 \
      dstport 8472 nolearning
    ip -n "$host" link set flannel-v6.1 mtu $((BENCH_EXT_MTU - 70))
    ip -n "$host" -6 addr add "$p::/128" dev flannel-v6.1 nodad
    ip -n "$host" link set flannel-v6.1 up
    macs[i]=$(ip -n "$host" -o link show flannel-v6.1 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
  done
  for i in 1 2; do
    host=$(lab_host "$i")
    j=$(bench_peer "$i")
    mac=${macs[j]}
    p=$(bench_prefix6 "$j")
    ip -n "$host" -6 neigh replace "$p::" lladdr "$mac" dev flannel-v6.1 nud permanent
    ip netns exec "$host" bridge fdb replace "$mac" dev flannel-v6.1 dst "$(bench_host_ip6 "$j")" \
      self permanent
    ip -n "$host" -6 route replace "$p::/64" via "$p::" dev flannel-v6.1 onlink
    lab_container_attach "$i" "10.1.$i.0/24" $((BENCH_EXT_MTU - 70))
    lab_container_attach6 "$i" "$(bench_prefix6 "$i")"
  done
  ARM_DST_IP=$(lab_container_ip6 2)
  ARM_NOTE="flannel-v6.1 VNI 1 port 8472 nolearning over IPv6, /128, neigh+fdb+route onlink, MTU $((BENCH_EXT_MTU - 70))"
}
arm_vxlan_teardown() { bench_reset_hosts6; }

arm_host_gw_setup() {
  local i j
  for i in 1 2; do
    j=$(bench_peer "$i")
    lab_container_attach "$i" "10.1.$i.0/24" "$BENCH_EXT_MTU"
    lab_container_attach6 "$i" "$(bench_prefix6 "$i")"
    ip -n "$(lab_host "$i")" -6 route replace "$(bench_prefix6 "$j")::/64" via "$(bench_host_ip6 "$j")" dev eth0
  done
  ARM_DST_IP=$(lab_container_ip6 2)
  ARM_NOTE="fd10:0:0:j::/64 via peer's IPv6 dev eth0, MTU $BENCH_EXT_MTU"
}
arm_host_gw_teardown() { bench_reset_hosts6; }

# baseline: IPv4 (stock's design carries nothing else); arm_baseline_* stay as they are.

# bench_flanneld_up6 BACKEND TYPE_JSON DEVICE DEVICE6: flanneld on a dual-stack network (DEVICE
# as bench_flanneld_up takes it), then the containers' IPv6 halves on the leased IPv6
# subnets, once DEVICE6 (if any) and the peer's IPv6 route are there.
bench_flanneld_up6() {
  local backend=$1 type=$2 device=$3 device6=$4 i env p peer deadline
  bench_flanneld_up "$backend" \
    "{\"Network\":\"$BENCH_NETWORK\",\"EnableIPv6\":true,\"IPv6Network\":\"$BENCH_NETWORK6\",\"Backend\":$type}" \
    "$device" || return 1
  for i in 1 2; do
    env="$LAB_DIR/$BENCH_ARM-h$i-r$BENCH_REPEAT.env"
    p=$(sed -n 's/^FLANNEL_IPV6_SUBNET=\(.*\)::1\/64$/\1/p' "$env")
    [ -n "$p" ] || { ARM_UNAVAILABLE="no FLANNEL_IPV6_SUBNET in subnet.env on host $i"; return 1; }
    lab_container_attach6 "$i" "$p"
  done
  peer=$(cat "$LAB_DIR/container-2.subnet6")
  # The kernel backends route each peer's subnet; the udp backend routes the whole
  # IPv6Network into flannel0 and forwards by its own table.
  local route=$peer
  [ "$backend" = udp ] && route=$BENCH_NETWORK6
  deadline=$((SECONDS + BENCH_FLANNEL_WAIT))
  until { [ -z "$device6" ] || ip -n "$(lab_host 1)" link show "$device6" >/dev/null 2>&1; } &&
    ip -n "$(lab_host 1)" -6 route show "$route" | grep -q .; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      ARM_UNAVAILABLE="no IPv6 route to $route ${BENCH_FLANNEL_WAIT}s after flanneld --backend $backend started"
      return 1
    fi
    sleep 0.2
  done
  ARM_DST_IP=$(lab_container_ip6 2)
  ARM_NOTE="$ARM_NOTE; IPv6 $(cat "$LAB_DIR/container-1.subnet6") $peer"
}

arm_udp_setup() {
  bench_flanneld_up6 udp "{\"Type\":\"udp\",\"Port\":$BENCH_UDP_PORT}" flannel0 "" || return 1
  ARM_KIND=user
  ARM_FWD_PIDS=("${BENCH_FLANNELD_PIDS[@]}")
}
arm_flannel_vxlan_setup() { bench_flanneld_up6 vxlan '{"Type":"vxlan"}' flannel.1 flannel-v6.1; }
arm_flannel_host_gw_setup() { bench_flanneld_up6 host-gw '{"Type":"host-gw"}' "" ""; }
bench_flanneld_down6() {
  local pid i
  for i in 1 2; do lab_udp_counters "$(lab_host "$i")" "$BENCH_HEALTHZ_PORT" "$LAB_DIR/h$i.counters"; done
  for pid in ${BENCH_FLANNELD_PIDS[@]+"${BENCH_FLANNELD_PIDS[@]}"}; do lab_kill "$pid"; done
  BENCH_FLANNELD_PIDS=()
  bench_reset_hosts6
}
arm_udp_teardown() { bench_flanneld_down6; }
arm_udp_ref_teardown() { bench_flanneld_down6; }
arm_flannel_vxlan_teardown() { bench_flanneld_down6; }
arm_flannel_host_gw_teardown() { bench_flanneld_down6; }
