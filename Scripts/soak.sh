#!/usr/bin/env bash
# Soak: three hosts with a container each, a local etcd and our flanneld (udp backend) on every
# host, run for a while under everything at once:
#   - TCP (c1→c2, c3→c1, 20 Mbit/s each) and UDP (c2→c3, 5 Mbit/s) between the containers the
#     whole time (iperf3);
#   - fake nodes' leases added, changed and deleted in etcd at 20 per second
#     (Scripts/lib/soak_churn.py; an operation that fails while etcd is down is retried after);
#   - etcd stopped for 10 s and started again on the same data dir, twice;
#   - host 3's daemon SIGKILLed and restarted;
#   - probe clients hammering every daemon's /healthz and /metrics, a new connection each,
#     1 s deadline for /healthz (Scripts/lib/soak_probe.py).
# It fails if
#   - a daemon exits when nobody killed it (or not with 0 on the final SIGTERM);
#   - one /healthz request misses its 1 s deadline or a /metrics request fails (5 s);
#   - RSS of a daemon that was not restarted grows by more than 4 MiB, or its open file
#     descriptors other than etcd connections grow at all, between the end of the first minute
#     and the end, or it holds more etcd connections at the end than the watch, one request
#     and the idle ones libcurl may keep (each sample: median RSS and fewest fds over 1 s, so a
#     probe connection in flight is not a leak; every look is logged in fds-h<i>.txt);
#   - at the end the udp route snapshot of any daemon differs from the final etcd table: the
#     subnets it forwards and each one's PublicIP, read off the wire (Scripts/lib/soak_routes.py
#     sends to every /24 of the Network from the host) against every lease in etcd but the
#     node's own; the table-size gauge in /metrics (flannel_udp_route_table_routes, else
#     flannel_leases_known) against the same count; flannel0 carries exactly the route to the
#     Network and its own /32; each node's own lease is still in etcd; the containers ping
#     each other;
#   - an iperf3 flow fails or delivers less than a quarter of its rate.
# Prints per daemon RSS/fds at start, after 1 min and at the end, probe latencies, lease events
# applied; then the churn, outage and traffic figures.
#
# Usage: Scripts/soak.sh [--seconds N] [path/to/flanneld]
#   --seconds N  length of the soak after setup, at least 100 (default 600; CI runs 120)
# FLANNELD_BINARY=path (or the argument) picks the binary, else a debug build of this checkout.
# Needs root (network namespaces), etcd, etcdctl, iperf3, curl, jq, python3. Everything runs in
# namespaces this script creates; logs are kept (path printed) when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C # "." in EPOCHREALTIME and awk

usage() { sed -n '/^# Usage:/,/^# Needs root/p' "$0" | sed 's/^# \{0,1\}//'; }
RUN=600
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) [ $# -ge 2 ] || { usage >&2; exit 2; }; RUN=$2; shift 2 ;;
    --seconds=*) RUN=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) printf 'unknown argument: %s\n' "$1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $RUN =~ ^[0-9]+$ ]] && [ "$RUN" -ge 100 ] ||
  { printf -- '--seconds must be a whole number of at least 100, not %s\n' "$RUN" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "soak.sh needs root (network namespaces)" >&2; exit 1; }
for tool in ip etcd etcdctl iperf3 curl jq python3; do
  command -v "$tool" >/dev/null || { echo "soak.sh needs $tool" >&2; exit 1; }
done

source Scripts/lib/lab.sh
lab_use_flanneld "${1:-}"
on_exit() {
  local status=$?
  if [ "$status" != 0 ]; then
    LAB_KEEP_DIR=1
    printf 'logs kept in %s\n' "$LAB_DIR" >&2
  fi
  lab_cleanup
}
trap on_exit EXIT
trap 'exit 130' INT TERM
here=Scripts/lib

