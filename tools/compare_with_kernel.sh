#!/usr/bin/env bash
# compare_with_kernel.sh: one connection's two-subflow goodput, this library against the Linux
# kernel's MPTCP, run back to back (issue 11, must-show 5; the goal is a ratio of at least 1.0x).
#
#   ours:   //mptcp:connection_benchmark, BM_TwoSubflowTransfer/dss_checksum:0 — two Endpoints
#           in memory on one core, two subflows, no DSS checksum (Google Benchmark, 2 s a run)
#   kernel: //tools/bench:kernel_mptcp_loopback — one MPTCP socket pair over loopback in a
#           private network namespace, two subflows (127.0.0.1 and 127.0.0.2), --bytes a run
#
# Builds both with -c opt, runs them alternately (ours, kernel, ours, kernel, ...) --runs times
# and prints each run, the medians, the ratio ours/kernel and the machine.
#
#   tools/compare_with_kernel.sh [--runs N] [--bytes N] [--tcp]
#     --runs N    rounds, each one run of ours and one of the kernel's (default 5)
#     --bytes N   bytes per kernel run (default 1 GiB)
#     --tcp       also measure one plain kernel TCP connection per round, for reference
#   BAZEL="bazel --output_base=/tmp/ob" tools/compare_with_kernel.sh   # another bazel command
#
# Needs root for the kernel side (a network namespace). Exit status: 0 measured (whatever the
# ratio), 1 a build or run failed, 2 bad usage, 77 the kernel side cannot run here (the reason
# is printed: not root, no kernel MPTCP, no `ip mptcp`, ...).
set -euo pipefail

