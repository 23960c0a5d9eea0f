#!/usr/bin/env bash
# Correctness that must not move with the udp backend's TUN offloads (issue 6): a mixed
# cluster of two hosts with a container behind each, a local etcd, our flanneld
# `--backend udp --port 7890` on both, host A with -udp-offloads=all and host B with
# -udp-offloads=none (--both-on: both with all). Checks:
#   - the capture checker itself fails on crafted bad captures (self-test), so a PASS below
#     means something;
#   - TCP both ways: OFFLOAD_CHECK_TCP_MB MB (default 40) each way, sha256 sent == received;
#   - UDP both ways: datagrams of 1400 bytes and other sizes (16 … 8000, the large ones
#     fragmented by the sender) and UDP_SEGMENT sends (USO super-packets on an offloading
#     TUN), each carrying its sequence number and a checksum of its content: all must arrive
#     intact, none lost, none duplicated (this lab is reliable: see udp_integrity.py pacing);
#   - EVERY datagram captured on both hosts' eth0 (udp port 7890, during all transfers) is
#     exactly one inner IPv4 packet (IHL 5, total length == payload length), at most the
#     flannel MTU (1472), with correct IPv4 header and TCP/UDP/ICMP checksums (a fragment's
#     once all fragments of its packet are in: they must fit together, none missing); at
#     least as many datagrams as the transfers need; tcpdump dropped none;
#   - a bad datagram sent over the underlay during a live capture fails the checker (so the
#     capture path, not only crafted files, can make it fail);
#   - then, with the underlay passing GSO sends whole (GRO trains at the receiver), TCP and
#     UDP both ways again intact, and a host with offloads wrote coalesced TSO and USO
#     super-packets to its TUN;
#   - pings both ways (small ones, and 3000 bytes in fragments) during the capture;
#   - a host with offloads really read super-packets from its TUN and dropped none.
#   - /metrics (-healthz-port) after the GRO-train round: lines for every worker (2), the
#     per-worker sums equal the totals, a host with offloads reports TSO on and segments it
#     cut from super-packets (with --both-on also coalesced TCP writes); a -udp-offloads=none
#     host reports every offload off.
# The underlay veths do not segment UDP GSO sends themselves (tx-udp-segmentation off), so the
# kernel cuts a GSO send into datagrams before tcpdump sees them: the capture shows what a
# wire between two machines would carry.
# --family 6 (issue 16): the same over IPv6 inside. The network is dual-stack (EnableIPv6,
# IPv6Network fd10::/56; the hosts get IPv6 underlay addresses too, though the udp backend
# carries its IPv6 packets over the IPv4 underlay) and the containers' TCP, UDP (the sizes
# above with 1424-byte datagrams filling the MTU, the large ones cut by the sender into
# fragments with a Fragment header) and pings run over IPv6 only: every datagram captured must
# then be exactly one inner IPv6 packet (version 6, payload length == datagram payload - 40),
# at most the MTU, with correct TCP/UDP/ICMPv6 checksums over the IPv6 pseudo-header (UDP
# checksum 0 refused) and consistent fragment headers; the live bad datagrams carry IPv6; the
# forwarders' IPv6 counters show the traffic went through them as IPv6 (the super-packets
# cut and merged with it).
# Extra flanneld arguments per host: OFFLOAD_CHECK_ARGS_A / OFFLOAD_CHECK_ARGS_B (e.g.
# "-udp-workers=4"; they come after the script's -udp-workers=2 and override it; the /metrics
# check wants at least 2 workers). Prints PASS/FAIL lines; exits non-zero on any FAIL.
# Usage: Scripts/offload-check.sh [--both-on] [--family 4|6] [path/to/flanneld]
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/lab.sh
offloads_b=none FAMILY=4
while [ $# -gt 0 ]; do
  case $1 in
    --both-on) offloads_b=all; shift ;;
    --family) FAMILY=${2:-}; shift 2 || lab_fail "--family wants 4 or 6" ;;
    *) break ;;
  esac
