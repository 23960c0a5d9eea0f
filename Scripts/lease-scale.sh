#!/usr/bin/env bash
# Lease-table scale check (a script, not a timed test): writes N leases of other nodes straight
# into etcd, the way stock flanneld writes them, starts one flanneld node against them and
# reports
#   - sync: flanneld's own "Synced <N> leases … in <duration>" figure, and the wall time from
#     process start to that log line (the node's complete table);
#   - memory: VmHWM (peak RSS) and VmRSS from /proc/<pid>/status once synced;
#   - event latency: the median of 5 single lease writes until flanneld logs "Subnet added".
# Targets (control-plane issue): complete table in <= 1 s, <= 32 MiB, through either API.
# The targets are only printed as PASS/FAIL; the exit status is non-zero only when something
# did not work (flanneld died, wrong count, timeout, etcd write failed).
#
# Usage: Scripts/lease-scale.sh [-n N] [--api v3|v2|both] [--quick]
#   -n N      leases to write (default 5000)
#   --api     which etcd API to measure (default both)
#   --quick   N=500, for CI
# FLANNELD_BINARY=path skips the release build. Needs root (network namespaces), etcd,
# etcdctl, curl and jq. Everything runs in namespaces this script creates; only loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C # "." as the decimal point in EPOCHREALTIME, date and awk

usage() { sed -n '/^# Usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

count=5000
apis=both
while [ $# -gt 0 ]; do
  case $1 in
    -n) [ $# -ge 2 ] || { usage >&2; exit 2; }; count=$2; shift 2 ;;
    -n=* | --n=*) count=${1#*=}; shift ;;
    --api) [ $# -ge 2 ] || { usage >&2; exit 2; }; apis=$2; shift 2 ;;
    --api=*) apis=${1#*=}; shift ;;
    --quick) count=500; shift ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'unknown argument: %s\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
done
case $apis in
  both) apis="v3 v2" ;;
  v3 | v2) ;;
  *) printf -- '--api must be v3, v2 or both, not %s\n' "$apis" >&2; exit 2 ;;
esac
# Leases use 10.X.Y.0/24 with X = 100 + i/256 (X <= 254), so at most 155*256 minus the events.
events=5
max_count=$((155 * 256 - events))
[[ $count =~ ^[0-9]+$ ]] && [ "$count" -ge 1 ] && [ "$count" -le "$max_count" ] ||
  { printf -- '-n must be a number from 1 to %d, not %s\n' "$max_count" "$count" >&2; exit 2; }

[ "$(id -u)" = 0 ] || { echo "lease-scale.sh needs root (network namespaces)" >&2; exit 1; }
for tool in ip etcd etcdctl curl jq awk; do
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
lab_underlay 1
host=$(lab_host 1)
lab_etcd "$host"
run() { ip netns exec "$host" "$@"; }

now() { printf '%s' "$EPOCHREALTIME"; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Lease i: subnet 10.X.Y.0/24 and PublicIP 192.168.X.Y with X >= 100, far from the node's own
# 192.168.77.11 and well inside 10.0.0.0/8.
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
      forget_pid "$pid"
      lab_fail "flanneld (pid $pid) exited with status $status while waiting for: $pattern"
    fi
    if awk -v n="$(now)" -v d="$deadline" 'BEGIN { exit !(n > d) }'; then
      lab_fail "timed out after ${seconds}s waiting for flanneld to log: $pattern"
    fi
    sleep 0.01
  done
}

# A PID we have waited for is gone: drop it so the cleanup never signals a reused PID.
forget_pid() {
  local pid keep=()
  for pid in "${LAB_PIDS[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
  LAB_PIDS=("${keep[@]}")
}

