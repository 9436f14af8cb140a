// Properties every congestion controller shares, run over each algorithm in kAllCcAlgorithms.
#include "mptcp/cc/controller.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "testing/cc_rig.h"
#include "mptcp/cc/factory.h"

namespace mptcp::cc {
namespace {

using ::mptcp::cc::testing::CcRig;
using ::mptcp::cc::testing::RoundOptions;

constexpr uint32_t kMss = 1000;

// The multiplicative-decrease factor each algorithm applies to FlightSize.
struct Beta {
  uint32_t num;
  uint32_t den;
};
Beta BetaOf(CcAlgorithm a) {
  switch (a) {
    case CcAlgorithm::kNewReno: return {1, 2};   // RFC 5681 §3.1
    case CcAlgorithm::kCubic: return {7, 10};    // RFC 9438 §4.6
    // Alone (no coupling group, or a group of one) the coupled ones halve, as NewReno.
    case CcAlgorithm::kLia:
    case CcAlgorithm::kOlia:
    case CcAlgorithm::kBalia: return {1, 2};
  }
  return {0, 1};
}

class ControllerTest : public ::testing::TestWithParam<CcAlgorithm> {
 protected:
  std::unique_ptr<CongestionController> Make(uint32_t mss = kMss, uint32_t iw = 10) {
    return MakeController(GetParam(), mss, iw);
  }
  uint32_t Reduced(uint32_t flight) const {
    const Beta b = BetaOf(GetParam());
    return static_cast<uint32_t>(uint64_t{flight} * b.num / b.den);
  }
};

TEST_P(ControllerTest, NameMatchesAlgorithm) {
  EXPECT_EQ(Make()->name(), CcAlgorithmName(GetParam()));
}

TEST_P(ControllerTest, InitialWindowIsTenSegmentsByDefault) {
  auto cc = Make();
  EXPECT_EQ(cc->cwnd(), 10 * kMss);  // RFC 6928 §2
  EXPECT_EQ(cc->ssthresh(), kInitialSsthresh);
  EXPECT_TRUE(cc->InSlowStart());
  EXPECT_EQ(cc->mss(), kMss);
  EXPECT_FALSE(cc->pacing_rate_bytes_per_sec().has_value());
}

TEST_P(ControllerTest, InitialWindowIsConfigurable) {
  EXPECT_EQ(Make(kMss, 4)->cwnd(), 4 * kMss);
  EXPECT_EQ(Make(kMss, 0)->cwnd(), kMss);  // at least one segment
}

TEST_P(ControllerTest, SlowStartDoublesPerRtt) {
  auto cc = Make();
  CcRig flow(*cc);
  uint32_t expected = 10 * kMss;
  for (int round = 0; round < 8; ++round) {
    flow.RunRounds(1);
    expected *= 2;
    EXPECT_EQ(cc->cwnd(), expected) << "round " << round;
  }
}

TEST_P(ControllerTest, SlowStartDoublesPerRttWithDelayedAcks) {
  // RFC 3465 §2.2: L = 2*SMSS lets an ACK for two segments grow cwnd by two segments.
  auto cc = Make();
  CcRig flow(*cc);
  uint32_t expected = 10 * kMss;
  for (int round = 0; round < 8; ++round) {
    flow.RunRounds(1, {.segments_per_ack = 2});
    expected *= 2;
    EXPECT_EQ(cc->cwnd(), expected) << "round " << round;
  }
}

TEST_P(ControllerTest, SlowStartByteCountingLimitIsTwoSegmentsPerAck) {
  auto cc = Make();
  cc->OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 10 * kMss,
                     .bytes_in_flight = 10 * kMss});
  EXPECT_EQ(cc->cwnd(), 12 * kMss);
  cc->OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 100, .bytes_in_flight = 100});
  EXPECT_EQ(cc->cwnd(), 12 * kMss + 100);  // partial segments count by bytes
}

TEST_P(ControllerTest, CongestionEventAppliesBetaToFlightSize) {
  auto cc = Make(kMss, 100);
  cc->OnCongestionEvent(LossEvent{Timestamp::Zero(), 100 * kMss, kMss});
  EXPECT_EQ(cc->ssthresh(), Reduced(100 * kMss));
  EXPECT_EQ(cc->cwnd(), cc->ssthresh());
  EXPECT_FALSE(cc->InSlowStart());
}

