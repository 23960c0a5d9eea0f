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

# lab_wait SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.1 s until it succeeds.
lab_wait() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || lab_fail "timed out after ${seconds}s waiting for $what"
    sleep 0.1
  done
}

# lab_etcd NAMESPACE: a local etcd on 127.0.0.1:2379 inside NAMESPACE (v2 API enabled).
lab_etcd() {
  local ns=$1
  ip netns exec "$ns" etcd --name lab --data-dir "$LAB_DIR/etcd-$ns" \
    --listen-client-urls http://127.0.0.1:2379,http://192.168.77.11:2379 \
    --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster lab=http://127.0.0.1:2380 --enable-v2=true --log-level error \
    >"$LAB_DIR/etcd-$ns.log" 2>&1 &
  LAB_PIDS+=("$!")
  lab_wait 30 "etcd in $ns" ip netns exec "$ns" curl -sf http://127.0.0.1:2379/health
}

# lab_flanneld NAMESPACE NAME ARGS...: start flanneld in NAMESPACE, log to $LAB_DIR/NAME.log;
# its PID is left in LAB_LAST_PID.
lab_flanneld() {
  local ns=$1 name=$2; shift 2
  ip netns exec "$ns" "$FLANNELD" "$@" >"$LAB_DIR/$name.log" 2>&1 &
  LAB_LAST_PID=$!
  LAB_PIDS+=("$LAB_LAST_PID")
}

# lab_stop PID: SIGTERM and wait; the exit status is left in LAB_STATUS.
# (Not through $(...): a subshell cannot wait for our child.)
lab_stop() {
  LAB_STATUS=0
  kill -TERM "$1"
  wait "$1" || LAB_STATUS=$?
}
