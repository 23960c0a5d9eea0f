#!/usr/bin/env bash
# Data-plane benchmark: one network-namespace lab (two hosts on an underlay bridge, a
# container behind each host, a local etcd for the flanneld arms) and several ways of getting
# packets from container 1 to container 2, measured side by side in the same run:
#   underlay         host 1 -> host 2 on eth0 itself (no containers, no forwarding): the ceiling
#   vxlan            kernel vxlan set up with `ip` exactly as flanneld's vxlan backend does
#   host-gw          `subnet via peer dev eth0` routes, as flanneld's host-gw backend does
#   baseline         Benchmarks/Baseline/baseline-fwd.c: stock flannel's udp proxy design
#                    (poll, one packet per syscall) on TUN flannel0, port 7890
#   udp-plain        our flanneld --backend udp --port 7890 -udp-offloads=udp-gso,udp-gro
#                    -udp-workers=1 (the io_uring forwarder without TUN offloads, one thread)
#   udp              our flanneld --backend udp --port 7890 as an operator runs it (defaults:
#                    TUN offloads and receive coalescing on, one worker per two cores, 200 µs polls)
#   flannel-vxlan    our flanneld --backend vxlan
#   flannel-host-gw  our flanneld --backend host-gw
#   wireguard        our flanneld --backend wireguard (user-space WireGuard on the io_uring
#                    forwarders, TUN flannel-wg, port 51820)
#   wireguard-go     Debian's wireguard-go set up as stock's wireguard backend sets up its
#                    kernel device (not available without wireguard-go and wireguard-tools)
#   udp-ref          as udp, with the flanneld binary in REF_FLANNELD (an earlier build) and/or
#                    the extra flags in REF_FLANNELD_ARGS: a before/after comparison in one run
#                    (not in the default list)
# A flanneld arm whose backend does not work yet is reported "not available" and the run
# goes on. Per arm and repeat: iperf3 single-stream TCP both ways, 4 TCP streams (-P 4), UDP
# 64 B (delivered pps, loss) at -b 0 and at the rate kernel vxlan delivered in the same
# repeat (loss there), 1400 B (Gb/s) at -b 0, ping RTT (avg, p50, p99), CPU seconds per GB, iou-wrk
# threads, packets per io_uring submission (udp arms: from flanneld's /metrics before it stops);
# once per userspace arm, the forwarders' CPU while idle (utime+stime over 60 s, no traffic:
# % of one core per forwarding process). Repeats are
# interleaved (repeat 1 of every arm, then repeat 2, …) so that slow drift of a shared
# machine hits all arms alike; a quiet moment (idle CPU) is awaited before each measurement.
#
# Usage: Scripts/bench.sh [--quick] [--latency] [--hops] [--ping-only] [--family 4|6]
#          [--arms a,b,c] [--repeat N] [--out DIR]
#   --quick     2 s runs, 1 repeat, 50 pings, 5 s idle CPU (for CI; a few minutes)
#   --latency   2,000 pings at 10 ms per arm and repeat (instead of 200): p50 and p99 from
#               enough samples, and the RTT histogram of every arm (pings.csv, table.txt)
#   --hops      per arm through flannel0 (baseline, udp arms) a further 500 pings captured at
#               six points: the round trip hop by hop, ours and the kernel's (hops.txt)
#   --ping-only no iperf3 runs and no idle CPU window: pings (and --hops) only, for quick
#               latency comparisons
#   --family 6  the containers talk IPv6 (Scripts/lib/bench-arms6.sh): kernel vxlan and
#               host-gw by hand over an IPv6 underlay, flanneld's vxlan and host-gw on a
#               dual-stack network (IPv6 underlay), our udp backend carrying IPv6 over IPv4;
#               the baseline stays IPv4 (stock's design carries nothing else). No --hops.
#   --arms      comma-separated subset (default: all of the above; with --family 6 the
#               arms that carry IPv6, and the baseline)
#   --repeat N  repeats per arm (default 3; 1 with --quick)
#   --out DIR   where summary.csv, runs.csv, pings.csv, status.csv, table.txt, chart.png go
#               (default ./bench-results/)
# REF_FLANNELD=path names the binary of the udp-ref arm, REF_FLANNELD_ARGS="-flag=value …" its
# extra flags; BENCH_IDLE=seconds the idle CPU window; BENCH_MAX_STEAL=% (default 5) the
# hypervisor steal above which an iperf3 run is measured again, BENCH_STEAL_RERUNS=N (2) how often.
# FLANNELD_BINARY=path skips building flanneld (otherwise Scripts/build-release.sh, only when
# a flanneld arm is asked for). LAB_KEEP_DIR=1 keeps the lab directory (logs, iperf3 JSON).
# Exit status: non-zero only if the lab itself fails, or if the udp arm is available and
# forwards nothing (never because of speed).
# Needs root (network namespaces), iproute2, iperf3, jq, ping, cc; etcd/etcdctl for flanneld
# arms; gnuplot for the chart. All traffic stays inside namespaces this script creates.
set -euo pipefail
export LC_ALL=C

