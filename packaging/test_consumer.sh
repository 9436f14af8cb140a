#!/usr/bin/env bash
# Checks the CMake packaging end to end: configures, builds and installs this repository into
# a temporary prefix, then builds and runs packaging/consumer twice against that install,
# once with find_package(mptcp) and once with a plain g++ line from `pkg-config`.
# Exit 0: both consumers ran; 77: skipped (cmake or pkg-config missing); else a failure.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

for tool in cmake pkg-config g++; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (scripts/install-deps.sh installs it)"
    exit 77
  fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
jobs="${JOBS:-2}"
step() { echo "-- $*"; }
# Quiet on success, the whole log on failure.
quiet() {
  local log="$work/last.log"
  if ! "$@" >"$log" 2>&1; then cat "$log"; echo "FAILED: $*"; exit 1; fi
}

step "configure, build, install mptcp into a temporary prefix"
quiet cmake -S "$repo" -B "$work/build" -DCMAKE_INSTALL_PREFIX="$prefix"
quiet cmake --build "$work/build" -j "$jobs"
quiet cmake --install "$work/build"

step "consumer with find_package(mptcp)"
quiet cmake -S "$repo/packaging/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix"
quiet cmake --build "$work/consumer" -j "$jobs"
"$work/consumer/consumer"
"$work/consumer/consumer_io"

step "consumer with pkg-config"
libdir="$(find "$prefix" -name mptcp.pc -printf '%h\n' | head -1)"
export PKG_CONFIG_PATH="$libdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# shellcheck disable=SC2046  # pkg-config's output is a list of flags
quiet g++ -O0 -o "$work/consumer_pc" "$repo/packaging/consumer/main.cc" \
  $(pkg-config --cflags --libs mptcp)
"$work/consumer_pc"
# shellcheck disable=SC2046
quiet g++ -O0 -o "$work/consumer_io_pc" "$repo/packaging/consumer/io_main.cc" \
  $(pkg-config --cflags --libs mptcp-io)
"$work/consumer_io_pc"

echo "PASS: find_package(mptcp) and pkg-config consumers built and ran"
