#include "mptcp/tcp/delivery_rate.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>

namespace mptcp::tcp {
namespace {

Timestamp At(Duration d) { return Timestamp::Zero() + d; }
Duration Ms(int64_t n) { return Duration::Millis(n); }

// A sender and a path: segments leave every `gap`, each delivered `rtt` later and ACKed at
// once, one ACK per segment (or `ack_every` segments per ACK, all at the last one's time).
struct Pipe {
  DeliveryRate rate;
  Duration rtt = Ms(50);
  Duration min_rtt = Ms(50);
  struct InFlight {
    DeliverySnapshot snap;
    Timestamp sent;
    uint32_t bytes;
  };
  std::deque<InFlight> flight;

  void Send(Timestamp now, uint32_t bytes) {
    flight.push_back({rate.Snapshot(now, flight.empty()), now, bytes});
  }
  // Delivers everything sent up to `now - rtt`, `per_ack` segments to an ACK.
  void AckUpTo(Timestamp now, int per_ack = 1) {
    int in_ack = 0;
    while (!flight.empty() && flight.front().sent + rtt <= now) {
      const InFlight f = flight.front();
      flight.pop_front();
      const Timestamp at = per_ack == 1 ? f.sent + rtt : now;
      rate.OnDelivered(f.snap, f.sent, f.bytes, at);
      if (++in_ack == per_ack || flight.empty() || flight.front().sent + rtt > now) {
        rate.OnAckEnd(at, min_rtt, rtt);
        in_ack = 0;
      }
    }
  }
};

TEST(DeliveryRateTest, NoBandwidthBeforeTheFirstSample) {
  DeliveryRate r;
  EXPECT_FALSE(r.bandwidth().has_value());
  EXPECT_FALSE(r.full_bandwidth_reached());
}

TEST(DeliveryRateTest, MeasuresASteadySendersRate) {
  Pipe p;
  // 1,000 bytes a millisecond: 1 MB/s.
  for (int ms = 0; ms < 2000; ++ms) {
    p.Send(At(Ms(ms)), 1000);
    p.AckUpTo(At(Ms(ms)));
  }
  ASSERT_TRUE(p.rate.bandwidth().has_value());
  EXPECT_NEAR(*p.rate.bandwidth(), 1e6, 1e6 * 0.03);
  EXPECT_NEAR(p.rate.latest(), 1e6, 1e6 * 0.03);
  EXPECT_TRUE(p.rate.full_bandwidth_reached());
}

TEST(DeliveryRateTest, AStretchedAckDoesNotLookFasterThanTheSender) {
  Pipe p;
  // ACKs come in bursts of 20 segments (ACK compression, or an ACK held in a queue); the
  // rate is still what the sender sent, never 20 segments over the burst's microseconds.
  for (int ms = 0; ms < 2000; ++ms) {
    p.Send(At(Ms(ms)), 1000);
    if (ms % 20 == 19) p.AckUpTo(At(Ms(ms)), 20);
  }
  ASSERT_TRUE(p.rate.bandwidth().has_value());
  EXPECT_LE(*p.rate.bandwidth(), 1e6 * 1.05);
  EXPECT_GE(*p.rate.bandwidth(), 1e6 * 0.9);
}

TEST(DeliveryRateTest, IdleTimeIsNotPartOfTheInterval) {
  // Bursts of 50 segments over 50 ms, each burst after 500 ms with nothing in flight. A burst
  // from idle is timed from its first send (draft §3.2): 50 KB over its 99 ms to the last ACK.
  // Were the idle time counted, the bursts after the first would measure 50 KB over 550 ms.
  Pipe p;
  double first_burst = 0;
  for (int burst = 0; burst < 4; ++burst) {
    const Duration start = Ms(burst * 600);
    for (int ms = 0; ms < 50; ++ms) p.Send(At(start + Ms(ms)), 1000);
    p.AckUpTo(At(start + Ms(200)));
    if (burst == 0) first_burst = p.rate.latest();
    EXPECT_NEAR(p.rate.latest(), 50'000 / 0.099, 1000) << "burst " << burst;
  }
  EXPECT_NEAR(*p.rate.bandwidth(), first_burst, 1);
}

TEST(DeliveryRateTest, TheMaximumFollowsAPathThatSlowsDown) {
  Pipe p;
  for (int ms = 0; ms < 1000; ++ms) {
    p.Send(At(Ms(ms)), 2000);  // 2 MB/s
    p.AckUpTo(At(Ms(ms)));
  }
  EXPECT_NEAR(*p.rate.bandwidth(), 2e6, 2e6 * 0.03);
  for (int ms = 1000; ms < 2000; ++ms) {
    p.Send(At(Ms(ms)), 500);  // 0.5 MB/s: forgotten after at most two windows of 5 RTTs
    p.AckUpTo(At(Ms(ms)));
  }
  EXPECT_NEAR(*p.rate.bandwidth(), 0.5e6, 0.5e6 * 0.05);
}

TEST(DeliveryRateTest, ARateStillDoublingEveryRoundTripHasNotReachedFullBandwidth) {
  Pipe p;
  // Slow start: the n-th round trip sends 2^n segments, spread over it.
  Duration t = Duration::Zero();
  for (int round = 0; round < 8; ++round) {
    const int segments = 4 << round;
    for (int i = 0; i < segments; ++i) {
      p.Send(At(t + p.rtt * i / segments), 1000);
      p.AckUpTo(At(t + p.rtt * i / segments));
    }
    t = t + p.rtt;
  }
  EXPECT_FALSE(p.rate.full_bandwidth_reached());
  // Then the rate stops growing: three round trips later it has.
  const int segments = 4 << 7;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < segments; ++i) {
      p.Send(At(t + p.rtt * i / segments), 1000);
      p.AckUpTo(At(t + p.rtt * i / segments));
    }
    t = t + p.rtt;
  }
  EXPECT_TRUE(p.rate.full_bandwidth_reached());
}

}  // namespace
}  // namespace mptcp::tcp
