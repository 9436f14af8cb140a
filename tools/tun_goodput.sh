#!/usr/bin/env bash
# tun_goodput.sh: our stack over TUN against the Linux kernel, with the fair kernel baselines
# measured in the same run, every row back to back, round-robin (issue 15).
#
# Rows, one direction each: the client sends --bytes, the server receives.
#   kernel-tcp-relay        kernel TCP client -> tun_relay (one thread, one read + one write per
#                           packet) -> kernel TCP server: the baseline for our TUN loop
#   kernel-mptcp-relay      the same, kernel MPTCP on both ends (one subflow)
#   kernel-tcp-direct       kernel TCP client on a veth, no relay (reference)
#   kernel-mptcp-direct     kernel MPTCP the same way: kernel to kernel on the same hops
#   ours-to-kernel-tcp      mptcp_nc (our stack, its TUN device) -> kernel plain-TCP server
#                           (our fallback: our I/O loop without kernel MPTCP's own cost)
#   ours-to-kernel-mptcp    mptcp_nc -> kernel MPTCP server
#   ours-from-kernel-mptcp  kernel MPTCP client -> mptcp_nc -l (writing to /dev/null)
#   ROW+NAME                every ours-* row again per --ours-variant NAME=FLAGS
#   ROW-rev                 (--reverse) the same connection, data the other way (server sends)
#   2path-*                 (--two-paths) two paths shaped with tbf, see below
#   diag-*                  (--diagnose) why kernel to kernel once looked slow, see below
#
# When mptcp_nc only receives, its stdin is a pipe that ends after a second, not /dev/null:
# with a DATA_FIN at once, reaching Linux before our MP_JOIN, the join did not come up in 4 of
# 10 two-path downloads (10 of 10 with the pipe); the kernel client, which does not half-close
# early either, always joined.
#
# The kernel peer is //tools/bench:stream_peer (256 KiB reads and writes). A row's figure is
# the kernel receiver's goodput (connection established to EOF) or, when our stack receives,
# the kernel sender's (established to its last byte acknowledged, SIOCOUTQ 0); mptcp_nc's own
# end-of-run figure is shown beside it. MiB/s = 2^20 bytes per second.
#
#   tools/tun_goodput.sh [--runs N] [--bytes N] [--reverse] [--two-paths] [--diagnose]
#                        [--ours-variant NAME=FLAGS]... [--only REGEX] [--timeout S]
#     --runs N             rounds; each runs every row once (default 5)
#     --bytes N            bytes per transfer (default 256 MiB)
#     --reverse            also every row with the server sending (ROW-rev)
#     --two-paths          then two paths, each tbf-shaped to --rate both ways, 2 subflows
#     --two-paths-bytes N  bytes per two-path transfer (default 128 MiB, about 6 s)
#     --rate R             tbf rate of each path (default 100mbit; tc's units, 10^6 bit/s)
#     --diagnose           kernel-to-kernel variants: Python peers, a blocking sender, both
#                          directions at once, no router hop, two CPU hogs beside it
#     --ours-variant NAME=FLAGS  rows ours-*+NAME: mptcp_nc with FLAGS added (repeatable)
#     --only REGEX         run only the rows whose name matches (grep -E)
#     --timeout S          bound on each transfer (default 120)
#     --logs DIR           keep each run's stdout and stderr there (ROW.runN.server.err, ...)
#   OURS_FLAGS="--cc cubic"                       added to every mptcp_nc invocation
#   BAZEL="bazel --output_base=/tmp/ob" tools/tun_goodput.sh   another bazel command
#
# Topology, namespaces made here and deleted on every exit (documentation addresses only):
#   tcli 192.0.2.50 -- tra =[tun_relay]= trb --\
#   kcli 192.0.2.100 -- c0 ========= ac -------- rtr (forwards) -- a0 === b0 -- kern 198.51.100.1
#   mptcp_nc in rtr: 192.0.2.1 -- mptcp0 ------/                 -- a1 === b1 -- kern 203.0.113.1
#                    192.0.2.2 -- mptcp1 (two paths)
#   dcli 192.0.2.150 -- d0 ====================================== bd -- kern (--diagnose only)
# tun_relay runs in rtr and owns tra (made inside tcli) and trb; every TUN device has a 4096
# packet queue, as mptcp_nc's. kern routes replies from 203.0.113.1 over b1 (as the interop
# harness), so a subflow's addresses pick its path both ways.
#
# Two paths: tbf (rate R, burst 30kb, latency 50ms, as the interop suite's ShapePaths) on a0,
# a1, b0 and b1. kern announces 203.0.113.1 (ADD_ADDR); the client joins it: our client with
# --local 192.0.2.1,192.0.2.2 --join-announced (the join from 192.0.2.2), the kernel client in
# kcli (add_addr_accepted 1) from 192.0.2.100. Rows 2path-kernel-mptcp and 2path-ours-to-kernel-
# mptcp (and -rev, +NAME). Each figure is also given as a share of the payload ceiling:
#   ceiling = 2 paths x R x P / 1514
# where 1514 bytes is a full segment on the wire as tbf counts it on a veth (1500 IP bytes and
# the 14-byte Ethernet header) and P its payload: 1500 - 20 (IPv4) - 20 (TCP) - options. The
# options of a full data segment are the sender's: ours 40 bytes (timestamps 12 with two NOPs,
# DSS 28: 8-byte data ACK, 8-byte DSN, padding), so P = 1420 (93.8 % of the raw rate); Linux's
# 36 (its data ACK has 4 bytes), so P = 1424 (94.1 %) (tshark on a capture of each; the ACKs
# travel the other way, through another tbf).
#
# Diagnosis rows (--diagnose), all kcli -> kern MPTCP like kernel-mptcp-direct except:
#   diag-k2k-python     Python peers, blocking (socket.recv(65536), sendall of 64 KiB), as
#                       the old "kernel to kernel" figures of docs/performance.md
#   diag-k2k-blocking   the stream_peer sender with blocking send() (stream_peer --blocking)
#   diag-k2k-bidir      stream_peer both directions at once (figure: MiB/s each way)
#   diag-k2k-noforward  dcli on a veth straight to kern: no router hop
#   diag-k2k-busy       two CPU hogs (busy loops) beside it, as a loaded 2-core machine
#
# Needs root, /dev/net/tun, kernel MPTCP and `ip netns` (and tc with tbf for --two-paths).
# Exit status: 0 every run measured, 1 a build or a run failed (the table still prints, the
# failed runs marked), 2 bad usage, 77 cannot run here (the reason is printed).
set -euo pipefail

