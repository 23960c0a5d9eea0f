#!/usr/bin/env bash
# Records WireGuard handshakes between our implementation (wireguard-probe, keys, ephemeral,
# index and timestamp fixed) and Debian's wireguard-go, in two network namespaces joined by a
# veth pair, and writes the transcripts Tests/WireGuardTests replays byte for byte:
#   Tests/Transcripts/wireguard-go-initiator.txt  we initiate (with a PSK), wireguard-go
#                                                 responds and answers an ICMP echo
#   Tests/Transcripts/wireguard-go-responder.txt  wireguard-go initiates (a ping it must
#                                                 send), we respond, its ping follows
# Each file holds every input (both private keys, our ephemeral, the PSK) and every datagram
# in hex. Run once when the handshake code changes its output on purpose; the tests do not
# need wireguard-go. Needs root, iproute2, wireguard-go and wireguard-tools (wg), a build of
# wireguard-probe (swift build --product wireguard-probe).
set -euo pipefail
cd "$(dirname "$0")/.."
probe=${WIREGUARD_PROBE:-$(swift build --show-bin-path)/wireguard-probe}
out=${1:-Tests/Transcripts}
id=wgtr$$
ns_go=${id}g ns_us=${id}u
pids=()
work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  ip netns del "$ns_go" 2>/dev/null || true
  ip netns del "$ns_us" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns_go"
ip netns add "$ns_us"
ip link add "${id}a" netns "$ns_go" type veth peer name "${id}b" netns "$ns_us"
ip -n "$ns_go" addr add 192.168.203.1/24 dev "${id}a"
ip -n "$ns_us" addr add 192.168.203.2/24 dev "${id}b"
for ns in "$ns_go" "$ns_us"; do ip -n "$ns" link set lo up; done
ip -n "$ns_go" link set "${id}a" up
ip -n "$ns_us" link set "${id}b" up

# start_go DEVICE PRIVATE PEER_PUBLIC ENDPOINT_PORT OWN_INNER OUR_INNER [PSK]: a wireguard-go
# device (a name of its own: the control sockets in /var/run/wireguard are shared by every
# namespace) set up as a stock flannel node would set up its kernel device.
start_go() {
  local dev=$1 key=$2 peer=$3 port=$4 own=$5 ours=$6 psk=${7:-}
  WG_PROCESS_FOREGROUND=1 ip netns exec "$ns_go" wireguard-go -f "$dev" >"$work/$dev.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do ip -n "$ns_go" link show "$dev" >/dev/null 2>&1 && break; sleep 0.05; done
  local args=(peer "$peer" endpoint "192.168.203.2:$port" allowed-ips "${ours%.*}.0/24")
  echo "$key" >"$work/$dev.key"
  if [ -n "$psk" ]; then
    echo "$psk" >"$work/$dev.psk"
    args+=(preshared-key "$work/$dev.psk")
  fi
  ip netns exec "$ns_go" wg set "$dev" private-key "$work/$dev.key" listen-port "$port" "${args[@]}"
  ip -n "$ns_go" addr add "$own/32" dev "$dev"
  ip -n "$ns_go" link set "$dev" up
  ip -n "$ns_go" route add "${ours%.*}.0/24" dev "$dev"
}

stamp="# recorded by Scripts/wireguard-transcript.sh on $(date -u +%F) against $(wireguard-go --version | head -1)"

# 1. We initiate, with a PSK; wireguard-go answers our echo request.
go_key=$(wg genkey) our_key=$(wg genkey) psk=$(wg genpsk) ephemeral=$(wg genkey)
start_go "${id}i" "$go_key" "$(wg pubkey <<<"$our_key")" 51820 10.45.1.1 10.45.2.1 "$psk"
{
  echo "$stamp"
  echo "peer-private $go_key"
  ip netns exec "$ns_us" "$probe" initiate private="$our_key" \
    peer-public="$(wg pubkey <<<"$go_key")" psk="$psk" ephemeral="$ephemeral" index=1234567 \
    timestamp=1765000000.123000000 bind=192.168.203.2:51820 peer=192.168.203.1:51820 \
    inner-source=10.45.2.1 inner-destination=10.45.1.1
} >"$out/wireguard-go-initiator.txt"

# 2. wireguard-go initiates (it has a ping for us to send); we respond, without a PSK.
go_key=$(wg genkey) our_key=$(wg genkey) ephemeral=$(wg genkey)
start_go "${id}r" "$go_key" "$(wg pubkey <<<"$our_key")" 51821 10.46.1.1 10.46.2.1
{
  echo "$stamp"
  echo "peer-private $go_key"
  ip netns exec "$ns_us" "$probe" respond private="$our_key" \
    peer-public="$(wg pubkey <<<"$go_key")" ephemeral="$ephemeral" index=7654321 \
    bind=192.168.203.2:51821 peer=192.168.203.1:51821 &
  probe_pid=$!
  # The probe's socket is bound before the ping asks wireguard-go for a handshake.
  for _ in $(seq 100); do
    ip netns exec "$ns_us" ss -Huln 'sport = :51821' | grep -q . && break
    sleep 0.05
  done
  ip netns exec "$ns_go" ping -c 1 -W 3 10.46.2.1 >/dev/null 2>&1 || true
  wait "$probe_pid"
} >"$out/wireguard-go-responder.txt"
echo "transcripts in $out:"
wc -l "$out"/wireguard-go-*.txt