done
case $FAMILY in 4 | 6) ;; *) lab_fail "--family: 4 or 6, not '$FAMILY'" ;; esac
lab_use_flanneld "${1:-}"
# On a failure, the daemons' last words before everything is deleted.
trap 'rc=$?; [ $rc = 0 ] || logs; lab_cleanup' EXIT
lib=Scripts/lib
read -r -a args_a <<<"${OFFLOAD_CHECK_ARGS_A:-}"
read -r -a args_b <<<"${OFFLOAD_CHECK_ARGS_B:-}"
tcp_bytes=$((${OFFLOAD_CHECK_TCP_MB:-40} * 1000 * 1000))
PORT=7890 MTU=1472 PREFIX=/coreos.com/network HEALTHZ_PORT=9102
# IP + UDP header bytes, and IP + TCP: an inner IPv4 or IPv6 packet's headers without options.
udp_headers=$([ "$FAMILY" = 4 ] && echo 28 || echo 48)
tcp_headers=$([ "$FAMILY" = 4 ] && echo 40 || echo 60)
# 2000 x 1400 B as the issue asks, small, MTU-filling (IPv4 1444, IPv6 1424 bytes: the packet
# is 1472) and fragmented ones, then UDP_SEGMENT sends: 100 of 8 datagrams (7 x 1400 + 700),
# 50 of 4 MTU-filling ones (the last half as long) and 50 of 6 odd-sized ones (5 x 1001 +
# 500: segments at odd offsets of the super-packet, for the checksums cut and merged).
udp_specs=(2000x1400 200x16 200x200 200x1000 "200x$((MTU - udp_headers))" 50x3000 20x8000 100x8x1400
  "50x4x$((MTU - udp_headers))" 50x6x1001)
udp_datagrams=$((2000 + 4 * 200 + 50 + 20 + 100 * 8 + 50 * 4 + 50 * 6))
# The family's receivers, ping and live bad datagrams.
if [ "$FAMILY" = 4 ]; then
  tcp_recv=tcp-recv udp_recv=recv ping_family=-4 bad_kinds=(two-packets bad-tcp-checksum)
else
  tcp_recv=tcp6-recv udp_recv=recv6 ping_family=-6 bad_kinds=(two-packets6 bad-tcp-checksum6)
fi
started=$SECONDS
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
logs() {
  local f
  for i in 1 2; do
    f="$LAB_DIR/flanneld-h$i.log"
    [ -f "$f" ] || continue
    echo "--- flanneld h$i (first 3 and last 15 lines)"
    head -3 "$f"
    [ "$(wc -l <"$f")" -le 3 ] || tail -n +4 "$f" | tail -15
  done
}
# A failure that leaves nothing further to check.
fatal() {
  fail "$*"
  exit 1
}

# --- the checker can fail --------------------------------------------------------------------
mkdir -p "$LAB_DIR/self-test"
if out=$(python3 $lib/underlay_check.py self-test "$LAB_DIR/self-test" 2>&1); then
  pass "capture checker self-test: $(grep -c caught <<<"$out") crafted bad captures caught (IPv4: two packets in a datagram, bad IPv4/TCP/UDP checksums, oversized, IHL 6; IPv6: two packets, wrong payload length, bad TCP/UDP/ICMPv6 checksums, UDP checksum 0, inconsistent fragment headers; fragments of one packet: a data byte flipped, one missing, one twice, overlapping; both: the other family, truncated, too few/empty), a good one per family passed"
else
  echo "$out"
  fatal "capture checker self-test"
fi

# --- the cluster -----------------------------------------------------------------------------
lab_underlay 2
lab_containers 2
[ "$FAMILY" = 4 ] || lab_underlay6 2
h1=$(lab_host 1) h2=$(lab_host 2)
for h in "$h1" "$h2"; do
  ip netns exec "$h" python3 $lib/netdev_features.py eth0 tx-udp-segmentation off ||
    fatal "could not turn tx-udp-segmentation off on $h eth0"
