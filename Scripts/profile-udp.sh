#!/usr/bin/env bash
# Where the CPU (and the packets) go while our udp backend carries traffic: two hosts with a
# container each (the bench lab), flanneld --backend udp on both, then one of:
#   (default)        one TCP stream container 1 -> container 2
#   --udp64 RATE     64-byte UDP datagrams at RATE (iperf3 -b, e.g. 80M; 0 = as fast as it
#                    can), and where the lost ones were dropped: the receiving container's
#                    socket, flanneld's sockets, flannel0's queue, flanneld's drop counters
#   --ping N         N pings at 10 ms intervals (no perf): the round trip through both daemons
# and for the first two `perf record -a -g -e cpu-clock` (software clock: this VM has no
# hardware counters) over the middle of the transfer: rate, forwarder counters, the CPU share
# of each thread and the top symbols machine-wide and in the forwarder threads.
# Experiments (each changes one thing the results depend on):
#   --container-gso-segs N   container 1's eth0 gso_max_segs (TCP then builds super-packets of
#                            at most N segments: 44 makes each one a single UDP GSO send)
#   --pin                    pin every flanneld thread and the traffic source to CPU 0
# Usage: Scripts/profile-udp.sh [--seconds N] [--reverse] [--udp64 RATE | --ping N]
#          [--container-gso-segs N] [--pin] [path/to/flanneld]
#   FLANNELD_UDP_OFFLOADS / FLANNELD_UDP_WORKERS pass through to both daemons as usual.
# All traffic stays inside namespaces this script creates; everything is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=8
reverse=
binary=
udp64=
pings=
container_segs=
pin=
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --reverse) reverse=-R; shift ;;
    --udp64) udp64=$2; shift 2 ;;
    --ping) pings=$2; shift 2 ;;
    --container-gso-segs) container_segs=$2; shift 2 ;;
    --pin) pin=1; shift ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) binary=$1; shift ;;
  esac
done
[ -n "$pings" ] || command -v perf >/dev/null ||
  { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
source Scripts/lib/lab.sh
lab_use_flanneld "${binary:-${FLANNELD_BINARY:-}}"
trap lab_cleanup EXIT

lab_underlay 2
lab_containers 2
h1=$(lab_host 1)
lab_etcd "$h1"
ip netns exec "$h1" env ETCDCTL_API=3 etcdctl put /coreos.com/network/config \
  '{"Network":"10.1.0.0/16","Backend":{"Type":"udp","Port":7890}}' >/dev/null
daemons=()
for i in 1 2; do
  lab_flanneld "$(lab_host "$i")" "flanneld-h$i" \
    -etcd-endpoints=http://192.168.77.11:2379 -iface=eth0 -subnet-file="$LAB_DIR/h$i.env" \
    --backend udp -healthz-ip=127.0.0.1 -healthz-port=9104
  daemons+=("$LAB_LAST_PID")
done
for i in 1 2; do lab_wait 30 "subnet.env on host $i" test -s "$LAB_DIR/h$i.env"; done
for i in 1 2; do lab_container_attach_env "$i" "$LAB_DIR/h$i.env"; done
c1=$(lab_container 1) c2=$(lab_container 2)
dst=$(lab_container_ip 2)
# Before the first connection: TCP reads the device's limit when the socket connects.
[ -z "$container_segs" ] || ip -n "$c1" link set eth0 gso_max_segs "$container_segs"
lab_wait 30 "ping container 1 -> container 2" ip netns exec "$c1" ping -c1 -W1 "$dst"
on_cpu0=()
if [ -n "$pin" ]; then
  for pid in "${daemons[@]}"; do
    for tid in $(ps -L -o tid= -p "$pid"); do taskset -pc 0 "$tid" >/dev/null; done
  done
  on_cpu0=(taskset -c 0)
fi

if [ -n "$pings" ]; then
  "${on_cpu0[@]}" ip netns exec "$c1" ping -n -q -c "$pings" -i 0.01 -W 1 "$dst" | tail -2
  exit 0
fi

udp_counters() { # NAMESPACE: the Udp line of its /proc/net/snmp as name=value pairs
  ip netns exec "$1" awk '/^Udp:/ { if (!h) { split($0, n); h = 1 } else {
    for (i = 2; i <= NF; i++) printf "%s=%s ", n[i], $i; print "" } }' /proc/net/snmp
}

ip netns exec "$c2" iperf3 -s >/dev/null 2>&1 &
LAB_PIDS+=("$!")
lab_wait 10 "iperf3 server" bash -c "ip netns exec $c2 ss -Hltn 'sport = :5201' | grep -q ."
traffic=()
[ -z "$udp64" ] || traffic=(-u -l 64 -b "$udp64")
"${on_cpu0[@]}" ip netns exec "$c1" iperf3 -c "$dst" -t "$((seconds + 4))" $reverse \
  "${traffic[@]}" -J >"$LAB_DIR/iperf.json" &
client=$!
sleep 2 # let the stream reach its steady rate before sampling (not a synchronisation)
perf record -q -a -g -e cpu-clock -o "$LAB_DIR/perf.data" -- sleep "$seconds" 2>/dev/null
wait "$client"
jq -r 'if .start.test_start.protocol == "TCP" then
    "TCP \(.end.sum_received.bits_per_second / 1e9 * 1000 | round / 1000) Gb/s"
  else
    "UDP 64 B: sent \(.end.sum.packets / .end.sum.seconds | floor) pkt/s, delivered \(.end.sum_received.bits_per_second / 512 | floor) pkt/s, lost \(.end.sum.lost_percent * 100 | round / 100) %"
  end' "$LAB_DIR/iperf.json"
if [ -n "$udp64" ]; then
  echo "-- where datagrams were dropped (RcvbufErrors: a socket's receive buffer was full)"
  echo "receiving container: $(udp_counters "$c2")"
  for i in 1 2; do echo "flanneld host $i:     $(udp_counters "$(lab_host "$i")")"; done
  for i in 1 2; do
    echo "flannel0 on host $i: $(ip -n "$(lab_host "$i")" -s link show flannel0 |
      awk '/TX:/ { getline; print "tx packets " $2 ", tx dropped " $4 }')"
  done
fi
# The forwarders' counters from /metrics, before the daemons stop.
for i in 1 2; do lab_udp_counters "$(lab_host "$i")" 9104 "$LAB_DIR/h$i.counters"; done
for pid in "${daemons[@]}"; do lab_stop "$pid"; done
for i in 1 2; do
  [ -s "$LAB_DIR/h$i.counters" ] && { echo "-- host $i counters"; cat "$LAB_DIR/h$i.counters"; }
done
# `head` closes the pipe early: perf's SIGPIPE is not a failure here.
echo "-- CPU share by thread"
perf report -i "$LAB_DIR/perf.data" --no-children --sort pid --stdio -g none 2>/dev/null |
  grep -E '^ +[0-9]' | head -8 || true
echo "-- machine-wide, by command and symbol (top 30)"
perf report -i "$LAB_DIR/perf.data" --no-children --sort comm,sym --stdio -g none 2>/dev/null |
  grep -E '^ +[0-9]' | head -30 || true
echo "-- forwarder threads (flannel-fwd) only, by symbol (top 25)"
perf report -i "$LAB_DIR/perf.data" --no-children --comm flannel-fwd --sort sym --stdio \
  -g none 2>/dev/null | grep -E '^ +[0-9]' | head -25 || true