TEST_P(ControllerTest, SsthreshComesFromFlightSizeNotCwnd) {
  // RFC 5681 §3.1 (and RFC 9438 §4.6): FlightSize, not cwnd, when the sender was not full.
  auto cc = Make(kMss, 100);
  cc->OnCongestionEvent(LossEvent{Timestamp::Zero(), 40 * kMss, kMss});
  EXPECT_EQ(cc->ssthresh(), Reduced(40 * kMss));
  EXPECT_EQ(cc->cwnd(), Reduced(40 * kMss));
}

TEST_P(ControllerTest, SsthreshFloorsAtTwoSegments) {
  for (uint32_t flight : {0u, 1u, kMss, 2 * kMss, 5 * kMss / 2}) {
    auto cc = Make();
    cc->OnCongestionEvent(LossEvent{Timestamp::Zero(), flight, kMss});
    EXPECT_EQ(cc->ssthresh(), 2 * kMss) << "flight " << flight;
    EXPECT_EQ(cc->cwnd(), 2 * kMss) << "flight " << flight;

    auto rto = Make();
    rto->OnRto(RtoEvent{Timestamp::Zero(), flight, 0});
    EXPECT_EQ(rto->ssthresh(), 2 * kMss) << "flight " << flight;
  }
}

TEST_P(ControllerTest, RtoCollapsesToOneSegment) {
  auto cc = Make(kMss, 100);
  cc->OnRto(RtoEvent{Timestamp::Zero(), 100 * kMss, 0});
  EXPECT_EQ(cc->cwnd(), kMss);  // RFC 5681 §3.1 loss window
  EXPECT_EQ(cc->ssthresh(), Reduced(100 * kMss));
  EXPECT_TRUE(cc->InSlowStart());
}

TEST_P(ControllerTest, RepeatedRtoKeepsSsthresh) {
  // RFC 5681 §3.1: only the first timeout of a segment lowers ssthresh.
  auto cc = Make(kMss, 100);
  cc->OnRto(RtoEvent{Timestamp::Zero(), 100 * kMss, 0});
  const uint32_t ssthresh = cc->ssthresh();
  cc->OnRto(RtoEvent{Timestamp::Zero(), kMss, 1});
  cc->OnRto(RtoEvent{Timestamp::Zero(), kMss, 2});
  EXPECT_EQ(cc->ssthresh(), ssthresh);
  EXPECT_EQ(cc->cwnd(), kMss);
}

TEST_P(ControllerTest, SlowStartAfterRtoStopsAtSsthresh) {
  auto cc = Make(kMss, 100);
  CcRig flow(*cc);
  cc->OnRto(RtoEvent{flow.now(), 100 * kMss, 0});
  const uint32_t ssthresh = cc->ssthresh();
  uint32_t expected = kMss;
  while (expected * 2 < ssthresh) {
    flow.RunRounds(1);
    expected *= 2;
    EXPECT_EQ(cc->cwnd(), expected);
  }
  flow.RunRounds(1);
  // Slow start stops at ssthresh; the rest of the round's ACKs are congestion avoidance.
  EXPECT_GE(cc->cwnd(), ssthresh);
  EXPECT_LT(cc->cwnd(), ssthresh + kMss);
  EXPECT_FALSE(cc->InSlowStart());
}

TEST_P(ControllerTest, CongestionAvoidanceGrowsButSlowerThanSlowStart) {
  auto cc = Make(kMss, 100);
  CcRig flow(*cc);
  flow.LoseAndRecover(0);
  uint32_t prev = cc->cwnd();
  for (int round = 0; round < 50; ++round) {
    flow.RunRounds(1);
    EXPECT_GE(cc->cwnd(), prev);
    EXPECT_LE(cc->cwnd(), prev + prev / 2) << "grew faster than 1.5x per RTT";
    prev = cc->cwnd();
  }
  EXPECT_GT(cc->cwnd(), Reduced(100 * kMss) + 10 * kMss);
}

