# Shared helpers for the network-namespace lab (sourced by Scripts/*.sh).
# Everything lives in namespaces and a temp dir this script creates; lab_cleanup (run from an
# EXIT trap) stops the processes we started, by PID, and deletes the namespaces.

LAB_ID="${LAB_ID:-sf$$}"
LAB_DIR="${LAB_DIR:-$(mktemp -d "/tmp/swift-flannel-$LAB_ID.XXXXXX")}"
LAB_NAMESPACES=()
LAB_PIDS=()

lab_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
lab_fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

lab_cleanup() {
  local pid ns
  for pid in "${LAB_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${LAB_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for ns in "${LAB_NAMESPACES[@]}"; do ip netns delete "$ns" 2>/dev/null || true; done
  [ -n "${LAB_KEEP_DIR:-}" ] || rm -rf "$LAB_DIR"
}

# lab_underlay N: an "underlay" namespace with a bridge, and N host namespaces
# ${LAB_ID}h1..hN each with eth0 = 192.168.77.(10+i)/24 and a default route via the
# bridge's 192.168.77.1. Loopback is up everywhere.
lab_underlay() {
  local n=$1 i host
  local ul="${LAB_ID}ul"
  ip netns add "$ul"; LAB_NAMESPACES+=("$ul")
  ip -n "$ul" link set lo up
  ip -n "$ul" link add br0 type bridge
  ip -n "$ul" addr add 192.168.77.1/24 dev br0
  ip -n "$ul" link set br0 up
  for i in $(seq "$n"); do
    host="${LAB_ID}h$i"
    ip netns add "$host"; LAB_NAMESPACES+=("$host")
    ip -n "$host" link set lo up
    ip link add "${LAB_ID}v$i" type veth peer name "${LAB_ID}p$i"
    ip link set "${LAB_ID}v$i" netns "$host"
    ip link set "${LAB_ID}p$i" netns "$ul"
    ip -n "$host" link set "${LAB_ID}v$i" name eth0
    ip -n "$host" addr add "192.168.77.$((10 + i))/24" dev eth0
    ip -n "$host" link set eth0 up
    ip -n "$host" route add default via 192.168.77.1
    ip -n "$ul" link set "${LAB_ID}p$i" master br0 up
  done
}

lab_host() { echo "${LAB_ID}h$1"; }

# lab_underlay6 N: the IPv6 half of a dual-stack underlay (after lab_underlay N): fd00:77::1/64
# on the bridge, fd00:77::(10+i)/64 on host i's eth0 (no DAD: usable at once), an IPv6 default
# route like the IPv4 one, and IPv6 forwarding in the hosts.
lab_underlay6() {
  local n=$1 i
  ip -n "${LAB_ID}ul" -6 addr add fd00:77::1/64 dev br0 nodad
  for i in $(seq "$n"); do
    ip -n "$(lab_host "$i")" -6 addr add "fd00:77::$((10 + i))/64" dev eth0 nodad
    ip -n "$(lab_host "$i")" -6 route add default via fd00:77::1
    ip netns exec "$(lab_host "$i")" sysctl -qw net.ipv6.conf.all.forwarding=1
  done
}

# lab_use_flanneld [PATH]: FLANNELD = PATH, else $FLANNELD_BINARY, else a debug build of
# this checkout (built now).
lab_use_flanneld() {
  FLANNELD="${1:-${FLANNELD_BINARY:-}}"
  if [ -z "$FLANNELD" ]; then
    swift build --product flanneld >/dev/null
    FLANNELD="$(swift build --show-bin-path)/flanneld"
  fi
  FLANNELD="$(realpath "$FLANNELD")"
}

# lab_wait SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.1 s until it succeeds.
lab_wait() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || lab_fail "timed out after ${seconds}s waiting for $what"
    sleep 0.1
  done
}

# lab_etcd NAMESPACE: a local etcd on 127.0.0.1:2379 inside NAMESPACE (v2 API enabled); its
# PID is left in LAB_ETCD_PID. Called again after lab_etcd_stop, it starts etcd on the same data
# dir and ports: the keys, revisions and etcd leases are all still there.
lab_etcd() {
  local ns=$1
  ip netns exec "$ns" etcd --name lab --data-dir "$LAB_DIR/etcd-$ns" \
    --listen-client-urls http://127.0.0.1:2379,http://192.168.77.11:2379 \
    --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster lab=http://127.0.0.1:2380 --enable-v2=true --log-level error \
    >>"$LAB_DIR/etcd-$ns.log" 2>&1 &
  LAB_ETCD_PID=$!
  LAB_PIDS+=("$LAB_ETCD_PID")
  lab_wait 30 "etcd in $ns" ip netns exec "$ns" curl -sf http://127.0.0.1:2379/health
}

