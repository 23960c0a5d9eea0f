#!/usr/bin/env bash
# The demo: a local etcd and three hosts with a container each, in network namespaces, our
# flanneld on every host, and traffic between the containers. One command on a fresh Debian
# machine (as root): it installs what is missing, builds flanneld in release, runs, prints what
# happens, and tears everything down (also on Ctrl-C or failure).
#
# Usage: Scripts/demo.sh [--backend udp|vxlan|host-gw|wireguard] [--config-via etcdctl|curl] [--hosts N]
#                        [--keep]   (--keep: stay up until Ctrl-C, to look around)
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=udp VIA=etcdctl N=3 KEEP=
while [ $# -gt 0 ]; do
  case $1 in
    --backend) BACKEND=$2; shift 2 ;;
    --config-via) VIA=$2; shift 2 ;;
    --hosts) N=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $BACKEND in udp | vxlan | host-gw | wireguard) ;; *) echo "--backend: udp, vxlan, host-gw or wireguard" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "the demo creates network namespaces: run it as root" >&2; exit 1; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "packages (apt, only what is missing)"
.ci/run --deps-only
step "building flanneld (release)"
FLANNELD=$(Scripts/build-release.sh 2> >(grep -vE '^\[[0-9]+/[0-9]+\]' >&2))
echo "$FLANNELD"

source Scripts/lib/lab.sh
trap 'echo; lab_log "tearing down"; lab_cleanup' EXIT
trap 'exit 130' INT TERM
PREFIX=/coreos.com/network
PORT_FIELD=""
[ "$BACKEND" = udp ] && PORT_FIELD=', "Port": 7890'
CONFIG="{\"Network\": \"10.1.0.0/16\", \"Backend\": {\"Type\": \"$BACKEND\"$PORT_FIELD}}"

step "lab: $N hosts on one underlay (192.168.77.0/24), a container behind each, etcd on host 1"
lab_underlay "$N"
lab_containers "$N"
lab_etcd "$(lab_host 1)"
h1=$(lab_host 1)
case $VIA in
  etcdctl)
    echo "ETCDCTL_API=3 etcdctl put $PREFIX/config '$CONFIG'"
    ip netns exec "$h1" env ETCDCTL_API=3 etcdctl put $PREFIX/config "$CONFIG" ;;
  curl)
    echo "curl -X PUT http://127.0.0.1:2379/v2/keys$PREFIX/config -d value='$CONFIG'"
    ip netns exec "$h1" curl -sf -X PUT "http://127.0.0.1:2379/v2/keys$PREFIX/config" \
      -d value="$CONFIG" >/dev/null ;;
  *) lab_fail "--config-via: etcdctl or curl" ;;
esac

step "flanneld on every host ($BACKEND)"
for i in $(seq "$N"); do
  mkdir -p "$LAB_DIR/h$i"
  args=(-etcd-endpoints=http://192.168.77.11:2379 -etcd-prefix=$PREFIX -iface=eth0 -ip-masq
    -subnet-file="$LAB_DIR/h$i/subnet.env")
  echo "host $i: flanneld ${args[*]}"
  # wireguard: each host its own private key (generated on first start; the hosts here share
  # one filesystem, a real node keeps it in /run/flannel/wgkey).
  WIREGUARD_KEY_FILE="$LAB_DIR/h$i/wgkey" lab_flanneld "$(lab_host "$i")" "flanneld-h$i" "${args[@]}"
done
for i in $(seq "$N"); do
  lab_wait 30 "subnet.env on host $i" test -s "$LAB_DIR/h$i/subnet.env"
  lab_container_attach_env "$i" "$LAB_DIR/h$i/subnet.env"
done

step "leases in etcd"
case $VIA in
  etcdctl) ip netns exec "$h1" env ETCDCTL_API=3 etcdctl get --prefix $PREFIX/subnets ;;
  curl) ip netns exec "$h1" curl -s "http://127.0.0.1:2379/v2/keys$PREFIX/subnets" | jq -r '.node.nodes[] | "\(.key)\n\(.value)"' ;;
esac
step "host 1: $LAB_DIR/h1/subnet.env"
cat "$LAB_DIR/h1/subnet.env"

step "container ping matrix (from row to column)"
printf '%-16s' ""
for j in $(seq "$N"); do printf '%-16s' "$(lab_container_ip "$j")"; done
echo
bad=0
for i in $(seq "$N"); do
  printf '%-16s' "$(lab_container_ip "$i")"
  for j in $(seq "$N"); do
    if [ "$i" = "$j" ]; then printf '%-16s' "-"; continue; fi
    if out=$(ip netns exec "$(lab_container "$i")" ping -c 3 -i 0.2 -W 2 "$(lab_container_ip "$j")" 2>&1); then
      printf '%-16s' "$(sed -n 's/.*= [0-9.]*\/\([0-9.]*\)\/.*/\1 ms/p' <<<"$out")"
    else
      printf '%-16s' "FAIL"; bad=1
    fi
  done
  echo
done
[ "$bad" = 0 ] || lab_fail "some containers cannot reach each other"

step "iperf3, 5 s, container 1 → container 2 (one TCP stream)"
ip netns exec "$(lab_container 2)" iperf3 -s -1 >/dev/null 2>&1 &
LAB_PIDS+=("$!")
lab_wait 5 "iperf3 server" ip netns exec "$(lab_container 2)" bash -c "ss -ltn | grep -q :5201"
ip netns exec "$(lab_container 1)" iperf3 -c "$(lab_container_ip 2)" -t 5 -J >"$LAB_DIR/iperf3.json"
jq -r '"\(.end.sum_received.bits_per_second / 1e9 * 100 | round / 100) Gbit/s received, \(.end.sum_sent.retransmits) retransmits"' "$LAB_DIR/iperf3.json"

if [ -n "$KEEP" ]; then
  step "up until Ctrl-C; try: ip netns exec $(lab_container 1) ping $(lab_container_ip 2)"
  while sleep 3600; do :; done
fi
step "demo ok ($BACKEND, $N hosts)"
