// Path management against the Linux kernel's MPTCP (the topology of interop_harness.h, on
// documentation addresses only): our listener's in-kernel path manager announces its second
// address to a kernel client whose two addresses are `fullmesh` endpoints (4 subflows, each
// carrying data); our MP_PRIO and REMOVE_ADDR change the kernel's subflows (its nstat counters
// and `ss -tni`'s subflow flags); an ADD_ADDR of ours with a port is joined by the kernel on
// that port. Needs root, /dev/net/tun and kernel MPTCP; skips itself otherwise.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "conformance/interop_fixture.h"
#include "conformance/interop_harness.h"
#include "gtest/gtest.h"
#include "io/stream_pattern.h"
#include "mptcp/crypto/sha256.h"
#include "mptcp/path_manager/endpoints.h"

namespace mptcp::interop {
namespace {

PmEndpoint Endpoint(const std::string& spec) {
  auto e = ParsePmEndpoint(spec);
  EXPECT_TRUE(e.ok()) << spec << ": " << e.status();
  return e.ok() ? *e : PmEndpoint{};
}

// Our listener with the in-kernel manager: `endpoints` and limits subflows=4.
OurPeerConfig OurPmServer(uint64_t bytes, std::vector<PmEndpoint> endpoints) {
  OurPeerConfig o;
  o.server = true;
  o.listen_port = kServerPort;
  o.send_bytes = bytes;
  o.seed = kOurSeed;
  PathManagerConfig& pm = o.endpoint.connection.path_manager;
  pm.kind = PathManagerKind::kInKernel;
  pm.endpoints = std::move(endpoints);
  pm.limits = PmLimits{.subflows = 4, .add_addr_accepted = 0};
  return o;
}

// The kernel's MPTCP subflows (ss -tni in its namespace) whose peer is `ip`: one line each,
// with the `flags:` of tcp-ulp-mptcp (M/m MP_CAPABLE, J/j MP_JOIN, B/b backup asked by the
// remote / local end, e fully established, c connected, v mapping valid).
std::vector<std::string> KernelSubflowsTo(Netns& kern, const IpAddress& ip) {
  const CommandResult r =
      kern.Exec(absl::StrCat("ss -tniH state established dst ", ip.ToString()));
  std::vector<std::string> out;
  std::string current;
  for (absl::string_view line : absl::StrSplit(r.output, '\n')) {
    if (line.empty()) continue;
    if (line[0] != ' ' && line[0] != '\t') {
      if (!current.empty()) out.push_back(current);
      current = std::string(line);
    } else {
      absl::StrAppend(&current, " ", line);
    }
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

std::string FlagsOf(const std::string& subflow) {
  const size_t at = subflow.find("flags:");
  if (at == std::string::npos) return "";
  const size_t end = subflow.find_first_of(" \t", at);
  return subflow.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6);
}

// The bytes the kernel received on a subflow (its `bytes_received:`; 0 if none yet).
uint64_t BytesReceivedOf(const std::string& subflow) {
  const size_t at = subflow.find("bytes_received:");
  uint64_t n = 0;
  if (at == std::string::npos) return 0;
  const size_t from = at + 15, end = subflow.find_first_of(" \t", from);
  if (!absl::SimpleAtoi(subflow.substr(from, end == std::string::npos ? end : end - from), &n)) {
    return 0;
  }
  return n;
}

// KernelSubflowsTo, every 20 ms until `done` holds of it or `timeout` passes: the last seen.
template <typename Done>
std::vector<std::string> PollKernelSubflowsTo(Netns& kern, const IpAddress& ip, Duration timeout,
                                              Done done) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout.nanos());
  std::vector<std::string> seen = KernelSubflowsTo(kern, ip);
  for (int i = 0; i < 1000 && !done(seen) && std::chrono::steady_clock::now() < deadline; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    seen = KernelSubflowsTo(kern, ip);
  }
  return seen;
}

// (1) A kernel client whose two addresses are `fullmesh` endpoints reaches our listener, which
// announces its second address: every kernel address reaches every one of ours, 4 subflows,
// each carrying our data.
TEST_F(InteropTest, KernelFullmeshClientAndOurSignalEndpoints) {
  const uint64_t bytes = TransferBytes();
  ASSERT_TRUE(topo_->kern()
                  .ExecOk("ip mptcp endpoint add 198.51.100.1 dev b0 subflow fullmesh && "
                          "ip mptcp endpoint add 203.0.113.1 dev b1 subflow fullmesh")
                  .ok());
  const uint64_t add_addr_before = NstatCounter("MPTcpExtAddAddr");
  const uint64_t synack_before = NstatCounter("MPTcpExtMPJoinSynAckRx");
  StartCapture();
  OurPeer ours(topo_->ours().name(),
               OurPmServer(bytes, {Endpoint(Topology::Path(1).ours.ToString() + ",signal")}));
  ASSERT_TRUE(ours.WaitReady().ok());
  KernelPeerConfig kc = KernelClient(bytes);
  kc.local = {Topology::Path(0).kernel, 0};
  KernelPeer kernel(topo_->kern().name(), kc);
  const TransferResult k = kernel.Join();
  const OurResult o = ours.Join();
  ExpectExact(o, k, bytes);
  const std::string counters = topo_->kern().Exec("nstat -asz 'MPTcp*' | awk '$2 != 0'").output;
  EXPECT_EQ(o.mib.add_addr_tx, 1u) << Describe(o);
  EXPECT_EQ(o.mib.echo_add, 1u) << Describe(o);
  EXPECT_EQ(NstatCounter("MPTcpExtAddAddr"), add_addr_before + 1) << counters;
  EXPECT_EQ(o.mib.mp_join_ack_rx, 3u) << Describe(o) << counters;
  EXPECT_EQ(NstatCounter("MPTcpExtMPJoinSynAckRx"), synack_before + 3) << counters;
  EXPECT_EQ(o.max_subflows, 4u) << Describe(o);
  ASSERT_EQ(o.subflow_tuples.size(), 4u) << Describe(o);
  std::vector<std::string> pairs;
  for (const auto& [id, t] : o.subflow_tuples) {
    pairs.push_back(absl::StrCat(t.remote.ip.ToString(), "->", t.local.ip.ToString()));
    EXPECT_GT(o.subflow_out_segs.at(id), 100u) << pairs.back() << " carried no data\n" << Describe(o);
  }
  std::sort(pairs.begin(), pairs.end());
  EXPECT_EQ(pairs, (std::vector<std::string>{"198.51.100.1->192.0.2.1", "198.51.100.1->192.0.2.2",
                                             "203.0.113.1->192.0.2.1", "203.0.113.1->192.0.2.2"}))
      << Describe(o);
  std::printf("%s%s", Describe(o).c_str(), counters.c_str());
  CheckCaptureClean();
}

// (2) Our MP_PRIO and REMOVE_ADDR change the kernel's subflows. The kernel client joins the
// address we announce; then `endpoint change id 5 backup` sends MP_PRIO on that subflow (the
// kernel marks it B: backup asked by the remote end, and counts MPPrioRx); then `endpoint
// delete id 5` sends REMOVE_ADDR (RmAddr) and the kernel's subflow to that address goes. Each
// command is posted once the kernel's `ss` shows the previous step, so a slow machine only slows
// the test. Both paths are shaped to 20 Mbit/s so that the transfer is under way meanwhile.
TEST_F(InteropTest, OurMpPrioAndRemoveAddrChangeTheKernelsSubflows) {
  if (!HaveTool("tc")) MPTCP_SKIP_MISSING_PREREQUISITE("no tc: cannot shape the paths");
  ShapePaths("20mbit");
  if (HasFatalFailure()) return;
  const uint64_t bytes = 8 << 20;
  const IpAddress second = Topology::Path(1).ours;
  const uint64_t prio_before = NstatCounter("MPTcpExtMPPrioRx");
  const uint64_t rm_before = NstatCounter("MPTcpExtRmAddr");
  OurPeer ours(topo_->ours().name(),
               OurPmServer(bytes, {Endpoint(second.ToString() + ",signal,id=5")}));
  ASSERT_TRUE(ours.WaitReady().ok());
  KernelPeerConfig kc = KernelClient(bytes);
  kc.local = {Topology::Path(0).kernel, 0};
  kc.half_close_delay = Duration::Seconds(2);  // the connection outlives both commands
  KernelPeer kernel(topo_->kern().name(), kc);
  auto kernel_subflows = [&](auto done) {
    return PollKernelSubflowsTo(topo_->kern(), second, Duration::Seconds(5), done);
  };
  auto is_backup = [](const std::string& s) { return FlagsOf(s).find('B') != std::string::npos; };
  // Joined, and carrying our data.
  const std::vector<std::string> before = kernel_subflows(
      [](const std::vector<std::string>& v) { return !v.empty() && BytesReceivedOf(v[0]) > 0; });
  PmCommand to_backup{.type = PmCommand::Type::kEndpointChange};
  to_backup.endpoint.id = 5;
  to_backup.endpoint.backup = true;
  const bool backup_posted = before.size() == 1 && ours.PostPathManagerCommand(to_backup);
  const std::vector<std::string> backup = kernel_subflows(
      [&](const std::vector<std::string>& v) { return v.size() != 1 || is_backup(v[0]); });
  const bool delete_posted =
      backup_posted &&
      ours.PostPathManagerCommand(PmCommand{.type = PmCommand::Type::kEndpointDelete, .id = 5});
  const std::vector<std::string> after =
      kernel_subflows([](const std::vector<std::string>& v) { return v.empty(); });
  const TransferResult k = kernel.Join();
  const OurResult o = ours.Join();
  ExpectExact(o, k, bytes);
  const std::string counters = topo_->kern().Exec("nstat -asz 'MPTcp*' | awk '$2 != 0'").output;
  auto show = [](const std::vector<std::string>& v) { return absl::StrJoin(v, "\n"); };
  std::printf("kernel subflows to %s:\nbefore MP_PRIO:\n%s\nafter MP_PRIO:\n%s\nafter "
              "REMOVE_ADDR:\n%s\n",
              second.ToString().c_str(), show(before).c_str(), show(backup).c_str(),
              show(after).c_str());
  ASSERT_EQ(before.size(), 1u) << "the kernel joined our announced address\n" << counters;
  EXPECT_FALSE(is_backup(before[0])) << before[0];
  EXPECT_GT(BytesReceivedOf(before[0]), 0u) << "it carried our data before MP_PRIO: " << before[0];
  ASSERT_TRUE(backup_posted) << "the connection ended before MP_PRIO\n" << Describe(o);
  ASSERT_EQ(backup.size(), 1u) << counters;
  EXPECT_TRUE(is_backup(backup[0])) << "MP_PRIO made it a backup at the kernel: " << backup[0];
  ASSERT_TRUE(delete_posted) << "the connection ended before REMOVE_ADDR\n" << Describe(o);
  EXPECT_TRUE(after.empty()) << "REMOVE_ADDR closed it:\n" << show(after);
  EXPECT_EQ(o.mib.mp_prio_tx, 1u) << Describe(o);
  EXPECT_EQ(NstatCounter("MPTcpExtMPPrioRx"), prio_before + 1) << counters;
  EXPECT_EQ(o.mib.rm_addr_tx, 1u) << Describe(o);
  EXPECT_EQ(o.mib.rm_subflow, 1u) << Describe(o);
  EXPECT_EQ(NstatCounter("MPTcpExtRmAddr"), rm_before + 1) << counters;
  std::printf("%s%s", Describe(o).c_str(), counters.c_str());
}

// (3) Our ADD_ADDR with a port (endpoint `192.0.2.2,signal,port=5202`) is joined by the kernel
// on that port (its MPJoinPortSynAckRx, and our subflow's local port).
TEST_F(InteropTest, KernelJoinsOurAddAddrWithPort) {
  const uint64_t bytes = TransferBytes() / 4;
  const uint64_t port_add_before = NstatCounter("MPTcpExtPortAdd");
  const uint64_t port_synack_before = NstatCounter("MPTcpExtMPJoinPortSynAckRx");
  StartCapture();
  OurPeer ours(topo_->ours().name(),
               OurPmServer(bytes, {Endpoint(Topology::Path(1).ours.ToString() +
                                            ",signal,port=5202")}));
  ASSERT_TRUE(ours.WaitReady().ok());
  KernelPeerConfig kc = KernelClient(bytes);
  kc.local = {Topology::Path(0).kernel, 0};
  KernelPeer kernel(topo_->kern().name(), kc);
  const TransferResult k = kernel.Join();
  const OurResult o = ours.Join();
  ExpectExact(o, k, bytes);
  const std::string counters = topo_->kern().Exec("nstat -asz 'MPTcp*' | awk '$2 != 0'").output;
  EXPECT_EQ(o.mib.mp_join_ack_rx, 1u) << Describe(o) << counters;
  bool on_port = false;
  for (const auto& [id, t] : o.subflow_tuples) {
    on_port |= t.local.ip == Topology::Path(1).ours && t.local.port == 5202;
  }
  EXPECT_TRUE(on_port) << Describe(o);
  EXPECT_EQ(NstatCounter("MPTcpExtPortAdd"), port_add_before + 1) << counters;
  EXPECT_EQ(NstatCounter("MPTcpExtMPJoinPortSynAckRx"), port_synack_before + 1) << counters;
  std::printf("%s%s", Describe(o).c_str(), counters.c_str());
  CheckCaptureClean();
}

// (4) `mptcp_nc -l PORT --local A,B` announces B (its further --local addresses are signal
// endpoints), which the kernel client joins; a file goes through it byte-exact both ways.
TEST_F(InteropTest, MptcpNcListenerAnnouncesItsSecondAddress) {
  const std::string nc = NcPath();
  if (::access(nc.c_str(), X_OK) != 0)
    MPTCP_SKIP_MISSING_PREREQUISITE("no mptcp_nc binary at " << nc);
  const uint64_t bytes = 8 << 20;
  const std::string in = TmpDir() + "/ncl_in", out = TmpDir() + "/ncl_out",
                    err = TmpDir() + "/ncl_err";
  ASSERT_TRUE(WritePatternFile(in, bytes, kOurSeed)) << in;
  const uint64_t add_addr_before = NstatCounter("MPTcpExtAddAddr");
  const uint64_t synack_before = NstatCounter("MPTcpExtMPJoinSynAckRx");
  CommandResult r;
  std::thread server([&] {
    r = topo_->ours().Exec(absl::StrFormat(
        "%s -v --mib -l %d --local 192.0.2.1,192.0.2.2 --timeout 60 < %s > %s 2> %s", nc,
        kServerPort, in, out, err));
  });
  // Until it listens (its TUN devices and routes are up).
  for (int i = 0; i < 100; ++i) {
    std::string log;
    if (ReadFile(err, &log) && absl::StrContains(log, "listening")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  KernelPeerConfig kc = KernelClient(bytes);
  kc.local = {Topology::Path(0).kernel, 0};
  kc.half_close_delay = Duration::Millis(300);
  KernelPeer kernel(topo_->kern().name(), kc);
  const TransferResult k = kernel.Join();
  server.join();
  std::string log;
  ReadFile(err, &log);
  const std::string counters = topo_->kern().Exec("nstat -asz 'MPTcp*' | awk '$2 != 0'").output;
  ExpectNcExact(r, k, out, bytes, log);
  if (HasFatalFailure()) return;
  // mptcp_nc --mib prints "MPTcpExt<name> <value>" per counter.
  auto counter = [&log](const std::string& name) -> int64_t {
    for (absl::string_view line : absl::StrSplit(log, '\n')) {
      std::vector<absl::string_view> cols = absl::StrSplit(line, ' ', absl::SkipEmpty());
      int64_t v = 0;
      if (cols.size() == 2 && cols[0] == name && absl::SimpleAtoi(cols[1], &v)) return v;
    }
    return -1;
  };
  EXPECT_EQ(counter("MPTcpExtAddAddrTx"), 1) << log;
  EXPECT_EQ(counter("MPTcpExtEchoAdd"), 1) << log;
  EXPECT_EQ(counter("MPTcpExtMPJoinAckRx"), 1) << log;
  EXPECT_TRUE(absl::StrContains(log, "SubflowUp(2)")) << log;
  EXPECT_EQ(NstatCounter("MPTcpExtAddAddr"), add_addr_before + 1) << counters << log;
  EXPECT_EQ(NstatCounter("MPTcpExtMPJoinSynAckRx"), synack_before + 1) << counters << log;
  std::printf("%s%s", log.c_str(), counters.c_str());
}

}  // namespace
}  // namespace mptcp::interop
