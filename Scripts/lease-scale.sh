#!/usr/bin/env bash
# Lease-table scale check (a script, not a timed test). For each backend, etcd API and N it
# writes the network config and N leases of other nodes straight into etcd, in the form stock
# flanneld writes them for that backend, starts one flanneld node against them and measures
#   - sync s: from process start until ALL N leases have their kernel objects (vxlan: route,
#     neighbour and FDB entry on flannel.1; host-gw: route via the node; udp: the forwarders'
#     route table, /metrics flannel_udp_route_table_routes), and flanneld's own "Synced N
#     leases … in X" figure;
#   - RSS and VmHWM MiB, and CPU s (utime + stime), read from /proc the moment sync was seen;
#   - add / delete ms: 20 single lease writes, then 20 deletes, each from the moment the etcd
#     write's HTTP response is read until the kernel object is there / gone (netlink
#     notifications, for udp the route-table generation gauge on /metrics), median and max;
#     below 0 when flanneld, told by its etcd watch, was done before the response was read;
#   - per lease: sync µs/lease = (sync(N) - sync(0)) / N and RSS KiB/lease = (RSS(N) -
#     RSS(0)) / N, where N = 0 is a run of the same daemon, backend and API with no leases
#     (the "0" row): what each lease adds, without the fixed start-up cost, so the column
#     stays flat while the cost is linear and grows where it is not. Runs with N <= 1000
#     (the "0" row included) are repeated --samples times: there a few hundred KiB of noise
#     between two processes is as large as what the leases add, so the per-lease figures use
#     the medians of sync s and RSS, and the row shown is the run with the median RSS.
# The exit status is non-zero only when something did not work (flanneld died, an object never
# appeared, a timeout, an etcd write failed); the figures are only printed.
#
# Usage: Scripts/lease-scale.sh [--backend LIST] [--api v3|v2|both] [-n LIST] [--events K]
#                               [--samples K] [--out FILE.csv] [--timeout S]
#   --backend  vxlan, host-gw, udp or a comma list (default vxlan,host-gw,udp)
#   --api      v3, v2, both or a comma list (default both)
#   -n         lease counts, one number or a comma list (default 1000,5000,20000)
#   --events   lease adds and deletes timed per run (default 20)
#   --samples  runs of each N <= 1000 and of the "0" row, for medians (default 3)
#   --out      CSV of every figure (default /tmp/lease-scale-<time>.csv)
#   --timeout  seconds a sync may take before the run fails (default 600)
#   --quick    -n 500 --events 5, for a quick check
# FLANNELD_BINARY=path skips the release build (Scripts/build-release.sh). Needs root
# (network namespaces), etcd, etcdctl, curl, jq and python3. Everything runs in namespaces
# this script creates, over loopback; the lab host's underlay is a /16 there, so that every
# lease's PublicIP 192.168.X.Y is on-link (host-gw cannot route via anything else).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C # "." as the decimal point in EPOCHREALTIME, date and awk

usage() { sed -n '/^# Usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

backends=vxlan,host-gw,udp
apis=both
counts=1000,5000,20000
events=20
samples=3
out=""
timeout=600
need_value() { [ "$2" -ge 2 ] || { printf '%s needs a value\n' "$1" >&2; usage >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case $1 in
    --backend | --api | -n | --events | --samples | --out | --timeout)
      need_value "$1" $#
      case $1 in
        --backend) backends=$2 ;; --api) apis=$2 ;; -n) counts=$2 ;;
        --events) events=$2 ;; --samples) samples=$2 ;; --out) out=$2 ;; --timeout) timeout=$2 ;;
      esac
      shift 2 ;;
    --backend=*) backends=${1#*=}; shift ;;
    --api=*) apis=${1#*=}; shift ;;
    -n=* | --n=*) counts=${1#*=}; shift ;;
    --events=*) events=${1#*=}; shift ;;
    --samples=*) samples=${1#*=}; shift ;;
    --out=*) out=${1#*=}; shift ;;
    --timeout=*) timeout=${1#*=}; shift ;;
    --quick) counts=500 events=5; shift ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'unknown argument: %s\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
