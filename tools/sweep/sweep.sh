#!/usr/bin/env bash
# Runs an mptcp_sim seed sweep in shards with GNU parallel on this machine, then merges the
# shards into OUT/runs.csv, OUT/summary.txt and OUT/summary.svg (tools/sweep/merge.py).
#
#   bazel build -c opt //tools:mptcp_sim
#   tools/sweep/sweep.sh --suite simult_flows --seeds 1-1000 --jobs 2 --out out/sweep
#
# Options: --suite S (simult_flows or link_failure), --seeds A-B, --case SPEC (mptcp_sim's
# --case: comma-separated names or */Download; default every case), --jobs J (parallel jobs,
# default the number of cores), --shards N (default 8 per job: small shards balance the load
# and lose little if one is killed), --out DIR (required; OUT/shards/ keeps each shard's JSON
# lines and log, OUT/joblog.tsv parallel's job log), --bin PATH (default
# bazel-bin/tools/mptcp_sim; build it with -c opt). Progress: parallel's bar on a terminal
# (the shards run --quiet); their messages (failing runs, runs over the limit, each with its
# replay command) are printed once they are done. The environment variable PARALLEL names
# another GNU parallel binary.
# On a cluster, tools/sweep/sweep.sbatch runs the same shards as a Slurm job array.
#
# Exit status: 0 when every run held its invariants, 1 when one did not (summary.txt lists its
# replay command), 2 for a bad option, a missing tool or a shard that died (the merge then
# names the seeds it lacks).
set -euo pipefail

# All in one function, parsed whole before it runs: bash reads a script as it goes, so an edit
# to this file during a long sweep would otherwise run whatever lands at the old offset.
main() {
  die() { echo "sweep.sh: $*" >&2; exit 2; }

  suite="" seeds="" cases="" jobs="" shards="" out="" bin=""
  while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || die "$1: missing its value (see the comment atop $0)"
    case "$1" in
      --suite) suite="$2" ;;
      --seeds) seeds="$2" ;;
      --case) cases="$2" ;;
      --jobs) jobs="$2" ;;
      --shards) shards="$2" ;;
      --out) out="$2" ;;
      --bin) bin="$2" ;;
      *) die "unknown option $1 (see the comment atop $0)" ;;
    esac
    shift 2
  done

  root="$(cd "$(dirname "$0")/../.." && pwd)"
  [ -n "$suite" ] || die "--suite is required (simult_flows or link_failure)"
  [[ "$seeds" =~ ^[0-9]+-[0-9]+$ ]] || die "--seeds: expected A-B, e.g. 1-1000"
  [ -n "$out" ] || die "--out DIR is required"
  jobs="${jobs:-$(nproc)}"
  [[ "$jobs" =~ ^[1-9][0-9]{0,3}$ ]] || die "--jobs: expected a number from 1 to 9999"
  shards="${shards:-$((jobs * 8))}"
  [[ "$shards" =~ ^[1-9][0-9]{0,5}$ ]] || die "--shards: expected a number from 1 to 999999"
  bin="${bin:-$root/bazel-bin/tools/mptcp_sim}"
  [ -x "$bin" ] || die "$bin: not found; build it first: bazel build -c opt //tools:mptcp_sim"
  # PARALLEL names another GNU parallel (the tests set it to show the message below).
  parallel="${PARALLEL:-parallel}"
  command -v "$parallel" >/dev/null 2>&1 ||
    die "GNU parallel is missing ($parallel): apt-get install parallel (scripts/install-deps.sh)"
  "$parallel" --version 2>/dev/null | head -1 | grep -q "GNU parallel" ||
    die "'$parallel' is not GNU parallel (moreutils has another one): apt-get install parallel"
  command -v python3 >/dev/null 2>&1 || die "python3 is missing (the merge needs it)"

  # The flags are checked once before any shard starts, so that a typo fails here with
  # mptcp_sim's message, not once per shard.
  check_msg="$("$bin" --suite="$suite" --seeds="$seeds" ${cases:+--case="$cases"} --check 2>&1)" ||
    die "$check_msg"
  echo "sweep: $(head -1 <<<"$check_msg")" >&2
  # Every one of them must be in the merge, every seed once: a lost shard is an error there.
  expected_cases="$(sed -n 's/^cases: //p' <<<"$check_msg")"

  mkdir -p "$out/shards"
  rm -f "$out"/shards/*.jsonl "$out"/shards/*.log "$out/joblog.tsv" "$out/times.txt"

  q() { printf '%q' "$1"; }
  shard_cmd="$(q "$bin") --suite=$(q "$suite") --seeds=$(q "$seeds")"
  [ -z "$cases" ] || shard_cmd+=" --case=$(q "$cases")"
  shard_cmd+=" --shard={}/$shards --jsonl=$(q "$out")/shards/{}.jsonl --quiet"
  shard_cmd+=" 2>$(q "$out")/shards/{}.log"

  progress=()
  [ -t 2 ] && progress=(--bar)
  echo "sweep: $shards shards on $jobs jobs, shard logs in $out/shards/" >&2
  start="$(date +%s.%N)"
  # A shard exits 1 when one of its runs broke an invariant: the merge reports those; the job
  # log tells a dead shard (any other status) from that.
  "$parallel" --will-cite --jobs "$jobs" --halt never --joblog "$out/joblog.tsv" "${progress[@]}" \
    "$shard_cmd" ::: $(seq 1 "$shards") || true
  end="$(date +%s.%N)"
  # CPU time of everything this script waited for (the shards, through parallel): user + system.
  # (`times` in this shell: in a command substitution it would time the subshell.)
  times >"$out/times.txt"
  cpu="$(sed -n 2p "$out/times.txt" | awk '{
    t = 0
    for (i = 1; i <= 2; ++i) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
    printf "%.1f", t }')"
  wall="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"

  dead=$(awk -F'\t' 'NR > 1 && $7 != 0 && $7 != 1 { n++ } END { print n + 0 }' "$out/joblog.tsv")
  for log in "$out"/shards/*.log; do
    [ -s "$log" ] && sed "s|^|$(basename "$log" .log): |" "$log" >&2
  done

  command_line="tools/sweep/sweep.sh --suite $suite --seeds $seeds${cases:+ --case '$cases'}"
  command_line+=" --jobs $jobs --shards $shards"
  merge_rc=0
  python3 "$root/tools/sweep/merge.py" --out "$out" --seeds "$seeds" --cases "$expected_cases" \
    --wall-s "$wall" \
    --cpu-s "$cpu" --command "$command_line" "$out"/shards/*.jsonl || merge_rc=$?
  echo "sweep: ${wall} s of wall time, ${cpu} CPU-seconds; $out/summary.txt" >&2
  if [ "$dead" -gt 0 ]; then
    echo "sweep.sh: $dead shard(s) died (exit status other than 0 or 1): $out/joblog.tsv" >&2
    exit 2
  fi
  exit "$merge_rc"
}

main "$@"