TEST_P(ControllerTest, NoGrowthWhenAppLimited) {
  auto cc = Make();
  CcRig flow(*cc);
  flow.RunRounds(20, {.app_limited = true});
  EXPECT_EQ(cc->cwnd(), 10 * kMss);  // slow start

  flow.LoseAndRecover(0);
  const uint32_t cwnd = cc->cwnd();
  flow.RunRounds(50, {.app_limited = true});
  EXPECT_EQ(cc->cwnd(), cwnd);  // congestion avoidance
}

TEST_P(ControllerTest, NoGrowthDuringRecovery) {
  auto cc = Make(kMss, 100);
  CcRig flow(*cc);
  cc->OnCongestionEvent(LossEvent{flow.now(), 100 * kMss, kMss});
  const uint32_t cwnd = cc->cwnd();
  flow.RunRounds(10, {.in_recovery = true});
  EXPECT_EQ(cc->cwnd(), cwnd);
  EXPECT_EQ(cc->ssthresh(), cwnd);
  cc->OnRecoveryExit(flow.now());
  EXPECT_EQ(cc->cwnd(), cwnd);  // no RFC 6582 deflation step: cwnd was never inflated
  flow.RunRounds(5);
  EXPECT_GT(cc->cwnd(), cwnd);
}

TEST_P(ControllerTest, NoGrowthDuringRecoveryInSlowStart) {
  // Recovery after an RTO-free loss while cwnd < ssthresh cannot happen with these
  // controllers, but an engine may still flag in_recovery on ACKs in slow start (e.g. during
  // RTO recovery): nothing grows.
  auto cc = Make();
  CcRig flow(*cc);
  flow.RunRounds(3, {.in_recovery = true});
  EXPECT_EQ(cc->cwnd(), 10 * kMss);
}

TEST_P(ControllerTest, NeverBelowOneSegment) {
  auto cc = Make();
  CcRig flow(*cc);
  for (int i = 0; i < 20; ++i) {
    cc->OnCongestionEvent(LossEvent{flow.now(), 0, 0});
    EXPECT_GE(cc->cwnd(), kMss);
    cc->OnRto(RtoEvent{flow.now(), 0, i});
    EXPECT_GE(cc->cwnd(), kMss);
    EXPECT_GE(cc->ssthresh(), 2 * kMss);
    flow.RunRounds(1);
    EXPECT_GE(cc->cwnd(), kMss);
  }
}

TEST_P(ControllerTest, NeverOverflowsUint32) {
  auto cc = Make(kMaxMss, 0xffff);
  CcRig flow(*cc, {.rtt = Duration::Seconds(1)});
  // Slow start with huge stretch ACKs up to the cap.
  uint32_t prev = cc->cwnd();
  for (int i = 0; i < 100'000 && cc->cwnd() < kMaxWindow; ++i) {
    cc->OnAck(AckEvent{.now = flow.now(), .bytes_acked = kMaxWindow,
                       .bytes_in_flight = kMaxWindow, .srtt = Duration::Seconds(1)});
    ASSERT_GE(cc->cwnd(), prev) << "cwnd wrapped";
    prev = cc->cwnd();
  }
  EXPECT_EQ(cc->cwnd(), kMaxWindow);
  // A loss with the largest flight, then congestion avoidance pushed far along the curve.
  cc->OnCongestionEvent(LossEvent{flow.now(), kMaxWindow, kMaxWindow});
  EXPECT_EQ(cc->ssthresh(), Reduced(kMaxWindow));
  prev = cc->cwnd();
  for (int i = 0; i < 40'000; ++i) {
    flow.Advance(Duration::Seconds(60));
    cc->OnAck(AckEvent{.now = flow.now(), .bytes_acked = kMaxWindow,
                       .bytes_in_flight = kMaxWindow, .srtt = Duration::Seconds(3600)});
    ASSERT_GE(cc->cwnd(), prev) << "cwnd wrapped at step " << i;
    prev = cc->cwnd();
  }
  EXPECT_EQ(cc->cwnd(), kMaxWindow);
  EXPECT_LE(cc->ssthresh(), kMaxWindow);
}

