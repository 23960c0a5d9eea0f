#!/usr/bin/env bash
# Where the CPU goes while our udp backend carries one TCP stream: two hosts with a container
# each (the bench lab), flanneld --backend udp on both, iperf3 container 1 -> container 2, and
# `perf record -a -g -e cpu-clock` (software clock: this VM has no hardware counters) over the
# middle of the transfer. Prints iperf3's rate, the forwarder counters and the top symbols
# machine-wide and for flanneld alone.
# Usage: Scripts/profile-udp.sh [--seconds N] [--reverse] [path/to/flanneld]
#   FLANNELD_UDP_OFFLOADS / FLANNELD_UDP_WORKERS pass through to both daemons as usual.
# All traffic stays inside namespaces this script creates; everything is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=8
reverse=
binary=
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --reverse) reverse=-R; shift ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) binary=$1; shift ;;
  esac
done
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
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
  FLANNEL_COUNTERS_FILE="$LAB_DIR/h$i.counters" lab_flanneld "$(lab_host "$i")" "flanneld-h$i" \
    -etcd-endpoints=http://192.168.77.11:2379 -iface=eth0 -subnet-file="$LAB_DIR/h$i.env" \
    --backend udp
  daemons+=("$LAB_LAST_PID")
done
for i in 1 2; do lab_wait 30 "subnet.env on host $i" test -s "$LAB_DIR/h$i.env"; done
for i in 1 2; do lab_container_attach_env "$i" "$LAB_DIR/h$i.env"; done
c1=$(lab_container 1) c2=$(lab_container 2)
dst=$(lab_container_ip 2)
lab_wait 30 "ping container 1 -> container 2" ip netns exec "$c1" ping -c1 -W1 "$dst"

ip netns exec "$c2" iperf3 -s >/dev/null 2>&1 &
server=$!
LAB_PIDS+=("$server")
lab_wait 10 "iperf3 server" bash -c "ip netns exec $c2 ss -Hltn 'sport = :5201' | grep -q ."
ip netns exec "$c1" iperf3 -c "$dst" -t "$((seconds + 4))" $reverse -J >"$LAB_DIR/iperf.json" &
client=$!
sleep 2 # let the stream reach its steady rate before sampling (not a synchronisation)
perf record -q -a -g -e cpu-clock -o "$LAB_DIR/perf.data" -- sleep "$seconds" 2>/dev/null
wait "$client"
jq -r '.end.sum_received.bits_per_second / 1e9 | "TCP \(.*1000|round/1000) Gb/s"' \
  "$LAB_DIR/iperf.json"
for pid in "${daemons[@]}"; do lab_stop "$pid"; done
for i in 1 2; do
  [ -s "$LAB_DIR/h$i.counters" ] && { echo "-- host $i counters"; cat "$LAB_DIR/h$i.counters"; }
done
echo "-- machine-wide, by command and symbol (top 30)"
perf report -i "$LAB_DIR/perf.data" --no-children --sort comm,sym --stdio 2>/dev/null |
  grep -E '^ +[0-9]' | head -30
echo "-- flanneld only, by symbol (top 25)"
perf report -i "$LAB_DIR/perf.data" --no-children --comm flannel-fwd --sort sym --stdio \
  2>/dev/null | grep -E '^ +[0-9]' | head -25
