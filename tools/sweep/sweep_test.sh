#!/usr/bin/env bash
# tools/sweep end to end: a two-shard sweep of two short cases over seeds 1-2 with GNU parallel
# merges into exactly the four expected CSV rows, a summary and a well-formed SVG; a missing
# parallel, a bad flag and a lost shard each fail with a clear message. Skips (passing, with a
# message) when GNU parallel is not installed.
set -euo pipefail
root="${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-mptcp}"
[ -x "$root/tools/mptcp_sim" ] || root="."
sim="$root/tools/mptcp_sim"
sweep="$root/tools/sweep/sweep.sh"
merge="$root/tools/sweep/merge.py"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
fail=0
check() {  # $1: description, rest: a command that must succeed
  local what="$1"; shift
  if ! "$@"; then echo "FAIL: $what"; fail=1; fi
}

# Without GNU parallel: exit 2 and say what to install.
rc=0
out="$(PARALLEL=/nonexistent/parallel "$sweep" --suite simult_flows --seeds 1-2 \
  --out "$tmp/none" --bin "$sim" 2>&1)" || rc=$?
check "no parallel: exit 2, not $rc" test "$rc" -eq 2
check "no parallel: message: $out" grep -q "GNU parallel is missing" <<<"$out"

if ! command -v parallel >/dev/null 2>&1; then
  echo "SKIPPED: GNU parallel is not installed (apt-get install parallel); the sweep was not run"
  exit "$fail"
fi

# A bad flag fails once, with mptcp_sim's message, before any shard runs.
rc=0
out="$("$sweep" --suite simult_flows --seeds 3-1 --out "$tmp/bad" --bin "$sim" 2>&1)" || rc=$?
check "seeds 3-1: exit 2, not $rc" test "$rc" -eq 2
check "seeds 3-1: message: $out" grep -q "the first seed is after the last" <<<"$out"
check "seeds 3-1: no shards" test ! -e "$tmp/bad/shards"

cases="balanced_bwidth/Download,unbalanced_bwidth/Download"
rc=0
"$sweep" --suite simult_flows --seeds 1-2 --case "$cases" --jobs 2 --shards 2 \
  --out "$tmp/sweep" --bin "$sim" 2>"$tmp/sweep.err" || rc=$?
check "sweep: exit 0, not $rc: $(cat "$tmp/sweep.err")" test "$rc" -eq 0
for s in 1 2; do
  check "shard $s: 2 lines" test "$(wc -l <"$tmp/sweep/shards/$s.jsonl")" -eq 2
done
want="suite,case,seed,ok,within_limit
simult_flows,balanced_bwidth/Download,1,true,true
simult_flows,balanced_bwidth/Download,2,true,true
simult_flows,unbalanced_bwidth/Download,1,true,true
simult_flows,unbalanced_bwidth/Download,2,true,true"
got="$(cut -d, -f1-5 "$tmp/sweep/runs.csv")"
check "runs.csv rows: $got" test "$got" = "$want"
replay="bazel-bin/tools/mptcp_sim --suite=simult_flows --case=unbalanced_bwidth/Download --seed=2"
check "replay column" grep -q ",$replay$" "$tmp/sweep/runs.csv"
summary="$tmp/sweep/summary.txt"
check "summary totals" grep -q "^Totals: 4 runs, 0 broke an invariant, 0 over the limit" "$summary"
check "summary case line" grep -qE "^unbalanced_bwidth/Download +2 +0 +0 +run_time" "$summary"
check "summary wall time" grep -q "^The sweep: .* s of wall time, .* CPU-seconds" "$summary"
check "summary.svg is XML" python3 -c "import sys, xml.etree.ElementTree as e; e.parse(sys.argv[1])" \
  "$tmp/sweep/summary.svg"
check "summary.svg has both curves" test "$(grep -c "<polyline" "$tmp/sweep/summary.svg")" -eq 4

# The same runs merge to the same files (but for the host times).
python3 "$merge" --out "$tmp/again" --seeds 1-2 "$tmp"/sweep/shards/*.jsonl
check "deterministic summary.svg" cmp -s "$tmp/sweep/summary.svg" "$tmp/again/summary.svg"

# A lost shard: the merge names what is missing and exits 2.
rc=0
out="$(python3 "$merge" --out "$tmp/lost" --seeds 1-2 --cases "$cases" \
  "$tmp/sweep/shards/1.jsonl" 2>&1)" || rc=$?
check "lost shard: exit 2, not $rc" test "$rc" -eq 2
check "lost shard: message: $out" grep -q "no runs at all of unbalanced_bwidth/Download" <<<"$out"
rc=0
out="$(python3 "$merge" --out "$tmp/lost" --seeds 1-3 "$tmp"/sweep/shards/*.jsonl 2>&1)" || rc=$?
check "lost seed: exit 2, not $rc" test "$rc" -eq 2
check "lost seed: message: $out" grep -q "1 seeds missing (first 3)" <<<"$out"

[ "$fail" -eq 0 ] && echo "PASS"
exit "$fail"
