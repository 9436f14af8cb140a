// OLIA (Khalili et al., ToN 2013) against values worked out by hand from its formulas.
#include "mptcp/cc/olia.h"

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

const Olia& AsOlia(const CcRig& rig, size_t i) { return static_cast<const Olia&>(rig.cc(i)); }

// Application-limited ACKs feed OLIA's loss intervals without moving any window.
void Deliver(CcRig& rig, size_t i, uint32_t bytes) {
  rig.Ack(i, bytes, {.app_limited = true});
}

// 2 paths, MSS 1000 B, cwnd 10000 and 20000 B, rtt 100 and 200 ms, and bytes acknowledged
// since the last loss l_0 = 50000, l_1 = 10000.
std::unique_ptr<CcRig> TwoPathRig() {
  auto rig = std::make_unique<CcRig>(CcAlgorithm::kOlia, std::vector<RigPath>{RigPath{.rtt = Duration::Millis(100)},
                                 RigPath{.rtt = Duration::Millis(200)}});
  rig->SetCongestionAvoidance(0, 10'000);
  rig->SetCongestionAvoidance(1, 20'000);
  Deliver(*rig, 0, 50'000);
  Deliver(*rig, 1, 10'000);
  return rig;
}

TEST(OliaTest, AlphaByHand) {
  auto owned = TwoPathRig();
  CcRig& rig = *owned;
  // l/rtt^2: path 0 50000/0.1^2 = 5e6, path 1 10000/0.2^2 = 2.5e5: B = {0}.
  // Largest window: M = {1}. B\M = {0}, |R| = 2:
  //   alpha_0 = 1/(|R| * |B\M|) = 1/2;  alpha_1 = -1/(|R| * |M|) = -1/2.
  EXPECT_DOUBLE_EQ(*AsOlia(rig, 0).Alpha(), 0.5);
  EXPECT_DOUBLE_EQ(*AsOlia(rig, 1).Alpha(), -0.5);
}

TEST(OliaTest, IncreasePerAckOnBestPathByHand) {
  auto owned = TwoPathRig();
  CcRig& rig = *owned;
  // sum_p w_p/rtt_p = 10000/0.1 + 20000/0.2 = 2e5. An ACK of 1000 B on path 0 adds
  //   ((10000/0.1^2) / (2e5)^2 + 0.5/10000) * MSS * bytes_acked
  //   = (1e6/4e10 + 5e-5) * 1000 * 1000 = (2.5e-5 + 5e-5) * 1e6 = 75 bytes.
  rig.Ack(0, 1000);
  EXPECT_EQ(rig.cwnd(0), 10'075u);
  EXPECT_NEAR(AsOlia(rig, 0).credit_bytes(), 0.0, 1e-5);
}

TEST(OliaTest, DecreasePerAckOnLargestPathByHand) {
  auto owned = TwoPathRig();
  CcRig& rig = *owned;
  rig.Ack(0, 1000);  // cwnd_0 = 10075 as above; l_0 = 51000, B and M unchanged
  // An ACK of 1000 B on path 1 (l_1 = 11000: 11000^2/0.2 = 6.05e8, still not best):
  //   sum = 10075/0.1 + 20000/0.2 = 200750
  //   ((20000/0.2^2) / 200750^2 - 0.5/20000) * 1e6 = (1.24068e-5 - 2.5e-5) * 1e6 = -12.593
  // so cwnd_1 drops 12 bytes, -0.593 banked, and ssthresh follows it down (no slow start).
  rig.Ack(1, 1000);
  EXPECT_EQ(rig.cwnd(1), 19'988u);
  EXPECT_NEAR(AsOlia(rig, 1).credit_bytes(), -0.593225, 1e-5);
  EXPECT_EQ(rig.cc(1).ssthresh(), 19'988u);
  EXPECT_FALSE(rig.cc(1).InSlowStart());
}

TEST(OliaTest, NoBestOutsideLargestMeansAlphaZero) {
  // Equal windows: every path is in M, B\M is empty, alpha = 0 for all, and the increase is
  // the first term alone. Two paths of 10000 B at 100 ms, an ACK of 1000 B:
  //   (w/rtt^2) / (sum w/rtt)^2 = (10000/0.01) / (1e5 + 1e5)^2 = 1e6 / 4e10 = 2.5e-5,
  //   times MSS * bytes_acked = 1e6: 25 bytes (NewReno alone: 100).
  CcRig rig(CcAlgorithm::kOlia, {RigPath{}, RigPath{}});
  rig.SetCongestionAvoidance(0, 10'000);
  rig.SetCongestionAvoidance(1, 10'000);
  EXPECT_DOUBLE_EQ(*AsOlia(rig, 0).Alpha(), 0.0);
  rig.Ack(0, 1000);
  EXPECT_EQ(rig.cwnd(0), 10'025u);
}

TEST(OliaTest, DecreasePerLossHalves) {
  auto owned = TwoPathRig();
  CcRig& rig = *owned;
  rig.Send(0, 10'000);
  rig.Lose(0);
  EXPECT_EQ(rig.cwnd(0), 5'000u);
  EXPECT_EQ(rig.cc(0).ssthresh(), 5'000u);
}

TEST(OliaTest, LossIntervalBookkeeping) {
  CcRig rig(CcAlgorithm::kOlia, {RigPath{}, RigPath{}});
  const Olia& olia = AsOlia(rig, 0);
  Deliver(rig, 0, 5000);
  EXPECT_EQ(olia.bytes_since_loss(), 5000u);
  EXPECT_EQ(olia.bytes_between_losses(), 0u);
  rig.Lose(0);  // l_1 = 5000, l_2 restarts
  EXPECT_EQ(olia.bytes_since_loss(), 0u);
  EXPECT_EQ(olia.bytes_between_losses(), 5000u);
  rig.Lose(0);  // nothing delivered since: the same episode, intervals kept
  EXPECT_EQ(olia.bytes_between_losses(), 5000u);
  rig.Ack(0, 3000, {.in_recovery = true});  // counted in any state
  EXPECT_EQ(olia.bytes_since_loss(), 3000u);
  rig.Rto(0);  // a first timeout is a loss too
  EXPECT_EQ(olia.bytes_between_losses(), 3000u);
  EXPECT_EQ(olia.bytes_since_loss(), 0u);
  Deliver(rig, 0, 1000);
  EXPECT_EQ(olia.bytes_since_loss(), 1000u);
  // Siblings read them through the view.
  const PathView v = rig.path(0);
  EXPECT_EQ(v.bytes_since_loss, 1000u);
  EXPECT_EQ(v.bytes_between_losses, 3000u);
}

TEST(OliaTest, RepeatedTimeoutIsNotALoss) {
  // Only the first expiry (backoff_count 0) ends an interval, as RFC 5681 §3.1 lowers ssthresh
  // only then.
  Olia olia(1000);
  olia.OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 4000, .app_limited = true});
  olia.OnRto(RtoEvent{Timestamp::Zero(), 4000, 1});
  EXPECT_EQ(olia.bytes_since_loss(), 4000u);
  EXPECT_EQ(olia.bytes_between_losses(), 0u);
  olia.OnRto(RtoEvent{Timestamp::Zero(), 4000, 0});
  EXPECT_EQ(olia.bytes_since_loss(), 0u);
  EXPECT_EQ(olia.bytes_between_losses(), 4000u);
}

TEST(OliaTest, LossIntervalIsTheLargerOfTheTwo) {
  // l_r = max(l_1r, l_2r): path 0 has l_1 = 40000 from before its last loss and l_2 = 1000,
  // path 1 has l_2 = 20000, at equal RTTs: path 0 is best (40000 > 20000), path 1 has the
  // largest window, so alpha_0 = +1/2 and alpha_1 = -1/2.
  CcRig rig(CcAlgorithm::kOlia, {RigPath{}, RigPath{}});
  rig.SetCongestionAvoidance(0, 20'000);
  rig.SetCongestionAvoidance(1, 20'000);
  Deliver(rig, 0, 40'000);
  rig.Lose(0);  // cwnd_0 = 10000
  Deliver(rig, 0, 1000);
  Deliver(rig, 1, 20'000);
  EXPECT_EQ(AsOlia(rig, 0).bytes_between_losses(), 40'000u);
  EXPECT_DOUBLE_EQ(*AsOlia(rig, 0).Alpha(), 0.5);
  EXPECT_DOUBLE_EQ(*AsOlia(rig, 1).Alpha(), -0.5);
}

TEST(OliaTest, DecreaseStopsAtTwoSegments) {
  // A path in M with a tiny window next to a far faster best path keeps at least 2*MSS.
  CcRig rig(CcAlgorithm::kOlia, {RigPath{.rtt = Duration::Millis(1)},
                                 RigPath{.rtt = Duration::Seconds(10)}});
  rig.SetCongestionAvoidance(0, 2'000);
  rig.SetCongestionAvoidance(1, 2'000);
  Deliver(rig, 0, 1'000'000);
  rig.SetCongestionAvoidance(1, 4'000);  // path 1 alone in M
  ASSERT_LT(*AsOlia(rig, 1).Alpha(), 0.0);
  for (int i = 0; i < 1000; ++i) rig.Ack(1, 1000);
  EXPECT_EQ(rig.cwnd(1), 2'000u);
  EXPECT_EQ(rig.cc(1).ssthresh(), 2'000u);
}

}  // namespace
}  // namespace mptcp::cc
