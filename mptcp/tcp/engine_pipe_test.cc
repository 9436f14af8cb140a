// Ring-2 test: two engines in memory move 10 MiB each way, byte-exact, under 1% random loss
// and reordering in both directions, for 100 seeds, with every congestion controller.
// The seeds are testing/seeds.h's MPTCP_PIPE family (100 here; MPTCP_PIPE_SEEDS=<n> runs n,
// CI's ASan pass 5); a failure prints its seed and the command that replays it
// (MPTCP_PIPE_SEED=<seed>).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "mptcp/cc/factory.h"
#include "testing/engine_pipe.h"
#include "testing/seeds.h"

namespace mptcp::tcp::testing {
namespace {

constexpr size_t kBytes = 10 * 1024 * 1024;

PipeConfig LossyConfig(cc::CcAlgorithm algo, uint64_t seed) {
  PipeConfig c;
  c.tcp.congestion_control = algo;
  c.tcp.send_buffer = 512 * 1024;
  c.tcp.recv_buffer = 512 * 1024;
  c.forward = PipeLinkConfig{Duration::Millis(10), 0.01, 0.02, Duration::Millis(3), 200'000'000};
  c.backward = c.forward;
  c.client_bytes = kBytes;
  c.server_bytes = kBytes;
  c.seed = seed;
  return c;
}

constexpr ::mptcp::testing::SeedSpec kSeeds{"MPTCP_PIPE", 100, 100};

class EnginePipeTest : public ::testing::TestWithParam<cc::CcAlgorithm> {};

TEST_P(EnginePipeTest, TenMebibytesEachWayUnderLossAndReordering) {
  double total_sim_s = 0;
  uint64_t retrans = 0, timeouts = 0;
  int runs = 0;
  for (uint64_t seed : ::mptcp::testing::Seeds(kSeeds)) {
    SCOPED_TRACE(::mptcp::testing::Replay(kSeeds, seed));
    EnginePipe pipe(LossyConfig(GetParam(), seed));
    const PipeResult r = pipe.Run();
    ASSERT_TRUE(r.ok) << cc::CcAlgorithmName(GetParam()) << " " << r.error;
    EXPECT_GT(r.dropped, 0u) << "the loss model must bite";
    total_sim_s += r.elapsed.seconds();
    retrans += r.client_mib.retrans_segs + r.server_mib.retrans_segs;
    timeouts += r.client_mib.timeouts + r.server_mib.timeouts;
    ++runs;
  }
  // The figure the test reports: mean simulated completion time and goodput each way.
  const double mean_s = total_sim_s / runs;
  std::printf("%s: %d seeds, mean %.2f s simulated, %.1f Mbit/s each way, %llu retransmits, "
              "%llu RTOs\n",
              std::string(cc::CcAlgorithmName(GetParam())).c_str(), runs, mean_s,
              kBytes * 8 / mean_s / 1e6, static_cast<unsigned long long>(retrans),
              static_cast<unsigned long long>(timeouts));
}

TEST_P(EnginePipeTest, CleanLinkIsFastAndHasNoRetransmissions) {
  PipeConfig c = LossyConfig(GetParam(), 7);
  c.forward.loss = c.backward.loss = 0;
  c.forward.reorder = c.backward.reorder = 0;
  EnginePipe pipe(c);
  const PipeResult r = pipe.Run();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.client_mib.retrans_segs + r.server_mib.retrans_segs, 0u);
  // tcpi_bytes_acked / tcpi_bytes_received: every payload byte, once, without SYN or FIN.
  EXPECT_EQ(pipe.client().bytes_acked(), kBytes);
  EXPECT_EQ(pipe.client().bytes_received(), kBytes);
  EXPECT_EQ(pipe.server().bytes_acked(), kBytes);
  EXPECT_EQ(pipe.server().bytes_received(), kBytes);
  // 10 MiB at 200 Mbit/s takes 0.42 s of serialization; slow start adds a few RTTs.
  EXPECT_LT(r.elapsed, Duration::Millis(1500)) << r.elapsed.seconds();
}

INSTANTIATE_TEST_SUITE_P(AllControllers, EnginePipeTest,
                         ::testing::ValuesIn(cc::kUncoupledCcAlgorithms),
                         [](const auto& info) { return std::string(cc::CcAlgorithmName(info.param)); });

}  // namespace
}  // namespace mptcp::tcp::testing
