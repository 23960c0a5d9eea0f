#!/usr/bin/env bash
# The udp backend end to end, with the daemon an operator runs: two hosts and a container
# behind each, a local etcd, our flanneld on both with `--backend udp --port 7890 -ip-masq
# -healthz-port …` under a NOTIFY_SOCKET. Checks:
#   - sd_notify READY=1 arrives; /healthz and /readyz answer with stock's texts; iptables-save
#     shows the FLANNEL-POSTRTG / FLANNEL-FWD rules;
#   - container ping both ways; 200 MB over TCP arrive intact (sha256 of both ends);
#   - every datagram on the underlay is exactly a packet read from flannel0 with TTL − 1,
#     to port 7890, from port 7890 (with several workers, worker i ≥ 1 sends from its own
#     port: any source port then);
#   - a ping to a subnet nobody holds gets "Destination Net Unreachable";
#   - a datagram from an address that holds no lease is dropped and counted (/metrics);
#   - /metrics packet counters move while a ping runs;
#   - one daemon SIGKILLed and restarted: traffic resumes within 2 s of the restart;
#   - a node whose lease is deleted disappears from the other's table (/metrics).
# Usage: Scripts/udp-check.sh [path/to/flanneld]
#   UDP_WORKERS=N passes -udp-workers=N (default: the daemon's own choice, one per two online CPUs, ≤ 4).
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/lab.sh
lab_use_flanneld "${1:-}"
trap lab_cleanup EXIT
here=Scripts

N=2
PREFIX=/coreos.com/network
WORKER_ARGS=()
[ -z "${UDP_WORKERS:-}" ] || WORKER_ARGS=(-udp-workers="$UDP_WORKERS")
lab_underlay $N
lab_containers $N
h1=$(lab_host 1) h2=$(lab_host 2)
lab_etcd "$h1"
ip netns exec "$h1" env ETCDCTL_API=3 etcdctl put $PREFIX/config \
  '{"Network":"10.1.0.0/16","Backend":{"Type":"udp"}}' >/dev/null