N=3
PREFIX=/coreos.com/network
ETCD=http://192.168.77.11:2379
HEALTHZ=8471
# CurlMultiLoop.idleConnections; with the watch stream and one request in flight, the most
# etcd connections a daemon holds at rest.
ETCD_IDLE=4
MAX_ETCD_CONNS=$((ETCD_IDLE + 2))
RESTARTED=3
# Real nodes lease below 10.1.128.0; the churn owns 10.1.128.0–10.1.255.0.
CONFIG='{"Network":"10.1.0.0/16","SubnetMax":"10.1.127.0","Backend":{"Type":"udp","Port":7890}}'
# The schedule, in seconds from the start of the soak: outages and the kill never overlap
# each other or the 1-minute sample, and the last one ends at least 25 s before the end.
MINUTE=60
OUTAGE_1=$((RUN * 25 / 100))
KILL_AT=$((RUN * 45 / 100))
OUTAGE_2=$((RUN * 60 / 100 > 65 ? RUN * 60 / 100 : 65))
OUTAGE_LEN=10

h1=$(lab_host 1)
etcd_api() { # PATH JSON: a POST to the v3 JSON gateway from host 1
  ip netns exec "$h1" curl -sSf --max-time 5 -X POST "http://127.0.0.1:2379$1" -d "$2"
}
declare -a PIDS
start_node() { # I LOGNAME
  local i=$1
  mkdir -p "$LAB_DIR/h$i"
  lab_flanneld "$(lab_host "$i")" "$2" -etcd-endpoints=$ETCD -etcd-prefix=$PREFIX -iface=eth0 \
    -healthz-ip=127.0.0.1 -healthz-port=$HEALTHZ -subnet-file="$LAB_DIR/h$i/subnet.env"
  PIDS[$i]=$LAB_LAST_PID
}
logs_of() { # I: the daemon's log files (the restarted host has two)
  if [ "$1" = "$RESTARTED" ] && [ -f "$LAB_DIR/flanneld-h$1-restarted.log" ]; then
    echo "$LAB_DIR/flanneld-h$1.log $LAB_DIR/flanneld-h$1-restarted.log"
  else
    echo "$LAB_DIR/flanneld-h$1.log"
  fi
}
fail() {
  local i f
  for i in $(seq $N); do
    for f in $(logs_of "$i"); do echo "--- ${f##*/}"; tail -20 "$f" || true; done
  done
  lab_fail "$*"
}
healthz() { ip netns exec "$(lab_host "$1")" curl -sf --max-time 1 "http://127.0.0.1:$HEALTHZ/healthz"; }
metric() { # I NAME: the value, empty when the daemon does not publish NAME
  ip netns exec "$(lab_host "$1")" curl -sf --max-time 5 "http://127.0.0.1:$HEALTHZ/metrics" |
    awk -v m="$2" '$1 == m { print $2 }'
}
alive() { # PID: running (a zombie is dead)
  [ -r "/proc/$1/stat" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# --- the lab ----------------------------------------------------------------------------------
lab_log "lab: $N hosts, a container each, etcd on host 1, flanneld $FLANNELD (udp)"
lab_underlay $N
lab_containers $N
lab_etcd "$h1"
ip netns exec "$h1" env ETCDCTL_API=3 etcdctl put $PREFIX/config "$CONFIG" >/dev/null
for i in $(seq $N); do start_node "$i" "flanneld-h$i"; done
for i in $(seq $N); do
  lab_wait 30 "subnet.env on host $i" test -s "$LAB_DIR/h$i/subnet.env"
  lab_container_attach_env "$i" "$LAB_DIR/h$i/subnet.env"
  lab_wait 10 "/healthz on host $i" healthz "$i"
done
ping_mesh() {
  local i j
  for i in $(seq $N); do
    for j in $(seq $N); do
      [ "$i" = "$j" ] && continue
      ip netns exec "$(lab_container "$i")" ping -q -c 2 -i 0.2 -W 2 "$(lab_container_ip "$j")" >/dev/null || return 1
    done
  done
}
deadline=$((SECONDS + 20))
until ping_mesh; do [ "$SECONDS" -lt "$deadline" ] || fail "container ping mesh incomplete"; sleep 0.2; done
lab_log "ok: leases $(for i in $(seq $N); do printf '%s ' "$(cat "$LAB_DIR/container-$i.subnet")"; done)and a full ping mesh"

# --- samples of RSS and descriptors ----------------------------------------------------------
# Descriptors come in two kinds: etcd connections (libcurl's pool: as many as requests ran at
# once lately, up to the daemon's cap) and the rest (must not grow at all).
declare -A RSS FDS ETCD_CONNS
sample() { # LABEL I...: median VmRSS (KiB), fewest other fds and etcd connections over 5 looks in 1 s
  local label=$1 i k pid r e f detail; shift
  declare -A rs fs es
  for k in 1 2 3 4 5; do
    for i in "$@"; do
      pid=${PIDS[$i]}
      r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || r=""
      [ -n "$r" ] || fail "host $i: daemon $pid gone while sampling"
      read -r e f detail < <(python3 $here/soak_fds.py "$pid" 2379) ||
        fail "host $i: daemon $pid gone while sampling"
      echo "$label look $k: $detail" >>"$LAB_DIR/fds-h$i.txt"
      rs[$i]+="$r " fs[$i]+="$f " es[$i]+="$e "
    done
    [ "$k" = 5 ] || sleep 0.2
  done
  for i in "$@"; do
    RSS[$label,$i]=$(tr ' ' '\n' <<<"${rs[$i]}" | grep . | sort -n | sed -n 3p)
    FDS[$label,$i]=$(tr ' ' '\n' <<<"${fs[$i]}" | grep . | sort -n | head -1)
    ETCD_CONNS[$label,$i]=$(tr ' ' '\n' <<<"${es[$i]}" | grep . | sort -n | head -1)
  done
}

# --- load --------------------------------------------------------------------------------------
# Probe clients: 2 threads on /healthz and 1 on /metrics per daemon, 10 ms between requests.
for i in $(seq $N); do
  mkdir -p "$LAB_DIR/probe-h$i"
  lab_spawn "$(lab_host "$i")" "$LAB_DIR/probe-h$i.log" \
    python3 $here/soak_probe.py 127.0.0.1 $HEALTHZ "$LAB_DIR/probe-h$i" "$LAB_DIR/probe-h$i.json" 2 1 10
done
# Fake leases hang on one etcd lease, as stock's do on theirs (a day: nothing expires here).
lease_id=$(etcd_api /v3/lease/grant '{"TTL":86400}' | jq -er .ID) || fail "granting an etcd lease"
mkdir -p "$LAB_DIR/churn"
lab_spawn "$h1" "$LAB_DIR/churn.log" \
  python3 $here/soak_churn.py http://127.0.0.1:2379 $PREFIX "$lease_id" 20 "$LAB_DIR/churn" "$LAB_DIR/churn.json"
CHURN=$LAB_LAST_PID
# Traffic: one iperf3 server per flow, one-off; the clients run a little longer than the soak.
declare -A FLOW_PID
flow() { # NAME FROM TO PORT ARGS...
  local name=$1 from=$2 to=$3 port=$4; shift 4
  lab_spawn "$(lab_container "$to")" "$LAB_DIR/iperf-$name-server.log" iperf3 -s -1 -p "$port"
  lab_wait 5 "iperf3 server $name" ip netns exec "$(lab_container "$to")" bash -c "ss -ltn | grep -q :$port"
  lab_spawn "$(lab_container "$from")" "$LAB_DIR/iperf-$name.json" \
    iperf3 -c "$(lab_container_ip "$to")" -p "$port" -t $((RUN + 5)) -J "$@"
  FLOW_PID[$name]=$LAB_LAST_PID
}
flow tcp-1-2 1 2 5201 -b 20M
flow tcp-3-1 3 1 5202 -b 20M
flow udp-2-3 2 3 5203 -u -b 5M -l 1200
lab_log "load: probes on every daemon, lease churn at 20/s, TCP 1→2 and 3→1, UDP 2→3"

sample start 1 2 3
t0=$(now_ms)
elapsed() { echo $(( ($(now_ms) - t0) / 1000 )); }
phase_log() { lab_log "t=$(elapsed)s: $*"; }
minute_done="" out1="" out2="" killed=""
outage() { # STATE_VAR AT: stop etcd at AT, start it again OUTAGE_LEN later
  local var=$1 at=$2 el=$3
  case ${!var} in
    "") if [ "$el" -ge "$at" ]; then lab_etcd_stop; printf -v "$var" stopped; phase_log "etcd stopped"; fi ;;
    stopped) if [ "$el" -ge $((at + OUTAGE_LEN)) ]; then lab_etcd "$h1"; printf -v "$var" done; phase_log "etcd started again"; fi ;;
  esac
}
lab_log "soak: ${RUN}s; etcd down at ${OUTAGE_1}s and ${OUTAGE_2}s for ${OUTAGE_LEN}s each, host $RESTARTED's daemon SIGKILLed at ${KILL_AT}s"
while :; do
  el=$(elapsed)
  [ "$el" -lt "$RUN" ] || break
  for i in $(seq $N); do alive "${PIDS[$i]}" || fail "host $i: flanneld exited unexpectedly at t=${el}s"; done
  alive "$CHURN" || fail "the lease churn stopped (see $LAB_DIR/churn.log)"
  for name in "${!FLOW_PID[@]}"; do alive "${FLOW_PID[$name]}" || fail "iperf3 $name ended early: $(head -c 600 "$LAB_DIR/iperf-$name.json")"; done
  if [ -z "$minute_done" ] && [ "$el" -ge $MINUTE ]; then
    sample minute 1 2 3; minute_done=1; phase_log "1-minute sample taken"
  fi
  outage out1 $OUTAGE_1 "$el"
  outage out2 $OUTAGE_2 "$el"
  if [ -z "$killed" ] && [ "$el" -ge $KILL_AT ]; then
    # Pause that daemon's probes first (a request in flight ends within its 1 s deadline).
    touch "$LAB_DIR/probe-h$RESTARTED/pause"; sleep 1.1
    kill -KILL "${PIDS[$RESTARTED]}"; wait "${PIDS[$RESTARTED]}" 2>/dev/null || true
    lab_forget_pid "${PIDS[$RESTARTED]}"
    killed_ms=$(now_ms)
    start_node $RESTARTED "flanneld-h$RESTARTED-restarted"
    lab_wait 30 "/healthz of the restarted daemon" healthz $RESTARTED
    lab_wait 30 "the restarted daemon's sync" grep -q "Synced" "$LAB_DIR/flanneld-h$RESTARTED-restarted.log"
    back_ms=$(( $(now_ms) - killed_ms ))
    rm "$LAB_DIR/probe-h$RESTARTED/pause"
    killed=1; phase_log "host $RESTARTED's daemon SIGKILLed and restarted; /healthz and synced after $back_ms ms"
  fi
  sleep 0.5