done
lab_etcd "$h1"
config='{"Network":"10.1.0.0/16","Backend":{"Type":"udp"}}'
[ "$FAMILY" = 4 ] || config='{"Network":"10.1.0.0/16","EnableIPv6":true,"IPv6Network":"fd10::/56","Backend":{"Type":"udp"}}'
ip netns exec "$h1" env ETCDCTL_API=3 etcdctl put $PREFIX/config "$config" >/dev/null
start_node() { # I OFFLOADS EXTRA_ARGS...
  local i=$1 offloads=$2
  shift 2
  mkdir -p "$LAB_DIR/h$i"
  lab_flanneld "$(lab_host "$i")" "flanneld-h$i" \
    -etcd-endpoints=http://192.168.77.11:2379 -etcd-prefix=$PREFIX -iface=eth0 \
    --backend udp --port $PORT -udp-offloads="$offloads" -subnet-file="$LAB_DIR/h$i/subnet.env" \
    -udp-workers=2 -healthz-ip=127.0.0.1 -healthz-port=$HEALTHZ_PORT "$@"
}
start_node 1 all "${args_a[@]}"
PID_A=$LAB_LAST_PID
start_node 2 "$offloads_b" "${args_b[@]}"
PID_B=$LAB_LAST_PID
for i in 1 2; do
  pid=$([ $i = 1 ] && echo "$PID_A" || echo "$PID_B")
  # Stop waiting as soon as the daemon is gone (a bad OFFLOAD_CHECK_ARGS_*, say).
  lab_wait 30 "subnet.env on host $i" bash -c "test -s '$LAB_DIR/h$i/subnet.env' || ! kill -0 $pid"
  kill -0 "$pid" 2>/dev/null || fatal "flanneld on host $i exited before writing its subnet.env"
  lab_container_attach_env "$i" "$LAB_DIR/h$i/subnet.env"
  [ "$FAMILY" = 4 ] || lab_container_attach6_env "$i" "$LAB_DIR/h$i/subnet.env"
done
grep -qx "FLANNEL_MTU=$MTU" "$LAB_DIR/h1/subnet.env" || fatal "FLANNEL_MTU is not $MTU"
if [ "$FAMILY" = 4 ]; then
  c1=$(lab_container_ip 1) c2=$(lab_container_ip 2)
else
  c1=$(lab_container_ip6 1) c2=$(lab_container_ip6 2)
fi
ctr1=$(lab_container 1) ctr2=$(lab_container 2)
# Each node learns the other's lease through etcd: poll until the containers reach each other.
lab_wait 15 "ping c1 → c2" ip netns exec "$ctr1" ping $ping_family -c 1 -W 1 "$c2" || fatal "no ping c1 → c2"
lab_wait 15 "ping c2 → c1" ip netns exec "$ctr2" ping $ping_family -c 1 -W 1 "$c1" || fatal "no ping c2 → c1"
echo "  host A: -udp-offloads=all ${args_a[*]}; $(grep -o 'TUN offloads.*' "$LAB_DIR/flanneld-h1.log" | head -1 || true)"
echo "  host B: -udp-offloads=$offloads_b ${args_b[*]}; $(grep -o 'TUN offloads.*' "$LAB_DIR/flanneld-h2.log" | head -1 || echo "no TUN offloads")"
grep -q "TUN offloads .*tso" "$LAB_DIR/flanneld-h1.log" || fatal "host A did not turn TSO on: $(grep -i offload "$LAB_DIR/flanneld-h1.log")"
pass "cluster up: containers $c1 (host A, offloads all) and $c2 (host B, offloads $offloads_b) ping each other"

# --- captures on both hosts' eth0 ------------------------------------------------------------
declare -A CAPTURE
for i in 1 2; do
  f="$LAB_DIR/h$i/underlay.pcap"
  # --immediate-mode: without it the packets of the ring's last, unfinished block are counted
  # as received but never written when tcpdump is stopped. Its ring has one slot per packet,
  # each as large as the snap length: -s 2048 (an underlay frame is at most 1514 bytes; the
  # checker fails a truncated one) and -B 64 MB make 32,000 slots, so tcpdump keeps up with
  # the transfers on 2 cores (with the default 262,144-byte snap length it dropped packets).
  lab_spawn "$(lab_host "$i")" "$f.log" tcpdump -i eth0 -s 2048 -B 65536 --immediate-mode -n \
    -w "$f" udp port $PORT
  CAPTURE[$i]=$LAB_LAST_PID
  lab_wait 5 "tcpdump on host $i" grep -q "listening on" "$f.log"
done

