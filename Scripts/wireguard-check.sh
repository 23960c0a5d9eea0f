#!/usr/bin/env bash
# Our wireguard backend in a cluster with a real WireGuard: two hosts run our flanneld
# (Backend.Type "wireguard"), the third runs Debian's wireguard-go, configured with `wg set`
# from the leases in etcd exactly as a stock flannel wireguard node configures its kernel
# device (its own lease written in stock's format). A container behind each host. Checks:
#   - the full container ping mesh;
#   - a handshake initiated from each side (wireguard-go → us, us → wireguard-go), and between
#     our two nodes: the very first ping of each is answered (packets sent while the
#     handshake runs are staged and sent once the session exists, as WireGuard does);
#   - 200 MB over TCP intact both ways between our node's container and wireguard-go's;
#   - an underlay capture holds only WireGuard messages (types 1-4, sizes as the protocol
#     gives them);
#   - captured transport messages sent again are dropped and counted as replayed; one with a
#     flipped bit is dropped and counted as failing to decrypt;
#   - a flood of (captured, valid-mac1) handshake initiations gets cookie replies while the
#     existing session keeps forwarding (no ping lost);
#   - a SIGKILL and restart of our daemon, and a restart of wireguard-go: traffic flows again
#     within 2 s of the restarted side being up.
# With --psk every node uses one preshared key (Backend.PSK; `wg set … preshared-key`); with
# --workers N our daemons run N forwarders each (-udp-workers; the socket group steered by
# receiver index, each session's messages opened by one worker).
# Needs root, etcd, iproute2, jq, tcpdump, python3, wireguard-go and wireguard-tools.
# Usage: Scripts/wireguard-check.sh [--psk] [--workers N] [path/to/flanneld]
set -euo pipefail
cd "$(dirname "$0")/.."
PSK="" WORKERS=1
if [ "${1:-}" = "--psk" ]; then PSK=$(wg genpsk); shift; fi
if [ "${1:-}" = "--workers" ]; then WORKERS=$2; shift 2; fi
source Scripts/lib/lab.sh
lab_use_flanneld "${1:-}"
trap lab_cleanup EXIT

N=3
PREFIX=/coreos.com/network
ETCD=http://192.168.77.11:2379
WIRE=Scripts/lib/wireguard_wire.py
DEV="wg$LAB_ID" # wireguard-go's control socket is /var/run/wireguard/<name>, shared by all namespaces
GO_SUBNET=10.1.200.0/24
CONFIG="{\"Network\":\"10.1.0.0/16\",\"Backend\":{\"Type\":\"wireguard\"${PSK:+,\"PSK\":\"$PSK\"}}}"
etcdctl_lab() { ip netns exec "$(lab_host 1)" env ETCDCTL_API=3 etcdctl "$@"; }

lab_underlay $N
lab_containers $N
# As between two machines: the kernel cuts a UDP GSO send into datagrams before the veth (and
# tcpdump) sees it.
for i in $(seq $N); do
  ip netns exec "$(lab_host "$i")" python3 Scripts/lib/netdev_features.py eth0 tx-udp-segmentation off ||
    lab_fail "could not turn tx-udp-segmentation off on host $i"
done
lab_etcd "$(lab_host 1)"
etcdctl_lab put $PREFIX/config "$CONFIG" >/dev/null

# Host 3's lease, as a stock wireguard node writes it, before our nodes allocate theirs.
umask 077
wg genkey >"$LAB_DIR/go.key"
GO_PUB=$(wg pubkey <"$LAB_DIR/go.key")
[ -z "$PSK" ] || echo "$PSK" >"$LAB_DIR/psk"
ttl=$(etcdctl_lab lease grant 86400 | awk '{print $2}')
etcdctl_lab put --lease="$ttl" "$PREFIX/subnets/${GO_SUBNET%/*}-24" \
  "{\"PublicIP\":\"192.168.77.13\",\"PublicIPv6\":null,\"BackendType\":\"wireguard\",\"BackendData\":{\"PublicKey\":\"$GO_PUB\",\"Port\":51820}}" >/dev/null