runs=5
bytes=$((256 << 20))
two_paths=0
two_path_bytes=$((128 << 20))
rate=100mbit
reverse=0
diagnose=0
only=""
xfer_timeout=120
logs=""
variants=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
need_arg() { [[ $# -ge 2 && -n "$2" ]] || { echo "error: $1 needs a value" >&2; exit 2; }; }

while (($#)); do
  case "$1" in
    --runs) need_arg "$@"; runs="$2"; shift 2 ;;
    --bytes) need_arg "$@"; bytes="$2"; shift 2 ;;
    --two-paths) two_paths=1; shift ;;
    --two-paths-bytes) need_arg "$@"; two_path_bytes="$2"; shift 2 ;;
    --rate) need_arg "$@"; rate="$2"; shift 2 ;;
    --reverse) reverse=1; shift ;;
    --diagnose) diagnose=1; shift ;;
    --only) need_arg "$@"; only="$2"; shift 2 ;;
    --timeout) need_arg "$@"; xfer_timeout="$2"; shift 2 ;;
    --logs) need_arg "$@"; logs="$2"; shift 2 ;;
    --ours-variant) need_arg "$@"; variants+=("$2"); shift 2 ;;
    --*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
    -h | --help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for v in "$runs" "$bytes" "$two_path_bytes" "$xfer_timeout"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "error: --runs, --bytes, --two-paths-bytes and" \
    "--timeout take positive integers" >&2; exit 2; }
