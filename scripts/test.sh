#!/usr/bin/env bash
# The whole test suite, as README's quickstart and CI run it:
#   1. installs what it needs (Debian 12),
#   2. `bazel test //...` (unit, conformance and, as root, interop tests),
#   3. the core's, io's, the fuzz targets' and the scenario tests again under ASan + UBSan,
#   4. each libFuzzer target for FUZZ_SECONDS (default 60) under ASan + UBSan,
#   5. the CMake package: a consumer built with find_package(mptcp) and with pkg-config,
# and prints the test counts. Exits non-zero on any failure.
#
# MPTCP_REQUIRE_ALL=1 (.ci/run sets it) turns every prerequisite skip into a failure: missing
# root, TUN, kernel MPTCP, tshark, python3, cmake (testing/prerequisites.h). Without it, a
# machine that lacks them still passes, saying what it skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
./scripts/install-deps.sh

summary() {  # extracts "Test cases: finished with N passing and M failing out of T test cases"
  grep -E "^(Test cases:|Executed )" "$1" | tail -2 | sed 's/^/  /'
}

status=0
started=$SECONDS
pass_started=$SECONDS
elapsed() {  # prints and restarts the current pass's clock
  echo "  ($(( SECONDS - pass_started )) s; $(( SECONDS - started )) s in all)"
  pass_started=$SECONDS
}
strict_env=()
if [ "${MPTCP_REQUIRE_ALL:-0}" != "0" ]; then
  strict_env=(--test_env=MPTCP_REQUIRE_ALL="$MPTCP_REQUIRE_ALL")
  echo "MPTCP_REQUIRE_ALL=$MPTCP_REQUIRE_ALL: a missing prerequisite fails its test"
fi
log_dir="$(mktemp -d)"
trap 'rm -rf "$log_dir"' EXIT

run_bazel_tests() {  # $1: log name, rest: bazel flags, then `--` and the target patterns
  local log="$log_dir/$1.log"; shift
  local flags=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do flags+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  if bazel test "${flags[@]}" ${strict_env[@]+"${strict_env[@]}"} -- "$@" >"$log" 2>&1; then
    grep -E "^//.*(PASSED|SKIPPED|FLAKY)" "$log" | sed 's/^/  /' || true
  else
    status=1
    grep -E "^//|^ERROR|FAILED" "$log" | sed 's/^/  /' || tail -40 "$log"
  fi
}

echo "== bazel test //... (gcc, -O2) =="
run_bazel_tests test -- //...
elapsed

echo "== bazel test --config=asan (ASan + UBSan): mptcp, io, fuzz, conformance =="
# The same tests; the seeded pipe tests run 5 seeds instead of 20 (100 for the TCP pipe), the
# simulator scenarios 3 instead of 20, and the kernel interop cases move 16 MiB instead of 64:
# the full counts ran in the pass above, and ASan is about ten times slower. Benchmarks and
# other non-test targets are not rebuilt under ASan, nor the "timing" tests (interop run times,
# meaningless under a sanitizer), nor those tagged "no_asan" (long deterministic simulations
# whose code runs under ASan in smaller tests; the BUILD file says which), nor the tests of the
# tools' and examples' front ends (the core they drive runs under ASan here; docs/testing.md).
# CI's 30-minute budget needs this: the pass is nearly all compile time.
run_bazel_tests asan --config=asan --build_tests_only --test_tag_filters=-timing,-no_asan \
  --test_env=MPTCP_PIPE_SEEDS=5 --test_env=CONFORMANCE_SEEDS=3 --test_env=INTEROP_MIB=16 \
  --test_env=MEMORY_CYCLES=100000 -- //mptcp/... //io/... //fuzz/... //conformance/...
elapsed

