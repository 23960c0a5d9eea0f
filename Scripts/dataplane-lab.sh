#!/usr/bin/env bash
# Kernel test of the DataPlane Forwarder (udp backend data plane), run by
# Tests/DataPlaneTests/ForwarderNamespaceTests.swift or by hand:
#   Scripts/dataplane-lab.sh .build/debug/udp-forwarder-probe [--bench]
# With --bench it also measures, before stopping: iperf3 TCP cA → cB (5 s, 1 stream), ping RTT,
# and prints SQEs per io_uring_enter.
#
# Four network namespaces: two "hosts" joined by a veth underlay (192.168.90.0/24), each with
# a TUN forwarder (udp-forwarder-probe) and a "container" namespace behind a veth:
#
#   cA 10.1.1.2 ─ hA [flannel0 10.1.1.0/32, 10.1.0.0/16] 192.168.90.1:7890
#                                  ║ veth underlay
#   cB 10.1.2.2 ─ hB [flannel0 10.1.2.0/32, 10.1.0.0/16] 192.168.90.2:7890 (+ 192.168.90.3)
#
# hA also routes 10.1.3.0/24 to 192.168.90.3:7890, an address on hB with no forwarder: the
# test sends hand-made datagrams from there as a "known source" (any source port: senders
# with several workers use several), and from 192.168.90.4 (no route) as an unknown one. Prints "ok NAME" or
# "not ok NAME: why" per check; exits non-zero when any check failed. Everything it creates is
# deleted on exit.
set -uo pipefail
probe=${1:?usage: dataplane-lab.sh PATH/TO/udp-forwarder-probe [--bench]}
bench=${2:-}
# PROBE_ARGS: extra probe arguments for both hosts, e.g. "--tun-reads 8" (the old design) or
# "--workers 2" (two forwarders on a multi-queue TUN, as -udp-workers=2).
read -r -a probe_args <<<"${PROBE_ARGS:-}"
# PROBE_ARGS_A / PROBE_ARGS_B: for one host only, e.g. PROBE_ARGS_A="--offloads all" (a mixed
# cluster: offloads on one side, off on the other).
read -r -a probe_args_a <<<"${PROBE_ARGS_A:-}"
read -r -a probe_args_b <<<"${PROBE_ARGS_B:-}"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/dataplane-lab.XXXXXX)
tag=dp$$
hA=${tag}hA hB=${tag}hB cA=${tag}cA cB=${tag}cB
pids=()
failed=0

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do stop_within 5 "$pid"; done
  for ns in "$hA" "$hB" "$cA" "$cB"; do ip netns del "$ns" 2>/dev/null; done
  [ -n "${KEEP_LAB:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

ok() { echo "ok $1"; }
fail() {
  echo "not ok $1: $2"
  failed=1
}
in_ns() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}
# counter FILE NAME -> value
counter() { awk -v n="$2" '$1 == n { print $2 }' "$1" 2>/dev/null; }
# wait_counter FILE NAME MIN: polls up to 5 s until counter NAME >= MIN
wait_counter() {
  local i value
  for i in $(seq 1 100); do
    value=$(counter "$1" "$2")
    if [ -n "$value" ] && [ "$value" -ge "$3" ]; then return 0; fi
    sleep 0.05
  done
  return 1
}
# capture NS IFACE FILE [FILTER...]: starts tcpdump, waits until it listens, echoes its PID
start_capture() {
  local ns=$1 iface=$2 file=$3
  shift 3
  # ip netns exec execs its command: $! is tcpdump itself, so signals reach it.
  ip netns exec "$ns" tcpdump -i "$iface" --immediate-mode -U -n -w "$file" "$@" 2>"$file.log" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do
    grep -q "listening on" "$file.log" 2>/dev/null && break
    sleep 0.05
  done
  capture_pid=$pid
}
stop_capture() {
  sleep 0.2
  kill -INT "$1" 2>/dev/null
  stop_within 5 "$1"
}
# stop_within SECONDS PID: waits for PID, SIGKILLs it after SECONDS; returns its status.
stop_within() {
  local i
  for i in $(seq 1 $(($1 * 20))); do
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$2" 2>/dev/null
  wait "$2" 2>/dev/null
}

