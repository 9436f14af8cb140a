// Conversation tests of loss recovery: RTO timing with exponential backoff and Karn's rule
// (RFC 6298), fast retransmit and NewReno partial ACKs (RFC 5681, RFC 6582), SACK-based
// recovery (RFC 6675), giving up after too many retransmissions (RFC 9293 §3.8.3), spurious
// timeouts and fast retransmits found by their echoed timestamps (RFC 3522, RFC 4015), and the
// duplicate threshold learnt from reordering.
#include <gtest/gtest.h>

#include "mptcp/tcp/engine.h"
#include "testing/engine_test_util.h"

namespace mptcp::tcp::testing {
namespace {

using C = Conversation;

Seg DataSeg(uint32_t seq, size_t stream_offset, size_t len) {
  return Seg().SeqN(seq).AckN(5001).Win(20000).Bytes(C::PatternBytes(stream_offset, len));
}

TEST(EngineRecoveryTest, RtoBacksOffExponentiallyAndKarnSkipsTheSample) {
  C c;
  c.EstablishActive();  // RTO 300 ms
  c.WritePattern(1000);
  const Seg first = Seg().Flags(kAck | kPsh).SeqN(1001).AckN(5001).Win(20000)
                        .Bytes(C::PatternBytes(0, 1000));
  c.Expect(Ms(100), first);
  c.ExpectNothing(Ms(399));
  c.Expect(Ms(400), first, "RTO 300 ms");
  c.ExpectNothing(Ms(999));
  c.Expect(Ms(1000), first, "backed off: 600 ms");
  c.ExpectNothing(Ms(2199));
  c.Expect(Ms(2200), first, "1200 ms");
  EXPECT_EQ(c.engine().mib().timeouts, 3u);
  EXPECT_EQ(c.engine().mib().retrans_segs, 3u);
  EXPECT_EQ(c.engine().cwnd(), 1000u) << "RFC 5681 §3.1: loss window of one segment";
  const Duration srtt = c.engine().rtt().srtt();
  c.Send(Ms(2300), Seg().SeqN(5001).AckN(2001).Win(30000));
  EXPECT_EQ(c.engine().rtt().srtt(), srtt) << "Karn: no sample from a retransmitted segment";
  EXPECT_EQ(c.engine().rtt().backoff_count(), 0) << "backoff reset by new data acked";
  EXPECT_TRUE(c.engine().NextDeadline().never());
}

TEST(EngineRecoveryTest, GivesUpAfterMaxRetransmits) {
  TcpConfig cfg = C::DefaultConfig();
  cfg.max_retransmits = 2;
  C c(cfg);
  c.EstablishActive();
  c.WritePattern(10);
  c.Poll(Ms(100));
  EXPECT_TRUE(c.Poll(Ms(400)).has_value());   // 1st retransmission
  EXPECT_TRUE(c.Poll(Ms(1000)).has_value());  // 2nd
  c.ExpectNothing(Ms(2200), "third expiry: abort");
  EXPECT_EQ(c.engine().state(), TcpState::kClosed);
  EXPECT_EQ(c.engine().close_reason(), CloseReason::kTimeout);
  EXPECT_EQ(c.engine().mib().abort_on_timeout, 1u);
  auto ev = c.Events();
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back(), (TcpEvent{TcpEventType::kClosed, CloseReason::kTimeout}));
}

TEST(EngineRecoveryTest, FastRetransmitOnThreeDupAcksWithoutSack) {
  C c;
  c.EstablishActive(30000, /*peer_sack=*/false);
  c.WritePattern(5000);
  for (int i = 0; i < 5; ++i) c.Poll(Ms(100));
  // Segment 1001 is lost; the four after it each produce a duplicate ACK.
  c.Send(Ms(200), Seg().SeqN(5001).AckN(1001).Win(30000));
  c.ExpectNothing(Ms(200), "one dup ACK");
  c.Send(Ms(201), Seg().SeqN(5001).AckN(1001).Win(30000));
  c.ExpectNothing(Ms(201), "two");
  c.Send(Ms(202), Seg().SeqN(5001).AckN(1001).Win(30000));
  c.Expect(Ms(202), DataSeg(1001, 0, 1000), "third: fast retransmit");
  EXPECT_TRUE(c.engine().in_recovery());
  EXPECT_EQ(c.engine().mib().fast_retrans, 1u);
  EXPECT_EQ(c.engine().mib().reno_recovery, 1u);
  // RFC 5681 §3.2: ssthresh = max(FlightSize / 2, 2 * SMSS) = 2500; cwnd = ssthresh.
  EXPECT_EQ(c.engine().congestion_controller().ssthresh(), 2500u);
  EXPECT_EQ(c.engine().cwnd(), 2500u);
  // The cumulative ACK covering everything ends recovery.
  auto out = c.Send(Ms(300), Seg().SeqN(5001).AckN(6001).Win(30000));
  EXPECT_EQ(out.bytes_acked, 5000u);
  EXPECT_FALSE(c.engine().in_recovery());
  EXPECT_EQ(c.engine().bytes_in_flight(), 0u);
}

TEST(EngineRecoveryTest, NewRenoPartialAckRetransmitsTheNextHole) {
  C c;
  c.EstablishActive(30000, /*peer_sack=*/false);
  c.WritePattern(6000);
  for (int i = 0; i < 6; ++i) c.Poll(Ms(100));
  // Segments 1001 and 3001 are lost.
  for (int i = 0; i < 3; ++i) c.Send(Ms(200 + i), Seg().SeqN(5001).AckN(1001).Win(30000));
  c.Expect(Ms(202), DataSeg(1001, 0, 1000), "fast retransmit");
  // Partial ACK (RFC 6582 §3.2 step 5): up to the second hole. Retransmit it at once.
  auto out = c.Send(Ms(300), Seg().SeqN(5001).AckN(3001).Win(30000));
  EXPECT_EQ(out.bytes_acked, 2000u);
  EXPECT_TRUE(c.engine().in_recovery());
  c.Expect(Ms(300), DataSeg(3001, 2000, 1000), "partial ACK: next hole");
  c.Send(Ms(400), Seg().SeqN(5001).AckN(7001).Win(30000));
  EXPECT_FALSE(c.engine().in_recovery());
  EXPECT_EQ(c.engine().mib().retrans_segs, 2u);
  EXPECT_EQ(c.engine().mib().timeouts, 0u) << "recovered without an RTO";
}

TEST(EngineRecoveryTest, SackRecoveryRetransmitsOnlyTheHoles) {
  C c;
  c.EstablishActive();
  c.WritePattern(8000);
  for (int i = 0; i < 8; ++i) c.Poll(Ms(100));
  // 1001 and 4001 are lost. SACKs arrive for what got through.
  c.Send(Ms(200), Seg().SeqN(5001).AckN(1001).Win(30000).Sack(2001, 4001));
  c.ExpectNothing(Ms(200), "two segments SACKed above the hole: not yet lost");
  c.Send(Ms(201), Seg().SeqN(5001).AckN(1001).Win(30000).Sack(5001, 6001).Sack(2001, 4001));
  // RFC 6675 IsLost(1001): three SACKed segments above it. 4001 has only one above: not lost.
  c.Expect(Ms(201), DataSeg(1001, 0, 1000), "first hole");
  EXPECT_EQ(c.engine().mib().sack_recovery, 1u);
  // cwnd = 4000 after the event; pipe = 4001, 6001, 7001 and the retransmission = 4000.
  c.ExpectNothing(Ms(201), "cwnd full");
  c.Send(Ms(202), Seg().SeqN(5001).AckN(1001).Win(30000).Sack(5001, 8001).Sack(2001, 4001));
  c.Expect(Ms(202), DataSeg(4001, 3000, 1000), "second hole, now with three SACKed above");
  c.Send(Ms(300), Seg().SeqN(5001).AckN(4001).Win(30000).Sack(5001, 9001));
  c.Send(Ms(301), Seg().SeqN(5001).AckN(9001).Win(30000));
  EXPECT_FALSE(c.engine().in_recovery());
  EXPECT_EQ(c.engine().mib().retrans_segs, 2u) << "only the two holes were resent";
  EXPECT_EQ(c.engine().bytes_in_flight(), 0u);
}

TEST(EngineRecoveryTest, SacksOutsideTheWindowAreDiscardedAndDsackCounted) {
  C c;
  c.EstablishActive();
  c.WritePattern(3000);
  for (int i = 0; i < 3; ++i) c.Poll(Ms(100));
  c.Send(Ms(200), Seg().SeqN(5001).AckN(2001).Win(30000).Sack(9001, 9500));
  EXPECT_EQ(c.engine().mib().sack_discard, 1u);
  // RFC 2883: a first block below the cumulative ACK reports a duplicate.
  c.Send(Ms(201), Seg().SeqN(5001).AckN(2001).Win(30000).Sack(1001, 2001));
  EXPECT_EQ(c.engine().mib().dsack_recv, 1u);
}

TEST(EngineRecoveryTest, RtoDuringSackRecoveryResendsEverythingUnsacked) {
  C c;
  c.EstablishActive();
  c.WritePattern(4000);
  for (int i = 0; i < 4; ++i) c.Poll(Ms(100));
  c.Send(Ms(150), Seg().SeqN(5001).AckN(1001).Win(30000).Sack(3001, 4001));
  c.ExpectNothing(Ms(150));
  // No further ACKs: the RTO (restarted at 100 + 300) fires; cwnd = 1 segment.
  c.Expect(Ms(400), DataSeg(1001, 0, 1000), "RTO: SND.UNA first");
  c.ExpectNothing(Ms(400), "cwnd = 1 MSS");
  c.Send(Ms(500), Seg().SeqN(5001).AckN(2001).Win(30000).Sack(3001, 4001));
  // Slow start: cwnd 2; 2001 is resent, 3001 is SACKed and skipped, then 4001 (new FIN-less end).
  c.Expect(Ms(500), DataSeg(2001, 1000, 1000), "next unsacked");
  c.Expect(Ms(500), Seg().Flags(kAck | kPsh).SeqN(4001).AckN(5001).Win(20000)
                        .Bytes(C::PatternBytes(3000, 1000)),
           "the unsacked tail");
  c.ExpectNothing(Ms(500));
}

// With timestamps: three segments (988 payload bytes each, MSS 1000 less the option) sent
// at 100 ms with TSval 100; the RTO fires at 400 ms and resends the first with TSval 400.
class SpuriousRtoTest : public ::testing::Test {
 protected:
  static TcpConfig Config() {
    TcpConfig cfg = C::DefaultConfig();
    cfg.timestamps = true;
    return cfg;
  }
  static constexpr uint32_t kSeg = 988;