done

# Leases use 10.X.Y.0/24 and PublicIP 192.168.X.Y with X = 100 + i/256 (X <= 254), far from
# the node's own 192.168.77.11; the events take the indices after N (one more in case the
# node's own subnet lies among them).
[[ $events =~ ^[0-9]+$ ]] && [ "$events" -ge 1 ] && [ "$events" -le 100 ] ||
  { printf -- '--events must be a number from 1 to 100, not %s\n' "$events" >&2; exit 2; }
max_count=$((155 * 256 - events - 1))
[[ $samples =~ ^[0-9]+$ ]] && [ "$samples" -ge 1 ] && [ "$samples" -le 9 ] ||
  { printf -- '--samples must be a number from 1 to 9, not %s\n' "$samples" >&2; exit 2; }
[[ $timeout =~ ^[0-9]+$ ]] && [ "$timeout" -ge 1 ] ||
  { printf -- '--timeout must be a whole number of seconds, not %s\n' "$timeout" >&2; exit 2; }
list() { tr ',' ' ' <<<"$1"; }
[[ $backends =~ [^,] ]] || { echo "--backend must name at least one backend" >&2; exit 2; }
for backend in $(list "$backends"); do
  case $backend in
    vxlan | host-gw | udp) ;;
    *) printf -- '--backend must be vxlan, host-gw, udp or a comma list of them, not %s\n' "$backend" >&2; exit 2 ;;
  esac
done
[ "$apis" = both ] && apis=v3,v2
[[ $apis =~ [^,] ]] || { echo "--api must name at least one API" >&2; exit 2; }
for api in $(list "$apis"); do
  case $api in
    v3 | v2) ;;
    *) printf -- '--api must be v3, v2, both or a comma list, not %s\n' "$api" >&2; exit 2 ;;
  esac
done
[[ $counts =~ [^,] ]] || { echo "-n must name at least one lease count" >&2; exit 2; }
for count in $(list "$counts"); do
  [[ $count =~ ^[0-9]+$ ]] && [ "$count" -ge 1 ] && [ "$count" -le "$max_count" ] ||
    { printf -- '-n must be numbers from 1 to %d (one, or a comma list), not %s\n' "$max_count" "$count" >&2; exit 2; }
done
# Numeric order, so the per-lease columns read as a curve.
counts=$(list "$counts" | tr ' ' '\n' | sort -n | uniq | tr '\n' ' ')
out=${out:-/tmp/lease-scale-$(date -u +%Y%m%dT%H%M%SZ).csv}
: >"$out" 2>/dev/null || { printf -- '--out: cannot write %s\n' "$out" >&2; exit 2; }

[ "$(id -u)" = 0 ] || { echo "lease-scale.sh needs root (network namespaces)" >&2; exit 1; }
for tool in ip etcd etcdctl curl jq awk python3; do
  command -v "$tool" >/dev/null || { echo "lease-scale.sh needs $tool" >&2; exit 1; }
done

if [ -n "${FLANNELD_BINARY:-}" ]; then
  FLANNELD=$FLANNELD_BINARY
else
  echo "building flanneld (release, Scripts/build-release.sh)"
  FLANNELD="$(Scripts/build-release.sh 2> >(grep -vE '^\[[0-9]+/[0-9]+\]' >&2))"
fi
[ -x "$FLANNELD" ] || { echo "no flanneld binary at $FLANNELD (build failed?)" >&2; exit 1; }
FLANNELD="$(realpath "$FLANNELD")"
PROBE="$(realpath Scripts/lib/lease_scale_probe.py)"

source Scripts/lib/lab.sh
current_log="" # the flanneld log of the run in progress, shown when something fails