done
sample end 1 2 3
lab_log "t=$(elapsed)s: end sample taken; stopping the churn"

# --- the end -----------------------------------------------------------------------------------
touch "$LAB_DIR/churn/stop"
wait "$CHURN" || fail "the lease churn failed: $(tail -5 "$LAB_DIR/churn.log")"
lab_forget_pid "$CHURN"
for name in "${!FLOW_PID[@]}"; do
  wait "${FLOW_PID[$name]}" || fail "iperf3 $name failed: $(head -c 600 "$LAB_DIR/iperf-$name.json")"
  lab_forget_pid "${FLOW_PID[$name]}"
done
for i in $(seq $N); do alive "${PIDS[$i]}" || fail "host $i: flanneld exited unexpectedly"; done

# The final table in etcd: {"10.1.X.0/24": "PublicIP"} for every lease.
etcd_table() {
  etcd_api /v3/kv/range "{\"key\":\"$(printf %s "$PREFIX/subnets/" | base64 -w0)\",\"range_end\":\"$(printf %s "$PREFIX/subnets0" | base64 -w0)\"}" |
    jq -cS '[.kvs[]? | {key: (.key | @base64d | sub(".*/"; "") | sub("-"; "/")), value: (.value | @base64d | fromjson | .PublicIP)}] | from_entries'
}
table=$(etcd_table) || fail "reading the leases from etcd"
total=$(jq length <<<"$table")
gauge=flannel_udp_route_table_routes
[ -n "$(metric 1 $gauge)" ] || gauge=flannel_leases_known
for i in $(seq $N); do
  own=$(cat "$LAB_DIR/container-$i.subnet")
  [ "$(jq -r --arg s "$own" '.[$s] // ""' <<<"$table")" = "192.168.77.$((10 + i))" ] ||
    fail "host $i: its own lease $own is not in etcd with PublicIP 192.168.77.$((10 + i))"
  expected=$(jq -cS --arg s "$own" 'del(.[$s])' <<<"$table")
  want=$((total - 1))
  deadline=$((SECONDS + 30))
  until [ "$(metric "$i" $gauge)" = "$want" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "host $i: $gauge is $(metric "$i" $gauge), etcd holds $want leases of other nodes"
    sleep 0.2
  done
  x=$(cut -d. -f3 <<<"$own")
  for attempt in 1 2 3; do
    seen=$(ip netns exec "$(lab_host "$i")" python3 $here/soak_routes.py eth0 7890 10.1 "$x" | jq -cS .) ||
      fail "host $i: reading the route snapshot off the wire"
    [ "$seen" != "$expected" ] || break
    [ "$attempt" != 3 ] || {
      diff <(jq -S . <<<"$expected") <(jq -S . <<<"$seen") | head -20 || true
      fail "host $i: the subnets it forwards (+) differ from etcd's table (-)"
    }
    sleep 1
  done
  routes=$(ip -n "$(lab_host "$i")" -j route show dev flannel0 | jq -c 'map(.dst)')
  [ "$routes" = '["10.1.0.0/16"]' ] || fail "host $i: routes on flannel0 are $routes, not [\"10.1.0.0/16\"]"
  addrs=$(ip -n "$(lab_host "$i")" -j addr show dev flannel0 | jq -c '[.[0].addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"]')
  [ "$addrs" = "[\"${own%/*}/32\"]" ] || fail "host $i: flannel0 has $addrs, not ${own%/*}/32"
done
lab_log "ok: every daemon forwards exactly etcd's $total leases but its own, each to its PublicIP ($gauge = $((total - 1)))"
ping_mesh || fail "container ping mesh broken at the end"
lab_log "ok: full ping mesh at the end"

# Probes last: they ran through the checks too.
for i in $(seq $N); do touch "$LAB_DIR/probe-h$i/stop"; done
for i in $(seq $N); do lab_wait 10 "probe results of host $i" test -s "$LAB_DIR/probe-h$i.json"; done
for i in $(seq $N); do
  lab_stop "${PIDS[$i]}"; lab_forget_pid "${PIDS[$i]}"
  [ "$LAB_STATUS" = 0 ] || fail "host $i: flanneld exited $LAB_STATUS on SIGTERM"
done

# --- the table ---------------------------------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
probe() { # I PATH FIELD
  jq -r --arg p "$2" --arg f "$3" '.[$p][$f] // "-"' "$LAB_DIR/probe-h$1.json"
}
latencies() { # I PATH: "requests misses p50/p99/max"
  jq -r --arg p "$2" '.[$p] | "\(.requests) \(.misses) \(.p50_ms)/\(.p99_ms)/\(.max_ms)"' "$LAB_DIR/probe-h$1.json"
}
events() { # I: lease events the daemon logged (added/removed), all its processes
  cat $(logs_of "$1") | grep -cE "Subnet (added|removed): " || true
}
echo
echo "soak: ${RUN}s, flanneld $FLANNELD"
fmt='%-10s %-17s %-12s %-9s %-36s %-36s %6s\n'
# shellcheck disable=SC2059
printf "$fmt" daemon "RSS MiB 0/1m/end" "fds 0/1m/end" "etcd conn" "/healthz n miss p50/p99/max ms" "/metrics n miss p50/p99/max ms" events
for i in $(seq $N); do
  name="h$i"; [ "$i" = "$RESTARTED" ] && name="h$i (kill)"
  # shellcheck disable=SC2059
  printf "$fmt" "$name" \
    "$(mib "${RSS[start,$i]}")/$(mib "${RSS[minute,$i]}")/$(mib "${RSS[end,$i]}")" \
    "${FDS[start,$i]}/${FDS[minute,$i]}/${FDS[end,$i]}" \
    "${ETCD_CONNS[start,$i]}/${ETCD_CONNS[minute,$i]}/${ETCD_CONNS[end,$i]}" \
    "$(latencies "$i" /healthz)" "$(latencies "$i" /metrics)" \
    "$(events "$i")"
done
echo "RSS: median VmRSS of 5 looks in 1 s; fds: fewest open descriptors but etcd connections of"
echo "those looks; etcd conn: fewest TCP connections to etcd of those looks (0/1m/end). Probes:"
echo "a new connection per request, latency from connect to the whole answer; miss: no 200 within"
echo "1 s (/healthz) or 5 s (/metrics). events: lease events (Subnet added/removed) it logged."
jq -r '"lease churn: \(.adds) added, \(.changes) changed, \(.deletes) deleted; \(.retried_ops) operations retried after etcd came back (\(.failed_attempts) failed attempts, longest \(.longest_retry_s) s); \(.fake_leases_at_end) fake leases at the end"' "$LAB_DIR/churn.json"
which="end sample is"
[ "$KILL_AT" -ge $MINUTE ] || which="1m and end samples are"
echo "etcd stopped twice for ${OUTAGE_LEN}s; h$RESTARTED SIGKILLed at ${KILL_AT}s, /healthz and synced again after $back_ms ms (its $which of the new process)"
for name in tcp-1-2 tcp-3-1; do
  jq -r --arg n "$name" '"\($n): \(.end.sum_received.bits_per_second / 1e6 * 10 | round / 10) Mbit/s received, \(.end.sum_sent.retransmits) retransmits"' "$LAB_DIR/iperf-$name.json"
done
jq -r '"udp-2-3: \(.end.sum.bits_per_second / 1e6 * 10 | round / 10) Mbit/s, \(.end.sum.lost_packets) of \(.end.sum.packets) lost (\(.end.sum.lost_percent * 100 | round / 100) %)"' "$LAB_DIR/iperf-udp-2-3.json"

# --- verdicts ------------------------------------------------------------------------------------
bad=()
for i in $(seq $N); do
  misses=$(probe "$i" /healthz misses)
  [ "$misses" = 0 ] || bad+=("h$i: $misses /healthz requests missed the 1 s deadline, first: $(jq -c '."/healthz".first_misses[:3]' "$LAB_DIR/probe-h$i.json")")
  misses=$(probe "$i" /metrics misses)
  [ "$misses" = 0 ] || bad+=("h$i: $misses /metrics requests failed, first: $(jq -c '."/metrics".first_misses[:3]' "$LAB_DIR/probe-h$i.json")")
  [ "$i" != "$RESTARTED" ] || continue
  grew=$((RSS[end,$i] - RSS[minute,$i]))
  [ "$grew" -le 4096 ] || bad+=("h$i: RSS grew by $(mib "$grew") MiB after the first minute")
  [ "${FDS[end,$i]}" -le "${FDS[minute,$i]}" ] || bad+=("h$i: open fds other than etcd connections grew from ${FDS[minute,$i]} to ${FDS[end,$i]} after the first minute (every look: $LAB_DIR/fds-h$i.txt)")
  [ "${ETCD_CONNS[end,$i]}" -le $MAX_ETCD_CONNS ] || bad+=("h$i: ${ETCD_CONNS[end,$i]} etcd connections open at the end, more than the watch, a request and the $ETCD_IDLE idle ones curl may keep (every look: $LAB_DIR/fds-h$i.txt)")
done
for name in tcp-1-2 tcp-3-1; do
  jq -e '.end.sum_received.bits_per_second >= 5e6' "$LAB_DIR/iperf-$name.json" >/dev/null || bad+=("$name: under 5 Mbit/s of 20")
done
jq -e '.end.sum.bits_per_second >= 1.25e6' "$LAB_DIR/iperf-udp-2-3.json" >/dev/null || bad+=("udp-2-3: under 1.25 Mbit/s of 5")
if [ ${#bad[@]} -gt 0 ]; then
  printf 'FAIL: %s\n' "${bad[@]}" >&2
  exit 1
fi
lab_log "soak ok (${RUN}s)"
