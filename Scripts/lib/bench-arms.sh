# The arms of Scripts/bench.sh (sourced). An arm's setup leaves, for the measurements,
#   ARM_SRC_NS ARM_DST_NS ARM_DST_IP  where iperf3/ping run from and to;
#   ARM_KIND     kernel | user (user: ARM_FWD_PIDS are the forwarding processes);
#   ARM_NOTE     one line for the report;
# and returns non-zero with ARM_UNAVAILABLE set when the arm cannot run in this build (the
# run goes on with the other arms). Its teardown undoes everything, so that the next arm
# starts from the bare lab: two hosts on the underlay bridge, each with a container.
#
# Hand-made arms give host i the subnet 10.1.i.0/24; flanneld arms take what flanneld leased.
# Host i's underlay address is 192.168.77.(10+i); the peer of host i is host 3-i.

BENCH_NETWORK=10.1.0.0/16
BENCH_UDP_PORT=7890
BENCH_EXT_MTU=1500

bench_host_ip() { echo "192.168.77.$((10 + $1))"; }
bench_peer() { echo $((3 - $1)); }

bench_arm_defaults() {
  ARM_SRC_NS=$(lab_container 1)
  ARM_DST_NS=$(lab_container 2)
  ARM_KIND=kernel
  ARM_FWD_PIDS=()
  ARM_NOTE=
  ARM_UNAVAILABLE=
}

# Back to the bare lab: no overlay devices, no routes into the overlay network, containers
# without addresses. Processes are stopped by the arms' own teardowns, before this.
bench_reset_hosts() {
  local i host
  for i in 1 2; do
    host=$(lab_host "$i")
    ip -n "$host" link del flannel.1 2>/dev/null || true
    ip -n "$host" link del flannel0 2>/dev/null || true
    ip -n "$host" link del flannel-wg 2>/dev/null || true
    ip -n "$host" route flush root "$BENCH_NETWORK" 2>/dev/null || true
    lab_container_detach "$i"
  done
}

# --- underlay: host to host on eth0 (no containers, no forwarding): the ceiling. -----------
arm_underlay_setup() {
  ARM_SRC_NS=$(lab_host 1)
  ARM_DST_NS=$(lab_host 2)
  ARM_DST_IP=$(bench_host_ip 2)
  ARM_NOTE="host1 eth0 -> host2 eth0 over the underlay bridge; no containers, no forwarding"
}
arm_underlay_teardown() { :; }

