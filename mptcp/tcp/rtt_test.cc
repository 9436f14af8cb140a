#include "mptcp/tcp/rtt.h"

#include <gtest/gtest.h>

namespace mptcp::tcp {
namespace {

Duration Ms(int64_t n) { return Duration::Millis(n); }
Duration Us(int64_t n) { return Duration::Micros(n); }

TEST(RttEstimatorTest, InitialRtoBeforeAnySample) {
  RttEstimator rtt;
  EXPECT_FALSE(rtt.has_sample());
  EXPECT_EQ(rtt.rto(), Duration::Seconds(1));  // RFC 6298 §2.1
  EXPECT_EQ(rtt.srtt(), Duration::Zero());
  EXPECT_EQ(rtt.rttvar(), Duration::Zero());
  EXPECT_EQ(rtt.min_rtt(), Duration::Zero());
  EXPECT_EQ(rtt.backoff_count(), 0);
}

TEST(RttEstimatorTest, FirstSample) {
  // RFC 6298 §2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4*RTTVAR).
  RttEstimator rtt(Duration::Seconds(1), Ms(200), Duration::Seconds(120), Ms(1));
  rtt.OnSample(Ms(100));
  EXPECT_TRUE(rtt.has_sample());
  EXPECT_EQ(rtt.srtt(), Ms(100));
  EXPECT_EQ(rtt.rttvar(), Ms(50));
  EXPECT_EQ(rtt.rto(), Ms(300));
  EXPECT_EQ(rtt.latest(), Ms(100));
  EXPECT_EQ(rtt.min_rtt(), Ms(100));
}

TEST(RttEstimatorTest, SubsequentSamplesFollowRfc6298Gains) {
  RttEstimator rtt(Duration::Seconds(1), Ms(200), Duration::Seconds(120), Ms(1));
  rtt.OnSample(Ms(100));
  // RFC 6298 §2.3, RTTVAR updated with the old SRTT:
  //   RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5 ms
  //   SRTT   = 7/8 * 100 + 1/8 * 200       = 112.5 ms
  //   RTO    = 112.5 + 4 * 62.5              = 362.5 ms
  rtt.OnSample(Ms(200));
  EXPECT_EQ(rtt.rttvar(), Us(62500));
  EXPECT_EQ(rtt.srtt(), Us(112500));
  EXPECT_EQ(rtt.rto(), Us(362500));
  EXPECT_EQ(rtt.latest(), Ms(200));
  EXPECT_EQ(rtt.min_rtt(), Ms(100));

  // A smaller sample: err = |112.5 - 50| = 62.5.
  //   RTTVAR = 3/4 * 62.5 + 1/4 * 62.5 = 62.5 ms
  //   SRTT   = 7/8 * 112.5 + 1/8 * 50  = 104.6875 ms
  rtt.OnSample(Ms(50));
  EXPECT_EQ(rtt.rttvar(), Us(62500));
  EXPECT_EQ(rtt.srtt(), Us(104687) + Duration::Nanos(500));
  EXPECT_EQ(rtt.rto(), Us(104687) + Duration::Nanos(500) + Us(250000));
  EXPECT_EQ(rtt.min_rtt(), Ms(50));
  EXPECT_EQ(rtt.latest(), Ms(50));
}

TEST(RttEstimatorTest, SteadySamplesConvergeAndVarianceDecays) {
  RttEstimator rtt(Duration::Seconds(1), Duration::Zero(), Duration::Seconds(120), Ms(1));
  for (int i = 0; i < 200; ++i) rtt.OnSample(Ms(40));
  EXPECT_EQ(rtt.srtt(), Ms(40));
  // RTTVAR decays by 3/4 per sample to (integer) zero; then G is the floor of the margin.
  EXPECT_EQ(rtt.rttvar(), Duration::Zero());
  EXPECT_EQ(rtt.rto(), Ms(41));
}

TEST(RttEstimatorTest, ClockGranularityFloorsTheVarianceTerm) {
  RttEstimator rtt(Duration::Seconds(1), Duration::Zero(), Duration::Seconds(120), Ms(10));
  rtt.OnSample(Ms(4));  // 4*RTTVAR = 8 ms < G = 10 ms
  EXPECT_EQ(rtt.rto(), Ms(14));
}

TEST(RttEstimatorTest, ClampsToMinimum) {
  RttEstimator linux_like;  // 200 ms minimum
  linux_like.OnSample(Ms(10));
  EXPECT_EQ(linux_like.rto(), Ms(200));
  EXPECT_EQ(linux_like.base_rto(), Ms(200));

  // RFC 6298 §2.4's 1 s minimum, as configuration.
  RttEstimator rfc(Duration::Seconds(1), Duration::Seconds(1));
  rfc.OnSample(Ms(100));
  EXPECT_EQ(rfc.rto(), Duration::Seconds(1));
}

TEST(RttEstimatorTest, ClampsToMaximum) {
  RttEstimator rtt(Duration::Seconds(1), Ms(200), Duration::Seconds(60));
  rtt.OnSample(Duration::Seconds(30));  // 30 + 4*15 = 90 s > 60 s
  EXPECT_EQ(rtt.rto(), Duration::Seconds(60));
}

TEST(RttEstimatorTest, InitialRtoIsClampedToo) {
  RttEstimator rtt(Ms(50), Ms(200), Duration::Seconds(120));
  EXPECT_EQ(rtt.rto(), Ms(200));
}

TEST(RttEstimatorTest, BackoffDoublesUpToMaximum) {
  RttEstimator rtt(Duration::Seconds(1), Ms(200), Duration::Seconds(120));
  rtt.OnSample(Ms(100));  // RTO 300 ms
  const Duration expected[] = {Ms(600),   Ms(1200),  Ms(2400),  Ms(4800),
                               Ms(9600),  Ms(19200), Ms(38400), Ms(76800),
                               Ms(120000), Ms(120000)};
  for (int i = 0; i < 10; ++i) {
    rtt.Backoff();
    EXPECT_EQ(rtt.backoff_count(), i + 1);
    EXPECT_EQ(rtt.rto(), expected[i]) << "after " << i + 1 << " backoffs";
  }
  // Many more doublings never overflow.
  for (int i = 0; i < 1000; ++i) rtt.Backoff();
  EXPECT_EQ(rtt.rto(), Duration::Seconds(120));
  EXPECT_EQ(rtt.base_rto(), Ms(300));
}

TEST(RttEstimatorTest, BackoffAppliesBeforeFirstSample) {
  RttEstimator rtt;
  rtt.Backoff();
  rtt.Backoff();
  EXPECT_EQ(rtt.rto(), Duration::Seconds(4));
}

TEST(RttEstimatorTest, BackoffWithInfiniteMaximumStaysFinite) {
  RttEstimator rtt(Duration::Seconds(1), Ms(200), Duration::Infinite());
  for (int i = 0; i < 100; ++i) rtt.Backoff();
  EXPECT_EQ(rtt.rto(), Duration::Infinite());
  // Below the cap each backoff is an exact doubling (1 s << 33 still fits in int64).
  for (int i = 0; i <= 33; ++i) {
    rtt.ResetBackoff();
    for (int j = 0; j < i; ++j) rtt.Backoff();
    EXPECT_EQ(rtt.rto().nanos(), int64_t{1'000'000'000} << i) << i;
  }
}

TEST(RttEstimatorTest, ResetBackoffRestoresBaseRto) {
  RttEstimator rtt;
  rtt.OnSample(Ms(100));
  rtt.Backoff();
  rtt.Backoff();
  EXPECT_EQ(rtt.rto(), Ms(1200));
  rtt.ResetBackoff();
  EXPECT_EQ(rtt.backoff_count(), 0);
  EXPECT_EQ(rtt.rto(), Ms(300));
}

TEST(RttEstimatorTest, NewSampleCollapsesBackoff) {
  // RFC 6298 §5: a new measurement recomputes the RTO, undoing the backoff.
  RttEstimator rtt;
  rtt.OnSample(Ms(100));
  rtt.Backoff();
  rtt.Backoff();
  rtt.OnSample(Ms(100));
  EXPECT_EQ(rtt.backoff_count(), 0);
  EXPECT_EQ(rtt.rto(), Ms(250));  // SRTT 100 ms, RTTVAR 37.5 ms
}

TEST(RttEstimatorTest, RejectsNegativeAndCapsHugeSamples) {
  RttEstimator rtt;
  rtt.OnSample(Duration::Zero() - Ms(5));
  EXPECT_FALSE(rtt.has_sample());
  rtt.OnSample(Duration::Infinite());
  EXPECT_TRUE(rtt.has_sample());
  EXPECT_EQ(rtt.srtt(), RttEstimator::kMaxSample);
  EXPECT_EQ(rtt.rto(), Duration::Seconds(120));
  for (int i = 0; i < 100; ++i) rtt.OnSample(Duration::Infinite());
  EXPECT_EQ(rtt.srtt(), RttEstimator::kMaxSample);
}

TEST(RttEstimatorTest, ZeroSampleIsAccepted) {
  RttEstimator rtt(Duration::Seconds(1), Duration::Zero());
  rtt.OnSample(Duration::Zero());
  EXPECT_TRUE(rtt.has_sample());
  EXPECT_EQ(rtt.rto(), Ms(1));  // G
  EXPECT_EQ(rtt.min_rtt(), Duration::Zero());
}

TEST(RttEstimatorTest, MinRttIsLifetimeMinimum) {
  RttEstimator rtt;
  rtt.OnSample(Ms(30));
  rtt.OnSample(Ms(10));
  for (int i = 0; i < 100; ++i) rtt.OnSample(Ms(80));
  EXPECT_EQ(rtt.min_rtt(), Ms(10));
  EXPECT_EQ(rtt.latest(), Ms(80));
}

}  // namespace
}  // namespace mptcp::tcp