# --- topology -------------------------------------------------------------------------------
set -e
for ns in "$hA" "$hB" "$cA" "$cB"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # No IPv6: its router solicitations on flannel0 would muddy the not-IPv4 counter.
  in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$hA" link add uA type veth peer name uB netns "$hB"
ip -n "$hA" addr add 192.168.90.1/24 dev uA
ip -n "$hB" addr add 192.168.90.2/24 dev uB
ip -n "$hB" addr add 192.168.90.3/24 dev uB
ip -n "$hB" addr add 192.168.90.4/24 dev uB
ip -n "$hA" link set uA up
ip -n "$hB" link set uB up
for side in A B; do
  h=${tag}h$side c=${tag}c$side n=$([ $side = A ] && echo 1 || echo 2)
  ip -n "$h" link add veth0 type veth peer name eth0 netns "$c"
  ip -n "$h" addr add 10.1.$n.1/24 dev veth0
  ip -n "$h" link set veth0 up
  ip -n "$c" addr add 10.1.$n.2/24 dev eth0
  ip -n "$c" link set eth0 up
  ip -n "$c" route add default via 10.1.$n.1
  in_ns "$h" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0
done
set +e

ip netns exec "$hA" "$probe" --tun flannel0 --bind 192.168.90.1:7890 --tun-address 10.1.1.0 \
  --route 10.1.2.0/24=192.168.90.2:7890 --route 10.1.3.0/24=192.168.90.3:7890 \
  --max-datagram 1500 --counters-file "$work/a.counters" --routes-file "$work/a.routes" \
  "${probe_args[@]}" "${probe_args_a[@]}" >"$work/a.out" 2>&1 &
pidA=$!
pids+=("$pidA")
ip netns exec "$hB" "$probe" --tun flannel0 --bind 192.168.90.2:7890 --tun-address 10.1.2.0 \
  --route 10.1.1.0/24=192.168.90.1:7890 --counters-file "$work/b.counters" "${probe_args[@]}" \
  "${probe_args_b[@]}" >"$work/b.out" 2>&1 &
pidB=$!
pids+=("$pidB")
for _ in $(seq 1 100); do
  [ -s "$work/a.counters" ] && [ -s "$work/b.counters" ] && break
  sleep 0.05
done
if ! [ -s "$work/a.counters" ] || ! [ -s "$work/b.counters" ]; then
  fail "forwarders start" "$(cat "$work/a.out" "$work/b.out")"
  exit 1
fi
ok "forwarders start"
# Both loops name their descriptors by registered-file index (IOSQE_FIXED_FILE).
for _ in $(seq 1 100); do
  grep -q 'fixed-files' "$work/a.out" && grep -q 'fixed-files' "$work/b.out" && break
  sleep 0.05
done
if grep -q 'fixed-files yes' "$work/a.out" && grep -q 'fixed-files yes' "$work/b.out"; then
  ok "TUN, sockets and eventfd are the rings' fixed files"
else
  fail "TUN, sockets and eventfd are the rings' fixed files" "$(cat "$work/a.out" "$work/b.out")"
fi
for side in A B; do
  h=${tag}h$side n=$([ $side = A ] && echo 1 || echo 2)
  ip -n "$h" addr add 10.1.$n.0/32 dev flannel0
  ip -n "$h" route add 10.1.0.0/16 dev flannel0
  # The ICMP net-unreachable comes from the lease network address, which is also flannel0's
  # own address: without accept_local the kernel drops it as a martian (so does stock flannel's).
  in_ns "$h" sysctl -qw net.ipv4.conf.flannel0.accept_local=1
done

# --- ping both ways -------------------------------------------------------------------------
if out=$(in_ns "$cA" ping -c 3 -i 0.2 -W 2 10.1.2.2 2>&1); then ok "ping A to B"; else fail "ping A to B" "$out"; fi
if out=$(in_ns "$cB" ping -c 3 -i 0.2 -W 2 10.1.1.2 2>&1); then ok "ping B to A"; else fail "ping B to A" "$out"; fi
ttl=$(in_ns "$cA" ping -c 1 -W 2 10.1.2.2 | sed -n 's/.*ttl=\([0-9]*\).*/\1/p')
# 64, −1 at hB's kernel (reply leaves cB), −1 hB forwarder, −1 hA forwarder, −1 hA kernel.
if [ "$ttl" = 60 ]; then ok "reply TTL 60"; else fail "reply TTL 60" "got '$ttl'"; fi