done
if [[ -n "$logs" ]]; then mkdir -p "$logs" || exit 2; logs="$(cd "$logs" && pwd)"; fi
[[ "$rate" =~ ^([0-9]+)mbit$ ]] || { echo "error: --rate takes NNNmbit" >&2; exit 2; }
rate_mbit="${BASH_REMATCH[1]}"
declare -A variant_flags=()
variant_names=()
for v in ${variants[@]+"${variants[@]}"}; do
  name="${v%%=*}"
  [[ "$v" == *=* && "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || {
    echo "error: --ours-variant takes NAME=FLAGS, got '$v'" >&2; exit 2; }
  variant_flags[$name]="${v#*=}"
  variant_names+=("$name")
done
read -r -a ours_flags <<<"${OURS_FLAGS:-}"

skip() { echo "SKIPPED: $*" >&2; exit 77; }
[[ "$(id -u)" == 0 ]] || skip "needs root (network namespaces, TUN devices)"
[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
[[ -r /proc/sys/net/mptcp/enabled ]] || skip "no kernel MPTCP (/proc/sys/net/mptcp missing)"
command -v ip >/dev/null || skip "no 'ip' command"
((two_paths == 0)) || command -v tc >/dev/null || skip "--two-paths needs tc"

read -r -a bazel <<<"${BAZEL:-bazel}"
cd "$(dirname "$0")/.."
targets=(//tools:mptcp_nc //tools/bench:tun_relay //tools/bench:stream_peer)
echo "== building with -c opt: ${targets[*]}" >&2
# --symlink_prefix=/: leave the workspace's bazel-* convenience links as they are.
if ! "${bazel[@]}" build -c opt --symlink_prefix=/ "${targets[@]}"; then
  echo "error: the build failed" >&2
  exit 1
fi
bin="$("${bazel[@]}" info -c opt --symlink_prefix=/ bazel-bin 2>/dev/null)"
nc="$bin/tools/mptcp_nc"
relay="$bin/tools/bench/tun_relay"
peer="$bin/tools/bench/stream_peer"
for b in "$nc" "$relay" "$peer"; do [[ -x "$b" ]] || { echo "error: $b was not built" >&2; exit 1; }; done

# --- Namespaces, processes and cleanup ----------------------------------------------------------

prefix="tgp$$"
R="${prefix}r" K="${prefix}k" KC="${prefix}c" TC="${prefix}t" DC="${prefix}d"
namespaces=()
bg_pids=()
shm_files=()
tmp="$(mktemp -d)"
cleanup() {
  local p
  for p in ${bg_pids[@]+"${bg_pids[@]}"}; do kill "$p" 2>/dev/null || true; done
  for p in ${bg_pids[@]+"${bg_pids[@]}"}; do wait "$p" 2>/dev/null || true; done
  for p in ${namespaces[@]+"${namespaces[@]}"}; do ip netns del "$p" 2>/dev/null || true; done
  rm -rf "$tmp" ${shm_files[@]+"${shm_files[@]}"}
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
# Namespaces of earlier runs that died without cleaning up (SIGKILL).
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^tgp[0-9]+[rkctd]$' || true); do
  pid="${ns#tgp}"; pid="${pid%?}"
  kill -0 "$pid" 2>/dev/null || ip netns del "$ns" 2>/dev/null || true
done

mkns() {
  ip netns add "$1" || skip "cannot create network namespace $1"
  namespaces+=("$1")
  ip -n "$1" link set lo up
}
in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }
sysctls() {  # NS: forwarding on, no reverse-path filter, no redirects
  in_ns "$1" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward;
    for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 > $f; done;
    for f in /proc/sys/net/ipv4/conf/*/send_redirects; do echo 0 > $f; done'
}

setup_topology() {
  local ns
  for ns in "$R" "$K" "$KC" "$TC"; do mkns "$ns"; done
  ((diagnose)) && mkns "$DC"
  [[ "$(in_ns "$K" cat /proc/sys/net/mptcp/enabled)" == 1 ]] ||
    in_ns "$K" sysctl -qw net.mptcp.enabled=1 || skip "kernel MPTCP is disabled"
  ip -n "$R" link add a0 type veth peer name b0 netns "$K"
  ip -n "$R" link add a1 type veth peer name b1 netns "$K"
  ip -n "$R" link add ac type veth peer name c0 netns "$KC"
  ip -n "$R" addr add 198.51.100.254/24 dev a0
  ip -n "$R" addr add 203.0.113.254/24 dev a1
  ip -n "$R" addr add 192.0.2.99 peer 192.0.2.100 dev ac
  for ns in a0 a1 ac; do ip -n "$R" link set "$ns" up; done
  sysctls "$R"
  ip -n "$K" addr add 198.51.100.1/24 dev b0
  ip -n "$K" addr add 203.0.113.1/24 dev b1
  ip -n "$K" link set b0 up
  ip -n "$K" link set b1 up
  ip -n "$K" route add 192.0.2.0/24 via 198.51.100.254 dev b0
  ip -n "$K" rule add from 203.0.113.1 table 100 pref 100
  ip -n "$K" route add 192.0.2.0/24 via 203.0.113.254 dev b1 table 100
  sysctls "$K"
  ip -n "$KC" addr add 192.0.2.100 peer 192.0.2.99 dev c0
  ip -n "$KC" link set c0 up
  ip -n "$KC" route add default via 192.0.2.99
  if ((diagnose)); then
    ip -n "$DC" link add d0 type veth peer name bd netns "$K"
    ip -n "$DC" addr add 192.0.2.150 peer 198.51.100.1 dev d0
    ip -n "$K" addr add 198.51.100.1 peer 192.0.2.150 dev bd
    ip -n "$DC" link set d0 up
    ip -n "$K" link set bd up
  fi
  # The relay: tra inside tcli, trb in rtr; both with mptcp_nc's 4096-packet queue.
  timeout -k 5 3600 ip netns exec "$R" "$relay" --a tra --a_netns "$TC" --b trb --timeout 3500 \
    >"$tmp/relay.out" 2>"$tmp/relay.err" &
  relay_pid=$!
  bg_pids+=("$relay_pid")
  wait_for "$relay_pid" "$tmp/relay.err" "tun_relay: ready" || {
    echo "error: tun_relay did not start:" >&2; cat "$tmp/relay.err" >&2; exit 1; }
  ip -n "$TC" addr add 192.0.2.50 peer 192.0.2.49 dev tra
  ip -n "$TC" link set tra up txqueuelen 4096
  ip -n "$TC" route add default dev tra
  ip -n "$R" link set trb up txqueuelen 4096
  ip -n "$R" route add 192.0.2.50/32 dev trb
}

# wait_for PID FILE TEXT: until FILE contains TEXT (0), PID exits or 10 s pass (1).
wait_for() {
  local i
  for ((i = 0; i < 200; ++i)); do
    grep -q -- "$3" "$2" 2>/dev/null && return 0
    kill -0 "$1" 2>/dev/null || { grep -q -- "$3" "$2" 2>/dev/null; return; }
    sleep 0.05
  done
  return 1
}

# launch NAME IN OUT NS CMD...: runs CMD in NS in the background, bounded by the transfer
# timeout, stdin from IN (or "hold": a pipe that ends after a second), stdout to OUT ("-":
# $tmp/NAME.out), stderr to $tmp/NAME.err; its pid in $launched.
launch() {
  local name="$1" in="$2" out="$3" ns="$4"
  shift 4
  # Emptied here, not only by the redirection below, which runs later in the background job:
  # wait_for must not find the previous run's "listening" in the old file.
  : >"$tmp/$name.out"
  : >"$tmp/$name.err"
  [[ "$out" == - ]] && out="$tmp/$name.out"
  if [[ "$in" == hold ]]; then
    sleep 1 | timeout -k 5 "$((xfer_timeout + 10))" ip netns exec "$ns" "$@" \
      >"$out" 2>"$tmp/$name.err" &
  else
    timeout -k 5 "$((xfer_timeout + 10))" ip netns exec "$ns" "$@" \
      <"$in" >"$out" 2>"$tmp/$name.err" &
  fi
  launched=$!
  bg_pids+=("$launched")
}
finish() {  # finish PID: its exit status, and it leaves bg_pids
  local rc=0 p keep=()
  wait "$1" || rc=$?
  for p in ${bg_pids[@]+"${bg_pids[@]}"}; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  bg_pids=(${keep[@]+"${keep[@]}"})
  return "$rc"
}

# What mptcp_nc sends: N zero bytes in a file in /dev/shm (tmpfs: reading it costs no disk,
# and no second process competes for the CPU as `head -c N /dev/zero |` would).
payload() { echo "/dev/shm/tun_goodput.$$.$1"; }
make_payload() {
  [[ -e "$(payload "$1")" ]] && return
  shm_files+=("$(payload "$1")")
  head -c "$1" /dev/zero >"$(payload "$1")"
}

# The old kind of peer (diag-k2k-python): Python, blocking sockets (as README's example), 64 KiB
# reads and writes; bounded by `timeout` around it. (With settimeout(), Python would poll.)
read -r -d '' py_peer <<'EOF' || true
import socket, sys, time
role, port, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
proto = getattr(socket, "IPPROTO_MPTCP", 262)
if role == "server":
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port)); ls.listen(1)
    print("stream_peer: listening", file=sys.stderr, flush=True)
    c, _ = ls.accept()
    t0, got = time.monotonic(), 0
    while True:
        d = c.recv(65536)
        if not d: break
        got += len(d)
    dt = time.monotonic() - t0
    print("bytes=%d seconds=%.6f MiB/s=%.2f" % (got, dt, got / dt / 2**20))
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    s.connect((sys.argv[4], port))
    buf, left = bytes(65536), nbytes
    while left > 0:
        s.sendall(buf[:min(left, 65536)]); left -= min(left, 65536)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536): pass
EOF

# --- Rows -------------------------------------------------------------------------------------

port=6000
failed=0

# figure FILE: the MiB/s= value of a stream_peer line (empty if none).
figure() { sed -n 's/.*MiB\/s=\([0-9.]*\).*/\1/p' "$1" 2>/dev/null | tail -n1; }
# nc_figure FILE sent|received: mptcp_nc's own report figure.
nc_figure() {
  sed -n "s/^mptcp_nc: report: $2 [0-9]* bytes in [0-9.]* s: \([0-9.]*\) MiB\/s.*/\1/p" "$1" |
    tail -n1
}

# run_row ROW RUN: one transfer; appends "ROW RUN MIBS NOTE" to $tmp/results (MIBS "fail").
run_row() {
  local row="$1" run="$2" base="$1" variant="" rev=0 nbytes="$bytes" two=0
  if [[ "$base" == *+* ]]; then variant="${base#*+}"; base="${base%%+*}"; fi
  if [[ "$base" == *-rev ]]; then rev=1; base="${base%-rev}"; fi
  if [[ "$base" == 2path-* ]]; then two=1; nbytes="$two_path_bytes"; base="${base#2path-}"; fi
  port=$((port + 1))
  local -a vflags=()
  [[ -n "$variant" ]] && read -r -a vflags <<<"${variant_flags[$variant]}"
  local -a ncf=(${ours_flags[@]+"${ours_flags[@]}"} ${vflags[@]+"${vflags[@]}"} --timeout "$xfer_timeout")
  # Who is who: server (S) and client (C) commands; which side sends; which side measures.
  local s_ns="$K" c_ns="$KC" proto=mptcp target=198.51.100.1 s_kind=sp c_kind=sp
  local hogs=0 bidir=0
  local -a c_extra=()
  case "$base" in
    kernel-tcp-relay) proto=tcp; c_ns="$TC" ;;
    kernel-mptcp-relay) c_ns="$TC" ;;
    kernel-tcp-direct) proto=tcp ;;
    kernel-mptcp-direct | kernel-mptcp) ;;
    ours-to-kernel-tcp) proto=tcp; c_ns="$R"; c_kind=nc ;;
    ours-to-kernel-mptcp) c_ns="$R"; c_kind=nc ;;
    ours-from-kernel-mptcp) s_ns="$R"; s_kind=nc; c_ns="$K"; target=192.0.2.1 ;;
    diag-k2k-python) s_kind=py; c_kind=py ;;
    diag-k2k-blocking) c_extra=(--blocking) ;;
    diag-k2k-bidir) bidir=1 ;;
    diag-k2k-noforward) c_ns="$DC" ;;
    diag-k2k-busy) hogs=2 ;;
    *) echo "error: unknown row '$row'" >&2; exit 1 ;;
  esac
  local s_sends=$rev c_sends=$((1 - rev))
  local -a s_cmd c_cmd
  local s_in=/dev/null c_in=/dev/null s_out=- c_out=- s_ready="stream_peer: listening"
  local dir
  sp_dir() { if (($1)); then echo "--send $nbytes"; else echo "--recv"; fi; }
  if ((bidir)); then dir="--send $nbytes --recv"; fi
  case "$s_kind" in
    sp) s_cmd=("$peer" --listen "$port" --proto "$proto" --timeout "$xfer_timeout"
               ${dir:-$(sp_dir "$s_sends")}) ;;
    py) s_cmd=(python3 -c "$py_peer" server "$port" "$nbytes") ;;
    nc) s_cmd=("$nc" "${ncf[@]}" -v -l "$port" --local 192.0.2.1)
        s_ready="listening on port"
        s_out=/dev/null
        if ((s_sends)); then s_in="$(payload "$nbytes")"; else s_in=hold; fi ;;
  esac
  case "$c_kind" in
    sp) c_cmd=("$peer" --connect "$target:$port" --proto "$proto" --timeout "$xfer_timeout"
               ${dir:-$(sp_dir "$c_sends")} ${c_extra[@]+"${c_extra[@]}"}) ;;
    py) c_cmd=(python3 -c "$py_peer" client "$port" "$nbytes" "$target") ;;
    nc) if ((two)); then
          c_cmd=("$nc" "${ncf[@]}" --local 192.0.2.1,192.0.2.2 --join-announced "$target" "$port")
        else
          c_cmd=("$nc" "${ncf[@]}" --local 192.0.2.1 "$target" "$port")
        fi
        c_out=/dev/null
        if ((c_sends)); then c_in="$(payload "$nbytes")"; else c_in=hold; fi ;;
  esac
  local -a hog_pids=()
  local h
  for ((h = 0; h < hogs; ++h)); do
    timeout "$((xfer_timeout + 10))" sh -c 'while :; do :; done' &
    hog_pids+=($!)
    bg_pids+=($!)
  done
  local note="" value="" s_rc=0 c_rc=0 spid cpid
  launch server "$s_in" "$s_out" "$s_ns" "${s_cmd[@]}"
  spid=$launched
  if ! wait_for "$spid" "$tmp/server.err" "$s_ready"; then
    kill "$spid" 2>/dev/null || true
    finish "$spid" || s_rc=$?
    note="server did not start (exit $s_rc): $(head -c 300 "$tmp/server.err" | tr '\n' ' ')"
  else
    launch client "$c_in" "$c_out" "$c_ns" "${c_cmd[@]}"
    cpid=$launched
    finish "$cpid" || c_rc=$?
    if ((c_rc != 0)); then
      kill "$spid" 2>/dev/null || true  # it may wait for a connection that never comes
    fi
    finish "$spid" || s_rc=$?
    if ((c_rc != 0 || s_rc != 0)); then
      note="client exit $c_rc, server exit $s_rc: $(cat "$tmp/client.err" "$tmp/server.err" |
        grep -v -e '^mptcp_nc: report' -e 'listening' -e '^\[' | head -c 300 | tr '\n' ' ')"
    fi
  fi
  for h in ${hog_pids[@]+"${hog_pids[@]}"}; do kill "$h" 2>/dev/null || true; finish "$h" || true; done
  if [[ -z "$note" ]]; then
    # The kernel receiver's figure; the kernel sender's when our stack receives.
    local recv_side=server
    ((rev)) && recv_side=client
    local recv_kind="$s_kind" send_side=client
    ((rev)) && { recv_kind="$c_kind"; send_side=server; }
    if [[ "$recv_kind" == nc ]]; then
      value="$(figure "$tmp/$send_side.out")"
      note="mptcp_nc: $(nc_figure "$tmp/$recv_side.err" received)"
    else
      value="$(figure "$tmp/$recv_side.out")"
      [[ "$s_kind" == nc ]] && note="mptcp_nc: $(nc_figure "$tmp/server.err" sent)"
      [[ "$c_kind" == nc ]] && note="mptcp_nc: $(nc_figure "$tmp/client.err" sent)"
    fi
    ((bidir)) && value="$(awk -v v="$value" 'BEGIN { printf "%.2f", v / 2 }')"
    local sub
    sub="$(sed -n 's/.* subflows=\([0-9]*\).*/\1/p' "$tmp"/{server,client}.out 2>/dev/null | head -n1)"
    if ((two)); then
      local n_ours
      n_ours="$(cat "$tmp"/{server,client}.err | grep -c '^mptcp_nc: report: subflow' || true)"
      [[ "$s_kind$c_kind" == *nc* ]] && sub="$n_ours"
      [[ "$sub" == 2 ]] || note="$note; WARNING: $sub subflow(s), not 2"
    fi
    [[ -n "$sub" ]] && note="$note subflows=$sub"
    if [[ -z "$value" ]]; then
      note="no figure: $(cat "$tmp"/{server,client}.out | head -c 200 | tr '\n' ' ')"
    fi
  fi
  if [[ -z "$value" ]]; then
    value=fail
    failed=1
    echo "  $row run $run: FAILED: $note" >&2
  else
    printf '  %-36s run %d: %9.2f MiB/s  %s\n' "$row" "$run" "$value" "$note" >&2
  fi
  printf '%s\t%s\t%s\t%s\n' "$row" "$run" "$value" "$note" >>"$tmp/results"
  if [[ -n "$logs" ]]; then
    for f in server.out server.err client.out client.err; do
      cp "$tmp/$f" "$logs/$row.run$run.$f"
    done
  fi
}