on_exit() {
  local status=$?
  if [ "$status" != 0 ]; then
    if [ -n "$current_log" ] && [ -f "$current_log" ]; then
      printf -- '--- last lines of %s\n' "$current_log" >&2
      tail -n 40 "$current_log" >&2
      printf -- '---\n' >&2
    fi
    LAB_KEEP_DIR=1
    printf 'logs kept in %s\n' "$LAB_DIR" >&2
  fi
  lab_cleanup
}
trap on_exit EXIT

endpoint=http://127.0.0.1:2379
healthz_port=9807
metrics_url=http://127.0.0.1:$healthz_port/metrics
lab_underlay 1
host=$(lab_host 1)
# The cluster's underlay is one /16 here: every lease's PublicIP 192.168.X.Y is on-link for
# the node, as on a flat L2 network (inside this namespace only).
ip -n "$host" addr del 192.168.77.11/24 dev eth0
ip -n "$host" addr add 192.168.77.11/16 dev eth0
ip -n "$host" route replace default via 192.168.77.1 dev eth0
lab_etcd "$host"
run() { ip netns exec "$host" "$@"; }

now() { printf '%s' "$EPOCHREALTIME"; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }

# Lease i: subnet 10.X.Y.0/24, PublicIP 192.168.X.Y, VtepMAC 0a:00:c0:a8:X:Y (locally
# administered, unicast, one per lease).
lease_x() { echo $((100 + $1 / 256)); }
lease_y() { echo $(($1 % 256)); }

# glog_epoch LINE: the epoch seconds of a `I1127 03:28:26.055437 PID flanneld] …` line
# (local time, no year: this year's, or last year's if that would lie in the future).
glog_epoch() {
  local stamp=$1 year epoch
  year=$(date +%Y)
  epoch=$(date -d "$year-${stamp:1:2}-${stamp:3:2} ${stamp:6:15}" +%s.%N)
  if awk -v e="$epoch" -v n="$(now)" 'BEGIN { exit !(e > n + 86400) }'; then
    epoch=$(date -d "$((year - 1))-${stamp:1:2}-${stamp:3:2} ${stamp:6:15}" +%s.%N)
  fi
  printf '%s' "$epoch"
}

# wait_for_line PID LOG ERE SECONDS: poll LOG every 10 ms for a line matching ERE while PID
# lives. Sets found_line and found_at (epoch seconds when it was seen).
wait_for_line() {
  local pid=$1 log=$2 pattern=$3 seconds=$4 deadline
  deadline=$(awk -v n="$(now)" -v s="$seconds" 'BEGIN { printf "%.6f", n + s }')
  found_line=""
  while :; do
    if found_line=$(grep -m1 -E -- "$pattern" "$log" 2>/dev/null); then
      found_at=$(now)
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      local status=0
      wait "$pid" || status=$?
      lab_forget_pid "$pid"
      lab_fail "flanneld (pid $pid) exited with status $status while waiting for: $pattern"
    fi
    if awk -v n="$(now)" -v d="$deadline" 'BEGIN { exit !(n > d) }'; then
      lab_fail "timed out after ${seconds}s waiting for flanneld to log: $pattern"
    fi
    sleep 0.01
  done
}

# --- writing leases ------------------------------------------------------------------------

# The JSON stock flanneld writes for BACKEND through API, as a jq expression over $x, $y and
# $mac: HEAD's form through v3 (PublicIPv6 null, host-gw's BackendData null), v0.17's through
# v2 (no PublicIPv6, nothing empty); lease_value in Scripts/lib/lease_scale_probe.py writes
# the same for the event leases.
jq_value() {
  local backend=$1 api=$2 ip='PublicIP: "192.168.\($x).\($y)"' v6=""
  [ "$api" = v3 ] && v6=', PublicIPv6: null'
  case $backend in
    vxlan) printf '{%s%s, BackendType: "vxlan", BackendData: {VNI: 1, VtepMAC: $mac}}' "$ip" "$v6" ;;
    host-gw)
      if [ "$api" = v3 ]; then printf '{%s%s, BackendType: "host-gw", BackendData: null}' "$ip" "$v6"
      else printf '{%s, BackendType: "host-gw"}' "$ip"; fi ;;
    udp) printf '{%s%s}' "$ip" "$v6" ;;
  esac
}
# jq has no printf: two lower-case hex digits of 0..255.
JQ_DEFS='def hex2: [(. / 16 | floor), (. % 16)] | map("0123456789abcdef"[.:(. + 1)]) | join("");
  def mac($x; $y): "0a:00:c0:a8:\($x | hex2):\($y | hex2)";'