  void SetUp() override {
    c_.EstablishActive(30000, /*peer_sack=*/true, /*peer_ts=*/true);
    c_.WritePattern(3 * kSeg);
    for (uint32_t i = 0; i < 3; ++i) {
      const auto seg = c_.Poll(Ms(100));
      ASSERT_TRUE(seg.has_value());
      EXPECT_EQ(seg->seq, SeqNum32(1001 + i * kSeg));
    }
    cwnd_before_ = c_.engine().cwnd();
    const auto rto = c_.Poll(Ms(400));
    ASSERT_TRUE(rto.has_value()) << "RTO 300 ms";
    EXPECT_EQ(rto->seq, SeqNum32(1001));
    ASSERT_TRUE(rto->options.timestamps.has_value());
    EXPECT_EQ(rto->options.timestamps->tsval, 400u);
    EXPECT_EQ(c_.engine().cwnd(), kSeg) << "RFC 5681 §3.1: loss window";
    c_.ExpectNothing(Ms(400), "one segment: cwnd is one");
  }

  C c_{Config()};
  uint32_t cwnd_before_ = 0;
};

TEST_F(SpuriousRtoTest, AnAckEchoingTheOriginalUndoesTheTimeout) {
  // The original was only delayed: its ACK echoes TSval 100, older than the retransmission's.
  c_.Send(Ms(450), Seg().SeqN(5001).AckN(1001 + kSeg).Win(30000).Ts(5050, 100));
  EXPECT_EQ(c_.engine().mib().spurious_rtos, 1u);
  EXPECT_GE(c_.engine().cwnd(), cwnd_before_) << "RFC 4015 §3: the reduction undone";
  c_.ExpectNothing(Ms(450), "no go-back-N: the other two segments are still in flight");
  c_.Send(Ms(460), Seg().SeqN(5001).AckN(1001 + 3 * kSeg).Win(30000).Ts(5060, 100));
  EXPECT_EQ(c_.engine().mib().retrans_segs, 1u);
  EXPECT_EQ(c_.engine().mib().timeouts, 1u);
  EXPECT_TRUE(c_.engine().NextDeadline().never()) << "all acknowledged";
}

TEST_F(SpuriousRtoTest, AnAckEchoingTheRetransmissionKeepsTheTimeout) {
  // The original was lost: the ACK echoes the retransmission's TSval 400.
  c_.Send(Ms(450), Seg().SeqN(5001).AckN(1001 + kSeg).Win(30000).Ts(5050, 400));
  EXPECT_EQ(c_.engine().mib().spurious_rtos, 0u);
  EXPECT_LT(c_.engine().cwnd(), cwnd_before_);
  const auto next = c_.Poll(Ms(450));
  ASSERT_TRUE(next.has_value()) << "go-back-N goes on";
  EXPECT_EQ(next->seq, SeqNum32(1001 + kSeg));
  EXPECT_EQ(c_.engine().mib().retrans_segs, 2u);
}

TEST_F(SpuriousRtoTest, OnlyTheFirstAckOfNewDataDecides) {
  // The retransmission's ACK comes first; a later one echoing an old TSval (reordered) proves
  // nothing about the timeout.
  c_.Send(Ms(450), Seg().SeqN(5001).AckN(1001 + kSeg).Win(30000).Ts(5050, 400));
  c_.Send(Ms(455), Seg().SeqN(5001).AckN(1001 + 2 * kSeg).Win(30000).Ts(5055, 100));
  EXPECT_EQ(c_.engine().mib().spurious_rtos, 0u);
}

TEST(EngineRecoveryTest, AnEchoOfAnEarlierRetransmissionIsNoProofOfASpuriousTimeout) {
  TcpConfig cfg = C::DefaultConfig();
  cfg.timestamps = true;
  C c(cfg);
  c.EstablishActive(30000, /*peer_sack=*/true, /*peer_ts=*/true);
  constexpr uint32_t kSeg = 988;
  c.WritePattern(5 * kSeg);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.Poll(Ms(100)).has_value());
  // Segments 2-4 SACKed: the first is lost, and fast retransmit resends it with TSval 150.
  c.Send(Ms(150), Seg().SeqN(5001).AckN(1001).Win(30000).Ts(5050, 100)
                      .Sack(1001 + kSeg, 1001 + 4 * kSeg));
  const auto fast = c.Poll(Ms(150));
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->seq, SeqNum32(1001));
  EXPECT_EQ(c.engine().mib().fast_retrans, 1u);
  // Nothing more comes back until the RTO has fired and resent it once more.
  std::optional<wire::TcpRepr> rto;
  for (int ms = 151; ms < 3000 && !rto; ++ms) rto = c.Poll(Ms(ms));
  ASSERT_TRUE(rto.has_value());
  EXPECT_EQ(c.engine().mib().timeouts, 1u);
  // The fast retransmission arrived: its ACK echoes TSval 150, older than the RTO's copy, yet
  // the timeout was not spurious (the original was lost).
  c.Send(Ms(3000), Seg().SeqN(5001).AckN(1001 + 5 * kSeg).Win(30000).Ts(5100, 150));
  EXPECT_EQ(c.engine().mib().spurious_rtos, 0u);
}