declare -a PIDS
start_node() { # I
  local i=$1
  mkdir -p "$LAB_DIR/h$i"
  WIREGUARD_KEY_FILE="$LAB_DIR/h$i/wgkey" lab_flanneld "$(lab_host "$i")" "flanneld-h$i" \
    -etcd-endpoints=$ETCD -etcd-prefix=$PREFIX -iface=eth0 -healthz-ip=127.0.0.1 \
    -healthz-port=10256 -subnet-file="$LAB_DIR/h$i/subnet.env" -udp-workers="$WORKERS" -v=1
  PIDS[$i]=$LAB_LAST_PID
}
node_log() { cat "$LAB_DIR/flanneld-h$1.log"; }
fail() { for i in 1 2; do echo "--- flanneld h$i"; tail -30 "$LAB_DIR/flanneld-h$i.log" || true; done; echo "--- wireguard-go"; ip netns exec "$(lab_host 3)" wg show "$DEV" 2>&1 || true; lab_fail "$*"; }
metric() { # I NAME: a family's samples summed on host I
  ip netns exec "$(lab_host "$1")" curl -sf --max-time 5 http://127.0.0.1:10256/metrics |
    awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }'
}
handshakes() { metric "$1" "flannel_wireguard_handshake_messages_total{kind=\"$2\"}"; }
metric_reaches() { # I NAME VALUE: waits up to 5 s for the family's sum on host I to reach VALUE
  local deadline=$((SECONDS + 5))
  until [ "$(metric "$1" "$2")" -ge "$3" ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

for i in 1 2; do start_node "$i"; done
for i in 1 2; do
  lab_wait 30 "subnet.env on host $i" test -s "$LAB_DIR/h$i/subnet.env" || fail "no subnet.env on host $i"
  lab_container_attach_env "$i" "$LAB_DIR/h$i/subnet.env"
done
lab_container_attach 3 "${GO_SUBNET%.0/24}.1/24" 1420
subnet_of() { sed -n 's/^FLANNEL_SUBNET=\(.*\)\.1\/24$/\1.0\/24/p' "$LAB_DIR/h$1/subnet.env"; }

# wireguard-go on host 3, set up as stock's wireguard backend sets up flannel-wg.
start_go() {
  WG_PROCESS_FOREGROUND=1 lab_spawn "$(lab_host 3)" "$LAB_DIR/wireguard-go.log" wireguard-go -f "$DEV"
  GO_PID=$LAB_LAST_PID
  lab_wait 10 "wireguard-go's $DEV" ip -n "$(lab_host 3)" link show "$DEV"
  local ns; ns=$(lab_host 3)
  ip netns exec "$ns" wg set "$DEV" private-key "$LAB_DIR/go.key" listen-port 51820
  ip -n "$ns" link set "$DEV" mtu 1420 up
  ip -n "$ns" addr add "${GO_SUBNET%/*}/32" dev "$DEV"
  ip -n "$ns" route add 10.1.0.0/16 dev "$DEV"
  local i lease
  for i in 1 2; do
    lease=$(etcdctl_lab get --print-value-only "$PREFIX/subnets/$(subnet_of "$i" | sed 's/\/24$/-24/')")
    ip netns exec "$ns" wg set "$DEV" peer "$(jq -r .BackendData.PublicKey <<<"$lease")" \
      endpoint "$(jq -r .PublicIP <<<"$lease"):$(jq -r .BackendData.Port <<<"$lease")" \
      allowed-ips "$(subnet_of "$i")" ${PSK:+preshared-key "$LAB_DIR/psk"}
  done
}
start_go
lab_log "leases: ours $(subnet_of 1) $(subnet_of 2), wireguard-go's $GO_SUBNET${PSK:+ (with a PSK)}, $WORKERS worker(s) per daemon"
grep -q "wireguard backend: .*, $WORKERS worker(s)" "$LAB_DIR/flanneld-h1.log" || fail "host 1 does not run $WORKERS worker(s)"

c() { lab_container "$1"; }
ip1=$(lab_container_ip 1); ip2=$(lab_container_ip 2); ip3=$(lab_container_ip 3)
pings() { # FROM TO: one ping answered within a few tries
  local deadline=$((SECONDS + ${3:-10}))
  until ip netns exec "$(c "$1")" ping -q -c 1 -W 1 "$(lab_container_ip "$2")" >/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
  done
}

# The underlay as host 1 sees it from the first handshake until after 5 MB each way: whole
# datagrams, kept for the replay and flood checks below.
ip netns exec "$(lab_host 1)" tcpdump -i eth0 --immediate-mode -U -n -w "$LAB_DIR/underlay.pcap" \
  udp port 51820 2>"$LAB_DIR/tcpdump.log" &
DUMP=$!; LAB_PIDS+=("$DUMP")
lab_wait 5 "tcpdump" grep -q "listening on" "$LAB_DIR/tcpdump.log"

# Handshakes from each side: wireguard-go first (its container pings ours), then ours, then
# between our nodes. No session exists before: each first ping waits in the sender's staging
# (and host 1's reply in its own, until wireguard-go's ping confirms the session); one ping,
# no retry — a lost first packet fails here.
peers_known() { # I: host I's handshake thread has both other nodes as peers
  [ "$(ip netns exec "$(lab_host "$1")" curl -sf --max-time 5 http://127.0.0.1:10256/debug/wireguard | grep -c '^peer: ')" = 2 ]
}
for i in 1 2; do lab_wait 10 "host $i's peers" peers_known "$i"; done
first_ping() { # FROM TO
  ip netns exec "$(c "$1")" ping -q -c 1 -W 3 "$(lab_container_ip "$2")" >/dev/null ||
    fail "the first ping from container $1 to container $2 (no session yet) was not answered"
}
first_ping 3 1
[ "$(handshakes 1 initiation_received)" -ge 1 ] || fail "host 1 received no initiation from wireguard-go"
first_ping 2 3
[ "$(handshakes 2 initiation_sent)" -ge 1 ] || fail "host 2 sent no initiation"
[ "$(handshakes 2 response_received)" -ge 1 ] || fail "host 2 got no response from wireguard-go"
first_ping 1 2
for i in 1 2; do
  staged=$(metric "$i" flannel_udp_forwarder_tunnel_staged_total)
  sent=$(metric "$i" flannel_udp_forwarder_tunnel_staged_sent_total)
  lost=$(($(metric "$i" flannel_udp_forwarder_tunnel_staged_dropped_total) + $(metric "$i" flannel_udp_forwarder_tunnel_staged_abandoned_total) + $(metric "$i" flannel_udp_forwarder_tunnel_staged_peer_gone_total)))
  [ "$staged" -gt 0 ] && [ "$sent" -gt 0 ] && [ "$lost" = 0 ] || fail "host $i: $staged packets staged, $sent sent after the handshake, $lost dropped"
done
lab_log "ok: handshakes initiated by wireguard-go (to host 1), by us (host 2 to wireguard-go) and between our nodes (1 to 2): each first ping answered, staged packets sent after the handshake"
for i in 1 2 3; do for j in 1 2 3; do
  [ "$i" = "$j" ] || pings "$i" "$j" || fail "ping mesh: container $i to $j"
done; done
lab_log "ok: full ping mesh (6 pairs)"

transfer() { # FROM TO BYTES
  lab_spawn "$(c "$2")" "$LAB_DIR/recv.txt" python3 Scripts/lib/dataplane_transfer.py tcp-recv 5201
  local receiver=$LAB_LAST_PID
  lab_wait 5 "receiver in container $2" ip netns exec "$(c "$2")" ss -ltn 'sport = 5201'
  local sent; sent=$(ip netns exec "$(c "$1")" python3 Scripts/lib/dataplane_transfer.py tcp-send "$(lab_container_ip "$2")" 5201 "$3")
  wait "$receiver" || true; lab_forget_pid "$receiver"
  [ "$sent" = "$(cat "$LAB_DIR/recv.txt")" ] || fail "TCP $1 to $2: sent $sent, received $(cat "$LAB_DIR/recv.txt")"
}

ip netns exec "$(c 1)" ping -q -c 20 -i 0.02 -s 1000 "$ip3" >/dev/null || fail "pings 1 to 3 during the capture"
transfer 1 3 5000000
transfer 3 1 5000000
sleep 0.3 # lets tcpdump write its last packets before the stop
lab_kill "$DUMP"
counts=$(python3 $WIRE check "$LAB_DIR/underlay.pcap" 1420) || fail "underlay capture: $counts"
sealed=$(metric 1 'flannel_udp_offload_packets_total{kind="super_packets_read"}')
[ "$sealed" -gt 0 ] || fail "host 1 sealed no TSO super-packet (TUN offloads off?)"
lab_log "ok: the underlay carries WireGuard messages only ($counts; host 1 cut and sealed $sealed TSO super-packets)"

for pair in "1 3" "3 1"; do
  start=$EPOCHREALTIME
  transfer $pair 200000000
  lab_log "ok: 200 MB TCP container ${pair% *} to ${pair#* } intact in $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s (container 3: wireguard-go)"
done

# Replays, a flipped bit, a flood of initiations.
python3 $WIRE extract "$LAB_DIR/underlay.pcap" 192.168.77.13 192.168.77.11 4 "$LAB_DIR/transport.hex"
python3 $WIRE extract "$LAB_DIR/underlay.pcap" 192.168.77.13 192.168.77.11 1 "$LAB_DIR/initiation.hex"
head -200 "$LAB_DIR/transport.hex" >"$LAB_DIR/replay.hex"
before=$(metric 1 flannel_udp_forwarder_tunnel_replayed_total)
sent=$(ip netns exec "$(lab_host 3)" python3 $WIRE send 192.168.77.11 51820 "$LAB_DIR/replay.hex")
metric_reaches 1 flannel_udp_forwarder_tunnel_replayed_total $((before + sent)) ||
  fail "replayed transport messages not all counted: $(($(metric 1 flannel_udp_forwarder_tunnel_replayed_total) - before)) of $sent"
lab_log "ok: $sent captured transport messages sent again: dropped, counted as replayed"
head -1 "$LAB_DIR/transport.hex" >"$LAB_DIR/one.hex"
before=$(metric 1 flannel_udp_forwarder_tunnel_decrypt_failed_total)
ip netns exec "$(lab_host 3)" python3 $WIRE send 192.168.77.11 51820 "$LAB_DIR/one.hex" --flip >/dev/null
metric_reaches 1 flannel_udp_forwarder_tunnel_decrypt_failed_total $((before + 1)) ||
  fail "the flipped bit was not counted"
lab_log "ok: a transport message with one flipped bit: dropped, counted as failing to decrypt"
[ -s "$LAB_DIR/initiation.hex" ] || fail "no initiation from wireguard-go captured"
head -1 "$LAB_DIR/initiation.hex" >"$LAB_DIR/flood.hex"
ip netns exec "$(c 3)" ping -i 0.02 -W 1 -c 150 "$ip1" >"$LAB_DIR/flood-ping.txt" 2>&1 &
PING=$!; LAB_PIDS+=("$PING")
rcvbuf() { ip netns exec "$(lab_host "$1")" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["RcvbufErrors"] }' /proc/net/snmp; }
before1=$(rcvbuf 1); before3=$(rcvbuf 3); initiations=$(handshakes 1 initiation_received)
flood=$(ip netns exec "$(lab_host 3)" python3 $WIRE send 192.168.77.11 51820 "$LAB_DIR/flood.hex" --repeat 30000)
wait "$PING" || true; lab_forget_pid "$PING"
cookies=$(handshakes 1 cookie_reply_sent)
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$LAB_DIR/flood-ping.txt")
[ "$cookies" -ge 1 ] || fail "no cookie reply under a flood of $flood initiations"
overflows="socket receive buffer overflows: host 1 $(($(rcvbuf 1) - before1)), host 3 $(($(rcvbuf 3) - before3)) (the flooding socket, which reads no cookie reply)"
# The flood runs at full speed from host 3 on a 2-CPU machine: the sender, wireguard-go and our
# workers share the CPUs, and a moment's starvation overflows a socket buffer. The session must
# keep forwarding: at least 95 % of the pings answered, and no new handshake needed.
awk -v l="$loss" 'BEGIN { exit !(l <= 5) }' || fail "pings lost during the flood of $flood initiations ($cookies cookie replies): $loss%; $overflows"
[ "$(handshakes 1 initiation_received)" = "$initiations" ] || fail "the flood started a handshake"
wrong=$(metric 1 flannel_udp_forwarder_tunnel_wrong_worker_total)
[ "$wrong" = 0 ] || fail "host 1 dropped $wrong messages that reached another worker than their session's"
lab_log "ok: $flood initiations flooded: $cookies cookie replies, the session kept forwarding ($loss% of 150 pings lost; $overflows)"

# Restarts: ours (SIGKILL), then wireguard-go. Traffic both ways must flow again within 2 s of
# the restarted side being up.
back_within() { # SECONDS: pings container 1 <-> 3 both answered within SECONDS
  local deadline=$((SECONDS + $1 + 1)) start=$EPOCHREALTIME
  until ip netns exec "$(c 3)" ping -q -c 1 -W 0.3 "$ip1" >/dev/null &&
    ip netns exec "$(c 1)" ping -q -c 1 -W 0.3 "$ip3" >/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
  done
  awk -v a="$start" -v b="$EPOCHREALTIME" -v l="$1" 'BEGIN{printf "%.2f", b-a; exit !(b-a <= l)}'
}
kill -KILL "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true; lab_forget_pid "${PIDS[1]}"
: >"$LAB_DIR/flanneld-h1.log"
start_node 1
lab_wait 30 "host 1's backend" grep -q "wireguard backend: flannel-wg" "$LAB_DIR/flanneld-h1.log"
took=$(back_within 2) || fail "traffic not back within 2 s of our restarted daemon (took ${took:-more} s)"
lab_log "ok: our daemon SIGKILLed and restarted: traffic both ways again after $took s"
lab_kill "$GO_PID"
lab_wait 10 "wireguard-go's device gone" bash -c "! ip -n $(lab_host 3) link show $DEV"
start_go
took=$(back_within 2) || fail "traffic not back within 2 s of wireguard-go's restart (took ${took:-more} s)"
lab_log "ok: wireguard-go restarted: traffic both ways again after $took s"
lab_log "wireguard check ok${PSK:+ (with a PSK)}"