echo "== libFuzzer, ${FUZZ_SECONDS}s per target (clang, ASan + UBSan) =="
# Every target tagged fuzz_target, built in one go, then run two at a time (one per core).
# Each starts from its seed corpus and its regressions (fuzz/corpus/NAME, fuzz/regressions/
# NAME) and takes libFuzzer flags from fuzz/NAME.options (OSS-Fuzz's format: `key = value`
# lines under [libfuzzer]).
fuzz_targets=$(bazel query 'attr(tags, "fuzz_target", //fuzz/...)' 2>/dev/null || true)
fuzz_jobs=$(( $(nproc) < 2 ? 1 : 2 ))
run_fuzzer() {  # $1: target name; writes $log_dir/fuzz-NAME.{log,result}
  local name="$1" opts=() dirs=()
  local work="$log_dir/corpus-$name"
  mkdir -p "$work"
  for d in "fuzz/corpus/$name" "fuzz/regressions/$name"; do [ -d "$d" ] && dirs+=("$d"); done
  if [ -f "fuzz/$name.options" ]; then
    while IFS= read -r line; do opts+=("$line"); done < <(
      sed -n 's/^[[:space:]]*\([a-z_]*\)[[:space:]]*=[[:space:]]*\([^[:space:]]*\).*/-\1=\2/p' \
        "fuzz/$name.options")
  fi
  if "bazel-bin/fuzz/$name" ${opts[@]+"${opts[@]}"} -max_total_time="$FUZZ_SECONDS" \
      -print_final_stats=1 "$work" ${dirs[@]+"${dirs[@]}"} >"$log_dir/fuzz-$name.log" 2>&1; then
    runs=$(grep -E "stat::number_of_executed_units" "$log_dir/fuzz-$name.log" | awk '{print $2}')
    rate=$(grep -E "stat::average_exec_per_sec" "$log_dir/fuzz-$name.log" | awk '{print $2}')
    echo "  $name: 0 findings in ${FUZZ_SECONDS}s, ${runs:-?} executions (${rate:-?}/s)" \
      "${opts[*]:-}" >"$log_dir/fuzz-$name.result"
  else
    { echo "  $name: FINDING"; tail -40 "$log_dir/fuzz-$name.log"; } >"$log_dir/fuzz-$name.result"
    return 1
  fi
}
# shellcheck disable=SC2086
if [ -n "$fuzz_targets" ] && ! bazel build --config=fuzz $fuzz_targets >"$log_dir/fuzz-build.log" 2>&1; then
  echo "  BUILD FAILED"; tail -20 "$log_dir/fuzz-build.log"; status=1; fuzz_targets=""
fi
pids=()
names=()
for t in $fuzz_targets; do
  name="${t##*:}"
  if [ ${#pids[@]} -ge "$fuzz_jobs" ]; then
    wait "${pids[0]}" || status=1
    cat "$log_dir/fuzz-${names[0]}.result"
    pids=("${pids[@]:1}"); names=("${names[@]:1}")
  fi
  run_fuzzer "$name" & pids+=($!); names+=("$name")
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || status=1
  cat "$log_dir/fuzz-${names[$i]}.result"
done
elapsed

echo "== packaging: find_package and pkg-config consumer =="
# Exit 77 is a skip (cmake or pkg-config missing), not a failure.
pkg_rc=0
./packaging/test_consumer.sh >"$log_dir/packaging.log" 2>&1 || pkg_rc=$?
case $pkg_rc in
  0) echo "  PASSED: $(tail -1 "$log_dir/packaging.log")" ;;
  77)
    echo "  $(grep SKIP "$log_dir/packaging.log")"
    if [ "${MPTCP_REQUIRE_ALL:-0}" != "0" ]; then echo "  FAILED: MPTCP_REQUIRE_ALL is set"; status=1; fi
    ;;
  *) echo "  FAILED"; tail -40 "$log_dir/packaging.log" | sed 's/^/  /'; status=1 ;;
esac

elapsed

echo "== Summary =="
echo " gcc:";  summary "$log_dir/test.log"
echo " asan:"; summary "$log_dir/asan.log"
if [ $status -eq 0 ]; then echo "ALL PASSED"; else echo "FAILURES (see above)"; fi
exit $status
