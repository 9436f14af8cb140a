// LIA (RFC 6356) against values worked out by hand from its formulas.
#include "mptcp/cc/lia.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "mptcp/cc/controller.h"
#include "testing/cc_rig.h"

namespace mptcp::cc {
namespace {

using ::mptcp::cc::testing::CcRig;
using ::mptcp::cc::testing::RigPath;

const Lia& AsLia(const CcRig& rig, size_t i) { return static_cast<const Lia&>(rig.cc(i)); }

// 2 paths, MSS 1000 B, cwnd 10000 and 20000 B, rtt 100 and 200 ms.
std::unique_ptr<CcRig> TwoPathRig() {
  auto rig = std::make_unique<CcRig>(CcAlgorithm::kLia, std::vector<RigPath>{RigPath{.rtt = Duration::Millis(100)},
                                RigPath{.rtt = Duration::Millis(200)}});
  rig->SetCongestionAvoidance(0, 10'000);
  rig->SetCongestionAvoidance(1, 20'000);
  return rig;
}

TEST(LiaTest, IncreasePerAckByHand) {
  auto owned = TwoPathRig();
  CcRig& rig = *owned;
  // RFC 6356 §3 (rtt in seconds; the unit cancels):
  //   alpha = cwnd_total * max(10000/0.1^2, 20000/0.2^2) / (10000/0.1 + 20000/0.2)^2
  //         = 30000 * max(1e6, 5e5) / (1e5 + 1e5)^2 = 3e10 / 4e10 = 0.75
  ASSERT_TRUE(AsLia(rig, 0).Alpha().has_value());
  EXPECT_DOUBLE_EQ(*AsLia(rig, 0).Alpha(), 0.75);
  EXPECT_DOUBLE_EQ(*AsLia(rig, 1).Alpha(), 0.75);  // alpha is the connection's, not a path's
  // An ACK of 1000 B on path 0 adds
  //   min(alpha * 1000 * 1000 / 30000, 1000 * 1000 / 10000) = min(25, 100) = 25 bytes.
  rig.Ack(0, 1000);
  EXPECT_EQ(rig.cwnd(0), 10'025u);
  EXPECT_NEAR(AsLia(rig, 0).credit_bytes(), 0.0, 1e-5);
  // Then an ACK of 1000 B on path 1 sees cwnd 10025 and 20000:
  //   alpha = 30025 * max(10025/0.01, 20000/0.04) / (10025/0.1 + 20000/0.2)^2
  //         = 30025 * 1002500 / 200250^2 = 0.750624
  //   increase = min(0.750624 * 1e6 / 30025, 1e6 / 20000) = min(24.99996, 50) = 24.99996:
  //   24 bytes now and 0.99996 banked.
  EXPECT_NEAR(*AsLia(rig, 1).Alpha(), 0.750624, 1e-6);
  rig.Ack(1, 1000);
  EXPECT_EQ(rig.cwnd(1), 20'024u);
  EXPECT_NEAR(AsLia(rig, 1).credit_bytes(), 0.99996, 1e-5);
  // The bank pays out with the next ACK: alpha = 30049 * 1002500 / (100250 + 100120)^2
  // = 0.750324, increase = min(1002500e6 / 200370^2, 50) = 24.97002; with 0.99996 banked that
  // is 25.96998: 25 bytes, 0.96998 banked.
  rig.Ack(1, 1000);
  EXPECT_EQ(rig.cwnd(1), 20'049u);
  EXPECT_NEAR(AsLia(rig, 1).credit_bytes(), 0.96998, 1e-5);
}

TEST(LiaTest, IncreaseIsCappedAtNewReno) {
  // cwnd 10000 B at rtt 10 ms and 40000 B at rtt 1 s:
  //   max(cwnd/rtt^2) = max(10000/1e-4, 40000/1) = 1e8;  sum cwnd/rtt = 1e6 + 4e4 = 1.04e6
  //   alpha * MSS * bytes_acked / cwnd_total = 1e8 * 1e6 / 1.04e6^2 = 92.456 for either path.
  // Path 0's cap is 1e6/10000 = 100, so it gets 92 (0.456 banked); path 1's is 1e6/40000 = 25,
  // so it gets 25: the RFC 6356 §3 cap, no more than NewReno would take on that path.
  CcRig rig(CcAlgorithm::kLia, {RigPath{.rtt = Duration::Millis(10)},
                                RigPath{.rtt = Duration::Seconds(1)}});
  rig.SetCongestionAvoidance(0, 10'000);
  rig.SetCongestionAvoidance(1, 40'000);
  rig.Ack(1, 1000);
  EXPECT_EQ(rig.cwnd(1), 40'025u);
  EXPECT_NEAR(AsLia(rig, 1).credit_bytes(), 0.0, 1e-5);
  rig.Ack(0, 1000);
  // (cwnd_1 is now 40025: 1e8 * 1e6 / (1e6 + 40025)^2 = 92.451.)
  EXPECT_EQ(rig.cwnd(0), 10'092u);
  EXPECT_NEAR(AsLia(rig, 0).credit_bytes(), 0.451, 1e-3);
}

TEST(LiaTest, DecreasePerLossHalvesFlightSize) {
  // RFC 6356 §3 keeps NewReno's decrease: ssthresh = max(FlightSize/2, 2*MSS) (RFC 5681 §3.1).
  auto owned = TwoPathRig();
  CcRig& rig = *owned;
  rig.Send(1, 18'000);
  rig.Lose(1);
  EXPECT_EQ(rig.cc(1).ssthresh(), 9'000u);
  EXPECT_EQ(rig.cwnd(1), 9'000u);
  EXPECT_EQ(rig.cwnd(0), 10'000u);  // the sibling is untouched
}

TEST(LiaTest, IncreaseNeverExceedsUncoupledNewReno) {
  // Property: for random groups of 2..8 paths, every ACK's increase (bank included) is at most
  // MSS * bytes_acked / cwnd_i, what an uncoupled NewReno subflow gains per ACK on average.
  for (uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    std::mt19937_64 rng(seed);
    const size_t n = 2 + rng() % 7;
    std::vector<RigPath> paths;
    for (size_t i = 0; i < n; ++i) {
      paths.push_back(RigPath{.rtt = Duration::Millis(static_cast<int64_t>(1 + rng() % 500)),
                              .mss = static_cast<uint32_t>(500 + rng() % 1000)});
    }
    CcRig rig(CcAlgorithm::kLia, paths);
    for (size_t i = 0; i < n; ++i) {
      rig.SetCongestionAvoidance(i, static_cast<uint32_t>(paths[i].mss * (2 + rng() % 200)));
    }
    for (int step = 0; step < 2000; ++step) {
      const size_t i = rng() % n;
      const uint32_t acked = static_cast<uint32_t>(1 + rng() % (2 * paths[i].mss));
      const double before = rig.cwnd(i) + AsLia(rig, i).credit_bytes();
      const double cap = static_cast<double>(acked) * paths[i].mss / rig.cwnd(i);
      rig.Ack(i, acked);
      const double after = rig.cwnd(i) + AsLia(rig, i).credit_bytes();
      ASSERT_LE(after - before, cap + 1e-5) << "seed " << seed << " step " << step;
      ASSERT_GE(after - before, 0.0);
    }
  }
}

}  // namespace
}  // namespace mptcp::cc