readonly kFilter='BM_TwoSubflowTransfer/dss_checksum:0'
runs=5
bytes=$((1 << 30))
with_tcp=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
  case "$1" in
    --runs) runs="${2:-}"; shift 2 || { usage >&2; exit 2; } ;;
    --runs=*) runs="${1#*=}"; shift ;;
    --bytes) bytes="${2:-}"; shift 2 || { usage >&2; exit 2; } ;;
    --bytes=*) bytes="${1#*=}"; shift ;;
    --tcp) with_tcp=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if ! [[ "$runs" =~ ^[1-9][0-9]*$ && "$bytes" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: --runs and --bytes take positive integers" >&2
  exit 2
fi

read -r -a bazel <<<"${BAZEL:-bazel}"
cd "$(dirname "$0")/.."

# --symlink_prefix=/: leave the workspace's bazel-* convenience links as they are.
echo "== building with -c opt: //mptcp:connection_benchmark //tools/bench:kernel_mptcp_loopback" >&2
if ! "${bazel[@]}" build -c opt --symlink_prefix=/ //mptcp:connection_benchmark \
    //tools/bench:kernel_mptcp_loopback; then
  echo "error: the build failed" >&2
  exit 1
fi
bin="$("${bazel[@]}" info -c opt --symlink_prefix=/ bazel-bin 2>/dev/null)"
ours="$bin/mptcp/connection_benchmark"
kernel="$bin/tools/bench/kernel_mptcp_loopback"
for b in "$ours" "$kernel"; do
  [[ -x "$b" ]] || { echo "error: $b was not built" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cpus="$(nproc)"
model="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
kernel_release="$(uname -r)"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"

# One run of ours: prints "<Gbit/s per CPU-second> <Gbit/s wall clock>".
run_ours() {
  local i="$1"
  if ! "$ours" --benchmark_filter="$kFilter" --benchmark_format=json \
      --benchmark_repetitions=1 >"$tmp/ours$i.json" 2>"$tmp/ours$i.err"; then
    echo "error: connection_benchmark failed:" >&2
    cat "$tmp/ours$i.err" >&2
    return 1
  fi
  python3 - "$tmp/ours$i.json" "$kFilter" "$tmp/ours$i.err" <<'EOF'
import json, sys
try:
    runs = [b for b in json.load(open(sys.argv[1]))["benchmarks"]
            if b.get("run_type", "iteration") == "iteration" and b["name"].startswith(sys.argv[2])]
except (ValueError, KeyError):
    runs = []
if len(runs) != 1 or runs[0].get("error_occurred"):
    sys.exit("error: expected one run of %s from connection_benchmark, got %s\n%s"
             % (sys.argv[2], runs, open(sys.argv[3]).read()))
r = runs[0]
bps = r["bytes_per_second"]  # per CPU-second of the benchmark's one thread
print("%.6f %.6f" % (bps * 8 / 1e9, bps * r["cpu_time"] / r["real_time"] * 8 / 1e9))
EOF
}

# One run of the kernel side; prints "<Gbit/s> <subflows>" ("<Gbit/s> -" with --tcp).
# Exits 77 (skipped) or 1 (failed) itself.
run_kernel() {
  local i="$1" mode="$2" rc=0 key=kernel_mptcp_loopback
  local -a args=(--bytes="$bytes")
  if [[ "$mode" == tcp ]]; then args+=(--tcp); key=kernel_tcp_loopback; fi
  if [[ "$mode" == mptcp_preflight ]]; then args=(--bytes=1048576); fi
  "$kernel" "${args[@]}" >"$tmp/$mode$i.out" 2>"$tmp/$mode$i.err" || rc=$?
  if ((rc == 77)); then
    echo "SKIPPED: the kernel side cannot run on this machine:" >&2
    cat "$tmp/$mode$i.err" >&2
    exit 77
  elif ((rc != 0)); then
    echo "error: kernel_mptcp_loopback ${args[*]} exited $rc:" >&2
    cat "$tmp/$mode$i.out" "$tmp/$mode$i.err" >&2
    exit 1
  fi
  cat "$tmp/$mode$i.err" >&2  # warnings (e.g. the second subflow did not join)
  awk -v k="$key" '$1 == k "_gbit_s" { g = $2 } $1 == k "_subflows" { s = $2 }
                   END { if (g == "") exit 1; print g, (s == "" ? "-" : s) }' "$tmp/$mode$i.out" || {
    echo "error: no ${key}_gbit_s line in:" >&2
    cat "$tmp/$mode$i.out" >&2
    exit 1
  }
}

# A 1 MiB kernel run first: skips (77) before any measurement when the kernel side cannot run.
run_kernel 0 mptcp_preflight >/dev/null
echo "== $runs rounds, each: ours ($kFilter, ~2 s), then the kernel ($bytes bytes)" >&2
: >"$tmp/results"
for ((i = 1; i <= runs; ++i)); do
  # Not in $(...): run_kernel's `exit 77` must end this shell, not a subshell.
  run_ours "$i" >"$tmp/line"
  read -r ours_cpu ours_wall <"$tmp/line"
  run_kernel "$i" mptcp >"$tmp/line"
  read -r k_gbit k_subflows <"$tmp/line"
  t_gbit=-
  if ((with_tcp)); then
    run_kernel "$i" tcp >"$tmp/line"
    read -r t_gbit _ <"$tmp/line"
  fi
  echo "$ours_cpu $ours_wall $k_gbit $k_subflows $t_gbit" >>"$tmp/results"
  tcp_note=""
  ((with_tcp)) && tcp_note="$(printf ', kernel TCP %.2f Gbit/s' "$t_gbit")"
  printf 'round %d/%d: ours %.2f Gbit/s, kernel MPTCP %.2f Gbit/s (%s subflows)%s\n' "$i" "$runs" \
    "$ours_cpu" "$k_gbit" "$k_subflows" "$tcp_note" >&2
done

python3 - "$tmp/results" "$runs" "$bytes" "$cpus" "$model" "$kernel_release" "$load_start" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$kFilter" <<'EOF'
import statistics, sys
path, runs, nbytes, cpus, model, release, load0, load1, flt = sys.argv[1:]
rows = [line.split() for line in open(path) if line.strip()]
cols = list(zip(*rows))
num = lambda c: [float(x) for x in c]
ours, ours_wall, kern, subflows, tcp = num(cols[0]), num(cols[1]), num(cols[2]), cols[3], cols[4]
med = statistics.median
def row(label, values, fmt="%7.2f", median=True):
    cells = "".join(fmt % v if isinstance(v, float) else "%7s" % v for v in values)
    tail = (fmt % med(values)) if median else ""
    print("%-42s%s   %s" % (label, cells, tail))
print("Two-subflow goodput of one connection: this library in memory vs Linux MPTCP over loopback")
print("machine: %s CPUs, %s, Linux %s; load average %s at start, %s at end"
      % (cpus, model, release, load0, load1))
print("ours: %s (Gbit/s from its bytes_per_second,\n      i.e. per CPU-second of its one thread; "
      "wall clock: the same over real time)" % flt)
print("kernel: kernel_mptcp_loopback --bytes=%s (wall time from connect to last byte)" % nbytes)
print()
print("%-42s%s   %7s" % ("Gbit/s", "".join("%7s" % ("run%d" % (i + 1)) for i in range(len(rows))),
                          "median"))
row("ours, in memory (per CPU-second)", ours)
row("ours, in memory (wall clock)", ours_wall)
row("kernel MPTCP, loopback", kern)
row("kernel MPTCP subflows", list(subflows), median=False)
if tcp[0] != "-":
    row("kernel TCP, loopback (reference)", num(tcp))
ratio, ratio_wall = med(ours) / med(kern), med(ours_wall) / med(kern)
print()
print("ratio ours/kernel (medians): %.2fx (wall clock: %.2fx); goal >= 1.0x: %s"
      % (ratio, ratio_wall, "met" if ratio >= 1.0 else "NOT met"))
print("ours_gbit_s %.3f" % med(ours))
print("kernel_mptcp_gbit_s %.3f" % med(kern))
print("ratio_ours_over_kernel %.3f" % ratio)
EOF