# mac_of I: lease i's VtepMAC (as mac() in JQ_DEFS).
mac_of() { printf '0a:00:c0:a8:%02x:%02x' "$(lease_x "$1")" "$(lease_y "$1")"; }

# v3: as stock flanneld, key <prefix>/subnets/10.X.Y.0-24 with the HEAD JSON value, attached
# to an etcd lease with a TTL. Stock grants one etcd lease per key; for the reader it does not
# matter which etcd lease a key hangs on (remote leases are listed without a per-key TTL
# lookup), so a few leases carry all keys here and the writes go as 128-put transactions
# (etcd's default --max-txn-ops) through the v3 JSON gateway.
v3_lease_ids=()
# v3_count DIR/: how many keys start with DIR/ (etcdctl 3.4 has no --count-only).
v3_count() {
  local from end
  from=$(printf %s "$1" | base64 -w0)
  end=$(printf %s "${1%/}0" | base64 -w0) # "/" + 1 = "0": the end of the prefix range
  run curl -sSf -X POST "$endpoint/v3/kv/range" \
    -d "{\"key\":\"$from\",\"range_end\":\"$end\",\"count_only\":true}" | jq -er '.count // "0"'
}
v3_write_leases() {
  local backend=$1 prefix=$2 n=$3 body ids written value
  v3_lease_ids=()
  for _ in 1 2 3 4; do
    v3_lease_ids+=("$(run curl -sSf -X POST "$endpoint/v3/lease/grant" -d '{"TTL":86400}' | jq -er .ID)") ||
      lab_fail "v3: granting an etcd lease failed"
  done
  ids=$(printf '%s\n' "${v3_lease_ids[@]}" | jq -R . | jq -sc .)
  value=$(jq_value "$backend" v3)
  jq -nc --argjson n "$n" --arg prefix "$prefix" --argjson leases "$ids" "$JQ_DEFS"'
    def put($i): (100 + ($i / 256 | floor)) as $x | ($i % 256) as $y | mac($x; $y) as $mac
      | {request_put: {
          key: ("\($prefix)/subnets/10.\($x).\($y).0-24" | @base64),
          value: ('"$value"' | tojson | @base64),
          lease: $leases[$i % ($leases | length)]}};
    range(0; $n; 128) as $s | {success: [range($s; [$s + 128, $n] | min) | put(.)]}' \
    >"$LAB_DIR/v3-txns.jsonl"
  while IFS= read -r body; do
    run curl -sSf -X POST "$endpoint/v3/kv/txn" --data-binary @- <<<"$body" |
      grep -q '"succeeded":true' || lab_fail "v3: a put transaction failed"
  done <"$LAB_DIR/v3-txns.jsonl"
  written=$(v3_count "$prefix/subnets/") || lab_fail "v3: counting the keys under $prefix/subnets/ failed"
  [ "$written" = "$n" ] || lab_fail "v3: $written keys under $prefix/subnets/ after writing $n"
}
v3_remove_leases() {
  local id
  for id in "${v3_lease_ids[@]}"; do # revoking an etcd lease deletes the keys on it
    run curl -sSf -o /dev/null -X POST "$endpoint/v3/lease/revoke" -d "{\"ID\":\"$id\"}" ||
      lab_fail "v3: revoking etcd lease $id failed"
  done
  run env ETCDCTL_API=3 etcdctl --endpoints="$endpoint" del --prefix "$1/" >/dev/null
}

