// FlowNetwork: flows finish byte-exact, fill their links, share a link, use every subflow's
// link, and the same seed gives the same samples.
#include "io/sim/flow_network.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "mptcp/cc/controller.h"

namespace mptcp::sim {
namespace {

LinkConfig Bottleneck(uint64_t mbps, int64_t delay_ms) {
  LinkConfig l;
  l.bandwidth_bps = mbps * 1'000'000;
  l.delay = Duration::Millis(delay_ms);
  // One bandwidth-delay product of the round trip (2 * delay).
  l.queue_bytes = static_cast<size_t>(mbps * 1'000'000 / 8 * 2 * delay_ms / 1000);
  return l;
}

NetLinkSpec Link(const char* name, uint64_t mbps, int64_t delay_ms) {
  NetLinkSpec s{name, Bottleneck(mbps, delay_ms), Bottleneck(mbps, delay_ms)};
  return s;
}

Timestamp At(int64_t s) { return Timestamp::Zero() + Duration::Seconds(s); }

TEST(FlowNetworkTest, OneFlowFillsItsLinkByteExact) {
  FlowNetworkConfig cfg;
  cfg.links = {Link("a", 10, 10)};
  cfg.flows = {FlowSpec{"tcp", cc::CcAlgorithm::kNewReno, {{0}}, Duration::Zero()}};
  cfg.stop = Duration::Seconds(6);
  FlowNetwork net(cfg);
  const FlowNetworkResult r = net.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_EQ(r.read[0], r.written[0]);
  EXPECT_GT(r.read[0], 5'000'000u);
  EXPECT_EQ(r.subflows_up[0], 1u);
  EXPECT_FALSE(r.fell_back[0]);
  ASSERT_EQ(r.samples.size(), 7u);
  // Past slow start the link runs full: payload is 1460 of each 1500 bytes (and options).
  EXPECT_GT(r.GoodputMbps(0, At(2), At(6)), 9.0) << r.Describe();
  EXPECT_LE(r.GoodputMbps(0, At(2), At(6)), 10.0);
  EXPECT_GT(r.samples.back().cwnd[0][0], 0u);
}

TEST(FlowNetworkTest, TwoSubflowsUseBothLinksAndTwoFlowsShareOne) {
  FlowNetworkConfig cfg;
  cfg.seed = 3;
  cfg.links = {Link("a", 10, 10), Link("b", 10, 10)};
  // mptcp: one subflow on each link, the second with 5 ms more each way; tcp: on link a.
  cfg.flows = {FlowSpec{"mptcp", cc::CcAlgorithm::kNewReno,
                        {{0}, {1, Duration::Millis(5)}}, Duration::Zero()},
               FlowSpec{"tcp", cc::CcAlgorithm::kNewReno, {{0}}, Duration::Millis(30)}};
  cfg.stop = Duration::Seconds(8);
  FlowNetwork net(cfg);
  const FlowNetworkResult r = net.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_EQ(r.subflows_up[0], 2u);
  for (size_t f = 0; f < 2; ++f) EXPECT_EQ(r.read[f], r.written[f]);
  // Both links carry the multipath flow; link a is shared, so the sum stays below 20.
  EXPECT_GT(r.SubflowBytes(0, 0, At(2), At(8)), 1'000'000u);
  EXPECT_GT(r.SubflowBytes(0, 1, At(2), At(8)), 3'000'000u);
  EXPECT_GT(r.GoodputMbps(1, At(2), At(8)), 1.0) << r.Describe();
  const double total = r.GoodputMbps(0, At(2), At(8)) + r.GoodputMbps(1, At(2), At(8));
  EXPECT_GT(total, 17.0);
  EXPECT_LT(total, 20.0);
}

TEST(FlowNetworkTest, SameSeedSameSamples) {
  FlowNetworkConfig cfg;
  cfg.seed = 9;
  cfg.links = {Link("a", 8, 5)};
  cfg.links[0].forward.jitter = Duration::Micros(100);
  cfg.flows = {FlowSpec{"x", cc::CcAlgorithm::kCubic, {{0}, {0}}, Duration::Zero()},
               FlowSpec{"y", cc::CcAlgorithm::kNewReno, {{0}}, Duration::Millis(7)}};
  cfg.stop = Duration::Seconds(3);
  FlowNetworkResult a = FlowNetwork(cfg).Run();
  FlowNetworkResult b = FlowNetwork(cfg).Run();
  ASSERT_TRUE(a.ok) << a.Describe();
  ASSERT_EQ(a.samples.size(), b.samples.size());
  for (size_t i = 0; i < a.samples.size(); ++i) {
    EXPECT_EQ(a.samples[i].read, b.samples[i].read);
    EXPECT_EQ(a.samples[i].delivered, b.samples[i].delivered);
    EXPECT_EQ(a.samples[i].cwnd, b.samples[i].cwnd);
  }
  EXPECT_EQ(a.elapsed, b.elapsed);
}

TEST(FlowNetworkTest, BadConfigFailsCleanly) {
  FlowNetworkConfig cfg;
  cfg.links = {Link("a", 10, 10)};
  cfg.flows = {FlowSpec{"x", cc::CcAlgorithm::kNewReno, {{1}}, Duration::Zero()}};
  const FlowNetworkResult r = FlowNetwork(cfg).Run();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("no link 1"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace mptcp::sim