declare -a PIDS
start_node() { # I
  local i=$1
  mkdir -p "$LAB_DIR/h$i"
  NOTIFY_SOCKET="$LAB_DIR/h$i/notify" lab_flanneld "$(lab_host "$i")" "flanneld-h$i" \
    -etcd-endpoints=http://192.168.77.11:2379 -etcd-prefix=$PREFIX -iface=eth0 \
    --backend udp --port 7890 -ip-masq -healthz-ip=127.0.0.1 -healthz-port=8471 \
    -subnet-file="$LAB_DIR/h$i/subnet.env" "${WORKER_ARGS[@]}"
  PIDS[$i]=$LAB_LAST_PID
}
fail() { for i in $(seq $N); do echo "--- flanneld h$i"; tail -30 "$LAB_DIR/flanneld-h$i.log" || true; done; lab_fail "$*"; }
metrics() { ip netns exec "$(lab_host "$1")" curl -sf http://127.0.0.1:8471/metrics; }
metric() { # I NAME_WITH_LABELS
  metrics "$1" | awk -v m="$2" '$1 == m { print $2 }'
}

# A datagram socket per host for sd_notify (the test owns it), before the daemons start.
for i in $(seq $N); do
  mkdir -p "$LAB_DIR/h$i"
  python3 - "$LAB_DIR/h$i/notify" "$LAB_DIR/h$i/notified" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
data = s.recv(4096)
open(sys.argv[2], "wb").write(data)
PY
  LAB_PIDS+=("$!")
  lab_wait 5 "notify socket $i" test -S "$LAB_DIR/h$i/notify"
done

for i in $(seq $N); do start_node "$i"; done
for i in $(seq $N); do
  lab_wait 30 "subnet.env on host $i" test -s "$LAB_DIR/h$i/subnet.env" || fail "no subnet.env"
  lab_container_attach_env "$i" "$LAB_DIR/h$i/subnet.env"
done
c1=$(lab_container_ip 1) c2=$(lab_container_ip 2)
grep -qx "FLANNEL_MTU=1472" "$LAB_DIR/h1/subnet.env" || fail "FLANNEL_MTU is not 1472"
workers=$(sed -n 's/.*udp backend: \([0-9]*\) workers\{0,1\} (.*/\1/p' "$LAB_DIR/flanneld-h1.log" | head -1)
[ -n "$workers" ] || fail "no 'udp backend: N workers' line"
[ -z "${UDP_WORKERS:-}" ] || [ "$workers" = "$UDP_WORKERS" ] || fail "$workers workers, not $UDP_WORKERS"
lab_log "ok: udp backend runs $workers worker(s)"
# This kernel (6.18) has every io_uring feature the loop can use: the daemon must use them all.
uring=$(grep -o 'udp backend: io_uring with .*' "$LAB_DIR/flanneld-h1.log" | head -1)
for feature in "single issuer + deferred task work" "multishot TUN read" "registered files"; do
  grep -qF "$feature" <<<"$uring" || fail "io_uring without $feature: '$uring'"
done
lab_log "ok: ${uring#udp backend: }"

# --- the daemon an operator runs ----------------------------------------------------------
for i in $(seq $N); do
  lab_wait 10 "READY=1 on host $i" grep -q "READY=1" "$LAB_DIR/h$i/notified"
  [ "$(ip netns exec "$(lab_host "$i")" curl -sf http://127.0.0.1:8471/healthz)" = "flanneld is running" ] || fail "/healthz"
  [ "$(ip netns exec "$(lab_host "$i")" curl -sf http://127.0.0.1:8471/readyz)" = "flanneld is ready" ] || fail "/readyz"
done
lab_log "ok: READY=1 received, /healthz and /readyz answer"
net=10.1.0.0/16 sub=$(sed -n 's/^FLANNEL_SUBNET=\(.*\)\.1\/24$/\1.0\/24/p' "$LAB_DIR/h1/subnet.env")
rules=$(ip netns exec "$h1" iptables-save)
for want in \
  "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG" \
  "-A FLANNEL-POSTRTG -s $sub -d $net -m comment --comment \"flanneld masq\" -j RETURN" \
  "-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD" \
  "-A FLANNEL-FWD -s $net -m comment --comment \"flanneld forward\" -j ACCEPT"; do
  grep -qF -- "$want" <<<"$rules" || { echo "$rules"; fail "iptables: missing: $want"; }
done
lab_log "ok: ip-masq and forward rules installed (iptables-save)"

# --- traffic ------------------------------------------------------------------------------
ip netns exec "$(lab_container 1)" ping -q -c 3 -i 0.2 -W 2 "$c2" >/dev/null || fail "ping 1→2"
ip netns exec "$(lab_container 2)" ping -q -c 3 -i 0.2 -W 2 "$c1" >/dev/null || fail "ping 2→1"
lab_log "ok: container ping both ways"

sent_before=$(metric 1 'flannel_udp_packets_total{direction="tun_to_udp"}')
ip netns exec "$(lab_container 1)" ping -q -c 20 -i 0.05 -W 2 "$c2" >/dev/null || fail "ping for counters"
sent_after=$(metric 1 'flannel_udp_packets_total{direction="tun_to_udp"}')
[ "${sent_after%.*}" -ge $(( ${sent_before%.*} + 20 )) ] || fail "/metrics sent counter did not move ($sent_before → $sent_after)"
lab_log "ok: /metrics packet counters moved ($sent_before → $sent_after sent)"

# 200 MB over TCP, checksummed at both ends.
ip netns exec "$(lab_container 2)" python3 - 5001 >"$LAB_DIR/recv.sha" <<'PY' &
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); s.settimeout(120)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())
PY
RECV=$!; LAB_PIDS+=("$RECV")
lab_wait 10 "receiver listening" ip netns exec "$(lab_container 2)" bash -c "ss -ltn | grep -q :5001"
ip netns exec "$(lab_container 1)" python3 - "$c2" 5001 >"$LAB_DIR/send.sha" <<'PY'
import hashlib, os, socket, sys
rnd = os.urandom(1 << 20); h = hashlib.sha256(); total = 200 * (1 << 20)
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=120)
for i in range(200):
    chunk = bytes([i]) + rnd[1:]
    s.sendall(chunk); h.update(chunk)
s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
print(total, h.hexdigest())
PY
wait "$RECV" || fail "TCP receiver"
lab_forget_pid "$RECV"
[ "$(cat "$LAB_DIR/send.sha")" = "$(cat "$LAB_DIR/recv.sha")" ] || fail "200 MB over TCP: $(cat "$LAB_DIR/send.sha") sent, $(cat "$LAB_DIR/recv.sha") received"
lab_log "ok: 200 MB over TCP arrived intact ($(cut -d' ' -f2 "$LAB_DIR/recv.sha" | cut -c1-16)…)"

