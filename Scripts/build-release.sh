#!/usr/bin/env bash
# Builds the flanneld that goes onto nodes: optimized, with the Swift runtime and Foundation
# linked in (--static-swift-stdlib), so it runs where no Swift is installed and maps ~6 MiB
# less than the dynamically linked build. Prints the binary's path on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
args=(-c release --static-swift-stdlib --product flanneld --scratch-path .build-release)
swift build "${args[@]}" >&2
echo "$(swift build "${args[@]}" --show-bin-path)/flanneld"