# --- TCP both ways ---------------------------------------------------------------------------
tcp_transfer() { # NAME FROM_NS TO_NS TO_IP
  local name=$1 from=$2 to=$3 ip=$4 rpid t0=$EPOCHREALTIME
  lab_spawn "$to" "$LAB_DIR/recv.txt" python3 $lib/dataplane_transfer.py $tcp_recv 5001
  rpid=$LAB_LAST_PID
  lab_wait 5 "TCP receiver in $to" bash -c "ip netns exec $to ss -Hltn 'sport = :5001' | grep -q ."
  ip netns exec "$from" python3 $lib/dataplane_transfer.py tcp-send "$ip" 5001 $tcp_bytes \
    >"$LAB_DIR/send.txt" 2>&1 || true
  for _ in $(seq 100); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
  lab_kill "$rpid"
  if [ -s "$LAB_DIR/send.txt" ] && [ "$(cat "$LAB_DIR/send.txt")" = "$(cat "$LAB_DIR/recv.txt")" ]; then
    pass "TCP $name: $((tcp_bytes / 1000000)) MB intact, sha256 $(cut -c1-16 "$LAB_DIR/send.txt")… ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s)"
  else
    fail "TCP $name: sent '$(cat "$LAB_DIR/send.txt")', received '$(cat "$LAB_DIR/recv.txt")'"
  fi
}
tcp_transfer "A → B" "$ctr1" "$ctr2" "$c2"
tcp_transfer "B → A" "$ctr2" "$ctr1" "$c1"

# --- UDP both ways ---------------------------------------------------------------------------
udp_transfer() { # NAME FROM_NS TO_NS TO_IP
  local name=$1 from=$2 to=$3 ip=$4 rpid rc=0
  lab_spawn "$to" "$LAB_DIR/udp-recv.txt" python3 $lib/udp_integrity.py $udp_recv 5002 1 "${udp_specs[@]}"
  rpid=$LAB_LAST_PID
  lab_wait 5 "UDP receiver in $to" bash -c "ip netns exec $to ss -Hlun 'sport = :5002' | grep -q ."
  ip netns exec "$from" python3 $lib/udp_integrity.py send "$ip" 5002 "${udp_specs[@]}" \
    >"$LAB_DIR/udp-send.txt" 2>&1 || true
  for _ in $(seq 100); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$rpid" 2>/dev/null && rc=124
  if [ $rc = 0 ]; then wait "$rpid" || rc=$?; fi
  lab_kill "$rpid"
  if [ $rc = 0 ]; then
    pass "UDP $name: $(head -1 "$LAB_DIR/udp-recv.txt") ($(cat "$LAB_DIR/udp-send.txt"))"
  else
    fail "UDP $name (exit $rc): $(cat "$LAB_DIR/udp-recv.txt") / $(cat "$LAB_DIR/udp-send.txt")"
  fi
}
udp_transfer "A → B" "$ctr1" "$ctr2" "$c2"
udp_transfer "B → A" "$ctr2" "$ctr1" "$c1"

# --- ICMP both ways ---------------------------------------------------------------------------
# Echo requests and replies on the wire too (their checksums: ICMPv6's covers the IPv6
# pseudo-header), 2 small and 2 of 3000 bytes (3 fragments each) per direction: at least
# 2 × (4 + 4 × 3) = 32 ICMP datagrams in each capture. -w: fewer replies by then fails.
pings=0
for pair in "$ctr1 $c2 A → B" "$ctr2 $c1 B → A"; do
  read -r from ip name <<<"$pair"
  for size in 56 3000; do
    if out=$(ip netns exec "$from" ping $ping_family -q -c 2 -i 0.2 -w 5 -s $size "$ip" 2>&1); then
      pings=$((pings + 2))
    else
      fail "ping $name -s $size: $(tail -2 <<<"$out" | paste -sd' ')"
    fi
  done
done
[ $pings != 8 ] || pass "ping both ways: 8 echo requests (4 of them of 3000 bytes, fragmented) answered"
icmp_minimum=32

