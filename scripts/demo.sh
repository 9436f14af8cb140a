#!/usr/bin/env bash
# The simulated multipath demo (README.md, "Quickstart"): a server streams video to a phone
# over Wi-Fi and 3G, Wi-Fi fails mid-stream and comes back, all on the in-memory network
# simulator with this library's MPTCP at both ends (tools/scenarios/demo.json). Installs what
# it needs (Debian 12), builds mptcp_sim, runs the demo and says where its CSV and SVG went.
# Arguments go to mptcp_sim, e.g. `./scripts/demo.sh --seed=2` or `--pcap=out/demo.pcap`.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "Building mptcp_sim (the first build takes a few minutes) ..."
# The default configuration (-O2), as `bazel test` builds it: nothing to rebuild after tests.
if ! bazel build //tools:mptcp_sim >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
bazel-bin/tools/mptcp_sim --csv=out/demo.csv --svg=out/demo.svg "$@"

echo
echo "CSV (per second and path): $PWD/out/demo.csv"
echo "SVG (open in a browser):   $PWD/out/demo.svg"