# v2: as stock flanneld, PUT /v2/keys<prefix>/subnets/10.X.Y.0-24 with value=<v0.17 JSON>
# and ttl; one curl doing 64 transfers in parallel from a config file (no process per key).
v2_write_leases() {
  local backend=$1 prefix=$2 n=$3 created written
  # The config (one block per PUT, "next" between them) from jq: the value inside a quoted
  # curl config string, with its quotes escaped.
  jq -nr --argjson n "$n" --arg url "$endpoint/v2/keys$prefix/subnets" "$JQ_DEFS"'
    range(0; $n) as $i | (100 + ($i / 256 | floor)) as $x | ($i % 256) as $y | mac($x; $y) as $mac
      | (if $i > 0 then "next\n" else "" end)
        + "url = \"\($url)/10.\($x).\($y).0-24\"\nrequest = \"PUT\"\n"
        + "data-urlencode = \"value=\('"$(jq_value "$backend" v2)"' | tojson | gsub("\""; "\\\""))\"\n"
        + "data = \"ttl=86400\"\noutput = \"/dev/null\"\nwrite-out = \"%{http_code}\\n\""' \
    >"$LAB_DIR/v2-puts.curlrc"
  # curl 7.88 draws its parallel progress meter even with -s: stderr goes to a file.
  created=$(run curl -sS --parallel --parallel-max 64 -K "$LAB_DIR/v2-puts.curlrc" \
    2>"$LAB_DIR/v2-puts.err" | grep -c '^201$' || true)
  if [ "$created" != "$n" ]; then
    tr '\r' '\n' <"$LAB_DIR/v2-puts.err" | grep '^curl:' | sort | uniq -c | head -5 >&2 || true
    lab_fail "v2: only $created of $n PUTs answered 201 Created"
  fi
  written=$(run curl -sSf "$endpoint/v2/keys$prefix/subnets" | jq '.node.nodes | length')
  [ "$written" = "$n" ] || lab_fail "v2: $written keys under $prefix/subnets after writing $n"
}
v2_remove_leases() {
  run curl -sSf -o /dev/null -X DELETE "$endpoint/v2/keys$1?recursive=true" ||
    lab_fail "v2: deleting $1 failed"
}

# --- one run: backend, API, N ---------------------------------------------------------------

