#!/usr/bin/env bash
# The udp backend with several workers (-udp-workers, default 2 here): two hosts and a
# container behind each, a local etcd, our flanneld on both. Checks:
#   - the start-up line "udp backend: 2 workers (-udp-workers=2)…";
#   - flannel0 is a multi-queue TUN (IFF_MULTI_QUEUE in /sys/class/net/flannel0/tun_flags)
#     whose 2 queues are attached (the second TUNSETIFF succeeded: numqueues in `ip -d`);
#   - 12 parallel TCP streams container 1 → container 2 arrive intact (sha256 per stream,
#     STREAM_MB each, default 8);
#   - host 1 sent datagrams from port 7890 (worker 0) and from another port (worker 1), all
#     to port 7890;
#   - with several workers, both directions of a flow meet on one worker on each host (the
#     reuseport steering hash is symmetric and the TUN sends a flow out through the queue
#     its replies came in on): 200 pings, then one TCP stream; on each host the worker that
#     sent a flow's datagrams also wrote its replies into flannel0, and no other worker
#     moved more than 1 % of them (per-worker counters before and after);
#   - every worker of both hosts moved packets (/metrics scraped before SIGTERM, the
#     flannel_udp_forwarder_*_total{worker} families through lab_udp_counters: workers=2,
#     worker0_packets, worker1_packets > 0, and their sum is the total).
#   - with OFFLOADS=all: after host 1's underlay MTU drops below flannel0's, TCP still
#     arrives intact and the workers' "TUN TSO/USO off" warning is logged while running.
# Usage: Scripts/udp-workers-check.sh [path/to/flanneld]   (WORKERS=N to try another count)
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/lab.sh
lab_use_flanneld "${1:-}"
trap lab_cleanup EXIT

N=2
WORKERS=${WORKERS:-2}
STREAMS=12
STREAM_MB=${STREAM_MB:-8}
OFFLOADS=${OFFLOADS:-none}
PREFIX=/coreos.com/network
HEALTHZ_PORT=9103
lab_underlay $N
lab_containers $N
h1=$(lab_host 1) h2=$(lab_host 2)
lab_etcd "$h1"
ip netns exec "$h1" env ETCDCTL_API=3 etcdctl put $PREFIX/config \
  '{"Network":"10.1.0.0/16","Backend":{"Type":"udp","Port":7890}}' >/dev/null

# No iptables rules (not what this checks): iptables takes a machine-wide lock, which would
# slow timing-sensitive iptables tests running next to this one.
declare -a PIDS
for i in $(seq $N); do
  mkdir -p "$LAB_DIR/h$i"
  lab_flanneld "$(lab_host "$i")" "flanneld-h$i" \
    -etcd-endpoints=http://192.168.77.11:2379 -etcd-prefix=$PREFIX -iface=eth0 \
    -udp-workers="$WORKERS" -udp-offloads="$OFFLOADS" -subnet-file="$LAB_DIR/h$i/subnet.env" \
    -iptables-forward-rules=false -healthz-ip=127.0.0.1 -healthz-port=$HEALTHZ_PORT
  PIDS[$i]=$LAB_LAST_PID
done
fail() { for i in $(seq $N); do echo "--- flanneld h$i"; tail -30 "$LAB_DIR/flanneld-h$i.log" || true; done; lab_fail "$*"; }
for i in $(seq $N); do
  lab_wait 30 "subnet.env on host $i" test -s "$LAB_DIR/h$i/subnet.env"
  lab_container_attach_env "$i" "$LAB_DIR/h$i/subnet.env"
done
c1=$(lab_container_ip 1) c2=$(lab_container_ip 2)

# --- the device and the start-up line -----------------------------------------------------
for i in $(seq $N); do
  line=$(grep -oE "udp backend: $WORKERS workers? \(-udp-workers=$WORKERS\).*" "$LAB_DIR/flanneld-h$i.log") ||
    fail "host $i: no start-up line for $WORKERS workers"
  flags=$(ip netns exec "$(lab_host "$i")" cat /sys/class/net/flannel0/tun_flags)
  # IFF_MULTI_QUEUE only with several workers: one worker is the single-queue TUN as before.
  [ $(((flags & 0x100) != 0)) = $((WORKERS > 1)) ] ||
    fail "host $i: flannel0 tun_flags $flags with $WORKERS workers"
  details=$(ip -n "$(lab_host "$i")" -d link show flannel0)
  if grep -q "numqueues" <<<"$details"; then
    grep -q "numqueues $WORKERS " <<<"$details" || fail "host $i: $details"
  fi
done
lab_log "ok: $line"
lab_log "ok: flannel0 tun_flags $flags$(grep -o ' numqueues [0-9]*' <<<"$details" || true)"