selected() { [[ -z "$only" ]] || grep -qE -- "$only" <<<"$1"; }

rows=()
add_row() { if selected "$1"; then rows+=("$1"); fi; }
for r in kernel-tcp-relay kernel-mptcp-relay kernel-tcp-direct kernel-mptcp-direct \
    ours-to-kernel-tcp ours-to-kernel-mptcp ours-from-kernel-mptcp; do
  add_row "$r"
done
for v in ${variant_names[@]+"${variant_names[@]}"}; do
  for r in ours-to-kernel-tcp ours-to-kernel-mptcp ours-from-kernel-mptcp; do add_row "$r+$v"; done
done
if ((reverse)); then
  for r in kernel-tcp-relay kernel-mptcp-relay kernel-tcp-direct kernel-mptcp-direct \
      ours-to-kernel-tcp ours-to-kernel-mptcp ours-from-kernel-mptcp; do
    add_row "$r-rev"
  done
  for v in ${variant_names[@]+"${variant_names[@]}"}; do
    for r in ours-to-kernel-tcp ours-to-kernel-mptcp ours-from-kernel-mptcp; do
      add_row "$r-rev+$v"
    done
  done
fi
if ((diagnose)); then
  for r in diag-k2k-python diag-k2k-blocking diag-k2k-bidir diag-k2k-noforward diag-k2k-busy; do
    add_row "$r"
  done
