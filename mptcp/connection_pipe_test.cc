// Ring-2 tests of the MPTCP connection: two Endpoints in memory over 1, 2 and 4 paths with
// seeded loss and reordering per path; every byte checked. A failure prints its seed; replay
//   bazel test //mptcp:connection_pipe_test --test_env=MPTCP_PIPE_SEED=<seed>
// MPTCP_PIPE_SEEDS=<n> runs n seeds (CI runs 20; docs/ records a 200-seed run).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "mptcp/multipath_pipe.h"

namespace mptcp::testing {
namespace {

[[maybe_unused]] std::vector<uint64_t> Seeds(int default_count) {
  if (const char* s = std::getenv("MPTCP_PIPE_SEED")) return {std::strtoull(s, nullptr, 10)};
  int n = default_count;
  if (const char* s = std::getenv("MPTCP_PIPE_SEEDS")) n = std::atoi(s);
  std::vector<uint64_t> v;
  for (int i = 1; i <= n; ++i) v.push_back(static_cast<uint64_t>(i));
  return v;
}

MultipathPipeConfig BaseConfig(size_t paths, const PipeLinkConfig& link, size_t bytes,
                               uint64_t seed) {
  MultipathPipeConfig c;
  c.paths = DocumentationPaths(paths, link);
  c.client_bytes = bytes;
  c.server_bytes = bytes;
  c.seed = seed;
  for (EndpointConfig* e : {&c.client, &c.server}) {
    e->connection.send_buffer = 2 << 20;
    e->connection.recv_buffer = 2 << 20;
    e->connection.subflow.send_buffer = 1 << 20;
    e->connection.subflow.recv_buffer = 2 << 20;
  }
  return c;
}

[[maybe_unused]] std::string Replay(uint64_t seed) {
  return "replay: bazel test //mptcp:connection_pipe_test --test_env=MPTCP_PIPE_SEED=" +
         std::to_string(seed);
}

TEST(ConnectionPipeTest, OnePathCleanTransfer) {
  MultipathPipe pipe(BaseConfig(1, PipeLinkConfig{Duration::Millis(5), 0, 0, {}, 100'000'000},
                                1 << 20, 1));
  const auto r = pipe.Run();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(r.fell_back);
  EXPECT_EQ(r.client_read, 1u << 20);
  EXPECT_EQ(r.client_mib.mp_capable_synack_rx, 1u);
  EXPECT_EQ(r.server_mib.mp_capable_ack_rx, 1u);
}

TEST(ConnectionPipeTest, TwoPathsCleanTransferUsesBoth) {
  MultipathPipe pipe(BaseConfig(2, PipeLinkConfig{Duration::Millis(5), 0, 0, {}, 50'000'000},
                                8 << 20, 1));
  const auto r = pipe.Run();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.client_mib.mp_join_synack_rx, 1u);
  EXPECT_EQ(r.server_mib.mp_join_ack_rx, 1u);
  // 8 MiB each way over two 50 Mbit/s paths: about 0.7 s when both carry data.
  EXPECT_LT(r.elapsed, Duration::Millis(1300)) << r.elapsed.seconds();
}

}  // namespace
}  // namespace mptcp::testing

namespace mptcp::testing {
namespace {

// Per-path links for the lossy runs: 1% loss, 2% of packets held back 3 ms (reordering),
// different delays and rates per path so the paths are unequal.
std::vector<PathSpec> LossyPaths(size_t n) {
  std::vector<PathSpec> v = DocumentationPaths(n, PipeLinkConfig{});
  for (size_t i = 0; i < n; ++i) {
    const PipeLinkConfig link{Duration::Millis(5 + 7 * static_cast<int64_t>(i)), 0.01, 0.02,
                              Duration::Millis(3), 100'000'000 - 20'000'000 * i};
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
  for (uint64_t seed : Seeds(20)) {
    MultipathPipeConfig cfg = BaseConfig(paths, {}, 64 << 20, seed);
    cfg.paths = LossyPaths(paths);
    MultipathPipe pipe(cfg);
    const auto r = pipe.Run();
    ASSERT_TRUE(r.ok) << paths << " paths: " << r.error << "\n" << Replay(seed);
    EXPECT_FALSE(r.fell_back);
    EXPECT_GT(r.dropped, 0u);
    EXPECT_EQ(r.client_mib.mp_join_synack_rx, paths - 1) << "seed " << seed;
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
}  // namespace mptcp::testing
