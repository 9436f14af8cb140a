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

# Path management in Linux's words: an unknown --pm, a bad --endpoint, --limits or --at get a
# clear message before anything touches the network.
check() {  # check WANT ARGS...
  local want="$1"; shift
  out="$("$nc" "$@" 2>&1 </dev/null)"; rc=$?
  if [[ $rc -eq 0 ]]; then echo "FAIL: $* exited 0"; fail=1; fi
  if [[ "$out" != *"$want"* ]]; then echo "FAIL: $*: no '$want' in: $out"; fail=1; fi
}
check "unknown path manager 'fullmesh' (valid: in-kernel, ndiffports, manual)" --pm=fullmesh 198.51.100.1 5201
check "bad --endpoint '192.0.2.2,sgnal'" --endpoint 192.0.2.2,sgnal 198.51.100.1 5201
check "cannot be both signal and fullmesh" --endpoint 192.0.2.2,signal,fullmesh -l 5201
check "an endpoint port needs the signal flag" --endpoint=192.0.2.2,subflow,port=9 -l 5201
check "endpoint id 2 given twice" --endpoint 192.0.2.2,subflow,id=2 --endpoint 192.0.2.3,subflow,id=2 -l 5201
check "--limits: unknown limit 'paths'" --limits paths=2 -l 5201
check "--limits: bad limit 'subflows=9'" --limits subflows=9 -l 5201
check "bad --at '2s,endpoint-del': --at endpoint-del needs id=N" --at 2s,endpoint-del -l 5201
check "bad --at time 'soon'" --at soon,endpoint-flush -l 5201
check "unknown --at action 'endpoint-move'" --at 1s,endpoint-move,id=2 -l 5201
[[ $fail -eq 0 ]] && echo "PASS"
exit $fail