// RFC 8985 §6: two segments, the second SACKed: too few for DupThresh, but RACK deems the
// first lost once the second's RTT plus the reordering window (a quarter of the 100 ms minimum
// RTT) has passed since it was sent.
TEST(EngineRecoveryTest, RackDeemsASegmentLostWhenOneSentAfterItIsSackedAndTimePasses) {
  C c;
  c.EstablishActive();
  c.WritePattern(2000);
  c.Expect(Ms(100), DataSeg(1001, 0, 1000));
  c.Expect(Ms(100), DataSeg(2001, 1000, 1000).Flags(kAck | kPsh));
  c.Send(Ms(200), Seg().SeqN(5001).AckN(1001).Win(30000).Sack(2001, 3001));
  c.ExpectNothing(Ms(224), "within the reordering window");
  c.Expect(Ms(225), DataSeg(1001, 0, 1000), "RACK's reordering timer");
  c.Send(Ms(325), Seg().SeqN(5001).AckN(3001).Win(30000));
  EXPECT_EQ(c.engine().mib().fast_retrans, 1u);
  EXPECT_EQ(c.engine().mib().timeouts, 0u);
  EXPECT_FALSE(c.engine().in_recovery());
}

TEST(EngineRecoveryTest, WithoutTimestampsATimeoutIsNeverCalledSpurious) {
  C c;
  c.EstablishActive();
  c.WritePattern(2000);
  c.Poll(Ms(100));
  c.Poll(Ms(100));
  c.Expect(Ms(400), DataSeg(1001, 0, 1000), "RTO");
  c.Send(Ms(450), Seg().SeqN(5001).AckN(2001).Win(30000));
  EXPECT_EQ(c.engine().mib().spurious_rtos, 0u);
  c.Expect(Ms(450), DataSeg(2001, 1000, 1000).Flags(kAck | kPsh), "go-back-N");
}

}  // namespace
// Reordering, with timestamps: ten segments (988 payload bytes each) sent at 100 ms with
// TSval 100. The first is late, not lost: three SACKed above it trigger fast retransmit (TSval
// 150), two more arrive, then the original (its ACK echoes TSval 100).
class ReorderingTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kSeg = 988;
  static uint32_t At(uint32_t i) { return 1001 + i * kSeg; }

  static TcpConfig Config() {
    TcpConfig cfg = C::DefaultConfig();
    cfg.timestamps = true;
    return cfg;
  }

  void SetUp() override {
    c_.EstablishActive(30000, /*peer_sack=*/true, /*peer_ts=*/true);
    c_.WritePattern(10 * kSeg);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(c_.Poll(Ms(100)).has_value());
    cwnd_before_ = c_.engine().cwnd();
    EXPECT_EQ(c_.engine().dupthresh(), 3);
    c_.Send(Ms(150), Seg().SeqN(5001).AckN(At(0)).Win(30000).Ts(5050, 100).Sack(At(1), At(4)));
    const auto fast = c_.Poll(Ms(150));
    ASSERT_TRUE(fast.has_value());
    EXPECT_EQ(fast->seq, SeqNum32(At(0)));
    ASSERT_TRUE(fast->options.timestamps.has_value());
    EXPECT_EQ(fast->options.timestamps->tsval, 150u);
    EXPECT_LT(c_.engine().cwnd(), cwnd_before_);
    c_.Send(Ms(151), Seg().SeqN(5001).AckN(At(0)).Win(30000).Ts(5051, 100).Sack(At(1), At(6)));
  }

  C c_{Config()};
  uint32_t cwnd_before_ = 0;
};