# lab_etcd_stop: SIGTERM the etcd lab_etcd started last and reap it (its data dir stays).
lab_etcd_stop() {
  kill -TERM "$LAB_ETCD_PID" 2>/dev/null || true
  wait "$LAB_ETCD_PID" 2>/dev/null || true
  lab_forget_pid "$LAB_ETCD_PID"
}

# lab_flanneld NAMESPACE NAME ARGS...: start flanneld in NAMESPACE, log to $LAB_DIR/NAME.log;
# its PID is left in LAB_LAST_PID.
lab_flanneld() {
  local ns=$1 name=$2; shift 2
  ip netns exec "$ns" "$FLANNELD" "$@" >"$LAB_DIR/$name.log" 2>&1 &
  LAB_LAST_PID=$!
  LAB_PIDS+=("$LAB_LAST_PID")
}

# lab_udp_counters NAMESPACE PORT OUT: the udp forwarders' counters from flanneld's /metrics on
# 127.0.0.1:PORT in NAMESPACE (flanneld started with -healthz-ip=127.0.0.1 -healthz-port=PORT;
# scrape it just before stopping flanneld, once the traffic is over), written to OUT as
# key=value lines: the sums over the workers (packets= inner packets moved, i.e. TUN reads with
# a super-packet as its segments plus datagrams received; submissions=, packets_per_submission=,
# sqes=, udp_sent=, tun_written=, …), workers=N, then per worker workerI_packets=,
# workerI_udp_sent=, workerI_tun_written=. Read from the flannel_udp_forwarder_<name>_total
# {worker="I"} families (one per counter of DataPlane's `Counter`). Writes nothing when
# /metrics does not answer or has no udp forwarder (another backend).
lab_udp_counters() {
  local ns=$1 port=$2 out=$3 metrics
  metrics=$(ip netns exec "$ns" curl -sf --max-time 5 "http://127.0.0.1:$port/metrics") || return 0
  awk '
    /^flannel_udp_forwarder_[a-z0-9_]+_total\{worker="[0-9]+"\} / {
      name = $1; sub(/^flannel_udp_forwarder_/, "", name); sub(/_total\{.*/, "", name)
      w = $1; sub(/.*worker="/, "", w); sub(/".*/, "", w); w += 0
      v[name, w] = $2; sum[name] += $2
      if (w + 1 > n) n = w + 1
    }
    function moved(read, supers, segments, received) {
      return read - (supers < read ? supers : read) + segments + received
    }
    END {
      if (n == 0) exit
      p = moved(sum["tun_packets_read"], sum["tun_super_packets"], sum["tun_split_packets"], sum["udp_packets_received"])
      printf "packets=%.0f\nsubmissions=%.0f\n", p, sum["submissions"]
      printf "packets_per_submission=%s\n", sum["submissions"] ? sprintf("%.4f", p / sum["submissions"]) : 0
      printf "sqes=%.0f\n", sum["sqes_submitted"]
      split("udp_sent=udp_packets_sent tun_written=tun_packets_written udp_sends=udp_sends " \
        "udp_received=udp_packets_received udp_receives=udp_receives " \
        "tun_super_packets=tun_super_packets tun_split_packets=tun_split_packets " \
        "drop_offload=drop_offload drop_send_error=drop_send_error offloads_disabled=offloads_disabled " \
        "tun_coalesced_writes=tun_coalesced_writes tun_coalesced_packets=tun_coalesced_packets " \
        "tun_coalesced_udp_writes=tun_coalesced_udp_writes tun_coalesced_udp_packets=tun_coalesced_udp_packets " \
        "tun_read=tun_packets_read ipv6_sent=ipv6_packets_sent ipv6_written=ipv6_packets_written " \
        "drop_ipv6_no_route=drop_ipv6_no_route drop_ipv6_multicast=drop_ipv6_multicast", keys, " ")
      for (i = 1; i in keys; i++) { split(keys[i], kv, "="); printf "%s=%.0f\n", kv[1], sum[kv[2]] }
      printf "workers=%.0f\n", n
      for (w = 0; w < n; w++) {
        printf "worker%d_packets=%.0f\n", w, moved(v["tun_packets_read", w], v["tun_super_packets", w], v["tun_split_packets", w], v["udp_packets_received", w])
        printf "worker%d_udp_sent=%.0f\nworker%d_tun_written=%.0f\n", w, v["udp_packets_sent", w], w, v["tun_packets_written", w]
      }
    }' <<<"$metrics" >"$out.tmp"
  if [ -s "$out.tmp" ]; then mv "$out.tmp" "$out"; else rm -f "$out.tmp"; fi
}

# lab_stop PID: SIGTERM and wait; the exit status is left in LAB_STATUS.
# (Not through $(...): a subshell cannot wait for our child.)
lab_stop() {
  LAB_STATUS=0
  kill -TERM "$1"
  wait "$1" || LAB_STATUS=$?
}

# --- Containers behind the hosts (bench.sh) -------------------------------------------------
# lab_containers N: for host i of lab_underlay, a container namespace ${LAB_ID}c$i joined to
# its host by a veth pair (host side "veth-c$i", container side "eth0"), links up but no
# addresses yet: lab_container_attach gives them the host's subnet, which for flanneld arms is
# only known once flanneld has leased it. ip_forward=1 in the host namespaces (never in the
# containers, never outside the lab). The namespaces join LAB_NAMESPACES, so lab_cleanup
# deletes them and, with them, the veth pairs.
lab_containers() {
  local n=$1 i host ctr
  for i in $(seq "$n"); do
    host=$(lab_host "$i")
    ctr=$(lab_container "$i")
    ip netns add "$ctr"; LAB_NAMESPACES+=("$ctr")
    ip -n "$ctr" link set lo up
    ip link add "${LAB_ID}cv$i" type veth peer name "${LAB_ID}cp$i"
    ip link set "${LAB_ID}cv$i" netns "$host"
    ip link set "${LAB_ID}cp$i" netns "$ctr"
    ip -n "$host" link set "${LAB_ID}cv$i" name "veth-c$i"
    ip -n "$ctr" link set "${LAB_ID}cp$i" name eth0
    ip -n "$host" link set "veth-c$i" up
    ip -n "$ctr" link set eth0 up
    ip netns exec "$host" sysctl -qw net.ipv4.ip_forward=1
  done
}

lab_container() { echo "${LAB_ID}c$1"; }

# lab_subnet_prefix A.B.C.D/LEN: "A.B.C" (the first three octets; lab subnets are /24 or
# shorter and we number hosts inside the fourth octet only).
lab_subnet_prefix() { local net=${1%/*}; echo "${net%.*}"; }

# lab_container_ip I: the container's address (.2 of its host's subnet), once attached.
lab_container_ip() {
  local f="$LAB_DIR/container-$1.subnet"
  [ -s "$f" ] || lab_fail "container $1 not attached"
  echo "$(lab_subnet_prefix "$(cat "$f")").2"
}

# lab_container_attach I SUBNET MTU: host i's veth gets .1 of SUBNET (e.g. 10.1.5.0/24 or
# flannel's 10.1.5.1/24), container i gets .2 and a default route via .1; both ends get MTU.
# Re-attaching replaces earlier addresses and routes (each bench arm leases other subnets).
lab_container_attach() {
  local i=$1 subnet=$2 mtu=$3
  local host ctr prefix len=${2#*/}
  host=$(lab_host "$i")
  ctr=$(lab_container "$i")
  prefix=$(lab_subnet_prefix "$subnet")
  ip -n "$host" addr flush dev "veth-c$i"
  ip -n "$ctr" addr flush dev eth0
  ip -n "$host" link set "veth-c$i" mtu "$mtu"
  ip -n "$ctr" link set eth0 mtu "$mtu"
  ip -n "$host" addr add "$prefix.1/$len" dev "veth-c$i"
  ip -n "$ctr" addr add "$prefix.2/$len" dev eth0
  ip -n "$ctr" route replace default via "$prefix.1" dev eth0
  echo "$prefix.0/$len" >"$LAB_DIR/container-$i.subnet"
}

# lab_container_attach_env I SUBNET_ENV: the same, from flanneld's FLANNEL_SUBNET/FLANNEL_MTU.
lab_container_attach_env() {
  local i=$1 env=$2 subnet mtu
  subnet=$(sed -n 's/^FLANNEL_SUBNET=//p' "$env")
  mtu=$(sed -n 's/^FLANNEL_MTU=//p' "$env")
  [ -n "$subnet" ] && [ -n "$mtu" ] || lab_fail "no FLANNEL_SUBNET/FLANNEL_MTU in $env"
  lab_container_attach "$i" "$subnet" "$mtu"
}

# lab_container_attach6 I PREFIX: the IPv6 half of a container's attachment, after
# lab_container_attach (which set the MTU): host i's veth gets PREFIX::1/64, container i
# PREFIX::2/64 and an IPv6 default route via PREFIX::1. lab_container_attach flushed the
# link-local addresses too; the kernel sends a neighbour solicitation for a forwarded packet
# only from a link-local address, so both ends get one again (fe80::1, fe80::2).
lab_container_attach6() {
  local i=$1 prefix=$2
  ip -n "$(lab_host "$i")" -6 addr add fe80::1/64 dev "veth-c$i" nodad
  ip -n "$(lab_container "$i")" -6 addr add fe80::2/64 dev eth0 nodad
  ip -n "$(lab_host "$i")" -6 addr add "$prefix::1/64" dev "veth-c$i" nodad
  ip -n "$(lab_container "$i")" -6 addr add "$prefix::2/64" dev eth0 nodad
  ip -n "$(lab_container "$i")" -6 route replace default via "$prefix::1" dev eth0
  echo "$prefix::/64" >"$LAB_DIR/container-$i.subnet6"
}

# lab_container_attach6_env I SUBNET_ENV: the same for a dual-stack lease's IPv6 half,
# FLANNEL_IPV6_SUBNET=PREFIX::1/64.
lab_container_attach6_env() {
  local prefix
  prefix=$(sed -n 's/^FLANNEL_IPV6_SUBNET=\(.*\)::1\/64$/\1/p' "$2")
  [ -n "$prefix" ] || lab_fail "no FLANNEL_IPV6_SUBNET=<prefix>::1/64 in $2"
  lab_container_attach6 "$1" "$prefix"
}

# lab_container_ip6 I: the container's IPv6 address (<prefix>::2), once attached.
lab_container_ip6() {
  local f="$LAB_DIR/container-$1.subnet6"
  [ -s "$f" ] || lab_fail "container $1 has no IPv6 address"
  echo "$(sed 's|::/64$||' "$f")::2"
}

# lab_container_detach I: addresses off both ends (the container keeps its namespace).
lab_container_detach() {
  ip -n "$(lab_host "$1")" addr flush dev "veth-c$1" 2>/dev/null || true
  ip -n "$(lab_container "$1")" addr flush dev eth0 2>/dev/null || true
  rm -f "$LAB_DIR/container-$1.subnet"
}

# lab_spawn NAMESPACE LOG COMMAND...: start COMMAND in NAMESPACE in the background (output to
# LOG); its PID (ip netns exec execs the command, so it is the command's) is left in
# LAB_LAST_PID and joins LAB_PIDS. Call it directly, not inside $(...): the process must be a
# child of the script's shell so that lab_kill can wait for it.
lab_spawn() {
  local ns=$1 log=$2; shift 2
  ip netns exec "$ns" "$@" >"$log" 2>&1 &
  LAB_LAST_PID=$!
  LAB_PIDS+=("$LAB_LAST_PID")
}

# lab_forget_pid PID: drop PID from LAB_PIDS once it has been reaped, so that lab_cleanup never
# signals a number the kernel may have handed to someone else's process since.
lab_forget_pid() {
  local pid kept=()
  for pid in "${LAB_PIDS[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  LAB_PIDS=("${kept[@]}")
}

# lab_tcp6_transfer FROM TO ADDRESS BYTES: BYTES over TCP/IPv6 from container FROM to container
# TO (ADDRESS, port 5301), hashed on both ends (dataplane_transfer.py). Fails the lab unless
# both saw the same sha256; leaves the sender's line in $LAB_DIR/send6.txt and the seconds the
# transfer took in LAB_TRANSFER_SECONDS.
lab_tcp6_transfer() {
  local from=$1 to=$2 address=$3 bytes=$4 started receiver
  local transfer=Scripts/lib/dataplane_transfer.py
  lab_spawn "$(lab_container "$to")" "$LAB_DIR/recv6.txt" python3 "$transfer" tcp-recv 5301 ::
  receiver=$LAB_LAST_PID
  lab_wait 5 "the IPv6 receiver" bash -c "ip netns exec $(lab_container "$to") ss -Hln 'sport = :5301' | grep -q ."
  started=$EPOCHREALTIME
  ip netns exec "$(lab_container "$from")" python3 "$transfer" tcp-send "$address" 5301 "$bytes" \
    >"$LAB_DIR/send6.txt" 2>&1 || lab_fail "IPv6 TCP send: $(cat "$LAB_DIR/send6.txt")"
  wait "$receiver" 2>/dev/null || true
  lab_forget_pid "$receiver"
  [ -s "$LAB_DIR/send6.txt" ] && cmp -s "$LAB_DIR/send6.txt" "$LAB_DIR/recv6.txt" ||
    lab_fail "$bytes bytes over TCP/IPv6: sent $(cat "$LAB_DIR/send6.txt"), received $(cat "$LAB_DIR/recv6.txt")"
  LAB_TRANSFER_SECONDS=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
}

# lab_kill PID: SIGTERM, up to 5 s grace, then SIGKILL; reaps and forgets it. Only for PIDs
# of our own children (from lab_spawn / lab_flanneld).
lab_kill() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  lab_forget_pid "$pid"
}
