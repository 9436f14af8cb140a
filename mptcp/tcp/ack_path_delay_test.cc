#include "mptcp/tcp/ack_path_delay.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace mptcp::tcp {
namespace {

Timestamp At(Duration d) { return Timestamp::Zero() + d; }
Duration Ms(int64_t n) { return Duration::Millis(n); }

// A peer whose clock ticks every `tick`, with an arbitrary offset, whose segments take
// `base + queueing(t)` to reach us. Feeds one segment every `gap` from `from` to `to`.
struct Peer {
  Duration tick = Ms(1);
  uint32_t offset = 0xffffff00;  // wraps 256 ticks in
  Duration base = Ms(20);

  template <typename Queueing>
  void Send(AckPathDelay& d, Duration from, Duration to, Duration gap, Queueing queueing) const {
    for (Duration sent = from; sent < to; sent = sent + gap) {
      const uint32_t tsval = offset + static_cast<uint32_t>(sent.nanos() / tick.nanos());
      d.OnSegment(At(sent + base + queueing(sent)), tsval);
    }
  }
};

Duration None(Duration) { return Duration::Zero(); }

TEST(AckPathDelayTest, NoEstimateUntilThePeersClockIsKnown) {
  AckPathDelay d;
  Peer{}.Send(d, Duration::Zero(), AckPathDelay::kCalibration - Ms(10), Ms(1), None);
  EXPECT_FALSE(d.has_estimate());
  EXPECT_FALSE(d.tick().has_value());
  EXPECT_EQ(d.queueing(), Duration::Zero());
}

TEST(AckPathDelayTest, MeasuresTheQueueOnTheWayBackWithAMillisecondClock) {
  AckPathDelay d;
  const Peer peer;  // its offset wraps the 32-bit clock during the run
  peer.Send(d, Duration::Zero(), Ms(500), Ms(1), None);
  ASSERT_TRUE(d.tick().has_value());
  EXPECT_EQ(*d.tick(), Ms(1));
  EXPECT_LE(d.queueing(), Ms(1));
  // A queue of 40 ms builds and stays.
  peer.Send(d, Ms(500), Ms(1500), Ms(1), [](Duration) { return Ms(40); });
  EXPECT_GE(d.latest(), Ms(39));
  EXPECT_LE(d.latest(), Ms(41));
  EXPECT_GE(d.queueing(), Ms(39));
  EXPECT_LE(d.queueing(), Ms(41));
  // It drains.
  peer.Send(d, Ms(1500), Ms(2000), Ms(1), None);
  EXPECT_LE(d.queueing(), Ms(1));
}

TEST(AckPathDelayTest, RecognisesAMicrosecondClock) {
  AckPathDelay d;
  Peer peer;
  peer.tick = Duration::Micros(1);
  peer.Send(d, Duration::Zero(), Ms(300), Ms(1), [](Duration t) {
    return t > Ms(200) ? Duration::Micros(2500) : Duration::Zero();
  });
  ASSERT_TRUE(d.tick().has_value());
  EXPECT_EQ(*d.tick(), Duration::Micros(1));
  EXPECT_GE(d.latest(), Duration::Micros(2499));
  EXPECT_LE(d.latest(), Duration::Micros(2501));
}

TEST(AckPathDelayTest, AQueueThatGrewWhileTheClockWasMeasuredCountsAsQueue) {
  AckPathDelay d;
  // 30 ms of queue by the end of calibration: the minimum is the first segment's delay.
  Peer{}.Send(d, Duration::Zero(), Ms(150), Ms(1),
              [](Duration t) { return std::min(t / 4, Ms(30)); });
  ASSERT_TRUE(d.has_estimate());
  EXPECT_GE(d.latest(), Ms(29));
  EXPECT_LE(d.latest(), Ms(31));
}

TEST(AckPathDelayTest, AnUnknownClockGivesNoEstimate) {
  AckPathDelay d;
  Peer peer;
  peer.tick = Ms(4);  // Linux with HZ=250 before 4.13
  peer.Send(d, Duration::Zero(), Duration::Seconds(12), Ms(5), None);
  EXPECT_TRUE(d.unknown_clock());
  EXPECT_FALSE(d.has_estimate());
  EXPECT_EQ(d.queueing(), Duration::Zero());
}

TEST(AckPathDelayTest, ALateSegmentWithAnOlderTsvalStillMeasures) {
  AckPathDelay d;
  const Peer peer;
  peer.Send(d, Duration::Zero(), Ms(300), Ms(1), None);
  // Sent at 250 ms, held 25 ms longer than the others on the way.
  d.OnSegment(At(Ms(250) + peer.base + Ms(25)), peer.offset + 250);
  EXPECT_GE(d.latest(), Ms(24));
  EXPECT_LE(d.latest(), Ms(26));
  peer.Send(d, Ms(300), Ms(400), Ms(1), None);
  EXPECT_LE(d.latest(), Ms(1));
}

TEST(AckPathDelayTest, APeerSteppingItsClockByHalfItsRangeGetsNoEstimateAndNoOverflow) {
  AckPathDelay d;
  uint32_t tsval = 1;
  for (int i = 0; i < 10'000; ++i) {
    d.OnSegment(At(Ms(i)), tsval);
    tsval += 0x7fffffff;  // passes PAWS every time
  }
  EXPECT_TRUE(d.unknown_clock());
  EXPECT_EQ(d.queueing(), Duration::Zero());
}

}  // namespace
}  // namespace mptcp::tcp