ip netns exec "$(lab_container 1)" ping -q -c 3 -i 0.2 -W 2 "$c2" >/dev/null || fail "ping 1→2"
ip netns exec "$(lab_container 2)" ping -q -c 3 -i 0.2 -W 2 "$c1" >/dev/null || fail "ping 2→1"
lab_log "ok: container ping both ways"

# streams COUNT PORT: COUNT parallel TCP streams of STREAM_MB MB container 1 → container 2, each
# checked by its sha256 at both ends.
streams() {
  local count=$1 port=$2
  ip netns exec "$(lab_container 2)" python3 - "$port" "$count" >"$LAB_DIR/recv.sha" <<'PY' &
import hashlib, socket, sys, threading
s = socket.create_server(("0.0.0.0", int(sys.argv[1])), backlog=64); s.settimeout(120)
results = []
def read(c):
    h = hashlib.sha256(); n = 0
    while True:
        b = c.recv(1 << 16)
        if not b: break
        h.update(b); n += len(b)
    c.close(); results.append(f"{n} {h.hexdigest()}")
threads = []
for _ in range(int(sys.argv[2])):
    c, _ = s.accept(); t = threading.Thread(target=read, args=(c,)); t.start(); threads.append(t)
for t in threads: t.join()
print("\n".join(sorted(results)))
PY
  RECV=$!; LAB_PIDS+=("$RECV")
  lab_wait 10 "receiver listening" ip netns exec "$(lab_container 2)" bash -c "ss -ltn | grep -q :$port"
  ip netns exec "$(lab_container 1)" python3 - "$c2" "$port" "$count" "$STREAM_MB" >"$LAB_DIR/send.sha" <<'PY'
import hashlib, os, socket, sys, threading
results = []
def send(i):
    data = bytes([i]) * 16 + os.urandom(int(sys.argv[4]) << 20)
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=120)
    c.sendall(data); c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
    results.append(f"{len(data)} {hashlib.sha256(data).hexdigest()}")
threads = [threading.Thread(target=send, args=(i,)) for i in range(int(sys.argv[3]))]
for t in threads: t.start()
for t in threads: t.join()
print("\n".join(sorted(results)))
PY
  wait "$RECV" || fail "TCP receiver"
  lab_forget_pid "$RECV"
  [ "$(wc -l <"$LAB_DIR/send.sha")" = "$count" ] || fail "sender finished $(wc -l <"$LAB_DIR/send.sha") of $count streams"
  cmp -s "$LAB_DIR/send.sha" "$LAB_DIR/recv.sha" || fail "TCP streams differ: sent $(cat "$LAB_DIR/send.sha"), received $(cat "$LAB_DIR/recv.sha")"
}

# --- both directions of one flow on one worker ---------------------------------------------
# one_worker_per_host WHAT MIN: per host, the worker with the most datagrams sent since the
# last remember_counters must have made the writes into flannel0 and sent the datagrams, at
# least MIN of each (with TUN offloads a write may carry many packets); the other workers at
# most 1 % or 2 of either (a stray packet of the lab's own).
declare -A SEEN=()
counters_now() { # HOST_INDEX → prints "w sent written" per worker
  rm -f "$LAB_DIR/h$1/snapshot"
  lab_udp_counters "$(lab_host "$1")" "$HEALTHZ_PORT" "$LAB_DIR/h$1/snapshot"
  [ -s "$LAB_DIR/h$1/snapshot" ] || fail "host $1: no udp forwarder counters on /metrics"
  awk -F= '/^worker[0-9]+_udp_sent=/ { w = $1; sub(/^worker/, "", w); sub(/_udp_sent/, "", w); s[w] = $2 }
    /^worker[0-9]+_tun_written=/ { w = $1; sub(/^worker/, "", w); sub(/_tun_written/, "", w); t[w] = $2 }
    END { for (w in s) print w, s[w], t[w] }' "$LAB_DIR/h$1/snapshot" | sort -k1,1
}
remember_counters() {
  local i
  for i in $(seq $N); do SEEN[$i]=$(counters_now "$i"); done
}
one_worker_per_host() { # WHAT MIN
  local i deltas
  for i in $(seq $N); do
    deltas=$(join <(echo "${SEEN[$i]}") <(counters_now "$i") | awk '{ print $1, $4 - $2, $5 - $3 }')
    awk -v min="$2" '
      { if ($2 > bs) { bs = $2; bw = $1; bt = $3 }; s += $2; t += $3 }
      function few(rest, all) { return rest <= 2 || rest <= 0.01 * all }
      END { exit !(bs >= min && bt >= min && few(s - bs, s) && few(t - bt, t)) }' <<<"$deltas" ||
      fail "host $i: $1 not on one worker (worker sent written): $(tr '\n' ';' <<<"$deltas")"
    lab_log "ok: host $i: $1 on one worker (worker sent written): $(tr '\n' ';' <<<"$deltas")"
  done
}
if [ "$WORKERS" -gt 1 ]; then
  remember_counters
  ip netns exec "$(lab_container 1)" ping -q -c 200 -i 0.01 -W 1 "$c2" >/dev/null || fail "200 pings 1→2"
  # 195: a lost ping or two (ping still succeeds) is not what this checks.
  one_worker_per_host "200 pings, requests and replies" 195
  remember_counters
  STREAM_MB=4 streams 1 5003
  one_worker_per_host "one TCP stream, data and acknowledgements" 20
