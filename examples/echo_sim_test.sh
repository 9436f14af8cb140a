#!/usr/bin/env bash
# Runs examples/echo_sim and checks that every byte was echoed over both paths (exit 0).
set -euo pipefail
bin="${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-mptcp}/examples/echo_sim"
[[ -x "$bin" ]] || bin="examples/echo_sim"
out="$("$bin" 262144)"
echo "$out"
grep -q "SubflowUp" <<<"$out" || { echo "FAIL: no SubflowUp event"; exit 1; }
grep -q "262144 of 262144 bytes echoed and checked" <<<"$out" || { echo "FAIL: echo"; exit 1; }
