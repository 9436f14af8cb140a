// Losses at exact points of our stream against the kernel, with every data segment both ways
// checked against the stream its mapping names (StreamCheck), and both streams by digest:
//
// - FirstFlight: one segment of our client's first flight lost, before it has seen the
//   server's first DSS (those segments map themselves, the first in MP_CAPABLE, RFC 8684
//   §3.1). Losing the MP_CAPABLE data itself makes Linux fall back (it meets a DSS before any
//   MP_CAPABLE on the third ACK: MPTcpExtMPCapableFallbackACK) and we follow it; any other
//   loss is repaired without a fallback or a mapping conflict.
// - Join: two shaped paths and a join, one segment lost on either path.
// - DataTimer: every copy of one stream offset lost, on both paths, for a while: the
//   data-level retransmission timer (RFC 8684 §3.3.6) ends the stall while the subflows' own
//   retransmissions of the same data are still due (issue 10's start-up corruption came
//   after such a stall).
//
// CI runs a few cases of each; STARTUP_LOSS_ALL=1 runs the whole matrix, STARTUP_PCAP=PREFIX
// keeps our side's captures.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "conformance/interop_fixture.h"
#include "conformance/interop_harness.h"

namespace mptcp::interop {
namespace {

bool AllCases() {
  const char* e = std::getenv("STARTUP_LOSS_ALL");
  return e != nullptr && *e != 0 && std::string(e) != "0";
}

std::string Pcap(const std::string& name) {
  const char* p = std::getenv("STARTUP_PCAP");
  return p == nullptr ? std::string() : absl::StrCat(p, name, ".pcap");
}

std::string KernelCounters(Netns& ns) {
  return ns.Exec("nstat -asz | grep MPTcp | awk '$2 != 0'").output;
}

class InteropStartupLossTest : public InteropTest,
                               public ::testing::WithParamInterface<uint64_t> {};

TEST_P(InteropStartupLossTest, OurClientLosesOneFirstFlightSegment) {
  const uint64_t bytes = 2 << 20;
  const uint64_t nth = GetParam();
  const uint64_t nomatch_before = NstatCounter("MPTcpExtDSSNotMatching");
  const uint64_t dss_fallback_before = NstatCounter("MPTcpExtDSSFallback");
  const uint64_t mpc_fallback_before = NstatCounter("MPTcpExtMPCapableFallbackACK");
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes));
  ASSERT_TRUE(kernel.WaitListening().ok());
  OurPeerConfig cfg = OurClient(bytes, static_cast<uint16_t>(40100 + nth));
  cfg.check_stream = true;
  cfg.peer_seed = kKernelSeed;
  cfg.corrupt = CorruptSpec::Drop(0, nth);
  cfg.pcap = Pcap(absl::StrCat("first_flight_", nth));
  OurPeer ours(topo_->ours().name(), cfg);
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  std::printf("lost our segment %llu:\n%skernel:\n%s\n", static_cast<unsigned long long>(nth),
              Describe(o).c_str(), KernelCounters(topo_->kern()).c_str());
  ASSERT_EQ(o.corrupted, 1u);
  ExpectExact(o, k, bytes);
  EXPECT_EQ(NstatCounter("MPTcpExtDSSNotMatching"), nomatch_before);
  EXPECT_EQ(NstatCounter("MPTcpExtDSSFallback"), dss_fallback_before);
  if (nth == 1) {
    // The MP_CAPABLE data lost: Linux creates the connection from the next segment, a DSS,
    // as plain TCP; we see its ACKs without options and fall back too (RFC 8684 §3.7).
    EXPECT_EQ(NstatCounter("MPTcpExtMPCapableFallbackACK"), mpc_fallback_before + 1);
    EXPECT_TRUE(o.fell_back) << Describe(o);
  } else {
    EXPECT_EQ(NstatCounter("MPTcpExtMPCapableFallbackACK"), mpc_fallback_before);
    EXPECT_FALSE(o.fell_back) << Describe(o);
  }
}

std::vector<uint64_t> FirstFlightCases() {
  if (AllCases()) return {1, 2, 3, 5, 10};
  return {1, 2};
}
INSTANTIATE_TEST_SUITE_P(FirstFlight, InteropStartupLossTest,
                         ::testing::ValuesIn(FirstFlightCases()));

struct JoinCase {
  int path;
  uint64_t nth;
};

class InteropStartupLossJoinTest : public InteropTest,
                                   public ::testing::WithParamInterface<JoinCase> {};

