#!/usr/bin/env bash
# Builds the flanneld that goes onto nodes: optimized, with the Swift runtime and Foundation
# linked in (--static-swift-stdlib), so it runs where no Swift is installed and maps ~6 MiB
# less than the dynamically linked build. Linked as a position-dependent executable (-no-pie),
# as Go builds stock flanneld: the loader then has no relocations to apply to the ~10 MiB of
# Swift metadata, which saves another ~2 MiB of resident memory (Scripts/lease-scale.sh).
# Prints the binary's path on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
args=(-c release --static-swift-stdlib --product flanneld --scratch-path .build-release
  -Xlinker -no-pie)
swift build "${args[@]}" >&2
echo "$(swift build "${args[@]}" --show-bin-path)/flanneld"