usage() { sed -n '/^# Usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

ALL_ARMS=underlay,vxlan,host-gw,baseline,udp-plain,udp,flannel-vxlan,flannel-host-gw,wireguard,wireguard-go
arms=$ALL_ARMS
quick=
latency=
BENCH_HOPS=
BENCH_PING_ONLY=
BENCH_HOP_PINGS=500
BENCH_FAMILY=4
repeats=
out=./bench-results
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1; shift ;;
    --latency) latency=1; shift ;;
    --hops) BENCH_HOPS=1; shift ;;
    --ping-only) BENCH_PING_ONLY=1; shift ;;
    --family) [ $# -ge 2 ] || { usage >&2; exit 2; }; BENCH_FAMILY=$2; shift 2 ;;
    --family=*) BENCH_FAMILY=${1#*=}; shift ;;
    --arms) [ $# -ge 2 ] || { usage >&2; exit 2; }; arms=$2; shift 2 ;;
    --arms=*) arms=${1#*=}; shift ;;
    --repeat) [ $# -ge 2 ] || { usage >&2; exit 2; }; repeats=$2; shift 2 ;;
    --repeat=*) repeats=${1#*=}; shift ;;
    --out) [ $# -ge 2 ] || { usage >&2; exit 2; }; out=$2; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'unknown argument: %s\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
done
case $BENCH_FAMILY in
  4) ;;
  6)
    [ -z "$BENCH_HOPS" ] || { echo "--hops captures IPv4 only; not with --family 6" >&2; exit 2; }
    # The default arms of --family 6: those that carry IPv6, and the IPv4 baseline.
    [ "$arms" = "$ALL_ARMS" ] && arms=underlay,vxlan,host-gw,baseline,udp,flannel-vxlan,flannel-host-gw ;;
  *) echo "--family wants 4 or 6" >&2; exit 2 ;;
esac
IFS=, read -r -a BENCH_ARMS <<<"$arms"
for a in "${BENCH_ARMS[@]}"; do
  [[ ",$ALL_ARMS,udp-ref," == *",$a,"* ]] ||
    { echo "unknown arm: $a (arms: $ALL_ARMS, udp-ref)" >&2; exit 2; }
  if [ "$BENCH_FAMILY" = 6 ] && [[ ",underlay,vxlan,host-gw,baseline,udp,udp-ref,flannel-vxlan,flannel-host-gw," != *",$a,"* ]]; then
    echo "arm $a carries IPv4 only; --family 6 runs underlay, vxlan, host-gw, baseline (IPv4), udp, udp-ref, flannel-vxlan, flannel-host-gw" >&2
    exit 2
  fi
done
if [ -n "$quick" ]; then
  BENCH_SECONDS=2; BENCH_PINGS=50; BENCH_QUIET_TIMEOUT=5; BENCH_IDLE_SECONDS=5
else
  BENCH_SECONDS=6; BENCH_PINGS=200; BENCH_QUIET_TIMEOUT=20; BENCH_IDLE_SECONDS=60
