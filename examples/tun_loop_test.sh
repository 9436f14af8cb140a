#!/usr/bin/env bash
# Runs examples/tun_loop against the kernel's MPTCP in a network namespace made here (deleted
# on every exit path): a python3 IPPROTO_MPTCP echo server on 198.51.100.1:7, our stack at
# 192.0.2.1 and 192.0.2.2 behind the example's TUN device. Documentation addresses only
# (RFC 5737). Without root, /dev/net/tun, kernel MPTCP, `ip` or python3 it prints SKIPPED and
# the reason, and passes (Bazel 4 has no skipped status); with MPTCP_REQUIRE_ALL=1 (CI, see
# testing/prerequisites.h) it fails instead.
set -euo pipefail
bin="${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-mptcp}/examples/tun_loop"
[[ -x "$bin" ]] || bin="examples/tun_loop"
export PATH="$PATH:/usr/sbin:/sbin"

skip() {
  if [[ "${MPTCP_REQUIRE_ALL:-0}" != "0" ]]; then
    echo "FAILED: prerequisite missing, and MPTCP_REQUIRE_ALL is set: $*"; exit 1
  fi
  echo "SKIPPED: $*"; exit 0
}
[[ "$(id -u)" -eq 0 ]] || skip "needs root (network namespace, TUN device)"
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
[[ -r /proc/sys/net/mptcp/enabled ]] || skip "no kernel MPTCP (/proc/sys/net/mptcp missing)"
command -v ip >/dev/null || skip "no ip (iproute2)"
command -v python3 >/dev/null || skip "no python3"

ns="mptcpex-$$"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns" || skip "cannot create a network namespace"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 198.51.100.1/32 dev lo
ip netns exec "$ns" sysctl -qw net.mptcp.enabled=1
# Accept one MP_JOIN (the kernel's path manager refuses joins beyond its subflow limit).
ip -n "$ns" mptcp limits set subflows 2 add_addr_accepted 0

# The kernel's MPTCP echo server: one connection, echoed until EOF, bounded by a timeout.
cat >"$work/echo.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)  # IPPROTO_MPTCP
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.1", 7)); s.listen(1); s.settimeout(20)
open(sys.argv[1], "w").close()  # ready
c, _ = s.accept(); c.settimeout(20)
while data := c.recv(65536):
    c.sendall(data)
c.close()
PY
ip netns exec "$ns" python3 "$work/echo.py" "$work/ready" &
server_pid=$!
for _ in $(seq 50); do [[ -e "$work/ready" ]] && break; sleep 0.1; done
[[ -e "$work/ready" ]] || { echo "FAIL: the echo server did not start"; exit 1; }

out="$(ip netns exec "$ns" timeout 30 "$bin" 198.51.100.1 7 65536)"
echo "$out"
grep -q "65536 of 65536 bytes echoed and checked, 2 subflows up" <<<"$out" \
  || { echo "FAIL: expected the echo over two subflows"; exit 1; }
wait "$server_pid"
server_pid=""
echo "PASS"