// A timeout or a fast retransmit proved spurious (the original arrived: RFC 3522) has its
// reduction undone, once.
TEST_P(ControllerTest, SpuriousRtoOrCongestionEventRestoresWindow) {
  auto cc = Make(kMss, 100);
  CcRig flow(*cc);
  flow.LoseAndRecover(0);
  flow.RunRounds(5);
  const uint32_t cwnd = cc->cwnd();
  const uint32_t ssthresh = cc->ssthresh();
  cc->OnRto(RtoEvent{flow.now(), cwnd, 0});
  cc->OnRto(RtoEvent{flow.now(), kMss, 1});
  ASSERT_EQ(cc->cwnd(), kMss);
  cc->OnSpuriousLoss(flow.now());
  EXPECT_EQ(cc->cwnd(), cwnd);
  EXPECT_EQ(cc->ssthresh(), ssthresh);
  // Only once.
  cc->OnRto(RtoEvent{flow.now(), cwnd, 0});
  cc->OnSpuriousLoss(flow.now());
  cc->OnSpuriousLoss(flow.now());
  EXPECT_EQ(cc->cwnd(), cwnd);
  // A congestion event likewise.
  cc->OnCongestionEvent(LossEvent{flow.now(), cwnd, kMss});
  ASSERT_LT(cc->cwnd(), cwnd);
  cc->OnSpuriousLoss(flow.now());
  EXPECT_EQ(cc->cwnd(), cwnd);
  EXPECT_EQ(cc->ssthresh(), ssthresh);
}

TEST_P(ControllerTest, SpuriousLossWithoutReductionIsNoopAndUndoesOnlyTheLatest) {
  auto cc = Make();
  cc->OnSpuriousLoss(Timestamp::Zero());
  EXPECT_EQ(cc->cwnd(), 10 * kMss);
  EXPECT_EQ(cc->ssthresh(), kInitialSsthresh);

  // An RTO, then a congestion event: undoing the latest leaves the RTO's reduction.
  cc->OnRto(RtoEvent{Timestamp::Zero(), 10 * kMss, 0});
  const uint32_t ssthresh_after_rto = cc->ssthresh();
  cc->OnCongestionEvent(LossEvent{Timestamp::Zero(), kMss, kMss});
  cc->OnSpuriousLoss(Timestamp::Zero());
  EXPECT_EQ(cc->cwnd(), 2 * kMss);
  EXPECT_EQ(cc->ssthresh(), ssthresh_after_rto);
}

TEST_P(ControllerTest, SetMssBeforeFeedbackRescalesInitialWindow) {
  auto cc = Make(536);
  EXPECT_EQ(cc->cwnd(), 5360u);
  cc->set_mss(1460);
  EXPECT_EQ(cc->mss(), 1460u);
  EXPECT_EQ(cc->cwnd(), 14600u);
}

TEST_P(ControllerTest, SetMssAfterFeedbackKeepsByteWindow) {
  auto cc = Make(1000);
  cc->OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 1000, .bytes_in_flight = 1000});
  EXPECT_EQ(cc->cwnd(), 11000u);
  cc->set_mss(1460);
  EXPECT_EQ(cc->cwnd(), 11000u);
  cc->OnRto(RtoEvent{Timestamp::Zero(), 11000, 0});
  EXPECT_EQ(cc->cwnd(), 1460u);
  cc->set_mss(9000);
  EXPECT_EQ(cc->cwnd(), 9000u);  // never below one segment
}

TEST_P(ControllerTest, MssIsClampedToValidRange) {
  auto cc = Make(0);
  EXPECT_EQ(cc->mss(), 1u);
  EXPECT_EQ(cc->cwnd(), 10u);
  cc->set_mss(0x7fffffff);
  EXPECT_EQ(cc->mss(), kMaxMss);
}

TEST_P(ControllerTest, ZeroByteAckIsIgnored) {
  auto cc = Make();
  cc->OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 0});
  EXPECT_EQ(cc->cwnd(), 10 * kMss);
  cc->set_mss(2000);  // still pristine
  EXPECT_EQ(cc->cwnd(), 20000u);
}

