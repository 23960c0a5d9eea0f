#!/usr/bin/env bash
# The seed deployment, end to end: etcd on 127.0.0.1:2379 inside a network namespace, the
# config written the seed's way (etcdctl v3, then curl to the v2 keys API), and
# `flanneld -etcd-endpoints=… -etcd-prefix=/dudu_flannel/network -subnet-file=…` must lease a
# /24 and write subnet.env both times. Usage: Scripts/seed-check.sh [path/to/flanneld]
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/lab.sh
lab_use_flanneld "${1:-}"
trap lab_cleanup EXIT

lab_underlay 1
host=$(lab_host 1)
lab_etcd "$host"
config='{"Network": "172.17.0.1/16","SubnetMin": "172.17.0.0", "SubnetMax": "172.17.254.0","Backend":{"Type":"vxlan"}}'
prefix=/dudu_flannel/network
run() { ip netns exec "$host" "$@"; }

check_node() { # API SUBNET_ENV
  local api=$1 env=$2
  lab_flanneld "$host" "flanneld-$api" -etcd-endpoints=http://127.0.0.1:2379 \
    -etcd-prefix=$prefix -subnet-file="$env"
  local pid=$LAB_LAST_PID
  lab_wait 30 "subnet.env from flanneld ($api)" test -s "$env"
  cat "$env"
  grep -qxE 'FLANNEL_NETWORK=172\.17\.0\.0/16' "$env" || lab_fail "$api: FLANNEL_NETWORK wrong"
  grep -qxE 'FLANNEL_SUBNET=172\.17\.[0-9]+\.1/24' "$env" || lab_fail "$api: FLANNEL_SUBNET wrong"
  grep -qxE 'FLANNEL_MTU=1450' "$env" || lab_fail "$api: FLANNEL_MTU wrong"
  grep -qxE 'FLANNEL_IPMASQ=false' "$env" || lab_fail "$api: FLANNEL_IPMASQ wrong"
  local subnet key
  subnet=$(sed -n 's/^FLANNEL_SUBNET=\(.*\)\.1\/24$/\1.0-24/p' "$env")
  key="$prefix/subnets/$subnet"
  if [ "$api" = v3 ]; then
    run env ETCDCTL_API=3 etcdctl get "$key" --print-value-only | grep -q '"PublicIP":"192.168.77.11"' ||
      lab_fail "v3: lease $key not in etcd"
  else
    run curl -sf "http://127.0.0.1:2379/v2/keys$key" | grep -q 'PublicIP' ||
      lab_fail "v2: lease $key not in etcd"
  fi
  lab_stop "$pid"
  [ "$LAB_STATUS" = 0 ] || { cat "$LAB_DIR/flanneld-$api.log"; lab_fail "$api: flanneld exited $LAB_STATUS on SIGTERM"; }
  lab_log "ok: etcd $api, lease $key"
}

lab_log "config through etcdctl (v3)"
run env ETCDCTL_API=3 etcdctl put $prefix/config "$config" >/dev/null
check_node v3 "$LAB_DIR/v3/subnet.env"

lab_log "config through curl to the v2 keys API (v3 keys removed)"
run env ETCDCTL_API=3 etcdctl del --prefix /dudu_flannel >/dev/null
run curl -sf -X PUT "http://127.0.0.1:2379/v2/keys$prefix/config" -d value="$config" >/dev/null
check_node v2 "$LAB_DIR/v2/subnet.env"
lab_log "seed check ok: etcd v3 and v2"