# Wire format: what leaves flannel0 is exactly what goes on the underlay, TTL − 1, to 7890
# (from 7890, or with several workers from a worker's own port).
capture() { # NS IFACE FILE FILTER...
  local ns=$1 iface=$2 file=$3; shift 3
  ip netns exec "$ns" tcpdump -i "$iface" --immediate-mode -U -n -w "$file" "$@" 2>"$file.log" &
  CAPTURE=$!; LAB_PIDS+=("$CAPTURE")
  lab_wait 5 "tcpdump on $iface" grep -q "listening on" "$file.log"
}
capture "$h1" flannel0 "$LAB_DIR/tun.pcap"; TUNCAP=$CAPTURE
capture "$h1" eth0 "$LAB_DIR/udp.pcap" udp port 7890; UDPCAP=$CAPTURE
ip netns exec "$(lab_container 1)" ping -q -c 5 -i 0.1 -W 2 "$c2" >/dev/null || fail "ping during capture"
sleep 0.3 # let tcpdump write its last packets before the stop
kill -INT "$TUNCAP" "$UDPCAP"; wait "$TUNCAP" "$UDPCAP" 2>/dev/null || true
sport=()
[ "$workers" = 1 ] || sport=(any-source-port)
n=$(python3 $here/lib/dataplane_pcap.py wire "$LAB_DIR/tun.pcap" "$LAB_DIR/udp.pcap" \
  192.168.77.11 192.168.77.12 7890 "${sport[@]}") || fail "wire format: $n"
[ "$n" -ge 5 ] || fail "wire format: only $n datagrams of 5 pings matched"
lab_log "ok: $n datagrams on the underlay are the flannel0 packets with TTL − 1, to port 7890 (from ${sport:-port 7890})"

out=$(ip netns exec "$(lab_container 1)" ping -c 1 -W 2 10.1.250.1 2>&1 || true)
grep -q "Destination Net Unreachable" <<<"$out" || fail "no net unreachable for a subnet nobody holds: $out"
lab_log "ok: ping to a subnet nobody holds: Destination Net Unreachable"

# A datagram from the underlay's own address (it holds no lease) is dropped and counted.
before=$(metric 1 'flannel_udp_dropped_packets_total{reason="unknown_source"}')
ip netns exec "${LAB_ID}ul" python3 $here/lib/dataplane_send.py 192.168.77.1 7890 valid 192.168.77.11 7890
lab_wait 5 "unknown-source drop counted" bash -c "[ \"\$(ip netns exec $h1 curl -sf http://127.0.0.1:8471/metrics | awk '\$1 == \"flannel_udp_dropped_packets_total{reason=\\\"unknown_source\\\"}\" { print \$2 }')\" != \"$before\" ]"
lab_log "ok: a datagram from an address without a lease was dropped and counted"

# SIGKILL host 2's daemon and restart it: traffic resumes within 2 s of the restart.
kill -KILL "${PIDS[2]}"; wait "${PIDS[2]}" 2>/dev/null || true; lab_forget_pid "${PIDS[2]}"
rm -f "$LAB_DIR/h2/notify"
restart=$EPOCHREALTIME
start_node 2
until ip netns exec "$(lab_container 1)" ping -q -c 1 -W 0.2 "$c2" >/dev/null 2>&1; do
  awk -v a="$restart" -v b="$EPOCHREALTIME" 'BEGIN{exit !(b-a < 10)}' || fail "traffic did not resume after the restart"
done
resumed=$(awk -v a="$restart" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}')
awk -v r="$resumed" 'BEGIN{exit !(r <= 2.0)}' || fail "traffic resumed only after $resumed s"
lab_log "ok: traffic resumed $resumed s after the daemon restart"

# A node whose lease is deleted leaves the other's table.
kill -TERM "${PIDS[2]}"; wait "${PIDS[2]}" 2>/dev/null || true; lab_forget_pid "${PIDS[2]}"
sub2=$(sed -n 's/^FLANNEL_SUBNET=\(.*\)\.1\/24$/\1.0-24/p' "$LAB_DIR/h2/subnet.env")
[ "$(metric 1 flannel_leases_known)" = 1 ] || fail "host 1 should know 1 lease"
ip netns exec "$h1" env ETCDCTL_API=3 etcdctl del "$PREFIX/subnets/$sub2" >/dev/null
lab_wait 2 "host 1 to forget $sub2" bash -c "ip netns exec $h1 curl -sf http://127.0.0.1:8471/metrics | grep -qx 'flannel_leases_known 0'"
out=$(ip netns exec "$(lab_container 1)" ping -c 1 -W 2 "$c2" 2>&1 || true)
grep -q "Destination Net Unreachable" <<<"$out" || fail "the deleted lease is still routed: $out"
lab_log "ok: a deleted lease left host 1's table (its subnet is unreachable now)"
kill -TERM "${PIDS[1]}"; wait "${PIDS[1]}" || fail "flanneld exited $? on SIGTERM"
lab_forget_pid "${PIDS[1]}"
lab_log "udp check ok"
