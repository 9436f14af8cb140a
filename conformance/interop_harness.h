// The test bed for interop with the Linux kernel's MPTCP: network namespaces built and torn
// down by the test, the kernel peer (an IPPROTO_MPTCP socket in its own namespace), our stack
// behind TUN devices driven by io::EventLoop, a packet capture checked by tshark, and the
// prerequisite checks that turn a missing root / TUN / kernel MPTCP into a skip.
//
// Topology (documentation address ranges only, RFC 5737):
//
//   ns "ours" (router)                                   ns "kern" (kernel MPTCP peer)
//   our stack 192.0.2.1 -- tun0 \                 a0 198.51.100.254 === b0 198.51.100.1
//   our stack 192.0.2.2 -- tun1 -- forwarding --  a1 203.0.113.254  === b1 203.0.113.1
//   ns "kcli" 192.0.2.100 -- ac 192.0.2.99 /     (a kernel client for kernel-to-kernel runs)
//
// and the same in IPv6 (RFC 3849's 2001:db8::/32): our stack 2001:db8:1::1 and ::2, path 0
// 2001:db8:2::/64 (b0 ::1), path 1 2001:db8:3::/64 (b1 ::1), the kernel client 2001:db8:4::1.
//
// Path 0 is tun0/a0/b0, path 1 is tun1/a1/b1. In "kern", packets from 203.0.113.1 are routed
// back over b1 (policy rule), everything else to 192.0.2.0/24 over b0, so a subflow's
// addresses pick its path in both directions.
//
// Every namespace name carries a per-process prefix; the guards delete them on every exit
// path, and a test start also deletes leftovers of dead processes.
#ifndef MPTCP_CONFORMANCE_INTEROP_HARNESS_H_
#define MPTCP_CONFORMANCE_INTEROP_HARNESS_H_

#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/event_loop.h"
#include "io/shell.h"
#include "mptcp/address.h"
#include "mptcp/crypto/sha256.h"
#include "mptcp/endpoint.h"
#include "mptcp/event.h"
#include "mptcp/mib.h"
#include "mptcp/tcp/tcp_mib.h"
#include "mptcp/time.h"

namespace mptcp::interop {

using Digest = crypto::Sha256::Digest;

// --- Shell and prerequisites ------------------------------------------------------------------

using CommandResult = io::CommandResult;
// Runs `command` with /bin/sh (PATH includes /usr/sbin and /sbin), bounded by `timeout`.
CommandResult Run(const std::string& command, Duration timeout = Duration::Seconds(30));
// Run() that fails unless the exit code is 0.
absl::Status RunOk(const std::string& command);
// The whole file at `path` into *out; false if it cannot be read.
bool ReadFile(const std::string& path, std::string* out);

// Why the interop tests cannot run here (empty: they can): not root, no /dev/net/tun, no
// kernel MPTCP, no `ip`, or namespaces that do not work.
std::string MissingPrerequisite();
// Whether `tool` (tshark, dumpcap, nstat) is on the PATH that Run() uses.
bool HaveTool(const std::string& tool);

// Runs `fn` on a new thread that has joined network namespace `ns`; returns that thread.
std::thread SpawnInNetns(const std::string& ns, std::function<void()> fn);

// --- Namespaces and topology ------------------------------------------------------------------

// A network namespace created here and deleted (with every interface in it) on destruction.
class Netns {
 public:
  static absl::StatusOr<std::unique_ptr<Netns>> Create(const std::string& role);
  ~Netns();
  const std::string& name() const { return name_; }
  // `ip netns exec NAME sh -c COMMAND`.
  CommandResult Exec(const std::string& command) const;
  absl::Status ExecOk(const std::string& command) const;

