#!/usr/bin/env bash
# Instructions per packet of the forwarder's per-packet work (check, route lookup, TTL),
# ours beside stock flanneld's way (linear route scan, full checksum recomputation), counted
# by callgrind in one run: instruction counts are stable on this shared machine, wall time is
# not. The setup (building packets and tables) is measured alone and subtracted.
# Usage: Scripts/packet-instructions.sh [PACKETS]
set -euo pipefail
cd "$(dirname "$0")/../Benchmarks"
packets=${1:-200000}
swift build -c release --product PacketOpsCount >&2
# valgrind 3.19 gives up on the DWARF Swift 6.3 writes ("Possibly corrupted debuginfo"):
# count a stripped copy; totals need no symbols.
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
strip -o "$bin" "$(swift build -c release --show-bin-path)/PacketOpsCount"
count() { # OPERATION N: total instructions
  local out total; out=$(mktemp)
  total=$(valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
  rm -f "$out"
  [ -n "$total" ] || { echo "callgrind counted nothing for $1" >&2; exit 1; }
  echo "$total"
}
setup=$(count none "$packets")
printf '%-16s %12s %18s\n' operation packets "instructions/packet"
for op in pipeline pipeline-stock; do
  total=$(count "$op" "$packets")
  awk -v op="$op" -v t="$total" -v s="$setup" -v n="$packets" \
    'BEGIN { printf "%-16s %12d %18.1f\n", op, n, (t - s) / n }'
done