TEST_P(ControllerTest, IsDeterministic) {
  const auto trace = [&] {
    auto cc = Make();
    CcRig flow(*cc, {.rtt = Duration::Millis(37)});
    std::vector<uint32_t> cwnds;
    for (int epoch = 0; epoch < 5; ++epoch) {
      flow.RunRounds(7 + epoch);
      cwnds.push_back(cc->cwnd());
      flow.LoseAndRecover(0);
      for (int r = 0; r < 40; ++r) {
        flow.RunRounds(1, {.segments_per_ack = static_cast<uint32_t>(1 + r % 3)});
        cwnds.push_back(cc->cwnd());
      }
    }
    return cwnds;
  };
  EXPECT_EQ(trace(), trace());
}

TEST_P(ControllerTest, ViewReflectsState) {
  auto cc = Make();
  const PathView v = cc->View(Duration::Millis(20));
  EXPECT_EQ(v.cwnd, cc->cwnd());
  EXPECT_EQ(v.ssthresh, cc->ssthresh());
  EXPECT_EQ(v.srtt, Duration::Millis(20));
  EXPECT_EQ(v.mss, kMss);
  EXPECT_TRUE(v.in_slow_start);
}

TEST_P(ControllerTest, CouplingIsStoredAndUncoupledByDefault) {
  auto a = Make();
  auto b = Make();
  EXPECT_EQ(a->coupling(), nullptr);
  const PathView views[] = {a->View(Duration::Millis(10)), b->View(Duration::Millis(30))};
  SpanCouplingGroup group(views);
  a->set_coupling(&group);
  b->set_coupling(&group);
  ASSERT_EQ(a->coupling(), &group);
  EXPECT_EQ(a->coupling()->size(), 2u);
  EXPECT_EQ(a->coupling()->path(1).srtt, Duration::Millis(30));
  a->set_coupling(nullptr);
  EXPECT_EQ(a->coupling(), nullptr);
}

INSTANTIATE_TEST_SUITE_P(AllControllers, ControllerTest, ::testing::ValuesIn(kAllCcAlgorithms),
                         [](const ::testing::TestParamInfo<CcAlgorithm>& info) {
                           return std::string(CcAlgorithmName(info.param));
                         });

TEST(SpanCouplingGroupTest, OutOfRangeIsEmptyView) {
  const PathView views[] = {{.cwnd = 5, .ssthresh = 6, .mss = 1}};
  SpanCouplingGroup group(views);
  EXPECT_EQ(group.size(), 1u);
  EXPECT_EQ(group.path(0).cwnd, 5u);
  EXPECT_EQ(group.path(1).cwnd, 0u);
  EXPECT_EQ(group.path(~size_t{0}).mss, 0u);
  SpanCouplingGroup empty(std::span<const PathView>{});
  EXPECT_EQ(empty.size(), 0u);
}

TEST(CcAlgorithmTest, Names) {
  EXPECT_EQ(CcAlgorithmName(CcAlgorithm::kNewReno), "newreno");
  EXPECT_EQ(CcAlgorithmName(CcAlgorithm::kCubic), "cubic");
  EXPECT_EQ(CcAlgorithmName(static_cast<CcAlgorithm>(99)), "unknown");
  EXPECT_EQ(MakeController(static_cast<CcAlgorithm>(99), kMss)->name(), "newreno");
}

TEST(WindowHelpersTest, SaturateInsteadOfWrapping) {
  EXPECT_EQ(internal::ClampWindow(uint64_t{1} << 40), kMaxWindow);
  EXPECT_EQ(internal::SlowStartWindow(kMaxWindow - 1, kMaxWindow, kMaxWindow, kMaxMss),
            kMaxWindow);
  EXPECT_EQ(internal::SlowStartWindow(100, 50, 1000, 1000), 100u);  // never shrinks
  EXPECT_EQ(internal::ReducedSsthresh(kMaxWindow, 7, 10, kMaxMss), 3006477106u);
  EXPECT_EQ(internal::InitialWindow(0xffffffff, kMaxMss), kMaxWindow);
}

}  // namespace
}  // namespace mptcp::cc