# --- every captured datagram -----------------------------------------------------------------
# Lower bound of the datagrams both directions need (each capture sees both): a TCP segment
# carries at most MTU − 40 (IPv6: 60) bytes; every UDP datagram is at least one.
minimum=$((2 * tcp_bytes / (MTU - tcp_headers) + 2 * udp_datagrams))
sleep 0.2 # what is still in flight
for i in 1 2; do
  f="$LAB_DIR/h$i/underlay.pcap"
  host=$([ $i = 1 ] && echo A || echo B)
  kill -INT "${CAPTURE[$i]}" 2>/dev/null || true
  wait "${CAPTURE[$i]}" 2>/dev/null || true
  lab_forget_pid "${CAPTURE[$i]}"
  dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$f.log")
  captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$f.log")
  received=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$f.log")
  if [ -z "$dropped" ] || [ -z "$captured" ] || [ -z "$received" ]; then
    fail "tcpdump on host $host: no packet counts in its output: $(cat "$f.log")"
  elif [ "$dropped" != 0 ]; then
    fail "tcpdump on host $host dropped $dropped packets (of $((received + dropped))); checking the $captured captured ones anyway"
  elif [ "$captured" != "$received" ]; then
    fail "tcpdump on host $host wrote $captured of the $received packets it received; checking those"
  else
    pass "tcpdump on host $host: $captured packets captured, 0 dropped by kernel"
  fi
  if out=$(python3 $lib/underlay_check.py check "$f" $PORT $MTU $minimum "$FAMILY" 2>&1); then
    read -r n tcp udp icmp other frags longest reassembled <<<"$out"
    [ "$icmp" -ge $icmp_minimum ] || fail "host $host eth0: only $icmp ICMP datagrams, want at least $icmp_minimum"
    pass "host $host eth0: all $n datagrams (≥ $minimum) are one valid inner IPv$FAMILY packet ≤ $MTU bytes (TCP $tcp, UDP $udp, ICMP$([ "$FAMILY" = 4 ] || echo v6) $icmp, other $other; longest $longest; $frags fragments of $reassembled packets, each reassembled with its checksum right)"
  else
    fail "host $host eth0 capture: ${out#FAIL: }"
  fi
done

