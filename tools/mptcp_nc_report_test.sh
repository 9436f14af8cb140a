#!/usr/bin/env bash
# mptcp_nc's end-of-run report ("mptcp_nc: report: ..." on stderr) says what moved, against the
# kernel's MPTCP (//tools/bench:stream_peer) at 198.51.100.1 in a network namespace made here
# (deleted on every exit path), our stack behind mptcp_nc's TUN devices in the same namespace:
#   1. upload: 3,000,017 bytes from mptcp_nc over two subflows: the report says sent 3000017
#      and received 0, its subflow lines' acked bytes add up to 3000017 plus at most what it
#      says it resent on another subflow (data sent on both counts on both), and the kernel
#      got exactly 3000017;
#   2. download: the kernel sends 2,000,003 bytes: the report says received 2000003, as the
#      file mptcp_nc wrote and its one subflow's received bytes;
#   3. -q: no report.
# Documentation addresses only (RFC 5737). Without root, /dev/net/tun, kernel MPTCP or `ip` it
# prints SKIPPED and passes; with MPTCP_REQUIRE_ALL=1 (CI, testing/prerequisites.h) it fails.
set -euo pipefail
runfiles="${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-mptcp}"
nc="$runfiles/tools/mptcp_nc"
peer="$runfiles/tools/bench/stream_peer"
[[ -x "$nc" ]] || { nc="tools/mptcp_nc"; peer="tools/bench/stream_peer"; }
export PATH="$PATH:/usr/sbin:/sbin"

skip() {
  if [[ "${MPTCP_REQUIRE_ALL:-0}" != "0" ]]; then
    echo "FAILED: prerequisite missing, and MPTCP_REQUIRE_ALL is set: $*"; exit 1
  fi
  echo "SKIPPED: $*"; exit 0
}
[[ "$(id -u)" -eq 0 ]] || skip "needs root (network namespace, TUN devices)"
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
[[ -r /proc/sys/net/mptcp/enabled ]] || skip "no kernel MPTCP (/proc/sys/net/mptcp missing)"
command -v ip >/dev/null || skip "no ip (iproute2)"

ns="mptcpncr-$$"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns" || skip "cannot create a network namespace"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 198.51.100.1/32 dev lo
ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1
ip -n "$ns" mptcp limits set subflows 2 add_addr_accepted 0  # accept our MP_JOIN

fail=0
check() {  # check WHAT GOT WANT
  if [[ "$2" != "$3" ]]; then
    echo "FAIL: $1: got '$2', want '$3'"
    fail=1
  fi
}
# report FILE sent|received: the byte count of that report line.
report() { sed -n "s/^mptcp_nc: report: $2 \([0-9]*\) bytes in .*/\1/p" "$1"; }
# subflows FILE acked|received: each subflow line's count, summed; and the number of lines.
subflows() {
  awk -v k="$2" '/^mptcp_nc: report: subflow / {
    for (i = 1; i < NF; ++i) if ($i == k) { s += $(i + 1); n++ } }
    END { printf "%d %d\n", s, n }' "$1"
}
# serve PORT ARGS...: a stream_peer server; waits until it listens.
serve() {
  local port="$1"
  shift
  ip netns exec "$ns" timeout 30 "$peer" --listen "$port" --bind 198.51.100.1 --timeout 25 "$@" \
    >"$work/peer.out" 2>"$work/peer.err" &
  server_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/peer.err" && return; sleep 0.05; done
  echo "FAIL: stream_peer did not start: $(cat "$work/peer.err")"
  exit 1
}
finish_server() {
  wait "$server_pid" || { echo "FAIL: stream_peer: $(cat "$work/peer.err")"; fail=1; }
  server_pid=""
}

# 1. Upload over two subflows.
head -c 3000017 /dev/urandom >"$work/up"
serve 5301 --recv
rc=0
ip netns exec "$ns" timeout 30 "$nc" --local 192.0.2.1 --subflow 192.0.2.2 --timeout 25 \
  198.51.100.1 5301 <"$work/up" >/dev/null 2>"$work/up.err" || rc=$?
finish_server
cat "$work/up.err"
check "upload: mptcp_nc's exit status" "$rc" 0
check "upload: the kernel received" "$(sed -n 's/^bytes=\([0-9]*\) .*/\1/p' "$work/peer.out")" 3000017
check "upload: report sent" "$(report "$work/up.err" sent)" 3000017
check "upload: report received" "$(report "$work/up.err" received)" 0
read -r acked lines <<<"$(subflows "$work/up.err" acked)"
check "upload: subflow lines" "$lines" 2
resent="$(sed -n 's/^mptcp_nc: report: resent on another subflow \([0-9]*\) B$/\1/p' \
  "$work/up.err")"
check "upload: a resent line" "${resent:+yes}" yes
if [[ -z "$acked" || "$acked" -lt 3000017 || "$acked" -gt $((3000017 + ${resent:-0})) ]]; then
  echo "FAIL: upload: subflows' acked bytes, summed: got '$acked', want 3000017 plus at most" \
    "the ${resent:-?} B resent"
  fail=1
fi

# 2. Download over one subflow, to a file.
serve 5302 --send 2000003
rc=0
ip netns exec "$ns" timeout 30 "$nc" --local 192.0.2.1 --timeout 25 198.51.100.1 5302 \
  </dev/null >"$work/down" 2>"$work/down.err" || rc=$?
finish_server
cat "$work/down.err"
check "download: mptcp_nc's exit status" "$rc" 0
check "download: bytes written to stdout" "$(stat -c %s "$work/down")" 2000003
check "download: report received" "$(report "$work/down.err" received)" 2000003
check "download: report sent" "$(report "$work/down.err" sent)" 0
read -r received lines <<<"$(subflows "$work/down.err" received)"
check "download: subflow lines" "$lines" 1
check "download: the subflow's received bytes" "$received" 2000003

# 3. -q: the same transfer, no report.
serve 5303 --send 1000
rc=0
ip netns exec "$ns" timeout 30 "$nc" -q --local 192.0.2.1 --timeout 25 198.51.100.1 5303 \
  </dev/null >/dev/null 2>"$work/quiet.err" || rc=$?
finish_server
check "-q: mptcp_nc's exit status" "$rc" 0
check "-q: report lines" "$(grep -c '^mptcp_nc: report' "$work/quiet.err" || true)" 0

[[ $fail -eq 0 ]] && echo "PASS"
exit $fail
