#include "io/sim/link.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "io/sim/test_util.h"

namespace mptcp::sim {
namespace {

using testing::FillerPacket;
using testing::Ms;
using testing::RecordingSink;
using testing::TagOf;
using testing::Us;

// Offers a `size`-byte packet tagged `tag` to `link` at `at`.
void SendAt(Simulator& sim, OneWayLink& link, Timestamp at, size_t size, uint16_t tag) {
  sim.At(at, [&sim, &link, size, tag] { link.Deliver(sim.NewPacket(FillerPacket(size, tag))); });
}

TEST(LinkTest, SerializationTimeIsExact) {
  // 1500 bytes = 12000 bits at 12 Mbit/s: exactly 1 ms.
  EXPECT_EQ(OneWayLink::SerializationTime(1500, 12'000'000), Duration::Millis(1));
  EXPECT_EQ(OneWayLink::SerializationTime(1500, 1'000'000'000), Duration::Nanos(12'000));
  EXPECT_EQ(OneWayLink::SerializationTime(100, 8'000'000), Duration::Micros(100));
  // Rounded up, never down: 8 bits at 3 bit/s is 2.666...s.
  EXPECT_EQ(OneWayLink::SerializationTime(1, 3), Duration::Nanos(2'666'666'667));
  EXPECT_EQ(OneWayLink::SerializationTime(1500, 0), Duration::Zero());
  // No overflow on big packets at slow rates: 65535 bytes at 1 bit/s.
  EXPECT_EQ(OneWayLink::SerializationTime(65535, 1), Duration::Seconds(65535 * 8));
}

TEST(LinkTest, OnePacketTakesSerializationPlusDelay) {
  Simulator sim(1);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.bandwidth_bps = 12'000'000;
  cfg.delay = Duration::Millis(10);
  OneWayLink link(sim, "l", cfg, &sink);
  SendAt(sim, link, Ms(0), 1500, 1);
  sim.RunUntil(Ms(100));
  ASSERT_EQ(sink.size(), 1u);
  EXPECT_EQ(sink.at(0), Ms(11));
  EXPECT_EQ(link.stats().packets_delivered, 1u);
  EXPECT_EQ(link.stats().bytes_delivered, 1500u);
}

TEST(LinkTest, BackToBackPacketsAreSpacedBySerialization) {
  Simulator sim(1);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.bandwidth_bps = 12'000'000;
  cfg.delay = Duration::Millis(10);
  OneWayLink link(sim, "l", cfg, &sink);
  for (uint16_t i = 0; i < 3; ++i) SendAt(sim, link, Ms(0), 1500, i);
  // A fourth arrives when the link is idle again: it starts at once.
  SendAt(sim, link, Ms(5), 750, 3);
  sim.RunUntil(Ms(100));
  ASSERT_EQ(sink.size(), 4u);
  EXPECT_EQ(sink.at(0), Ms(11));
  EXPECT_EQ(sink.at(1), Ms(12));
  EXPECT_EQ(sink.at(2), Ms(13));
  EXPECT_EQ(sink.at(3), Us(15500));  // 750 B take 0.5 ms
  for (uint16_t i = 0; i < 4; ++i) EXPECT_EQ(TagOf(sink.packet(i)), i);
}

TEST(LinkTest, DropTailQueueIsSizedInBytes) {
  Simulator sim(1);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.bandwidth_bps = 12'000'000;
  cfg.queue_bytes = 3000;
  OneWayLink link(sim, "l", cfg, &sink);
  // The first starts serializing (not queued); two fill the 3000-byte queue; two are dropped.
  for (uint16_t i = 0; i < 5; ++i) SendAt(sim, link, Ms(0), 1500, i);
  sim.RunUntil(Ms(0));
  EXPECT_TRUE(link.serializing());
  EXPECT_EQ(link.queued_packets(), 2u);
  EXPECT_EQ(link.queued_bytes(), 3000u);
  sim.RunUntil(Ms(100));
  ASSERT_EQ(sink.size(), 3u);
  EXPECT_EQ(sink.at(0), Ms(1));
  EXPECT_EQ(sink.at(1), Ms(2));
  EXPECT_EQ(sink.at(2), Ms(3));
  EXPECT_EQ(link.stats().dropped(DropCause::kQueueFull), 2u);
  EXPECT_EQ(link.stats().dropped_bytes[static_cast<size_t>(DropCause::kQueueFull)], 3000u);
  EXPECT_EQ(link.stats().max_queue_bytes, 3000u);
  EXPECT_EQ(link.stats().packets_offered, 5u);
  EXPECT_EQ(link.queued_bytes(), 0u);
}

TEST(LinkTest, QueueAcceptsWhatFitsExactly) {
  Simulator sim(1);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.bandwidth_bps = 8'000'000;
  cfg.queue_bytes = 2000;
  OneWayLink link(sim, "l", cfg, &sink);
  SendAt(sim, link, Ms(0), 1500, 0);  // serializing
  SendAt(sim, link, Ms(0), 1000, 1);  // queued: 1000
  SendAt(sim, link, Ms(0), 1500, 2);  // 2500 > 2000: dropped
  SendAt(sim, link, Ms(0), 1000, 3);  // 2000 == 2000: queued
  sim.RunUntil(Ms(100));
  ASSERT_EQ(sink.size(), 3u);
  EXPECT_EQ(TagOf(sink.packet(0)), 0);
  EXPECT_EQ(TagOf(sink.packet(1)), 1);
  EXPECT_EQ(TagOf(sink.packet(2)), 3);
  // 1500 B at 8 Mbit/s = 1.5 ms, 1000 B = 1 ms.
  EXPECT_EQ(sink.at(0), Us(1500));
  EXPECT_EQ(sink.at(1), Us(2500));
  EXPECT_EQ(sink.at(2), Us(3500));
}

TEST(LinkTest, InfiniteBandwidthHasNoQueueAndKeepsOrder) {
  Simulator sim(1);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.delay = Duration::Millis(7);
  cfg.queue_bytes = 0;  // irrelevant without serialization
  OneWayLink link(sim, "l", cfg, &sink);
  for (uint16_t i = 0; i < 10; ++i) SendAt(sim, link, Ms(i / 3), 1500, i);
  sim.RunUntil(Ms(100));
  ASSERT_EQ(sink.size(), 10u);
  for (uint16_t i = 0; i < 10; ++i) {
    EXPECT_EQ(TagOf(sink.packet(i)), i);
    EXPECT_EQ(sink.at(i), Ms(i / 3 + 7));
  }
  EXPECT_EQ(link.stats().dropped_total(), 0u);
}

TEST(LinkTest, JitterDelaysWithinItsBoundAndKeepsFifo) {
  Simulator sim(7);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.delay = Duration::Millis(10);
  cfg.jitter = Duration::Millis(5);
  OneWayLink link(sim, "l", cfg, &sink);
  constexpr int kN = 2000;
  for (int i = 0; i < kN; ++i) SendAt(sim, link, Us(i * 500), 100, static_cast<uint16_t>(i));
  sim.RunUntil(Ms(2000));
  ASSERT_EQ(sink.size(), static_cast<size_t>(kN));
  Duration max_extra = Duration::Zero();
  for (int i = 0; i < kN; ++i) {
    EXPECT_EQ(TagOf(sink.packet(i)), i);  // FIFO
    const Duration extra = sink.at(i) - Us(i * 500) - Duration::Millis(10);
    EXPECT_GE(extra, Duration::Zero());
    max_extra = std::max(max_extra, extra);
    if (i > 0) {
      EXPECT_GE(sink.at(i), sink.at(i - 1));
    }
  }
  // Jitter does something, and a packet waits at most for its predecessor's jitter.
  EXPECT_GT(max_extra, Duration::Millis(4));
  EXPECT_LE(max_extra, Duration::Millis(5));
}

TEST(LinkTest, ReorderingLetsLaterPacketsOvertake) {
  Simulator sim(3);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.delay = Duration::Millis(10);
  cfg.reorder = 0.1;
  cfg.reorder_delay = Duration::Millis(5);
  OneWayLink link(sim, "l", cfg, &sink);
  constexpr int kN = 5000;
  for (int i = 0; i < kN; ++i) SendAt(sim, link, Ms(i), 100, static_cast<uint16_t>(i));
  sim.RunUntil(Ms(kN + 100));
  ASSERT_EQ(sink.size(), static_cast<size_t>(kN));
  const uint64_t held = link.stats().reordered;
  EXPECT_NEAR(static_cast<double>(held) / kN, 0.1, 0.015);
  // Each held packet arrives 5 ms late, after the next 5 packets.
  size_t out_of_order = 0;
  for (int i = 1; i < kN; ++i) {
    if (TagOf(sink.packet(i)) < TagOf(sink.packet(i - 1))) ++out_of_order;
  }
  EXPECT_GT(out_of_order, held / 2);
  // Everything arrives exactly once.
  std::vector<int> seen(kN, 0);
  for (size_t i = 0; i < sink.size(); ++i) ++seen[TagOf(sink.packet(i))];
  for (int s : seen) EXPECT_EQ(s, 1);
}

TEST(LinkTest, DuplicationDeliversCopiesWithTheSameId) {
  Simulator sim(5);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.delay = Duration::Millis(1);
  cfg.duplicate = 0.2;
  OneWayLink link(sim, "l", cfg, &sink);
  constexpr int kN = 5000;
  for (int i = 0; i < kN; ++i) SendAt(sim, link, Us(i * 10), 100, static_cast<uint16_t>(i));
  sim.RunUntil(Ms(1000));
  const uint64_t dups = link.stats().duplicated;
  EXPECT_NEAR(static_cast<double>(dups) / kN, 0.2, 0.02);
  EXPECT_EQ(sink.size(), kN + dups);
  EXPECT_EQ(link.stats().packets_delivered, kN + dups);
  size_t twins = 0;
  for (size_t i = 1; i < sink.size(); ++i) {
    if (sink.packet(i).id == sink.packet(i - 1).id) {
      ++twins;
      EXPECT_EQ(sink.packet(i).bytes, sink.packet(i - 1).bytes);
      EXPECT_EQ(sink.at(i), sink.at(i - 1));
    }
  }
  EXPECT_EQ(twins, dups);
}

TEST(LinkTest, RandomLossRateMatches) {
  Simulator sim(11);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.loss = 0.1;
  OneWayLink link(sim, "l", cfg, &sink);
  constexpr int kN = 20000;
  for (int i = 0; i < kN; ++i) SendAt(sim, link, Us(i), 100, static_cast<uint16_t>(i));
  sim.RunUntil(Ms(100));
  const uint64_t lost = link.stats().dropped(DropCause::kRandomLoss);
  EXPECT_NEAR(static_cast<double>(lost) / kN, 0.1, 0.01);
  EXPECT_EQ(sink.size() + lost, static_cast<size_t>(kN));
}

TEST(LinkTest, GilbertElliottLossIsBursty) {
  Simulator sim(2024);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.burst_loss.p_good_to_bad = 0.01;
  cfg.burst_loss.p_bad_to_good = 0.25;  // mean bad run: 4 packets
  cfg.burst_loss.loss_good = 0.0;
  cfg.burst_loss.loss_bad = 1.0;
  OneWayLink link(sim, "l", cfg, &sink);
  constexpr int kN = 200000;
  std::vector<bool> arrived(kN, false);
  class Marker : public PacketSink {
   public:
    explicit Marker(std::vector<bool>* a) : a_(a) {}
    void Deliver(Packet p) override { (*a_)[p.id - 1] = true; }
    std::vector<bool>* a_;
  } marker(&arrived);
  link.set_sink(&marker);
  for (int i = 0; i < kN; ++i) link.Deliver(sim.NewPacket(FillerPacket(60, 0)));
  sim.RunUntil(Ms(1));
  const double expected = cfg.burst_loss.MeanLoss();  // 0.01 / 0.26 = 3.85 %
  EXPECT_NEAR(expected, 0.0384615, 1e-6);
  const uint64_t lost = link.stats().dropped(DropCause::kBurstLoss);
  EXPECT_NEAR(static_cast<double>(lost) / kN, expected, expected * 0.1);
  // Loss runs: their mean length is the mean bad run, 1 / p_bad_to_good = 4.
  uint64_t runs = 0, run_packets = 0;
  for (int i = 0; i < kN; ++i) {
    if (!arrived[i]) {
      ++run_packets;
      if (i == 0 || arrived[i - 1]) ++runs;
    }
  }
  ASSERT_GT(runs, 0u);
  EXPECT_EQ(run_packets, lost);
  const double mean_run = static_cast<double>(run_packets) / static_cast<double>(runs);
  EXPECT_NEAR(mean_run, cfg.burst_loss.MeanBadRun(), 0.4);
  // Independent loss at the same rate would give runs of ~1.04.
  EXPECT_GT(mean_run, 3.0);
}

TEST(LinkTest, GilbertElliottWithLossInBothStates) {
  Simulator sim(99);
  LinkConfig cfg;
  cfg.burst_loss = GilbertElliott{0.05, 0.2, 0.01, 0.5};
  DiscardSink sink;
  OneWayLink link(sim, "l", cfg, &sink);
  constexpr int kN = 200000;
  for (int i = 0; i < kN; ++i) link.Deliver(sim.NewPacket(FillerPacket(60, 0)));
  sim.RunUntil(Ms(1));
  // Bad fraction 0.05 / 0.25 = 0.2; loss 0.2 * 0.5 + 0.8 * 0.01 = 0.108.
  EXPECT_NEAR(cfg.burst_loss.MeanLoss(), 0.108, 1e-9);
  const double rate =
      static_cast<double>(link.stats().dropped(DropCause::kBurstLoss)) / kN;
  EXPECT_NEAR(rate, 0.108, 0.01);
}

TEST(LinkTest, DownDropsQueuedSerializingAndInFlightPackets) {
  Simulator sim(1);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.bandwidth_bps = 12'000'000;
  cfg.delay = Duration::Millis(10);
  OneWayLink link(sim, "l", cfg, &sink);
  // Packets 0..4 at t=0: on the wire at 1..5 ms, arriving at 11..15 ms.
  for (uint16_t i = 0; i < 5; ++i) SendAt(sim, link, Ms(0), 1500, i);
  // At 3.5 ms: 0..2 propagate, 3 is serializing, 4 is queued. All are lost.
  sim.At(Us(3500), [&] { link.SetUp(false); });
  SendAt(sim, link, Ms(5), 1500, 5);  // offered while down: dropped
  sim.At(Ms(20), [&] { link.SetUp(true); });
  SendAt(sim, link, Ms(21), 1500, 6);  // after: delivered at 21 + 1 + 10
  sim.RunUntil(Ms(100));
  ASSERT_EQ(sink.size(), 1u);
  EXPECT_EQ(TagOf(sink.packet(0)), 6);
  EXPECT_EQ(sink.at(0), Ms(32));
  EXPECT_EQ(link.stats().dropped(DropCause::kLinkDown), 6u);
  EXPECT_EQ(link.in_flight(), 0u);
  EXPECT_FALSE(link.serializing());
}

TEST(LinkTest, KnobsChangeMidRun) {
  Simulator sim(1);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.bandwidth_bps = 12'000'000;
  cfg.delay = Duration::Millis(10);
  OneWayLink link(sim, "l", cfg, &sink);
  SendAt(sim, link, Ms(0), 1500, 0);
  SendAt(sim, link, Ms(0), 1500, 1);
  // At 0.5 ms, while packet 0 serializes: it finishes at the old rate (1 ms); packet 1 starts
  // at 1 ms at the new rate (24 Mbit/s: 0.5 ms).
  sim.At(Us(500), [&] { link.set_bandwidth(24'000'000); });
  // Lower the delay at 50 ms; packets after that use it.
  sim.At(Ms(50), [&] { link.set_delay(Duration::Millis(2)); });
  SendAt(sim, link, Ms(60), 1500, 2);
  // A loss knob turned on and off again.
  sim.At(Ms(70), [&] { link.set_loss(1.0); });
  SendAt(sim, link, Ms(71), 1500, 3);
  sim.At(Ms(72), [&] { link.set_loss(0.0); });
  SendAt(sim, link, Ms(73), 1500, 4);
  sim.RunUntil(Ms(200));
  ASSERT_EQ(sink.size(), 4u);
  EXPECT_EQ(sink.at(0), Ms(11));
  EXPECT_EQ(sink.at(1), Us(11500));
  EXPECT_EQ(sink.at(2), Us(60500) + Duration::Millis(2));
  EXPECT_EQ(TagOf(sink.packet(3)), 4);
  EXPECT_EQ(link.stats().dropped(DropCause::kRandomLoss), 1u);
}

TEST(LinkTest, LoweringTheDelayKeepsFifoOrder) {
  Simulator sim(1);
  RecordingSink sink(sim);
  LinkConfig cfg;
  cfg.delay = Duration::Millis(50);
  OneWayLink link(sim, "l", cfg, &sink);
  SendAt(sim, link, Ms(0), 100, 0);  // would arrive at 50
  sim.At(Ms(1), [&] { link.set_delay(Duration::Millis(5)); });
  SendAt(sim, link, Ms(2), 100, 1);  // would arrive at 7: waits for packet 0
  sim.RunUntil(Ms(100));
  ASSERT_EQ(sink.size(), 2u);
  EXPECT_EQ(TagOf(sink.packet(0)), 0);
  EXPECT_EQ(sink.at(1), Ms(50));
}

TEST(LinkTest, RandomStreamsAreIndependentAndSeeded) {
  // Which packets are lost depends on the seed only, not on whether duplication is on.
  auto lost_ids = [](uint64_t seed, double dup) {
    Simulator sim(seed);
    RecordingSink sink(sim);
    LinkConfig cfg;
    cfg.loss = 0.3;
    cfg.duplicate = dup;
    OneWayLink link(sim, "l", cfg, &sink);
    for (int i = 0; i < 500; ++i) link.Deliver(sim.NewPacket(FillerPacket(60, 0)));
    sim.RunUntil(Ms(1));
    std::vector<bool> got(501, false);
    for (size_t i = 0; i < sink.size(); ++i) got[sink.packet(i).id] = true;
    return got;
  };
  EXPECT_EQ(lost_ids(1, 0.0), lost_ids(1, 0.0));
  EXPECT_EQ(lost_ids(1, 0.0), lost_ids(1, 0.5));
  EXPECT_NE(lost_ids(1, 0.0), lost_ids(2, 0.0));
}

}  // namespace
}  // namespace mptcp::sim
