#include "mptcp/tcp/retransmit_queue.h"

#include <gtest/gtest.h>

#include <vector>

namespace mptcp::tcp {
namespace {

Timestamp T(int64_t ms) { return Timestamp::Zero() + Duration::Millis(ms); }
wire::SackBlock Blk(uint32_t l, uint32_t r) { return {SeqNum32(l), SeqNum32(r)}; }

// Ten 100-byte records from 1000 sent at t = 0..9 ms.
RetransmitQueue Ten() {
  RetransmitQueue q;
  for (int i = 0; i < 10; ++i) q.OnSent(SeqNum32(1000 + 100 * i), 100, false, T(i));
  return q;
}

TEST(RetransmitQueueTest, CumulativeAckRemovesAndSamplesNewest) {
  RetransmitQueue q = Ten();
  EXPECT_EQ(q.pipe(), 1000u);
  auto r = q.OnCumulativeAck(SeqNum32(1300), T(50));
  EXPECT_EQ(r.bytes_acked, 300u);
  ASSERT_TRUE(r.rtt.has_value());
  EXPECT_EQ(*r.rtt, Duration::Millis(48)) << "newest acked record was sent at 2 ms";
  EXPECT_EQ(q.size(), 7u);
  EXPECT_EQ(q.pipe(), 700u);
  // A straddling ACK trims.
  r = q.OnCumulativeAck(SeqNum32(1350), T(51));
  EXPECT_EQ(r.bytes_acked, 50u);
  EXPECT_EQ(q[0].seq, SeqNum32(1350));
  EXPECT_EQ(q[0].len, 50u);
  EXPECT_EQ(q.pipe(), 650u);
}

TEST(RetransmitQueueTest, KarnSkipsRetransmittedRecords) {
  RetransmitQueue q = Ten();
  q.MarkFirstLost();
  q.OnRetransmitted(0, T(20));
  auto r = q.OnCumulativeAck(SeqNum32(1100), T(30));
  EXPECT_FALSE(r.rtt.has_value());
}

// A record SACKed earlier was timed by its SACK: the cumulative ACK that finally covers it,
// once the hole below is filled, must not time it again from its first sending. (That sample
// was the wait for the hole: seconds on a queue-stretched path, and an RTO inflated to match.)
TEST(RetransmitQueueTest, SackedRecordsAreNotTimedAgainByTheCumulativeAck) {
  RetransmitQueue q = Ten();
  const wire::SackBlock b[] = {Blk(1100, 1400)};
  const auto s = q.OnSackBlocks(b, SeqNum32(1000), SeqNum32(2000), T(30));
  ASSERT_TRUE(s.rtt.has_value());
  EXPECT_EQ(*s.rtt, Duration::Millis(27)) << "1300 was sent at 3 ms";
  q.MarkFirstLost();
  q.OnRetransmitted(0, T(31));
  auto r = q.OnCumulativeAck(SeqNum32(1400), T(300));
  EXPECT_EQ(r.bytes_acked, 400u);
  EXPECT_FALSE(r.rtt.has_value()) << "only a retransmission and SACKed records were acked";
  // A record never SACKed nor resent, acknowledged with them, still times.
  r = q.OnCumulativeAck(SeqNum32(1500), T(310));
  ASSERT_TRUE(r.rtt.has_value());
  EXPECT_EQ(*r.rtt, Duration::Millis(306));
}

// Karn's rule for the whole ACK (Linux's FLAG_RETRANS_DATA_ACKED): a cumulative ACK that covers
// a retransmission waited for it, so the originals after it, whose SACKs were lost, must not
// time that wait (the timestamp echo times the retransmission instead).
TEST(RetransmitQueueTest, AnAckCoveringARetransmissionTimesNoOriginalWithIt) {
  RetransmitQueue q = Ten();
  q.MarkFirstLost();
  q.OnRetransmitted(0, T(231));  // the RTO's copy of 1000, 228 ms after 1200 was sent
  auto r = q.OnCumulativeAck(SeqNum32(1300), T(251));
  EXPECT_EQ(r.bytes_acked, 300u);
  EXPECT_FALSE(r.rtt.has_value()) << "1100 and 1200 were held back by the hole at 1000";
  r = q.OnCumulativeAck(SeqNum32(1400), T(260));
  ASSERT_TRUE(r.rtt.has_value()) << "an ACK of originals only still times";
  EXPECT_EQ(*r.rtt, Duration::Millis(257));
}

TEST(RetransmitQueueTest, SackMarksWholeRecordsAndDetectsLossPerRfc6675) {
  RetransmitQueue q = Ten();
  const wire::SackBlock b1[] = {Blk(1100, 1300)};
  auto s = q.OnSackBlocks(b1, SeqNum32(1000), SeqNum32(2000), T(20));
  EXPECT_EQ(s.bytes_newly_sacked, 200u);
  EXPECT_EQ(q.pipe(), 800u);
  EXPECT_EQ(q.DetectLossesFromSack(100), 0u) << "2 SACKed above: not lost";
  // A block covering a record only partly does not SACK it.
  const wire::SackBlock b2[] = {Blk(1300, 1350)};
  EXPECT_EQ(q.OnSackBlocks(b2, SeqNum32(1000), SeqNum32(2000), T(21)).bytes_newly_sacked, 0u);
  const wire::SackBlock b3[] = {Blk(1300, 1400)};
  q.OnSackBlocks(b3, SeqNum32(1000), SeqNum32(2000), T(22));
  // Three SACKed records above 1000 (or > 2 * SMSS bytes): it is lost.
  EXPECT_EQ(q.DetectLossesFromSack(100), 100u);
  ASSERT_TRUE(q.FirstLost().has_value());
  EXPECT_EQ(*q.FirstLost(), 0u);
  EXPECT_EQ(q.pipe(), 600u);
  EXPECT_EQ(q.lost_bytes(), 100u);
  q.OnRetransmitted(0, T(23));
  EXPECT_EQ(q.pipe(), 700u);
  EXPECT_FALSE(q.has_lost());
  EXPECT_EQ(q.DetectLossesFromSack(100), 0u) << "a retransmitted record is not re-marked";
}

// RFC 8985 §6.2: a retransmission is lost once a segment sent more than the reordering window
// after it has been delivered. Records of 100 bytes at 1000.. sent at t = 0..9 ms; 1000 is lost
// and resent at 20 ms; then 1100..1300, sent at 1-3 ms, are SACKed: all sent before the
// retransmission, so they say nothing about it.
TEST(RetransmitQueueTest, RetransmissionIsLostOnceALaterSendIsDelivered) {
  RetransmitQueue q;
  for (int i = 0; i < 10; ++i) q.OnSent(SeqNum32(1000 + 100 * i), 100, false, T(i));
  q.MarkFirstLost();
  q.OnRetransmitted(0, T(20));
  const wire::SackBlock early[] = {Blk(1100, 1400)};
  q.OnSackBlocks(early, SeqNum32(1000), SeqNum32(2000), T(21));
  EXPECT_EQ(q.DetectLostRetransmissions(Duration::Millis(2)), 0u);
  EXPECT_FALSE(q.has_lost());
  // New data sent at 30 ms (2000..2100) is SACKed at 41 ms: sent 10 ms after the
  // retransmission, beyond a 2 ms window: the retransmission was lost.
  q.OnSent(SeqNum32(2000), 100, false, T(30));
  const wire::SackBlock later[] = {Blk(1100, 1400), Blk(2000, 2100)};
  q.OnSackBlocks(later, SeqNum32(1000), SeqNum32(2100), T(41));
  EXPECT_EQ(q.DetectLostRetransmissions(Duration::Millis(2)), 1u);
  ASSERT_TRUE(q.FirstLost().has_value());
  EXPECT_EQ(*q.FirstLost(), 0u);
  // With a 15 ms window the same evidence is not enough (sent only 10 ms after).
  RetransmitQueue r;
  for (int i = 0; i < 10; ++i) r.OnSent(SeqNum32(1000 + 100 * i), 100, false, T(i));
  r.MarkFirstLost();
  r.OnRetransmitted(0, T(20));
  r.OnSent(SeqNum32(2000), 100, false, T(30));
  r.OnSackBlocks(later, SeqNum32(1000), SeqNum32(2100), T(41));
  EXPECT_EQ(r.DetectLostRetransmissions(Duration::Millis(15)), 0u);
}

TEST(RetransmitQueueTest, ByteThresholdMarksLossWithLargeSegments) {
  RetransmitQueue q;
  q.OnSent(SeqNum32(0), 100, false, T(0));
  q.OnSent(SeqNum32(100), 300, false, T(0));
  const wire::SackBlock b[] = {Blk(100, 400)};
  q.OnSackBlocks(b, SeqNum32(0), SeqNum32(400), T(1));
  // One SACKed record but 300 > (DupThresh - 1) * 100 bytes above.
  EXPECT_EQ(q.DetectLossesFromSack(100), 100u);
}

TEST(RetransmitQueueTest, InvalidAndDuplicateSackBlocks) {
  RetransmitQueue q = Ten();
  q.OnCumulativeAck(SeqNum32(1200), T(10));
  const wire::SackBlock bad[] = {Blk(1500, 1500), Blk(2500, 2600)};
  auto s = q.OnSackBlocks(bad, SeqNum32(1200), SeqNum32(2000), T(11));
  EXPECT_EQ(s.discarded_blocks, 2);
  const wire::SackBlock dsack[] = {Blk(1100, 1200), Blk(1400, 1500)};
  s = q.OnSackBlocks(dsack, SeqNum32(1200), SeqNum32(2000), T(12));
  EXPECT_TRUE(s.dsack);
  EXPECT_EQ(s.bytes_newly_sacked, 100u);
  const wire::SackBlock inside[] = {Blk(1400, 1450), Blk(1400, 1500)};
  EXPECT_TRUE(q.OnSackBlocks(inside, SeqNum32(1200), SeqNum32(2000), T(13)).dsack);
}

TEST(RetransmitQueueTest, RtoMarksAllUnsackedLostAndSplitKeepsCounters) {
  RetransmitQueue q = Ten();
  const wire::SackBlock b[] = {Blk(1500, 1600)};
  q.OnSackBlocks(b, SeqNum32(1000), SeqNum32(2000), T(10));
  EXPECT_EQ(q.MarkAllLost(), 900u);
  EXPECT_EQ(q.pipe(), 0u);
  q.Split(0, 40);
  EXPECT_EQ(q.size(), 11u);
  EXPECT_EQ(q[0].len, 40u);
  EXPECT_EQ(q[1].seq, SeqNum32(1040));
  EXPECT_TRUE(q[1].lost);
  EXPECT_EQ(q.lost_bytes(), 900u);
  q.OnRetransmitted(0, T(11));
  EXPECT_EQ(q.pipe(), 40u);
  q.ClearSacks();
  EXPECT_EQ(q.sacked_bytes(), 0u);
  EXPECT_EQ(q.pipe(), 140u);
  auto r = q.OnCumulativeAck(SeqNum32(2000), T(20));
  EXPECT_EQ(r.bytes_acked, 1000u);
  EXPECT_EQ(q.pipe(), 0u);
  EXPECT_EQ(q.lost_bytes(), 0u);
  EXPECT_TRUE(q.empty());
}

TEST(RetransmitQueueTest, EveryByteIsDeliveredOnceToTheRateEstimate) {
  // Ten records of 100 bytes sent 1 ms apart; the last five SACKed at 50 ms, everything
  // cumulatively acknowledged at 56 ms: SACKed records count when SACKed, not again.
  RetransmitQueue q = Ten();
  const wire::SackBlock blocks[] = {Blk(1500, 2000)};
  q.OnSackBlocks(blocks, SeqNum32(1000), SeqNum32(2000), T(50));
  q.OnAckEnd(T(50), Duration::Millis(40), Duration::Millis(50));
  EXPECT_EQ(q.delivery_rate().delivered(), 500u);
  // The newest SACKed record was sent at 9 ms with nothing delivered before it: 500 bytes
  // over the 50 ms since the first send.
  ASSERT_TRUE(q.delivery_rate().bandwidth().has_value());
  EXPECT_DOUBLE_EQ(q.delivery_rate().latest(), 500 / 0.050);
  q.OnCumulativeAck(SeqNum32(2000), T(56));
  q.OnAckEnd(T(56), Duration::Millis(40), Duration::Millis(50));
  EXPECT_EQ(q.delivery_rate().delivered(), 1000u);
  // A partial cumulative ACK delivers its part.
  q.OnSent(SeqNum32(2000), 100, false, T(60));
  q.OnCumulativeAck(SeqNum32(2040), T(110));
  EXPECT_EQ(q.delivery_rate().delivered(), 1040u);
}

TEST(RetransmitQueueTest, FinRecordIsReported) {
  RetransmitQueue q;
  q.OnSent(SeqNum32(10), 51, true, T(0));  // 50 bytes + FIN
  auto r = q.OnCumulativeAck(SeqNum32(61), T(5));
  EXPECT_TRUE(r.fin_acked);
  EXPECT_EQ(r.bytes_acked, 51u);
}

}  // namespace
}  // namespace mptcp::tcp
