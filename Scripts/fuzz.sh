#!/usr/bin/env bash
# Fuzzes TCPCoalescer, UDPCoalescer and SuperPacket.split (Fuzz/, libFuzzer +
# AddressSanitizer): runs of TCP segments and of UDP datagrams built from the input must merge
# into a super-packet that splits back byte for byte; raw inputs as packets, trains and
# super-packets must never crash or touch memory outside their exact-size buffers. Fails on a
# crash (the input is kept in .build-fuzz/) and when no TCP or no UDP super-packet of 2 or
# more segments was round-trip checked.
# Usage: Scripts/fuzz.sh [--runs N] [--seed S]   (defaults: 1000000 runs, seed 1)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=1000000
seed=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--seed S]" >&2; exit 2 ;;
  esac
done

out=.build-fuzz
mkdir -p "$out"
dataplane=(Sources/DataPlane/{SuperPacket,TCPCoalescer,UDPCoalescer,Checksum,VirtioNetHeader,IPv4Packet}.swift)
# The harness compiles these files into its own module, which works only while the only C
# module they import is CChecksum (built here from its own module map and source, so that
# the fuzzed checksum is the shipped one: AVX2 where the CPU has it).
if grep -n '^import ' "${dataplane[@]}" | grep -v ':import CChecksum$' >&2; then
  echo "fuzz: a DataPlane file under test imports a module; Scripts/fuzz.sh needs -I for it" >&2
  exit 1
fi
clang -O2 -fsanitize=address -c Sources/CChecksum/checksum.c -I Sources/CChecksum/include \
  -o "$out/checksum.o"
# ld.gold warns about every ASan check symbol it cannot export: noise, dropped.
if ! swiftc -O -swift-version 6 -sanitize=fuzzer,address -parse-as-library \
  -module-name FlannelFuzz -I Sources/CChecksum/include Fuzz/*.swift "${dataplane[@]}" \
  "$out/checksum.o" -o "$out/fuzz-coalescer" 2>"$out/build.log"; then
  grep -v 'Cannot export local symbol' "$out/build.log" >&2
  echo "fuzz: build failed" >&2
  exit 1
fi

# A fresh corpus each run (reproducible with the fixed seed), started from one input of
# each kind: a generated TCP run, a raw TCP train, a raw super-packet, a generated UDP run,
# a raw UDP train.
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
printf '\000\012\001\001\002\012\001\002\003\234\100\024\121\001\002\003\004\001\366\100\000\000\000\000\000\000\000\000\003\022\064\000\000\003\350\005\005\040' \
  >"$corpus/run"
printf '\002\027\064\105\000\000\064\000\000\100\000\100\006\000\000\012\001\001\002\012\001\002\002\234\100\024\121\000\000\003\350\001\002\003\004\120\020\001\366\000\000\000\000abcdefghijkl\100\014mnopqrstuvwx' \
  >"$corpus/train"
printf '\003\100\000\000\000\000\144\000\024\000\020\000\000\000\001\000\105\000\000\000\000\000\100\000\100\006\000\000\012\001\001\002\012\001\002\002\234\100\024\121\000\000\003\350\001\002\003\004\120\020\001\366\000\000\000\000abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz' \
  >"$corpus/superpacket"

printf '\004\012\001\001\002\012\001\002\002\234\100\024\265\100\000\100\022\064\001\077\012\000\000\000\000\000\001\002\003\004\005\006\007\010' \
  >"$corpus/udprun"
printf '\006\037\050\105\000\000\050\000\001\100\000\100\021\000\000\012\001\001\002\012\001\002\002\234\100\024\265\000\024\000\000abcdefghijkl\100\014mnopqrstuvwx' \
  >"$corpus/udptrain"

log="$out/fuzz.log"
start=$(date +%s)
set +e
SWIFT_BACKTRACE=enable=no "$out/fuzz-coalescer" -runs="$runs" -seed="$seed" -timeout=20 -max_len=2048 -artifact_prefix="$out/" \
  "$corpus" >"$log" 2>&1
rc=$?
set -e
seconds=$(($(date +%s) - start))
if [ "$rc" -ne 0 ]; then
  tail -n 60 "$log" >&2
  echo "fuzz: FAILED (exit $rc); crash input and log in $out/" >&2
  exit 1
fi
grep -E '^Done [0-9]+ runs' "$log"
grep -E '^fuzz: (UDP )?round trips|^fuzz: raw super-packets' "$log" || true
# round_trips PREFIX: the count on the summary line "fuzz: PREFIXround trips ...".
round_trips() {
  sed -n "s/^fuzz: $1round trips with >=2 merged segments: \([0-9]*\).*/\1/p" "$log"
}
tcp=$(round_trips "")
udp=$(round_trips "UDP ")
if [ -z "$tcp" ] || [ "$tcp" -eq 0 ]; then
  echo "fuzz: FAILED: no TCP super-packet of 2 or more segments was round-trip checked" >&2
  exit 1
fi
if [ -z "$udp" ] || [ "$udp" -eq 0 ]; then
  echo "fuzz: FAILED: no UDP super-packet of 2 or more datagrams was round-trip checked" >&2
  exit 1
fi
echo "fuzz: $runs runs in ${seconds}s, $tcp TCP and $udp UDP super-packets split back byte for byte"