TEST_P(InteropStartupLossJoinTest, TwoShapedPathsOneSegmentLost) {
  const uint64_t bytes = 4 << 20;
  ShapePaths("20mbit");
  const JoinCase c = GetParam();
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes));
  ASSERT_TRUE(kernel.WaitListening().ok());
  const uint16_t port = 41000;
  OurPeerConfig cfg = OurClient(bytes, port);
  cfg.extra_subflows.push_back({{Topology::Path(1).ours, static_cast<uint16_t>(port + 1)},
                                {Topology::Path(1).kernel, kServerPort}});
  cfg.check_stream = true;
  cfg.peer_seed = kKernelSeed;
  cfg.corrupt = CorruptSpec::Drop(c.path, c.nth);
  cfg.pcap = Pcap(absl::StrCat("join_", c.path, "_", c.nth));
  OurPeer ours(topo_->ours().name(), cfg);
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  std::printf("lost segment %llu on path %d:\n%skernel:\n%s\n",
              static_cast<unsigned long long>(c.nth), c.path, Describe(o).c_str(),
              KernelCounters(topo_->kern()).c_str());
  ASSERT_EQ(o.corrupted, 1u);
  ExpectExact(o, k, bytes);
  if (c.path == 0 && c.nth == 1) {
    // The MP_CAPABLE data lost: a fallback to TCP (see FirstFlight), so no join.
    EXPECT_TRUE(o.fell_back) << Describe(o);
  } else {
    EXPECT_FALSE(o.fell_back) << Describe(o);
    EXPECT_EQ(o.max_subflows, 2u) << Describe(o);
  }
}

std::vector<JoinCase> JoinCases() {
  std::vector<JoinCase> v;
  const std::vector<uint64_t> nths = AllCases()
                                         ? std::vector<uint64_t>{1, 2, 3, 10, 11, 19, 20, 21,
                                                                 22, 30}
                                         : std::vector<uint64_t>{22};
  for (int path : {0, 1}) {
    for (uint64_t n : nths) v.push_back({path, n});
  }
  return v;
}
INSTANTIATE_TEST_SUITE_P(Join, InteropStartupLossJoinTest, ::testing::ValuesIn(JoinCases()));

struct TimerCase {
  uint64_t offset;  // stream offset whose every copy is lost
  int ms;           // for this long from the first
};

class InteropDataTimerTest : public InteropTest,
                             public ::testing::WithParamInterface<TimerCase> {};

TEST_P(InteropDataTimerTest, EveryCopyLostUntilTheDataTimerFires) {
  const uint64_t bytes = 4 << 20;
  ShapePaths("20mbit");
  const TimerCase c = GetParam();
  KernelPeer kernel(topo_->kern().name(), KernelServer(bytes));
  ASSERT_TRUE(kernel.WaitListening().ok());
  const uint16_t port = 43000;  // each case has namespaces of its own
  OurPeerConfig cfg = OurClient(bytes, port);
  cfg.extra_subflows.push_back({{Topology::Path(1).ours, static_cast<uint16_t>(port + 1)},
                                {Topology::Path(1).kernel, kServerPort}});
  cfg.check_stream = true;
  cfg.peer_seed = kKernelSeed;
  cfg.corrupt = CorruptSpec{};
  cfg.corrupt->drop_stream_offset = c.offset;
  cfg.corrupt->drop_for = Duration::Millis(c.ms);
  cfg.pcap = Pcap(absl::StrCat("data_timer_", c.offset, "_", c.ms));
  OurPeer ours(topo_->ours().name(), cfg);
  ASSERT_TRUE(ours.WaitReady().ok());
  const OurResult o = ours.Join();
  const TransferResult k = kernel.Join();
  std::printf("every copy of offset %llu lost for %d ms (%llu copies):\n%skernel:\n%s\n",
              static_cast<unsigned long long>(c.offset), c.ms,
              static_cast<unsigned long long>(o.corrupted), Describe(o).c_str(),
              KernelCounters(topo_->kern()).c_str());
  EXPECT_GE(o.corrupted, 1u);
  ExpectExact(o, k, bytes);
  EXPECT_FALSE(o.fell_back) << Describe(o);
}

std::vector<TimerCase> TimerCases() {
  if (AllCases()) {
    return {{29820, 300}, {29820, 700}, {28400, 700}, {100000, 700}, {1000000, 700},
            {30000, 1500}};
  }
  return {{29820, 700}, {1000000, 700}};
}
INSTANTIATE_TEST_SUITE_P(DataTimer, InteropDataTimerTest, ::testing::ValuesIn(TimerCases()));

}  // namespace
}  // namespace mptcp::interop
