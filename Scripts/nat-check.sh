#!/usr/bin/env bash
# A node behind NAT: hosts 1 and 2 on the underlay (192.168.77.0/24), host 3 on a private
# network (192.168.88.0/24) behind a NAT router that owns 192.168.77.20 on the underlay and
# forwards the backend's port to host 3. Host 3 runs `flanneld -iface=eth0
# -public-ip=192.168.77.20`; its lease advertises the public address, and the containers of
# all three hosts must reach each other. Usage: Scripts/nat-check.sh --backend udp|vxlan [flanneld]
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=udp
if [ "${1:-}" = "--backend" ]; then BACKEND=$2; shift 2; fi
source Scripts/lib/lab.sh
lab_use_flanneld "${1:-}"
trap lab_cleanup EXIT
case $BACKEND in
  udp) PORT=7890 CONFIG='{"Network":"10.1.0.0/16","Backend":{"Type":"udp","Port":7890}}' ;;
  vxlan) PORT=8472 CONFIG='{"Network":"10.1.0.0/16","Backend":{"Type":"vxlan"}}' ;;
  *) lab_fail "--backend udp|vxlan" ;;
esac
PUBLIC=192.168.77.20

lab_underlay 2
# Host 3 and its NAT router: nat has eth0 on the underlay bridge and eth1 towards host 3.
ul="${LAB_ID}ul" nat="${LAB_ID}nat" h3="${LAB_ID}h3"
ip netns add "$nat"; LAB_NAMESPACES+=("$nat")
ip netns add "$h3"; LAB_NAMESPACES+=("$h3")
ip -n "$nat" link set lo up; ip -n "$h3" link set lo up
ip link add "${LAB_ID}nv" type veth peer name "${LAB_ID}np"
ip link set "${LAB_ID}nv" netns "$nat"; ip link set "${LAB_ID}np" netns "$ul"
ip -n "$nat" link set "${LAB_ID}nv" name eth0
ip -n "$nat" addr add $PUBLIC/24 dev eth0
ip -n "$nat" link set eth0 up
ip -n "$ul" link set "${LAB_ID}np" master br0 up
ip link add "${LAB_ID}hv" type veth peer name "${LAB_ID}hp"
ip link set "${LAB_ID}hv" netns "$h3"; ip link set "${LAB_ID}hp" netns "$nat"
ip -n "$h3" link set "${LAB_ID}hv" name eth0
ip -n "$nat" link set "${LAB_ID}hp" name eth1
ip -n "$h3" addr add 192.168.88.2/24 dev eth0
ip -n "$nat" addr add 192.168.88.1/24 dev eth1
ip -n "$h3" link set eth0 up; ip -n "$nat" link set eth1 up
ip -n "$h3" route add default via 192.168.88.1
ip netns exec "$nat" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$nat" iptables -t nat -A POSTROUTING -s 192.168.88.0/24 -o eth0 -j SNAT --to-source $PUBLIC
ip netns exec "$nat" iptables -t nat -A PREROUTING -i eth0 -p udp --dport $PORT -j DNAT --to-destination 192.168.88.2
lab_containers 3
lab_etcd "$(lab_host 1)"
ip netns exec "$(lab_host 1)" env ETCDCTL_API=3 etcdctl put /coreos.com/network/config "$CONFIG" >/dev/null

for i in 1 2 3; do
  mkdir -p "$LAB_DIR/h$i"
  extra=()
  [ "$i" = 3 ] && extra=(-public-ip=$PUBLIC)
  lab_flanneld "$(lab_host "$i")" "flanneld-h$i" -etcd-endpoints=http://192.168.77.11:2379 \
    -iface=eth0 "${extra[@]}" -subnet-file="$LAB_DIR/h$i/subnet.env"
done
fail() { for i in 1 2 3; do echo "--- flanneld h$i"; tail -20 "$LAB_DIR/flanneld-h$i.log"; done; lab_fail "$*"; }
for i in 1 2 3; do
  lab_wait 30 "subnet.env on host $i" test -s "$LAB_DIR/h$i/subnet.env" || fail "no subnet.env on host $i"
  lab_container_attach_env "$i" "$LAB_DIR/h$i/subnet.env"
done
# Read whole before matching: `grep -q` stops reading at the first match, and under pipefail
# etcdctl's SIGPIPE would fail the check.
leases=$(ip netns exec "$(lab_host 1)" env ETCDCTL_API=3 etcdctl get --prefix /coreos.com/network/subnets)
grep -q "\"PublicIP\":\"$PUBLIC\"" <<<"$leases" || fail "host 3's lease does not advertise $PUBLIC"
for i in 1 2 3; do
  for j in 1 2 3; do
    [ "$i" = "$j" ] && continue
    deadline=$((SECONDS + 15))
    until ip netns exec "$(lab_container "$i")" ping -q -c 1 -W 1 "$(lab_container_ip "$j")" >/dev/null 2>&1; do
      [ "$SECONDS" -lt "$deadline" ] || fail "container $i cannot reach container $j"
    done
  done
done
lab_log "nat check ok: $BACKEND, host 3 behind NAT advertising $PUBLIC, full mesh"
