#include "mptcp/cc/new_reno.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "testing/cc_rig.h"

namespace mptcp::cc {
namespace {

using ::mptcp::cc::testing::CcRig;

constexpr uint32_t kMss = 1460;

TEST(NewRenoTest, CongestionAvoidanceGrowsOneSegmentPerRtt) {
  NewReno cc(kMss, 40);
  CcRig flow(cc);
  flow.LoseAndRecover(0);
  ASSERT_EQ(cc.cwnd(), 20 * kMss);
  for (uint32_t round = 1; round <= 30; ++round) {
    flow.RunRounds(1);
    EXPECT_EQ(cc.cwnd(), (20 + round) * kMss) << "round " << round;
  }
}

TEST(NewRenoTest, CongestionAvoidanceWithDelayedAcksStillOneSegmentPerRtt) {
  // Byte counting (RFC 3465 §2.1) makes the growth independent of the ACK ratio.
  NewReno cc(kMss, 40);
  CcRig flow(cc);
  flow.LoseAndRecover(0);
  for (uint32_t round = 1; round <= 30; ++round) {
    flow.RunRounds(1, {.segments_per_ack = 2});
    EXPECT_EQ(cc.cwnd(), (20 + round) * kMss) << "round " << round;
  }
}

TEST(NewRenoTest, CongestionAvoidanceIsMssSquaredOverCwndPerAck) {
  // RFC 5681 §3.1 equation 3 by byte counting: one SMSS once a full cwnd has been acked,
  // not a fraction on every ACK.
  NewReno cc(1000, 10);
  cc.OnCongestionEvent(LossEvent{Timestamp::Zero(), 20000, 1000});
  ASSERT_EQ(cc.cwnd(), 10000u);
  for (int i = 0; i < 9; ++i) {
    cc.OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 1000, .bytes_in_flight = 10000});
    EXPECT_EQ(cc.cwnd(), 10000u);
  }
  cc.OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 1000, .bytes_in_flight = 1000});
  EXPECT_EQ(cc.cwnd(), 11000u);
}

TEST(NewRenoTest, StretchAckEarnsOneSegmentInCongestionAvoidance) {
  NewReno cc(1000, 10);
  cc.OnCongestionEvent(LossEvent{Timestamp::Zero(), 20000, 1000});
  cc.OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 50000, .bytes_in_flight = 50000});
  EXPECT_EQ(cc.cwnd(), 11000u);
  // At most one window was banked, so the next ACK can earn one more segment, no more.
  cc.OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 1, .bytes_in_flight = 1});
  EXPECT_EQ(cc.cwnd(), 12000u);
  cc.OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 1, .bytes_in_flight = 1});
  EXPECT_EQ(cc.cwnd(), 12000u);
}

TEST(NewRenoTest, HalvesOnLossAndCollapsesOnRto) {
  NewReno cc(kMss, 64);
  cc.OnCongestionEvent(LossEvent{Timestamp::Zero(), 64 * kMss, kMss});
  EXPECT_EQ(cc.ssthresh(), 32 * kMss);
  EXPECT_EQ(cc.cwnd(), 32 * kMss);
  cc.OnRto(RtoEvent{Timestamp::Zero(), 32 * kMss, 0});
  EXPECT_EQ(cc.ssthresh(), 16 * kMss);
  EXPECT_EQ(cc.cwnd(), kMss);
}

TEST(NewRenoTest, OddFlightSizeRoundsDown) {
  NewReno cc(1000, 10);
  cc.OnCongestionEvent(LossEvent{Timestamp::Zero(), 10001, 1000});
  EXPECT_EQ(cc.ssthresh(), 5000u);
}

TEST(NewRenoTest, LossResetsByteCounter) {
  NewReno cc(1000, 10);
  cc.OnCongestionEvent(LossEvent{Timestamp::Zero(), 20000, 1000});
  cc.OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 9000, .bytes_in_flight = 10000});
  cc.OnCongestionEvent(LossEvent{Timestamp::Zero(), 20000, 1000});
  cc.OnRecoveryExit(Timestamp::Zero());
  cc.OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 1000, .bytes_in_flight = 10000});
  EXPECT_EQ(cc.cwnd(), 10000u);  // 9000 banked bytes were dropped by the loss
}

TEST(NewRenoTest, SpuriousRtoUndoDoesNotShrinkLaterGrowth) {
  NewReno cc(1000, 10);
  cc.OnRto(RtoEvent{Timestamp::Zero(), 10000, 0});
  for (int i = 0; i < 100; ++i) {
    cc.OnAck(AckEvent{.now = Timestamp::Zero(), .bytes_acked = 1000, .bytes_in_flight = 1000});
  }
  ASSERT_GT(cc.cwnd(), 10000u);
  const uint32_t grown = cc.cwnd();
  cc.OnSpuriousLoss(Timestamp::Zero());
  EXPECT_EQ(cc.cwnd(), grown);
  EXPECT_EQ(cc.ssthresh(), kInitialSsthresh);
}

}  // namespace
}  // namespace mptcp::cc
