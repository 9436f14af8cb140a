#include "mptcp/time.h"

#include <gtest/gtest.h>

namespace mptcp {
namespace {

TEST(TimeTest, DurationUnits) {
  EXPECT_EQ(Duration::Millis(3).nanos(), 3'000'000);
  EXPECT_EQ(Duration::Seconds(2).millis(), 2000);
  EXPECT_EQ(Duration::Micros(1500).millis(), 1);
  EXPECT_LT(Duration::Millis(1), Duration::Millis(2));
  EXPECT_EQ(Duration::Millis(10) / 4, Duration::Micros(2500));
}

TEST(TimeTest, TimestampArithmetic) {
  const Timestamp t = Timestamp::FromNanos(1000);
  EXPECT_EQ((t + Duration::Nanos(5)).nanos(), 1005);
  EXPECT_EQ((t + Duration::Nanos(5)) - t, Duration::Nanos(5));
  EXPECT_TRUE((t + Duration::Infinite()).IsNever());
  EXPECT_TRUE((Timestamp::Never() + Duration::Seconds(1)).IsNever());
}

TEST(TimeTest, TimerAndEarliest) {
  Timer timer;
  EXPECT_FALSE(timer.armed());
  EXPECT_FALSE(timer.Expired(Timestamp::FromNanos(1'000'000'000)));
  timer.Arm(Timestamp::FromNanos(10));
  EXPECT_FALSE(timer.Expired(Timestamp::FromNanos(9)));
  EXPECT_TRUE(timer.Expired(Timestamp::FromNanos(10)));
  timer.Disarm();
  EXPECT_FALSE(timer.Expired(Timestamp::FromNanos(10)));
  EXPECT_EQ(Earliest(Timestamp::Never(), Timestamp::FromNanos(7), Timestamp::FromNanos(3)),
            Timestamp::FromNanos(3));
  EXPECT_TRUE(Earliest(Timestamp::Never(), Timestamp::Never()).IsNever());
}

}  // namespace
}  // namespace mptcp
