#!/usr/bin/env bash
# libFuzzer on every parser of input from outside, and (with AddressSanitizer) on the
# packet split and merge. Each target checks properties, not only "no crash":
#   packet      TCPCoalescer, UDPCoalescer, SuperPacket.split (Fuzz/Packet): runs of segments
#               built from the input merge into a super-packet that splits back byte for byte;
#               raw packets, trains and super-packets never crash or touch memory outside
#               their exact-size buffers; IPv6 packets: IPv6Packet.check and the extension-
#               header walk agree with a reference, the ICMPv6 no-route reply is due exactly
#               when allowed and verifies; IPv6 TSO6/USO super-packets split into valid packets
#               that merge back and split again byte for byte
#   json        JSONValue.parse / serialized(): parse(serialize(x)) == x, stable bytes
#   netconfig   NetworkConfig.parse: a config that parses re-serializes to one that parses to
#               the same config, also with its defaults written out; flannel's bounds hold
#   lease       LeaseAttrs.decode / json(style:) of both stock layouts, BackendData,
#               PublicIPv6, BackendV6Data, VtepMAC
#   subnetkey   SubnetKey.parse / format round trip (bare, under a prefix, dual-stack,
#               IPv6-only); IPv6Address vs glibc inet_pton
#   subnetenv   subnet.env reading (variables, previousSubnet, previousIPv6Subnet) vs rendered()
#   v2time      etcd v2 expiration parser vs a reference of Go's RFC 3339 rules + timegm
#   v2response  etcd v2 response and error decoding; generated responses decode exactly
#   v3watch     etcd v3 watch stream parser: the same messages whatever the chunking
#   flags       Go-flag parser with flanneld's flags on random argv + FLANNELD_* environment
#   http        the probe port's request-head reader: the head ends at the first blank line,
#               a parsed request written back parses the same, generated heads parse exactly
#   wghandshake WireGuard handshake readers (initiation, response, cookie reply, mac2) and key
#               text: arbitrary bytes never pass, a generated handshake completes with
#               matching keys, one flipped bit before mac2 is refused
#   wgmessage   WireGuard datagram classifier, message views and writers, transport padding:
#               the class agrees with a reference of the protocol's rules, every field lies
#               where the layout puts it, written messages read back
#   wgreplay    WireGuard ReplayWindow against a model (a set of seen counters + the window rule)
#   wgconfig    wireguard Backend config, lease BackendData and key text: round trips, every
#               refusal names its field
#   wgdevice    WireGuard HandshakeDevice driven by input scripts (arbitrary and shaped datagrams,
#               real and bit-flipped handshakes, ticks, reports, config changes): every datagram
#               accounted for, garbage changes no session, sent messages well-formed, session
#               sets consistent, deadlines move past tick, real handshakes complete
# Fails on a crash or failed property (the input is kept in .build-fuzz/<target>/) and when
# a target's round trips never ran. Targets run two at a time; the time of each is printed.
# Usage: Scripts/fuzz.sh [--runs N] [--seed S] [--target NAME]
#        (defaults: 1000000 runs per target, seed 1, every target)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=1000000
seed=1
only=""
parser_targets=(json netconfig lease subnetkey subnetenv v2time v2response v3watch flags http
  wghandshake wgmessage wgreplay wgconfig wgdevice)
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --target) only=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--seed S] [--target NAME]" >&2; exit 2 ;;
  esac
done
if [ -n "$only" ] && ! [[ " packet ${parser_targets[*]} " == *" $only "* ]]; then
  echo "fuzz: unknown target $only; one of: packet ${parser_targets[*]}" >&2
  exit 2
fi

out=.build-fuzz
mkdir -p "$out/modules"
swiftc_fuzz=(swiftc -O -swift-version 6 -sanitize=fuzzer,address -parse-as-library)
# The parsers are safe Swift (bounds and overflow checks trap, which libFuzzer reports as a
# crash); AddressSanitizer would only slow them down (about 2x, mostly in malloc), and their
# 10^6 runs each must fit the CI budget. The packet code works on raw pointers: it keeps ASan.
swiftc_parsers=(swiftc -O -swift-version 6 -sanitize=fuzzer -parse-as-library)

# compile LOG COMMAND...: runs a build step; on failure shows its log (without ld.gold's
# warning about every ASan check symbol it cannot export: noise) and exits.
compile() {
  local log=$1
  shift
  if ! "$@" 2>"$log"; then
    grep -v 'Cannot export local symbol' "$log" >&2
    echo "fuzz: build failed ($log)" >&2
    return 1
  fi
}

