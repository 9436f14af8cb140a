#include "mptcp/cc/cubic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "testing/cc_rig.h"

namespace mptcp::cc {
namespace {

using ::mptcp::cc::testing::CcRig;

constexpr uint32_t kMss = 1000;

// RFC 9438 Figures 1 and 2 in floating point, windows in segments and times in seconds: the
// independent reference the integer implementation is checked against.
constexpr double kC = 0.4;
constexpr double kBeta = 0.7;
double RfcK(double w_max, double cwnd_epoch) { return std::cbrt((w_max - cwnd_epoch) / kC); }
double RfcWCubic(double t, double k, double w_max) { return kC * std::pow(t - k, 3) + w_max; }

double Segments(uint32_t bytes) { return static_cast<double>(bytes) / kMss; }
double SecondsSinceEpoch(const Cubic& cc, const CcRig& flow) {
  return (flow.now() - *cc.epoch_start()).seconds();
}

TEST(IntegerCubeRootTest, ExactCubesAndFloors) {
  using internal::IntegerCubeRoot;
  EXPECT_EQ(IntegerCubeRoot(0), 0u);
  EXPECT_EQ(IntegerCubeRoot(1), 1u);
  EXPECT_EQ(IntegerCubeRoot(7), 1u);
  EXPECT_EQ(IntegerCubeRoot(8), 2u);
  EXPECT_EQ(IntegerCubeRoot(26), 2u);
  EXPECT_EQ(IntegerCubeRoot(27), 3u);
  EXPECT_EQ(IntegerCubeRoot(uint64_t{1'000'000'000'000'000'000}), 1'000'000u);
  EXPECT_EQ(IntegerCubeRoot(uint64_t{999'999'999'999'999'999}), 999'999u);
  const uint64_t big = (uint64_t{1} << 42) - 1;
  const absl::uint128 big_cubed = absl::uint128(big) * big * big;
  EXPECT_EQ(IntegerCubeRoot(big_cubed), big);
  EXPECT_EQ(IntegerCubeRoot(big_cubed - 1), big - 1);
  EXPECT_EQ(IntegerCubeRoot(absl::Uint128Max()), uint64_t{1} << 42);  // saturates
}

TEST(IntegerCubeRootTest, MatchesFloatingPointOnASweep) {
  for (uint64_t x = 1; x < (uint64_t{1} << 60); x = x * 3 + 1) {
    const uint64_t r = internal::IntegerCubeRoot(x);
    EXPECT_LE(absl::uint128(r) * r * r, x);
    EXPECT_GT(absl::uint128(r + 1) * (r + 1) * (r + 1), x);
    EXPECT_NEAR(static_cast<double>(r), std::cbrt(static_cast<double>(x)), 1.0) << x;
  }
}

TEST(CubicTest, LossSetsWmaxCwndPriorAndBeta) {
  Cubic cc(kMss, 100);
  cc.OnCongestionEvent(LossEvent{Timestamp::Zero(), 100 * kMss, kMss});
  EXPECT_EQ(cc.w_max(), 100 * kMss);
  EXPECT_EQ(cc.cwnd_prior(), 100 * kMss);
  EXPECT_EQ(cc.ssthresh(), 70 * kMss);  // RFC 9438 §4.6, beta_cubic = 0.7
  EXPECT_EQ(cc.cwnd(), 70 * kMss);
  EXPECT_FALSE(cc.epoch_start().has_value());
}

TEST(CubicTest, KMatchesRfcFormula) {
  Cubic cc(kMss, 100);
  CcRig flow(cc);
  flow.LoseAndRecover(0);
  flow.RunRounds(1);
  ASSERT_TRUE(cc.epoch_start().has_value());
  // K = cbrt((100 - 70) / 0.4) = cbrt(75) s.
  EXPECT_NEAR(cc.k().seconds(), RfcK(100, 70), 1e-6);
  EXPECT_NEAR(cc.k().seconds(), 4.217163, 1e-6);
}

TEST(CubicTest, WindowAtMatchesRfcFormula) {
  Cubic cc(kMss, 100);
  CcRig flow(cc);
  flow.LoseAndRecover(0);
  flow.RunRounds(1);
  const double k = RfcK(100, 70);
  for (double t : {0.0, 0.5, 1.0, 2.0, 4.0, 4.2171, 5.0, 7.5, 10.0, 30.0}) {
    const double expected = RfcWCubic(t, k, 100) * kMss;
    const Duration d = Duration::Nanos(static_cast<int64_t>(t * 1e9));
    EXPECT_NEAR(cc.WindowAt(d), expected, 2.0) << "t=" << t;
  }
  // W_cubic(0) = cwnd_epoch, up to the microsecond rounding of K.
  EXPECT_NEAR(cc.WindowAt(Duration::Zero()), 70 * kMss, 2.0);
}

TEST(CubicTest, WindowAtSaturates) {
  Cubic cc(kMaxMss, 1000);
  cc.OnCongestionEvent(LossEvent{Timestamp::Zero(), kMaxWindow, kMss});
  CcRig flow(cc);
  flow.RunRounds(1);
  EXPECT_EQ(cc.WindowAt(Duration::Seconds(100'000)), kMaxWindow);
  EXPECT_EQ(cc.WindowAt(Duration::Infinite()), kMaxWindow);
  EXPECT_EQ(cc.WindowAt(Duration::Zero() - Duration::Seconds(5)), cc.WindowAt(Duration::Zero()));
}

// The heart of CUBIC: after a loss, cwnd follows W_cubic(t) through the concave region, the
// plateau at W_max and into the convex region (RFC 9438 §4.2, §4.4, §4.5).
TEST(CubicTest, CwndFollowsCubicCurveAfterLoss) {
  Cubic cc(kMss, 100, CubicOptions{.reno_friendly = false});
  CcRig flow(cc, {.rtt = Duration::Millis(100)});
  flow.LoseAndRecover(0);
  const double k = RfcK(100, 70 /* = 100 * kBeta */);
  ASSERT_NEAR(70, 100 * kBeta, 1e-9);
  double max_error = 0;
  for (int round = 0; round < 80; ++round) {  // 8 s: K is 4.2 s
    flow.RunRounds(1);
    const double t = SecondsSinceEpoch(cc, flow);
    const double expected = RfcWCubic(t, k, 100);
    const double actual = Segments(cc.cwnd());
    max_error = std::max(max_error, std::abs(actual - expected));
    EXPECT_NEAR(actual, expected, 0.5) << "t=" << t;
  }
  EXPECT_GT(Segments(cc.cwnd()), 105);  // convex region, beyond W_max
  EXPECT_LT(max_error, 0.5);
}

TEST(CubicTest, CurveIsIndependentOfAckRatio) {
  Cubic per_segment(kMss, 100, CubicOptions{.reno_friendly = false});
  Cubic delayed(kMss, 100, CubicOptions{.reno_friendly = false});
  CcRig a(per_segment), b(delayed);
  a.LoseAndRecover(0);
  b.LoseAndRecover(0);
  for (int round = 0; round < 60; ++round) {
    a.RunRounds(1);
    b.RunRounds(1, {.segments_per_ack = 2});
    EXPECT_NEAR(Segments(per_segment.cwnd()), Segments(delayed.cwnd()), 1.0) << round;
  }
}

TEST(CubicTest, RenoFriendlyRegionIsInactiveWhileCurveLeads) {
  // With W_max = 100 segments and a 100 ms RTT, W_cubic(t) stays above Reno's estimate W_est
  // through the concave region (W_est grows 9/17 segment per RTT, reaching only ~92 segments
  // at t = K), so enabling the Reno-friendly region changes nothing there.
  Cubic pure(kMss, 100, CubicOptions{.reno_friendly = false});
  Cubic dflt(kMss, 100);
  CcRig a(pure), b(dflt);
  a.LoseAndRecover(0);
  b.LoseAndRecover(0);
  for (int round = 0; round < 42; ++round) {
    a.RunRounds(1);
    b.RunRounds(1);
    EXPECT_NEAR(Segments(pure.cwnd()), Segments(dflt.cwnd()), 0.05) << round;
    EXPECT_LT(dflt.w_est(), dflt.cwnd()) << round;
  }
}

TEST(CubicTest, RenoFriendlyRegionOnShortRtt) {
  // Small window, short RTT: Reno would outgrow the cubic curve, so CUBIC follows W_est
  // (RFC 9438 §4.3): alpha = 9/17 segment per RTT up to cwnd_prior, then 1 per RTT.
  Cubic cc(kMss, 20);
  Cubic pure(kMss, 20, CubicOptions{.reno_friendly = false});
  CcRig flow(cc, {.rtt = Duration::Millis(10)});
  CcRig pure_flow(pure, {.rtt = Duration::Millis(10)});
  flow.LoseAndRecover(0);
  pure_flow.LoseAndRecover(0);
  ASSERT_EQ(cc.cwnd(), 14 * kMss);
  flow.RunRounds(10);
  pure_flow.RunRounds(10);
  // 10 rounds at 9/17 segment per round.
  EXPECT_NEAR(Segments(cc.cwnd()), 14 + 10 * 9.0 / 17, 0.6);
  flow.RunRounds(10);  // crosses cwnd_prior = 20 segments
  const uint32_t at20 = cc.cwnd();
  flow.RunRounds(20);
  pure_flow.RunRounds(30);
  EXPECT_NEAR(Segments(cc.cwnd() - at20), 20, 1.0);  // one segment per RTT
  // The cubic curve alone is still below W_max at t = 0.4 s.
  EXPECT_LT(Segments(pure.cwnd()), 20);
  EXPECT_GT(Segments(cc.cwnd()), 40);
}

TEST(CubicTest, FastConvergenceLowersWmax) {
  Cubic cc(kMss, 100);
  CcRig flow(cc);
  flow.LoseAndRecover(0);
  flow.RunRounds(5);
  const uint32_t cwnd = cc.cwnd();
  ASSERT_LT(cwnd, 100 * kMss);
  cc.OnCongestionEvent(LossEvent{flow.now(), cwnd, kMss});
  // RFC 9438 §4.7: W_max = cwnd * (1 + beta) / 2.
  EXPECT_EQ(cc.w_max(), uint64_t{cwnd} * 17 / 20);
  EXPECT_EQ(cc.cwnd_prior(), cwnd);
  EXPECT_EQ(cc.cwnd(), uint64_t{cwnd} * 7 / 10);

  Cubic slow(kMss, 100, CubicOptions{.fast_convergence = false});
  CcRig slow_flow(slow);
  slow_flow.LoseAndRecover(0);
  slow_flow.RunRounds(5);
  slow.OnCongestionEvent(LossEvent{slow_flow.now(), slow.cwnd(), kMss});
  EXPECT_EQ(slow.w_max(), cwnd);
}

TEST(CubicTest, NoFastConvergenceWhenAboveWmax) {
  Cubic cc(kMss, 100);
  CcRig flow(cc);
  flow.LoseAndRecover(0);
  flow.RunRounds(70);  // past K = 4.2 s: cwnd > W_max
  const uint32_t cwnd = cc.cwnd();
  ASSERT_GT(cwnd, 100 * kMss);
  cc.OnCongestionEvent(LossEvent{flow.now(), cwnd, kMss});
  EXPECT_EQ(cc.w_max(), cwnd);
}

TEST(CubicTest, NegativeKWhenWmaxBelowEpochWindow) {
  // Fast convergence can leave W_max below the window congestion avoidance restarts from
  // (when FlightSize exceeded cwnd); K is then negative and the curve is convex from t = 0.
  Cubic cc(kMss, 100);
  CcRig flow(cc);
  flow.LoseAndRecover(0);  // W_max = 100
  cc.OnCongestionEvent(LossEvent{flow.now(), 200 * kMss, kMss});  // W_max = 59.5, cwnd = 140
  EXPECT_EQ(cc.w_max(), 59'500u);
  flow.RunRounds(1);
  EXPECT_LT(cc.k(), Duration::Zero());
  EXPECT_NEAR(cc.k().seconds(), -RfcK(140, 59.5), 1e-6);
  EXPECT_NEAR(cc.WindowAt(Duration::Zero()), 140 * kMss, 2.0);
}

TEST(CubicTest, AfterRtoFirstEpochUsesZeroKAndCurrentWindow) {
  Cubic cc(kMss, 100);
  CcRig flow(cc);
  flow.LoseAndRecover(0);
  flow.RunRounds(5);
  const uint32_t before = cc.cwnd();
  cc.OnRto(RtoEvent{flow.now(), before, 0});
  EXPECT_EQ(cc.cwnd(), kMss);
  EXPECT_EQ(cc.ssthresh(), uint64_t{before} * 7 / 10);  // RFC 9438 §4.8
  EXPECT_EQ(cc.cwnd_prior(), before);
  EXPECT_FALSE(cc.w_max().has_value());
  while (cc.InSlowStart()) flow.RunRounds(1);
  flow.RunRounds(1);
  ASSERT_TRUE(cc.epoch_start().has_value());
  EXPECT_EQ(cc.k(), Duration::Zero());
  ASSERT_TRUE(cc.w_max().has_value());
  EXPECT_GE(*cc.w_max(), cc.ssthresh());
  EXPECT_LT(*cc.w_max(), cc.ssthresh() + kMss);
  uint32_t prev = cc.cwnd();
  for (int i = 0; i < 30; ++i) {
    flow.RunRounds(1);
    EXPECT_GE(cc.cwnd(), prev);
    prev = cc.cwnd();
  }
}

TEST(CubicTest, AppLimitedTimeIsExcludedFromTheCurve) {
  // RFC 9438 §4.2 / §5.8: t must not include application-limited periods.
  Cubic paused(kMss, 100);
  Cubic steady(kMss, 100);
  CcRig a(paused), b(steady);
  a.LoseAndRecover(0);
  b.LoseAndRecover(0);
  a.RunRounds(10);
  b.RunRounds(10);
  ASSERT_EQ(paused.cwnd(), steady.cwnd());
  const uint32_t cwnd = paused.cwnd();
  a.RunRounds(50, {.app_limited = true});  // 5 s of application-limited ACKs
  EXPECT_EQ(paused.cwnd(), cwnd);
  for (int round = 0; round < 30; ++round) {
    a.RunRounds(1);
    b.RunRounds(1);
    EXPECT_EQ(paused.cwnd(), steady.cwnd()) << round;
  }
}

TEST(CubicTest, IdleRestartIsExcludedFromTheCurve) {
  Cubic idle(kMss, 100);
  Cubic steady(kMss, 100);
  CcRig a(idle), b(steady);
  a.LoseAndRecover(0);
  b.LoseAndRecover(0);
  a.RunRounds(10);
  b.RunRounds(10);
  // Nothing in flight for 30 s, then the sender restarts.
  a.Advance(Duration::Seconds(30));
  idle.OnPacketSent(a.now(), kMss, kMss);
  for (int round = 0; round < 30; ++round) {
    a.RunRounds(1);
    b.RunRounds(1);
    EXPECT_EQ(idle.cwnd(), steady.cwnd()) << round;
  }
  // Without the pause the curve would have jumped: 30 s is far past K.
  EXPECT_LT(Segments(idle.cwnd()), 120);
}

TEST(CubicTest, SpuriousRtoRestoresCurveState) {
  Cubic cc(kMss, 100);
  CcRig flow(cc);
  flow.LoseAndRecover(0);
  flow.RunRounds(5);
  const auto w_max = cc.w_max();
  const Duration k = cc.k();
  const auto epoch = cc.epoch_start();
  const uint32_t cwnd = cc.cwnd();
  cc.OnRto(RtoEvent{flow.now(), cwnd, 0});
  cc.OnSpuriousLoss(flow.now());
  EXPECT_EQ(cc.w_max(), w_max);
  EXPECT_EQ(cc.k(), k);
  EXPECT_EQ(cc.epoch_start(), epoch);
  EXPECT_EQ(cc.cwnd(), cwnd);
}

TEST(CubicTest, MssChangeRestartsEpoch) {
  Cubic cc(kMss, 100);
  CcRig flow(cc);
  flow.LoseAndRecover(0);
  flow.RunRounds(3);
  ASSERT_TRUE(cc.epoch_start().has_value());
  cc.set_mss(1460);
  EXPECT_FALSE(cc.epoch_start().has_value());
  flow.RunRounds(1);
  EXPECT_TRUE(cc.epoch_start().has_value());
}

}  // namespace
}  // namespace mptcp::cc
