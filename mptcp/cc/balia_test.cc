// BALIA (Peng et al., ToN 2016) against values worked out by hand from its formulas.
#include "mptcp/cc/balia.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "mptcp/cc/controller.h"
#include "testing/cc_rig.h"

namespace mptcp::cc {
namespace {

using ::mptcp::cc::testing::CcRig;
using ::mptcp::cc::testing::RigPath;

const Balia& AsBalia(const CcRig& rig, size_t i) {
  return static_cast<const Balia&>(rig.cc(i));
}

// 2 paths, MSS 1000 B: cwnd 10000 B at rtt 100 ms (x_0 = 1e5 B/s) and cwnd 20000 B at
// `rtt1` (x_1 = 20000/rtt1).
std::unique_ptr<CcRig> TwoPathRig(Duration rtt1) {
  auto rig = std::make_unique<CcRig>(CcAlgorithm::kBalia, std::vector<RigPath>{RigPath{.rtt = Duration::Millis(100)}, RigPath{.rtt = rtt1}});
  rig->SetCongestionAvoidance(0, 10'000);
  rig->SetCongestionAvoidance(1, 20'000);
  return rig;
}

TEST(BaliaTest, IncreasePerAckByHand) {
  // rtt_1 = 400 ms: x_0 = 1e5, x_1 = 5e4, sum x = 1.5e5, max x = 1e5.
  {
    auto owned = TwoPathRig(Duration::Millis(400));
  CcRig& rig = *owned;
    // Path 1: alpha_1 = 1e5/5e4 = 2. An ACK of 1000 B adds
    //   x_1 / (rtt_1 * (sum x)^2) * ((1+2)/2) * ((4+2)/5) * MSS * bytes_acked
    //   = 5e4 / (0.4 * 2.25e10) * 1.5 * 1.2 * 1e6 = 5.5556e-6 * 1.8 * 1e6 = 10 bytes
    // (NewReno alone would add 1e6/20000 = 50).
    EXPECT_DOUBLE_EQ(*AsBalia(rig, 1).Alpha(), 2.0);
    rig.Ack(1, 1000);
    EXPECT_EQ(rig.cwnd(1), 20'010u);
    EXPECT_NEAR(AsBalia(rig, 1).credit_bytes(), 0.0, 1e-5);
  }
  {
    auto owned = TwoPathRig(Duration::Millis(400));
  CcRig& rig = *owned;
    // Path 0: alpha_0 = 1, both factors 1: 1e5 / (0.1 * 2.25e10) * 1e6 = 44.444 bytes:
    // 44 now, 0.444 banked (NewReno alone: 100).
    EXPECT_DOUBLE_EQ(*AsBalia(rig, 0).Alpha(), 1.0);
    rig.Ack(0, 1000);
    EXPECT_EQ(rig.cwnd(0), 10'044u);
    EXPECT_NEAR(AsBalia(rig, 0).credit_bytes(), 0.44444, 1e-5);
  }
}

TEST(BaliaTest, DecreasePerLossByHand) {
  {
    // rtt_1 = 400 ms: alpha_1 = 2, min(2, 1.5) = 1.5: w_1 -= (w_1/2) * 1.5, keeping 1/4.
    // Applied to FlightSize 20000: ssthresh = cwnd = 5000.
    auto owned = TwoPathRig(Duration::Millis(400));
  CcRig& rig = *owned;
    rig.Send(1, 20'000);
    rig.Lose(1);
    EXPECT_EQ(rig.cc(1).ssthresh(), 5'000u);
    EXPECT_EQ(rig.cwnd(1), 5'000u);
  }
  {
    // rtt_1 = 240 ms: x_1 = 83333.3, alpha_1 = 1e5 / 83333.3 = 1.2: keeps 1 - 1.2/2 = 0.4 of
    // FlightSize 20000: 8000.
    auto owned = TwoPathRig(Duration::Millis(240));
  CcRig& rig = *owned;
    EXPECT_NEAR(*AsBalia(rig, 1).Alpha(), 1.2, 1e-12);
    rig.Send(1, 20'000);
    rig.Lose(1);
    EXPECT_EQ(rig.cwnd(1), 8'000u);
  }
  {
    // The fastest path (alpha = 1) halves, as NewReno: FlightSize 10000 -> 5000.
    auto owned = TwoPathRig(Duration::Millis(400));
  CcRig& rig = *owned;
    rig.Send(0, 10'000);
    rig.Lose(0);
    EXPECT_EQ(rig.cwnd(0), 5'000u);
  }
}

TEST(BaliaTest, DecreaseFloorsAtTwoSegments) {
  auto owned = TwoPathRig(Duration::Seconds(4));
  CcRig& rig = *owned;  // alpha_1 = 1e5 / 5000 = 20
  rig.Send(1, 6'000);                             // keeps 1/4: 1500 < 2*MSS
  rig.Lose(1);
  EXPECT_EQ(rig.cwnd(1), 2'000u);
}

}  // namespace
}  // namespace mptcp::cc
