// End-to-end transfers of the MPTCP connection on the simulator (io/sim Harness): two
// Endpoints over 1, 2 and 4 paths, clean and with seeded loss and reordering per path; every
// byte checked. A failure prints its seed and the command that replays it; the seeds are
// testing/seeds.h's MPTCP_PIPE family (20 here; MPTCP_PIPE_SEEDS=<n> runs n, CI's ASan pass 5;
// docs/testing.md records a 200-seed run).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "io/sim/harness.h"
#include "io/sim/link.h"
#include "mptcp/config.h"
#include "mptcp/time.h"
#include "testing/seeds.h"

namespace mptcp::sim::conformance {
namespace {

using ::mptcp::testing::Replay;
using ::mptcp::testing::SeedSpec;

constexpr SeedSpec kSeeds{"MPTCP_PIPE", 20, 20};

// A link of `rate_bps` with one-way `delay`, random `loss`, and a share `reorder` of packets
// held back `reorder_delay` (overtaken by later ones); no queue limit.
LinkConfig Link(Duration delay, double loss, double reorder, Duration reorder_delay,
                uint64_t rate_bps) {
  LinkConfig l;
  l.bandwidth_bps = rate_bps;
  l.delay = delay;
  l.loss = loss;
  l.reorder = reorder;
  l.reorder_delay = reorder_delay;
  return l;
}

HarnessConfig BaseConfig(size_t paths, const LinkConfig& link, size_t bytes, uint64_t seed) {
  return BothWaysBulkConfig(DocumentationPaths(paths, link), bytes, seed);
}

TEST(ConnectionPipeTest, OnePathCleanTransfer) {
  Harness h(BaseConfig(1, Link(Duration::Millis(5), 0, 0, {}, 100'000'000), 1 << 20, 1));
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_FALSE(r.client_fell_back);
  EXPECT_EQ(r.client_read, 1u << 20);
  EXPECT_EQ(r.client_mib.mp_capable_synack_rx, 1u);
  EXPECT_EQ(r.server_mib.mp_capable_ack_rx, 1u);
}

TEST(ConnectionPipeTest, TwoPathsCleanTransferUsesBoth) {
  Harness h(BaseConfig(2, Link(Duration::Millis(5), 0, 0, {}, 50'000'000), 8 << 20, 1));
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_EQ(r.client_mib.mp_join_synack_rx, 1u);
  EXPECT_EQ(r.server_mib.mp_join_ack_rx, 1u);
  // 8 MiB each way over two 50 Mbit/s paths: about 0.7 s when both carry data.
  EXPECT_LT(r.elapsed, Duration::Millis(1300)) << r.elapsed.seconds();
}

// Per-path links for the lossy runs: 1% loss, 2% of packets held back 3 ms (reordering),
// different delays and rates per path so the paths are unequal.
std::vector<PathConfig> LossyPaths(size_t n) {
  std::vector<PathConfig> v = DocumentationPaths(n, LinkConfig{});
  for (size_t i = 0; i < n; ++i) {
    const LinkConfig link = Link(Duration::Millis(5 + 7 * static_cast<int64_t>(i)), 0.01, 0.02,
                                 Duration::Millis(3), 100'000'000 - 20'000'000 * i);
    v[i].up = link;
    v[i].down = link;
  }
  return v;
}

class LossyMultipathTest : public ::testing::TestWithParam<size_t> {};

TEST_P(LossyMultipathTest, SixtyFourMebibytesEachWayByteExact) {
  const size_t paths = GetParam();
  double total_s = 0;
  uint64_t reinjected = 0, retrans = 0;
  int runs = 0;
  for (uint64_t seed : Seeds(kSeeds)) {
    HarnessConfig cfg = BaseConfig(paths, {}, 64 << 20, seed);
    cfg.paths = LossyPaths(paths);
    Harness h(cfg);
    const HarnessResult r = h.Run();
    ASSERT_TRUE(r.ok) << paths << " paths: " << r.Describe() << "\n" << Replay(kSeeds, seed);
    EXPECT_FALSE(r.client_fell_back) << Replay(kSeeds, seed);
    EXPECT_GT(r.drops, 0u) << Replay(kSeeds, seed);
    EXPECT_EQ(r.client_mib.mp_join_synack_rx, paths - 1) << Replay(kSeeds, seed);
    total_s += r.elapsed.seconds();
    reinjected += r.client_mib.reinjected_bytes + r.server_mib.reinjected_bytes;
    retrans += r.client_tcp.retrans_segs + r.server_tcp.retrans_segs;
    ++runs;
  }
  std::printf("%zu paths: %d seeds, mean %.2f s simulated (%.1f Mbit/s each way), %llu subflow "
              "retransmissions, %llu bytes reinjected\n",
              paths, runs, total_s / runs, (64 << 20) * 8 / (total_s / runs) / 1e6,
              static_cast<unsigned long long>(retrans), static_cast<unsigned long long>(reinjected));
}

INSTANTIATE_TEST_SUITE_P(Paths, LossyMultipathTest, ::testing::Values(2, 4),
                         [](const auto& info) { return std::to_string(info.param) + "_paths"; });

}  // namespace
}  // namespace mptcp::sim::conformance