TEST_F(ReorderingTest, ALateOriginalUndoesTheFastRetransmitAndRaisesDupThresh) {
  c_.Send(Ms(152), Seg().SeqN(5001).AckN(At(6)).Win(30000).Ts(5052, 100));
  const TcpMib& mib = c_.engine().mib();
  EXPECT_EQ(mib.partial_undo, 1u) << "recovery point (all ten) not reached";
  EXPECT_EQ(mib.ts_reorder, 1u);
  EXPECT_FALSE(c_.engine().in_recovery());
  EXPECT_GE(c_.engine().cwnd(), cwnd_before_) << "the reduction undone";
  EXPECT_EQ(c_.engine().dupthresh(), 6) << "overtaken by the five SACKed above it";
  // The next late segment (6), overtaken by three: no longer a loss.
  c_.Send(Ms(160), Seg().SeqN(5001).AckN(At(6)).Win(30000).Ts(5060, 100).Sack(At(7), At(10)));
  c_.ExpectNothing(Ms(160), "three SACKed above 6 are within the learnt DupThresh");
  c_.Send(Ms(161), Seg().SeqN(5001).AckN(At(10)).Win(30000).Ts(5061, 100));
  EXPECT_EQ(mib.retrans_segs, 1u);
  EXPECT_EQ(mib.fast_retrans, 1u);
}