# --- wire format: payload = inner packet with TTL−1, port 7890 → 7890 --------------------------
start_capture "$hA" flannel0 "$work/a-tun.pcap"
tunCap=$capture_pid
start_capture "$hA" uA "$work/a-udp.pcap" udp port 7890
udpCap=$capture_pid
in_ns "$cA" ping -c 3 -i 0.2 -W 2 -p 5aa5 10.1.2.2 >/dev/null 2>&1
stop_capture "$tunCap"
stop_capture "$udpCap"
[ -n "${KEEP_LAB:-}" ] && echo "work dir $work"
# With --workers N > 1 on A, worker i ≥ 1 sends from its own port: any source port then.
# With --poll-usecs N > 0 on A, its forwarders must have polled (hit or missed) by now.
wire_sport=()
polling=
for ((i = 0; i < ${#probe_args[@]} + ${#probe_args_a[@]}; i++)); do
  all=("${probe_args[@]}" "${probe_args_a[@]}")
  [ "${all[i]}" = --workers ] && [ "${all[i + 1]:-1}" -gt 1 ] && wire_sport=(any-source-port)
  [ "${all[i]}" = --poll-usecs ] && [ "${all[i + 1]:-0}" -gt 0 ] && polling=1
done
if [ -n "$polling" ]; then
  polls=$(($(counter "$work/a.counters" pollHits) + $(counter "$work/a.counters" pollMisses)))
  if [ "$polls" -gt 0 ]; then
    ok "A's forwarders polled before sleeping ($(counter "$work/a.counters" pollHits) hits, $(counter "$work/a.counters" pollMisses) misses)"
  else
    fail "A's forwarders polled before sleeping" "$(cat "$work/a.counters")"
  fi
fi
if n=$(python3 "$here/lib/dataplane_pcap.py" wire "$work/a-tun.pcap" "$work/a-udp.pcap" \
  192.168.90.1 192.168.90.2 7890 "${wire_sport[@]}" 2>&1) && [ "$n" -ge 3 ]; then
  ok "wire format ($n datagrams = TUN packets with TTL-1)"
else
  fail "wire format" "$n"
fi

# --- no route: ICMP net unreachable, byte for byte ------------------------------------------
start_capture "$hA" flannel0 "$work/a-icmp.pcap"
icmpCap=$capture_pid
err=$(in_ns "$cA" python3 -c '
import socket
s = socket.socket(); s.settimeout(3)
try:
    s.connect(("10.1.99.1", 80)); print("connected")
except OSError as e:
    print(e.errno)' 2>&1)
stop_capture "$icmpCap"
if [ "$err" = 101 ]; then ok "connect to unrouted subnet: ENETUNREACH"; else fail "connect to unrouted subnet: ENETUNREACH" "$err"; fi
if out=$(python3 "$here/lib/dataplane_pcap.py" icmp "$work/a-icmp.pcap" 10.1.1.0 10.1.99.1 2>&1); then
  ok "ICMP net unreachable bytes ($out bytes)"
else
  fail "ICMP net unreachable bytes" "$out"
fi
if wait_counter "$work/a.counters" icmpSent 1 && wait_counter "$work/a.counters" dropNoRoute 1; then
  ok "counted icmpSent and dropNoRoute"
else
  fail "counted icmpSent and dropNoRoute" "$(cat "$work/a.counters")"
fi
# ping (an ICMP query) is answered "Destination Net Unreachable" (stock answers no ICMP at all).
out=$(in_ns "$cA" ping -c 1 -W 2 10.1.99.1 2>&1 || true)
if grep -q "Destination Net Unreachable" <<<"$out"; then
  ok "ping to an unrouted subnet: Destination Net Unreachable"
else
  fail "ping to an unrouted subnet: Destination Net Unreachable" "$out"
fi

# --- datagrams the receiver must drop ----------------------------------------------------------
send() { in_ns "$hB" python3 "$here/lib/dataplane_send.py" "$@" 192.168.90.1 7890; }
expect_drop() { # NAME COUNTER BIND_PORT KIND [BIND_IP]
  local before
  before=$(counter "$work/a.counters" "$2")
  send "${5:-192.168.90.3}" "$3" "$4"
  if wait_counter "$work/a.counters" "$2" $((before + 1)); then ok "$1"; else fail "$1" "$(cat "$work/a.counters")"; fi
}
written=$(counter "$work/a.counters" tunPacketsWritten)
expect_drop "unknown source address dropped" dropUnknownSource 7890 valid 192.168.90.4
expect_drop "short datagram dropped" dropShort 7890 short
expect_drop "empty datagram dropped" dropShort 7890 empty
expect_drop "IPv6 datagram dropped" dropNotIPv4 7890 ipv6
expect_drop "IHL 4 datagram dropped" dropBadHeader 7890 badihl
expect_drop "TTL 1 datagram dropped" dropTTL 7890 ttl1
expect_drop "oversized datagram dropped" dropTruncated 7890 big
if [ "$(counter "$work/a.counters" tunPacketsWritten)" = "$written" ]; then
  ok "nothing dropped reached the TUN"
else
  fail "nothing dropped reached the TUN" "$written -> $(counter "$work/a.counters" tunPacketsWritten)"
fi
send 192.168.90.3 7890 valid
if wait_counter "$work/a.counters" tunPacketsWritten $((written + 1)); then
  ok "valid datagram from known source written"
else
  fail "valid datagram from known source written" "$(cat "$work/a.counters")"
fi
send 192.168.90.3 7999 valid
if wait_counter "$work/a.counters" tunPacketsWritten $((written + 2)); then
  ok "known source address from another port written"
else
  fail "known source address from another port written" "$(cat "$work/a.counters")"
fi
if out=$(in_ns "$cA" ping -c 2 -i 0.2 -W 2 10.1.2.2 2>&1); then ok "still forwarding"; else fail "still forwarding" "$out"; fi

# --- live route updates (Forwarder.update(routes:) while traffic flows) ------------------------
# reload_routes LINE...: writes A's routes file, signals the probe, waits for it to apply them.
reload_routes() {
  local applied
  applied=$(grep -c "^routes " "$work/a.out")
  printf '%s\n' "$@" >"$work/a.routes"
  kill -USR1 "$pidA"
  for _ in $(seq 1 100); do
    [ "$(grep -c "^routes " "$work/a.out")" -gt "$applied" ] && return 0
    sleep 0.05
  done
  return 1
}
noroute=$(counter "$work/a.counters" dropNoRoute)
if reload_routes 10.1.3.0/24=192.168.90.3:7890 &&
  ! in_ns "$cA" ping -c 2 -i 0.2 -W 1 10.1.2.2 >/dev/null 2>&1 &&
  wait_counter "$work/a.counters" dropNoRoute $((noroute + 2)); then
  ok "route removed by update"
else
  fail "route removed by update" "$(cat "$work/a.out")"
fi
if reload_routes 10.1.2.0/25=192.168.90.2:7890 10.1.2.128/25=192.168.90.9:7890 &&
  out=$(in_ns "$cA" ping -c 2 -i 0.2 -W 2 10.1.2.2 2>&1); then
  ok "route restored by update"
else
  fail "route restored by update" "$out"
fi

# --- UDP flood: one poll waiter per descriptor, so no read is ever punted to iou-wrk ---------
# (Several posted READs on one fd are all woken per packet; one that loses 128 times in a row
# goes to an iou-wrk thread and completes with EAGAIN.)
read0=$(counter "$work/a.counters" tunPacketsRead)
ip netns exec "$cB" iperf3 -s -1 >/dev/null 2>&1 &
iperf_pid=$!
pids+=("$iperf_pid")
for _ in $(seq 1 100); do
  in_ns "$cB" ss -Hlun 'sport = :5201' 2>/dev/null | grep -q . && break
  in_ns "$cB" ss -Hltn 'sport = :5201' 2>/dev/null | grep -q . && break
  sleep 0.05
done
( while :; do ps -L -o comm= -p "$pidA,$pidB" 2>/dev/null | grep -c '^iou-wrk'; sleep 0.1; done ) \
  >"$work/iou.txt" 2>/dev/null &
sampler=$!
pids+=("$sampler")
in_ns "$cA" iperf3 -c 10.1.2.2 -u -l 64 -b 0 -t 2 >"$work/flood.txt" 2>&1
kill "$sampler" 2>/dev/null
stop_within 5 "$iperf_pid"
wait_counter "$work/a.counters" tunPacketsRead $((read0 + 1000))
read1=$(counter "$work/a.counters" tunPacketsRead)
iou=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$work/iou.txt")
retries=$(($(counter "$work/a.counters" readRetries) + $(counter "$work/b.counters" readRetries)))
if [ $((read1 - read0)) -ge 1000 ] && [ "$iou" = 0 ] && [ "$retries" = 0 ]; then
  ok "no iou-wrk under a UDP flood ($((read1 - read0)) packets, $(counter "$work/a.counters" packetsPerSubmission) packets per enter on A)"
else
  fail "no iou-wrk under a UDP flood" "packets $((read1 - read0)), iou-wrk $iou, EAGAIN $retries: $(tail -3 "$work/flood.txt")"
fi
sent=$(counter "$work/a.counters" udpPacketsSent)
sends=$(counter "$work/a.counters" udpSends)
if [ -n "$sent" ] && [ -n "$sends" ] && [ "$sends" -gt 0 ] && [ $((sent / sends)) -ge 2 ]; then
  ok "UDP GSO sends several packets per SENDMSG ($sent packets in $sends sends)"
else
  fail "UDP GSO sends several packets per SENDMSG" "$sent packets in $sends sends"
fi
got=$(counter "$work/b.counters" udpPacketsReceived)
receives=$(counter "$work/b.counters" udpReceives)
if [ -n "$got" ] && [ -n "$receives" ] && [ "$receives" -gt 0 ] && [ $((got / receives)) -ge 2 ]; then
  ok "UDP GRO receives several packets per datagram ($got packets in $receives receives on B)"
else
  fail "UDP GRO receives several packets per datagram" "$got packets in $receives receives on B"
fi

# --- bytes arrive intact both ways, TCP (TSO super-packets when offloads are on) and UDP ------
transfer=$here/lib/dataplane_transfer.py
transfer_check() { # NAME FROM_NS TO_NS TO_IP PROTO ARGS...
  local name=$1 from=$2 to=$3 ip=$4 proto=$5
  shift 5
  local recv_args=()
  [ "$proto" = udp ] && recv_args=("$1") # the datagram count
  ip netns exec "$to" python3 "$transfer" "$proto-recv" 5301 "${recv_args[@]}" \
    >"$work/recv.txt" 2>&1 &
  local rpid=$!
  pids+=("$rpid")
  for _ in $(seq 1 100); do
    in_ns "$to" ss -Hln "sport = :5301" 2>/dev/null | grep -q . && break
    sleep 0.05
  done
  ip netns exec "$from" python3 "$transfer" "$proto-send" "$ip" 5301 "$@" >"$work/send.txt" 2>&1
  stop_within 20 "$rpid"
  if [ -s "$work/send.txt" ] && cmp -s "$work/send.txt" "$work/recv.txt"; then
    ok "$name intact ($(cut -c1-12 "$work/send.txt"))"
  else
    fail "$name intact" "sent $(cat "$work/send.txt"), received $(cat "$work/recv.txt")"
  fi
}
start_capture "$hA" uA "$work/a-tcp.pcap" udp port 7890
transfer_check "TCP 30 MB A to B" "$cA" "$cB" 10.1.2.2 tcp 30000000
stop_capture "$capture_pid"
if out=$(python3 "$here/lib/dataplane_pcap.py" inner "$work/a-tcp.pcap" 192.168.90.1 \
  192.168.90.2 7890 1472 "${wire_sport[@]}" 2>&1) && [ "$(echo "$out" | cut -d' ' -f3)" -gt 0 ]; then
  ok "underlay datagrams carry one IPv4 packet each, ≤ MTU, checksums valid (datagrams, packets, TCP: $out)"
else
  fail "underlay datagrams carry one IPv4 packet each" "$out"
fi
transfer_check "TCP 30 MB B to A" "$cB" "$cA" 10.1.1.2 tcp 30000000
transfer_check "UDP 2000 x 1400 B A to B" "$cA" "$cB" 10.1.2.2 udp 2000 1400
transfer_check "UDP 2000 x 1400 B B to A" "$cB" "$cA" 10.1.1.2 udp 2000 1400

# --- UDP_SEGMENT sends from connected sockets (consecutive IP IDs): a USO super-packet on a
# TUN that took USO, GRO trains over the underlay. Every datagram arrives intact both ways,
# and a host whose TUN took USO (and coalesces) writes them into its TUN as UDP super-packets.
uso_check() { # NAME FROM_NS TO_NS TO_IP
  local name=$1 from=$2 to=$3 ip=$4 spec=100x20x1400 rpid rc
  ip netns exec "$to" python3 "$here/lib/udp_integrity.py" recv 5302 1 "$spec" \
    >"$work/uso-recv.txt" 2>&1 &
  rpid=$!
  pids+=("$rpid")
  for _ in $(seq 1 100); do
    in_ns "$to" ss -Hlun "sport = :5302" 2>/dev/null | grep -q . && break
    sleep 0.05
  done
  ip netns exec "$from" python3 "$here/lib/udp_integrity.py" send "$ip" 5302 "$spec" \
    >"$work/uso-send.txt" 2>&1
  stop_within 20 "$rpid"
  rc=$?
  if [ $rc = 0 ] && grep -q ' 0 lost, 0 corrupt, 0 duplicated' "$work/uso-recv.txt"; then
    ok "$name intact ($(head -1 "$work/uso-recv.txt"))"
  else
    fail "$name intact" "exit $rc: $(cat "$work/uso-recv.txt") / $(cat "$work/uso-send.txt")"
  fi
}
udp_writes0=$(counter "$work/a.counters" tunCoalescedUDPWrites)
udp_packets0=$(counter "$work/a.counters" tunCoalescedUDPPackets)
write_errors0=$(counter "$work/a.counters" dropTunWriteError)
uso_check "UDP_SEGMENT 100 x 20 x 1400 B A to B" "$cA" "$cB" 10.1.2.2
uso_check "UDP_SEGMENT 100 x 20 x 1400 B B to A" "$cB" "$cA" 10.1.1.2
# USO accepted by A's kernel and receive coalescing on ("offloads csum,tso,uso,gro"): the
# B to A transfer reached A's TUN as UDP super-packets, none refused by the kernel (a refused
# one would count as a TUN write error and turn coalescing off with a notice).
if grep -q 'offloads .*uso,gro' "$work/a.out"; then
  if wait_counter "$work/a.counters" tunCoalescedUDPWrites $((${udp_writes0:-0} + 1)) &&
    [ "$(counter "$work/a.counters" dropTunWriteError)" = "$write_errors0" ] &&
    [ "$(counter "$work/a.counters" offloadsDisabled)" = 0 ]; then
    ok "UDP super-packets written to the TUN on A ($(($(counter "$work/a.counters" tunCoalescedUDPPackets) - ${udp_packets0:-0})) datagrams in $(($(counter "$work/a.counters" tunCoalescedUDPWrites) - ${udp_writes0:-0})) writes)"
  else
    fail "UDP super-packets written to the TUN on A" "$(cat "$work/a.counters" "$work/a.out")"
  fi
fi
if grep -q 'offloads .*tso' "$work/a.out"; then
  supers=$(counter "$work/a.counters" tunSuperPackets)
  splits=$(counter "$work/a.counters" tunSplitPackets)
  if [ "${supers:-0}" -gt 0 ] && [ "${splits:-0}" -gt "$supers" ] &&
    [ "$(counter "$work/a.counters" dropOffload)" = 0 ]; then
    ok "TSO super-packets split on A ($supers into $splits packets)"
  else
    fail "TSO super-packets split on A" "$(cat "$work/a.counters")"
  fi
fi
for side in a b; do
  echo "  offloads $side: $(grep -o 'offloads .*' "$work/$side.out" | head -1)," \
    "super-packets $(counter "$work/$side.counters" tunSuperPackets)," \
    "split into $(counter "$work/$side.counters" tunSplitPackets)," \
    "coalesced TCP $(counter "$work/$side.counters" tunCoalescedPackets) into $(counter "$work/$side.counters" tunCoalescedWrites)," \
    "UDP $(counter "$work/$side.counters" tunCoalescedUDPPackets) into $(counter "$work/$side.counters" tunCoalescedUDPWrites)," \
    "dropped $(counter "$work/$side.counters" dropOffload)"
done

# --- a GSO send the kernel refuses (segments longer than the path MTU allows: EINVAL) is sent
# again packet by packet, and those fragment as plain sends always did ---------------------
ip -n "$hA" link set uA mtu 1000
ip netns exec "$cB" iperf3 -s -1 >/dev/null 2>&1 &
iperf_pid=$!
pids+=("$iperf_pid")
for _ in $(seq 1 100); do
  in_ns "$cB" ss -Hltn 'sport = :5201' 2>/dev/null | grep -q . && break
  sleep 0.05
done
written0=$(counter "$work/b.counters" tunPacketsWritten)
senderr0=$(counter "$work/a.counters" dropSendError)
in_ns "$cA" iperf3 -c 10.1.2.2 -u -l 1400 -b 50M -t 1 >"$work/big.txt" 2>&1
stop_within 5 "$iperf_pid"
wait_counter "$work/b.counters" tunPacketsWritten $((written0 + 200))
written1=$(counter "$work/b.counters" tunPacketsWritten)
senderr1=$(counter "$work/a.counters" dropSendError)
ip -n "$hA" link set uA mtu 1500
if [ $((written1 - written0)) -ge 200 ] && [ "$senderr1" = "$senderr0" ]; then
  ok "refused GSO send falls back to plain sends ($((written1 - written0)) packets over MTU 1000)"
else
  fail "refused GSO send falls back to plain sends" "written $((written1 - written0)), send errors $((senderr1 - senderr0)): $(tail -3 "$work/big.txt")"
fi

# --- optional measurements --------------------------------------------------------------------
if [ "$bench" = --bench ]; then
  ip netns exec "$cB" iperf3 -s -1 >/dev/null 2>&1 &
  pids+=($!)
  sleep 0.5
  echo "bench iperf3 TCP 1 stream cA -> cB:"
  in_ns "$cA" iperf3 -c 10.1.2.2 -t 5 -f m 2>&1 | grep -E "sender|receiver" | sed 's/^/  /'
  echo "bench ping cA -> cB:"
  in_ns "$cA" ping -c 50 -i 0.02 -q 10.1.2.2 2>&1 | tail -1 | sed 's/^/  /'
  wait_counter "$work/a.counters" batches 1
  awk '$1 == "submissions" { s = $2 } $1 == "sqesSubmitted" { q = $2 } $1 == "packetsMoved" { p = $2 }
    END { printf "bench A: %d io_uring_enter, %.2f SQEs and %.2f packets each\n", s, q / s, p / s }' "$work/a.counters"
fi

# --- stop ------------------------------------------------------------------------------------
kill -TERM "$pidA" "$pidB"
stop_within 5 "$pidA"
rcA=$?
stop_within 5 "$pidB"
rcB=$?
if [ $rcA = 0 ] && [ $rcB = 0 ]; then ok "clean stop"; else fail "clean stop" "exit $rcA/$rcB: $(cat "$work/a.out" "$work/b.out")"; fi
if ! ip -n "$hA" link show flannel0 >/dev/null 2>&1; then ok "TUN gone after stop"; else fail "TUN gone after stop" "flannel0 still there"; fi
echo "counters A:"
sed 's/^/  /' "$work/a.counters"
exit $failed