# --- the live capture path can fail too --------------------------------------------------------
# A bad datagram sent over the underlay (from the bridge's address, which holds no lease, so
# flanneld drops it) must fail the same capture and checker: proof that what tcpdump writes
# here reaches the checks above, not only crafted files.
for kind in "${bad_kinds[@]}"; do
  f="$LAB_DIR/h1/live-$kind.pcap"
  # -U: each packet written at once, so the file shows when the datagram has been captured.
  lab_spawn "$h1" "$f.log" tcpdump -i eth0 -s 2048 --immediate-mode -U -n -w "$f" udp port $PORT
  cap=$LAB_LAST_PID
  lab_wait 5 "tcpdump on host A" grep -q "listening on" "$f.log"
  ip netns exec "${LAB_ID}ul" python3 $lib/underlay_check.py send 192.168.77.1 $PORT 192.168.77.11 "$kind"
  lab_wait 5 "the $kind datagram in the capture" bash -c "[ \$(stat -c %s '$f') -gt 24 ]"
  kill -INT "$cap" 2>/dev/null || true
  wait "$cap" 2>/dev/null || true
  lab_forget_pid "$cap"
  if out=$(python3 $lib/underlay_check.py check "$f" $PORT $MTU 1 "$FAMILY" 2>&1); then
    fail "a live $kind datagram passed the checker: $out"
  else
    out=${out#FAIL: }
    pass "a live $kind datagram on host A's eth0 fails the checker (${out%: *})"
  fi
done

# --- receive-side coalescing ------------------------------------------------------------------
# With the underlay cutting GSO sends into datagrams (above), each arrives alone and nothing can
# be coalesced. Now the veths pass GSO sends whole, as GRO on a real NIC hands them over: the
# receiving socket gets trains, which an offloading host writes into its TUN as TSO (and, for
# the UDP_SEGMENT sends' consecutive datagrams, USO) super-packets. The bytes must still arrive
# intact (no capture: the wire view is gone).
for h in "$h1" "$h2"; do
  ip netns exec "$h" python3 $lib/netdev_features.py eth0 tx-udp-segmentation on ||
    fatal "could not turn tx-udp-segmentation back on on $h eth0"
done
tcp_transfer "A → B, GRO trains" "$ctr1" "$ctr2" "$c2"
tcp_transfer "B → A, GRO trains" "$ctr2" "$ctr1" "$c1"
udp_transfer "A → B, GRO trains" "$ctr1" "$ctr2" "$c2"
udp_transfer "B → A, GRO trains" "$ctr2" "$ctr1" "$c1"

# --- /metrics shows the workers and the offloads ------------------------------------------------
# Scraped while the daemons still run.
metric() { # FILE SERIES (name{labels} exactly as rendered): its value, empty when absent
  awk -v k="$2" '$1 == k { print $2 }' "$1"
}
num() { # FILE SERIES: its value, 0 when absent (for sums and comparisons)
  local v
  v=$(metric "$@")
  echo "${v:-0}"
}
for i in 1 2; do
  host=$([ $i = 1 ] && echo A || echo B)
  m="$LAB_DIR/h$i/metrics.txt"
  if ! ip netns exec "$(lab_host "$i")" curl -sf -m 5 "http://127.0.0.1:$HEALTHZ_PORT/metrics" >"$m"; then
    fail "host $host: no /metrics on 127.0.0.1:$HEALTHZ_PORT"
    continue
  fi
  workers=$(sed -n 's/.*udp backend: \([0-9]*\) workers\{0,1\} .*/\1/p' "$LAB_DIR/flanneld-h$i.log" | head -1)
  missing=() sent=0 received=0
  for ((w = 0; w < ${workers:-0}; w++)); do
    for series in "flannel_udp_worker_packets_total{direction=\"tun_to_udp\",worker=\"$w\"}" \
      "flannel_udp_worker_packets_total{direction=\"udp_to_tun\",worker=\"$w\"}" \
      "flannel_udp_worker_io_uring_enters_total{worker=\"$w\"}"; do
      [ -n "$(metric "$m" "$series")" ] || missing+=("$series")
    done
    sent=$((sent + $(num "$m" "flannel_udp_worker_packets_total{direction=\"tun_to_udp\",worker=\"$w\"}")))
    received=$((received + $(num "$m" "flannel_udp_worker_packets_total{direction=\"udp_to_tun\",worker=\"$w\"}")))
  done
  total_sent=$(metric "$m" 'flannel_udp_packets_total{direction="tun_to_udp"}')
  total_received=$(metric "$m" 'flannel_udp_packets_total{direction="udp_to_tun"}')
  if [ "${workers:-0}" -lt 2 ] || [ ${#missing[@]} != 0 ]; then
    fail "host $host /metrics: want lines for each of at least 2 workers (log says ${workers:-none}), missing: ${missing[*]}"
  elif [ "$sent" != "$total_sent" ] || [ "$received" != "$total_received" ]; then
    fail "host $host /metrics: workers sum to $sent sent / $received received, totals say $total_sent / $total_received"
  else
    pass "host $host /metrics: $workers workers, tun → udp $(grep -o 'tun_to_udp",worker="[0-9]*"} [0-9]*' "$m" | awk '{print $2}' | paste -sd+) = $total_sent, udp → tun $(grep -o 'udp_to_tun",worker="[0-9]*"} [0-9]*' "$m" | awk '{print $2}' | paste -sd+) = $total_received"
  fi
  active=$(grep '^flannel_udp_offload_active{' "$m" | sed 's/^flannel_udp_offload_active{offload="\(.*\)"} /\1=/' | paste -sd' ')
  kind() { num "$m" "flannel_udp_offload_packets_total{kind=\"$1\"}"; }
  if [ $i = 1 ] || [ "$offloads_b" = all ]; then
    if [ "$(metric "$m" 'flannel_udp_offload_active{offload="tso"}')" = 1 ] &&
      [ "$(kind super_packet_segments_sent)" -gt 0 ]; then
      pass "host $host /metrics: offloads on: $active; $(kind super_packets_read) super-packets read, $(kind super_packet_segments_sent) segments sent"
    else
      fail "host $host /metrics: TSO not reported on, or no segments sent: $active, segments sent '$(kind super_packet_segments_sent)'"
    fi
  fi
  if [ "$offloads_b" = all ]; then
    if [ "$(kind coalesced_tcp_writes)" -gt 0 ]; then
      pass "host $host /metrics: $(kind coalesced_tcp_packets) received packets in $(kind coalesced_tcp_writes) coalesced TCP writes"
    else
      fail "host $host /metrics: coalesced_tcp_writes is '$(kind coalesced_tcp_writes)', want > 0"
    fi
  elif [ $i = 2 ]; then
    on=$(grep -c '^flannel_udp_offload_active{.*} 1$' "$m" || true)
    off=$(grep -c '^flannel_udp_offload_active{.*} 0$' "$m" || true)
    if [ "$on" = 0 ] && [ "$off" = 6 ]; then
      pass "host B /metrics: -udp-offloads=none reports all 6 offloads off ($active)"
    else
      fail "host B /metrics with -udp-offloads=none: $active"
    fi
  fi
done

# --- the offloads were really used -------------------------------------------------------------
# The forwarders' counters from /metrics (lab_udp_counters), once the traffic is over.
for i in 1 2; do
  lab_udp_counters "$(lab_host "$i")" "$HEALTHZ_PORT" "$LAB_DIR/h$i/counters"
  lab_kill "$([ $i = 1 ] && echo "$PID_A" || echo "$PID_B")"
done
for i in 1 2; do
  host=$([ $i = 1 ] && echo A || echo B)
  counters=$(tr '\n' ' ' <"$LAB_DIR/h$i/counters" 2>/dev/null || true)
  [ -n "$counters" ] || { fail "host $host wrote no counters"; continue; }
  echo "  host $host counters: $counters"
  val() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$counters"; }
  if [ $i = 1 ] || [ "$offloads_b" = all ]; then
    if [ "$(val tun_super_packets)" -gt 0 ] && [ "$(val drop_offload)" = 0 ] && [ "$(val offloads_disabled)" = 0 ]; then
      pass "host $host read $(val tun_super_packets) super-packets from its TUN (split into $(val tun_split_packets)), none dropped, offloads never turned off"
    else
      fail "host $host offloads not exercised or dropping: $counters"
    fi
  fi
  if [ "$FAMILY" = 6 ]; then
    # All that the forwarder read from its TUN went out as IPv6, but for the host's own MLD
    # reports on flannel0 (multicast, counted apart; a few, at most 50) and none for no lease's
    # subnet (the containers' packets all arrived, above), and all it received was written
    # as IPv6 but for the live bad datagrams (host A): so the super-packets cut above were
    # TSO6/USO over IPv6 and the merged writes IPv6 ones.
    read_not6=$(($(val tun_read) - $(val ipv6_sent) - $(val drop_ipv6_multicast)))
    received_not6=$(($(val udp_received) - $(val ipv6_written)))
    bad=$([ $i = 1 ] && echo ${#bad_kinds[@]} || echo 0)
    if [ "$(val ipv6_sent)" -gt 0 ] && [ "$read_not6" = 0 ] && [ "$(val drop_ipv6_multicast)" -le 50 ] &&
      [ "$received_not6" = "$bad" ]; then
      pass "host $host forwarded IPv6 only: $(val ipv6_sent) IPv6 packets read (super-packets once) of $(val tun_read) TUN reads (+ $(val drop_ipv6_multicast) multicast), $(val ipv6_written) written of $(val udp_received) received (+ $bad bad ones dropped)"
    else
      fail "host $host: not all IPv6 ($read_not6 TUN reads and $received_not6 received datagrams not forwarded as IPv6, want 0 and $bad): $counters"
    fi
  fi
  # Trains arrive only from a peer that sends with UDP GSO: with B at -udp-offloads=none
  # (one datagram per send), nobody receives any, so coalescing is checked when both are on.
  if [ "$offloads_b" = all ]; then
    if [ "$(val tun_coalesced_writes)" -gt 0 ]; then
      pass "host $host coalesced $(val tun_coalesced_packets) received packets into $(val tun_coalesced_writes) TUN writes"
    else
      fail "host $host coalesced nothing (received GRO trains should have been merged): $counters"
    fi
    if [ "$(val tun_coalesced_udp_writes)" -gt 0 ]; then
      pass "host $host coalesced $(val tun_coalesced_udp_packets) received UDP datagrams into $(val tun_coalesced_udp_writes) USO super-packets"
    else
      fail "host $host coalesced no UDP (UDP_SEGMENT trains should have been merged): $counters"
    fi
  elif [ $i = 2 ]; then
    # -udp-offloads=none means none: one datagram per send and per receive.
    if [ "$(val udp_sends)" = "$(val udp_sent)" ] && [ "$(val udp_receives)" = "$(val udp_received)" ] &&
      [ "$(val tun_super_packets)" = 0 ]; then
      pass "host B used no offload: $(val udp_sent) datagrams in as many sends, $(val udp_received) in as many receives, no super-packet"
    else
      fail "host B with -udp-offloads=none used an offload: $counters"
    fi
  fi
done

variant=$([ $offloads_b = all ] && echo "both hosts offloads all" || echo "mixed: A offloads all, B none")
variant="$variant, IPv$FAMILY inside"
if [ $failures = 0 ]; then
  echo "PASS: offload check ($variant): every check passed in $((SECONDS - started)) s"
else
  echo "FAIL: offload check ($variant): $failures check(s) failed ($((SECONDS - started)) s)"
  exit 1
fi