TEST_F(ReorderingTest, AnAckEchoingTheRetransmissionKeepsTheReduction) {
  // The original was lost after all: the hole is filled by the copy stamped 150.
  c_.Send(Ms(200), Seg().SeqN(5001).AckN(At(6)).Win(30000).Ts(5100, 150));
  const TcpMib& mib = c_.engine().mib();
  EXPECT_EQ(mib.partial_undo + mib.full_undo, 0u);
  EXPECT_EQ(mib.ts_reorder, 0u);
  EXPECT_LT(c_.engine().cwnd(), cwnd_before_);
  EXPECT_TRUE(c_.engine().in_recovery());
  EXPECT_EQ(c_.engine().dupthresh(), 3);
}

// 6 really is lost, with three SACKed above it, within the learnt DupThresh: RACK (RFC 8985
// §6.2) still finds it by time, once the reordering window (a quarter of the 50 ms minimum
// RTT: reordering was proven) has passed since the SACK of the segments sent with it, long
// before the RTO would.
TEST_F(ReorderingTest, RackFindsALossTheLearntDupThreshHeldBack) {
  c_.Send(Ms(152), Seg().SeqN(5001).AckN(At(6)).Win(30000).Ts(5052, 100));
  ASSERT_EQ(c_.engine().dupthresh(), 6);
  c_.Send(Ms(160), Seg().SeqN(5001).AckN(At(6)).Win(30000).Ts(5060, 100).Sack(At(7), At(10)));
  c_.ExpectNothing(Ms(172), "within RACK.rtt (60 ms) + the reordering window (12.5 ms)");
  const auto fast = c_.Poll(Ms(173));
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->seq, SeqNum32(At(6)));
  EXPECT_EQ(c_.engine().mib().timeouts, 0u);
  EXPECT_EQ(c_.engine().mib().fast_retrans, 2u);
  EXPECT_EQ(c_.engine().dupthresh(), 6) << "no timeout: the learnt DupThresh stays";
}