 private:
  explicit Netns(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// Deletes namespaces left by interop test processes that no longer exist.
void CleanStaleNamespaces();

struct PathAddresses {
  IpAddress ours;    // our stack's address (behind tunN)
  IpAddress kernel;  // the kernel peer's address on bN
  std::string tun;   // tunN in the "ours" namespace
  std::string router_if, kernel_if;  // aN, bN
};

class Topology {
 public:
  // Builds the namespaces, veths, addresses and routes above (the TUN devices come later, from
  // our stack's thread: see OurPeer).
  static absl::StatusOr<std::unique_ptr<Topology>> Create();
  ~Topology() = default;

  Netns& ours() { return *ours_; }
  Netns& kern() { return *kern_; }
  Netns& kcli() { return *kcli_; }
  // Path i's addresses, IPv4 or IPv6 (every interface has both).
  static PathAddresses Path(int i, bool v6 = false);
  static IpAddress KernelClientAddress() { return IpAddress::V4(192, 0, 2, 100); }

 private:
  Topology() = default;
  std::unique_ptr<Netns> kern_, ours_, kcli_;
};

// --- Packet capture ---------------------------------------------------------------------------

// dumpcap on interfaces of a namespace, headers only (snaplen), stopped on destruction. One
// dumpcap per interface: one dumpcap on several interfaces says it captures before it captures
// on all of them (seen: the second interface missed a whole 0.3 s transfer). Stop() merges the
// files into `path` with mergecap.
class Capture {
 public:
  static absl::StatusOr<std::unique_ptr<Capture>> Start(const Netns& ns,
                                                        const std::vector<std::string>& ifaces,
                                                        const std::string& path);
  ~Capture();
  // Stops dumpcap (bounded wait), merges the per-interface files and returns the path.
  absl::StatusOr<std::string> Stop();
  const std::string& path() const { return path_; }

 private:
  explicit Capture(std::string path) : path_(std::move(path)) {}
  std::vector<pid_t> pids_;
  std::vector<std::string> parts_;  // one file per interface
  std::string path_;
  bool stopped_ = false;
};

struct TsharkFindings {
  uint64_t frames = 0;
  uint64_t mptcp_frames = 0;
  std::vector<std::string> malformed;      // "frame N: text"
  std::vector<std::string> mptcp_errors;   // expert errors in frames carrying MPTCP
  std::vector<std::string> other_errors;   // other expert errors (reported, not fatal)
};
absl::StatusOr<TsharkFindings> CheckCapture(const std::string& pcap);

// --- The kernel peer ---------------------------------------------------------------------------

struct TransferResult {
  absl::Status status;
  uint64_t sent = 0;
  uint64_t received = 0;
  Digest received_digest{};
  Timestamp started, finished;  // EventLoop::MonotonicNow()
  Duration elapsed() const { return finished - started; }
  // The longest time between two arrivals of new in-order data (from the first byte to the
  // last): how long the stream stalled, e.g. across a path failure.
  Duration longest_stall = Duration::Zero();
  Timestamp longest_stall_end;  // when it ended
  Timestamp last_data;  // when in-order data last arrived
  // With an expected stream (KernelPeerConfig::expect_seed): the stream offset of the first
  // byte that differs from it, to tell where a corruption starts, not only that there is one.
  std::optional<uint64_t> first_wrong_byte;
  uint64_t wrong_bytes = 0;  // how many differ (same-length comparison, offset by offset)
  void NoteData(Timestamp now) {
    if (last_data != Timestamp() && now - last_data > longest_stall) {
      longest_stall = now - last_data;
      longest_stall_end = now;
    }
    last_data = now;
  }
};

struct KernelPeerConfig {
  bool server = true;
  bool mptcp = true;           // IPPROTO_MPTCP (else IPPROTO_TCP)
  // If the MPTCP socket cannot be created (net.mptcp.enabled=0), use TCP, as applications do.
  bool tcp_if_mptcp_disabled = false;
  SocketAddress local;         // server: bind address (port); client: source (port 0: any)
  SocketAddress remote;        // client only
  uint64_t send_bytes = 0;
  uint64_t seed = 1;           // io::StreamPattern seed of what it sends
  // io::StreamPattern seed of what it should receive, checked byte by byte as it arrives.
  std::optional<uint64_t> expect_seed;
  Duration timeout = Duration::Seconds(120);
  // How long the application waits after its last byte before shutdown(SHUT_WR), i.e. before
  // the kernel sends its DATA_FIN (and, once that is acknowledged, its subflows' FINs).
  Duration half_close_delay = Duration::Zero();
};

// The kernel side of one transfer, on its own thread in namespace `ns`: accepts one
// connection (server) or connects (client), then sends `send_bytes` of the pattern and reads
// to EOF at the same time, shutting down its write side after the last byte.
class KernelPeer {
 public:
  KernelPeer(const std::string& ns, const KernelPeerConfig& config);
  ~KernelPeer();
  // Server: blocks until listening (or failed), at most `timeout`.
  absl::Status WaitListening(Duration timeout = Duration::Seconds(10));
  TransferResult Join();
  uint64_t received_so_far() const { return received_.load(); }

 private:
  void Body();
  TransferResult Transfer(int fd);

  KernelPeerConfig config_;
  std::promise<absl::Status> listening_;
  std::future<absl::Status> listening_future_;
  std::atomic<uint64_t> received_{0};
  TransferResult result_;
  std::thread thread_;
};

// --- Our stack --------------------------------------------------------------------------------

// A middlebox on one of our TUN devices that rewrites one payload byte of one TCP segment and
// fixes the TCP checksum, so that only the DSS checksum (RFC 8684 §3.3.1) can tell: MP_FAIL
// and the infinite mapping (§3.7) against the kernel.
struct CorruptSpec {
  int path = 0;          // which TUN device (tunN)
  bool outgoing = true;  // our packets to the kernel, or the kernel's to us
  // The n-th TCP segment (counted from 1) with at least 500 payload bytes in that direction.
  uint64_t nth = 100;
  // Drop that segment instead (once; outgoing only): a loss at an exact point of the stream.
  bool drop = false;
  // Instead of the n-th segment: drop (outgoing) every segment whose mapped data covers this
  // stream offset, on any path, for `drop_for` from the first one: every copy of that data
  // (subflow retransmissions, reinjections) is lost until then.
  std::optional<uint64_t> drop_stream_offset;
  Duration drop_for = Duration::Zero();

  static CorruptSpec Rewrite(int path, bool outgoing, uint64_t nth) {
    CorruptSpec c;
    c.path = path;
    c.outgoing = outgoing;
    c.nth = nth;
    return c;
  }
  static CorruptSpec Drop(int path, uint64_t nth) {
    CorruptSpec c = Rewrite(path, true, nth);
    c.drop = true;
    return c;
  }
};

// INTEROP_OFFLOAD=1 (any value but empty or 0).
bool OffloadFromEnvironment();

struct OurPeerConfig {
  bool server = false;
  uint16_t listen_port = 0;            // server
  SocketAddress local, remote;         // client: the initial subflow
  // Client: extra subflows (local, remote) opened once the connection is fully established.
  std::vector<FourTuple> extra_subflows;
  bool backup_extra = false;
  // Client: open a subflow from `join_local` to every address the peer announces.
  bool join_announced = false;
  IpAddress join_local;
  int tun_count = 2;                   // tun0 (path 0) and tun1 (path 1) in the "ours" ns
  // TUN devices with virtio-net headers and TCP offload (io::TunOptions::offload): GSO
  // super-segments out, coalesced segments in. The environment variable INTEROP_OFFLOAD=1
  // turns it on for every test.
  bool offload = OffloadFromEnvironment();
  // Instead of TUN devices: a RawSocket for `local` (io/raw_socket.h), on an address the
  // namespace owns; the caller keeps the kernel's RSTs away (the iptables rule documented there).
  bool raw_socket = false;
  EndpointConfig endpoint;
  uint64_t send_bytes = 0;
  uint64_t seed = 2;
  Duration timeout = Duration::Seconds(120);
  std::string pcap;                    // also capture at the TUN (empty: no)
  // Finish only on a clean close (Closed(normal)). When false, the transfer also counts as
  // done once both streams are complete and our data is acknowledged, after `close_grace`
  // without the Closed event (a subflow on a dead path may hold the close back).
  bool require_clean_close = true;
  Duration close_grace = Duration::Seconds(3);
  std::optional<CorruptSpec> corrupt;
  // Check every data segment both ways against the stream its mapping names (StreamCheck):
  // ours against `seed`, the peer's against `peer_seed` when set.
  bool check_stream = false;
  std::optional<uint64_t> peer_seed;
};

struct OurResult : TransferResult {
  bool fell_back = false;
  bool checksum = false;               // DSS checksums were negotiated
  CloseReason close_reason = CloseReason::kNone;
  std::vector<Event> events;           // all but Readable / Writable
  MptcpMib mib;
  tcp::TcpMib tcp;
  EndpointStats endpoint_stats;
  io::EventLoopStats loop;
  uint64_t tun_tx_dropped = 0;         // packets the kernel dropped at our TUN devices' queues
  uint64_t gso_packets_in = 0;         // offload: packets the kernel handed over unsegmented
  size_t max_subflows = 0;             // most subflows alive at once
  uint64_t corrupted = 0;              // segments the CorruptSpec rewrote
  // check_stream: the first segment that did not carry its mapping's bytes, each way (empty:
  // none), and how many were checked.
  std::string stream_error_out, stream_error_in;
  uint64_t stream_checked_out = 0, stream_checked_in = 0;
  uint64_t stream_unmapped_out = 0, stream_unmapped_in = 0;  // data segments without a mapping
  uint64_t stream_overlaps_out = 0;  // our mappings overlapping an earlier, different one
  std::string stream_first_overlap_out;
  bool closed_cleanly = false;         // Closed(normal) seen
  double cpu_seconds = 0;              // CPU time of our stack's thread
  std::map<SubflowId, uint64_t> subflow_out_segs;  // OutSegs per subflow, last seen
  std::map<SubflowId, FourTuple> subflow_tuples;   // every subflow seen (local address first)
  std::vector<std::string> subflow_log;  // per subflow at the end: tuple, state, counters
};

// Our stack on its own thread in the "ours" namespace: creates tun0/tun1, routes our
// addresses to them, runs the EventLoop, and does the same transfer as KernelPeer.
class OurPeer {
 public:
  OurPeer(const std::string& ns, const OurPeerConfig& config);
  ~OurPeer();
  // Blocks until the TUN devices are up (and, for a server, it listens).
  absl::Status WaitReady(Duration timeout = Duration::Seconds(10));
  OurResult Join();
  uint64_t received_so_far() const { return received_.load(); }
  uint64_t sent_so_far() const { return sent_.load(); }
  // Runs a path-manager command (`ip mptcp endpoint ...` in our stack) on the connection at the
  // loop's next turn, from any thread; false once the connection is gone. Tests post commands
  // when the peer shows the state they expect, never at a fixed time: a loaded machine delays
  // the test's thread by hundreds of milliseconds.
  bool PostPathManagerCommand(const PmCommand& command);

 private:
  void Body();

  OurPeerConfig config_;
  std::promise<absl::Status> ready_;
  std::future<absl::Status> ready_future_;
  std::atomic<uint64_t> received_{0}, sent_{0};
  std::mutex pm_mu_;
  std::vector<PmCommand> pm_pending_;  // guarded by pm_mu_
  bool connection_gone_ = false;       // guarded by pm_mu_
  OurResult result_;
  std::thread thread_;
};

// Text for failure messages.
std::string Describe(const OurResult& r);

}  // namespace mptcp::interop

#endif  // MPTCP_CONFORMANCE_INTEROP_HARNESS_H_