# --- writing leases ------------------------------------------------------------------------

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
  local prefix=$1 n=$2 body ids written
  for _ in 1 2 3 4; do
    v3_lease_ids+=("$(run curl -sSf -X POST "$endpoint/v3/lease/grant" -d '{"TTL":86400}' | jq -er .ID)") ||
      lab_fail "v3: granting an etcd lease failed"
  done
  ids=$(printf '%s\n' "${v3_lease_ids[@]}" | jq -R . | jq -sc .)
  jq -nc --argjson n "$n" --arg prefix "$prefix" --argjson leases "$ids" '
    def put($i): (100 + ($i / 256 | floor)) as $x | ($i % 256) as $y
      | {request_put: {
          key: ("\($prefix)/subnets/10.\($x).\($y).0-24" | @base64),
          value: ({PublicIP: "192.168.\($x).\($y)", PublicIPv6: null} | tojson | @base64),
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

# v2: as stock flanneld, PUT /v2/keys<prefix>/subnets/10.X.Y.0-24 with value={"PublicIP":…}
# and ttl; one curl doing 16 transfers in parallel from a config file (no process per key).
v2_write_leases() {
  local prefix=$1 n=$2 i x y created written
  for ((i = 0; i < n; i++)); do
    x=$((100 + i / 256)) y=$((i % 256))
    printf 'url = "%s/v2/keys%s/subnets/10.%d.%d.0-24"\nrequest = "PUT"\n' "$endpoint" "$prefix" "$x" "$y"
    printf 'data-urlencode = "value={\\"PublicIP\\":\\"192.168.%d.%d\\"}"\ndata = "ttl=86400"\n' "$x" "$y"
    printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
    [ "$i" = $((n - 1)) ] || printf 'next\n'
  done >"$LAB_DIR/v2-puts.curlrc"
  # curl 7.88 draws its parallel progress meter even with -s: stderr goes to a file.
  created=$(run curl -sS --parallel --parallel-max 16 -K "$LAB_DIR/v2-puts.curlrc" \
    2>"$LAB_DIR/v2-puts.err" | grep -c '^201$' || true)
  if [ "$created" != "$n" ]; then
    tr '\r' '\n' <"$LAB_DIR/v2-puts.err" | grep '^curl:' | sort | uniq -c | head -5 >&2 || true
    lab_fail "v2: only $created of $n PUTs answered 201 Created"
  fi
  written=$(run curl -sSf "$endpoint/v2/keys$prefix/subnets" | jq '.node.nodes | length')
  [ "$written" = "$n" ] || lab_fail "v2: $written keys under $prefix/subnets after writing $n"
}

# One more lease i through API, written from inside the namespace; prints the epoch time taken
# just before curl starts (after `ip netns exec` and the shell, which are not part of the path).
write_one_lease() {
  local api=$1 prefix=$2 i=$3 x y key value
  x=$(lease_x "$i") y=$(lease_y "$i")
  key="$prefix/subnets/10.$x.$y.0-24"
  if [ "$api" = v3 ]; then
    value="{\"PublicIP\":\"192.168.$x.$y\",\"PublicIPv6\":null}"
    local body
    body=$(printf '{"key":"%s","value":"%s","lease":"%s"}' \
      "$(printf %s "$key" | base64 -w0)" "$(printf %s "$value" | base64 -w0)" "${v3_lease_ids[0]}")
    run bash -c 'printf "%s\n" "$EPOCHREALTIME"; exec curl -sSf -o /dev/null -X POST "$1/v3/kv/put" -d "$2"' \
      _ "$endpoint" "$body"
  else
    value="{\"PublicIP\":\"192.168.$x.$y\"}"
    run bash -c 'printf "%s\n" "$EPOCHREALTIME"; exec curl -sSf -o /dev/null -X PUT "$1/v2/keys$2" --data-urlencode "value=$3" -d ttl=86400' \
      _ "$endpoint" "$key" "$value"
  fi
}

# --- one API ---------------------------------------------------------------------------------

rows=()
measure() {
  local api=$1 prefix="/lease-scale/$api/network" t0 t1 pid log env list_ms
  local config='{"Network":"10.0.0.0/8","SubnetLen":24}'
  lab_log "$api: writing the config and $count leases under $prefix"
  if [ "$api" = v3 ]; then
    run env ETCDCTL_API=3 etcdctl --endpoints="$endpoint" put "$prefix/config" "$config" >/dev/null
  else
    run curl -sSf -o /dev/null -X PUT "$endpoint/v2/keys$prefix/config" --data-urlencode "value=$config"
  fi
  t0=$(now)
  "${api}_write_leases" "$prefix" "$count"
  t1=$(now)
  lab_log "$api: $count leases written in $(ms_between "$t0" "$t1") ms"
  # For scale: how long etcd itself takes to hand out the whole listing to curl.
  local listing
  if [ "$api" = v3 ]; then
    listing=$(run curl -sSf -o /dev/null -w '%{time_total} %{size_download}' -X POST "$endpoint/v3/kv/range" \
      -d "{\"key\":\"$(printf %s "$prefix/subnets/" | base64 -w0)\",\"range_end\":\"$(printf %s "$prefix/subnets0" | base64 -w0)\"}")
  else
    listing=$(run curl -sSf -o /dev/null -w '%{time_total} %{size_download}' "$endpoint/v2/keys$prefix/subnets?recursive=true")
  fi
  list_ms=$(awk -v t="${listing% *}" 'BEGIN { printf "%.1f", t * 1000 }')
  lab_log "$api: curl gets the listing from etcd in $list_ms ms (${listing#* } bytes)"

  mkdir -p "$LAB_DIR/$api"
  env="$LAB_DIR/$api/subnet.env"
  log="$LAB_DIR/flanneld-$api.log"
  current_log=$log
  local started
  started=$(now)
  lab_flanneld "$host" "flanneld-$api" -etcd-endpoints="$endpoint" -etcd-prefix="$prefix" \
    -etcd-api="$api" -subnet-file="$env"
  pid=$LAB_LAST_PID

  # (a) sync
  wait_for_line "$pid" "$log" "Synced [0-9]+ leases of other nodes through etcd $api in " 60
  local sync_line=$found_line sync_seen=$found_at synced_count sync_text sync_ms wall_ms wall_log_ms
  synced_count=$(sed -E 's/.*Synced ([0-9]+) leases.*/\1/' <<<"$sync_line")
  sync_text=${sync_line##* in }
  sync_ms=$(awk -v t="$sync_text" 'BEGIN {
    split(t, p, " "); f = p[2] == "seconds" ? 1000 : p[2] == "milliseconds" ? 1 : -1
    if (f < 0) exit 1; printf "%.1f", p[1] * f }') ||
    lab_fail "$api: cannot read the duration in: $sync_line"
  wall_ms=$(ms_between "$started" "$sync_seen")
  wall_log_ms=$(ms_between "$started" "$(glog_epoch "$sync_line")")
  [ "$synced_count" = "$count" ] ||
    lab_fail "$api: flanneld synced $synced_count leases of other nodes, expected $count"

  # (b) memory, once synced
  local hwm_kb rss_kb hwm_mib rss_mib
  hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
  rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
  hwm_mib=$(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }')
  rss_mib=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
  # Anonymous (heap, stacks) versus file-backed (mapped libraries) resident memory.
  local split anon_mib
  split=$(awk '/^Rss(Anon|File):/ { printf "%s%s %.1f MiB", sep, $1, $2 / 1024; sep = ", " }' "/proc/$pid/status")
  anon_mib=$(awk '/^RssAnon:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
  lab_log "$api: synced $synced_count leases: flanneld says $sync_text; start to log line $wall_log_ms ms (seen after $wall_ms ms); VmHWM $hwm_mib MiB, VmRSS $rss_mib MiB ($split)"

  # (c) event latency: the node's own subnet is never used for an event lease.
  lab_wait 30 "subnet.env from flanneld ($api)" test -s "$env"
  local own i k=0 written_at seen_ms log_ms seen=() logged=()
  own=$(sed -n 's/^FLANNEL_SUBNET=\(.*\)\.1\/24$/\1.0/p' "$env")
  for ((i = count; k < events; i++)); do
    local subnet="10.$(lease_x "$i").$(lease_y "$i").0"
    [ "$subnet" != "$own" ] || continue
    written_at=$(write_one_lease "$api" "$prefix" "$i") ||
      lab_fail "$api: writing event lease $subnet failed"
    wait_for_line "$pid" "$log" "Subnet added: ${subnet//./\\.}/24 via " 10
    seen_ms=$(ms_between "$written_at" "$found_at")
    log_ms=$(ms_between "$written_at" "$(glog_epoch "$found_line")")
    seen+=("$seen_ms") logged+=("$log_ms")
    k=$((k + 1))
  done
  local seen_median log_median
  seen_median=$(median "${seen[@]}")
  log_median=$(median "${logged[@]}")
  lab_log "$api: event latency write→log line (ms): ${logged[*]}; write→seen by polling: ${seen[*]}"
  local hwm_after
  hwm_after=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")

  lab_stop "$pid"
  forget_pid "$pid"
  [ "$LAB_STATUS" = 0 ] || lab_fail "$api: flanneld exited $LAB_STATUS on SIGTERM"
  current_log=""

  local verdict_sync verdict_mem
  verdict_sync=$(awk -v s="$sync_ms" 'BEGIN { print (s <= 1000 ? "PASS" : "FAIL") }')
  verdict_mem=$(awk -v m="$hwm_mib" 'BEGIN { print (m <= 32 ? "PASS" : "FAIL") }')
  rows+=("$api|$count|$list_ms|$sync_ms|$wall_log_ms|$hwm_mib|$rss_mib|$anon_mib|$hwm_after|$log_median|$seen_median|$verdict_sync|$verdict_mem")
}

for api in $apis; do measure "$api"; done

echo
echo "flanneld: $FLANNELD"
format='%-4s %6s %8s %8s %13s %10s %10s %12s %12s %11s %11s %-12s %-13s\n'
# shellcheck disable=SC2059
printf "$format" api N "etcd ms" "sync ms" "start-sync ms" "VmHWM MiB" "VmRSS MiB" "RssAnon MiB" "HWM end MiB" "event ms" "(polled)" "sync<=1s" "VmHWM<=32MiB"
for row in "${rows[@]}"; do
  IFS='|' read -r -a f <<<"$row"
  # shellcheck disable=SC2059
  printf "$format" "${f[@]}"
done
cat <<'EOF'
etcd ms: curl fetching the same listing from etcd, for scale. sync ms: flanneld's own
"Synced … in" figure. start-sync ms: process start to the time stamp of that log line.
VmHWM/VmRSS/RssAnon (heap and stacks; the rest of RSS is mapped libraries): once synced;
HWM end: after the events. event ms: median of 5 lease writes, from just before curl to the
time stamp of flanneld's "Subnet added" line; (polled): until this script saw the line,
polling every 10 ms.
EOF