# --- vxlan: the kernel device exactly as flanneld's vxlan backend configures it. -----------
arm_vxlan_setup() {
  local i j host mac
  local -a macs
  for i in 1 2; do
    host=$(lab_host "$i")
    ip -n "$host" link add flannel.1 type vxlan id 1 local "$(bench_host_ip "$i")" dev eth0 \
      dstport 8472 nolearning
    ip -n "$host" link set flannel.1 mtu $((BENCH_EXT_MTU - 50))
    ip -n "$host" addr add "10.1.$i.0/32" dev flannel.1
    ip -n "$host" link set flannel.1 up
    macs[i]=$(ip -n "$host" -o link show flannel.1 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
  done
  for i in 1 2; do
    host=$(lab_host "$i")
    j=$(bench_peer "$i")
    mac=${macs[j]}
    # The order flanneld uses: neighbour, FDB, then the route (so the kernel never ARPs).
    ip -n "$host" neigh replace "10.1.$j.0" lladdr "$mac" dev flannel.1 nud permanent
    ip netns exec "$host" bridge fdb replace "$mac" dev flannel.1 dst "$(bench_host_ip "$j")" \
      self permanent
    ip -n "$host" route replace "10.1.$j.0/24" via "10.1.$j.0" dev flannel.1 onlink
    lab_container_attach "$i" "10.1.$i.0/24" $((BENCH_EXT_MTU - 50))
  done
  ARM_DST_IP=$(lab_container_ip 2)
  ARM_NOTE="flannel.1 VNI 1 port 8472 nolearning, /32, neigh+fdb+route onlink, MTU $((BENCH_EXT_MTU - 50))"
}
arm_vxlan_teardown() { bench_reset_hosts; }

# --- host-gw: a route per remote subnet via the peer's underlay address. -------------------
arm_host_gw_setup() {
  local i j
  for i in 1 2; do
    j=$(bench_peer "$i")
    lab_container_attach "$i" "10.1.$i.0/24" "$BENCH_EXT_MTU"
    ip -n "$(lab_host "$i")" route replace "10.1.$j.0/24" via "$(bench_host_ip "$j")" dev eth0
  done
  ARM_DST_IP=$(lab_container_ip 2)
  ARM_NOTE="10.1.j.0/24 via peer dev eth0, MTU $BENCH_EXT_MTU"
}
arm_host_gw_teardown() { bench_reset_hosts; }

# --- baseline: Benchmarks/Baseline, stock flannel's proxy design, on flannel0. --------------
bench_build_baseline() {
  [ -x "$LAB_DIR/baseline-fwd" ] && return 0
  cc -O2 -Wall -o "$LAB_DIR/baseline-fwd" Benchmarks/Baseline/baseline-fwd.c
}

arm_baseline_setup() {
  local i j host
  bench_build_baseline || { ARM_UNAVAILABLE="cc failed on Benchmarks/Baseline/baseline-fwd.c"; return 1; }
  ARM_KIND=user
  for i in 1 2; do
    host=$(lab_host "$i")
    j=$(bench_peer "$i")
    lab_spawn "$host" "$LAB_DIR/baseline-h$i-r$BENCH_REPEAT.log" "$LAB_DIR/baseline-fwd" flannel0 \
      "$(bench_host_ip "$i")" "$BENCH_UDP_PORT" "10.1.$j.0/24=$(bench_host_ip "$j")"
    ARM_FWD_PIDS+=("$LAB_LAST_PID")
    lab_wait 10 "flannel0 from baseline-fwd on host $i" ip -n "$host" link show flannel0
    # As flanneld ≥ v0.11 sets up its TUN: /32 lease address, MTU ext-28, route for the network.
    ip -n "$host" addr add "10.1.$i.0/32" dev flannel0
    ip -n "$host" link set flannel0 mtu $((BENCH_EXT_MTU - 28)) up
    ip -n "$host" route replace "$BENCH_NETWORK" dev flannel0
    lab_container_attach "$i" "10.1.$i.0/24" $((BENCH_EXT_MTU - 28))
  done
  ARM_DST_IP=$(lab_container_ip 2)
  ARM_NOTE="baseline-fwd on TUN flannel0 (MTU $((BENCH_EXT_MTU - 28))), udp port $BENCH_UDP_PORT, poll + 1 packet/syscall"
}

arm_baseline_teardown() {
  local pid
  for pid in ${ARM_FWD_PIDS[@]+"${ARM_FWD_PIDS[@]}"}; do lab_kill "$pid"; done
  ARM_FWD_PIDS=()
  bench_reset_hosts
}

# --- flanneld arms: our flanneld with --backend udp | vxlan | host-gw. ----------------------
# Each starts flanneld on both hosts against the lab etcd (on host 1), waits for subnet.env
# and the backend's device, then attaches the containers to the leased subnets. "Not
# available" when flanneld exits, or subnet.env / the device / the remote route is missing
# BENCH_FLANNEL_WAIT seconds after start.
BENCH_ETCD_STARTED=
BENCH_FLANNELD_PIDS=()
BENCH_FLANNELD_EXTRA=()
BENCH_HEALTHZ_PORT=8471

bench_etcd_ready() {
  [ -n "$BENCH_ETCD_STARTED" ] && return 0
  lab_etcd "$(lab_host 1)"
  BENCH_ETCD_STARTED=1
}

bench_etcdctl() { ip netns exec "$(lab_host 1)" env ETCDCTL_API=3 etcdctl "$@"; }

# bench_flanneld_up BACKEND CONFIG_JSON DEVICE (DEVICE "" = none, check the remote route).
bench_flanneld_up() {
  local backend=$1 config=$2 device=$3 i host env pid
  local -a extra=()
  if [ -z "${BENCH_FLANNELD:-}" ]; then
    ARM_UNAVAILABLE="no flanneld binary (${BENCH_FLANNELD_WHY:-not built})"
    return 1
  fi
  bench_etcd_ready
  bench_etcdctl del --prefix /coreos.com/network >/dev/null
  bench_etcdctl put /coreos.com/network/config "$config" >/dev/null
  # /metrics on each host's own loopback: Scripts/lib/bench-measure.sh reads the udp
  # forwarders' batching from it around the TCP runs.
  extra=(-healthz-ip=127.0.0.1 -healthz-port="$BENCH_HEALTHZ_PORT")
  [ "$backend" = udp ] && extra+=(--port "$BENCH_UDP_PORT")
  extra+=(${BENCH_FLANNELD_EXTRA[@]+"${BENCH_FLANNELD_EXTRA[@]}"})
  BENCH_FLANNELD_PIDS=()
  for i in 1 2; do
    host=$(lab_host "$i")
    env="$LAB_DIR/$BENCH_ARM-h$i-r$BENCH_REPEAT.env"
    rm -f "$env" "$LAB_DIR/h$i.counters"
    # Each host its own WireGuard key (the namespaces share /run/flannel).
    FLANNELD="$BENCH_FLANNELD" WIREGUARD_KEY_FILE="$LAB_DIR/wgkey-h$i" \
      lab_flanneld "$host" "$BENCH_ARM-h$i-r$BENCH_REPEAT" \
      -etcd-endpoints="http://$(bench_host_ip 1):2379" -iface=eth0 -subnet-file="$env" \
      --backend "$backend" "${extra[@]}"
    BENCH_FLANNELD_PIDS+=("$LAB_LAST_PID")
  done
  local deadline=$((SECONDS + BENCH_FLANNEL_WAIT)) ok
  while :; do
    ok=1
    for i in 1 2; do
      host=$(lab_host "$i")
      pid=${BENCH_FLANNELD_PIDS[i - 1]}
      if ! kill -0 "$pid" 2>/dev/null; then
        ARM_UNAVAILABLE="flanneld --backend $backend exited on host $i: $(grep -v '^\s*$' \
          "$LAB_DIR/$BENCH_ARM-h$i-r$BENCH_REPEAT.log" | tail -1 | cut -c1-160)"
        return 1
      fi
      [ -s "$LAB_DIR/$BENCH_ARM-h$i-r$BENCH_REPEAT.env" ] || ok=0
      [ -z "$device" ] || ip -n "$host" link show "$device" >/dev/null 2>&1 || ok=0
    done
    [ "$ok" = 1 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      ARM_UNAVAILABLE="${device:-subnet.env} missing ${BENCH_FLANNEL_WAIT}s after flanneld --backend $backend started"
      return 1
    fi
    sleep 0.2
  done
  for i in 1 2; do
    lab_container_attach_env "$i" "$LAB_DIR/$BENCH_ARM-h$i-r$BENCH_REPEAT.env"
  done
  if [ -z "$device" ]; then # host-gw: the peer's route is the sign the backend works
    local peer_subnet
    peer_subnet=$(cat "$LAB_DIR/container-2.subnet")
    deadline=$((SECONDS + BENCH_FLANNEL_WAIT))
    until ip -n "$(lab_host 1)" route show "$peer_subnet" | grep -q .; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        ARM_UNAVAILABLE="no route to $peer_subnet ${BENCH_FLANNEL_WAIT}s after flanneld --backend $backend started"
        return 1
      fi
      sleep 0.2
    done
  fi
  ARM_DST_IP=$(lab_container_ip 2)
  ARM_NOTE="flanneld --backend $backend; leases $(cat "$LAB_DIR/container-1.subnet") $(cat "$LAB_DIR/container-2.subnet"), MTU $(sed -n 's/^FLANNEL_MTU=//p' "$LAB_DIR/$BENCH_ARM-h1-r$BENCH_REPEAT.env")"
}

bench_flanneld_down() {
  local pid i
  # The udp forwarders' counters of the whole arm (bench_counters reads them after the
  # teardown); nothing for other backends.
  for i in 1 2; do lab_udp_counters "$(lab_host "$i")" "$BENCH_HEALTHZ_PORT" "$LAB_DIR/h$i.counters"; done
  for pid in ${BENCH_FLANNELD_PIDS[@]+"${BENCH_FLANNELD_PIDS[@]}"}; do lab_kill "$pid"; done
  BENCH_FLANNELD_PIDS=()
  bench_reset_hosts
}

arm_udp_setup() {
  bench_flanneld_up udp \
    "{\"Network\":\"$BENCH_NETWORK\",\"Backend\":{\"Type\":\"udp\",\"Port\":$BENCH_UDP_PORT}}" \
    flannel0 || return 1
  ARM_KIND=user
  ARM_FWD_PIDS=("${BENCH_FLANNELD_PIDS[@]}")
}
arm_udp_teardown() { bench_flanneld_down; }

# Our udp backend as it was before the TUN offloads: socket GSO/GRO only, one worker.
arm_udp_plain_setup() {
  BENCH_FLANNELD_EXTRA=(-udp-offloads=udp-gso,udp-gro -udp-workers=1)
  arm_udp_setup
  local rc=$?
  BENCH_FLANNELD_EXTRA=()
  return $rc
}
arm_udp_plain_teardown() { bench_flanneld_down; }

# The udp arm with another flanneld binary (REF_FLANNELD) and/or other flags (REF_FLANNELD_ARGS,
# split on spaces): before/after in the same run.
arm_udp_ref_setup() {
  local ref=${REF_FLANNELD:-$BENCH_FLANNELD}
  if [ -z "${REF_FLANNELD:-}${REF_FLANNELD_ARGS:-}" ]; then
    ARM_UNAVAILABLE="neither REF_FLANNELD (an earlier flanneld) nor REF_FLANNELD_ARGS (other flags) is set"
    return 1
  fi
  if [ ! -x "$ref" ]; then
    ARM_UNAVAILABLE="REF_FLANNELD does not name an executable flanneld (${REF_FLANNELD:-unset})"
    return 1
  fi
  local ours=$BENCH_FLANNELD rc=0
  BENCH_FLANNELD=$(realpath "$ref")
  read -r -a BENCH_FLANNELD_EXTRA <<<"${REF_FLANNELD_ARGS:-}"
  arm_udp_setup || rc=$?
  BENCH_FLANNELD=$ours
  BENCH_FLANNELD_EXTRA=()
  [ "$rc" = 0 ] && ARM_NOTE="$ARM_NOTE; binary $ref${REF_FLANNELD_ARGS:+ $REF_FLANNELD_ARGS}"
  return $rc
}
arm_udp_ref_teardown() { bench_flanneld_down; }

arm_flannel_vxlan_setup() {
  bench_flanneld_up vxlan "{\"Network\":\"$BENCH_NETWORK\",\"Backend\":{\"Type\":\"vxlan\"}}" flannel.1
}
arm_flannel_vxlan_teardown() { bench_flanneld_down; }

arm_flannel_host_gw_setup() {
  bench_flanneld_up host-gw "{\"Network\":\"$BENCH_NETWORK\",\"Backend\":{\"Type\":\"host-gw\"}}" ""
}
arm_flannel_host_gw_teardown() { bench_flanneld_down; }

# --- wireguard: our wireguard backend; wireguard-go: Debian's, configured as stock's backend
# configures the kernel device (flannel-behaviour §6b). Both arms first wait for a ping each
# way, so that the handshakes are done before anything is measured.
bench_wireguard_handshakes() {
  local deadline=$((SECONDS + BENCH_FLANNEL_WAIT))
  until ip netns exec "$(lab_container 1)" ping -q -c 1 -W 1 "$(lab_container_ip 2)" >/dev/null &&
    ip netns exec "$(lab_container 2)" ping -q -c 1 -W 1 "$(lab_container_ip 1)" >/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      ARM_UNAVAILABLE="no ping through the tunnel ${BENCH_FLANNEL_WAIT}s after it was set up"
      return 1
    fi
  done
}

arm_wireguard_setup() {
  bench_flanneld_up wireguard \
    "{\"Network\":\"$BENCH_NETWORK\",\"Backend\":{\"Type\":\"wireguard\"}}" flannel-wg || return 1
  ARM_KIND=user
  ARM_FWD_PIDS=("${BENCH_FLANNELD_PIDS[@]}")
  bench_wireguard_handshakes
}
arm_wireguard_teardown() { bench_flanneld_down; }

arm_wireguard_go_setup() {
  local i j host dev
  if ! command -v wireguard-go >/dev/null || ! command -v wg >/dev/null; then
    ARM_UNAVAILABLE="wireguard-go and wg (Debian's wireguard-go, wireguard-tools) not installed"
    return 1
  fi
  ARM_KIND=user
  for i in 1 2; do
    wg genkey >"$LAB_DIR/wg-go-h$i.key"
    wg pubkey <"$LAB_DIR/wg-go-h$i.key" >"$LAB_DIR/wg-go-h$i.pub"
  done
  for i in 1 2; do
    host=$(lab_host "$i")
    j=$(bench_peer "$i")
    # Control sockets (/var/run/wireguard/<name>) are shared by every namespace: names of
    # this lab only.
    dev="wg${LAB_ID}h$i"
    WG_PROCESS_FOREGROUND=1 lab_spawn "$host" "$LAB_DIR/wireguard-go-h$i-r$BENCH_REPEAT.log" \
      wireguard-go -f "$dev"
    ARM_FWD_PIDS+=("$LAB_LAST_PID")
    lab_wait 10 "wireguard-go's $dev on host $i" ip -n "$host" link show "$dev"
    ip netns exec "$host" wg set "$dev" private-key "$LAB_DIR/wg-go-h$i.key" listen-port 51820 \
      peer "$(cat "$LAB_DIR/wg-go-h$j.pub")" endpoint "$(bench_host_ip "$j"):51820" \
      allowed-ips "10.1.$j.0/24"
    ip -n "$host" addr add "10.1.$i.0/32" dev "$dev"
    ip -n "$host" link set "$dev" mtu $((BENCH_EXT_MTU - 80)) up
    ip -n "$host" route replace "$BENCH_NETWORK" dev "$dev"
    lab_container_attach "$i" "10.1.$i.0/24" $((BENCH_EXT_MTU - 80))
  done
  ARM_DST_IP=$(lab_container_ip 2)
  ARM_NOTE="Debian's wireguard-go $(wireguard-go --version 2>/dev/null | head -1 | awk '{print $2}') as stock's wireguard backend sets up flannel-wg (MTU $((BENCH_EXT_MTU - 80)), port 51820)"
  bench_wireguard_handshakes
}
arm_wireguard_go_teardown() {
  local pid
  for pid in ${ARM_FWD_PIDS[@]+"${ARM_FWD_PIDS[@]}"}; do lab_kill "$pid"; done
  ARM_FWD_PIDS=()
  bench_reset_hosts
}