# The kernel objects a run leaves behind (flanneld does not remove them on exit, like stock):
# removed so that the next run starts from nothing, which the probe checks.
clean_kernel() {
  run ip link delete flannel.1 2>/dev/null || true
  run ip nexthop flush >/dev/null 2>&1 || true # (routes through them go with them)
  run ip -4 route flush root 10.0.0.0/8 table main 2>/dev/null || true
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maximum() { printf '%s\n' "$@" | sort -g | tail -n 1 | awk '{ printf "%.1f", $1 }'; }

csv_header="backend,api,n,sample,sync_s,flanneld_synced_s,flanneld_synced_count,add_ms_median,add_ms_max,del_ms_median,del_ms_max,rss_mib,hwm_mib,cpu_s,sync_us_per_lease,rss_kib_per_lease,rss_kib,hwm_kib,utime_s,stime_s,etcd_write_s,netlink_overflows,add_ms_all,del_ms_all"
echo "$csv_header" >"$out"
declare -A base_sync base_rss # "backend api" -> the N = 0 runs' median sync s and RSS KiB
rows=()
# What one run of `measure` found, for `measure_samples`.
run_sync_s="" run_rss_kib="" run_row="" run_csv_head="" run_csv_tail=""

measure() {
  local backend=$1 api=$2 n=$3 sample=$4
  local prefix="/lease-scale/$backend/$api/$n/network" tag="$backend-$api-$n"
  local config="{\"Network\":\"10.0.0.0/8\",\"SubnetLen\":24,\"Backend\":{\"Type\":\"$backend\"}}"
  lab_log "$tag: writing the config and $n leases under $prefix"
  if [ "$api" = v3 ]; then
    run env ETCDCTL_API=3 etcdctl --endpoints="$endpoint" put "$prefix/config" "$config" >/dev/null
  else
    run curl -sSf -o /dev/null -X PUT "$endpoint/v2/keys$prefix/config" --data-urlencode "value=$config"
  fi
  local t0 t1 write_s=0
  v3_lease_ids=()
  if [ "$n" -gt 0 ]; then
    t0=$(now)
    "${api}_write_leases" "$backend" "$prefix" "$n"
    t1=$(now)
    write_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  elif [ "$api" = v3 ]; then
    v3_lease_ids=("$(run curl -sSf -X POST "$endpoint/v3/lease/grant" -d '{"TTL":86400}' | jq -er .ID)")
  fi
  lab_log "$tag: $n leases written in $write_s s"

  # A directory per run: a repeated run must not see the probe's ready file of the last one.
  local dir="$LAB_DIR/$tag"
  [ "$sample" = 1 ] || dir+="-run$sample"
  mkdir -p "$dir"
  local env="$dir/subnet.env" log="$dir/flanneld.log" pidfile="$dir/flanneld.pid"
  current_log=$log
  clean_kernel

  # The probe subscribes to netlink before flanneld starts (or polls /metrics for udp); for
  # N = 0 there is nothing to wait for and the "Synced 0 leases" log line marks the sync.
  local probe_pid="" started pid
  if [ "$n" -gt 0 ]; then
    lab_spawn "$host" "$dir/sync.json" python3 "$PROBE" sync --mode "$backend" --count "$n" \
      --pid-file "$pidfile" --ready-file "$dir/probe.ready" --metrics-url "$metrics_url" --timeout "$timeout"
    probe_pid=$LAB_LAST_PID
    lab_wait 30 "the netlink probe" test -e "$dir/probe.ready"
  fi
  started=$(now)
  ip netns exec "$host" "$FLANNELD" -etcd-endpoints="$endpoint" -etcd-prefix="$prefix" \
    -etcd-api="$api" -subnet-file="$env" -healthz-ip=127.0.0.1 -healthz-port="$healthz_port" \
    >"$log" 2>&1 &
  pid=$!
  LAB_PIDS+=("$pid")
  echo "$pid" >"$pidfile"

  local synced_at utime stime rss_kib hwm_kib overflows=0 probe_note=""
  if [ -n "$probe_pid" ]; then
    local status=0
    wait "$probe_pid" || status=$?
    lab_forget_pid "$probe_pid"
    [ "$status" = 0 ] || { cat "$dir/sync.json" >&2; lab_fail "$tag: the sync probe failed"; }
    read -r synced_at utime stime rss_kib hwm_kib overflows < <(jq -r \
      '[.synced_at, .utime_s, .stime_s, .rss_kib, .hwm_kib, (.overflows // 0)] | map(tostring) | join(" ")' \
      "$dir/sync.json")
    # The probe shares the CPUs with flanneld: what it used is part of the picture.
    probe_note="; the probe used $(jq -r .probe_cpu_s "$dir/sync.json") s CPU"
  fi

  # flanneld's own figure (for N = 0 also the moment of sync).
  wait_for_line "$pid" "$log" "Synced [0-9]+ leases of other nodes through etcd $api in " "$timeout"
  local sync_line=$found_line synced_count synced_text flanneld_s
  if [ -z "$probe_pid" ]; then
    synced_at=$(glog_epoch "$sync_line") # the line's own time stamp, not when it was polled
    read -r utime stime rss_kib hwm_kib < <(awk -v t="$(getconf CLK_TCK)" '
      FILENAME ~ /stat$/ { sub(/.*\) /, ""); split($0, f, " "); u = f[12] / t; s = f[13] / t }
      /^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 }
      END { print u, s, r, h }' "/proc/$pid/stat" "/proc/$pid/status")
  fi
  synced_count=$(sed -E 's/.*Synced ([0-9]+) leases.*/\1/' <<<"$sync_line")
  synced_text=${sync_line##* in }
  flanneld_s=$(awk -v t="$synced_text" 'BEGIN {
    split(t, p, " "); f = p[2] == "seconds" ? 1 : p[2] == "milliseconds" ? 0.001 : -1
    if (f < 0) exit 1; printf "%.3f", p[1] * f }') ||
    lab_fail "$tag: cannot read the duration in: $sync_line"
  # The kernel (or the udp route table) proves all N arrived; a different count in the log
  # line is a wrong log line, reported without stopping the measurement.
  local synced_mark=""
  if [ "$synced_count" != "$n" ]; then
    synced_mark="*"
    lab_log "$tag: WARNING: flanneld logged \"Synced $synced_count leases\" with $n leases in etcd (all $n reached the kernel)"
  fi
  local sync_s
  sync_s=$(awk -v a="$started" -v b="$synced_at" 'BEGIN { printf "%.3f", b - a }')
  lab_log "$tag: all $n leases in place after $sync_s s (flanneld: $synced_text); RSS $((rss_kib / 1024)) MiB, CPU $(awk -v u="$utime" -v s="$stime" 'BEGIN { print u + s }') s$probe_note"

  # Events: the node's own subnet is never used for one.
  lab_wait 30 "subnet.env from flanneld ($tag)" test -s "$env"
  local own i k=0 subnet
  own=$(sed -n 's/^FLANNEL_SUBNET=\(.*\)\.1\/24$/\1.0/p' "$env")
  : >"$dir/events.txt"
  for ((i = n; k < events; i++)); do
    subnet="10.$(lease_x "$i").$(lease_y "$i").0"
    [ "$subnet" != "$own" ] || continue
    printf '%s/24 192.168.%d.%d %s\n' "$subnet" "$(lease_x "$i")" "$(lease_y "$i")" "$(mac_of "$i")" >>"$dir/events.txt"
    k=$((k + 1))
  done
  run python3 "$PROBE" events --mode "$backend" --api "$api" --endpoint "$endpoint" --prefix "$prefix" \
    --leases "$dir/events.txt" ${v3_lease_ids[0]:+--lease-id "${v3_lease_ids[0]}"} \
    --metrics-url "$metrics_url" >"$dir/events.json" || lab_fail "$tag: the event probe failed"
  local adds dels
  adds=$(jq -r '.add_ms | map(tostring) | join(" ")' "$dir/events.json")
  dels=$(jq -r '.del_ms | map(tostring) | join(" ")' "$dir/events.json")
  local add_med add_max del_med del_max
  # shellcheck disable=SC2086 # word lists
  add_med=$(median $adds) add_max=$(maximum $adds) del_med=$(median $dels) del_max=$(maximum $dels)
  lab_log "$tag: lease add → kernel ms: $adds"
  lab_log "$tag: lease delete → kernel ms: $dels"
  [ "$backend" != udp ] ||
    lab_log "$tag: one /metrics poll took $(jq -r '"\(.scrape_ms_median) ms (median), \(.scrape_ms_max) ms (max)"' "$dir/events.json")"

  kill -0 "$pid" 2>/dev/null || lab_fail "$tag: flanneld died during the events"
  lab_stop "$pid"
  lab_forget_pid "$pid"
  [ "$LAB_STATUS" = 0 ] || lab_fail "$tag: flanneld exited $LAB_STATUS on SIGTERM"
  current_log=""
  clean_kernel
  "${api}_remove_leases" "$prefix"

  local rss_mib hwm_mib cpu_s
  rss_mib=$(awk -v k="$rss_kib" 'BEGIN { printf "%.1f", k / 1024 }')
  hwm_mib=$(awk -v k="$hwm_kib" 'BEGIN { printf "%.1f", k / 1024 }')
  cpu_s=$(awk -v u="$utime" -v s="$stime" 'BEGIN { printf "%.2f", u + s }')
  run_sync_s=$sync_s run_rss_kib=$rss_kib
  run_row="$backend|$api|$n|$sync_s|$flanneld_s$synced_mark|$add_med / $add_max|$del_med / $del_max|$rss_mib|$hwm_mib|$cpu_s"
  run_csv_head="$backend,$api,$n,$sample,$sync_s,$flanneld_s,$synced_count,$add_med,$add_max,$del_med,$del_max,$rss_mib,$hwm_mib,$cpu_s"
  run_csv_tail="$rss_kib,$hwm_kib,$utime,$stime,$write_s,$overflows,${adds// /;},${dels// /;}"
}

# Runs `measure` once, or --samples times for N <= 1000; the per-lease figures use the
# median sync s and RSS of those runs, and the row shown is the run with the median RSS.
measure_samples() {
  local backend=$1 api=$2 n=$3 runs=1 k
  [ "$n" -le 1000 ] && runs=$samples
  local syncs=() rsses=() rows_of=() heads=() tails=()
  for ((k = 1; k <= runs; k++)); do
    measure "$backend" "$api" "$n" "$k"
    syncs+=("$run_sync_s") rsses+=("$run_rss_kib") rows_of+=("$run_row")
    heads+=("$run_csv_head") tails+=("$run_csv_tail")
  done
  local sync_med rss_med pick=0 per_sync="" per_rss=""
  sync_med=$(printf '%s\n' "${syncs[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  rss_med=$(printf '%s\n' "${rsses[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  for ((k = 0; k < runs; k++)); do
    if [ "${rsses[k]}" = "$rss_med" ]; then pick=$k; break; fi
  done
  if [ "$runs" -gt 1 ]; then
    lab_log "$backend-$api-$n: $runs runs: sync s ${syncs[*]} (median $sync_med), RSS KiB ${rsses[*]} (median $rss_med)"
  fi
  if [ "$n" = 0 ]; then
    base_sync["$backend $api"]=$sync_med base_rss["$backend $api"]=$rss_med
  else
    per_sync=$(awk -v s="$sync_med" -v b="${base_sync["$backend $api"]}" -v n="$n" 'BEGIN { printf "%.1f", (s - b) / n * 1e6 }')
    per_rss=$(awk -v r="$rss_med" -v b="${base_rss["$backend $api"]}" -v n="$n" 'BEGIN { printf "%.2f", (r - b) / n }')
  fi
  rows+=("${rows_of[pick]}|${per_sync:--}|${per_rss:--}")
  for ((k = 0; k < runs; k++)); do
    printf '%s\n' "${heads[k]},$per_sync,$per_rss,${tails[k]}" >>"$out"
  done
}

for backend in $(list "$backends"); do
  for api in $(list "$apis"); do
    for n in 0 $counts; do measure_samples "$backend" "$api" "$n"; done
  done
done

echo
echo "flanneld: $FLANNELD"
format='%7s %8s %10s %15s %15s %8s %8s %7s %14s %14s\n'
last=""
for row in "${rows[@]}"; do
  IFS='|' read -r -a f <<<"$row"
  if [ "${f[0]} ${f[1]}" != "$last" ]; then
    last="${f[0]} ${f[1]}"
    printf '\n%s, etcd %s\n' "${f[0]}" "${f[1]}"
    # shellcheck disable=SC2059
    printf "$format" N "sync s" "Synced s" "add ms med/max" "del ms med/max" "RSS MiB" "HWM MiB" "CPU s" "sync µs/lease" "RSS KiB/lease"
  fi
  # shellcheck disable=SC2059
  printf "$format" "${f[@]:2}"
done
cat <<EOF

sync s: flanneld's start until all N leases had their kernel objects (netlink; udp: the
forwarders' route table on /metrics). Synced s: flanneld's own "Synced N leases … in" figure
(* when that line named another count than N).
add / del ms: median and max of $events lease writes / deletes, from the etcd response to the
kernel object present / gone (< 0: in place before the response was read). RSS, HWM (VmRSS,
VmHWM) and CPU (utime + stime): read from /proc when sync was seen. Per lease:
(sync(N) - sync(0)) / N and (RSS(N) - RSS(0)) / N, with the "0" row the same daemon without
leases; for N <= 1000 and the "0" row, medians of $samples runs (the row shown: the median-RSS
run; every run is in the CSV, column "sample"). CSV: $out
EOF