fi
two_rows=()
if ((two_paths)); then
  two_base=(2path-kernel-mptcp 2path-ours-to-kernel-mptcp)
  ((reverse)) && two_base+=(2path-kernel-mptcp-rev 2path-ours-to-kernel-mptcp-rev)
  for r in "${two_base[@]}"; do
    if selected "$r"; then two_rows+=("$r"); fi
    [[ "$r" == *ours* ]] || continue
    for v in ${variant_names[@]+"${variant_names[@]}"}; do
      if selected "$r+$v"; then two_rows+=("$r+$v"); fi
    done
  done
fi
((${#rows[@]} + ${#two_rows[@]} > 0)) || { echo "error: --only '$only' matches no row" >&2; exit 2; }

# --- Run --------------------------------------------------------------------------------------

cpus="$(nproc)"
model="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
kernel_release="$(uname -r)"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$SECONDS
: >"$tmp/results"
setup_topology
if [[ " ${rows[*]} " == *ours* ]]; then make_payload "$bytes"; fi
if [[ " ${two_rows[*]} " == *ours* ]]; then make_payload "$two_path_bytes"; fi
if ((${#rows[@]})); then
  echo "== $runs rounds of ${#rows[@]} rows, $bytes bytes each: ${rows[*]}" >&2
  for ((i = 1; i <= runs; ++i)); do
    for r in "${rows[@]}"; do run_row "$r" "$i"; done
  done
fi
if ((${#two_rows[@]})); then
  for dev in a0 a1; do
    ip netns exec "$R" tc qdisc add dev "$dev" root tbf rate "$rate" burst 30kb latency 50ms
  done
  for dev in b0 b1; do
    ip netns exec "$K" tc qdisc add dev "$dev" root tbf rate "$rate" burst 30kb latency 50ms
  done
  ip -n "$K" mptcp limits set subflows 2 add_addr_accepted 0
  ip -n "$K" mptcp endpoint add 203.0.113.1 dev b1 signal
  ip -n "$KC" mptcp limits set subflows 2 add_addr_accepted 1
  echo "== two paths at $rate each: $runs rounds of ${#two_rows[@]} rows, $two_path_bytes" \
    "bytes each: ${two_rows[*]}" >&2
  for ((i = 1; i <= runs; ++i)); do
    for r in "${two_rows[@]}"; do run_row "$r" "$i"; done
  done
fi
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"
kill "$relay_pid" 2>/dev/null || true
finish "$relay_pid" || true
echo "tun_relay, all runs: $(cat "$tmp/relay.out")" >&2

python3 - "$tmp/results" "$runs" "$bytes" "$two_path_bytes" "$rate_mbit" "$cpus" "$model" \
    "$kernel_release" "$load_start" "$load_end" "$((SECONDS - started))" \
    "${OURS_FLAGS:-}" ${variant_names[@]+"${variant_names[@]}"} <<'EOF'
import statistics, sys
(path, runs, nbytes, two_bytes, rate_mbit, cpus, model, release, load0, load1, secs,
 ours_flags, *variants) = sys.argv[1:]
rows, notes = {}, {}
for line in open(path):
    row, run, value, note = (line.rstrip("\n").split("\t", 3) + [""])[:4]
    rows.setdefault(row, []).append(value)
    notes.setdefault(row, []).append(note)
def med(row):
    v = [float(x) for x in rows.get(row, []) if x != "fail"]
    return statistics.median(v) if v else None
print("TUN goodput against the kernel: one connection, one direction, MiB/s (2^20 B/s)")
print("machine: %s CPUs, %s, Linux %s; load average %s at start, %s at end; %s s in all"
      % (cpus, model, release, load0, load1, secs))
print("transfers: %s bytes (two paths: %s bytes at %s Mbit/s each)%s"
      % (nbytes, two_bytes, rate_mbit, "; OURS_FLAGS=%r" % ours_flags if ours_flags else ""))
print()
width = max([len(r) for r in rows] + [20])
n = max(len(v) for v in rows.values()) if rows else 0
print("%-*s %s %9s %19s" % (width, "row", "".join("%9s" % ("run%d" % (i + 1)) for i in range(n)),
                           "median", "min-max"))
for row, values in rows.items():
    ok = [float(x) for x in values if x != "fail"]
    cells = "".join("%9s" % (x if x == "fail" else "%.1f" % float(x)) for x in values)
    rng = "%.1f-%.1f" % (min(ok), max(ok)) if ok else "-"
    m = med(row)
    print("%-*s %s %9s %19s" % (width, row, cells, "%.1f" % m if m is not None else "-", rng))
print()
def ratio(a, b, goal=None):
    ma, mb = med(a), med(b)
    if ma is None or mb is None:
        return
    tail = "" if goal is None else "   (issue 15 goal %s: >= %.1fx)" % (goal[1], goal[0])
    print("  %-48s %6.2fx%s" % ("%s / %s" % (a, b), ma / mb, tail))
print("ratios of medians:")
for suffix in ["", "-rev"]:
    for v in [""] + ["+" + x for x in variants]:
        ratio("ours-to-kernel-tcp%s%s" % (suffix, v), "kernel-tcp-relay" + suffix)
        ratio("ours-to-kernel-mptcp%s%s" % (suffix, v), "kernel-tcp-relay" + suffix,
              (0.9, "without offloads") if not v else None)
        ratio("ours-to-kernel-mptcp%s%s" % (suffix, v), "kernel-mptcp-direct" + suffix,
              (1.0, "with GSO/GRO"))
        ratio("ours-from-kernel-mptcp%s%s" % (suffix, v), "kernel-tcp-relay" + suffix)
        ratio("ours-from-kernel-mptcp%s%s" % (suffix, v), "kernel-mptcp-direct" + suffix)
two = [r for r in rows if r.startswith("2path-")]
if two:
    raw = 2 * float(rate_mbit) * 1e6 / 8 / 2**20
    print()
    print("two paths: raw link sum %.2f MiB/s; payload ceiling %.2f MiB/s when we send (1420 "
          "payload bytes of 1514 on the wire), %.2f when Linux sends (1424 of 1514)"
          % (raw, raw * 1420 / 1514, raw * 1424 / 1514))
    for row in two:
        m = med(row)
        ours_send = row.startswith("2path-ours") and "-rev" not in row
        ceiling = raw * (1420 if ours_send else 1424) / 1514
        if m is not None:
            print("  %-48s %6.1f %% of the payload ceiling, %5.1f %% of the raw link sum"
                  % (row, 100 * m / ceiling, 100 * m / raw))
    for suffix in ["", "-rev"]:
        for v in [""] + ["+" + x for x in variants]:
            ratio("2path-ours-to-kernel-mptcp%s%s" % (suffix, v), "2path-kernel-mptcp" + suffix)
notes_shown = [(r, i + 1, t) for r, ts in notes.items() for i, t in enumerate(ts)
               if "WARNING" in t or rows[r][i] == "fail"]
if notes_shown:
    print()
    for r, i, t in notes_shown:
        print("note: %s run %d: %s" % (r, i, t))
EOF
if ((failed)); then
  echo "error: some runs failed (marked 'fail' above)" >&2
  exit 1
fi