fi

# --- parallel TCP streams, captured on host 1's underlay ----------------------------------
ip netns exec "$h1" tcpdump -i eth0 --immediate-mode -U -n -s 64 -w "$LAB_DIR/udp.pcap" \
  udp and src host 192.168.77.11 2>"$LAB_DIR/udp.pcap.log" &
CAPTURE=$!; LAB_PIDS+=("$CAPTURE")
lab_wait 5 "tcpdump" grep -q "listening on" "$LAB_DIR/udp.pcap.log"

streams "$STREAMS" 5001
sleep 0.3 # let tcpdump write its last packets (-U: each one is flushed as it is written)
# A test runner may start us with SIGINT ignored, which tcpdump inherits: SIGKILL after 2 s.
kill -INT "$CAPTURE"
for _ in $(seq 20); do kill -0 "$CAPTURE" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$CAPTURE" 2>/dev/null || true
wait "$CAPTURE" 2>/dev/null || true; lab_forget_pid "$CAPTURE"
lab_log "ok: $STREAMS parallel TCP streams ($((STREAMS * STREAM_MB)) MB) arrived intact"

ports=$(ip netns exec "$h1" tcpdump -r "$LAB_DIR/udp.pcap" -n 2>/dev/null |
  awk '{ split($3, a, "."); split($5, b, "."); print a[5], b[5] }' | sort | uniq -c)
grep -q " 7890 7890:$" <<<"$ports" || fail "no datagram from port 7890 to 7890: $ports"
if [ "$WORKERS" -gt 1 ]; then
  others=$(awk '$2 != 7890 && $3 == "7890:"' <<<"$ports" | wc -l)
  [ "$others" -ge 1 ] || fail "host 1 sent from port 7890 only: $ports"
fi
awk '$3 != "7890:" { exit 1 }' <<<"$ports" || fail "a datagram to another port than 7890: $ports"
lab_log "ok: host 1 sent from $(awk '{ printf "%s%s (%s datagrams)", sep, $2, $1; sep=", " }' <<<"$ports"), all to 7890"

# --- an offload that turns itself off at run time is logged then -------------------------
if [ "$OFFLOADS" != none ]; then
  # Host 1's underlay MTU below flannel0's: GSO sends of full-size segments are refused, and
  # the workers turn TUN TSO/USO off while running (the kernel segments from then on).
  ip -n "$h1" link set eth0 mtu 1400
  streams 4 5002
  lab_log "ok: 4 TCP streams intact after host 1's underlay MTU dropped to 1400"
  lab_wait 5 "the run-time offload warning" grep -q "^W.*udp backend: .*TUN TSO/USO off" \
    "$LAB_DIR/flanneld-h1.log"
  lab_log "ok: logged while running: $(grep -o "^W.*udp backend: .*TUN TSO/USO off" "$LAB_DIR/flanneld-h1.log" | head -1 | cut -d" " -f2,5-)"
fi

# --- per-worker counters ------------------------------------------------------------------
for i in $(seq $N); do
  file="$LAB_DIR/h$i/counters"
  lab_udp_counters "$(lab_host "$i")" "$HEALTHZ_PORT" "$file"
  lab_stop "${PIDS[$i]}"; lab_forget_pid "${PIDS[$i]}"
  [ "$LAB_STATUS" = 0 ] || fail "flanneld h$i exited $LAB_STATUS on SIGTERM"
  [ -s "$file" ] || fail "host $i: no udp forwarder counters on /metrics"
  value() { sed -n "s/^$1=//p" "$file"; }
  [ "$(value workers)" = "$WORKERS" ] || fail "host $i: workers=$(value workers) in $(cat "$file")"
  sum=0 summary=""
  for w in $(seq 0 $((WORKERS - 1))); do
    moved=$(value "worker${w}_packets")
    [ -n "$moved" ] && [ "$moved" -gt 0 ] || fail "host $i: worker $w moved no packets: $(cat "$file")"
    sum=$((sum + moved)) summary="$summary worker$w=$moved"
  done
  [ "$sum" = "$(value packets)" ] || fail "host $i: per-worker packets $summary do not add up to packets=$(value packets)"
  lab_log "ok: host $i: every worker moved packets:$summary (total $(value packets))"
done
lab_log "udp workers check ok"