# stale OUTPUT FILES...: true when OUTPUT is missing or older than one of FILES (local
# reruns rebuild only what changed; CI starts from nothing).
stale() {
  local output=$1
  shift
  [ ! -e "$output" ] || [ -n "$(find "$@" -newer "$output" -print -quit)" ]
}

# The packet target compiles these DataPlane files into its own module, which works only
# while the only C modules they import are CChecksum (built here from its own module map and
# source, so the fuzzed checksum is the shipped one: AVX2 where the CPU has it) and
# CSystemShims, of which they use only header constants (a module map made here).
dataplane=(Sources/DataPlane/{SuperPacket,TCPCoalescer,UDPCoalescer,Checksum,VirtioNetHeader,IPv4Packet,IPv6Packet,NoRouteICMPv6}.swift)
if grep -n '^import ' "${dataplane[@]}" | grep -vE ':import (CChecksum|CSystemShims)$' >&2; then
  echo "fuzz: a DataPlane file under test imports a module; Scripts/fuzz.sh needs -I for it" >&2
  exit 1
fi
build_packet() {
  local files=(Fuzz/Packet/*.swift Fuzz/Common/*.swift "${dataplane[@]}" Sources/CChecksum/checksum.c)
  stale "$out/fuzz-packet" "${files[@]}" Scripts/fuzz.sh || return 0
  clang -O2 -fsanitize=address -c Sources/CChecksum/checksum.c -I Sources/CChecksum/include \
    -o "$out/checksum.o"
  mkdir -p "$out/shims"
  printf 'module CSystemShims {\n  header "%s"\n  export *\n}\n' \
    "$PWD/Sources/CSystemShims/include/CSystemShims.h" >"$out/shims/module.modulemap"
  compile "$out/build-packet.log" "${swiftc_fuzz[@]}" -module-name FlannelFuzz \
    -I Sources/CChecksum/include -I "$out/shims" Fuzz/Packet/*.swift Fuzz/Common/*.swift "${dataplane[@]}" \
    "$out/checksum.o" -o "$out/fuzz-packet"
}

# The parser targets link FlannelCore, Etcd and of Daemon the flag parser and the probe
# port's HTTP head reader, each compiled as its own module with the same instrumentation (and
# -enable-testing, so the harness reaches internal parsers such as V2Time). Etcd imports
# CCurl: its module map is found with -I and libcurl is linked. Of Daemon only those files
# are compiled; they must stay free of imports (FlanneldOptions.swift, which imports
# DataPlane and SubnetManager, is left out).
flag_files=(Sources/Daemon/Health/HTTPExchange.swift)
for f in Sources/Daemon/Options/*.swift; do
  [ "$f" = Sources/Daemon/Options/FlanneldOptions.swift ] || flag_files+=("$f")
done
if grep -n '^import ' "${flag_files[@]}" >&2; then
  echo "fuzz: a flag-parser or HTTP file imports a module; Scripts/fuzz.sh compiles them alone" >&2
  exit 1
fi
# build_module NAME FILES...
build_module() {
  local name=$1
  shift
  stale "$out/$name.o" "$@" Scripts/fuzz.sh || return 0
  compile "$out/build-$name.log" "${swiftc_parsers[@]}" -enable-testing -wmo -module-name "$name" \
    -I Sources/CCurl -I Sources/CCrypto -emit-module -emit-module-path "$out/modules/$name.swiftmodule" \
    -c "$@" -o "$out/$name.o"
}
harness=(Fuzz/Parsers/*.swift Fuzz/Common/*.swift Fuzz/{JSON,NetworkConfig,Lease,SubnetKey,SubnetEnv,V2Time,V2Response,V3Watch,Flags,HTTP}/*.swift
  Fuzz/{WireGuardHandshake,WGMessage,WGReplay,WGConfig,WGDevice}/*.swift)
build_parsers() {
  stale "$out/fuzz-parsers" "${harness[@]}" "$out"/{FlannelCore,Etcd,Daemon,WireGuard}.o || return 0
  compile "$out/build-parsers.log" "${swiftc_parsers[@]}" -module-name FlannelParserFuzz \
    -I "$out/modules" -I Sources/CCurl -I Sources/CCrypto "${harness[@]}" \
    "$out"/{FlannelCore,Etcd,Daemon,WireGuard}.o -lcurl -lcrypto -o "$out/fuzz-parsers"
}

build_start=$(date +%s)
# Two compilers at a time (the CI machine has two cores).
pids=()
if [ -z "$only" ] || [ "$only" = packet ]; then
  build_packet &
  pids+=($!)
fi
if [ "$only" != packet ]; then
  build_module FlannelCore Sources/FlannelCore/*.swift &
  pids+=($!)
  build_module Etcd Sources/Etcd/*.swift &
  pids+=($!)
fi
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
if [ "$only" != packet ]; then
  build_module Daemon "${flag_files[@]}" || failed=1
  # WireGuard imports CCrypto (module map found with -I, libcrypto linked above).
  mapfile -t wireguard_files < <(find Sources/WireGuard -name '*.swift' | sort)
  build_module WireGuard "${wireguard_files[@]}" || failed=1
  [ "$failed" = 0 ] && { build_parsers || failed=1; }
fi
[ "$failed" = 0 ] || exit 1
echo "fuzz: built in $(($(date +%s) - build_start))s"

# Fresh corpora each run (reproducible with the fixed seed), from the committed seeds in
# Fuzz/corpus/<target>/ (real configs, leases of both stock generations, v2 responses and
# v3 watch lines recorded from etcd) and, for the packet target, one input of each kind:
# a generated TCP run, a raw TCP train, a raw super-packet, a generated UDP run, a raw UDP
# train, an IPv6 echo request to no lease, an IPv6 TCP super-packet.
corpora=$(mktemp -d)
trap 'rm -rf "$corpora"' EXIT
mkdir "$corpora/packet"
printf '\000\012\001\001\002\012\001\002\003\234\100\024\121\001\002\003\004\001\366\100\000\000\000\000\000\000\000\000\003\022\064\000\000\003\350\005\005\040' \
  >"$corpora/packet/run"
printf '\002\027\064\105\000\000\064\000\000\100\000\100\006\000\000\012\001\001\002\012\001\002\002\234\100\024\121\000\000\003\350\001\002\003\004\120\020\001\366\000\000\000\000abcdefghijkl\100\014mnopqrstuvwx' \
  >"$corpora/packet/train"
printf '\003\100\000\000\000\000\144\000\024\000\020\000\000\000\001\000\105\000\000\000\000\000\100\000\100\006\000\000\012\001\001\002\012\001\002\002\234\100\024\121\000\000\003\350\001\002\003\004\120\020\001\366\000\000\000\000abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz' \
  >"$corpora/packet/superpacket"
printf '\004\012\001\001\002\012\001\002\002\234\100\024\265\100\000\100\022\064\001\077\012\000\000\000\000\000\001\002\003\004\005\006\007\010' \
  >"$corpora/packet/udprun"
printf '\006\037\050\105\000\000\050\000\001\100\000\100\021\000\000\012\001\001\002\012\001\002\002\234\100\024\265\000\024\000\000abcdefghijkl\100\014mnopqrstuvwx' \
  >"$corpora/packet/udptrain"
printf '\010\177\140\000\000\000\000\010\072\100\375\020\000\000\000\000\000\001\000\000\000\000\000\000\000\002\375\020\000\000\000\000\000\143\000\000\000\000\000\000\000\001\200\000\000\000\000\001\000\001' \
  >"$corpora/packet/ipv6"
{ # An IPv6 TCP super-packet (20 bytes of options, gso size 500, 1800 payload bytes).
  printf '\011\120\001\364'; head -c 32 /dev/zero | tr '\000' '\375'; printf '\030'
  head -c 20 /dev/zero | tr '\000' '\001'; head -c 1800 /dev/zero | tr '\000' 'p'
} >"$corpora/packet/ipv6tso"
for target in "${parser_targets[@]}"; do
  mkdir "$corpora/$target"
  cp Fuzz/corpus/"$target"/* "$corpora/$target/"
done

# Longest input per target: room for the longest real value (a recursive v2 listing, two
# watch lines, a config with a big Backend, a unit file's flanneld line, a subnet.env) and
# some, no more: run time grows with input length, and all runs must fit the CI budget.
max_len() {
  case "$1" in
    packet) echo 2048 ;;
    json | netconfig | v2response) echo 1024 ;;
    v3watch) echo 896 ;;
    lease) echo 768 ;;
    subnetenv | flags) echo 192 ;;
    http) echo 512 ;;
    wghandshake) echo 160 ;;
    wgdevice) echo 256 ;;
    wgreplay | wgconfig) echo 512 ;;
    wgmessage) echo 256 ;;
    *) echo 128 ;;
  esac
}

# Runs per target: --runs, but a tenth for wghandshake, whose runs each do X25519 and
# BLAKE2s work (≈ 0.5 ms: 10^6 runs would add 9 minutes to CI), and a 25th for wgdevice,
# whose runs are scripts of up to 48 such steps (≈ 1.5 ms).
runs_for() {
  case "$1" in
    wghandshake) echo $(((runs + 9) / 10)) ;;
    wgdevice) echo $(((runs + 24) / 25)) ;;
    *) echo "$runs" ;;
  esac
}

# run_target NAME: one libFuzzer run; its log, crash input, exit code and times (wall and
# CPU seconds: CPU is what counts on a shared machine) stay in $out/NAME/.
run_target() {
  local name=$1 dir="$out/$1" rc
  rm -rf "$dir"
  mkdir -p "$dir"
  local binary=(env FLANNEL_FUZZ_TARGET="$name" "$out/fuzz-parsers")
  [ "$name" = packet ] && binary=("$out/fuzz-packet")
  local TIMEFORMAT='%R %U %S'
  set +e
  {
    time SWIFT_BACKTRACE=enable=no "${binary[@]}" -runs="$(runs_for "$name")" -seed="$seed" -timeout=20 \
      -max_len="$(max_len "$name")" -artifact_prefix="$dir/" "$corpora/$name" \
      >"$dir/fuzz.log" 2>&1
  } 2>"$dir/time"
  rc=$?
  set -e
  read -r wall user sys <"$dir/time"
  echo "$rc ${wall%.*} $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", u + s }')" >"$dir/result"
}

# check_target NAME: prints the target's summary; returns 1 if it failed.
check_target() {
  local name=$1 dir="$out/$1" log="$out/$1/fuzz.log" rc seconds cpu
  read -r rc seconds cpu <"$dir/result"
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz: $name FAILED (exit $rc); crash input and log in $dir/" >&2
    return 1
  fi
  if [ "$name" = packet ]; then
    local tcp udp
    tcp=$(sed -n 's/^fuzz: round trips with >=2 merged segments: \([0-9]*\).*/\1/p' "$log")
    udp=$(sed -n 's/^fuzz: UDP round trips with >=2 merged segments: \([0-9]*\).*/\1/p' "$log")
    if [ -z "$tcp" ] || [ "$tcp" -eq 0 ] || [ -z "$udp" ] || [ "$udp" -eq 0 ]; then
      grep '^fuzz:' "$log" >&2
      echo "fuzz: packet FAILED: no TCP or no UDP super-packet of 2 or more segments was round-trip checked" >&2
      return 1
    fi
    local v6
    local v6 split6 merge6
    v6=$(sed -n 's/^fuzz: IPv6 packets checked as forwardable: [0-9]*, ICMPv6 replies verified: \([0-9]*\).*/\1/p' "$log")
    split6=$(sed -n 's/^fuzz: IPv6 .*IPv6 super-packets split and verified: \([0-9]*\).*/\1/p' "$log")
    merge6=$(sed -n 's/^fuzz: IPv6 .*IPv6 merge round trips: \([0-9]*\).*/\1/p' "$log")
    if [ -z "$v6" ] || [ "$v6" -eq 0 ] || [ -z "$split6" ] || [ "$split6" -eq 0 ] ||
      [ -z "$merge6" ] || [ "$merge6" -eq 0 ]; then
      grep '^fuzz:' "$log" >&2
      echo "fuzz: packet FAILED: no ICMPv6 reply, IPv6 split or IPv6 merge round trip was verified" >&2
      return 1
    fi
    echo "fuzz: packet: $runs runs in ${seconds}s (CPU ${cpu}s), $tcp TCP and $udp UDP super-packets split back byte for byte (IPv6: $merge6), $split6 IPv6 splits and $v6 ICMPv6 replies verified"
    return 0
  fi
  if grep -q "^fuzz: $name UNEXERCISED" "$log"; then
    grep '^fuzz:' "$log" >&2
    echo "fuzz: $name FAILED: a property check never ran" >&2
    return 1
  fi
  echo "fuzz: $name: $(runs_for "$name") runs in ${seconds}s (CPU ${cpu}s); $(sed -n "s/^fuzz: $name check //p" "$log" | paste -sd ';' | sed 's/;/; /g')"
}

targets=(packet "${parser_targets[@]}")
[ -n "$only" ] && targets=("$only")
running=()
for target in "${targets[@]}"; do
  if [ "${#running[@]}" -ge 2 ]; then
    wait -n || true
    still=()
    for pid in "${running[@]}"; do kill -0 "$pid" 2>/dev/null && still+=("$pid"); done
    running=("${still[@]}")
  fi
  run_target "$target" &
  running+=($!)
done
wait
failed=0
for target in "${targets[@]}"; do check_target "$target" || failed=1; done
[ "$failed" = 0 ] || exit 1
