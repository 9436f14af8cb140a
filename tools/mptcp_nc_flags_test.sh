#!/usr/bin/env bash
# mptcp_nc refuses bad flags with a clear message before it touches the network (so this runs
# without root): an unknown --cc names the valid controllers, an unknown --sched the schedulers.
set -u
nc="${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-mptcp}/tools/mptcp_nc"
[[ -x "$nc" ]] || nc="tools/mptcp_nc"
fail=0

out="$("$nc" --cc=bogus 198.51.100.1 5201 2>&1 </dev/null)"; rc=$?
if [[ $rc -eq 0 ]]; then echo "FAIL: --cc=bogus exited 0"; fail=1; fi
for want in "unknown --cc 'bogus'" "newreno" "cubic" "lia" "olia" "balia"; do
  if [[ "$out" != *"$want"* ]]; then echo "FAIL: --cc=bogus: no '$want' in: $out"; fail=1; fi
done

# And an unknown --sched names the valid schedulers.
out="$("$nc" --sched=bogus 198.51.100.1 5201 2>&1 </dev/null)"; rc=$?
if [[ $rc -eq 0 ]]; then echo "FAIL: --sched=bogus exited 0"; fail=1; fi
for want in "--sched: unknown scheduler \"bogus\"" "default" "round-robin" "redundant" "blest" "ecf"; do
  if [[ "$out" != *"$want"* ]]; then echo "FAIL: --sched=bogus: no '$want' in: $out"; fail=1; fi
done

# A valid name gets past the flag check (it fails later, on the TUN device or the address,
# not on --cc).
out="$("$nc" --cc=olia --sched=blest --local=not-an-address 198.51.100.1 5201 2>&1 </dev/null)"; rc=$?
if [[ "$out" == *"--cc"* || "$out" == *"--sched"* ]]; then echo "FAIL: --cc=olia --sched=blest refused: $out"; fail=1; fi
if [[ "$out" != *"bad --local address"* ]]; then echo "FAIL: expected the --local error: $out"; fail=1; fi

[[ $fail -eq 0 ]] && echo "PASS"
exit $fail