fi
[ -n "$latency" ] && BENCH_PINGS=2000
BENCH_IDLE_SECONDS=${BENCH_IDLE:-$BENCH_IDLE_SECONDS}
[[ "$BENCH_IDLE_SECONDS" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_IDLE wants a positive number of seconds" >&2; exit 2; }
BENCH_REPEATS=${repeats:-$([ -n "$quick" ] && echo 1 || echo 3)}
[[ "$BENCH_REPEATS" =~ ^[1-9][0-9]*$ ]] || { echo "--repeat wants a positive number" >&2; exit 2; }
BENCH_QUIET_IDLE=${BENCH_QUIET_IDLE:-85}   # percent idle over 1 s that counts as quiet
BENCH_MAX_STEAL=${BENCH_MAX_STEAL:-5}     # an iperf3 run with more steal % is measured again
BENCH_STEAL_RERUNS=${BENCH_STEAL_RERUNS:-2} # … at most this many times
BENCH_FLANNEL_WAIT=${BENCH_FLANNEL_WAIT:-10}
mkdir -p "$out"
BENCH_OUT=$(realpath "$out")

cd "$(dirname "$0")/.."
[ -z "$BENCH_HOPS" ] || command -v tcpdump >/dev/null || { echo "--hops needs tcpdump" >&2; exit 2; }
for tool in ip iperf3 jq ping cc; do
  command -v "$tool" >/dev/null || { echo "bench.sh needs $tool" >&2; exit 2; }
done

# flanneld only when a flanneld arm runs; a failed build makes those arms "not available".
BENCH_FLANNELD=
BENCH_FLANNELD_WHY=
if [[ ",$arms," =~ ,(udp|udp-plain|udp-ref|flannel-vxlan|flannel-host-gw|wireguard), ]]; then
  if [ -n "${FLANNELD_BINARY:-}" ]; then
    BENCH_FLANNELD=$(realpath "$FLANNELD_BINARY")
  elif ! BENCH_FLANNELD=$(Scripts/build-release.sh 2>"$BENCH_OUT/build.log" | tail -1) ||
    [ ! -x "$BENCH_FLANNELD" ]; then
    BENCH_FLANNELD=
    BENCH_FLANNELD_WHY="Scripts/build-release.sh failed, see $BENCH_OUT/build.log"
  fi
fi

source Scripts/lib/lab.sh
source Scripts/lib/bench-arms.sh
source Scripts/lib/bench-measure.sh
source Scripts/lib/bench-report.sh
[ "$BENCH_FAMILY" = 4 ] || source Scripts/lib/bench-arms6.sh

BENCH_ARM=
BENCH_TEARDOWN=
bench_exit() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$BENCH_TEARDOWN" ]; then "$BENCH_TEARDOWN" 2>/dev/null || true; fi
  lab_cleanup
  exit "$rc"
}
trap bench_exit EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

BENCH_RUNS="$BENCH_OUT/runs.csv"
echo "arm,repeat,metric,value" >"$BENCH_RUNS"
BENCH_PING_SAMPLES="$BENCH_OUT/pings.csv"
echo "arm,repeat,rtt_ms" >"$BENCH_PING_SAMPLES"
rm -f "$BENCH_OUT/hops.txt"
echo "arm,status,note" >"$BENCH_OUT/status.csv"
declare -A BENCH_STATUS=() BENCH_NOTE=()

lab_log "lab: 2 hosts + 2 containers (LAB_ID=$LAB_ID, dir $LAB_DIR); arms: $arms; ${BENCH_REPEATS}x ${BENCH_SECONDS}s; IPv$BENCH_FAMILY"
lab_underlay 2
lab_containers 2
[ "$BENCH_FAMILY" = 4 ] || bench_underlay6

# ping until the path works or BENCH_FLANNEL_WAIT seconds pass.
bench_reachable() {
  local deadline=$((SECONDS + BENCH_FLANNEL_WAIT))
  until ip netns exec "$ARM_SRC_NS" ping -n -c 1 -W 1 "$ARM_DST_IP" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
  done
}

for BENCH_REPEAT in $(seq "$BENCH_REPEATS"); do
  for BENCH_ARM in "${BENCH_ARMS[@]}"; do
    case ${BENCH_STATUS[$BENCH_ARM]:-} in unavailable | "no path") continue ;; esac
    fn=${BENCH_ARM//-/_}
    bench_arm_defaults
    BENCH_TEARDOWN="arm_${fn}_teardown"
    if ! "arm_${fn}_setup"; then
      lab_log "$BENCH_ARM: not available: $ARM_UNAVAILABLE"
      BENCH_STATUS[$BENCH_ARM]=unavailable
      BENCH_NOTE[$BENCH_ARM]=$ARM_UNAVAILABLE
      "$BENCH_TEARDOWN"; BENCH_TEARDOWN=
      continue
    fi
    if ! bench_reachable; then
      lab_log "$BENCH_ARM: set up but $ARM_SRC_NS cannot ping $ARM_DST_IP: forwards nothing"
      BENCH_STATUS[$BENCH_ARM]="no path"
      BENCH_NOTE[$BENCH_ARM]="set up ($ARM_NOTE) but ping $ARM_DST_IP gets no reply"
      "$BENCH_TEARDOWN"; BENCH_TEARDOWN=
      continue
    fi
    lab_log "$BENCH_ARM (repeat $BENCH_REPEAT/$BENCH_REPEATS): $ARM_NOTE"
    bench_measure_arm
    if [ "$BENCH_REPEAT" = 1 ] && [ -z "$BENCH_PING_ONLY" ]; then bench_idle_cpu; fi
    BENCH_STATUS[$BENCH_ARM]=ok
    BENCH_NOTE[$BENCH_ARM]=$ARM_NOTE
    "$BENCH_TEARDOWN"; BENCH_TEARDOWN=
    bench_counters
  done
done

for arm in "${BENCH_ARMS[@]}"; do
  echo "$arm,${BENCH_STATUS[$arm]:-unavailable},${BENCH_NOTE[$arm]:-}" >>"$BENCH_OUT/status.csv"
done
bench_summarise
bench_print_tables
bench_print_histogram
bench_chart
lab_log "results in $BENCH_OUT (runs.csv summary.csv pings.csv status.csv table.txt${BENCH_HOPS:+ hops.txt})"

# CI gate: our udp arm, once it exists, must move packets; speed never fails the run.
if [ "${BENCH_STATUS[udp]:-}" = "no path" ]; then
  echo "FAIL: the udp arm is available but forwards nothing" >&2
  exit 1
fi
if [ "${BENCH_STATUS[udp]:-}" = ok ] && [ -z "$(bench_stat udp tcp_fwd_gbps median)$(bench_stat udp ping_replies median)" ]; then
  echo "FAIL: the udp arm is available but delivered nothing in the measurements" >&2
  exit 1
fi
exit 0