// The same loss, its SACK arriving 5 ms before the RTO falls due: RACK would wait its 12.5 ms
// window, so the RTO finds it, and (Linux's tcp_enter_loss) a timeout with DupThresh's worth
// SACKed and no recovery under way resets the learnt DupThresh, which held the loss back.
TEST_F(ReorderingTest, ATimeoutForgetsADupThreshThatHeldBackALoss) {
  c_.Send(Ms(152), Seg().SeqN(5001).AckN(At(6)).Win(30000).Ts(5052, 100));
  ASSERT_EQ(c_.engine().dupthresh(), 6);
  const PollAt due = c_.engine().NextDeadline();
  ASSERT_FALSE(due.never());
  const Timestamp rto = due.at();
  c_.Send(rto - Duration::Millis(5),
          Seg().SeqN(5001).AckN(At(6)).Win(30000).Ts(5060, 100).Sack(At(7), At(10)));
  c_.ExpectNothing(rto - Duration::Millis(1), "RACK waits, the RTO is not due yet");
  const auto resent = c_.Poll(rto);
  ASSERT_TRUE(resent.has_value());
  EXPECT_EQ(resent->seq, SeqNum32(At(6)));
  EXPECT_EQ(c_.engine().mib().timeouts, 1u);
  EXPECT_EQ(c_.engine().dupthresh(), 3) << "Linux's tcp_enter_loss";
}

}  // namespace mptcp::tcp::testing
